import { failingStore } from '../../test/failing-store.js';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import type { Sample } from '../metrics/snapshot.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { PredictionRecord, Store } from '../store/store.js';
import { SloTracker } from './tracker.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 12);
const logger = createLogger({ level: 'silent' });

const CONFIG = `models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h]
    features: [{ name: x, type: numeric }]
slos:
  - { name: availability, model: fraud, objective: 99, sli: { type: errors } }
  - { name: latency, model: fraud, objective: 90, period: 28d, sli: { type: latency, threshold: 100ms } }
  - { name: correct, model: fraud, objective: 80, sli: { type: correctness } }
  - { name: accuracy, model: fraud, objective: 95, sli: { type: quality, metric: accuracy, window: 1h, min: 0.9 } }
  - { name: fresh, model: fraud, objective: 99.9, sli: { type: freshness, max_age: 5m } }
`;

const pred = (id: string, over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  id,
  ts: T0,
  version: 'v1',
  features: { x: 1 },
  prediction: 1,
  score: 0.9,
  latencyMs: 50,
  segment: null,
  error: null,
  ...over,
});

function setup(store: Store, now: { t: number }) {
  const config = parseConfigText(CONFIG, 'vigil.yaml', {});
  const tracker = new SloTracker({ store, logger, clock: { now: () => now.t }, config: () => config });
  return { config, tracker, model: config.models[0] as VigilConfig['models'][number] };
}

const series = (samples: Sample[], name: string) =>
  Object.fromEntries(samples.filter((s) => s.name === name).map((s) => [s.labels.sloth_slo + (s.labels.sloth_window ? `/${s.labels.sloth_window}` : ''), s.value]));

