import type { ModelConfig } from '../config/schema.js';
import { ModelValidator, type ItemRejection } from '../ingest/events.js';
import type { TabularData, TypeOverrides } from '../ingest/tabular.js';
import type { FeatureValue, Store, Target } from '../store/store.js';
import type { BaselineRow } from './baseline.js';

const SPECIAL = new Set(['id', 'ts', 'model_version', 'prediction', 'score', 'label', 'latency_ms', 'segment', 'error']);

/** Column types for reading a model's training file: features as configured, targets by task. */
export function baselineColumnTypes(model: ModelConfig): TypeOverrides {
  const classifier = model.task !== 'regression';
  return {
    numeric: [...model.features.filter((f) => f.type === 'numeric').map((f) => f.name), ...(model.task === 'binary' ? ['score'] : []), ...(classifier ? [] : ['prediction', 'label'])],
    // a multiclass score is JSON text of {class: probability}, parsed per row
    // a segment is text as written ("01" stays "01")
    categorical: [...model.features.filter((f) => f.type === 'categorical').map((f) => f.name), ...(classifier ? ['prediction', 'label'] : []), ...(model.task === 'multiclass' ? ['score'] : []), ...(model.features.some((f) => f.name === 'segment') ? [] : ['segment'])],
  };
}

/** A multiclass `score` cell: JSON text of `{class: probability}` (an NDJSON object is kept as its text). */
function scoreCell(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: the validator says what a score must be
  }
}

/**
 * Rows of a parsed CSV/NDJSON training file: feature columns, and `prediction`, `score`, `label`
 * when present. Each row is checked as an API row is ({@link rowsFromItems}: one validation path);
 * rejected rows carry their line in the file.
 */
export function rowsFromTable(model: ModelConfig, t: TabularData): { rows: BaselineRow[]; rejected: (ItemRejection & { line: number })[] } {
  const known = new Set(model.features.map((f) => f.name));
  const cols = t.columns.filter((c) => known.has(c.name) || SPECIAL.has(c.name));
  const value = (c: TabularData['columns'][number], i: number): FeatureValue => {
    if (c.numeric) {
      const x = c.numeric[i] as number;
      return Number.isFinite(x) ? x : null;
    }
    return c.labels?.[i] ?? null;
  };
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < t.rowCount; i++) {
    // null prototype: feature names such as __proto__ / constructor are ordinary keys
    const features: Record<string, FeatureValue> = Object.create(null) as Record<string, FeatureValue>;
    const item: Record<string, unknown> = { features };
    for (const c of cols) {
      const v = value(c, i);
      if (known.has(c.name)) features[c.name] = v;
      else if (v === null) continue;
      else if (c.name === 'prediction' || c.name === 'label') item[c.name] = model.task === 'regression' ? Number(v) : String(v);
      else if (c.name === 'score') item.score = model.task === 'multiclass' && typeof v === 'string' ? scoreCell(v) : v;
      else if (c.name === 'segment') item.segment = String(v);
    }
    items.push(item);
  }
  const r = rowsFromItems(model, items);
  return { rows: r.rows, rejected: r.rejected.map((x) => ({ ...x, line: t.rowLines?.[x.index] ?? 0 })) };
}

/**
 * Rows posted to the API (JSON objects like prediction items, with `label`; every part optional),
 * validated by the predictions endpoint's own validator (src/ingest/events.ts): the same types,
 * score ranges (a multiclass `{class: probability}` map included) and classes. Bad rows are listed.
 */
export function rowsFromItems(model: ModelConfig, items: readonly unknown[], validator: ModelValidator = new ModelValidator(model)): { rows: BaselineRow[]; rejected: ItemRejection[] } {
  const r = validator.referenceRows(items);
  return { rows: r.records, rejected: r.rejected };
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
    // binary: the score; multiclass: the class probabilities as posted (the reference quality and CBPE's per-class calibration read them)
    const s = r.score === null ? undefined : typeof r.score === 'number' ? r.score : model.task === 'multiclass' ? r.score : undefined;
    out.push({ features, prediction: target(r.prediction), label: target(r.label), segment: r.segment, ...(s === undefined || (typeof s === 'number' && Number.isNaN(s)) ? {} : { score: s }) });
  });
  return out;
}
