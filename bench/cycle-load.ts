/**
 * The measured side of the cycle bench (bench/cycle.ts), in its own process so that its RSS is
 * what a daemon at that load holds, not the bench's preparation: it opens the store the parent
 * filled with baselines, loads the hot windows as the daemon does at start-up, feeds them
 * 100,000 predictions per model in 10,000-row batches as ingestion does, runs 5 cycles, and
 * prints one JSON line: cycle times, and the memory right after the cycles and once settled
 * (after a full GC, 5 s idle and another full GC, once V8 has returned the freed pages, as between
 * two 30 s cycles).
 * Usage: node --expose-gc dist/bench/cycle-load.js <db> <models> <features> <rows>
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { mulberry32 } from '../src/core/random.js';
import { SnapshotBuilder } from '../src/metrics/snapshot.js';
import { MonitorEngine } from '../src/monitors/engine.js';
import { referenceMemoryBytes } from '../src/stats/reference.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../src/store/store.js';

const [db, modelsArg, featuresArg, rowsArg, nowArg] = process.argv.slice(2);
const MODELS = Number(modelsArg);
const FEATURES = Number(featuresArg);
const ROWS = Number(rowsArg);
const now = Number(nowArg);

/** The bench's models; VIGIL_BENCH_REFERENCE_POINTS sets their drift.reference_points (default: the daemon's). */
export function benchConfigText(models: number, features: number): string {
  const f = Array.from({ length: features }, (_, i) => `      - { name: f${i}, type: numeric }`).join('\n');
  const points = process.env.VIGIL_BENCH_REFERENCE_POINTS;
  const ksMethod = process.env.VIGIL_BENCH_KS_METHOD;
  const settings = [...(points === undefined ? [] : [`reference_points: ${Number(points)}`]), ...(ksMethod === undefined ? [] : [`ks_method: ${ksMethod}`])];
  const drift = settings.length === 0 ? '' : `    drift: { ${settings.join(', ')} }\n`;
  const segments = BENCH_SEGMENTS === undefined ? '' : `    segments: { max: ${BENCH_SEGMENTS} }\n`;
  return `models:\n${Array.from({ length: models }, (_, m) => `  - name: model-${m}\n    task: binary\n    windows: [1h]\n    min_samples: 100\n${drift}${segments}    features:\n${f}`).join('\n')}\n`;
}

/**
 * VIGIL_BENCH_SEGMENTS=N: every model monitors N segments (models[].segments.max), and the
 * predictions and the reference rows carry one of 7 segment values in turn (N < 7: the rest
 * pooled as other); the baselines keep every segment's references.
 */
export const BENCH_SEGMENTS = process.env.VIGIL_BENCH_SEGMENTS === undefined ? undefined : Number(process.env.VIGIL_BENCH_SEGMENTS);

/** The i-th of `rows` predictions of the bench load (70 normal features, 1 in 7 shifted by 0.3), drawn from `rnd`. */
export function benchPrediction(i: number, rows: number, features: number, now: number, rnd: () => number): PredictionRecord {
  const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
  const f: Record<string, number> = {};
  for (let k = 0; k < features; k++) f[`f${k}`] = normal() * (k + 1) + (k % 7 === 0 ? 0.3 : 0);
  return { id: `${i}`, ts: now - 1000 - (rows - i), version: 'v1', features: f, prediction: rnd() < 0.5 ? '1' : '0', score: rnd(), latencyMs: rnd() * 50, segment: BENCH_SEGMENTS === undefined ? null : `seg-${i % 7}`, error: null };
}

/**
 * Resident bytes by kind of mapping (Linux /proc/self/smaps; zeros elsewhere): files (the node
 * binary, shared libraries), `[heap]` (the C heap's main arena: SQLite, driver buffers, V8's own
 * malloc) and anonymous mappings (V8's heap, paged array buffers, thread stacks and arenas).
 */
export function residentByKind(pid: number | 'self' = 'self'): { file: number; cHeap: number; anon: number } {
  const out = { file: 0, cHeap: 0, anon: 0 };
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return out;
  }
  let kind: keyof typeof out = 'anon';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      kind = name === '[heap]' ? 'cHeap' : name.startsWith('/') ? 'file' : 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

const mem = (): Record<string, number> => {
  const m = process.memoryUsage();
  const v8 = getHeapStatistics();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, v8Physical: v8.total_physical_size, external: m.external, arrayBuffers: m.arrayBuffers, ...residentByKind() };
};

