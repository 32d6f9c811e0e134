import axios, { type AxiosInstance } from 'axios';
import type { ModelConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { mulberry32 } from '../core/random.js';
import { MlflowClient } from '../ingest/sources/mlflow.js';

/**
 * The demo traffic simulator. It plays serving apps: it posts predictions (NDJSON, over real
 * HTTP) for every configured model and, after a delay, ground-truth labels for most of them.
 * After `driftAfterMs` it injects feature drift (shifted numeric features, a new category) and
 * an accuracy drop, so a newcomer sees drift and quality metrics move and alerts fire.
 *
 * With `registryUrl` (the demo registry, or any MLflow), it serves like an app that loads the
 * `champion` alias: predictions carry the champion's version, polled every few seconds. The
 * accuracy drop then hits only the version that was champion when the simulator started (the
 * "bad deploy"): once Vigil rolls the alias back, quality recovers, while the feature drift (the
 * data) stays.
 */
export interface SimulatorOptions {
  url: string;
  models: readonly ModelConfig[];
  token?: string;
  /** Predictions per second per model. */
  rate: number;
  /** Labels arrive this long after their prediction… */
  labelDelayMs: number;
  /** …for this share of predictions (the rest never get one). */
  labelShare: number;
  /** Drift and degradation start this long after the simulator starts (Infinity: never). */
  driftAfterMs: number;
  seed: number;
  tickMs: number;
  /** MLflow tracking URL whose `champion` alias says which version serves. */
  registryUrl?: string;
  registryPollMs?: number;
}

export const DEFAULT_SIMULATOR: Omit<SimulatorOptions, 'url' | 'models'> = {
  rate: 20,
  labelDelayMs: 10_000,
  labelShare: 0.9,
  driftAfterMs: 120_000,
  seed: 42,
  tickMs: 1000,
};

const hash = (s: string): number => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
};

/**
 * The simulated sales channels of a model with segments, each drawn with the conditional share
 * given (web 45%, mobile 30%, pos 20%, partner 5%): with segments.max 3, partner is pooled into `other`.
 */
const SIM_SEGMENTS: ReadonlyArray<readonly [string, number]> = [
  ['web', 0.45],
  ['mobile', 0.3 / 0.55],
  ['pos', 0.2 / 0.25],
];

interface PendingLabel {
  dueAt: number;
  model: string;
  item: { id: string; label: string | number; ts: number };
}

/** One model's synthetic world: feature distributions and the true relation to the target. */
export class ModelWorld {
  private readonly rnd: () => number;
  private readonly classes: string[];
  private readonly weights: Map<string, number>;
  private readonly cats: Map<string, string[]>;
  /** Segments (models[].segments): drawn from their own stream, so the rest of the traffic is the same with or without them. */
  private readonly segmentRnd: (() => number) | null;
  private seq = 0;

  constructor(
    readonly model: ModelConfig,
    seed: number,
  ) {
    this.rnd = mulberry32(seed ^ hash(model.name));
    this.segmentRnd = model.segments === undefined ? null : mulberry32(seed ^ hash(`${model.name}/segments`));
    this.classes =
      model.task === 'multiclass' ? (model.classes ?? ['a', 'b', 'c']) : model.task === 'binary' ? ['0', model.positive_class ?? '1'] : [];
    this.weights = new Map(model.features.map((f) => [f.name, ((hash(f.name) % 200) - 100) / 100]));
    this.cats = new Map(
      model.features.filter((f) => f.type === 'categorical').map((f) => [f.name, Array.from({ length: 3 + (hash(f.name) % 4) }, (_, i) => `${f.name.slice(0, 3)}_${i}`)]),
    );
  }

