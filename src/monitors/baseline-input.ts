import type { ModelConfig } from '../config/schema.js';
import type { ItemRejection } from '../ingest/events.js';
import type { TabularData, TypeOverrides } from '../ingest/tabular.js';
import type { FeatureValue, Store, Target } from '../store/store.js';
import type { BaselineRow } from './baseline.js';

const SPECIAL = new Set(['id', 'ts', 'model_version', 'prediction', 'score', 'label', 'latency_ms', 'segment', 'error']);

/** Column types for reading a model's training file: features as configured, targets by task. */
export function baselineColumnTypes(model: ModelConfig): TypeOverrides {
  const classifier = model.task !== 'regression';
  return {
    numeric: [...model.features.filter((f) => f.type === 'numeric').map((f) => f.name), 'score', ...(classifier ? [] : ['prediction', 'label'])],
    categorical: [...model.features.filter((f) => f.type === 'categorical').map((f) => f.name), ...(classifier ? ['prediction', 'label'] : [])],
  };
}

/** Rows of a parsed CSV/NDJSON training file: feature columns, and `prediction`, `score`, `label` when present. */
export function rowsFromTable(model: ModelConfig, t: TabularData): BaselineRow[] {
  const known = new Set(model.features.map((f) => f.name));
  const cols = t.columns.filter((c) => known.has(c.name) || SPECIAL.has(c.name));
  const value = (c: TabularData['columns'][number], i: number): FeatureValue => {
    if (c.numeric) {
      const x = c.numeric[i] as number;
      return Number.isFinite(x) ? x : null;
    }
    return c.labels?.[i] ?? null;
  };
  const rows: BaselineRow[] = [];
  for (let i = 0; i < t.rowCount; i++) {
    // null prototype throughout: feature names such as __proto__ / constructor are ordinary keys
    const features: Record<string, FeatureValue> = Object.create(null) as Record<string, FeatureValue>;
    const row: BaselineRow = { features };
    for (const c of cols) {
      const v = value(c, i);
      if (known.has(c.name)) features[c.name] = v;
      else if (c.name === 'prediction' || c.name === 'label') {
        if (v !== null) row[c.name] = (model.task === 'regression' ? Number(v) : String(v)) as Target;
      } else if (c.name === 'score' && typeof v === 'number') row.score = v;
    }
    rows.push(row);
  }
  return rows;
}

/** Rows posted to the API (JSON objects like prediction items, `label` allowed); bad rows are listed. */
export function rowsFromItems(model: ModelConfig, items: readonly unknown[]): { rows: BaselineRow[]; rejected: ItemRejection[] } {
  const types = new Map(model.features.map((f) => [f.name, f.type]));
  const rows: BaselineRow[] = [];
  const rejected: ItemRejection[] = [];
  items.forEach((item, index) => {
    const reject = (field: string, reason: string) => rejected.push({ index, field, reason });
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return reject('', 'must be an object');
    const it = item as Record<string, unknown>;
    const raw = it.features ?? {};
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return reject('features', 'must be an object');
    const features: Record<string, FeatureValue> = Object.create(null) as Record<string, FeatureValue>;
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      const type = types.get(k);
      if (type === undefined) {
        if (model.allow_unknown_features) continue;
        return reject(`features.${k}`, `unknown feature "${k}" (not in the model's configuration)`);
      }
      if (v === null) features[k] = null;
      else if (type === 'numeric') {
        if (typeof v !== 'number' || !Number.isFinite(v)) return reject(`features.${k}`, 'must be a finite number or null');
        features[k] = v;
      } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') features[k] = String(v);
      else return reject(`features.${k}`, 'must be a string, number, boolean or null');
    }
    const row: BaselineRow = { features };
    for (const key of ['prediction', 'label'] as const) {
      const v = it[key];
      if (v === undefined || v === null) continue;
      if (model.task === 'regression') {
        if (typeof v !== 'number' || !Number.isFinite(v)) return reject(key, 'must be a finite number');
        row[key] = v;
      } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') row[key] = String(v);
      else return reject(key, 'must be a class (string, number or boolean)');
    }
    if (it.score !== undefined && it.score !== null) {
      if (typeof it.score !== 'number' || !(it.score >= 0 && it.score <= 1)) return reject('score', 'must be a probability in [0, 1]');
      row.score = it.score;
    }
    rows.push(row);
  });
  return { rows, rejected };
}

/**
 * Rows of the stored traffic with event time in [fromTs, toTs] (to freeze a baseline from live
 * data), labels joined. Read from the store, not the hot window: the window keeps numeric values
 * only as codes against the current baseline (stats/coded.ts), and the store has them exactly.
 */
export async function rowsFromStore(store: Store, model: ModelConfig, fromTs: number, toTs: number): Promise<BaselineRow[]> {
  const out: BaselineRow[] = [];
  const regression = model.task === 'regression';
  const target = (x: Target | null | undefined): Target | null => (x === null || x === undefined ? null : regression ? Number(x) : String(x));
  await store.scanPredictions(model.name, fromTs, (r) => {
    if (r.ts > toTs) return;
    const features: Record<string, FeatureValue> = Object.create(null) as Record<string, FeatureValue>;
    for (const f of model.features) {
      const v = Object.hasOwn(r.features, f.name) ? r.features[f.name] : undefined;
      if (v === null || v === undefined) features[f.name] = null;
      else if (f.type === 'numeric') {
        const x = typeof v === 'number' ? v : Number(v);
        features[f.name] = Number.isNaN(x) ? null : x;
      } else features[f.name] = String(v);
    }
    const s = r.score === null ? undefined : typeof r.score === 'number' ? r.score : Object.hasOwn(r.score, String(r.prediction)) ? r.score[String(r.prediction)] : undefined;
    out.push({ features, prediction: target(r.prediction), label: target(r.label), ...(s === undefined || Number.isNaN(s) ? {} : { score: s }) });
  });
  return out;
}
