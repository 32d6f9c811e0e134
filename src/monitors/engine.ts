import type { ModelConfig, VigilConfig } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { IngestListener } from '../ingest/ingestor.js';
import type { Sample } from '../metrics/snapshot.js';
import type { BaselineRecord, LabelRecord, PredictionRecord, Store, WindowRow } from '../store/store.js';
import { abTestMonitor } from './abtest.js';
import { loadBaseline, type LoadedBaseline } from './baseline.js';
import { businessMonitor } from './business.js';
import { dataQualityMonitor, freshnessMonitor } from './data-quality.js';
import { driftMonitor, startDrift, type DriftRun } from './drift.js';
import { DriftPool, type DriftPoolOptions } from './drift-pool.js';
import { estimateMonitor } from './estimate.js';
import { latencyMonitor } from './latency.js';
import { performanceMonitor } from './performance.js';
import { Scratch } from './scratch.js';
import type { Emit, WindowView } from './view.js';
import { ModelWindow, needsRawValues } from './window.js';

type Monitor = (v: WindowView, emit: Emit) => void;

/** The per-window monitors, in order. Each is a fault boundary per model and window. */
export const MONITORS: readonly (readonly [string, Monitor])[] = [
  ['performance', performanceMonitor],
  ['drift', driftMonitor],
  ['data_quality', dataQualityMonitor],
  ['latency', latencyMonitor],
  ['business', businessMonitor],
  ['abtest', abTestMonitor],
  ['estimate', estimateMonitor],
];

interface Held {
  w: ModelWindow;
  key: string;
}

const windowKey = (m: ModelConfig): string =>
  JSON.stringify([m.task, m.features, m.classes ?? null, m.positive_class ?? null, Math.max(...m.windows), needsRawValues(m), m.drift.reference_points]);

/** The versions of the rows in a window. */
function presentVersions(w: ModelWindow): string[] {
  const seen = new Uint8Array(w.versions.values.length);
  for (let i = 0; i < w.n; i++) seen[w.version[i] as number] = 1;
  return w.versions.values.filter((_, c) => seen[c] === 1);
}

/** Baseline ids of a window's coding (0: none). */
const idOf = (b: LoadedBaseline | undefined): number => b?.record.id ?? 0;

/**
 * Holds every model's hot window (rebuilt from the store at start-up, then fed by ingestion) and
 * computes every monitor for every model and window into samples for the cycle's snapshot.
 */
export class MonitorEngine implements IngestListener {
  private readonly held = new Map<string, Held>();
  /** Per model: its usable baselines, newest first, and the baseline generation they were loaded at. */
  private readonly baselines = new Map<string, LoadedBaseline[]>();
  private readonly loadedAt = new Map<string, { gen: number; points: number }>();
  /** Per model: the samples of its last computation and when (for per-model evaluation intervals). */
  private readonly lastSamples = new Map<string, { at: number; samples: Sample[] }>();
  private readonly log: Logger;
  /** Monitor failures since start, by monitor (exported as vigil_cycle_stage_errors_total). */
  readonly failures = new Map<string, number>();

  /** The drift worker (null: drift on the main thread only). */
  readonly driftPool: DriftPool | null;
  /** The block size the last cycle's scratch needed (each cycle takes its own Scratch, see scratch.ts). */
  private scratchBytes = 0;

  constructor(
    private readonly deps: {
      store: Store;
      logger: Logger;
      onMonitorError?: (monitor: string) => void;
      /** The drift worker thread: options, or false for none (default: one worker, used for large windows). */
      driftWorker?: DriftPoolOptions | false;
    },
  ) {
    this.log = deps.logger.child({ component: 'monitors' });
    this.driftPool = deps.driftWorker === false ? null : new DriftPool(this.log, deps.driftWorker ?? {});
  }

  /** Terminates the drift worker (shutdown). */
  async close(): Promise<void> {
    await this.driftPool?.close();
  }

