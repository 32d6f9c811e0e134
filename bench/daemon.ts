import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURES, MODELS, ROWS, fillBenchStore } from './cycle.js';
import { mulberry32 } from '../src/core/random.js';
import { benchConfigText, benchPrediction, residentByKind } from './cycle-load.js';
import { median, quantile, rssMb, startVigil, type LogRecord } from './process.js';

const INTERVAL_S = 10;
const WATCH_S = 90;
/** Probes during the start-up rebuild: GET /healthz every ~20 ms, a 100-prediction batch every ~250 ms. */
const HEALTH_EVERY_MS = 20;
const INGEST_EVERY_MS = 250;
const INGEST_BATCH = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Latencies (ms) of requests made one after another every `everyMs` until `done()`. */
async function probe(everyMs: number, done: () => boolean, request: (i: number) => Promise<void>): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; !done(); i++) {
    const t = performance.now();
    await request(i);
    const ms = performance.now() - t;
    lat.push(ms);
    if (ms < everyMs) await sleep(everyMs - ms);
  }
  return lat;
}

const figures = (lat: number[]): string =>
  lat.length === 0 ? 'no probe' : `p50 ${quantile(lat, 0.5).toFixed(1)} ms, p99 ${quantile(lat, 0.99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(0)} ms over ${lat.length}`;

/** V8's heap as the daemon's /metrics says (prom-client's default gauges): its spaces' sizes and use, and its external memory (the typed arrays' buffers). */
function v8Heap(text: string): string {
  const value = (name: string, space?: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(space === undefined ? `${name} ` : `${name}{space="${space}"}`));
    return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1)) / 1048576;
  };
  const spaces = ['new', 'old', 'code', 'large_object', 'trusted', 'shared']
    .map((s) => [s, value('nodejs_heap_space_size_total_bytes', s), value('nodejs_heap_space_size_used_bytes', s)] as const)
    .filter(([, total]) => Number.isFinite(total) && total > 0)
    .map(([s, total, used]) => `${s} ${total.toFixed(0)} (${used.toFixed(0)} used)`);
  return `heap ${value('nodejs_heap_size_total_bytes').toFixed(0)} MB total, ${value('nodejs_heap_size_used_bytes').toFixed(0)} MB used — spaces: ${spaces.join(', ')} MB; external ${value('nodejs_external_memory_bytes').toFixed(0)} MB (typed arrays: the windows' columns)`;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/**
 * The real daemon at the cycle bench's load: `vigil serve` — every module, the HTTP server, the
 * bundled alert rules, the scheduler — with 8 binary models × 70 numeric features, 20,000-row
 * baselines and 100,000 stored predictions per model (80 % labelled), which it rebuilds into its
 * hot windows at start-up as after a restart. It then runs a cycle every 10 s and answers
 * scrapes. Its RSS is read from /proc every second for 90 s, as it runs: no forced GC.
 */
