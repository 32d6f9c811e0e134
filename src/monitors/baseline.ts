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

/**
 * Summarizes reference rows for a model: per-feature references, prediction/label distributions,
 * quality; the label-free estimate's calibration; with models[].segments, each frequent segment's
 * own references (`segment`: building one segment's part, none of the last two).
 */
export function buildBaseline(model: ModelConfig, rows: readonly BaselineRow[], part: 'model' | 'segment' = 'model'): BuiltBaseline {
  if (rows.length === 0) throw new VigilError('VIGIL_ERR_BASELINE_EMPTY', 'a baseline needs at least one row', { statusCode: 400 });
  const features = Object.create(null) as Record<string, ReferenceSummaryJSON>; // feature names are user-chosen keys
  const references: ReferenceValues[] = [];
  /** The JSON of a summary; a numeric one's sorted values go to `references`. */
  const keep = (kind: ReferenceKind, name: string, s: ReferenceSummary): ReferenceSummaryJSON => {
    if (s.kind === 'numeric') references.push({ kind, name, sorted: s.sorted });
    return referenceToJSON(s);
  };
  for (const f of model.features) {
    try {
      if (f.type === 'numeric') {
        const v = new Float64Array(rows.length);
        rows.forEach((r, i) => {
          const x = r.features[f.name];
          v[i] = isNum(x) ? x : NaN;
        });
        features[f.name] = keep('feature', f.name, summarizeNumeric(v));
      } else {
        features[f.name] = referenceToJSON(summarizeCategorical(rows.map((r) => (r.features[f.name] ?? null) as string | number | null)));
      }
    } catch {
      // A feature with no values in the reference: no summary, its drift stays undefined (absent).
    }
  }
  const out: BaselineSummary = { v: 1, task: model.task, rows: rows.length, features, quality: {} };
  const classifier = model.task !== 'regression';
  const preds = rows.map((r) => r.prediction).filter((p): p is Target => p !== undefined && p !== null);
  try {
    if (model.task === 'binary') {
      const s = rows.map((r) => r.score).filter(isNum);
      if (s.length > 0) out.prediction = keep('prediction', '', summarizeNumeric(Float64Array.from(s)));
    } else if (preds.length > 0) {
      out.prediction = keep('prediction', '', classifier ? summarizeCategorical(preds.map(String)) : summarizeNumeric(Float64Array.from(preds.map(Number))));
    }
  } catch {
    // no usable predictions
  }
  const labelled = rows.filter((r) => r.label !== undefined && r.label !== null);
  if (labelled.length > 0) {
    try {
      out.label = keep(
        'label',
        '',
        classifier ? summarizeCategorical(labelled.map((r) => String(r.label))) : summarizeNumeric(Float64Array.from(labelled.map((r) => Number(r.label)))),
      );
    } catch {
      // labels present but unusable
    }
    if (part === 'segment') {
      // the label-free estimate is the model's
    } else if (model.task === 'binary') {
      const cal = calibrationOf(model, labelled);
      if (cal !== undefined) out.calibration = cal;
    } else if (model.task === 'multiclass') {
      const cals = classCalibrationsOf(labelled);
      if (cals !== undefined) out.classCalibrations = cals;
    }
    const both = labelled.filter((r) => r.prediction !== undefined && r.prediction !== null);
    if (both.length > 0) {
      if (classifier) {
        const codes = new Map<string, number>();
        const code = (v: Target): number => {
          const k = String(v);
          let c = codes.get(k);
          if (c === undefined) codes.set(k, (c = codes.size));
          return c;
        };
        const positive = model.task === 'binary' ? code(positiveClassOf(model)) : undefined;
        const yTrue = Float64Array.from(both, (r) => code(r.label as Target));
        const yPred = Float64Array.from(both, (r) => code(r.prediction as Target));
        const scores = model.task === 'binary' ? Float64Array.from(both, (r) => (isNum(r.score) ? r.score : NaN)) : undefined;
        const proba = model.task === 'multiclass' ? referenceProba(both, code) : undefined;
        out.quality = qualityMetrics({ task: model.task, yTrue, yPred, ...(scores ? { scores } : {}), ...(positive === undefined ? {} : { positive }), ...(proba ? { proba } : {}) });
      } else {
        out.quality = qualityMetrics({
          task: 'regression',
          yTrue: Float64Array.from(both, (r) => Number(r.label)),
          yPred: Float64Array.from(both, (r) => Number(r.prediction)),
        });
      }
    }
  }
  if (part === 'model' && model.segments !== undefined) segmentReferences(model, rows, out, references);
  return { summary: out, references };
}

/**
 * The segments' references of a baseline (models[].segments): the segment values of at least
 * min_samples reference rows, the most frequent first (ties by value), at most SEGMENTS_MAX; each
 * summarized as a baseline of its rows alone, its numeric values stored under kind `segment`.
 */
