import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../src/config/load.js';
import { mulberry32 } from '../src/core/random.js';
import { buildBaseline, storeBaseline, type BaselineRow } from '../src/monitors/baseline.js';
import { modelLayout } from '../src/store/packed.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { LabelRecord, PredictionRecord, Store } from '../src/store/store.js';
import { BENCH_SEGMENTS, benchConfigText, benchPrediction } from './cycle-load.js';
import { median, quantile } from './process.js';

export const MODELS = 8;
export const FEATURES = 70;
export const ROWS = 100_000;
const REFERENCE_ROWS = 20_000;

const mb = (b: number): string => (b / 1024 / 1024).toFixed(0);

/**
 * A store at the cycle bench's load: 8 binary models × 70 numeric features, one 20,000-row
 * baseline each; with `predictions`, also 100,000 predictions per model in the last 100 s before
 * `now` (80 % labelled), as the daemon would have stored them.
 */
export async function fillBenchStore(db: string | Store, now: number, predictions: boolean): Promise<void> {
  const config = parseConfigText(benchConfigText(MODELS, FEATURES), 'bench.yaml', {});
  const store = typeof db === 'string' ? new SqliteStore({ path: db, now }) : db;
  const rnd = mulberry32(3);
  const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
  const live = mulberry32(4); // its own stream: the baselines are the same with or without predictions
  for (const m of config.models) {
    const ref: BaselineRow[] = [];
    for (let i = 0; i < REFERENCE_ROWS; i++) {
      const f: Record<string, number> = {};
      for (let k = 0; k < FEATURES; k++) f[`f${k}`] = normal() * (k + 1);
      const y = rnd() < 0.3 ? '1' : '0';
      ref.push({ features: f, prediction: rnd() < 0.85 ? y : y === '1' ? '0' : '1', score: rnd(), label: y, ...(BENCH_SEGMENTS === undefined ? {} : { segment: `seg-${i % 7}` }) });
    }
    await storeBaseline(store, { model: m.name, version: 'v1', createdAt: now, source: 'bench' }, buildBaseline(m, ref));
    if (!predictions) continue;
    for (let start = 0; start < ROWS; start += 10_000) {
      const batch: PredictionRecord[] = [];
      const labels: LabelRecord[] = [];
      for (let i = start; i < start + 10_000; i++) {
        batch.push(benchPrediction(i, ROWS, FEATURES, now, live));
        if (live() < 0.8) labels.push({ id: `${i}`, ts: now, label: live() < 0.3 ? '1' : '0' });
      }
      await store.insertPredictions(m.name, batch, now, process.env.VIGIL_BENCH_UNPACKED === '1' ? undefined : modelLayout(m));
      await store.insertLabels(m.name, labels, now);
    }
  }
  if (typeof db === 'string') await store.close();
}

/** What the cycle bench's child process (bench/cycle-load.ts) reports. */
interface CycleChildResult {
  times: number[];
  /** the event loop's delay while the cycles ran, ms */
  loopDelay: { p50: number; p99: number; max: number };
  series: number;
  loaded: Record<string, number>;
  afterCycles: Record<string, number>;
  settled: Record<string, number>;
  windowBytes: number;
  referenceBytes: number;
  workerStarted: number;
  offloaded: number;
  computeJobs: number;
  computeWorkers: number;
}

/** The node arguments of the cycle bench's child on the store `db` with `rows` predictions per model. */
const childArgv = (db: string, rows: number, now: number): string[] => [
  '--expose-gc',
  '--max-semi-space-size=16',
  fileURLToPath(new URL('./cycle-load.js', import.meta.url)),
  db,
  String(MODELS),
  String(FEATURES),
  String(rows),
  String(now),
];

/** Runs the cycle bench's child on the store `db` (baselines only) with `rows` predictions per model. */
function cycleChild(db: string, rows: number, now: number, env: NodeJS.ProcessEnv = process.env): CycleChildResult {
  const out = execFileSync(process.execPath, childArgv(db, rows, now), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env, maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop() as string) as CycleChildResult;
}

