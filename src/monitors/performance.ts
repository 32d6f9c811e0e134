import { QUALITY_FAMILIES, qualityMetrics, type QualityMetric } from './quality.js';
import { byVersion, gather, labelled, type Emit, type WindowView } from './view.js';

/** Multiclass: the window's probability columns (the classes any row posted one for) at these rows. */
export function probaOf(v: WindowView, rows: Int32Array): { labels: number[]; columns: Float64Array[] } {
  const labels: number[] = [];
  const columns: Float64Array[] = [];
  v.w.proba.forEach((col, code) => {
    if (col === null) return;
    labels.push(code);
    columns.push(gather(v, col, rows));
  });
  return { labels, columns };
}

/**
 * Model quality per version on the window's labelled predictions (labels may arrive late or
 * never: coverage says how many have one). Below `min_samples` labelled rows the quality metrics
 * are absent; `ml_window_samples` and `ml_label_coverage_ratio` are always there.
 */
export function performanceMonitor(v: WindowView, emit: Emit): void {
  for (const [version, rows] of byVersion(v)) {
    const base = { model: v.model.name, version, window: v.window };
    emit('ml_window_samples', base, rows.length);
    const lab = labelled(v, rows);
    if (rows.length > 0) emit('ml_label_coverage_ratio', base, lab.length / rows.length);
    if (lab.length < v.model.min_samples) continue;
    const q = qualityMetrics({
      task: v.model.task,
      yTrue: gather(v, v.w.label, lab),
      yPred: gather(v, v.w.pred, lab),
      ...(v.model.task === 'binary' ? { scores: gather(v, v.w.score, lab), positive: v.w.positiveCode } : {}),
      ...(v.model.task === 'multiclass' ? { proba: probaOf(v, lab) } : {}),
    });
    for (const [metric, value] of Object.entries(q) as [QualityMetric, number][]) emit(QUALITY_FAMILIES[metric], base, value);
    const ref = v.baselineFor(version)?.quality;
    const key: QualityMetric = v.model.task === 'regression' ? 'r2' : 'accuracy';
    const now = q[key];
    const then = ref?.[key];
    if (now !== undefined && then !== undefined && then !== 0) emit('ml_accuracy_improvement_ratio', base, (now - then) / Math.abs(then));
  }
}
