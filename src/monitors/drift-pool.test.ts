import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 as rng } from '../core/random.js';
import { parseConfigText } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import type { Sample } from '../metrics/snapshot.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../store/store.js';
import { buildBaseline, storeBaseline, type BaselineRow } from './baseline.js';
import { driftMonitor, startDrift } from './drift.js';
import { locateDriftWorker } from './drift-pool.js';
import { MonitorEngine } from './engine.js';
import { testDaemon } from '../../test/harness.js';
import { Scratch } from './scratch.js';
import type { WindowView } from './view.js';

const NOW = Date.UTC(2026, 10, 1, 12);
const H = 3_600_000;
const ROWS = 10_000;

const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: '1'
    windows: [1h, 24h]
    min_samples: 50
    features:
${Array.from({ length: 14 }, (_, i) => `      - { name: n${i}, type: numeric }`).join('\n')}
      - { name: country, type: categorical }
      - { name: device, type: categorical }
  - name: eta
    task: regression
    windows: [24h]
    min_samples: 50
    drift: { numeric_tests: [ks, psi, jsd, wasserstein] }
    features:
${Array.from({ length: 10 }, (_, i) => `      - { name: k${i}, type: numeric }`).join('\n')}
  - name: kind
    task: multiclass
    classes: [a, b, c]
    windows: [1h]
    min_samples: 50
    features:
${Array.from({ length: 9 }, (_, i) => `      - { name: x${i}, type: numeric }`).join('\n')}
      - { name: shop, type: categorical }
`;

/** A value for a numeric feature: some NaN (missing), ±Infinity, ties; drifted on some features. */
function numeric(r: () => number, k: number, current: boolean): number | null {
  const u = r();
  if (u < 0.03) return null;
  if (k % 5 === 3 && u < 0.05) return Number.NaN;
  if (k % 6 === 1 && u < 0.055) return u < 0.052 ? Infinity : -Infinity;
  const z = Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  const shift = current && k % 3 === 0 ? 0.25 * (k + 1) : 0;
  const x = z * (k + 1) + shift;
  return k % 4 === 2 ? Math.round(x) : x; // ties
}

const CATS = ['fr', 'de', 'it', 'es', 'pl'];

function row(m: VigilConfig['models'][number], r: () => number, current: boolean): Record<string, number | string | null> {
  const f: Record<string, number | string | null> = {};
  m.features.forEach((feat, k) => {
    if (feat.type === 'numeric') f[feat.name] = numeric(r, k, current);
    else {
      const u = r();
      f[feat.name] = u < 0.02 ? null : (CATS[Math.floor((current && feat.name === 'country' ? u * u : u) * CATS.length)] as string);
    }
  });
  return f;
}

const target = (m: VigilConfig['models'][number], r: () => number): string | number =>
  m.task === 'regression' ? r() * 100 : m.task === 'binary' ? (r() < 0.3 ? '1' : '0') : (['a', 'b', 'c'][Math.floor(r() * 3)] as string);

async function setup(dir: string, config: VigilConfig): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(dir, 'v.db'), now: NOW });
  const r = rng(7);
  for (const m of config.models) {
    const ref: BaselineRow[] = [];
    for (let i = 0; i < 6000; i++) {
      const y = target(m, r);
      ref.push({ features: row(m, r, false), prediction: target(m, r), score: r(), label: y });
    }
    await storeBaseline(store, { model: m.name, version: 'v1', createdAt: NOW - 48 * H, source: 'test' }, buildBaseline(m, ref));
    const recs: PredictionRecord[] = [];
    for (let i = 0; i < ROWS; i++) {
      recs.push({
        id: `${m.name}-${i}`,
        ts: NOW - 20 * H + Math.floor((i * 20 * H) / ROWS),
        version: 'v1',
        features: row(m, r, true) as PredictionRecord['features'],
        prediction: target(m, r),
        score: m.task === 'binary' ? r() : null,
        latencyMs: r() * 40,
        segment: null,
        error: null,
      });
    }
    await store.insertPredictions(m.name, recs, NOW);
    const labels = recs.filter(() => r() < 0.7).map((p) => ({ id: p.id, ts: p.ts + 1000, label: target(m, r) }));
    await store.insertLabels(m.name, labels, NOW);
  }
  return store;
}

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write: (c: Buffer, _e, cb) => {
        lines.push(c.toString());
        cb();
      },
    }),
  });
  return { lines, logger };
}

/** Samples as comparable text: every number bit for bit (NaN and -0 included). */
const key = (samples: readonly Sample[]): string[] =>
  samples.map((s) => `${s.name}${JSON.stringify(s.labels)} ${Object.is(s.value, -0) ? '-0' : String(s.value)} ${Buffer.from(new Float64Array([s.value]).buffer).toString('hex')}`);

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
