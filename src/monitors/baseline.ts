import type { ModelConfig } from '../config/schema.js';
import { DEFAULT_REFERENCE_POINTS, positiveClassOf, SEGMENTS_MAX } from '../config/schema.js';
import { VigilError } from '../core/errors.js';
import {
  limitReferencePoints,
  referenceFromJSON,
  referenceToJSON,
  summarizeCategorical,
  summarizeNumeric,
  type CategoricalReferenceSummary,
  type NumericReferenceSummary,
  type ReferenceSummary,
  type ReferenceSummaryJSON,
} from '../stats/reference.js';
import type { BaselineRecord, FeatureValue, ReferenceKind, ReferenceValues, SavedBaseline, Store, Target } from '../store/store.js';
import { pagedF64 } from './columns.js';
import { qualityMetrics, type QualityMetric } from './quality.js';
import { fitCbpeCalibration, type CalibrationDecision } from '../stats/cbpe-calibration.js';
import type { IsotonicFit } from '../stats/isotonic.js';

/** One row of reference data: features, and (when the data carries them) prediction, score, label. */
export interface BaselineRow {
  features: Readonly<Record<string, FeatureValue>>;
  prediction?: Target | null;
  /** Binary: the positive class's probability (the prediction reference); multiclass: `{class: probability}` (accepted, not summarized: multiclass prediction drift is over the predicted classes). */
  score?: number | Readonly<Record<string, number>> | null;
  label?: Target | null;
  /** The row's segment (segment references, models[].segments). */
  segment?: string | null;
}

/**
 * What a baseline stores as JSON (the store's `baselines.summary`). The sorted values of its
 * numeric references are not in it: they are stored beside it (see {@link BuiltBaseline}).
 */
export interface BaselineSummary {
  v: 1;
  task: ModelConfig['task'];
  rows: number;
  features: Record<string, ReferenceSummaryJSON>;
  /** Binary: score distribution; multiclass: predicted classes; regression: predicted values. */
  prediction?: ReferenceSummaryJSON;
  /** Classifiers: label classes; regression: label values. */
  label?: ReferenceSummaryJSON;
  /** Reference quality, when the rows carry labels and predictions. */
  quality: Partial<Record<QualityMetric, number>>;
  /** Binary: CBPE's calibration, from the rows with a label and a score (absent in baselines built before it existed). */
  calibration?: CalibrationJSON;
  /**
   * Multiclass: CBPE's calibration of each class's probability, one-vs-rest (NannyML's), from the
   * labelled rows that posted a probability for every class; by class. Absent without such rows.
   */
  classCalibrations?: Record<string, CalibrationJSON>;
  /**
   * models[].segments: the references of the reference rows' most frequent segment values (at
   * least min_samples rows each, at most SEGMENTS_MAX of them), by value. A segment's drift, data
   * quality and quality comparison read its own; their numeric values are stored apart too.
   */
  segments?: Record<string, SegmentSummary>;
}

/** One segment's part of a baseline: its rows' references and quality. */
export interface SegmentSummary {
  rows: number;
  features: Record<string, ReferenceSummaryJSON>;
  prediction?: ReferenceSummaryJSON;
  label?: ReferenceSummaryJSON;
  quality: Partial<Record<QualityMetric, number>>;
}

/** A segment's references, loaded. */
export interface SegmentReference {
  readonly rows: number;
  readonly features: Map<string, ReferenceSummary>;
  readonly prediction?: ReferenceSummary;
  readonly label?: ReferenceSummary;
  readonly quality: Partial<Record<QualityMetric, number>>;
}

/** A baseline's CBPE calibration as stored: NannyML's decision and the isotonic fit on every labelled, scored row. */
export interface CalibrationJSON {
  /** Rows it was computed from. */
  rows: number;
  decision: CalibrationDecision;
  /** The fit's thresholds (absent when the labels hold one class). */
  x?: number[];
  y?: number[];
}

/** A baseline's CBPE calibration, loaded. */
export interface LoadedCalibration {
  readonly rows: number;
  readonly decision: CalibrationDecision;
  readonly fit?: IsotonicFit;
}

/** A baseline as built from rows: its summary JSON and its numeric reference values, stored apart. */
export interface BuiltBaseline {
  summary: BaselineSummary;
  references: ReferenceValues[];
}

