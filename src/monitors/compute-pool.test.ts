import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilConfig } from '../config/schema.js';
import type { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { LabelRecord, PredictionRecord } from '../store/store.js';
import { capture, fixtureConfig, H, key, NOW, setup } from '../../test/cycle-fixture.js';
import { testDaemon } from '../../test/harness.js';
import { defaultComputeWorkers, locateComputeWorker } from './compute-pool.js';
import { MonitorEngine } from './engine.js';

describe('the cycle in compute workers', () => {
  let dir: string;
  let config: VigilConfig;
  let store: SqliteStore;
  let reference: string[];

  beforeAll(async () => {
    expect(locateComputeWorker(), 'the built worker (npm run build)').not.toBeNull();
    dir = mkdtempSync(join(tmpdir(), 'vigil-compute-pool-'));
    config = fixtureConfig();
    store = await setup(dir, config);
    const main = new MonitorEngine({ store, logger: capture().logger, driftWorker: false });
    reference = key(await main.compute(config, NOW));
    await main.close();
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('computes exactly the samples of the main thread, every model in a worker', async () => {
    expect(reference.filter((l) => l.startsWith('ml_feature_drift_detected')).length).toBeGreaterThan(20);
    const { logger, lines } = capture();
    const engine = new MonitorEngine({ store, logger, compute: { size: 2 } });
    try {
      for (let i = 0; i < 3; i++) expect(key(await engine.compute(config, NOW))).toEqual(reference);
      const pool = engine.computePool;
      expect(pool?.counts).toEqual({ jobs: 9, started: 2, handedBack: 0 });
      expect(engine.driftPool?.started).toBe(0); // nothing of the cycle on the main thread
      expect(lines.join('')).not.toMatch(/compute worker|monitor failed/);
    } finally {
      await engine.close();
    }
  });

  it('sizes itself to the machine: one worker per core but the main thread\'s, at least one', () => {
    const engine = new MonitorEngine({ store, logger: capture().logger, compute: {} });
    expect(engine.computePool?.size).toBe(defaultComputeWorkers());
    expect(defaultComputeWorkers()).toBeGreaterThanOrEqual(1);
    void engine.close();
  });

  it('what ingestion brings while a worker computes is not in that cycle, and is in the next', async () => {
    const engine = new MonitorEngine({ store, logger: capture().logger, compute: { size: 1 } });
    const fresh = fixtureConfig();
    try {
      await engine.compute(config, NOW); // windows loaded
      const m = config.models[0] as VigilConfig['models'][number];
      const w = engine.window(m.name);
      if (w === undefined) throw new Error('no window');
      // unlabelled rows of the window get labels; new predictions arrive
      const unlabelled: number[] = [];
      for (let i = 0; i < w.n && unlabelled.length < 500; i++) if (Number.isNaN(w.label[i] as number)) unlabelled.push(i);
      const labels: LabelRecord[] = unlabelled.map((i) => ({ id: `${m.name}-${Math.round(((w.ts[i] as number) - (NOW - 20 * H)) / ((20 * H) / 10_000))}`, ts: NOW - 1000, label: '1' }));
      const stored = await store.insertLabels(m.name, labels, NOW);
      expect(stored.inserted).toBe(labels.length);
      const preds: PredictionRecord[] = Array.from({ length: 200 }, (_, k) => ({ id: `late-${k}`, ts: NOW - 1000, version: 'v1', features: {}, prediction: '1', score: 0.9, latencyMs: 1, segment: null, error: null }));
      const written = await store.insertPredictions(m.name, preds, NOW);
      // once the model's job is handed to the worker: the labels and predictions reach the engine
      const pool = engine.computePool as NonNullable<MonitorEngine['computePool']>;
      const run = pool.run.bind(pool);
      let handed = (): void => undefined;
      const handedOver = new Promise<void>((resolve) => (handed = resolve));
      pool.run = (job) => {
        const answer = run(job);
        if (job.model.name === m.name) handed();
        return answer;
      };
      const cycle = engine.compute(config, NOW);
      await handedOver;
      await engine.labels(m, labels);
      engine.predictions(m, preds, written.seqs);
      expect(key(await cycle)).toEqual(reference);
      // the next cycle sees them, as a fresh engine reading the store does
      const next = key(await engine.compute(config, NOW));
      expect(next).not.toEqual(reference);
      const main = new MonitorEngine({ store, logger: capture().logger, driftWorker: false });
      expect(next).toEqual(key(await main.compute(fresh, NOW)));
      await main.close();
    } finally {
      await engine.close();
      // leave the store as the other tests expect it
      const db = (store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db;
      db.prepare("DELETE FROM predictions WHERE id LIKE 'late-%'").run();
      db.prepare('DELETE FROM labels WHERE ts = ?').run(NOW - 1000);
    }
  });

  for (const fault of ['throw', 'exit'] as const) {
    it(`a worker that fails (${fault}) hands its model back to the main thread: same samples, one log line, a new worker at the next cycle`, async () => {
      const { logger, lines } = capture();
      const failures: string[] = [];
      const engine = new MonitorEngine({ store, logger, compute: { size: 1 }, onMonitorError: (m) => failures.push(m) });
      const pool = engine.computePool;
      if (pool === null) throw new Error('no pool');
      try {
        expect(key(await engine.compute(config, NOW))).toEqual(reference);
        pool.faultNext = fault;
        expect(key(await engine.compute(config, NOW))).toEqual(reference);
        expect(lines.filter((l) => l.includes('compute worker failed'))).toHaveLength(1);
        expect(pool.counts.handedBack).toBeGreaterThanOrEqual(1);
        expect(failures).toEqual([]);
        expect(key(await engine.compute(config, NOW))).toEqual(reference);
        expect(pool.counts.started).toBe(2);
        expect(pool.running).toBe(1);
      } finally {
        await engine.close();
      }
    });
  }

  it('a worker that cannot run is given up after three failures in a row; the cycle stays exact on the main thread', async () => {
    const { logger, lines } = capture();
    const engine = new MonitorEngine({ store, logger, compute: { size: 1, workerFile: join(dir, 'missing-worker.js') } });
    try {
      for (let i = 0; i < 5; i++) expect(key(await engine.compute(config, NOW))).toEqual(reference);
      expect(engine.computePool?.counts.started).toBe(3);
      expect(engine.computePool?.usable).toBe(false);
      expect(lines.filter((l) => l.includes('compute worker failed'))).toHaveLength(3);
      expect(lines.filter((l) => l.includes('from now on'))).toHaveLength(1);
    } finally {
      await engine.close();
    }
  });

  it('a job the worker cannot compute (a baseline it does not hold) is computed on the main thread', async () => {
    const failures: string[] = [];
    const { logger, lines } = capture();
    const engine = new MonitorEngine({ store, logger, compute: { size: 1 }, onMonitorError: (m) => failures.push(m) });
    try {
      await engine.compute(config, NOW);
      const pool = engine.computePool as NonNullable<MonitorEngine['computePool']>;
      // the worker forgets every baseline, the pool still believes it holds them
      (pool as unknown as { slots: { worker: { postMessage(m: unknown): void } }[] }).slots[0]?.worker.postMessage({ type: 'retain', keys: [] });
      expect(key(await engine.compute(config, NOW))).toEqual(reference); // the jobs failed there, computed here
      expect(lines.filter((l) => l.includes('compute worker failed on a job'))).not.toHaveLength(0);
      expect(failures).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});

describe('daemon', () => {
  it('computes its cycles in compute workers (compute_workers), closed at stop()', async () => {
    const t = await testDaemon();
    const pool = t.daemon.engine.computePool;
    expect(pool).not.toBeNull();
    expect(pool?.size).toBe(defaultComputeWorkers());
    await t.daemon.stop('test');
    expect(pool?.usable).toBe(false);
    expect(pool?.running).toBe(0);
    await t.close();
  });
});
