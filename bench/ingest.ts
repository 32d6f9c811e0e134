import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../src/core/random.js';
import { quantile, startVigil } from './process.js';

const FEATURES = 20;
const BATCH = 1000;
const BATCHES = 400;
const CONCURRENCY = 4;

/**
 * Ingestion throughput over real HTTP on 127.0.0.1: the daemon runs in its own process, this one
 * posts NDJSON batches of 1,000 predictions with 20 numeric features, 4 requests in flight.
 * Then the p50/p99 latency of GET /metrics.
 */
export async function benchIngest(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const config = join(dir, 'vigil.yaml');
  const features = Array.from({ length: FEATURES }, (_, i) => `      - { name: f${i}, type: numeric }`).join('\n');
  writeFileSync(
    config,
    `server:\n  port: 0\nstorage:\n  path: ${join(dir, 'bench.db')}\nmodels:\n  - name: bench\n    task: binary\n    windows: [1h]\n    features:\n${features}\n`,
  );
  const vigil = await startVigil(config);
  try {
    const rnd = mulberry32(7);
    const now = Date.now();
    const bodies: string[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const lines: string[] = [];
      for (let i = 0; i < BATCH; i++) {
        const f: Record<string, number> = {};
        for (let k = 0; k < FEATURES; k++) f[`f${k}`] = Math.round(rnd() * 1e6) / 1e3;
        lines.push(JSON.stringify({ id: `b${b}-${i}`, ts: now, model_version: 'v1', features: f, prediction: rnd() < 0.5 ? 1 : 0, score: Math.round(rnd() * 1e4) / 1e4, latency_ms: Math.round(rnd() * 500) / 10 }));
      }
      bodies.push(lines.join('\n'));
    }
    const post = async (body: string): Promise<void> => {
      const r = await fetch(`${vigil.url}/v1/models/bench/predictions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
      await r.arrayBuffer();
    };
    // Warm-up (JIT, SQLite pages), not counted.
    for (let i = 0; i < 5; i++) await post(bodies[i] as string);
    let next = 5;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) await post(bodies[next++] as string);
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const n = (BATCHES - 5) * BATCH;
    print(`ingest: ${n.toLocaleString('en')} predictions (NDJSON, ${BATCH}/batch, ${FEATURES} features, ${CONCURRENCY} in flight) in ${secs.toFixed(2)} s = ${Math.round(n / secs).toLocaleString('en')} predictions/s (target >= 50,000)`);

    const lat: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      const r = await fetch(`${vigil.url}/metrics`);
      await r.text();
      lat.push(performance.now() - t);
    }
    print(`/metrics: p50 ${quantile(lat, 0.5).toFixed(2)} ms, p99 ${quantile(lat, 0.99).toFixed(2)} ms over 300 scrapes`);
  } finally {
    await vigil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