/** A baseline ready for the cycle: summaries parsed once. */
export interface LoadedBaseline {
  record: Omit<BaselineRecord, 'summary'>;
  features: Map<string, ReferenceSummary>;
  prediction?: ReferenceSummary;
  label?: ReferenceSummary;
  quality: Partial<Record<QualityMetric, number>>;
  calibration?: LoadedCalibration;
  /** Multiclass: each class's calibration, by class (the classes NannyML's estimate reads). */
  classCalibrations?: ReadonlyMap<string, LoadedCalibration>;
  /** models[].segments: the segments' own references, by segment value. */
  segments?: ReadonlyMap<string, SegmentReference>;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Values coded against their distinct values: `codes[i]` is the index of row i's value in `values`, -1 where the row has none. */
export interface Coded<T> {
  readonly codes: Int32Array;
  readonly values: readonly T[];
}

/** A number a row: `present` says which rows have one (absent: the rows with a finite number). */
export interface Measured {
  readonly values: Float64Array;
  readonly present?: Uint8Array;
}

/**
 * Reference rows as columns — what {@link buildBaselineFromColumns} summarizes: rows of objects
 * ({@link buildBaseline}) or a training file's typed columns (monitors/baseline-input.ts), with no
 * object per row. Every column has `length` entries.
 */
export interface BaselineColumns {
  readonly length: number;
  /** The rows that make the reference, ascending (the others were rejected); all of them when absent. */
  readonly select?: Int32Array;
  /**
   * By feature name: a numeric feature's values (anything but a finite number is missing), a
   * categorical one's values as text (-1 and '' missing). A feature without a column has no value.
   */
  readonly features: ReadonlyMap<string, Float64Array | Coded<string>>;
  /** Classifiers: the predicted class as text; regression: the predicted value. */
  readonly prediction?: Coded<string> | Measured;
  /** Classifiers: the label's class as text; regression: the label's value. */
  readonly label?: Coded<string> | Measured;
  /** Binary: the positive class's probability (NaN: none); multiclass: the `{class: probability}` maps (null: none). */
  readonly score?: Float64Array | Coded<Readonly<Record<string, number>> | null>;
  readonly segment?: Coded<string>;
}

const isCoded = <T>(c: Coded<T> | Measured | Float64Array | undefined): c is Coded<T> => c !== undefined && !(c instanceof Float64Array) && 'codes' in c;

/** Row i's target: its text (classifiers) or number (regression); undefined where it has none. */
function targetOf(c: Coded<string> | Measured | undefined): { has: (i: number) => boolean; text: (i: number) => string; number: (i: number) => number } {
  if (c === undefined) return { has: () => false, text: () => '', number: () => NaN };
  if (isCoded(c)) return { has: (i) => (c.codes[i] as number) >= 0, text: (i) => c.values[c.codes[i] as number] as string, number: (i) => Number(c.values[c.codes[i] as number]) };
  const present = c.present;
  return {
    has: present === undefined ? (i) => Number.isFinite(c.values[i] as number) : (i) => present[i] === 1,
    text: (i) => String(c.values[i]),
    number: (i) => c.values[i] as number,
  };
}

/**
 * A categorical summary of coded values over some rows (`rows`: indexes into the codes; every row
 * when absent): -1 and '' are missing, as summarizeCategorical counts them.
 */
function summarizeCoded(c: Coded<string> | undefined, rows: Int32Array | undefined, n: number): CategoricalReferenceSummary {
  if (c === undefined) return summarizeCategorical(new Map()); // no value: throws as for all-missing rows
  const perCode = new Float64Array(c.values.length);
  let missing = 0;
  for (let k = 0; k < n; k++) {
    const code = c.codes[rows === undefined ? k : (rows[k] as number)] as number;
    if (code < 0) missing++;
    else perCode[code] = (perCode[code] as number) + 1;
  }
  const counts = new Map<string, number>();
  c.values.forEach((v, code) => {
    const x = perCode[code] as number;
    if (x === 0) return;
    if (v === '') missing += x;
    else counts.set(v, (counts.get(v) ?? 0) + x);
  });
  return { ...summarizeCategorical(counts), missing };
}

/** The rows (indexes into the columns) among `rows` (all `n` when absent) for which `keep` holds. */
function rowsWhere(rows: Int32Array | undefined, n: number, keep: (i: number) => boolean): Int32Array {
  let count = 0;
  for (let k = 0; k < n; k++) if (keep(rows === undefined ? k : (rows[k] as number))) count++;
  const out = new Int32Array(count);
  let at = 0;
  for (let k = 0; k < n; k++) {
    const i = rows === undefined ? k : (rows[k] as number);
    if (keep(i)) out[at++] = i;
  }
  return out;
}

/** f of each of `rows`, as float64 (a loop: Float64Array.from with a function goes through the iterator). */
function mapRows(rows: Int32Array, f: (i: number) => number): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = f(rows[k] as number);
  return out;
}