  /**
   * Rebuilds the hot window of a model from the store, its numeric values coded against the
   * baselines drift can use for the versions in it (a second pass when the rows show versions
   * whose baseline was not expected).
   */
  async rebuild(model: ModelConfig, now: number): Promise<ModelWindow> {
    await this.loadBaselines([model]);
    const before = this.held.get(model.name)?.w;
    let coding = this.codingFor(model.name, before === undefined ? [] : presentVersions(before));
    let w = await this.scan(model, now, coding);
    const needed = this.codingFor(model.name, presentVersions(w));
    if (needed.some((b) => !coding.includes(b))) {
      coding = needed;
      w = await this.scan(model, now, coding);
    }
    this.held.set(model.name, { w, key: windowKey(model) });
    return w;
  }

  /**
   * The baselines a window of these versions must be coded against: each version's baseline (the
   * model's newest when there is no version yet). Empty when the model has none.
   */
  private codingFor(model: string, versions: readonly string[]): LoadedBaseline[] {
    const out = new Set<LoadedBaseline>();
    if (versions.length === 0) {
      const newest = this.baselinesOf(model)[0];
      if (newest !== undefined) out.add(newest);
    }
    for (const v of versions) {
      const b = this.baselineFor(model, v);
      if (b !== undefined) out.add(b);
    }
    return [...out].sort((a, b) => b.record.id - a.record.id);
  }

  private async scan(model: ModelConfig, now: number, coding: readonly LoadedBaseline[]): Promise<ModelWindow> {
    const w = new ModelWindow(model, coding);
    const horizon = Math.max(...model.windows);
    const batch: WindowRow[] = [];
    const seqs: number[] = [];
    const flush = (): void => {
      w.append(batch, seqs);
      batch.length = 0;
      seqs.length = 0;
    };
    const n = await this.deps.store.scanPredictions(model.name, now - horizon, (row) => {
      batch.push(row);
      seqs.push(row.seq);
      // small batches: the parsed rows die young (a 10,000-row batch of 70 features outlived
      // V8's young generation, and its ~100 MB per model went to the old one: ~80 MB more RSS after start-up)
      if (batch.length >= 1_000) flush();
    });
    flush();
    w.sortBySeq(); // the store gives them in event-time order
    this.log.info({ model: model.name, rows: n, horizon: formatDuration(horizon), baselines: w.coding }, 'hot window loaded');
    return w;
  }

