import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { failingStore } from '../../test/failing-store.js';
import { ManualClock } from '../../test/harness.js';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import { createMetrics, MetricsRegistry } from '../metrics/registry.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { LabelRecord, PredictionRecord, Store } from '../store/store.js';
import { Follower } from './follower.js';
import { Ingestor } from './ingestor.js';

const T0 = Date.UTC(2026, 11, 6);
const config = parseConfigText('models:\n  - { name: m, task: binary, positive_class: "1", windows: [1h], features: [{ name: x, type: numeric }] }\nrule_files: []\nalerting: { bundled_rules: false }\n', 'v.yaml', {});

function setup(store: Store = new SqliteStore({ path: ':memory:', now: T0 })) {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
  const metrics = createMetrics(new MetricsRegistry(), { version: 'test' });
  const ingestor = new Ingestor({ store, metrics, logger, clock: new ManualClock(T0), config: () => config, follow: true });
  const seen: string[] = [];
  ingestor.subscribe({
    predictions: (m: ModelConfig, records: readonly PredictionRecord[], seqs: readonly number[]) => void seen.push(...records.map((r, i) => `P ${m.name} ${r.id} #${seqs[i]}`)),
    labels: (m: ModelConfig, records: readonly LabelRecord[]) => void seen.push(...records.map((r) => `L ${m.name} ${r.id}`)),
  });
  return { store, ingestor, metrics, logs, seen, follower: new Follower({ store, ingestor, logger, pageRows: 2 }) };
}

const pred = (id: string): unknown => ({ id, ts: T0 - 1000, model_version: 'v1', prediction: 1, features: { x: 1 } });

describe('Follower', () => {
  it("delivers every stored row once, in the store's order, a page at a time: predictions before the labels read with them; other models' rows skipped", async () => {
    const { store, ingestor, follower, seen } = setup();
    // following: ingestion itself tells no listener
    await ingestor.ingest('predictions', 'm', [pred('a'), pred('b'), pred('c')]);
    await store.insertPredictions('gone', [{ id: 'z', ts: T0, version: 'v1', features: {}, prediction: 1, score: null, latencyMs: null, segment: null, error: null }], T0);
    await ingestor.ingest('labels', 'm', [{ id: 'a', label: 1 }]);
    await ingestor.ingest('predictions', 'm', [pred('d'), pred('e')]);
    expect(seen).toEqual([]);
    expect(await follower.poll()).toBe(7);
    expect(seen).toEqual(['P m a #1', 'P m b #2', 'P m c #3', 'P m d #5', 'P m e #6', 'L m a']);
    expect(follower.position()).toEqual({ predictions: 6, labels: 1 });
    expect(await follower.poll()).toBe(0);
    await ingestor.ingest('labels', 'm', [{ id: 'e', label: 0 }]);
    expect(await follower.poll()).toBe(1);
    expect(seen.slice(6)).toEqual(['L m e']);
  });

  it('tells, per batch of rows delivered, how long ago a replica stored it (vigil_follower_lag_seconds)', async () => {
    const { store, ingestor, logs } = setup();
    const lags: number[] = [];
    let now = T0;
    const follower = new Follower({ store, ingestor, logger: createLogger({ level: 'silent' }), lag: (s) => lags.push(s), now: () => now });
    // the ingestor's clock says T0: stored at T0
    await ingestor.ingest('predictions', 'm', [pred('a'), pred('b')]);
    await ingestor.ingest('labels', 'm', [{ id: 'a', label: 1 }]);
    now = T0 + 1500;
    expect(await follower.poll()).toBe(3);
    // the two predictions were one batch; the label another
    expect(lags).toEqual([1.5, 1.5]);
    expect(logs).toEqual([]);
  });

  it('counts what it delivers as ingestion counts it (ml_predictions_total, ml_labels_total)', async () => {
    const { ingestor, follower, metrics } = setup();
    await ingestor.ingest('predictions', 'm', [pred('a'), pred('b')]);
    await ingestor.ingest('labels', 'm', [{ id: 'a', label: 1 }]);
    expect((await metrics.predictions.get()).values).toEqual([]);
    await follower.poll();
    expect((await metrics.predictions.get()).values.map((v) => [v.labels, v.value])).toEqual([[{ model: 'm', version: 'v1' }, 2]]);
    expect((await metrics.labels.get()).values.map((v) => v.value)).toEqual([1]);
  });

  it('a store that does not answer: the pass delivers nothing, says so once, and the next pass takes everything from where it was', async () => {
    let down = true;
    const real = new SqliteStore({ path: ':memory:', now: T0 });
    const { ingestor, follower, seen, logs } = setup(failingStore(real, 'followPredictions', 'connection refused', () => down));
    await ingestor.ingest('predictions', 'm', [pred('a')]);
    await ingestor.ingest('labels', 'm', [{ id: 'a', label: 1 }]);
    expect(await follower.poll()).toBe(0);
    expect(await follower.poll()).toBe(0);
    expect(seen).toEqual([]);
    expect(follower.position()).toEqual({ predictions: 0, labels: 0 });
    expect(logs.filter((l) => l.includes('cannot follow the store'))).toHaveLength(1);
    down = false;
    expect(await follower.poll()).toBe(2);
    expect(seen).toEqual(['P m a #1', 'L m a']);
    expect(logs.filter((l) => l.includes('following the store again'))).toHaveLength(1);
  });
});