/**
 * Summarizes reference rows for a model: per-feature references, prediction/label distributions,
 * quality; the label-free estimate's calibration; with models[].segments, each frequent segment's
 * own references (`segment`: building one segment's part, none of the last two).
 */
export function buildBaseline(model: ModelConfig, rows: readonly BaselineRow[], part: 'model' | 'segment' = 'model'): BuiltBaseline {
  return summarize(model, columnsOfRows(model, rows), undefined, part);
}

/**
 * {@link buildBaseline} of reference data held as columns (the selected rows, in their order): the
 * same baseline as from the same rows as objects. `release`: the feature columns are freed as soon
 * as they are summarized (their memory goes back at once, before the quality and calibration need
 * theirs) — only for columns nothing else reads afterwards, as `vigil baseline`'s. With
 * models[].segments they are kept to the end: each segment reads them again.
 */
export function buildBaselineFromColumns(model: ModelConfig, columns: BaselineColumns, options: { release?: boolean } = {}): BuiltBaseline {
  return summarize(model, columns, columns.select, 'model', options.release === true && model.segments === undefined);
}

/** Frees a column's memory now (its arrays become empty): see buildBaselineFromColumns's `release`. */
function releaseColumn(c: Float64Array | Coded<string> | undefined): void {
  const a = c === undefined ? undefined : c instanceof Float64Array ? c : c.codes;
  const buffer = a?.buffer;
  if (buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
}

/** Rows of objects as columns: what each row's fields mean to the baseline, nothing more. */
export function columnsOfRows(model: ModelConfig, rows: readonly BaselineRow[]): BaselineColumns {
  const n = rows.length;
  /** Text values coded (first seen, first coded). */
  const coder = (): { codes: Int32Array; values: string[]; set: (i: number, v: string | null) => void } => {
    const codes = new Int32Array(n).fill(-1);
    const values: string[] = [];
    const index = new Map<string, number>();
    return {
      codes,
      values,
      set: (i, v) => {
        if (v === null) return;
        let c = index.get(v);
        if (c === undefined) {
          index.set(v, (c = values.length));
          values.push(v);
        }
        codes[i] = c;
      },
    };
  };
  // a feature's value by own property: a row without `toString` has no toString feature
  const feature = (r: BaselineRow, name: string): FeatureValue | undefined => (Object.hasOwn(r.features, name) ? r.features[name] : undefined);
  const features = new Map<string, Float64Array | Coded<string>>();
  for (const f of model.features) {
    if (f.type === 'numeric') {
      features.set(
        f.name,
        Float64Array.from(rows, (r) => {
          const x = feature(r, f.name);
          return isNum(x) ? x : NaN;
        }),
      );
    } else {
      const c = coder();
      rows.forEach((r, i) => {
        const v = feature(r, f.name);
        c.set(i, v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v)) ? null : String(v));
      });
      features.set(f.name, { codes: c.codes, values: c.values });
    }
  }
  const target = (get: (r: BaselineRow) => Target | null | undefined): Coded<string> | Measured => {
    if (model.task !== 'regression') {
      const c = coder();
      rows.forEach((r, i) => {
        const v = get(r);
        c.set(i, v === null || v === undefined ? null : String(v));
      });
      return { codes: c.codes, values: c.values };
    }
    const values = new Float64Array(n).fill(NaN);
    const present = new Uint8Array(n);
    let odd = false; // a present value that is not a finite number: `present` is needed
    rows.forEach((r, i) => {
      const v = get(r);
      if (v === null || v === undefined) return;
      const x = Number(v);
      values[i] = x;
      present[i] = 1;
      if (!Number.isFinite(x)) odd = true;
    });
    return odd ? { values, present } : { values };
  };
  let score: BaselineColumns['score'];
  if (model.task === 'binary') score = Float64Array.from(rows, (r) => (isNum(r.score) ? r.score : NaN));
  else if (model.task === 'multiclass') {
    const codes = new Int32Array(n).fill(-1);
    const values: Readonly<Record<string, number>>[] = [];
    rows.forEach((r, i) => {
      const s = r.score;
      if (s === null || s === undefined || typeof s !== 'object') return;
      codes[i] = values.length;
      values.push(s);
    });
    score = { codes, values };
  }
  const segment = coder();
  rows.forEach((r, i) => segment.set(i, typeof r.segment === 'string' ? r.segment : null));
  return {
    length: n,
    features,
    prediction: target((r) => r.prediction),
    label: target((r) => r.label),
    ...(score === undefined ? {} : { score }),
    segment: { codes: segment.codes, values: segment.values },
  };
}