  private normal(): number {
    const u = Math.max(this.rnd(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rnd());
  }

  /** One prediction event and its true label. */
  next(now: number, drifted: boolean, degraded = drifted, version = 'v1'): { prediction: Record<string, unknown>; label: string | number } {
    const features: Record<string, number | string | null> = {};
    let signal = 0;
    this.model.features.forEach((f, i) => {
      if (this.rnd() < 0.01) return void (features[f.name] = null); // a little incompleteness
      if (f.type === 'numeric') {
        const scale = 1 + (hash(f.name) % 50);
        let z = this.normal();
        if (drifted && i % 2 === 0) z += 1.5; // half of the numeric features shift
        features[f.name] = Math.round(z * scale * 1000) / 1000 + scale * 3;
        signal += (this.weights.get(f.name) ?? 0) * z;
      } else {
        const cats = this.cats.get(f.name) ?? ['x'];
        const u = this.rnd();
        const idx = Math.min(cats.length - 1, Math.floor(-Math.log(1 - u * 0.95) * 1.2));
        features[f.name] = drifted && this.rnd() < 0.3 ? `${f.name.slice(0, 3)}_new` : (cats[idx] as string);
        signal += idx * 0.2 - 0.3;
      }
    });
    const id = `${this.model.name}-${now}-${this.seq++}`;
    const latency = Math.exp(Math.log(25) + 0.5 * this.normal()) * (degraded ? 1.6 : 1);
    const segment = this.segmentRnd === null ? undefined : SIM_SEGMENTS.find(([, share]) => (this.segmentRnd as () => number)() < share)?.[0] ?? 'partner';
    const base = {
      id,
      ts: now,
      model_version: version,
      features,
      latency_ms: Math.round(latency * 10) / 10,
      ...(this.rnd() < 0.005 ? { error: 'upstream timeout' } : {}),
      ...(segment === undefined ? {} : { segment }),
    };
    // The model is good before the drift and much worse after it (when degraded).
    const noise = degraded ? 2.2 : 0.4;
    if (this.model.task === 'regression') {
      const truth = 30 + 8 * signal + 2 * this.normal();
      const pred = truth + (degraded ? 6 + 6 * this.normal() : 1.5 * this.normal());
      return { prediction: { ...base, prediction: Math.round(pred * 100) / 100 }, label: Math.round(truth * 100) / 100 };
    }
    if (this.model.task === 'binary') {
      const p = 1 / (1 + Math.exp(-2 * signal));
      const truth = this.rnd() < p ? 1 : 0;
      // A bad deploy: weaker signal, biased towards the positive class, noisier.
      const est = 1 / (1 + Math.exp(-((degraded ? 0.5 : 2) * signal + (degraded ? 1.2 : 0) + noise * this.normal())));
      const score = Math.round(est * 10_000) / 10_000;
      return {
        prediction: { ...base, prediction: score >= 0.5 ? this.classes[1] : this.classes[0], score },
        label: this.classes[truth] as string,
      };
    }
    const k = this.classes.length;
    const logits = this.classes.map((_, c) => (c === Math.abs(Math.round(signal * 2)) % k ? 2 : 0));
    const truthIdx = sample(logits.map(Math.exp), this.rnd);
    const noisy = logits.map((l) => l + noise * 1.5 * this.normal());
    const exps = noisy.map(Math.exp);
    const total = exps.reduce((a, b) => a + b, 0);
    const score: Record<string, number> = {};
    this.classes.forEach((c, i) => (score[c] = Math.round(((exps[i] as number) / total) * 10_000) / 10_000));
    const predIdx = noisy.indexOf(Math.max(...noisy));
    return { prediction: { ...base, prediction: this.classes[predIdx], score }, label: this.classes[truthIdx] as string };
  }
}

function sample(weights: number[], rnd: () => number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rnd() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u <= 0) return i;
  }
  return weights.length - 1;
}

export class Simulator {
  private readonly http: AxiosInstance;
  private readonly worlds: ModelWorld[];
  private readonly pending: PendingLabel[] = [];
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private busy = false;
  private driftLogged = false;
  private readonly log: Logger;
  private readonly rnd: () => number;
  readonly sent = { predictions: 0, labels: 0, failures: 0 };
  /** model → the version serving (the registry's champion; 'v1' without a registry). */
  readonly serving = new Map<string, string>();
  /** model → the champion when the simulator started: the version the accuracy drop hits. */
  private readonly badVersion = new Map<string, string>();
  private lastPoll = Number.NEGATIVE_INFINITY;
  private pollWarned = false;
  private registry: MlflowClient | undefined;

