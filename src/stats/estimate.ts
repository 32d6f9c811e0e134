/**
 * Label-free performance estimate for binary classifiers: confidence-based performance
 * estimation (CBPE). These are its formulas over scores taken as calibrated; NannyML's calibration
 * step before them (the decision and the isotonic calibrator the daemon applies) is
 * cbpe-calibration.ts.
 *
 * If the scores p_i are calibrated probabilities P(y_i = positive | x_i), then for the decision
 * rule ŷ_i = [p_i >= threshold] the expected confusion matrix is
 *   E[TP] = Σ_{ŷ=1} p_i,   E[FP] = Σ_{ŷ=1} (1 − p_i),
 *   E[FN] = Σ_{ŷ=0} p_i,   E[TN] = Σ_{ŷ=0} (1 − p_i),
 * and the estimated metrics are the plug-in ratios of these expectations:
 *   accuracy = (TP + TN)/n, precision = TP/(TP + FP), recall = TP/(TP + FN), F1 = 2TP/(2TP + FP + FN).
 *
 * The estimate is only as good as the calibration, so `cbpe` also checks the calibration on a
 * labelled reference sample (ECE, 10 equal-width bins weighted by size — see calibration.ts) and
 * raises `calibrationFlag` when the reference ECE exceeds `maxEce` (default 0.05).
 */
import { defined, undef, StatsInputError, type StatResult } from './types.js';
import { checkLengths, encodeBinary, probabilities, type Label, type LabelArray, type NumArray } from './ranking.js';
import { calibrationFromEncoded, type CalibrationBin } from './calibration.js';

export interface ExpectedConfusion {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

export interface PerformanceEstimate {
  readonly n: number;
  readonly threshold: number;
  readonly expectedConfusion: ExpectedConfusion;
  readonly accuracy: StatResult;
  readonly precision: StatResult;
  readonly recall: StatResult;
  readonly f1: StatResult;
}

function checkThreshold(t: number): number {
  if (typeof t !== 'number' || !(t >= 0 && t <= 1)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `threshold must be in [0, 1], got ${String(t)}`);
  }
  return t;
}

/**
 * Expected confusion matrix and estimated metrics from calibrated scores alone (no labels). The
 * predicted class of row i is `predictedPositive[i]` when given — the prediction the model posted,
 * as NannyML's CBPE reads `y_pred` — else `score >= threshold`.
 */
export function estimatePerformance(scores: NumArray, opts?: { readonly threshold?: number; readonly predictedPositive?: ArrayLike<boolean> }): PerformanceEstimate {
  if (scores.length === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY', 'estimatePerformance: empty input');
  const p = probabilities(scores, 'estimatePerformance: scores');
  const threshold = checkThreshold(opts?.threshold ?? 0.5);
  const predicted = opts?.predictedPositive;
  if (predicted !== undefined && predicted.length !== p.length) {
    throw new StatsInputError('VIGIL_ERR_STATS_LENGTH_MISMATCH', `estimatePerformance: ${p.length} scores but ${predicted.length} predictions`);
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i] as number;
    if (predicted !== undefined ? predicted[i] === true : v >= threshold) {
      tp += v;
      fp += 1 - v;
    } else {
      fn += v;
      tn += 1 - v;
    }
  }
  const n = p.length;
  const precision = tp + fp > 0 ? defined(tp / (tp + fp)) : undef('no predicted positives: estimated precision undefined');
  const recall = tp + fn > 0 ? defined(tp / (tp + fn)) : undef('expected number of positives is 0: estimated recall undefined');
  const f1 = 2 * tp + fp + fn > 0 ? defined((2 * tp) / (2 * tp + fp + fn)) : undef('no expected or predicted positives: estimated F1 undefined');
  return {
    n,
    threshold,
    expectedConfusion: { tp, fp, fn, tn },
    accuracy: defined((tp + tn) / n),
    precision,
    recall,
    f1,
  };
}

export interface ReferenceSample {
  readonly yTrue: LabelArray;
  readonly scores: NumArray;
  /** Positive class (default 1). */
  readonly positiveLabel?: Label;
}

export interface CalibrationCheck {
  readonly n: number;
  /** ECE of the reference sample (equal-width bins weighted by size). */
  readonly ece: StatResult;
  readonly maxEce: number;
  /** True when the reference ECE exceeds maxEce: the CBPE estimate is not trustworthy. */
  readonly flagged: boolean;
  readonly bins: readonly CalibrationBin[];
  readonly warnings: readonly string[];
}

/** Below this many reference rows the ECE's own sampling noise is comparable to maxEce. */
export const MIN_REFERENCE_ROWS = 1000;

/** Calibration check of a labelled reference sample (ECE vs maxEce). */
export function calibrationCheck(
  reference: ReferenceSample,
  opts?: { readonly maxEce?: number; readonly nBins?: number },
): CalibrationCheck {
  checkLengths(reference.yTrue, reference.scores, 'calibrationCheck');
  const p = probabilities(reference.scores, 'calibrationCheck: scores');
  const { isPos } = encodeBinary(reference.yTrue, reference.positiveLabel ?? 1, 'calibrationCheck: yTrue');
  const maxEce = opts?.maxEce ?? 0.05;
  if (typeof maxEce !== 'number' || !(maxEce > 0 && maxEce < 1)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `maxEce must be in (0, 1), got ${String(maxEce)}`);
  }
  const rep = calibrationFromEncoded(isPos, p, opts?.nBins ?? 10);
  const warnings: string[] = [];
  if (p.length < MIN_REFERENCE_ROWS) {
    warnings.push(
      `reference has ${p.length} rows (< ${MIN_REFERENCE_ROWS}): the ECE's sampling noise is comparable to maxEce`,
    );
  }
  return {
    n: p.length,
    ece: rep.ece,
    maxEce,
    flagged: rep.ece.defined && rep.ece.value > maxEce,
    bins: rep.bins,
    warnings,
  };
}

export interface CbpeInput {
  /** Scores of the analysis window (no labels). */
  readonly scores: NumArray;
  /** Labelled reference sample used to check calibration. */
  readonly reference: ReferenceSample;
  readonly threshold?: number;
  readonly maxEce?: number;
  readonly nBins?: number;
}

export interface CbpeResult {
  readonly estimate: PerformanceEstimate;
  readonly calibration: CalibrationCheck;
  /** Convenience: the estimate is trustworthy only when calibration is not flagged. */
  readonly calibrationFlag: boolean;
}

/** The estimate from the scores as given, plus the reference calibration check (no calibration: see cbpe-calibration.ts). */
export function cbpe(input: CbpeInput): CbpeResult {
  const threshold = input.threshold ?? 0.5;
  const estimate = estimatePerformance(input.scores, { threshold });
  const co: { maxEce?: number; nBins?: number } = {};
  if (input.maxEce !== undefined) co.maxEce = input.maxEce;
  if (input.nBins !== undefined) co.nBins = input.nBins;
  const calibration = calibrationCheck(input.reference, co);
  return { estimate, calibration, calibrationFlag: calibration.flagged };
}
