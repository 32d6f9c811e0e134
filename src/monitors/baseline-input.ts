import type { ModelConfig } from '../config/schema.js';
import type { ColumnarColumn, ColumnarTable } from '../ingest/columnar.js';
import { ModelValidator, type ItemRejection, type ReferenceField } from '../ingest/events.js';
import type { TabularData, TypeOverrides } from '../ingest/tabular.js';
import type { FeatureValue, Store, Target } from '../store/store.js';
import type { BaselineColumns, BaselineRow, Coded } from './baseline.js';

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

/** Which columns of a training file a baseline reads: the model's features, `prediction`, `score`, `label` and `segment` (the others are named, not kept). */
export function baselineColumnsKept(model: ModelConfig): (name: string) => boolean {
  const kept = new Set([...model.features.map((f) => f.name), 'prediction', 'score', 'label', 'segment']);
  return (name) => kept.has(name);
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
 * The reference of a training file read as typed columns (readTable with {@link baselineColumnTypes}
 * and {@link baselineColumnsKept}): what {@link rowsFromTable} makes of the same file — each row
 * checked as an API row is, the rejected ones listed with their line — without an object per row.
 * A target column's values are checked once per distinct value (categorical columns) or per row
 * (numeric ones) with the validator's field checks; a rejected row's reason is the validator's
 * answer for the whole row, as rowsFromTable gets it.
 */
export function referenceFromTable(
  model: ModelConfig,
  t: ColumnarTable,
  validator: ModelValidator = new ModelValidator(model),
): { columns: BaselineColumns; rows: number; rejected: (ItemRejection & { line: number })[] } {
  const known = new Set(model.features.map((f) => f.name));
  const byName = new Map(t.columns.map((c) => [c.name, c]));
  const typed = <K extends ColumnarColumn['type']>(name: string, type: K | undefined): Extract<ColumnarColumn, { type: K }> | undefined => {
    const c = byName.get(name);
    if (c === undefined || type === undefined || c.type === type) return c as Extract<ColumnarColumn, { type: K }> | undefined;
    throw new Error(`${t.file}: column ${JSON.stringify(name)} is ${c.type}, expected ${type} (read it with baselineColumnTypes)`);
  };
  const regression = model.task === 'regression';
  const features = new Map<string, Float64Array | Coded<string>>();
  for (const f of model.features) {
    if (f.type === 'numeric') {
      const c = typed(f.name, 'numeric');
      if (c !== undefined) features.set(f.name, c.values);
    } else {
      const c = typed(f.name, 'categorical');
      if (c !== undefined) features.set(f.name, { codes: c.codes, values: c.dictionary });
    }
  }
  // the other fields of a row, as rowsFromTable sets them (a feature of that name is a feature)
  const special = <K extends ColumnarColumn['type']>(name: ReferenceField, type: K | undefined): Extract<ColumnarColumn, { type: K }> | undefined =>
    known.has(name) ? undefined : typed(name, type);
  const prediction = special('prediction', regression ? 'numeric' : 'categorical');
  const label = special('label', regression ? 'numeric' : 'categorical');
  const score = special('score', model.task === 'binary' ? 'numeric' : model.task === 'multiclass' ? 'categorical' : undefined);
  const segment = special('segment', 'categorical');
  /** A field's value in a row's item (undefined: not set), from its column's value (a label, or a finite number). */
  const itemValue = (field: ReferenceField, v: string | number): unknown =>
    field === 'score' ? (model.task === 'multiclass' && typeof v === 'string' ? scoreCell(v) : v) : field === 'segment' ? String(v) : regression ? Number(v) : String(v);
  const valueAt = (c: ColumnarColumn, i: number): string | number | null => {
    if (c.type === 'numeric') {
      const x = c.values[i] as number;
      return Number.isFinite(x) ? x : null;
    }
    const k = c.codes[i] as number;
    return k < 0 ? null : (c.dictionary[k] as string);
  };
  /** Whether row i's field passes; categorical columns are checked once per distinct value. */
  const checks: ((i: number) => boolean)[] = [];
  const fields: [ReferenceField, ColumnarColumn][] = [];
  for (const [field, c] of [['prediction', prediction], ['label', label], ['score', score], ['segment', segment]] as const) {
    if (c === undefined) continue;
    fields.push([field, c]);
    if (c.type === 'categorical') {
      const verdict = new Int8Array(c.dictionary.length); // 0 not yet checked, 1 valid, 2 not
      checks.push((i) => {
        const k = c.codes[i] as number;
        if (k < 0) return true;
        let v = verdict[k] as number;
        if (v === 0) verdict[k] = v = validator.referenceFieldValid(field, itemValue(field, c.dictionary[k] as string)) ? 1 : 2;
        return v === 1;
      });
    } else {
      checks.push((i) => {
        const x = c.values[i] as number;
        return !Number.isFinite(x) || validator.referenceFieldValid(field, itemValue(field, x));
      });
    }
  }
  const rejected: (ItemRejection & { line: number })[] = [];
  const bad: number[] = [];
  for (let i = 0; i < t.rowCount; i++) {
    let ok = true;
    for (let f = 0; f < checks.length && ok; f++) ok = (checks[f] as (i: number) => boolean)(i);
    if (ok) continue;
    // the validator's own answer for the whole row (its first problem), as rowsFromTable gets it
    const featureValues: Record<string, FeatureValue> = Object.create(null) as Record<string, FeatureValue>;
    for (const c of t.columns) if (known.has(c.name)) featureValues[c.name] = valueAt(c, i);
    const item: Record<string, unknown> = { features: featureValues };
    for (const [field, c] of fields) {
      const v = valueAt(c, i);
      if (v !== null) item[field] = itemValue(field, v);
    }
    const r = validator.referenceRows([item]).rejected[0];
    if (r === undefined) continue;
    rejected.push({ ...r, index: i, line: t.lineOf(i) });
    bad.push(i);
  }
  let select: Int32Array | undefined;
  if (bad.length > 0) {
    select = new Int32Array(t.rowCount - bad.length);
    let at = 0;
    let b = 0;
    for (let i = 0; i < t.rowCount; i++) {
      if (b < bad.length && bad[b] === i) b++;
      else select[at++] = i;
    }
  }
  const maps: Coded<Readonly<Record<string, number>> | null> | undefined =
    model.task === 'multiclass' && score?.type === 'categorical'
      ? {
          codes: score.codes,
          values: score.dictionary.map((text) => {
            const m = scoreCell(text);
            return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Readonly<Record<string, number>>) : null;
          }),
        }
      : undefined;
  const columns: BaselineColumns = {
    length: t.rowCount,
    ...(select === undefined ? {} : { select }),
    features,
    ...(prediction === undefined ? {} : { prediction: prediction.type === 'numeric' ? { values: prediction.values } : { codes: prediction.codes, values: prediction.dictionary } }),
    ...(label === undefined ? {} : { label: label.type === 'numeric' ? { values: label.values } : { codes: label.codes, values: label.dictionary } }),
    ...(model.task === 'binary' && score?.type === 'numeric' ? { score: score.values } : maps === undefined ? {} : { score: maps }),
    ...(segment === undefined ? {} : { segment: { codes: segment.codes, values: segment.dictionary } }),
  };
  return { columns, rows: select === undefined ? t.rowCount : select.length, rejected };
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