/** The baseline of the rows `select` of the columns (every row when absent). */
function summarize(model: ModelConfig, cols: BaselineColumns, select: Int32Array | undefined, part: 'model' | 'segment', release = false): BuiltBaseline {
  const n = select === undefined ? cols.length : select.length;
  if (n === 0) throw new VigilError('VIGIL_ERR_BASELINE_EMPTY', 'a baseline needs at least one row', { statusCode: 400 });
  const at = (k: number): number => (select === undefined ? k : (select[k] as number));
  const features = Object.create(null) as Record<string, ReferenceSummaryJSON>; // feature names are user-chosen keys
  const references: ReferenceValues[] = [];
  /** The JSON of a summary; a numeric one's sorted values go to `references`. */
  const keep = (kind: ReferenceKind, name: string, s: ReferenceSummary): ReferenceSummaryJSON => {
    if (s.kind === 'numeric') references.push({ kind, name, sorted: s.sorted });
    return referenceToJSON(s);
  };
  for (const f of model.features) {
    const col = cols.features.get(f.name);
    try {
      if (f.type === 'numeric') {
        // every row of a column without ±Infinity is read as it is; else the rows' finite values, NaN for the others
        let whole = select === undefined && col instanceof Float64Array;
        for (let k = 0; whole && k < n; k++) {
          const x = (col as Float64Array)[k] as number;
          if (x === Infinity || x === -Infinity) whole = false;
        }
        let v: Float64Array;
        if (whole) v = col as Float64Array;
        else {
          v = new Float64Array(n).fill(NaN);
          if (col instanceof Float64Array) {
            for (let k = 0; k < n; k++) {
              const x = col[at(k)] as number;
              if (Number.isFinite(x)) v[k] = x;
            }
          }
        }
        features[f.name] = keep('feature', f.name, summarizeNumeric(v));
      } else {
        features[f.name] = referenceToJSON(summarizeCoded(isCoded(col) ? col : undefined, select, n));
      }
    } catch {
      // A feature with no values in the reference: no summary, its drift stays undefined (absent).
    }
    if (release) releaseColumn(col);
  }
  const out: BaselineSummary = { v: 1, task: model.task, rows: n, features, quality: {} };
  const classifier = model.task !== 'regression';
  const prediction = targetOf(cols.prediction);
  const label = targetOf(cols.label);
  const binaryScore = cols.score instanceof Float64Array ? cols.score : undefined;
  const scoreOf = (i: number): number => {
    const x = binaryScore === undefined ? NaN : (binaryScore[i] as number);
    return Number.isFinite(x) ? x : NaN;
  };
  try {
    if (model.task === 'binary') {
      const scored = rowsWhere(select, n, (i) => isNum(scoreOf(i)));
      if (scored.length > 0) out.prediction = keep('prediction', '', summarizeNumeric(mapRows(scored, scoreOf)));
    } else {
      const preds = rowsWhere(select, n, prediction.has);
      if (preds.length > 0) {
        out.prediction = keep(
          'prediction',
          '',
          classifier ? summarizeCoded(cols.prediction as Coded<string>, preds, preds.length) : summarizeNumeric(mapRows(preds, prediction.number)),
        );
      }
    }
  } catch {
    // no usable predictions
  }
  const labelled = rowsWhere(select, n, label.has);
  if (labelled.length > 0) {
    try {
      out.label = keep('label', '', classifier ? summarizeCoded(cols.label as Coded<string>, labelled, labelled.length) : summarizeNumeric(mapRows(labelled, label.number)));
    } catch {
      // labels present but unusable
    }
    if (part === 'segment') {
      // the label-free estimate is the model's
    } else if (model.task === 'binary') {
      const cal = calibrationOf(model, labelled, label.text, scoreOf, select === undefined ? binaryScore : undefined);
      if (cal !== undefined) out.calibration = cal;
    } else if (model.task === 'multiclass') {
      const cals = classCalibrationsOf(labelled, label.text, mapsOf(cols.score));
      if (cals !== undefined) out.classCalibrations = cals;
    }
    const both = rowsWhere(labelled, labelled.length, prediction.has);
    if (both.length > 0) {
      if (classifier) {
        const codes = new Map<string, number>();
        const code = (k: string): number => {
          let c = codes.get(k);
          if (c === undefined) codes.set(k, (c = codes.size));
          return c;
        };
        const positive = model.task === 'binary' ? code(positiveClassOf(model)) : undefined;
        // the classes coded as they come (labels, then predictions), each distinct value looked up once
        const coded = (c: Coded<string> | Measured | undefined, text: (i: number) => string): ((i: number) => number) => {
          if (!isCoded(c)) return (i) => code(text(i));
          const cache = new Int32Array(c.values.length).fill(-1);
          return (i) => {
            const k = c.codes[i] as number;
            let u = cache[k] as number;
            if (u < 0) cache[k] = u = code(c.values[k] as string);
            return u;
          };
        };
        const yTrue = mapRows(both, coded(cols.label, label.text));
        const yPred = mapRows(both, coded(cols.prediction, prediction.text));
        const scores = model.task === 'binary' ? mapRows(both, scoreOf) : undefined;
        const proba = model.task === 'multiclass' ? referenceProba(both, mapsOf(cols.score), code) : undefined;
        out.quality = qualityMetrics({ task: model.task, yTrue, yPred, ...(scores ? { scores } : {}), ...(positive === undefined ? {} : { positive }), ...(proba ? { proba } : {}) });
      } else {
        out.quality = qualityMetrics({ task: 'regression', yTrue: mapRows(both, label.number), yPred: mapRows(both, prediction.number) });
      }
    }
  }
  if (part === 'model' && model.segments !== undefined && cols.segment !== undefined) segmentReferences(model, cols, select, n, out, references);
  return { summary: out, references };
}

