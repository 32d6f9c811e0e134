import type { ModelConfig } from '../config/schema.js';
import { predictIsotonic, type IsotonicFit } from '../stats/isotonic.js';
import { estimatePerformance } from '../stats/estimate.js';
import type { LoadedBaseline } from './baseline.js';
import { byVersion, gather, type Emit, type WindowView } from './view.js';

/**
 * The isotonic fit the label-free estimate calibrates a version's scores with, if any: with
 * `estimate_calibration: auto` (NannyML's CBPE) the baseline's when its check found the scores
 * gain from it; with `isotonic` the baseline's whenever it has one; with `none`, never.
 */
export function estimateCalibrator(model: Pick<ModelConfig, 'estimate_calibration'>, baseline: LoadedBaseline | undefined, cls?: string): IsotonicFit | undefined {
  const c = cls === undefined ? baseline?.calibration : baseline?.classCalibrations?.get(cls);
  if (c?.fit === undefined || model.estimate_calibration === 'none') return undefined;
  return model.estimate_calibration === 'isotonic' || c.decision.needed ? c.fit : undefined;
}

/**
 * Label-free quality estimate for binary classifiers (confidence-based performance estimation,
 * CBPE, as NannyML computes it): from the scores of every prediction in the window — labelled or
 * not — calibrated by the baseline's isotonic fit where `estimateCalibrator` says so, and the class
 * each prediction posted, the expected confusion matrix and so the expected accuracy and F1.
 * Whether the estimate can be trusted is `ml_model_estimate_reliable` (the engine's, from the
 * baseline's calibration error).
 */
export function estimateMonitor(v: WindowView, emit: Emit): void {
  if (v.model.task === 'multiclass') return multiclassEstimate(v, emit);
  if (v.model.task !== 'binary') return;
  const pos = v.w.positiveCode;
  for (const [version, rows] of byVersion(v)) {
    // rows with a score (a probability); the class they posted, as CBPE reads y_pred
    const all = gather(v, v.w.score, rows);
    const scores: number[] = [];
    const predictedPositive: boolean[] = [];
    for (let k = 0; k < rows.length; k++) {
      const s = all[k] as number;
      if (!(s >= 0 && s <= 1)) continue;
      scores.push(s);
      predictedPositive.push(v.w.pred[rows[k] as number] === pos);
    }
    if (scores.length < v.model.min_samples) continue;
    const fit = estimateCalibrator(v.model, v.baselineFor(version));
    if (fit !== undefined) for (let k = 0; k < scores.length; k++) scores[k] = predictIsotonic(fit, scores[k] as number);
    const e = estimatePerformance(scores, { threshold: v.model.decision_threshold, predictedPositive });
    const base = { model: v.model.name, version, window: v.window };
    if (e.accuracy.defined) emit('ml_model_estimated_accuracy', base, e.accuracy.value);
    if (e.f1.defined) emit('ml_model_estimated_f1_score', base, e.f1.value);
  }
}

/**
 * The label-free estimate of a multiclass model, as NannyML's CBPE computes it: over the window's
 * predictions that posted a probability for every class its baseline calibrated (the classes of the
 * window's own probabilities without one), each class's probabilities calibrated one-vs-rest where
 * estimateCalibrator says so, every row renormalised to sum 1 (a row of zeros: 1/K each); the
 * estimated accuracy is the mean probability of the posted class, the estimated F1 the unweighted
 * mean over the classes of TP / (TP + (FP + FN) / 2) with, per class c, TP the sum of p_c over the
 * rows that posted c, FP the sum of 1 − p_c over them, FN the sum of p_c over the others (0 when
 * that is 0/0). A version with fewer such rows than min_samples has none.
 */