  constructor(
    private readonly opts: SimulatorOptions,
    private readonly deps: { logger: Logger; clock: Clock },
  ) {
    this.log = deps.logger.child({ component: 'simulator' });
    this.http = axios.create({
      baseURL: opts.url,
      timeout: 10_000,
      headers: { 'Content-Type': 'application/x-ndjson', ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}) },
      validateStatus: () => true,
    });
    this.worlds = opts.models.map((m) => new ModelWorld(m, opts.seed));
    this.rnd = mulberry32(opts.seed + 1);
  }

  /** Posts each model's training data as its baseline (version v1), like a training pipeline would. */
  async postBaselines(rows = 3000): Promise<void> {
    const now = this.deps.clock.now();
    for (const w of this.worlds) {
      const items: unknown[] = [];
      for (let i = 0; i < rows; i++) {
        const { prediction, label } = w.next(now, false);
        items.push({
          features: prediction.features,
          prediction: prediction.prediction,
          ...(prediction.score === undefined ? {} : { score: prediction.score }),
          ...(prediction.segment === undefined ? {} : { segment: prediction.segment }),
          label,
        });
      }
      try {
        // replace=true: the simulator's baseline is its synthetic world's reference, so a second run
        // (`npm start` again on the same ./data) stores it afresh instead of failing with 409.
        const r = await this.http.post(`/v1/models/${encodeURIComponent(w.model.name)}/baselines?version=v1&replace=true`, items, { headers: { 'Content-Type': 'application/json' } });
        if (r.status >= 300) this.log.warn({ model: w.model.name, status: r.status, body: JSON.stringify(r.data).slice(0, 300) }, 'simulator baseline not accepted');
        else this.log.info({ model: w.model.name, rows }, 'simulator posted a baseline');
      } catch (e) {
        this.log.warn({ model: w.model.name, err: errorMessage(e) }, 'simulator baseline failed');
      }
    }
  }

  start(): void {
    this.startedAt = this.deps.clock.now();
    this.log.info({ url: this.opts.url, models: this.worlds.length, rate: this.opts.rate, drift_after_ms: this.opts.driftAfterMs }, 'simulator started');
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One tick: a batch of predictions per model, and the labels that are due. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = this.deps.clock.now();
      const drifted = now - this.startedAt >= this.opts.driftAfterMs;
      if (drifted && !this.driftLogged) {
        this.driftLogged = true;
        this.log.warn({}, 'simulator: injecting feature drift and an accuracy drop');
      }
      if (this.opts.registryUrl !== undefined && now - this.lastPoll >= (this.opts.registryPollMs ?? 5000)) {
        this.lastPoll = now;
        await this.pollRegistry();
      }
      const n = Math.max(1, Math.round((this.opts.rate * this.opts.tickMs) / 1000));
      for (const w of this.worlds) {
        const lines: string[] = [];
        const version = this.serving.get(w.model.name) ?? 'v1';
        const bad = this.badVersion.get(w.model.name);
        const degraded = drifted && (this.opts.registryUrl === undefined || bad === undefined || version === bad);
        for (let i = 0; i < n; i++) {
          const { prediction, label } = w.next(now, drifted, degraded, version);
          lines.push(JSON.stringify(prediction));
          if (this.rnd() < this.opts.labelShare) {
            this.pending.push({ dueAt: now + this.opts.labelDelayMs, model: w.model.name, item: { id: prediction.id as string, label, ts: now + this.opts.labelDelayMs } });
          }
        }
        await this.post(`/v1/models/${encodeURIComponent(w.model.name)}/predictions`, lines, 'predictions');
      }
      const due = new Map<string, string[]>();
      while (this.pending.length > 0 && (this.pending[0] as PendingLabel).dueAt <= now) {
        const p = this.pending.shift() as PendingLabel;
        const list = due.get(p.model) ?? [];
        list.push(JSON.stringify({ ...p.item, ts: now }));
        due.set(p.model, list);
      }
      for (const [model, lines] of due) await this.post(`/v1/models/${encodeURIComponent(model)}/labels`, lines, 'labels');
    } finally {
      this.busy = false;
    }
  }

  /** Reads each model's `champion` alias (MLflow REST): the version that serves. */
  private async pollRegistry(): Promise<void> {
    this.registry ??= new MlflowClient({ url: this.opts.registryUrl as string, what: 'simulator registry', timeoutMs: 5000 });
    for (const w of this.worlds) {
      const name = w.model.name;
      try {
        const r = (await this.registry.get('/registered-models/alias', { name, alias: 'champion' }, AbortSignal.timeout(5000))) as { model_version?: { version?: unknown } };
        const version = r.model_version?.version;
        if (typeof version !== 'string') throw new Error('no model_version.version in the answer');
        const before = this.serving.get(name);
        if (before !== version) this.log.info({ model: name, version, before: before ?? null }, 'simulator: serving the champion version');
        this.serving.set(name, version);
        if (!this.badVersion.has(name)) this.badVersion.set(name, version);
      } catch (e) {
        if (!this.pollWarned) this.log.warn({ model: name, err: errorMessage(e) }, 'simulator: cannot read the champion alias; serving v1');
        this.pollWarned = true;
      }
    }
  }

  private async post(path: string, lines: string[], kind: 'predictions' | 'labels'): Promise<void> {
    try {
      const r = await this.http.post(path, lines.join('\n'));
      if (r.status >= 300) {
        this.sent.failures++;
        this.log.warn({ path, status: r.status, body: JSON.stringify(r.data).slice(0, 300) }, 'simulator post not accepted');
      } else this.sent[kind] += lines.length;
    } catch (e) {
      this.sent.failures++;
      this.log.warn({ path, err: errorMessage(e) }, 'simulator post failed');
    }
  }
}