function segmentReferences(model: ModelConfig, rows: readonly BaselineRow[], out: BaselineSummary, references: ReferenceValues[]): void {
  const bySegment = new Map<string, BaselineRow[]>();
  for (const r of rows) {
    if (typeof r.segment !== 'string') continue;
    let list = bySegment.get(r.segment);
    if (list === undefined) bySegment.set(r.segment, (list = []));
    list.push(r);
  }
  const chosen = [...bySegment]
    .filter(([, list]) => list.length >= model.min_samples)
    .sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, SEGMENTS_MAX);
  if (chosen.length === 0) return;
  const segments = Object.create(null) as Record<string, SegmentSummary>; // segment values are user-chosen keys
  for (const [value, list] of chosen) {
    const built = buildBaseline(model, list, 'segment');
    const s = built.summary;
    segments[value] = { rows: list.length, features: s.features, ...(s.prediction ? { prediction: s.prediction } : {}), ...(s.label ? { label: s.label } : {}), quality: s.quality };
    for (const r of built.references) references.push({ kind: 'segment', name: segmentRefName(value, r.kind, r.name), sorted: r.sorted });
  }
  out.segments = segments;
}

/** The stored name of a segment's reference values. */
const segmentRefName = (segment: string, kind: ReferenceKind, name: string): string => JSON.stringify([segment, kind, name]);

/** Multiclass reference rows' class probabilities (`score: {class: p}`), per class of any row's map; NaN where a row has none. */
function referenceProba(rows: readonly BaselineRow[], code: (v: Target) => number): { labels: number[]; columns: Float64Array[] } {
  const classes: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const s = r.score;
    if (s === null || s === undefined || typeof s !== 'object') continue;
    for (const c in s) {
      if (!Object.hasOwn(s, c) || seen.has(c)) continue;
      seen.add(c);
      classes.push(c);
    }
  }
  return {
    labels: classes.map((c) => code(c)),
    columns: classes.map((c) =>
      Float64Array.from(rows, (r) => {
        const s = r.score;
        return s !== null && s !== undefined && typeof s === 'object' && Object.hasOwn(s, c) && isNum(s[c]) ? (s[c] as number) : NaN;
      }),
    ),
  };
}

/**
 * CBPE's calibration of a binary model (NannyML's `needs_calibration`, then the isotonic fit on the
 * whole reference): over the labelled rows whose score is a probability, in their order (the split
 * draws rows by position), the label 1 when it is the positive class. Absent without such rows.
 */
function calibrationOf(model: ModelConfig, labelled: readonly BaselineRow[]): CalibrationJSON | undefined {
  const positive = String(positiveClassOf(model));
  const scored = labelled.filter((r) => isNum(r.score) && r.score >= 0 && r.score <= 1);
  if (scored.length === 0) return undefined;
  const y = Float64Array.from(scored, (r) => (String(r.label) === positive ? 1 : 0));
  const s = Float64Array.from(scored, (r) => r.score as number);
  return fittedCalibration(y, s);
}

/** NannyML's decision and the isotonic fit of these labels (1: the class) and scores, as stored. */
function fittedCalibration(y: Float64Array, scores: Float64Array): CalibrationJSON {
  const c = fitCbpeCalibration(y, scores);
  return { rows: y.length, decision: c.decision, ...(c.fit ? { x: Array.from(c.fit.x), y: Array.from(c.fit.y) } : {}) };
}

/**
 * CBPE's calibration of a multiclass model, as NannyML fits it: per class c (in sorted order) the
 * binary decision and fit of calibrationOf on the label `label == c` and the probability of c, over
 * the labelled rows that posted a finite probability for every class (NannyML refuses a reference
 * with a missing one), in their order. Absent without such rows or with fewer than two classes.
 */
function classCalibrationsOf(labelled: readonly BaselineRow[]): Record<string, CalibrationJSON> | undefined {
  const maps = labelled.map((r) => (r.score !== null && r.score !== undefined && typeof r.score === 'object' ? r.score : null));
  const classes = new Set<string>();
  for (const m of maps) if (m !== null) for (const c in m) if (Object.hasOwn(m, c)) classes.add(c);
  const sorted = [...classes].sort();
  if (sorted.length < 2) return undefined;
  const rows: number[] = [];
  maps.forEach((m, i) => {
    if (m !== null && sorted.every((c) => Object.hasOwn(m, c) && isNum(m[c]) && (m[c] as number) >= 0 && (m[c] as number) <= 1)) rows.push(i);
  });
  if (rows.length === 0) return undefined;
  const out = Object.create(null) as Record<string, CalibrationJSON>; // class names are user-chosen keys
  for (const c of sorted) {
    const y = Float64Array.from(rows, (i) => (String((labelled[i] as BaselineRow).label) === c ? 1 : 0));
    const p = Float64Array.from(rows, (i) => (maps[i] as Readonly<Record<string, number>>)[c] as number);
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