function multiclassEstimate(v: WindowView, emit: Emit): void {
  const w = v.w;
  for (const [version, rows] of byVersion(v)) {
    const baseline = v.baselineFor(version);
    const names = baseline?.classCalibrations !== undefined ? [...baseline.classCalibrations.keys()].sort() : w.classes.values.filter((_, c) => (w.proba[c] ?? null) !== null).sort();
    const k = names.length;
    if (k < 2) continue;
    const cols = names.map((c) => {
      const code = w.classes.lookup(c);
      return code === undefined ? null : (w.proba[code] ?? null);
    });
    if (cols.some((c) => c === null)) continue; // a class the baseline calibrated that no prediction posted
    const codes = names.map((c) => w.classes.lookup(c) as number);
    const fits = names.map((c) => estimateCalibrator(v.model, baseline, c));
    // the rows with every class's probability: p[i * k + j] (calibrated), the posted class's column (-1: none of them)
    const p = v.scratch.f64(rows.length * k);
    const posted = v.scratch.i32(rows.length);
    let n = 0;
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r] as number;
      let complete = true;
      for (let j = 0; j < k && complete; j++) complete = !Number.isNaN((cols[j] as Float64Array)[i] as number);
      if (!complete) continue;
      for (let j = 0; j < k; j++) {
        const x = (cols[j] as Float64Array)[i] as number;
        const fit = fits[j];
        p[n * k + j] = fit === undefined ? x : predictIsotonic(fit, x);
      }
      posted[n] = codes.indexOf(w.pred[i] as number);
      n++;
    }
    if (n < v.model.min_samples) continue;
    const tp = new Float64Array(k);
    const fp = new Float64Array(k);
    const fn = new Float64Array(k);
    let correct = 0;
    for (let r = 0; r < n; r++) {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += p[r * k + j] as number;
      const c = posted[r] as number;
      for (let j = 0; j < k; j++) {
        const q = sum !== 0 ? (p[r * k + j] as number) / sum : 1 / k;
        if (j === c) {
          tp[j] = (tp[j] as number) + q;
          fp[j] = (fp[j] as number) + (1 - q);
          correct += q;
        } else fn[j] = (fn[j] as number) + q;
      }
    }
    let f1 = 0;
    for (let j = 0; j < k; j++) {
      const den = (tp[j] as number) + 0.5 * ((fp[j] as number) + (fn[j] as number));
      f1 += den === 0 ? 0 : (tp[j] as number) / den;
    }
    const base = { model: v.model.name, version, window: v.window };
    emit('ml_model_estimated_accuracy', base, correct / n);
    emit('ml_model_estimated_f1_score', base, f1 / k);
  }
}

/**
 * What a binary version's baseline says of its label-free estimate:
 * - `ml_model_estimate_calibrated`: 1 when the estimate reads calibrated scores (estimateCalibrator);
 * - `ml_model_estimate_reliable`: 1 when the calibration error of the scores the estimate reads is
 *   at most `estimate_max_calibration_error` — calibrated, NannyML's held-out error of the
 *   calibrated scores (equal-count bins over its ten test splits); as posted, the baseline's
 *   expected calibration error (10 equal-width bins). Absent when neither is known.
 */
export function estimateTrust(m: ModelConfig, version: string, b: LoadedBaseline, emit: Emit): void {
  const labels = { model: m.name, version };
  if (m.task === 'multiclass') {
    // per class as for binary scores, the held-out error of what the estimate reads (calibrated or
    // as posted, NannyML's decision's); reliable when every class's is within the bound
    const cals = b.classCalibrations;
    if (cals === undefined) return;
    let calibrated = false;
    let worst: number | undefined;
    for (const [c, cal] of cals) {
      const fit = estimateCalibrator(m, b, c) !== undefined;
      calibrated ||= fit;
      const d = cal.decision;
      if (d.reason !== undefined) continue;
      const ece = fit ? d.eceAfter : d.eceBefore;
      worst = worst === undefined ? ece : Math.max(worst, ece);
    }
    emit('ml_model_estimate_calibrated', labels, calibrated ? 1 : 0);
    if (worst !== undefined) emit('ml_model_estimate_reliable', labels, worst <= m.estimate_max_calibration_error ? 1 : 0);
    return;
  }
  const calibrated = estimateCalibrator(m, b) !== undefined;
  emit('ml_model_estimate_calibrated', labels, calibrated ? 1 : 0);
  const d = b.calibration?.decision;
  const ece = calibrated && d !== undefined && d.reason === undefined ? d.eceAfter : b.quality.calibration_error;
  if (ece !== undefined) emit('ml_model_estimate_reliable', labels, ece <= m.estimate_max_calibration_error ? 1 : 0);
}
