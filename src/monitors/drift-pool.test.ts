import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import type { Sample } from '../metrics/snapshot.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { driftMonitor, startDrift } from './drift.js';
import { locateDriftWorker } from './drift-pool.js';
import { MonitorEngine } from './engine.js';
import { testDaemon } from '../../test/harness.js';
import { CONFIG, H, NOW, capture, key, setup } from '../../test/cycle-fixture.js';
import { Scratch } from './scratch.js';
import type { WindowView } from './view.js';

describe('drift on two threads', () => {
  let dir: string;
  let config: VigilConfig;
  let store: SqliteStore;
  let reference: string[];

  beforeAll(async () => {
    expect(locateDriftWorker(), 'the built worker (npm run build)').not.toBeNull();
    dir = mkdtempSync(join(tmpdir(), 'vigil-drift-pool-'));
    config = parseConfigText(CONFIG, 'test.yaml', {});
    store = await setup(dir, config);
    const single = new MonitorEngine({ store, logger: capture().logger, driftWorker: false });
    reference = key(await single.compute(config, NOW));
    await single.close();
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the reference covers drifted and stable features, NaN-bearing ones, and every model', () => {
    const detected = reference.filter((l) => l.startsWith('ml_feature_drift_detected'));
    expect(detected.some((l) => / 1 /.test(l))).toBe(true);
    expect(detected.some((l) => / 0 /.test(l))).toBe(true);
    for (const m of ['fraud', 'eta', 'kind']) expect(reference.some((l) => l.startsWith('ml_features_drifted') && l.includes(`"${m}"`))).toBe(true);
    expect(reference.some((l) => l.includes('"feature":"country"'))).toBe(true);
  });

  it('computes samples identical to the single-threaded ones, with the worker doing part of the work', async () => {
    const { logger, lines } = capture();
    const engine = new MonitorEngine({ store, logger, driftWorker: { minWork: 0 } });
    try {
      for (let i = 0; i < 3; i++) expect(key(await engine.compute(config, NOW))).toEqual(reference);
      expect(engine.driftPool?.started).toBe(1);
      expect(engine.driftPool?.offloaded).toBeGreaterThan(0);
      expect(lines.join('')).not.toMatch(/drift worker/);
    } finally {
      await engine.close();
    }
  });

  it('startDrift (offloaded or not) emits exactly what driftMonitor emits', async () => {
    const engine = new MonitorEngine({ store, logger: capture().logger, driftWorker: { minWork: 0 } });
    try {
      await engine.compute(config, NOW); // loads windows and baselines
      for (const m of config.models) {
        const w = engine.window(m.name);
        if (w === undefined) throw new Error('no window');
        const view: WindowView = { model: m, w, window: '24h', rows: w.rows(NOW - 24 * H, NOW), now: NOW, baseline: engine.baselineFor(m.name, 'v1'), baselineFor: (v) => engine.baselineFor(m.name, v), scratch: new Scratch() };
        const a: Sample[] = [];
        driftMonitor(view, (name, labels, value) => a.push({ name, labels, value }));
        for (const pool of [null, engine.driftPool]) {
          const b: Sample[] = [];
          await startDrift(view, pool)?.finish((name, labels, value) => b.push({ name, labels, value }));
          expect(key(b)).toEqual(key(a));
        }
        expect(a.length).toBeGreaterThan(10);
      }
    } finally {
      await engine.close();
    }
  });

  for (const fault of ['throw', 'exit'] as const) {
    it(`a worker that fails (${fault}) falls back to the main thread: same samples, one log line, restarted at the next use`, async () => {
      const { logger, lines } = capture();
      const failures: string[] = [];
      const engine = new MonitorEngine({ store, logger, driftWorker: { minWork: 0 }, onMonitorError: (m) => failures.push(m) });
      const pool = engine.driftPool;
      if (pool === null) throw new Error('no pool');
      try {
        expect(key(await engine.compute(config, NOW))).toEqual(reference);
        pool.faultNext = fault;
        expect(key(await engine.compute(config, NOW))).toEqual(reference);
        const logged = lines.filter((l) => l.includes('drift worker failed'));
        expect(logged).toHaveLength(1);
        expect(failures).toEqual([]);
        expect(key(await engine.compute(config, NOW))).toEqual(reference);
        expect(pool.started).toBe(2);
        expect(pool.running).toBe(true);
      } finally {
        await engine.close();
      }
    });
  }

  it('close() terminates the worker; later cycles run on the main thread', async () => {
    const engine = new MonitorEngine({ store, logger: capture().logger, driftWorker: { minWork: 0 } });
    expect(key(await engine.compute(config, NOW))).toEqual(reference);
    const thread = engine.driftPool?.thread;
    if (thread === null || thread === undefined) throw new Error('no worker');
    const exited = new Promise<number>((resolve) => thread.once('exit', resolve));
    await engine.close();
    await exited;
    expect(engine.driftPool?.running).toBe(false);
    expect(key(await engine.compute(config, NOW))).toEqual(reference);
    expect(engine.driftPool?.started).toBe(1);
  });

  it('small windows stay on the main thread (no worker)', async () => {
    const engine = new MonitorEngine({ store, logger: capture().logger });
    try {
      expect(key(await engine.compute(config, NOW))).toEqual(reference);
      expect(engine.driftPool?.started).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('the worker does not keep a process alive', () => {
    // SciPy's exact KS p-values: features slow enough that the worker, started by this job, takes some
    const SCIPY_KS = CONFIG.replace('drift: { numeric_tests: [ks, psi, jsd, wasserstein] }', 'drift: { numeric_tests: [ks, psi, jsd, wasserstein], ks_method: scipy }');
    expect(SCIPY_KS).not.toBe(CONFIG);
    const worker = locateDriftWorker() as string;
    const dist = join(worker, '..', '..', '..');
    const script = `
      import { MonitorEngine } from ${JSON.stringify(join(dist, 'src/monitors/engine.js'))};
      import { SqliteStore } from ${JSON.stringify(join(dist, 'src/store/sqlite/sqlite-store.js'))};
      import { createLogger } from ${JSON.stringify(join(dist, 'src/core/logger.js'))};
      import { parseConfigText } from ${JSON.stringify(join(dist, 'src/config/load.js'))};
      const config = parseConfigText(${JSON.stringify(SCIPY_KS)}, 'x.yaml', {});
      const store = new SqliteStore({ path: ${JSON.stringify(join(dir, 'v.db'))}, now: ${NOW} });
      const engine = new MonitorEngine({ store, logger: createLogger({ level: 'warn', destination: process.stderr }), driftWorker: { minWork: 0 } });
      const s = await engine.compute(config, ${NOW});
      console.log(engine.driftPool.running, engine.driftPool.offloaded > 0, s.length);
    `;
    // a process the worker kept alive never exits: the timeout is that failure, generous for a loaded machine
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    expect(out.trim()).toBe(`true true ${reference.length}`);
  }, 90_000);
});

describe('a worker that cannot run', () => {
  it('is given up after three failures in a row; drift stays exact on the main thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-drift-pool-bad-'));
    const config = parseConfigText(CONFIG, 'test.yaml', {});
    const store = await setup(dir, config);
    try {
      const single = new MonitorEngine({ store, logger: capture().logger, driftWorker: false });
      const reference = key(await single.compute(config, NOW));
      const { logger, lines } = capture();
      const engine = new MonitorEngine({ store, logger, driftWorker: { minWork: 0, workerFile: join(dir, 'missing-worker.js') } });
      for (let i = 0; i < 5; i++) expect(key(await engine.compute(config, NOW))).toEqual(reference);
      expect(engine.driftPool?.started).toBe(3);
      expect(lines.filter((l) => l.includes('drift worker failed'))).toHaveLength(3);
      expect(lines.filter((l) => l.includes('from now on'))).toHaveLength(1);
      await engine.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('daemon shutdown', () => {
  it('stop() closes the drift worker', async () => {
    const t = await testDaemon();
    const pool = t.daemon.engine.driftPool;
    expect(pool?.isClosed).toBe(false);
    await t.daemon.stop('test');
    expect(pool?.isClosed).toBe(true);
    expect(pool?.running).toBe(false);
    await t.close();
  });
});
