import { estimatePerformance } from '../stats/estimate.js';
import { byVersion, gather, type Emit, type WindowView } from './view.js';

/**
 * Label-free quality estimate for binary classifiers (confidence-based performance estimation,
 * CBPE): from the scores of every prediction in the window — labelled or not — and the class
 * each prediction posted, the expected confusion matrix and so the expected accuracy and F1. It
 * assumes calibrated scores: the baseline's calibration error
 * (`ml_model_quality_baseline{metric="calibration_error"}`) says whether that holds; the bundled
 * rules only trust the estimate when it is small.
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
    const e = estimatePerformance(scores, { threshold: v.model.decision_threshold, predictedPositive });
    const base = { model: v.model.name, version, window: v.window };
    if (e.accuracy.defined) emit('ml_model_estimated_accuracy', base, e.accuracy.value);
    if (e.f1.defined) emit('ml_model_estimated_f1_score', base, e.f1.value);
  }
}
