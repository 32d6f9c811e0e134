/**
 * SLO benchmark: 50 SLOs with 28 days of per-minute counts (40,320 minutes each, 2,016,000 rows)
 * loaded from a SQLite file at start-up, then the cycle's work: counting a batch of 1,000
 * predictions into every SLO, computing every SLO's Sloth series (7 windows and the period) and
 * writing the minute's counts. Figures: start-up load, cycle time, memory per SLO. Never used by tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { PredictionRecord, SloMinute } from '../src/store/store.js';
import { SloTracker } from '../src/slo/tracker.js';

const SLOS = 50;
const DAYS = 28;

export async function benchSlo(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-slo-'));
  try {
    const models = Array.from({ length: 10 }, (_, i) => `  - { name: m${i}, task: binary, positive_class: 1, features: [{ name: x, type: numeric }] }`).join('\n');
    const slos = Array.from({ length: SLOS }, (_, i) => `  - { name: s${i}, model: m${i % 10}, objective: 99.5, period: 28d, sli: { type: ${i % 2 ? 'errors' : 'latency, threshold: 100ms'} } }`).join('\n');
    const config = parseConfigText(`models:\n${models}\nslos:\n${slos}\n`, 'bench.yaml', {});
    const now0 = Date.UTC(2026, 11, 1);
    const nowMin = Math.floor(now0 / 60_000);
    const store = new SqliteStore({ path: join(dir, 'slo.db'), now: now0 });
    let t0 = performance.now();
    for (let s = 0; s < SLOS; s++) {
      const rows: SloMinute[] = [];
      for (let m = 0; m < DAYS * 1440; m++) rows.push({ slo: `m${s % 10}-s${s}`, minute: nowMin - m, good: 990 + (m % 10), total: 1000 });
      await store.addSloMinutes(rows);
    }
    print(`slo: wrote ${SLOS} SLOs × ${DAYS * 1440} minutes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const now = { t: now0 };
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const tracker = new SloTracker({ store, logger: createLogger({ level: 'silent' }), clock: { now: () => now.t }, config: () => config });
    t0 = performance.now();
    await tracker.apply(now.t);
    const loadMs = performance.now() - t0;
    gc?.();
    const heap = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heap0;
    const batch: PredictionRecord[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `p${i}`,
      ts: now0,
      version: 'v1',
      features: { x: i },
      prediction: 1,
      score: 0.5,
      latencyMs: i % 200,
      segment: null,
      error: i % 97 === 0 ? 'x' : null,
    }));
    const times: number[] = [];
    for (let c = 0; c < 20; c++) {
      now.t += 15_000;
      const c0 = performance.now();
      for (const m of config.models) tracker.predictions(m, batch);
      tracker.observeCycle([], now.t);
      const samples = tracker.samples(now.t);
      await tracker.flush(now.t);
      times.push(performance.now() - c0);
      if (samples.length < SLOS * 10) throw new Error(`expected every SLO's series, got ${samples.length}`);
    }
    times.sort((a, b) => a - b);
    print(`slo: start-up load of ${SLOS} SLOs over ${DAYS}d: ${loadMs.toFixed(0)} ms; memory ≈ ${(heap / SLOS / 1024).toFixed(0)} KB an SLO${gc ? '' : ' (run node --expose-gc for a settled figure)'}`);
    print(`slo: a cycle (10,000 predictions counted, ${SLOS} SLOs' series over 8 windows, counts written): median ${times[10]?.toFixed(1)} ms, max ${times[19]?.toFixed(1)} ms`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
