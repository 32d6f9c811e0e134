import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { mulberry32 } from '../src/core/random.js';
import { item, postNdjson } from './ingest.js';
import { startVigil } from './process.js';

const FEATURES = 20;
const BATCH = 1000;
const BATCHES = 300;
const CONCURRENCY = 4;
const WARM = 5;
/** Timed rounds (this VM's speed varies from run to run): each figure, and their median. */
const ROUNDS = 3;

/**
 * Ingestion over HTTP into PostgreSQL (issue 14; target >= 40,000 predictions/s on this machine):
 * two `vigil serve` replicas on one fresh database of the server at $VIGIL_BENCH_PG_URL (default
 * the machine's, postgres://postgres@127.0.0.1:5432/postgres), NDJSON batches of 1,000 predictions
 * with 20 numeric features, 4 requests in flight, spread over both replicas, in 3 timed rounds; then how long the
 * replicas take to hold every row (their ml_predictions_total): the followers' catch-up at the end.
 * A figure, not a test.
 */
export async function benchIngestPostgres(print: (line: string) => void): Promise<void> {
  const admin = process.env.VIGIL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `vigil_bench_${process.pid}`;
  const c = new pg.Client({ connectionString: admin });
  try {
    await c.connect();
  } catch (e) {
    print(`ingest-pg: no PostgreSQL at ${admin} (${(e as Error).message}): skipped`);
    return;
  }
  await c.query(`CREATE DATABASE "${name}"`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-pg-'));
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const features = Array.from({ length: FEATURES }, (_, i) => `      - { name: f${i}, type: numeric }`).join('\n');
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, `server:\n  port: 0\nstorage:\n  backend: postgres\n  url: ${u.toString()}\nmodels:\n  - name: bench\n    task: binary\n    windows: [1h]\n    features:\n${features}\nrule_files: []\nalerting: { bundled_rules: false }\n`);
  const rnd = mulberry32(7);
  const now = Date.now();
  const encode = (round: number): Uint8Array[] =>
    Array.from({ length: BATCHES }, (_, b) => new TextEncoder().encode(Array.from({ length: BATCH }, (_, i) => JSON.stringify(item(rnd, `r${round}-b${b}-${i}`, now))).join('\n')));
  const replicas = [await startVigil(config), await startVigil(config)];
  const agents = replicas.map(() => new Agent({ keepAlive: true, maxSockets: CONCURRENCY }));
  try {
    const post = (r: number, body: Uint8Array): Promise<void> => postNdjson(`${replicas[r]?.url}/v1/models/bench/predictions`, agents[r] as Agent, body);
    const rates: number[] = [];
    const n = (BATCHES - WARM) * BATCH;
    for (let round = 0; round < ROUNDS; round++) {
      const encoded = encode(round);
      for (let i = 0; i < WARM; i++) await post(i % 2, encoded[i] as Uint8Array);
      let next = WARM;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, k) => {
          while (next < encoded.length) await post(k % 2, encoded[next++] as Uint8Array);
        }),
      );
      rates.push(n / ((performance.now() - t0) / 1000));
    }
    const sorted = [...rates].sort((a, b) => a - b);
    print(
      `ingest-pg: ${ROUNDS} rounds of ${n.toLocaleString('en')} predictions over HTTP into PostgreSQL through two replicas (NDJSON, ${BATCH}/batch, ${FEATURES} features, ${CONCURRENCY} in flight): ${rates.map((r) => Math.round(r).toLocaleString('en')).join(', ')} predictions/s, median ${Math.round(sorted[Math.floor(ROUNDS / 2)] as number).toLocaleString('en')} (target >= 40,000)`,
    );
    // every replica holds every row: its ml_predictions_total (what the follower delivered)
    const total = ROUNDS * BATCHES * BATCH;
    const count = async (url: string): Promise<number> => Number(/^ml_predictions_total\{model="bench",version="v1"\} (\S+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
    const t1 = performance.now();
    for (const r of replicas) while ((await count(r.url)) < total) await new Promise((res) => setTimeout(res, 20));
    print(`ingest-pg: both replicas held all ${total.toLocaleString('en')} rows ${Math.round(performance.now() - t1)} ms after the last request answered (the followers' catch-up; they poll every 100 ms)`);
    // how long after a replica stored a row each replica had it in its windows: vigil_follower_lag_seconds
    const lags = await Promise.all(replicas.map(async (r) => lagQuantiles(await (await fetch(`${r.url}/metrics`)).text())));
    print(`ingest-pg: follower lag (vigil_follower_lag_seconds, from a replica storing a row to each replica delivering it; its buckets' upper bounds): ${lags.map((l, i) => `replica ${i + 1} p50 <= ${l.p50} s, p99 <= ${l.p99} s`).join('; ')} (target p99 < 2 s)`);
  } finally {
    for (const a of agents) a.destroy();
    for (const r of replicas) await r.stop();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The upper bounds of the buckets holding the median and the 99th percentile of vigil_follower_lag_seconds. */
function lagQuantiles(text: string): { p50: string; p99: string } {
  const buckets = [...text.matchAll(/^vigil_follower_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => ({ le: m[1] as string, n: Number(m[2]) }));
  const total = buckets.at(-1)?.n ?? 0;
  const at = (q: number): string => buckets.find((b) => b.n >= q * total)?.le ?? 'n/a';
  return { p50: at(0.5), p99: at(0.99) };
}