const main = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (main && db !== undefined) {
  const config = parseConfigText(benchConfigText(MODELS, FEATURES), 'bench.yaml', {});
  const store = new SqliteStore({ path: db, now });
  const logger = createLogger({ level: 'warn', destination: process.env.VIGIL_BENCH_LOG === '1' ? process.stderr : new Writable({ write: (_c, _e, cb) => cb() }) });
  // as the daemon: the cycle in compute workers, one per core but the main thread's (compute_workers: auto);
  // VIGIL_BENCH_COMPUTE_WORKERS=0: on the main thread, in slices; VIGIL_BENCH_DRIFT_WORKER=0: no drift worker either
  const workers = process.env.VIGIL_BENCH_COMPUTE_WORKERS;
  const engine = new MonitorEngine({
    store,
    logger,
    compute: workers === '0' ? false : workers === undefined ? {} : { size: Number(workers) },
    ...(process.env.VIGIL_BENCH_DRIFT_WORKER === '0' ? { driftWorker: false as const } : {}),
  });
  const rnd = mulberry32(4);
  let seq = 1;
  await engine.load(config, now);
  const loaded = mem(); // after loading the baselines (summaries parsed, reference values copied) and the empty windows
  for (const m of config.models) {
    for (let start = 0; start < ROWS; start += 10_000) {
      const batch: PredictionRecord[] = [];
      const seqs: number[] = [];
      for (let i = start; i < Math.min(start + 10_000, ROWS); i++) {
        batch.push(benchPrediction(i, ROWS, FEATURES, now, rnd));
        seqs.push(seq++);
      }
      engine.predictions(m, batch, seqs);
      const w = engine.window(m.name);
      if (w) for (let i = 0; i < batch.length; i++) if (rnd() < 0.8) w.setLabel(seqs[i] as number, { id: '', ts: now, label: rnd() < 0.3 ? '1' : '0' });
    }
  }
  // VIGIL_BENCH_HEALTHZ=1: a GET /healthz on this event loop (as the daemon answers it: 200, a
  // small JSON body), for the parent to probe from its own process while the cycles run
  let server: Server | null = null;
  if (process.env.VIGIL_BENCH_HEALTHZ === '1') {
    const s = createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    server = s;
    process.stdout.write(`${JSON.stringify({ healthz: `http://127.0.0.1:${(s.address() as AddressInfo).port}/healthz` })}\n`);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the parent starts probing
  }
  process.stdout.write(`${JSON.stringify({ cycling: true })}\n`);
  const times: number[] = [];
  let series = 0;
  // how long the event loop waited while the cycles ran: what a /healthz would have waited
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const ticker = setInterval(() => undefined, 5); // keeps the loop turning between cycles
  delay.enable();
  for (let run = 0; run < Number(process.env.VIGIL_BENCH_CYCLES ?? 5); run++) {
    const t0 = performance.now();
    const b = new SnapshotBuilder();
    b.addAll(await engine.compute(config, now));
    series = b.build(now).samples.length;
    times.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  delay.disable();
  clearInterval(ticker);
  process.stdout.write(`${JSON.stringify({ cycling: false })}\n`);
  server?.close();
  const loopDelay = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
  const afterCycles = mem();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  gc?.();
  // V8 returns the pages a collection freed on a background thread: measured at once, RSS still
  // counts tens of MB that are on their way out (seen: 415 MB mapped, 355 MB a moment later).
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const settled = mem();
  let windowBytes = 0;
  let referenceBytes = 0;
  for (const m of config.models) {
    windowBytes += engine.window(m.name)?.bytes() ?? 0;
    for (const b of engine.baselinesOf(m.name)) {
      for (const r of b.features.values()) referenceBytes += referenceMemoryBytes(r);
      for (const seg of b.segments?.values() ?? []) for (const r of seg.features.values()) referenceBytes += referenceMemoryBytes(r);
    }
  }
  process.stdout.write(`${JSON.stringify({ times, loopDelay, series, loaded, afterCycles, settled, windowBytes, referenceBytes, gc: gc !== undefined, workerStarted: engine.driftPool?.started ?? 0, offloaded: engine.driftPool?.offloaded ?? 0, computeJobs: engine.computePool?.counts.jobs ?? 0, computeWorkers: engine.computePool?.size ?? 0 })}\n`);
  await engine.close();
  await store.close();
}