/** Row i's `{class: probability}` map, or null. */
function mapsOf(score: BaselineColumns['score']): (i: number) => Readonly<Record<string, number>> | null {
  if (!isCoded(score)) return () => null;
  return (i) => {
    const c = score.codes[i] as number;
    return c < 0 ? null : (score.values[c] ?? null);
  };
}

/**
 * The segments' references of a baseline (models[].segments): the segment values of at least
 * min_samples reference rows, the most frequent first (ties by value), at most SEGMENTS_MAX; each
 * summarized as a baseline of its rows alone, its numeric values stored under kind `segment`.
 */
function segmentReferences(model: ModelConfig, cols: BaselineColumns, select: Int32Array | undefined, n: number, out: BaselineSummary, references: ReferenceValues[]): void {
  const seg = cols.segment as Coded<string>;
  const counts = new Float64Array(seg.values.length);
  for (let k = 0; k < n; k++) {
    const c = seg.codes[select === undefined ? k : (select[k] as number)] as number;
    if (c >= 0) counts[c] = (counts[c] as number) + 1;
  }
  const chosen = seg.values
    .map((value, code) => ({ value, code, rows: counts[code] as number }))
    .filter((s) => s.rows > 0 && s.rows >= model.min_samples)
    .sort((x, y) => y.rows - x.rows || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0))
    .slice(0, SEGMENTS_MAX);
  if (chosen.length === 0) return;
  const segments = Object.create(null) as Record<string, SegmentSummary>; // segment values are user-chosen keys
  for (const { value, code } of chosen) {
    const rows = rowsWhere(select, n, (i) => seg.codes[i] === code);
    const built = summarize(model, cols, rows, 'segment');
    const s = built.summary;
    segments[value] = { rows: rows.length, features: s.features, ...(s.prediction ? { prediction: s.prediction } : {}), ...(s.label ? { label: s.label } : {}), quality: s.quality };
    for (const r of built.references) references.push({ kind: 'segment', name: segmentRefName(value, r.kind, r.name), sorted: r.sorted });
  }
  out.segments = segments;
}

