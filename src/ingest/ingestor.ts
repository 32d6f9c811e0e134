import type { ModelShard } from '../cluster/shard.js';
import type { ModelConfig, VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { VigilMetrics } from '../metrics/registry.js';
import { modelLayout, type PackLayout } from '../store/packed.js';
import type { FollowedLabel, FollowedPrediction, LabelRecord, PredictionRecord, Store } from '../store/store.js';
import { ModelValidator, type ItemRejection } from './events.js';

export interface IngestResult {
  /** Items stored now. */
  accepted: number;
  /** Items whose id was already stored: not stored again (first write wins). */
  duplicates: { index: number; id: string }[];
  /** Items that failed validation, with the field and the reason. */
  rejected: ItemRejection[];
}

export type IngestKind = 'predictions' | 'labels';

/** Told about every stored item (after its transaction committed), e.g. the hot windows. */
export interface IngestListener {
  predictions(model: ModelConfig, records: readonly PredictionRecord[], seqs: readonly number[]): void | Promise<void>;
  labels(model: ModelConfig, records: readonly LabelRecord[]): void | Promise<void>;
}

export interface IngestorDeps {
  store: Store;
  metrics: VigilMetrics;
  logger: Logger;
  clock: Clock;
  config: () => VigilConfig;
  /**
   * A shared store (several replicas): what this process stores reaches its listeners and
   * counters through the Follower (src/ingest/follower.ts), as what the others store does — in the
   * store's order, the same on every replica — not from the request.
   */
  follow?: boolean;
  /** cluster.shard: a model configured in another shard is answered 421 (VIGIL_ERR_MODEL_OTHER_SHARD), not 404. */
  shard?: ModelShard;
}

/** Validates and stores batches of predictions and labels, and counts them. */
export class Ingestor {
  /** Validators per model config object: a reload replaces the objects, so stale ones drop out. */
  private readonly validators = new WeakMap<ModelConfig, ModelValidator>();
  /** The packed form's layout per model config object (the hot-window rebuild reads it, store/packed.ts). */
  private readonly layouts = new WeakMap<ModelConfig, PackLayout>();
  private readonly log: Logger;
  private readonly listeners: IngestListener[] = [];

  constructor(private readonly deps: IngestorDeps) {
    this.log = deps.logger.child({ component: 'ingest' });
  }

  subscribe(listener: IngestListener): void {
    this.listeners.push(listener);
  }

  model(name: string): ModelConfig {
    const cfg = this.deps.config();
    const m = cfg.models.find((x) => x.name === name);
    if (m === undefined) {
      throw this.deps.shard?.misdirected(cfg, name) ?? new VigilError('VIGIL_ERR_MODEL_UNKNOWN', `unknown model "${name}": it is not in the configuration`, { statusCode: 404 });
    }
    return m;
  }

  private validator(m: ModelConfig): ModelValidator {
    let v = this.validators.get(m);
    if (v === undefined) {
      v = new ModelValidator(m);
      this.validators.set(m, v);
    }
    return v;
  }

  private layout(m: ModelConfig): PackLayout {
    let l = this.layouts.get(m);
    if (l === undefined) {
      l = modelLayout(m);
      this.layouts.set(m, l);
    }
    return l;
  }

  async ingest(kind: IngestKind, modelName: string, items: readonly unknown[]): Promise<IngestResult> {
    const model = this.model(modelName);
    const cfg = this.deps.config();
    const now = this.deps.clock.now();
    const ctx = { now, maxFutureSkewMs: cfg.server.max_future_skew };
    const v = this.validator(model);
    const batch = kind === 'predictions' ? v.predictions(items, ctx) : v.labels(items, ctx);
    const written =
      kind === 'predictions'
        ? await this.deps.store.insertPredictions(model.name, batch.records as PredictionRecord[], now, this.layout(model))
        : await this.deps.store.insertLabels(model.name, batch.records as LabelRecord[], now);

    const duplicates = written.duplicates.map((i) => ({ index: batch.indexes[i] as number, id: (batch.records[i] as { id: string }).id }));
    const m = this.deps.metrics;
    if (this.deps.follow !== true) {
      if (written.inserted > 0) await this.notify(kind, model, batch.records, written.seqs);
      if (kind === 'predictions') this.countPredictions(model.name, batch.records as PredictionRecord[], new Set(written.duplicates));
      else if (written.inserted > 0) m.labels.inc({ model: model.name }, written.inserted);
    }
    if (batch.rejected.length > 0) {
      m.rejected.inc({ model: model.name, kind }, batch.rejected.length);
      this.log.debug({ model: model.name, kind, rejected: batch.rejected.length, first: batch.rejected[0] }, 'items rejected');
    }
    if (duplicates.length > 0) m.duplicates.inc({ model: model.name, kind }, duplicates.length);
    return { accepted: written.inserted, duplicates, rejected: batch.rejected };
  }

  /**
   * Rows the Follower read from a shared store (any replica stored them), in the store's order:
   * told to the listeners and counted as this process's own ingestion is when it does not follow.
   * Rows of models not in the configuration are skipped.
   */
  async deliver(kind: IngestKind, rows: readonly (FollowedPrediction | FollowedLabel)[]): Promise<void> {
    const models = new Map(this.deps.config().models.map((m) => [m.name, m]));
    for (let i = 0; i < rows.length; ) {
      const name = (rows[i] as FollowedPrediction | FollowedLabel).model;
      let j = i;
      while (j < rows.length && (rows[j] as FollowedPrediction | FollowedLabel).model === name) j++;
      const run = rows.slice(i, j);
      i = j;
      const model = models.get(name);
      if (model === undefined) continue;
      const records = run.map((r) => r.record);
      await this.notify(kind, model, records, run.map((r) => r.seq));
      if (kind === 'predictions') this.countPredictions(name, records as PredictionRecord[], new Set());
      else this.deps.metrics.labels.inc({ model: name }, records.length);
    }
  }

  private async notify(kind: IngestKind, model: ModelConfig, records: readonly unknown[], seqs: readonly number[]): Promise<void> {
    const stored = records.filter((_, i) => (seqs[i] as number) >= 0);
    const storedSeqs = seqs.filter((s) => s >= 0);
    for (const l of this.listeners) {
      try {
        if (kind === 'predictions') await l.predictions(model, stored as PredictionRecord[], storedSeqs);
        else await l.labels(model, stored as LabelRecord[]);
      } catch (e) {
        // The write is committed; a listener failing must not fail the request.
        this.log.error({ model: model.name, kind, err: (e as Error).message }, 'ingest listener failed');
      }
    }
  }

  private countPredictions(model: string, records: readonly PredictionRecord[], skip: ReadonlySet<number>): void {
    const m = this.deps.metrics;
    const perVersion = new Map<string, number>();
    // the histogram's child per version, looked up once a batch (its labels hashed once, not per row)
    const latency = new Map<string, { observe(v: number): void }>();
    for (let i = 0; i < records.length; i++) {
      if (skip.has(i)) continue;
      const r = records[i] as PredictionRecord;
      perVersion.set(r.version, (perVersion.get(r.version) ?? 0) + 1);
      if (r.latencyMs !== null) {
        const tp = r.traceparent;
        if (tp !== undefined && tp !== null) {
          // the serving request's trace as the exemplar of its bucket (OpenMetrics: Grafana links the
          // point to the trace); prom-client types exemplar labels as the metric's own label names
          const exemplarLabels = { trace_id: tp.slice(3, 35), span_id: tp.slice(36, 52) } as unknown as Record<'model' | 'version', string>;
          m.latency.observe({ labels: { model, version: r.version }, value: r.latencyMs / 1000, exemplarLabels });
        } else {
          let child = latency.get(r.version);
          if (child === undefined) {
            child = m.latency.labels({ model, version: r.version });
            latency.set(r.version, child);
          }
          child.observe(r.latencyMs / 1000);
        }
      }
      if (r.error !== null) m.predictionErrors.inc({ model, version: r.version });
    }
    for (const [version, n] of perVersion) m.predictions.inc({ model, version }, n);
  }
}
