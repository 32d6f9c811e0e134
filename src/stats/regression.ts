/**
 * Regression metrics identical to scikit-learn 1.2.1 (`sklearn.metrics`), with numpy's pairwise
 * summation so that means round exactly as numpy does.
 *
 * Bad input (empty, length mismatch, NaN/±Infinity in targets or predictions) throws
 * StatsInputError (scikit-learn raises on NaN/inf too). R² with fewer than two samples is
 * Undefined (scikit-learn: NaN + UndefinedMetricWarning).
 */
import { defined, undef, type StatResult } from './types.js';
import { sortInPlace } from './sample.js';
import { checkLengths, finiteFloat64, npMean, npSum, type NumArray } from './ranking.js';

/** numpy.finfo(float64).eps: MAPE's denominator floor. */
export const MAPE_EPS = 2.220446049250313e-16;

export const REASON_R2_FEW = 'UndefinedMetricWarning: R^2 score is not well-defined with less than two samples.';

function prep(yTrue: NumArray, yPred: NumArray, what: string): { t: Float64Array; p: Float64Array } {
  checkLengths(yTrue, yPred, what);
  return { t: finiteFloat64(yTrue, `${what}: yTrue`), p: finiteFloat64(yPred, `${what}: yPred`) };
}

function absErrors(t: Float64Array, p: Float64Array): Float64Array {
  const e = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) e[i] = Math.abs((t[i] as number) - (p[i] as number));
  return e;
}

function sqErrors(t: Float64Array, p: Float64Array): Float64Array {
  const e = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const d = (t[i] as number) - (p[i] as number);
    e[i] = d * d;
  }
  return e;
}

/** `mean_absolute_error`. */
export function meanAbsoluteError(yTrue: NumArray, yPred: NumArray): StatResult {
  const { t, p } = prep(yTrue, yPred, 'meanAbsoluteError');
  return defined(npMean(absErrors(t, p)));
}

/** `mean_squared_error`. */
export function meanSquaredError(yTrue: NumArray, yPred: NumArray): StatResult {
  const { t, p } = prep(yTrue, yPred, 'meanSquaredError');
  return defined(npMean(sqErrors(t, p)));
}

/** `mean_squared_error(squared=False)` = sqrt(MSE). */
export function rootMeanSquaredError(yTrue: NumArray, yPred: NumArray): StatResult {
  const { t, p } = prep(yTrue, yPred, 'rootMeanSquaredError');
  return defined(Math.sqrt(npMean(sqErrors(t, p))));
}

function mapeCore(t: Float64Array, p: Float64Array): number {
  const e = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const a = Math.abs(t[i] as number);
    e[i] = Math.abs((p[i] as number) - (t[i] as number)) / (a > MAPE_EPS ? a : MAPE_EPS);
  }
  return npMean(e);
}

/** `mean_absolute_percentage_error`: mean(|y − ŷ| / max(|y|, eps)) as a fraction (not ×100).
 *  A zero target gives a huge (finite) value, exactly as scikit-learn. */
export function meanAbsolutePercentageError(yTrue: NumArray, yPred: NumArray): StatResult {
  const { t, p } = prep(yTrue, yPred, 'meanAbsolutePercentageError');
  return defined(mapeCore(t, p));
}

function medianCore(x: Float64Array): number {
  const s = sortInPlace(Float64Array.from(x));
  const n = s.length;
  const h = n >> 1;
  if (n % 2 === 1) return s[h] as number;
  return ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/** `median_absolute_error` (numpy median: mean of the two middle values for even n). */
export function medianAbsoluteError(yTrue: NumArray, yPred: NumArray): StatResult {
  const { t, p } = prep(yTrue, yPred, 'medianAbsoluteError');
  return defined(medianCore(absErrors(t, p)));
}

export interface R2Options {
  /** scikit-learn's force_finite (default true): constant y_true gives 1.0 (perfect) or 0.0. */
  readonly forceFinite?: boolean;
}

function r2Core(t: Float64Array, p: Float64Array, forceFinite: boolean): StatResult {
  const n = t.length;
  if (n < 2) return undef(REASON_R2_FEW);
  const num = npSum(sqErrors(t, p));
  const mean = npMean(t);
  const dev = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = (t[i] as number) - mean;
    dev[i] = d * d;
  }
  const den = npSum(dev);
  if (den !== 0) {
    if (num === 0 && forceFinite) return defined(1);
    return defined(1 - num / den);
  }
  if (forceFinite) return defined(num === 0 ? 1 : 0);
  if (num === 0) return undef('R^2 is NaN: constant y_true and perfect predictions (0/0; scikit-learn force_finite=False)');
  return defined(-Infinity, ['RuntimeWarning: divide by zero encountered in divide']);
}

/** `r2_score`: 1 − SS_res / SS_tot. See R2Options for the constant-target cases. */
export function r2Score(yTrue: NumArray, yPred: NumArray, opts?: R2Options): StatResult {
  const { t, p } = prep(yTrue, yPred, 'r2Score');
  return r2Core(t, p, opts?.forceFinite ?? true);
}

export interface RegressionReport {
  readonly n: number;
  readonly mae: StatResult;
  readonly mse: StatResult;
  readonly rmse: StatResult;
  readonly mape: StatResult;
  readonly r2: StatResult;
  readonly medianAbsoluteError: StatResult;
}

/** Every regression metric of one window, validating the inputs once. */
export function regressionReport(input: { readonly yTrue: NumArray; readonly yPred: NumArray }): RegressionReport {
  const { t, p } = prep(input.yTrue, input.yPred, 'regressionReport');
  const abs = absErrors(t, p);
  const mse = npMean(sqErrors(t, p));
  return {
    n: t.length,
    mae: defined(npMean(abs)),
    mse: defined(mse),
    rmse: defined(Math.sqrt(mse)),
    mape: defined(mapeCore(t, p)),
    r2: r2Core(t, p, true),
    medianAbsoluteError: defined(medianCore(abs)),
  };
}