  /**
   * Loads every configured model's window (start-up). Between two models the event loop runs
   * (requests are served meanwhile). One model's rebuild does not yield to it — the SQLite store
   * answers synchronously — so a prediction stored meanwhile is either in its scan or appended
   * after it, never missing from the window; a store that yields inside a scan would need the
   * rebuild to catch up with the rows stored during it. `stop` is asked before each model: when it
   * says so (the daemon is stopping), the remaining models are not loaded.
   */
  async load(config: VigilConfig, now: number, stop: () => boolean = () => false): Promise<void> {
    for (const m of config.models) {
      if (stop()) return;
      await this.rebuild(m, now);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  window(model: string): ModelWindow | undefined {
    return this.held.get(model)?.w;
  }

  predictions(model: ModelConfig, records: readonly PredictionRecord[], seqs: readonly number[]): void {
    const h = this.held.get(model.name);
    if (h === undefined || h.key !== windowKey(model)) return; // rebuilt from the store at the next cycle
    h.w.append(records, seqs);
  }

  async labels(model: ModelConfig, records: readonly LabelRecord[]): Promise<void> {
    const h = this.held.get(model.name);
    if (h === undefined) return;
    const seqs = await this.deps.store.predictionSeqs(
      model.name,
      records.map((r) => r.id),
    );
    records.forEach((r, i) => {
      const seq = seqs[i];
      if (seq === undefined) {
        if (h.w.lastLabelTs === null || r.ts > h.w.lastLabelTs) h.w.lastLabelTs = r.ts; // label before its prediction
      } else h.w.setLabel(seq, r);
    });
  }

  /**
   * Loads the baselines of these models when the store has new ones (or they were never loaded).
   * Per model, only the newest baseline of each version is kept (no other can be chosen), and a
   * baseline already loaded is reused, never parsed again (windows are coded against its
   * summaries); summaries are read from the store only when there is a new baseline to parse.
   */
  private async loadBaselines(models: readonly ModelConfig[]): Promise<void> {
    const gen = await this.deps.store.baselineGeneration();
    for (const m of models) {
      const points = m.drift.reference_points;
      const at = this.loadedAt.get(m.name);
      if (at?.gen === gen && at.points === points) continue;
      // loaded with another number of reference points: parsed again (and the window rebuilt, windowKey)
      const known = new Map(at?.points === points ? (this.baselines.get(m.name) ?? []).map((b) => [b.record.id, b]) : []);
      let records: Map<number, BaselineRecord> | undefined; // summaries, read only when something is to be parsed
      const loaded: LoadedBaseline[] = [];
      const versions = new Set<string>();
      for (const meta of await this.deps.store.listBaselineMeta(m.name)) {
        if (versions.has(meta.version)) continue; // an older baseline of a version that has a newer one: never used
        let b = known.get(meta.id);
        if (b === undefined) {
          records ??= new Map((await this.deps.store.listBaselines(m.name)).map((r) => [r.id, r]));
          const rec = records.get(meta.id);
          if (rec === undefined) continue;
          try {
            b = await loadBaseline(this.deps.store, rec, points);
          } catch (e) {
            this.log.error({ model: m.name, baseline: rec.id, err: errorMessage(e) }, 'baseline cannot be read; skipped');
            continue;
          }
        }
        versions.add(meta.version);
        loaded.push(b);
      }
      this.baselines.set(m.name, loaded);
      this.loadedAt.set(m.name, { gen, points });
    }
  }

  /** A version's own newest baseline, else the model's newest. */
  baselineFor(model: string, version: string): LoadedBaseline | undefined {
    const list = this.baselines.get(model) ?? [];
    return list.find((b) => b.record.version === version) ?? list[0];
  }

  baselinesOf(model: string): readonly LoadedBaseline[] {
    return this.baselines.get(model) ?? [];
  }

  /** Computes every monitor of every model; returns the samples for the snapshot. */
  async compute(config: VigilConfig, now: number): Promise<Sample[]> {
    await this.loadBaselines(config.models);
    const out: Sample[] = [];
    const configured = new Set(config.models.map((m) => m.name));
    for (const name of [...this.held.keys()]) {
      if (!configured.has(name)) {
        this.held.delete(name); // removed from the configuration: its series disappear
        this.lastSamples.delete(name);
      }
    }
    // The arrays of each model-window computation come from one block reused from window to window.
    const scratch = new Scratch(this.scratchBytes);
    try {
      for (const m of config.models) await this.computeOne(m, now, scratch, out);
    } finally {
      scratch.drop(); // nothing of it held between cycles
      this.scratchBytes = scratch.blockBytes;
    }
    return out;
  }

  /** One model's samples into `out`: computed, or its last ones while its own evaluation interval has not passed. */
  private async computeOne(m: ModelConfig, now: number, scratch: Scratch, out: Sample[]): Promise<void> {
    const interval = m.evaluation_interval;
    const last = this.lastSamples.get(m.name);
    if (interval !== undefined && last !== undefined && now - last.at < interval) {
      out.push(...last.samples);
      return;
    }
    const samples: Sample[] = [];
    try {
      await this.computeModel(m, now, scratch, (name, labels, value) => samples.push({ name, labels, value }));
    } catch (e) {
      this.failed('model', m.name, e);
    }
    this.lastSamples.set(m.name, { at: now, samples });
    out.push(...samples);
  }

  private failed(monitor: string, model: string, e: unknown): void {
    this.failures.set(monitor, (this.failures.get(monitor) ?? 0) + 1);
    this.deps.onMonitorError?.(monitor);
    this.log.error({ monitor, model, err: errorMessage(e), stack: e instanceof Error ? e.stack : undefined }, 'monitor failed');
  }

  private async computeModel(m: ModelConfig, now: number, scratch: Scratch, emit: Emit): Promise<void> {
    let h = this.held.get(m.name);
    if (h === undefined || h.key !== windowKey(m)) h = { w: await this.rebuild(m, now), key: windowKey(m) };
    let w = h.w;
    const from = now - Math.max(...m.windows);
    w.evict(from);
    // The window must be coded against the baseline of each version in it (drift and data quality
    // read the codes): a new baseline, or a version with its own, means a rebuild from the store.
    const coding = this.codingFor(m.name, presentVersions(w)).map(idOf);
    if (coding.length === 0) coding.push(0);
    if (coding.some((id) => !w.coding.includes(id))) {
      w = await this.rebuild(m, now);
      w.evict(from);
    } else w.retainCoding(new Set(coding));
    emit('vigil_hot_window_rows', { model: m.name }, w.n);
    emit('vigil_hot_window_bytes', { model: m.name }, w.bytes());
    freshnessMonitor(m.name, w, now, emit);

    const current = w.n > 0 ? (w.versions.values[w.version[w.n - 1] as number] as string) : undefined;
    const baseline = current === undefined ? this.baselinesOf(m.name)[0] : this.baselineFor(m.name, current);
    for (const version of w.versions.values) {
      const b = this.baselineFor(m.name, version);
      if (b === undefined) continue;
      emit('vigil_baseline_info', { model: m.name, version, baseline_version: b.record.version, source: b.record.source }, 1);
      for (const [metric, value] of Object.entries(b.quality)) emit('ml_model_quality_baseline', { model: m.name, version, metric }, value);
      // The label-free estimate assumes calibrated scores: say whether the baseline shows they are.
      const ece = b.quality.calibration_error;
      if (m.task === 'binary' && ece !== undefined) emit('ml_model_estimate_reliable', { model: m.name, version }, ece <= m.estimate_max_calibration_error ? 1 : 0);
    }
    for (const dur of m.windows) {
      try {
        await this.computeWindow(m, w, dur, now, baseline, scratch, emit);
      } finally {
        scratch.release(); // the window's arrays are not read after its monitors
      }
    }
  }

  /** Every monitor of one model and window, emitted in MONITORS order. */
  private async computeWindow(m: ModelConfig, w: ModelWindow, dur: number, now: number, baseline: LoadedBaseline | undefined, scratch: Scratch, emit: Emit): Promise<void> {
    const view: WindowView = {
      model: m,
      w,
      window: formatDuration(dur),
      rows: w.rows(now - dur, now, (n) => scratch.i32(n)),
      now,
      baseline,
      baselineFor: (version) => this.baselineFor(m.name, version),
      scratch,
    };
    // Drift starts first (its numeric features go to the worker as well), the other monitors run
    // meanwhile, then drift finishes; the samples are emitted in MONITORS order as before.
    const outs: Sample[][] = MONITORS.map(() => []);
    const into =
      (buf: Sample[]): Emit =>
      (name, labels, value) =>
        buf.push({ name, labels, value });
    let drift: DriftRun | null = null;
    const di = MONITORS.findIndex(([name]) => name === 'drift');
    try {
      drift = startDrift(view, this.driftPool);
    } catch (e) {
      this.failed('drift', m.name, e);
    }
    MONITORS.forEach(([name, monitor], i) => {
      if (i === di) return;
      try {
        monitor(view, into(outs[i] as Sample[]));
      } catch (e) {
        this.failed(name, m.name, e);
      }
    });
    if (drift !== null) {
      try {
        await drift.finish(into(outs[di] as Sample[]));
      } catch (e) {
        this.failed('drift', m.name, e);
      }
    }
    for (const buf of outs) for (const s of buf) emit(s.name, s.labels, s.value);
  }
}
