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
export function estimateCalibrator(model: Pick<ModelConfig, 'estimate_calibration'>, baseline: LoadedBaseline | undefined): IsotonicFit | undefined {
  const c = baseline?.calibration;
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
 * What a binary version's baseline says of its label-free estimate:
 * - `ml_model_estimate_calibrated`: 1 when the estimate reads calibrated scores (estimateCalibrator);
 * - `ml_model_estimate_reliable`: 1 when the calibration error of the scores the estimate reads is
 *   at most `estimate_max_calibration_error` — calibrated, NannyML's held-out error of the
 *   calibrated scores (equal-count bins over its ten test splits); as posted, the baseline's
 *   expected calibration error (10 equal-width bins). Absent when neither is known.
 */
export function estimateTrust(m: ModelConfig, version: string, b: LoadedBaseline, emit: Emit): void {
  const labels = { model: m.name, version };
  const calibrated = estimateCalibrator(m, b) !== undefined;
  emit('ml_model_estimate_calibrated', labels, calibrated ? 1 : 0);
  const d = b.calibration?.decision;
  const ece = calibrated && d !== undefined && d.reason === undefined ? d.eceAfter : b.quality.calibration_error;
  if (ece !== undefined) emit('ml_model_estimate_reliable', labels, ece <= m.estimate_max_calibration_error ? 1 : 0);
}
