import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { mulberry32 } from '../src/core/random.js';
import { Packer, packLayout } from '../src/store/packed.js';
import { migrate } from '../src/store/sqlite/migrations.js';
import { INSERT_SQL } from '../src/store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../src/store/store.js';
import { quantile, startVigil } from './process.js';

const FEATURES = 20;
const BATCH = 1000;
const BATCHES = 400;
const CONCURRENCY = 4;

/** Reference rows of the stored baseline (as `vigil baseline` or POST …/baselines would store them). */
const REFERENCE_ROWS = 20_000;

/** One prediction item of the bench, as the API takes it. */
export function item(rnd: () => number, id: string, now: number): Record<string, unknown> {
  const f: Record<string, number> = {};
  for (let k = 0; k < FEATURES; k++) f[`f${k}`] = Math.round(rnd() * 1e6) / 1e3;
  return { id, ts: now, model_version: 'v1', features: f, prediction: rnd() < 0.5 ? 1 : 0, score: Math.round(rnd() * 1e4) / 1e4, latency_ms: Math.round(rnd() * 500) / 10 };
}

/**
 * The raw better-sqlite3 insert of the same rows in Vigil's schema (its migrations, its WAL mode
 * and synchronous level, its statements INSERT_SQL: the model row, the prediction with its packed
 * form, its features JSON), 1,000 rows a transaction, the columns' values prepared beforehand:
 * what SQLite itself costs, the ceiling of ingestion on this machine. Rows per second.
 */
