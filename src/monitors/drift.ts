import { DEFAULT_THRESHOLDS, categoricalOutcomes, decideDrift, numericOutcomes, type DriftTest, type TestOutcome } from '../stats/drift-decision.js';
import type { CategoricalReferenceSummary, NumericReferenceSummary, ReferenceSummary } from '../stats/reference.js';
import { sortedFloat32 } from './sort32.js';
import { gather, labelled, type Emit, type WindowView } from './view.js';
import type { PreparedCurrent } from '../stats/reference.js';

export const DEFAULT_NUMERIC_TESTS: readonly DriftTest[] = ['ks', 'psi'];
export const DEFAULT_CATEGORICAL_TESTS: readonly DriftTest[] = ['chi2', 'psi'];

function categoryCounts(codes: Int32Array, rows: Int32Array, values: readonly string[]): Map<string, number> {
  const n = new Float64Array(values.length);
  for (const i of rows) {
    const c = codes[i] as number;
    if (c >= 0) n[c] = (n[c] as number) + 1;
  }
  const out = new Map<string, number>();
  values.forEach((v, c) => {
    if ((n[c] as number) > 0) out.set(v, n[c] as number);
  });
  return out;
}

function outcomesOf(name: string, ref: ReferenceSummary, current: Float64Array | PreparedCurrent | Map<string, number>, tests: { numeric: readonly DriftTest[]; categorical: readonly DriftTest[] }): TestOutcome[] {
  return ref.kind === 'numeric'
    ? numericOutcomes(name, ref as NumericReferenceSummary, current as Float64Array | PreparedCurrent, tests.numeric)
    : categoricalOutcomes(name, ref as CategoricalReferenceSummary, current as Map<string, number>, tests.categorical);
}

/**
 * Feature drift against the baseline of the model's current version, every configured test per
 * feature, p-values Benjamini–Hochberg-corrected across the model's features, decisions combining
 * significance with effect size (src/stats/drift-decision.ts). Also prediction (score) drift and
 * label drift. Nothing without a baseline or below `min_samples` rows.
 */
export function driftMonitor(v: WindowView, emit: Emit): void {
  const b = v.baseline;
  if (b === undefined || v.rows.length < v.model.min_samples) return;
  const cfg = v.model.drift;
  const tests = { numeric: cfg.numeric_tests, categorical: cfg.categorical_tests };
  const outcomes: TestOutcome[] = [];
  for (const [name, col] of v.w.features) {
    const ref = b.features.get(name);
    if (ref === undefined || ref.kind !== col.kind) continue;
    let current: PreparedCurrent | Map<string, number>;
    if (col.kind === 'numeric') {
      // Missing values (NaN) and ±Infinity are dropped and counted, as the statistics core does.
      const s = sortedFloat32(col.values, v.rows);
      current = { sorted: s.sorted, dropped: { nan: s.nan, posInf: s.posInf, negInf: s.negInf } };
    } else current = categoryCounts(col.codes, v.rows, col.dict.values);
    outcomes.push(...outcomesOf(name, ref, current, tests));
  }
  const report = decideDrift(outcomes, { ...DEFAULT_THRESHOLDS, alpha: cfg.alpha });
  let drifted = 0;
  for (const d of report.decisions) {
    const labels = { model: v.model.name, feature: d.feature, test: d.test, window: v.window };
    if (d.status === 'insufficient_data') continue;
    emit('ml_feature_drift_score', labels, d.statistic);
    if (d.adjustedPValue !== null) emit('ml_feature_drift_p_value', labels, d.adjustedPValue);
    emit('ml_feature_drift_detected', labels, d.status === 'drift' ? 1 : 0);
  }
  drifted = report.summary.featuresDrifted;
  emit('ml_features_drifted', { model: v.model.name, window: v.window }, drifted);

  // Prediction drift: the score (binary), predicted class (multiclass) or predicted value (regression).
  if (b.prediction !== undefined) {
    let current: Float64Array | Map<string, number>;
    if (v.model.task === 'binary') current = gather(v.w.score, v.rows);
    else if (v.model.task === 'regression') current = gather(v.w.pred, v.rows);
    else current = classCounts(v, v.w.pred, v.rows);
    for (const o of outcomesOf('prediction', b.prediction, current, tests)) {
      if (Number.isFinite(o.statistic)) emit('ml_prediction_drift_score', { model: v.model.name, test: o.test, window: v.window }, o.statistic);
    }
  }
  // Label drift, on the labelled rows.
  const lab = labelled(v, v.rows);
  if (b.label !== undefined && lab.length >= v.model.min_samples) {
    const current = v.model.task === 'regression' ? gather(v.w.label, lab) : classCounts(v, v.w.label, lab);
    for (const o of outcomesOf('label', b.label, current, tests)) {
      if (Number.isFinite(o.statistic)) emit('ml_label_drift_score', { model: v.model.name, test: o.test, window: v.window }, o.statistic);
    }
  }
}

function classCounts(v: WindowView, col: Float64Array, rows: Int32Array): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of rows) {
    const name = v.w.classes.values[col[i] as number] as string;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}
