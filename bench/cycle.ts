import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { Snapshot, SnapshotBuilder } from '../src/metrics/snapshot.js';
import { buildBaseline, type BaselineRow } from '../src/monitors/baseline.js';
import { MonitorEngine } from '../src/monitors/engine.js';
import { mulberry32 } from '../src/core/random.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../src/store/store.js';
import { median } from './process.js';

const MODELS = 8;
const FEATURES = 70;
const ROWS = 100_000;

/**
 * A full monitoring cycle for 8 binary models × 70 numeric features with 100,000-row windows
 * (labels on 80 %), in memory as the daemon holds it; then the RSS, and /metrics rendering of the
 * resulting snapshot (prom-client formatting only; HTTP is measured by the ingest bench).
 */
export async function benchCycle(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-cycle-'));
  try {
    const features = Array.from({ length: FEATURES }, (_, i) => `      - { name: f${i}, type: numeric }`).join('\n');
    const models = Array.from({ length: MODELS }, (_, m) => `  - name: model-${m}\n    task: binary\n    windows: [1h]\n    min_samples: 100\n    features:\n${features}`).join('\n');
    const config = parseConfigText(`models:\n${models}\n`, 'bench.yaml', {});
    const now = Date.now();
    const store = new SqliteStore({ path: join(dir, 'bench.db'), now });
    const logger = createLogger({ level: 'warn', destination: process.env.VIGIL_BENCH_LOG === '1' ? process.stderr : new Writable({ write: (_c, _e, cb) => cb() }) });
    // VIGIL_BENCH_DRIFT_WORKER=0: drift on the main thread only (for comparison)
    const engine = new MonitorEngine({ store, logger, ...(process.env.VIGIL_BENCH_DRIFT_WORKER === '0' ? { driftWorker: false as const } : {}) });
    const rnd = mulberry32(3);
    const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
    let seq = 1;
    for (const m of config.models) {
      // baseline: 20,000 reference rows
      const ref: BaselineRow[] = [];
      for (let i = 0; i < 20_000; i++) {
        const f: Record<string, number> = {};
        for (let k = 0; k < FEATURES; k++) f[`f${k}`] = normal() * (k + 1);
        const y = rnd() < 0.3 ? '1' : '0';
        ref.push({ features: f, prediction: rnd() < 0.85 ? y : y === '1' ? '0' : '1', score: rnd(), label: y });
      }
      await store.saveBaseline({ model: m.name, version: 'v1', createdAt: now, source: 'bench', rows: ref.length, summary: JSON.stringify(buildBaseline(m, ref)) });
      await engine.rebuild(m, now);
      for (let start = 0; start < ROWS; start += 10_000) {
        const batch: PredictionRecord[] = [];
        const seqs: number[] = [];
        for (let i = start; i < start + 10_000; i++) {
          const f: Record<string, number> = {};
          for (let k = 0; k < FEATURES; k++) f[`f${k}`] = normal() * (k + 1) + (k % 7 === 0 ? 0.3 : 0);
          batch.push({ id: `${i}`, ts: now - 1000 - (ROWS - i), version: 'v1', features: f, prediction: rnd() < 0.5 ? '1' : '0', score: rnd(), latencyMs: rnd() * 50, segment: null, error: null });
          seqs.push(seq++);
        }
        engine.predictions(m, batch, seqs);
        const w = engine.window(m.name);
        if (w) for (let i = 0; i < batch.length; i++) if (rnd() < 0.8) w.setLabel(seqs[i] as number, { id: '', ts: now, label: rnd() < 0.3 ? '1' : '0' });
      }
    }
    const times: number[] = [];
    let samples = 0;
    let snapshot = Snapshot.EMPTY;
    for (let run = 0; run < 5; run++) {
      const t0 = performance.now();
      const b = new SnapshotBuilder();
      b.addAll(await engine.compute(config, now));
      snapshot = b.build(now);
      times.push(performance.now() - t0);
      samples = snapshot.samples.length;
    }
    global.gc?.();
    const rss = process.memoryUsage().rss / 1024 / 1024;
    print(`cycle: ${MODELS} models × ${FEATURES} features × ${ROWS.toLocaleString('en')}-row windows → ${samples.toLocaleString('en')} series: median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (target < 2,000 ms; runs ${times.map((t) => t.toFixed(0)).join(', ')} ms; drift worker: ${engine.driftPool?.offloaded ?? 0} of the features)`);
    print(`RSS at that load: ${rss.toFixed(0)} MB (target < 300 MB; hot windows ${(config.models.reduce((s, m) => s + (engine.window(m.name)?.bytes() ?? 0), 0) / 1024 / 1024).toFixed(0)} MB)`);

    // /metrics with 10,000 series: see bench/metrics.ts.
    await engine.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