/** The stored name of a segment's reference values. */
const segmentRefName = (segment: string, kind: ReferenceKind, name: string): string => JSON.stringify([segment, kind, name]);

/** Multiclass reference rows' class probabilities (`score: {class: p}`), per class of any row's map; NaN where a row has none. */
function referenceProba(rows: Int32Array, mapOf: (i: number) => Readonly<Record<string, number>> | null, code: (v: string) => number): { labels: number[]; columns: Float64Array[] } {
  const classes: string[] = [];
  const seen = new Set<string>();
  for (const i of rows) {
    const s = mapOf(i);
    if (s === null) continue;
    for (const c in s) {
      if (!Object.hasOwn(s, c) || seen.has(c)) continue;
      seen.add(c);
      classes.push(c);
    }
  }
  return {
    labels: classes.map((c) => code(c)),
    columns: classes.map((c) =>
      mapRows(rows, (i) => {
        const s = mapOf(i);
        return s !== null && Object.hasOwn(s, c) && isNum(s[c]) ? (s[c] as number) : NaN;
      }),
    ),
  };
}

/**
 * CBPE's calibration of a binary model (NannyML's `needs_calibration`, then the isotonic fit on the
 * whole reference): over the labelled rows whose score is a probability, in their order (the split
 * draws rows by position), the label 1 when it is the positive class. Absent without such rows.
 */
function calibrationOf(model: ModelConfig, labelled: Int32Array, labelOf: (i: number) => string, scoreOf: (i: number) => number, scoreColumn: Float64Array | undefined): CalibrationJSON | undefined {
  const positive = String(positiveClassOf(model));
  const scored = rowsWhere(labelled, labelled.length, (i) => {
    const s = scoreOf(i);
    return isNum(s) && s >= 0 && s <= 1;
  });
  if (scored.length === 0) return undefined;
  const y = labelsWhere(scored, (i) => labelOf(i) === positive);
  // every row of the column scored: the column is the scores (rows 0…n-1, every value a probability), not a copy
  const s = scoreColumn !== undefined && scored.length === scoreColumn.length ? scoreColumn : mapRows(scored, scoreOf);
  return fittedCalibration(y, s);
}

/** 1 where `is` holds of the row, else 0 (a byte a row: these are the calibration's labels). */
function labelsWhere(rows: Int32Array, is: (i: number) => boolean): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = is(rows[k] as number) ? 1 : 0;
  return out;
}

/** NannyML's decision and the isotonic fit of these labels (1: the class) and scores, as stored. */
function fittedCalibration(y: Uint8Array, scores: Float64Array): CalibrationJSON {
  const c = fitCbpeCalibration(y, scores);
  return { rows: y.length, decision: c.decision, ...(c.fit ? { x: Array.from(c.fit.x), y: Array.from(c.fit.y) } : {}) };
}

/**
 * CBPE's calibration of a multiclass model, as NannyML fits it: per class c (in sorted order) the
 * binary decision and fit of calibrationOf on the label `label == c` and the probability of c, over
 * the labelled rows that posted a finite probability for every class (NannyML refuses a reference
 * with a missing one), in their order. Absent without such rows or with fewer than two classes.
 */
function classCalibrationsOf(labelled: Int32Array, labelOf: (i: number) => string, mapOf: (i: number) => Readonly<Record<string, number>> | null): Record<string, CalibrationJSON> | undefined {
  const classes = new Set<string>();
  for (const i of labelled) {
    const m = mapOf(i);
    if (m !== null) for (const c in m) if (Object.hasOwn(m, c)) classes.add(c);
  }
  const sorted = [...classes].sort();
  if (sorted.length < 2) return undefined;
  const rows = rowsWhere(labelled, labelled.length, (i) => {
    const m = mapOf(i);
    return m !== null && sorted.every((c) => Object.hasOwn(m, c) && isNum(m[c]) && (m[c] as number) >= 0 && (m[c] as number) <= 1);
  });
  if (rows.length === 0) return undefined;
  const out = Object.create(null) as Record<string, CalibrationJSON>; // class names are user-chosen keys
  for (const c of sorted) {
    const y = labelsWhere(rows, (i) => labelOf(i) === c);
    const p = mapRows(rows, (i) => (mapOf(i) as Readonly<Record<string, number>>)[c] as number);
    out[c] = fittedCalibration(y, p);
  }
  return out;
}