function rawInsert(dir: string, bodies: readonly string[], skip: number, name: string): number {
  // SQLite's own page cache (better-sqlite3's build), not the store's smaller storage.cache_mb: the ceiling
  const db = new Database(join(dir, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db, Date.now());
  const layout = packLayout(Array.from({ length: FEATURES }, (_, i) => ({ name: `f${i}`, type: 'numeric' as const })));
  const packer = new Packer();
  // every column as Vigil stores it, computed before the clock starts
  const batches = bodies.slice(skip).map((body) =>
    body.split('\n').map((line) => {
      const it = JSON.parse(line) as { id: string; ts: number; model_version: string; features: PredictionRecord['features']; prediction: number; score: number; latency_ms: number };
      const rec: PredictionRecord = { id: it.id, ts: it.ts, version: it.model_version, features: it.features, prediction: String(it.prediction), score: it.score, latencyMs: it.latency_ms, segment: null, error: null };
      return [rec.id, rec.ts, rec.version, rec.prediction, JSON.stringify(rec.score), rec.latencyMs, Buffer.from(packer.pack(layout, rec)), JSON.stringify(rec.features)] as const;
    }),
  );
  const model = db.prepare(INSERT_SQL.model);
  const prediction = db.prepare(INSERT_SQL.prediction);
  const features = db.prepare(INSERT_SQL.features);
  let ref = 1;
  const tx = db.transaction((rows: (typeof batches)[number], now: number) => {
    model.run('bench', now);
    for (const [id, ts, version, pred, score, latency, packed, json] of rows) {
      if (prediction.run('bench', id, ts, version, pred, score, latency, null, null, now, packed, ref).changes > 0) features.run(ref++, json);
    }
  });
  const t0 = performance.now();
  for (const rows of batches) tx(rows, Date.now());
  const secs = (performance.now() - t0) / 1000;
  db.close();
  return batches.reduce((n, b) => n + b.length, 0) / secs;
}

/** POSTs an NDJSON body with node:http on `agent` (keep-alive); rejects unless it answers 200. */
export function postNdjson(url: string, agent: Agent, body: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson', 'content-length': body.byteLength } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`ingest answered ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Ingestion throughput over real HTTP on 127.0.0.1: the daemon runs in its own process, this one
 * posts NDJSON batches of 1,000 predictions with 20 numeric features, 4 requests in flight —
 * once without a baseline, once with a stored one (the production case: every row is coded
 * against it) — beside the raw better-sqlite3 insert of the same rows in Vigil's schema, measured
 * in the same run (the target: ingestion at >= 0.5 of it). Then the p50/p99 latency of GET /metrics.
 */
export async function benchIngest(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const features = Array.from({ length: FEATURES }, (_, i) => `      - { name: f${i}, type: numeric }`).join('\n');
  const rnd = mulberry32(7);
  const now = Date.now();
  const bodies: string[] = [];
  for (let b = 0; b < BATCHES; b++) bodies.push(Array.from({ length: BATCH }, (_, i) => JSON.stringify(item(rnd, `b${b}-${i}`, now))).join('\n'));
  const reference = Array.from({ length: REFERENCE_ROWS }, (_, i) => {
    const it = item(rnd, `r${i}`, now);
    return JSON.stringify({ features: it.features, prediction: it.prediction, score: it.score, label: rnd() < 0.5 ? 1 : 0 });
  }).join('\n');
  const WARM = 5;
  // the bodies as bytes, encoded beforehand: the client's share of the two cores is only sending them
  const encoded = bodies.map((b) => new TextEncoder().encode(b));
  try {
    const figures: Record<string, number> = {};
    // The raw insert before, between and after the two HTTP runs: each run's ratio is against the
    // mean of the raw figures measured just before and after it (this shared machine's speed moves
    // within minutes; one raw figure from another moment moved the ratio by 2x).
    const raws: number[] = [rawInsert(dir, bodies, WARM, 'raw-0')];
    for (const withBaseline of [false, true]) {
      const config = join(dir, `vigil-${withBaseline ? 'baseline' : 'plain'}.yaml`);
      writeFileSync(
        config,
        `server:\n  port: 0\nstorage:\n  path: ${join(dir, `bench-${withBaseline ? 'baseline' : 'plain'}.db`)}\nmodels:\n  - name: bench\n    task: binary\n    windows: [1h]\n    features:\n${features}\n`,
      );
      const vigil = await startVigil(config);
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      try {
        if (withBaseline) {
          const r = await fetch(`${vigil.url}/v1/models/bench/baselines?version=v1`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: reference });
          if (r.status !== 201) throw new Error(`baseline answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
          await r.arrayBuffer();
        }
        // node:http with keep-alive (4 sockets): a lighter client than fetch, whose CPU shares the two cores
        const post = (body: Uint8Array): Promise<void> => postNdjson(`${vigil.url}/v1/models/bench/predictions`, agent, body);
        // Warm-up (JIT, SQLite pages), not counted.
        for (let i = 0; i < WARM; i++) await post(encoded[i] as Uint8Array);
        let next = WARM;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < encoded.length) await post(encoded[next++] as Uint8Array);
          }),
        );
        const secs = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const clientCpu = (cpu.user + cpu.system) / 1e6;
        const n = (BATCHES - WARM) * BATCH;
        figures[withBaseline ? 'baseline' : 'plain'] = n / secs;
        print(
          `ingest${withBaseline ? ` with a stored baseline (${REFERENCE_ROWS.toLocaleString('en')} rows; every row coded against it)` : ', no baseline'}: ${n.toLocaleString('en')} predictions (NDJSON, ${BATCH}/batch, ${FEATURES} features, ${CONCURRENCY} in flight) in ${secs.toFixed(2)} s = ${Math.round(n / secs).toLocaleString('en')} predictions/s (target >= 50,000); the bench's client used ${clientCpu.toFixed(2)} s of CPU meanwhile`,
        );
        if (withBaseline) {
          const lat: number[] = [];
          for (let i = 0; i < 300; i++) {
            const t = performance.now();
            const r = await fetch(`${vigil.url}/metrics`);
            await r.text();
            lat.push(performance.now() - t);
          }
          print(`/metrics: p50 ${quantile(lat, 0.5).toFixed(2)} ms, p99 ${quantile(lat, 0.99).toFixed(2)} ms over 300 scrapes`);
        }
      } finally {
        agent.destroy();
        await vigil.stop();
      }
      raws.push(rawInsert(dir, bodies, WARM, `raw-${raws.length}`));
    }
    const [r0, r1, r2] = raws as [number, number, number];
    const ratio = (figures.baseline ?? 0) / ((r1 + r2) / 2);
    print(
      `ingest vs raw SQLite: the raw better-sqlite3 insert of the same rows in Vigil's schema (1,000 a transaction, values prepared beforehand) ${raws.map((r) => Math.round(r).toLocaleString('en')).join(', ')} rows/s (before, between and after the HTTP runs); ingestion with a baseline at ${ratio.toFixed(2)} × the raw figures around it (target >= 0.5), without one at ${((figures.plain ?? 0) / ((r0 + r1) / 2)).toFixed(2)} ×`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
