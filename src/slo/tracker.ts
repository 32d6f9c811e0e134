/**
 * SLOs on Vigil's own data. Events are counted per SLO and minute as they happen — predictions
 * (errors, latency) when Vigil stores them, labels (correctness) when they arrive, evaluation
 * cycles (window-based quality, freshness) — kept in bounded counters (slo/counters.ts) and added
 * to the store after each cycle, so the SLIs over 5 minutes … 30 days survive a restart and never
 * need the raw rows (which retention may already have pruned). Exports Sloth's series
 * (REFERENCE.md §12) computed from the counts: no Prometheus is needed to read them.
 */
import type { ModelConfig, VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { IngestListener } from '../ingest/ingestor.js';
import type { Sample } from '../metrics/snapshot.js';
import type { LabelRecord, PredictionRecord, SloMinute, Store } from '../store/store.js';
import { periodDays, sloId, type SloConfig } from './config.js';
import { MINUTE_MS, SliCounters, type Counts } from './counters.js';

/** Sloth's burn-rate windows (the alerts' short and long windows) in minutes. */
export const SLO_WINDOWS: ReadonlyArray<readonly [string, number]> = [
  ['5m', 5],
  ['30m', 30],
  ['1h', 60],
  ['2h', 120],
  ['6h', 360],
  ['1d', 1440],
  ['3d', 4320],
];
/** A freshness cycle counts at most this long (a daemon that was down knows nothing of that time). */
const MAX_CYCLE_WEIGHT_MS = 5 * MINUTE_MS;
/** The store keeps SLO minutes this long (the longest period and a margin). */
const KEEP_MINUTES = 31 * 1440;
/** Counts not yet written are kept at most for this many minutes while the store fails. */
const MAX_PENDING_MINUTES = 1440;

interface Tracked {
  cfg: SloConfig;
  id: string;
  counters: SliCounters;
  /** Counts not yet in the store, by minute. */
  pending: Map<number, Counts>;
  /** The last cycle observed (freshness weights a cycle by the time since). */
  lastCycle: number | undefined;
}

export interface SloTrackerDeps {
  store: Store;
  logger: Logger;
  clock: Clock;
  config: () => VigilConfig;
}

export class SloTracker implements IngestListener {
  private tracked = new Map<string, Tracked>();
  private readonly log: Logger;
  private failing = false;
  private lastPrune = -Infinity;

  constructor(private readonly deps: SloTrackerDeps) {
    this.log = deps.logger.child({ component: 'slo' });
  }

  /**
   * Takes the configured SLOs (start-up and reload): one new or whose period changed reads its
   * counts from the store; one removed is forgotten (its stored counts stay until they age out).
   */
  async apply(now: number): Promise<void> {
    await this.flush(now);
    const next = new Map<string, Tracked>();
    for (const cfg of this.deps.config().slos) {
      const id = sloId(cfg);
      const old = this.tracked.get(id);
      if (old !== undefined && old.counters.periodDays === periodDays(cfg)) {
        next.set(id, { ...old, cfg });
        continue;
      }
      const counters = new SliCounters(periodDays(cfg));
      // the minutes the minute counts hold, read per minute; the rest of the period per hour (summed by the store)
      const nowMinute = Math.floor(now / MINUTE_MS);
      const fine = (Math.floor((nowMinute - SliCounters.MINUTES) / 60) + 1) * 60;
      try {
        for (const r of await this.deps.store.readSloHours(id, nowMinute - periodDays(cfg) * 1440 - 60, fine)) counters.addHour(r.hour, r.good, r.total);
        for (const r of await this.deps.store.readSloMinutes(id, fine)) counters.add(r.minute, r.good, r.total);
      } catch (e) {
        this.log.error({ slo: id, err: errorMessage(e) }, 'SLO counts cannot be read from the store; counting from now');
      }
      next.set(id, { cfg, id, counters, pending: old?.pending ?? new Map(), lastCycle: old?.lastCycle });
    }
    this.tracked = next;
  }

  private of(model: string, ...types: SloConfig['sli']['type'][]): Tracked[] {
    const out: Tracked[] = [];
    for (const t of this.tracked.values()) if (t.cfg.model === model && types.includes(t.cfg.sli.type)) out.push(t);
    return out;
  }

  private count(t: Tracked, atMs: number, good: number, total: number): void {
    if (total === 0) return;
    const minute = Math.floor(atMs / MINUTE_MS);
    t.counters.add(minute, good, total);
    const p = t.pending.get(minute);
    if (p === undefined) t.pending.set(minute, { good, total });
    else {
      p.good += good;
      p.total += total;
    }
  }

  /** Stored predictions (new ids only): errors and latency SLIs, at the minute they are stored. */
  predictions(model: ModelConfig, records: readonly PredictionRecord[]): void {
    const slos = this.of(model.name, 'errors', 'latency');
    if (slos.length === 0) return;
    const now = this.deps.clock.now();
    for (const t of slos) {
      let good = 0;
      let total = 0;
      const sli = t.cfg.sli;
      const segment = t.cfg.segment;
      for (const r of records) {
        if (segment !== undefined && r.segment !== segment) continue;
        if (sli.type === 'errors') {
          total++;
          if (r.error === null) good++;
        } else if (sli.type === 'latency' && r.latencyMs !== null) {
          total++;
          if (r.latencyMs <= sli.threshold) good++;
        }
      }
      this.count(t, now, good, total);
    }
  }

  /** Stored labels (new ids only): the correctness SLI, at the minute they arrive; a label whose prediction is unknown does not count. */
  async labels(model: ModelConfig, records: readonly LabelRecord[]): Promise<void> {
    const slos = this.of(model.name, 'correctness');
    if (slos.length === 0 || records.length === 0) return;
    const now = this.deps.clock.now();
    const targets = await this.deps.store.predictionTargets(
      model.name,
      records.map((r) => r.id),
    );
    for (const t of slos) {
      const segment = t.cfg.segment;
      let good = 0;
      let total = 0;
      records.forEach((r, i) => {
        const p = targets[i];
        if (p === undefined || (segment !== undefined && p.segment !== segment)) return;
        total++;
        if (String(p.prediction) === String(r.label)) good++;
      });
      this.count(t, now, good, total);
    }
  }

  /** One evaluation cycle's samples: window-based quality and freshness. */
  observeCycle(samples: readonly Sample[], now: number): void {
    const interval = this.deps.config().evaluation_interval;
    // the cycle's samples by name, grouped once for every SLO that reads them
    const byName = new Map<string, Sample[]>();
    const named = (name: string): readonly Sample[] => {
      let list = byName.get(name);
      if (list === undefined) byName.set(name, (list = samples.filter((s) => s.name === name)));
      return list;
    };
    for (const t of this.tracked.values()) {
      const sli = t.cfg.sli;
      if (sli.type === 'quality') {
        const name = `ml_model_${sli.metric}`;
        const window = formatDuration(sli.window);
        let good = 0;
        let total = 0;
        for (const s of named(name)) {
          // a model's SLO reads the model's series, a segment's SLO its segment's
          if (s.labels.model !== t.cfg.model || s.labels.window !== window || s.labels.segment !== t.cfg.segment || Number.isNaN(s.value)) continue;
          total++;
          if (sli.min !== undefined ? s.value >= sli.min : s.value <= (sli.max as number)) good++;
        }
        this.count(t, now, good, total);
      } else if (sli.type === 'freshness') {
        const weight = Math.min(t.lastCycle === undefined ? interval : now - t.lastCycle, MAX_CYCLE_WEIGHT_MS) / 1000;
        t.lastCycle = now;
        if (!(weight > 0)) continue;
        const age = named('ml_prediction_freshness_seconds').find((s) => s.labels.model === t.cfg.model)?.value;
        // no prediction at all is not fresh
        this.count(t, now, age !== undefined && age * 1000 <= sli.max_age ? weight : 0, weight);
      }
    }
  }

  /** The Sloth series of every SLO at `now` (a ratio without events is absent, never NaN). */
  samples(now: number): Sample[] {
    const out: Sample[] = [];
    const minute = Math.floor(now / MINUTE_MS);
    for (const t of this.tracked.values()) {
      const base = { sloth_id: t.id, sloth_service: t.cfg.model, sloth_slo: t.cfg.name, ...(t.cfg.segment === undefined ? {} : { segment: t.cfg.segment }) };
      const objective = t.cfg.objective / 100;
      const budget = 1 - objective;
      const ratio = (c: Counts) => (c.total > 0 ? (c.total - c.good) / c.total : undefined);
      const days = periodDays(t.cfg);
      let short: number | undefined;
      for (const [name, minutes] of SLO_WINDOWS) {
        const r = ratio(t.counters.window(minute, minutes));
        if (name === '5m') short = r;
        if (r !== undefined) out.push({ name: `slo:sli_error:ratio_rate${name}`, labels: { ...base, sloth_window: name }, value: r });
      }
      const period = ratio(t.counters.period(minute));
      if (period !== undefined) out.push({ name: `slo:sli_error:ratio_rate${days}d`, labels: { ...base, sloth_window: `${days}d` }, value: period });
      out.push(
        { name: 'slo:objective:ratio', labels: base, value: objective },
        { name: 'slo:error_budget:ratio', labels: base, value: budget },
        { name: 'slo:time_period:days', labels: base, value: days },
      );
      if (short !== undefined) out.push({ name: 'slo:current_burn_rate:ratio', labels: base, value: short / budget });
      if (period !== undefined) {
        out.push(
          { name: 'slo:period_burn_rate:ratio', labels: base, value: period / budget },
          { name: 'slo:period_error_budget_remaining:ratio', labels: base, value: 1 - period / budget },
        );
      }
      out.push({ name: 'sloth_slo_info', labels: { ...base, sloth_mode: 'vigil', sloth_objective: String(t.cfg.objective), sloth_sli: t.cfg.sli.type }, value: 1 });
    }
    return out;
  }

  /**
   * Adds the counts since the last flush to the store. A store that fails keeps them for the next
   * flush (at most a day of minutes), logged once; once an hour, minutes past the longest period go.
   */
  /**
   * Writes the counts since the last flush to the store. `write` false (a replica that does not
   * lead, on a shared store): they are dropped instead — every replica counts the same rows, and
   * only the leader's counts go to the store, once.
   */
  async flush(now: number, write = true): Promise<void> {
    if (!write) {
      for (const t of this.tracked.values()) t.pending.clear();
      return;
    }
    const rows: SloMinute[] = [];
    for (const t of this.tracked.values()) for (const [minute, c] of t.pending) rows.push({ slo: t.id, minute, good: c.good, total: c.total });
    try {
      if (rows.length > 0) await this.deps.store.addSloMinutes(rows);
      for (const t of this.tracked.values()) t.pending.clear();
      if (this.failing) this.log.info('SLO counts are written to the store again');
      this.failing = false;
      if (now - this.lastPrune >= 3_600_000) {
        this.lastPrune = now;
        await this.deps.store.pruneSloMinutes(Math.floor(now / MINUTE_MS) - KEEP_MINUTES);
      }
    } catch (e) {
      if (!this.failing) this.log.error({ err: errorMessage(e) }, 'SLO counts cannot be written to the store; retrying after the next cycle');
      this.failing = true;
      const oldest = Math.floor(now / MINUTE_MS) - MAX_PENDING_MINUTES;
      for (const t of this.tracked.values()) for (const m of t.pending.keys()) if (m < oldest) t.pending.delete(m);
    }
  }
}