/** A calibration for people: the API's answer (snake_case) and the CLI's line. */
export function calibrationReport(c: CalibrationJSON): { rows: number; needed: boolean; reason?: string; detail?: string; ece_before?: number; ece_after?: number } {
  const d = c.decision;
  return d.reason === undefined
    ? { rows: c.rows, needed: d.needed, ece_before: d.eceBefore, ece_after: d.eceAfter }
    : { rows: c.rows, needed: false, reason: d.reason, detail: d.detail };
}

/** A baseline's segment references for people: rows per segment value (the API's `segments`). */
export const segmentRows = (segments: Readonly<Record<string, SegmentSummary>>): Record<string, number> => Object.fromEntries(Object.entries(segments).map(([v, s]) => [v, s.rows]));

/** A multiclass model's calibrations for people, by class (the API's `class_calibrations`). */
export const classCalibrationsReport = (cals: Readonly<Record<string, CalibrationJSON>>): Record<string, ReturnType<typeof calibrationReport>> =>
  Object.fromEntries(Object.entries(cals).map(([c, cal]) => [c, calibrationReport(cal)]));

export function calibrationLine(c: CalibrationJSON): string {
  const d = c.decision;
  if (d.reason !== undefined) return `label-free estimate: scores used as posted (${d.detail}; ${c.rows} labelled, scored rows)`;
  const eces = `held-out ECE ${d.eceBefore.toFixed(4)} as posted, ${d.eceAfter.toFixed(4)} calibrated, over ${c.rows} labelled, scored rows`;
  return d.needed ? `label-free estimate: scores calibrated (isotonic; ${eces})` : `label-free estimate: scores used as posted (${eces})`;
}

/** A stored calibration, checked; a malformed one is a corrupt baseline. */
function loadCalibration(c: CalibrationJSON): LoadedCalibration {
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (c.x === undefined && c.y === undefined) return { rows: c.rows, decision: c.decision };
  if (!ok(c.x) || !ok(c.y) || c.x.length !== c.y.length || c.x.length === 0) throw new Error('calibration: x and y must be equal, non-empty arrays of finite numbers');
  for (let i = 1; i < c.x.length; i++) {
    if (!((c.x[i] as number) > (c.x[i - 1] as number)) || (c.y[i] as number) < (c.y[i - 1] as number)) throw new Error('calibration: thresholds must be increasing in x and non-decreasing in y');
  }
  const x = Float64Array.from(c.x);
  return { rows: c.rows, decision: c.decision, fit: { x, y: Float64Array.from(c.y), xMin: x[0] as number, xMax: x[x.length - 1] as number } };
}

/**
 * Stores a built baseline: its summary JSON and its reference values, in one transaction. A version
 * that has a baseline already is refused (VIGIL_ERR_BASELINE_EXISTS, 409) unless `replace`.
 */
export function storeBaseline(
  store: Store,
  b: Pick<BaselineRecord, 'model' | 'version' | 'createdAt' | 'source'>,
  built: BuiltBaseline,
  options: { replace?: boolean } = {},
): Promise<SavedBaseline> {
  return store.saveBaseline({ ...b, rows: built.summary.rows, summary: JSON.stringify(built.summary) }, built.references, options);
}

const refKey = (kind: ReferenceKind, name: string): string => `${kind}\u0000${name}`;

/**
 * Parses a stored baseline (once per baseline, not per cycle): its small summary JSON, and its
 * numeric reference values, checked against the summary and then copied into shared memory (the
 * drift worker reads them too) — all of them when there are at most `referencePoints`, else their
 * quantile sketch of `referencePoints` (stats/reference.ts, limitReferencePoints). The store keeps
 * every stored value: a larger `referencePoints` later loads more of them.
 */
