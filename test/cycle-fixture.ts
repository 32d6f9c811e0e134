/**
 * A cycle's worth of models for the tests of the cycle's threads (drift-pool, compute-pool): three
 * models (binary, regression with every numeric test, multiclass), 10,000 rows each over 20 hours,
 * with missing, infinite and tied values, drifted and stable features, and labels on ~70 % of rows.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { parseConfigText } from '../src/config/load.js';
import type { VigilConfig } from '../src/config/schema.js';
import { createLogger } from '../src/core/logger.js';
import { mulberry32 as rng } from '../src/core/random.js';
import type { Sample } from '../src/metrics/snapshot.js';
import { buildBaseline, storeBaseline, type BaselineRow } from '../src/monitors/baseline.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../src/store/store.js';

export const NOW = Date.UTC(2026, 10, 1, 12);
export const H = 3_600_000;
const ROWS = 10_000;

export const CONFIG = `
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

export async function setup(dir: string, config: VigilConfig): Promise<SqliteStore> {
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

export function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
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
export const key = (samples: readonly Sample[]): string[] =>
  samples.map((s) => `${s.name}${JSON.stringify(s.labels)} ${Object.is(s.value, -0) ? '-0' : String(s.value)} ${Buffer.from(new Float64Array([s.value]).buffer).toString('hex')}`);

/** The fixture's configuration. */
export const fixtureConfig = (): VigilConfig => parseConfigText(CONFIG, 'test.yaml', {});
