import type { Task } from '../config/schema.js';
import { binaryReport, logLossMulticlass, multiclassReport, rocAucMulticlass } from '../stats/classification.js';
import { regressionReport } from '../stats/regression.js';
import type { StatResult } from '../stats/types.js';

/** Quality metric name → catalog family. Names are the `metric` label of ml_model_quality_baseline. */
export const QUALITY_FAMILIES = {
  accuracy: 'ml_model_accuracy',
  precision: 'ml_model_precision',
  recall: 'ml_model_recall',
  f1_score: 'ml_model_f1_score',
  roc_auc: 'ml_model_roc_auc',
  pr_auc: 'ml_model_pr_auc',
  log_loss: 'ml_model_log_loss',
  brier_score: 'ml_model_brier_score',
  mcc: 'ml_model_mcc',
  balanced_accuracy: 'ml_model_balanced_accuracy',
  calibration_error: 'ml_model_calibration_error',
  precision_weighted: 'ml_model_precision_weighted',
  recall_weighted: 'ml_model_recall_weighted',
  f1_score_weighted: 'ml_model_f1_score_weighted',
  mae: 'ml_model_mae',
  mse: 'ml_model_mse',
  rmse: 'ml_model_rmse',
  mape: 'ml_model_mape',
  r2: 'ml_model_r2',
} as const;
export type QualityMetric = keyof typeof QUALITY_FAMILIES;

export interface QualityInput {
  task: Task;
  /** Classifiers: class codes (or labels); regression: values. */
  yTrue: ArrayLike<number>;
  yPred: ArrayLike<number>;
  /** Binary: probability of the positive class (NaN where unknown). */
  scores?: ArrayLike<number>;
  /** Binary: the positive class code. */
  positive?: number;
  /**
   * Multiclass: the posted probability of each class per row — `columns[k][i]` is row i's
   * probability of class `labels[k]` (the codes yTrue uses). Read only when every row has each.
   */
  proba?: { labels: readonly number[]; columns: readonly ArrayLike<number>[] };
}

/**
 * The rows of a multiclass probability matrix, as posted and renormalised to sum 1 — or undefined
 * when a row lacks a class's probability (NaN), has one outside [0, 1] or only zeros, when there
 * are fewer than two classes, or when a label is a class without probabilities: the metrics that
 * read it are then absent rather than computed on a part of the window.
 */
export function probabilityRows(yTrue: ArrayLike<number>, proba: NonNullable<QualityInput['proba']>): { rows: Float64Array[]; normalised: Float64Array[] } | undefined {
  const k = proba.labels.length;
  const n = yTrue.length;
  if (k < 2 || proba.columns.length !== k) return undefined;
  const known = new Set(proba.labels);
  const flat = new Float64Array(n * k);
  const norm = new Float64Array(n * k);
  const rows: Float64Array[] = new Array<Float64Array>(n);
  const normalised: Float64Array[] = new Array<Float64Array>(n);
  for (let i = 0; i < n; i++) {
    if (!known.has(yTrue[i] as number)) return undefined;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = (proba.columns[j] as ArrayLike<number>)[i] as number;
      if (!(p >= 0 && p <= 1)) return undefined; // NaN too
      flat[i * k + j] = p;
      sum += p;
    }
    if (!(sum > 0)) return undefined;
    for (let j = 0; j < k; j++) norm[i * k + j] = (flat[i * k + j] as number) / sum;
    rows[i] = flat.subarray(i * k, (i + 1) * k);
    normalised[i] = norm.subarray(i * k, (i + 1) * k);
  }
  return { rows, normalised };
}

const put = (out: Partial<Record<QualityMetric, number>>, k: QualityMetric, r: StatResult): void => {
  if (r.defined && Number.isFinite(r.value)) out[k] = r.value;
};

/**
 * Every quality metric of one labelled sample, as scikit-learn computes it (src/stats). Undefined
 * values (a single class for ROC-AUC, a constant target for R², …) are left out: absent, not 0.
 * Binary: precision/recall/F1 of the positive class; multiclass: macro averages, and the averages
 * weighted by each class's support (`*_weighted`).
 */
export function qualityMetrics(q: QualityInput): Partial<Record<QualityMetric, number>> {
  const out: Partial<Record<QualityMetric, number>> = {};
  const n = q.yTrue.length;
  if (n === 0) return out;
  if (q.task === 'regression') {
    const r = regressionReport({ yTrue: q.yTrue as Float64Array, yPred: q.yPred as Float64Array });
    put(out, 'mae', r.mae);
    put(out, 'mse', r.mse);
    put(out, 'rmse', r.rmse);
    put(out, 'mape', r.mape);
    put(out, 'r2', r.r2);
    return out;
  }
  if (q.task === 'binary') {
    let scores: Float64Array | undefined;
    if (q.scores !== undefined) {
      let all = true;
      for (let i = 0; i < n; i++) if (!Number.isFinite(q.scores[i] as number)) all = false;
      if (all) scores = q.scores instanceof Float64Array ? q.scores : Float64Array.from(q.scores as ArrayLike<number>); // only read
    }
    const r = binaryReport({
      yTrue: q.yTrue as Float64Array,
      yPred: q.yPred as Float64Array,
      ...(scores === undefined ? {} : { scores }),
      positiveLabel: q.positive ?? 1,
    });
    put(out, 'accuracy', r.accuracy);
    put(out, 'precision', r.precision);
    put(out, 'recall', r.recall);
    put(out, 'f1_score', r.f1);
    put(out, 'mcc', r.mcc);
    put(out, 'balanced_accuracy', r.balancedAccuracy);
    if (scores !== undefined) {
      put(out, 'roc_auc', r.rocAuc);
      put(out, 'pr_auc', r.averagePrecision);
      put(out, 'log_loss', r.logLoss);
      put(out, 'brier_score', r.brier);
      put(out, 'calibration_error', r.ece);
    }
    return out;
  }
  const r = multiclassReport({ yTrue: q.yTrue as Float64Array, yPred: q.yPred as Float64Array });
  put(out, 'accuracy', r.accuracy);
  put(out, 'precision', r.precisionMacro);
  put(out, 'recall', r.recallMacro);
  put(out, 'f1_score', r.f1Macro);
  put(out, 'precision_weighted', r.precisionWeighted);
  put(out, 'recall_weighted', r.recallWeighted);
  put(out, 'f1_score_weighted', r.f1Weighted);
  put(out, 'mcc', r.mcc);
  put(out, 'balanced_accuracy', r.balancedAccuracy);
  const m = q.proba === undefined ? undefined : probabilityRows(q.yTrue, q.proba);
  if (m !== undefined && q.proba !== undefined) {
    const labels = q.proba.labels;
    // log_loss clips and renormalises each row itself; roc_auc_score (one-vs-rest, macro) refuses rows not summing to 1: it reads them renormalised
    put(out, 'log_loss', logLossMulticlass(q.yTrue as Float64Array, m.rows, { labels }));
    put(out, 'roc_auc', rocAucMulticlass(q.yTrue as Float64Array, m.normalised, { labels }));
  }
  return out;
}
