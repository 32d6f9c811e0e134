import type { Task } from '../config/schema.js';
import { binaryReport, multiclassReport } from '../stats/classification.js';
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
  return out;
}
