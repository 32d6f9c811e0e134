import { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { MetricsRegistry, createMetrics } from '../../src/metrics/registry.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { ModelSchema, type ModelConfig } from '../../src/config/schema.js';
import { ModelValidator } from '../../src/ingest/events.js';
import type { IngestKind, IngestResult } from '../../src/ingest/ingestor.js';
import type { SampleCatalog } from '../../src/ingest/sources/common.js';
import { SourceRunner, type RunnableSource, type SourceMetrics } from '../../src/ingest/sources/runner.js';
import type { SourceContext } from '../../src/ingest/sources/source.js';

/** Test helpers for the sources (used by the *.test.ts files beside them; not used by the daemon). */

/** Snapshot families the source tests use, with their labels (mirrors the catalog entries the sources need). */
export const TEST_CATALOG: SampleCatalog = (name) =>
  (
    ({
      ml_model_info: ['model', 'version', 'stage'],
      feast_feature_freshness_seconds: ['feature_view', 'project'],
      feast_feature_completeness_ratio: ['feature_view', 'project'],
      ml_prediction_latency_p95_seconds: ['model'],
      ml_feature_freshness_seconds: ['model', 'feature'],
      ml_business_value: ['model'],
    }) as Record<string, readonly string[]>
  )[name];

export interface Ingested {
  kind: IngestKind;
  model: string;
  items: unknown[];
}

/** An ingest function recording what it got; items with `reject: true` … are rejected by `rejectIf`. */
export function recordingIngest(rejectIf: (item: unknown) => string | undefined = () => undefined) {
  const calls: Ingested[] = [];
  const ingest = async (kind: IngestKind, model: string, items: readonly unknown[]): Promise<IngestResult> => {
    calls.push({ kind, model, items: [...items] });
    const rejected = items.flatMap((item, index) => {
      const reason = rejectIf(item);
      return reason === undefined ? [] : [{ index, field: '', reason }];
    });
    return { accepted: items.length - rejected.length, duplicates: [], rejected };
  };
  return { calls, ingest, items: () => calls.flatMap((c) => c.items) };
}

/**
 * An ingest function that validates with the real ModelValidator (what the HTTP API and the
 * Ingestor use) and records the accepted records and the rejections, without a store.
 */
export function validatingIngest(models: unknown[], now = Date.UTC(2026, 10, 1, 12)) {
  const configs = new Map<string, ModelConfig>(models.map((m) => ModelSchema.parse(m)).map((m) => [m.name, m]));
  const accepted: unknown[] = [];
  const rejected: { index: number; field: string; reason: string }[] = [];
  const ingest = async (kind: IngestKind, model: string, items: readonly unknown[]): Promise<IngestResult> => {
    const cfg = configs.get(model);
    if (cfg === undefined) throw new Error(`unknown model "${model}"`);
    const v = new ModelValidator(cfg);
    const ctx = { now, maxFutureSkewMs: 3_600_000 };
    const batch = kind === 'predictions' ? v.predictions(items, ctx) : v.labels(items, ctx);
    accepted.push(...batch.records);
    rejected.push(...batch.rejected);
    return { accepted: batch.records.length, duplicates: [], rejected: batch.rejected };
  };
  return { ingest, accepted, rejected };
}

export function memoryLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
  return { logger, logs };
}

/** A SourceContext for calling collect() directly. */
export function testContext(opts: { now?: number; timeoutMs?: number; state?: Map<string, string>; ingest?: SourceContext['ingest'] } = {}) {
  const rec = recordingIngest();
  const state = opts.state ?? new Map<string, string>();
  const { logger, logs } = memoryLogger();
  const ctx: SourceContext = {
    now: opts.now ?? Date.UTC(2026, 10, 1, 12),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    logger,
    ingest: opts.ingest ?? rec.ingest,
    getState: async (k) => state.get(k),
    setState: async (k, v) => void state.set(k, v),
  };
  return { ctx, rec, state, logs };
}

/** SourceMetrics recording into plain maps. */
export function recordingMetrics() {
  const m = {
    errors: new Map<string, number>(),
    up: new Map<string, number>(),
    lastSuccess: new Map<string, number>(),
    duration: new Map<string, number>(),
    forgotten: [] as string[],
  };
  const metrics: SourceMetrics = {
    errors: (s) => void m.errors.set(s, (m.errors.get(s) ?? 0) + 1),
    up: (s, ok) => void m.up.set(s, ok ? 1 : 0),
    lastSuccess: (s, ts) => void m.lastSuccess.set(s, ts),
    duration: (s, sec) => void m.duration.set(s, sec),
    forget: (s) => {
      m.forgotten.push(s);
      m.errors.delete(s);
      m.up.delete(s);
      m.lastSuccess.delete(s);
    },
  };
  return { m, metrics };
}

/** A SourceRunner on a real Scheduler (never started: runs come from explicit triggers). */
export function testRunner(sources: RunnableSource[], opts: { clock?: Clock; catalog?: SampleCatalog } = {}) {
  const { logger, logs } = memoryLogger();
  const clock = opts.clock ?? systemClock;
  const scheduler = new Scheduler({ logger, metrics: createMetrics(new MetricsRegistry(), { version: 'test' }), clock });
  const { m, metrics } = recordingMetrics();
  const rec = recordingIngest();
  const state = new Map<string, string>();
  const runner = new SourceRunner({
    sources,
    scheduler,
    logger,
    clock,
    metrics,
    ingest: rec.ingest,
    state: { get: async (k) => state.get(k), set: async (k, v) => void state.set(k, v) },
    catalog: opts.catalog ?? TEST_CATALOG,
  });
  return { runner, scheduler, m, rec, state, logs };
}

export const settings = (o: Partial<RunnableSource['settings']> = {}): RunnableSource['settings'] => ({
  schedule: { everyMs: 3_600_000 },
  timeoutMs: 2_000,
  retries: 2,
  retryBackoffMs: 10,
  ...o,
});