describe('SloTracker', () => {
  it('counts each SLI from its events and exports Sloth series computed from the counts', async () => {
    const store = new SqliteStore({ path: ':memory:', now: T0 });
    const now = { t: T0 };
    const { tracker, model } = setup(store, now);
    await tracker.apply(now.t);
    // 10 predictions: 2 serving errors, 3 slower than 100ms, 1 without latency
    tracker.predictions(model, [
      ...Array.from({ length: 5 }, (_, i) => pred(`ok${i}`)),
      pred('e1', { error: 'timeout' }),
      pred('e2', { error: 'oom', latencyMs: null }),
      ...Array.from({ length: 3 }, (_, i) => pred(`slow${i}`, { latencyMs: 150 + i })),
    ]);
    await store.insertPredictions('fraud', [pred('p1', { prediction: 1 }), pred('p2', { prediction: 0 }), pred('p3', { prediction: '1' })], T0);
    await tracker.labels(model, [
      { id: 'p1', ts: T0, label: 1 },
      { id: 'p2', ts: T0, label: 1 },
      { id: 'p3', ts: T0, label: '1' },
      { id: 'unknown', ts: T0, label: 0 }, // no prediction: not counted
    ]);
    // cycles: accuracy above, then below the target; the model's data fresh, then stale (the first cycle weighs evaluation_interval, 30s)
    tracker.observeCycle([{ name: 'ml_model_accuracy', labels: { model: 'fraud', version: 'v1', window: '1h' }, value: 0.95 }, { name: 'ml_prediction_freshness_seconds', labels: { model: 'fraud' }, value: 10 }], now.t);
    now.t += 30_000;
    tracker.observeCycle(
      [
        { name: 'ml_model_accuracy', labels: { model: 'fraud', version: 'v1', window: '1h' }, value: 0.85 },
        { name: 'ml_model_accuracy', labels: { model: 'fraud', version: 'v1', window: '24h' }, value: 0.1 }, // another window
        { name: 'ml_prediction_freshness_seconds', labels: { model: 'fraud' }, value: 400 },
      ],
      now.t,
    );
    const s = tracker.samples(now.t);
    const err = series(s, 'slo:sli_error:ratio_rate5m');
    expect(err).toEqual({ 'availability/5m': 0.2, 'latency/5m': 3 / 9, 'correct/5m': 1 / 3, 'accuracy/5m': 0.5, 'fresh/5m': 30 / (30 + 30) });
    // every window holds the same events; the period too
    expect(Object.values(series(s, 'slo:sli_error:ratio_rate3d'))).toEqual(Object.values(err));
    expect(series(s, 'slo:sli_error:ratio_rate30d')).toEqual({ 'availability/30d': 0.2, 'correct/30d': 1 / 3, 'accuracy/30d': 0.5, 'fresh/30d': 0.5 });
    expect(series(s, 'slo:sli_error:ratio_rate28d')).toEqual({ 'latency/28d': 3 / 9 });
    expect(series(s, 'slo:error_budget:ratio').availability).toBeCloseTo(0.01, 15);
    expect(series(s, 'slo:current_burn_rate:ratio').availability).toBeCloseTo(20, 12);
    expect(series(s, 'slo:period_error_budget_remaining:ratio').availability).toBeCloseTo(1 - 20, 12);
    expect(series(s, 'slo:time_period:days')).toMatchObject({ availability: 30, latency: 28 });
    expect(s.find((x) => x.name === 'sloth_slo_info' && x.labels.sloth_slo === 'latency')?.labels).toEqual({
      sloth_id: 'fraud-latency',
      sloth_service: 'fraud',
      sloth_slo: 'latency',
      sloth_mode: 'vigil',
      sloth_objective: '90',
      sloth_sli: 'latency',
    });
    // 10 minutes later the 5m window is empty: absent, not NaN; the 1h window still has them
    now.t += 10 * MIN;
    const later = tracker.samples(now.t);
    expect(series(later, 'slo:sli_error:ratio_rate5m')).toEqual({});
    expect(series(later, 'slo:current_burn_rate:ratio')).toEqual({});
    expect(series(later, 'slo:sli_error:ratio_rate1h').availability).toBe(undefined);
    expect(series(later, 'slo:sli_error:ratio_rate1h')['availability/1h']).toBe(0.2);
    await store.close();
  });

  it("a segment's SLO counts only that segment's events and reads only its series; the model's SLO never reads a segment's", async () => {
    const store = new SqliteStore({ path: ':memory:', now: T0 });
    const now = { t: T0 };
    const config = parseConfigText(
      `models:
  - { name: fraud, task: binary, positive_class: 1, windows: [1h], segments: { max: 2 }, features: [{ name: x, type: numeric }] }
slos:
  - { name: eu-errors, model: fraud, segment: eu, objective: 99, sli: { type: errors } }
  - { name: eu-correct, model: fraud, segment: eu, objective: 90, sli: { type: correctness } }
  - { name: eu-accuracy, model: fraud, segment: eu, objective: 90, sli: { type: quality, metric: accuracy, window: 1h, min: 0.9 } }
  - { name: accuracy, model: fraud, objective: 90, sli: { type: quality, metric: accuracy, window: 1h, min: 0.9 } }
`,
      'vigil.yaml',
      {},
    );
    const tracker = new SloTracker({ store, logger, clock: { now: () => now.t }, config: () => config });
    const model = config.models[0] as VigilConfig['models'][number];
    await tracker.apply(now.t);
    tracker.predictions(model, [pred('a', { segment: 'eu', error: 'x' }), pred('b', { segment: 'eu' }), pred('c', { segment: 'us', error: 'x' }), pred('d', { error: 'x' })]);
    await store.insertPredictions('fraud', [pred('p1', { segment: 'eu' }), pred('p2', { segment: 'eu', prediction: 0 }), pred('p3', { segment: 'us', prediction: 0 })], T0);
    await tracker.labels(model, [
      { id: 'p1', ts: T0, label: 1 },
      { id: 'p2', ts: T0, label: 1 },
      { id: 'p3', ts: T0, label: 1 },
    ]);
    const acc = (value: number, segment?: string) => ({ name: 'ml_model_accuracy', labels: { model: 'fraud', version: 'v1', window: '1h', ...(segment === undefined ? {} : { segment }) }, value });
    tracker.observeCycle([acc(0.95), acc(0.5, 'eu'), acc(0.99, 'us'), acc(0.1, 'other')], now.t);
    const s = tracker.samples(now.t);
    expect(series(s, 'slo:sli_error:ratio_rate5m')).toEqual({ 'eu-errors/5m': 0.5, 'eu-correct/5m': 0.5, 'eu-accuracy/5m': 1, 'accuracy/5m': 0 });
    // a segment's series carry it (the dashboards' segment variable), the model's do not
    expect(s.find((x) => x.name === 'slo:objective:ratio' && x.labels.sloth_slo === 'eu-errors')?.labels).toEqual({ sloth_id: 'fraud-eu-errors', sloth_service: 'fraud', sloth_slo: 'eu-errors', segment: 'eu' });
    expect(s.find((x) => x.name === 'slo:objective:ratio' && x.labels.sloth_slo === 'accuracy')?.labels.segment).toBeUndefined();
    await store.close();
  });

  it('keeps its counts in the store: a restarted tracker exports the same series; a failed write is retried', async () => {
    const real = new SqliteStore({ path: ':memory:', now: T0 });
    let fail = true;
    const store = failingStore(real, 'addSloMinutes', 'SQLITE_BUSY', () => fail);
    const now = { t: T0 };
    const first = setup(store, now);
    await first.tracker.apply(now.t);
    for (let i = 0; i < 5; i++) {
      first.tracker.predictions(first.model, [pred(`a${i}`), pred(`b${i}`, { error: i % 2 === 0 ? 'x' : null })]);
      await first.tracker.flush(now.t);
      now.t += MIN;
      fail = i < 2; // the first flushes fail: kept, written with a later one
    }
    await first.tracker.flush(now.t);
    const second = setup(real, now);
    await second.tracker.apply(now.t);
    const a = first.tracker.samples(now.t).filter((s) => s.labels.sloth_slo === 'availability');
    expect(second.tracker.samples(now.t).filter((s) => s.labels.sloth_slo === 'availability')).toEqual(a);
    expect(series(a, 'slo:sli_error:ratio_rate1h')['availability/1h']).toBe(3 / 10);
    // flushing twice writes nothing twice
    await first.tracker.flush(now.t);
    expect((await real.readSloMinutes('fraud-availability', 0)).reduce((n, r) => n + r.total, 0)).toBe(10);
    await real.close();
  });

  it('reads the period back per hour and the last 3 days per minute: a restart sees the same windows and period', async () => {
    const store = new SqliteStore({ path: ':memory:', now: T0 });
    const m = Math.floor(T0 / MIN);
    await store.addSloMinutes([
      { slo: 'fraud-availability', minute: m - 10 * 1440, good: 0, total: 10 }, // 10 days ago: the period only
      { slo: 'fraud-availability', minute: m - 4380 - 30, good: 5, total: 10 }, // just past the minute counts
      { slo: 'fraud-availability', minute: m - 4000, good: 10, total: 10 }, // inside 3d
      { slo: 'fraud-availability', minute: m - 31 * 1440, good: 0, total: 1000 }, // before the period
      { slo: 'fraud-availability', minute: m, good: 9, total: 10 },
    ]);
    const { tracker } = setup(store, { t: T0 });
    await tracker.apply(T0);
    const s = tracker.samples(T0).filter((x) => x.labels.sloth_slo === 'availability');
    expect(series(s, 'slo:sli_error:ratio_rate5m')).toEqual({ 'availability/5m': 0.1 });
    expect(series(s, 'slo:sli_error:ratio_rate3d')).toEqual({ 'availability/3d': 1 / 20 });
    expect(series(s, 'slo:sli_error:ratio_rate30d')).toEqual({ 'availability/30d': 16 / 40 });
    await store.close();
  });
});
