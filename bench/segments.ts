/**
 * `npm run bench segments`: what segment references cost where rows arrive — a hot window of a
 * model with 70 numeric features appending 100,000 rows (1,000 at a time, as ingestion does)
 * coded against a baseline without, then with, the references of 7 segments.
 */
import { parseConfigText } from '../src/config/load.js';
import { mulberry32 } from '../src/core/random.js';
import { buildBaseline, loadBaseline, storeBaseline, type BaselineRow } from '../src/monitors/baseline.js';
import { ModelWindow } from '../src/monitors/window.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../src/store/store.js';
import { median } from './process.js';

const FEATURES = 70;
const ROWS = 100_000;

export async function benchSegments(print: (line: string) => void): Promise<void> {
  const features = Array.from({ length: FEATURES }, (_, i) => `      - { name: f${i}, type: numeric }`).join('\n');
  const model = parseConfigText(`models:\n  - name: m\n    task: binary\n    windows: [1h]\n    segments: { max: 5 }\n    features:\n${features}\n`, 'bench.yaml', {}).models[0];
  if (model === undefined) throw new Error('no model');
  const rnd = mulberry32(7);
  const values = (): Record<string, number> => {
    const f: Record<string, number> = {};
    for (let k = 0; k < FEATURES; k++) f[`f${k}`] = (rnd() - 0.5) * (k + 1);
    return f;
  };
  const store = new SqliteStore({ path: ':memory:', now: Date.now() });
  const recs: PredictionRecord[] = Array.from({ length: ROWS }, (_, i) => ({ id: `${i}`, ts: 1, version: 'v', features: values(), prediction: '1', score: 0.5, latencyMs: null, segment: `seg-${i % 7}`, error: null }));
  const seqs = recs.map((_, i) => i + 1);
  const ms: Record<string, number> = {};
  try {
    for (const withSegments of [false, true]) {
      const ref: BaselineRow[] = Array.from({ length: 20_000 }, (_, i) => ({ features: values(), prediction: '1', score: 0.5, label: '1', ...(withSegments ? { segment: `seg-${i % 7}` } : {}) }));
      const saved = await storeBaseline(store, { model: 'm', version: withSegments ? 'segments' : 'plain', createdAt: Date.now(), source: 'bench' }, buildBaseline(model, ref));
      const rec = (await store.listBaselines('m')).find((r) => r.id === saved.id);
      if (rec === undefined) throw new Error('baseline not stored');
      const b = await loadBaseline(store, rec);
      const times: number[] = [];
      for (let run = 0; run < 3; run++) {
        const w = new ModelWindow(model, [b]);
        const t0 = performance.now();
        for (let i = 0; i < ROWS; i += 1000) w.append(recs.slice(i, i + 1000), seqs.slice(i, i + 1000));
        times.push(performance.now() - t0);
      }
      ms[withSegments ? 'segments' : 'plain'] = median(times);
    }
  } finally {
    await store.close();
  }
  const rate = (t: number): string => Math.round((ROWS / t) * 1000).toLocaleString('en-US');
  print(
    `segments: appending ${ROWS.toLocaleString('en-US')} rows × ${FEATURES} numeric features to a hot window — ${Math.round(ms.plain ?? 0)} ms (${rate(ms.plain ?? 1)} rows/s) against the model's references, ` +
      `${Math.round(ms.segments ?? 0)} ms (${rate(ms.segments ?? 1)} rows/s) with 7 segment references as well (medians of 3)`,
  );
}