/** Runs `fn` on a temporary store filled with the bench's baselines only (removed after). */
async function withBaselineStore(fn: (db: string, now: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-cycle-'));
  try {
    const now = Date.now();
    const db = join(dir, 'bench.db');
    await fillBenchStore(db, now, false);
    await fn(db, now);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Window sizes of the sweep: around SciPy's exact-KS limit (10,000) and up to the cycle bench's load. */
const SWEEP_ROWS = [1_000, 5_000, 9_999, 10_000, 50_000, 100_000];

/**
 * The cycle's cost by window size (8 models × 70 features, 10,000-point references): per size, a
 * child process fed that many rows per model runs 3 cycles; printed are the cycle times and how
 * long the event loop waited meanwhile (what a /healthz arriving then would wait). The cost
 * should grow with the size, without a cliff (docs/statistics-drift.md, drift.ks_method).
 */
export async function benchSweep(print: (line: string) => void): Promise<void> {
  await withBaselineStore(async (db, now) => {
    for (const method of process.env.VIGIL_BENCH_KS === 'both' ? ['auto', 'scipy'] : ['auto']) {
      for (const rows of SWEEP_ROWS) {
        const { result: r, healthz } = await cycleChildProbed(db, rows, now, { ...process.env, VIGIL_BENCH_CYCLES: '5', VIGIL_BENCH_KS_METHOD: method, VIGIL_BENCH_HEALTHZ: '1' });
        const h = healthz.length === 0 ? 'no probe answered' : `p50 ${quantile(healthz, 0.5).toFixed(1)} ms, p99 ${quantile(healthz, 0.99).toFixed(0)} ms, max ${Math.max(...healthz).toFixed(0)} ms over ${healthz.length}`;
        print(
          `sweep (ks_method: ${method}): ${MODELS} × ${FEATURES} × ${rows.toLocaleString('en')} rows: cycle median ${median(r.times).toFixed(0)} ms, max ${Math.max(...r.times).toFixed(0)} ms; ` +
            `GET /healthz every 20 ms while cycling ${h} (target p99 < 50, max < 200 ms); event loop delay p99 ${r.loopDelay.p99.toFixed(0)} ms, max ${r.loopDelay.max.toFixed(0)} ms; ` +
            (r.computeWorkers === 0 ? 'on the main thread' : `${r.computeWorkers} compute worker(s)`),
        );
      }
    }
  });
}

/**
 * The cycle bench's child, probed: while its cycles run, GET /healthz on its event loop every
 * ~20 ms from this process (a request's whole time, as a load balancer or Kubernetes sees it).
 */
async function cycleChildProbed(db: string, rows: number, now: number, env: NodeJS.ProcessEnv): Promise<{ result: CycleChildResult; healthz: number[] }> {
  const child = spawn(process.execPath, childArgv(db, rows, now), { stdio: ['ignore', 'pipe', 'inherit'], env });
  const healthz: number[] = [];
  let url: string | null = null;
  let cycling = false;
  let result: CycleChildResult | null = null;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const probe = (u: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      get(u, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - t0));
      }).on('error', reject);
    });
  let probing: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    while (url !== null && result === null) {
      const ms = await probe(url).catch(() => NaN);
      if (cycling && Number.isFinite(ms)) healthz.push(ms);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  for await (const line of lines) {
    const m = JSON.parse(line) as { healthz?: string; cycling?: boolean } & Partial<CycleChildResult>;
    if (m.healthz !== undefined) {
      url = m.healthz;
      probing = loop();
    } else if (m.cycling !== undefined) cycling = m.cycling;
    else if (m.times !== undefined) result = m as CycleChildResult;
  }
  const code = await exited;
  await probing;
  agent.destroy();
  if (result === null) throw new Error(`the cycle bench's child exited with ${code} without a result`);
  return { result, healthz };
}

/**
 * A full monitoring cycle for 8 binary models × 70 numeric features with 100,000-row windows
 * (labels on 80 %) against 20,000-row baselines. This process builds the baselines into a store;
 * a child process (bench/cycle-load.ts) loads them as the daemon does, fills the hot windows
 * through the ingestion path, runs the cycles and reports its own memory: the RSS printed is the
 * child's, without the bench's preparation.
 */
export async function benchCycle(print: (line: string) => void): Promise<void> {
  await withBaselineStore(async (db, now) => {
    const r = cycleChild(db, ROWS, now);
    const settled = r.settled;
    const num = (m: Record<string, number>, k: string): number => m[k] ?? 0;
    const data = r.windowBytes + r.referenceBytes;
    print(
      `cycle: ${MODELS} models × ${FEATURES} features × ${ROWS.toLocaleString('en')}-row windows → ${r.series.toLocaleString('en')} series: median ${median(r.times).toFixed(0)} ms, max ${Math.max(...r.times).toFixed(0)} ms (target < 2,000 ms); runs ${r.times.map((t) => t.toFixed(0)).join(', ')} ms; event loop delay meanwhile p99 ${r.loopDelay.p99.toFixed(0)} ms, max ${r.loopDelay.max.toFixed(0)} ms; ${r.computeWorkers === 0 ? 'on the main thread' : `${r.computeJobs} model computations in ${r.computeWorkers} compute worker(s)`}; drift worker: ${r.offloaded} features offloaded, ${r.workerStarted} started`,
    );
    print(
      `cycle RSS: ${mb(num(settled, 'rss'))} MB settled (target < 300 MB; the child process that holds the load, after a full GC, 5 s idle, another full GC and 1 s); ${mb(num(r.afterCycles, 'rss'))} MB right after the 5 cycles; ${mb(num(r.loaded, 'rss'))} MB after loading the baselines, before any row`,
    );
    if (num(settled, 'file') + num(settled, 'cHeap') + num(settled, 'anon') > 0) {
      const other = num(settled, 'anon') - data - num(settled, 'v8Physical');
      print(
        `cycle RSS settled, by holder: data ${mb(data)} MB (hot windows ${mb(r.windowBytes)} + reference values ${mb(r.referenceBytes)}, on paged memory) | V8 heap ${mb(num(settled, 'v8Physical'))} MB (${mb(num(settled, 'heapUsed'))} used) | C heap ${mb(num(settled, 'cHeap'))} MB (malloc main arena: SQLite, driver buffers, V8's own) | files ${mb(num(settled, 'file'))} MB (node binary, libraries) | other anonymous ${mb(other)} MB (thread stacks and arenas, pages not yet returned)`,
      );
    }
  });
}