export async function loadBaseline(store: Store, record: BaselineRecord, referencePoints: number = DEFAULT_REFERENCE_POINTS): Promise<LoadedBaseline> {
  const s = JSON.parse(record.summary) as BaselineSummary;
  /** A segment's part of the summary, by stored name (segmentRefName). */
  const segmentJson = (name: string): ReferenceSummaryJSON | undefined => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(name);
    } catch {
      return undefined; // not a name Vigil writes: ignored, as values of an unknown feature are
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
    const [segment, kind, feature] = parsed as [string, ReferenceKind, string];
    const seg = s.segments !== undefined && Object.hasOwn(s.segments, segment) ? s.segments[segment] : undefined;
    if (seg === undefined) return undefined;
    return kind === 'feature' ? (Object.hasOwn(seg.features, feature) ? seg.features[feature] : undefined) : kind === 'prediction' ? seg.prediction : kind === 'label' ? seg.label : undefined;
  };
  const jsonOf = (kind: ReferenceKind, name: string): ReferenceSummaryJSON | undefined =>
    kind === 'feature' ? (Object.hasOwn(s.features, name) ? s.features[name] : undefined) : kind === 'prediction' ? s.prediction : kind === 'label' ? s.label : segmentJson(name);
  const parse = (kind: ReferenceKind, name: string, json: ReferenceSummaryJSON, values: Float64Array | undefined): ReferenceSummary => {
    try {
      const r = referenceFromJSON(json, values);
      // `values` is the store's, valid during its callback only: what is kept is copied (or sketched) here
      return r.kind === 'numeric' ? limitReferencePoints(r, referencePoints, pagedF64) : r;
    } catch (e) {
      throw new VigilError('VIGIL_ERR_BASELINE_CORRUPT', `baseline ${record.id}, ${kind === 'feature' || kind === 'segment' ? `${kind} ${name}` : kind}: ${(e as Error).message}`, { cause: e });
    }
  };
  const withValues = new Map<string, ReferenceSummary>();
  await store.readBaselineReferences(record.id, (kind, name, values) => {
    const json = jsonOf(kind, name);
    if (json !== undefined) withValues.set(refKey(kind, name), parse(kind, name, json, values));
  });
  const summary = (kind: ReferenceKind, name: string, json: ReferenceSummaryJSON): ReferenceSummary => withValues.get(refKey(kind, name)) ?? parse(kind, name, json, undefined);
  const features = new Map<string, ReferenceSummary>();
  for (const [name, json] of Object.entries(s.features)) features.set(name, summary('feature', name, json));
  let segments: Map<string, SegmentReference> | undefined;
  if (s.segments !== undefined) {
    segments = new Map();
    for (const [value, seg] of Object.entries(s.segments)) {
      const part = (kind: ReferenceKind, name: string, json: ReferenceSummaryJSON): ReferenceSummary => summary('segment', segmentRefName(value, kind, name), json);
      const f = new Map<string, ReferenceSummary>();
      for (const [name, json] of Object.entries(seg.features)) f.set(name, part('feature', name, json));
      segments.set(value, {
        rows: seg.rows,
        features: f,
        ...(seg.prediction ? { prediction: part('prediction', '', seg.prediction) } : {}),
        ...(seg.label ? { label: part('label', '', seg.label) } : {}),
        quality: seg.quality,
      });
    }
  }
  const { summary: _omit, ...meta } = record;
  let calibration: LoadedCalibration | undefined;
  let classCalibrations: Map<string, LoadedCalibration> | undefined;
  try {
    if (s.calibration !== undefined) calibration = loadCalibration(s.calibration);
    if (s.classCalibrations !== undefined) {
      classCalibrations = new Map();
      for (const [c, cal] of Object.entries(s.classCalibrations)) classCalibrations.set(c, loadCalibration(cal));
    }
  } catch (e) {
    throw new VigilError('VIGIL_ERR_BASELINE_CORRUPT', `baseline ${record.id}, ${(e as Error).message}`, { cause: e });
  }
  return {
    record: meta,
    features,
    ...(s.prediction ? { prediction: summary('prediction', '', s.prediction) } : {}),
    ...(s.label ? { label: summary('label', '', s.label) } : {}),
    quality: s.quality,
    ...(calibration ? { calibration } : {}),
    ...(classCalibrations ? { classCalibrations } : {}),
    ...(segments ? { segments } : {}),
  };
}

export type { CategoricalReferenceSummary, NumericReferenceSummary };