export async function benchDaemon(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-daemon-'));
  try {
    const db = join(dir, 'vigil.db');
    const t0 = performance.now();
    await fillBenchStore(db, Date.now(), true);
    const filled = performance.now() - t0;
    const config = join(dir, 'vigil.yaml');
    // VIGIL_BENCH_COMPUTE_WORKERS: compute_workers (default: the daemon's, auto)
    const workers = process.env.VIGIL_BENCH_COMPUTE_WORKERS;
    writeFileSync(config, `server: { port: 0 }\nstorage: { path: ${db} }\nevaluation_interval: ${INTERVAL_S}s\n${workers === undefined ? '' : `compute_workers: ${Number(workers)}\n`}${benchConfigText(MODELS, FEATURES)}`);
    const t1 = performance.now();
    const loaded: LogRecord[] = [];
    let started: LogRecord | null = null;
    let cpuAtStart = NaN;
    let vigil: Awaited<ReturnType<typeof startVigil>> | undefined;
    vigil = await startVigil(config, [], 300_000, {
      until: 'vigil listening; loading the hot windows',
      onLog: (rec) => {
        if (rec.msg === 'hot window loaded') loaded.push(rec);
        if (rec.msg === 'vigil started') {
          started = rec;
          cpuAtStart = cpuSeconds(vigil?.child.pid ?? NaN);
        }
      },
    });
    const listening = performance.now() - t1;
    const pid = vigil.child.pid as number;
    const cpuAtListen = cpuSeconds(pid);
    try {
      // While the hot windows are rebuilt: /healthz every ~20 ms and ingestion every ~250 ms, each
      // one request after the other (a blocked event loop shows as one long request).
      const isStarted = (): boolean => started !== null;
      let accepted = 0;
      const rnd = mulberry32(11);
      const [health, ingest] = await Promise.all([
        probe(HEALTH_EVERY_MS, isStarted, async () => {
          const r = await fetch(`${vigil.url}/healthz`);
          await r.arrayBuffer();
          if (r.status !== 200) throw new Error(`/healthz answered ${r.status}`);
        }),
        probe(INGEST_EVERY_MS, isStarted, async (i) => {
          const body = Array.from({ length: INGEST_BATCH }, (_, k) => {
            const p = benchPrediction(k, INGEST_BATCH, FEATURES, Date.now(), rnd);
            return JSON.stringify({ id: `probe-${i}-${k}`, ts: p.ts, model_version: p.version, features: p.features, prediction: p.prediction, score: p.score, latency_ms: p.latencyMs });
          });
          const r = await fetch(`${vigil.url}/v1/models/model-${i % MODELS}/predictions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: body.join('\n') });
          const res = (await r.json()) as { accepted?: number };
          if (r.status !== 200) throw new Error(`ingestion answered ${r.status}`);
          accepted += res.accepted ?? 0;
        }),
      ]);
      const loadMs = Number((started as LogRecord | null)?.loadMs);
      const rows = loaded.reduce((s, r) => s + Number(r.rows), 0);
      print(
        `daemon start-up: listening after ${(listening / 1000).toFixed(1)} s, rebuilt ${rows.toLocaleString('en')} rows × ${FEATURES} features of ${loaded.length} models in ${(loadMs / 1000).toFixed(1)} s (target <= 10 s), ` +
          `${Math.round(rows / (loadMs / 1000)).toLocaleString('en')} rows/s, ${(cpuAtStart - cpuAtListen).toFixed(1)} s of CPU (the machine is shared: the CPU time is the steadier figure); meanwhile /healthz ${figures(health)} (target p99 < 100 ms); ` +
          `ingestion (${INGEST_BATCH}-prediction batches) ${figures(ingest)}, ${accepted.toLocaleString('en')} predictions accepted`,
      );
      for (const r of loaded) {
        const extra = r.ms === undefined ? '' : ` in ${(Number(r.ms) / 1000).toFixed(2)} s (${Number(r.rowsPerSecond).toLocaleString('en')} rows/s${r.packed === undefined ? '' : `, ${Number(r.packed).toLocaleString('en')} from the packed form`})`;
        print(`  ${String(r.model)}: ${Number(r.rows).toLocaleString('en')} rows${extra}`);
      }
      const atStart = rssMb(pid);
      const samples: number[] = [];
      let series = 0;
      let heap = '';
      // Meanwhile, as cycles run every INTERVAL_S: /healthz every ~20 ms, and /metrics every second
      // as a Prometheus scraping at 1 s would (each one request after the other).
      let watching = true;
      const watched = Promise.all([
        probe(HEALTH_EVERY_MS, () => !watching, async () => {
          const r = await fetch(`${vigil.url}/healthz`);
          await r.arrayBuffer();
        }),
        probe(1000, () => !watching, async () => {
          const r = await fetch(`${vigil.url}/metrics`);
          const text = await r.text();
          series = text.split('\n').filter((l) => l.startsWith('ml_feature_drift_score{')).length;
          heap = v8Heap(text);
        }),
      ]);
      for (let s = 0; s < WATCH_S; s++) {
        await new Promise((r) => setTimeout(r, 1000));
        samples.push(rssMb(pid));
      }
      watching = false;
      const [healthWhileCycling, metricsWhileCycling] = await watched;
      const last30 = samples.slice(-30);
      const kinds = residentByKind(pid);
      const mb = (b: number): string => (b / 1048576).toFixed(0);
      print(
        `daemon RSS: vigil serve holding ${MODELS} models × ${FEATURES} features × ${ROWS.toLocaleString('en')}-row windows (20,000-row baselines; rebuilt from the store at start-up; store filled in ${(filled / 1000).toFixed(0)} s), a cycle every ${INTERVAL_S} s, ${series} drift-score series on /metrics: ` +
          `${atStart.toFixed(0)} MB when started; over the next ${WATCH_S} s median ${median(samples).toFixed(0)} MB, max ${Math.max(...samples).toFixed(0)} MB, min ${Math.min(...samples).toFixed(0)} MB; last 30 s ${Math.min(...last30).toFixed(0)}–${Math.max(...last30).toFixed(0)} MB, no forced GC ` +
          `(at the end: files ${mb(kinds.file)} MB, C heap ${mb(kinds.cHeap)} MB, anonymous ${mb(kinds.anon)} MB: the data, V8's heap, the threads' stacks; docs/operations.md → Memory)`,
      );
      print(`  V8 at the last /metrics (prom-client's nodejs_* gauges): ${heap}`);
      print(
        `daemon while cycling (${WATCH_S} s, a cycle every ${INTERVAL_S} s at that load): /healthz ${figures(healthWhileCycling)} (target p99 < 50 ms, max < 200 ms); ` +
          `/metrics every 1 s ${figures(metricsWhileCycling)} (target p99 < 100 ms)`,
      );
    } finally {
      await vigil.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
