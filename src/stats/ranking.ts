/**
 * Ranking metrics of a binary classifier's scores: ROC-AUC and average precision, identical to
 * scikit-learn 1.2 `roc_auc_score` / `average_precision_score`, plus the input helpers shared by
 * the classification modules (label encoding, finite-number checks).
 *
 * Speed: one pass splits the scores into a positive and a negative Float64Array, each is sorted
 * (radix sort on the IEEE-754 bits for large arrays, from sample.ts), and one merge walk in decreasing score order
 * yields both the Mann-Whitney U (ties count 1/2) and the step-wise average precision.
 */
import { defined, undef, StatsInputError, type StatResult } from './types.js';
import { sortInPlace, WORK_SLOT, workF64 } from './sample.js';

/** A class label. Classes are compared as strings: `1` and `"1"` are the same class. */
export type Label = string | number;
/** Labels: a plain array or a typed array of numeric labels. */
export type LabelArray = ArrayLike<Label>;
/** Scores / probabilities: a plain array or a Float64Array (or any numeric array-like). */
export type NumArray = ArrayLike<number>;

export const WARN_NO_POSITIVE_AP =
  'UserWarning: No positive class found in y_true, recall is set to one for all thresholds.';
export const REASON_ONE_CLASS_AUC =
  'Only one class present in y_true. ROC AUC score is not defined in that case.';

/** @internal Throws unless both arrays are non-empty and of equal length; returns the length. */
export function checkLengths(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what = 'inputs'): number {
  if (a.length === 0 || b.length === 0) {
    throw new StatsInputError('VIGIL_ERR_STATS_EMPTY', `${what}: empty input (need at least one row)`);
  }
  if (a.length !== b.length) {
    throw new StatsInputError(
      'VIGIL_ERR_STATS_LENGTH_MISMATCH',
      `${what}: length mismatch (${a.length} vs ${b.length})`,
    );
  }
  return a.length;
}

/** @internal Copy to a Float64Array, rejecting NaN and ±Infinity (scikit-learn raises on them). */
export function finiteFloat64(x: NumArray, what: string): Float64Array {
  const n = x.length;
  const out = x instanceof Float64Array ? x : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    if (typeof v !== 'number' || v - v !== 0) {
      throw new StatsInputError(
        'VIGIL_ERR_STATS_NON_FINITE',
        `${what}: value at index ${i} is not a finite number (${String(v)})`,
      );
    }
    if (out !== x) out[i] = v;
  }
  return out;
}

/** @internal Like finiteFloat64, and every value must lie in [0, 1]. */
export function probabilities(x: NumArray, what: string): Float64Array {
  const out = finiteFloat64(x, what);
  for (let i = 0; i < out.length; i++) {
    const v = out[i] as number;
    if (v < 0 || v > 1) {
      throw new StatsInputError(
        'VIGIL_ERR_STATS_PROBABILITY_RANGE',
        `${what}: probability at index ${i} is outside [0, 1] (${v})`,
      );
    }
  }
  return out;
}

/** @internal The string key of a label; rejects null/undefined/NaN/±Infinity/booleans/objects. */
export function labelKey(v: unknown, what: string, i: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && v - v === 0) return String(v);
  throw new StatsInputError(
    'VIGIL_ERR_STATS_BAD_LABEL',
    `${what}: label at index ${i} is not a string or finite number (${String(v)})`,
  );
}

/** @internal Binary encoding of labels against a positive label. */
export interface BinaryEncoding {
  /** 1 where the label equals the positive label, else 0. */
  readonly isPos: Uint8Array;
  /** The single non-positive label seen, if any. */
  readonly negative: Label | undefined;
}

/**
 * @internal Encode labels as 1 (positive) / 0 (other). At most one other class may appear
 * (`negative`, shared across calls when passed in); a second one throws VIGIL_ERR_STATS_NOT_BINARY.
 */
export function encodeBinary(
  y: LabelArray,
  positiveLabel: Label,
  what: string,
  negative?: Label,
): BinaryEncoding {
  const n = y.length;
  const isPos = new Uint8Array(n);
  const posKey = labelKey(positiveLabel, 'positiveLabel', 0);
  const posNum = typeof positiveLabel === 'number';
  let neg: Label | undefined = negative;
  let negKey = neg === undefined ? undefined : labelKey(neg, 'negative label', 0);
  let negNum = typeof neg === 'number';
  for (let i = 0; i < n; i++) {
    const v = y[i] as Label;
    if (typeof v === 'number') {
      if (v - v !== 0) labelKey(v, what, i); // throws
      if (posNum ? v === positiveLabel : String(v) === posKey) {
        isPos[i] = 1;
        continue;
      }
      if (neg === undefined) {
        neg = v;
        negKey = String(v);
        negNum = true;
        continue;
      }
      if (negNum ? v === neg : String(v) === negKey) continue;
    } else {
      const k = labelKey(v, what, i);
      if (k === posKey) {
        isPos[i] = 1;
        continue;
      }
      if (neg === undefined) {
        neg = v;
        negKey = k;
        negNum = false;
        continue;
      }
      if (k === negKey) continue;
    }
    throw new StatsInputError(
      'VIGIL_ERR_STATS_NOT_BINARY',
      `${what}: not binary with respect to positiveLabel=${String(positiveLabel)}: found the classes ` +
        `${String(neg)} and ${String(v)} besides it (more than two classes, or the positive label is ` +
        'not one of the two classes); use the multiclass functions or set positiveLabel',
    );
  }
  return { isPos, negative: neg };
}

/** @internal Result of the one-sort ranking pass. */
export interface RankingCore {
  readonly nPos: number;
  readonly nNeg: number;
  /** 2·U (Mann-Whitney, ties ½) — an exact integer. */
  readonly u2: number;
  /** Average precision (sum over distinct thresholds of ΔR·P), valid when nPos > 0. */
  readonly ap: number;
}

/** @internal One sort + one merge walk: U statistic and average precision. */
export function rankingCore(isPos: Uint8Array, scores: Float64Array): RankingCore {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += isPos[i] as number;
  const nNeg = n - nPos;
  // every element written below; sorted in place (the radix sort has work arrays of its own)
  const pos = workF64(WORK_SLOT.rankPos, nPos);
  const neg = workF64(WORK_SLOT.rankNeg, nNeg);
  let ip = 0;
  let ineg = 0;
  for (let i = 0; i < n; i++) {
    if (isPos[i] === 1) pos[ip++] = scores[i] as number;
    else neg[ineg++] = scores[i] as number;
  }
  sortInPlace(pos); // LSD radix sort for large arrays, TypedArray#sort below 4096
  sortInPlace(neg);
  // Walk both ascending-sorted arrays from the top (decreasing score), one distinct value at a time.
  let i = nPos - 1;
  let j = nNeg - 1;
  let tp = 0;
  let fp = 0;
  let u2 = 0;
  let ap = 0;
  let prevRecall = 0;
  while (i >= 0 || j >= 0) {
    let v: number;
    if (i < 0) v = neg[j] as number;
    else if (j < 0) v = pos[i] as number;
    else {
      const a = pos[i] as number;
      const b = neg[j] as number;
      v = a > b ? a : b;
    }
    let dp = 0;
    while (i >= 0 && pos[i] === v) {
      dp++;
      i--;
    }
    let dn = 0;
    while (j >= 0 && neg[j] === v) {
      dn++;
      j--;
    }
    u2 += dn * (2 * tp + dp);
    tp += dp;
    fp += dn;
    if (dp > 0 && nPos > 0) {
      const recall = tp / nPos;
      ap += (recall - prevRecall) * (tp / (tp + fp));
      prevRecall = recall;
    }
  }
  return { nPos, nNeg, u2, ap };
}

export interface RankingOptions {
  /** The positive class (default 1). */
  readonly positiveLabel?: Label;
}

function binaryScores(yTrue: LabelArray, scores: NumArray, opts: RankingOptions | undefined, what: string) {
  checkLengths(yTrue, scores, what);
  const s = finiteFloat64(scores, `${what}: scores`);
  const { isPos } = encodeBinary(yTrue, opts?.positiveLabel ?? 1, `${what}: yTrue`);
  return { isPos, s };
}

/** @internal ROC-AUC from an encoded core. */
export function aucFromCore(c: RankingCore): StatResult {
  if (c.nPos === 0 || c.nNeg === 0) return undef(REASON_ONE_CLASS_AUC);
  return defined(c.u2 / (2 * c.nPos * c.nNeg));
}

/** @internal Average precision from an encoded core (-0 with a warning when no positives). */
export function apFromCore(c: RankingCore): StatResult {
  if (c.nPos === 0) return defined(-0, [WARN_NO_POSITIVE_AP]);
  return defined(c.ap);
}

/**
 * ROC-AUC of binary scores = `sklearn.metrics.roc_auc_score(y_true, y_score)`: the Mann-Whitney
 * U / (n_pos·n_neg) with tied scores counting ½. Undefined when y_true holds one class only
 * (scikit-learn raises). Scores may be any finite reals (probabilities or decision values).
 */
export function rocAuc(yTrue: LabelArray, scores: NumArray, opts?: RankingOptions): StatResult {
  const { isPos, s } = binaryScores(yTrue, scores, opts, 'rocAuc');
  return aucFromCore(rankingCore(isPos, s));
}

/**
 * Average precision = `sklearn.metrics.average_precision_score`: Σ (R_n − R_{n−1}) P_n over distinct
 * thresholds in decreasing score order (step function, no interpolation; ties share a threshold).
 * No positives: −0 with scikit-learn's warning (it sets recall to 1 everywhere).
 */
export function averagePrecision(yTrue: LabelArray, scores: NumArray, opts?: RankingOptions): StatResult {
  const { isPos, s } = binaryScores(yTrue, scores, opts, 'averagePrecision');
  return apFromCore(rankingCore(isPos, s));
}

/** Both ranking metrics from a single sort. */
export function rankingMetrics(
  yTrue: LabelArray,
  scores: NumArray,
  opts?: RankingOptions,
): { readonly rocAuc: StatResult; readonly averagePrecision: StatResult } {
  const { isPos, s } = binaryScores(yTrue, scores, opts, 'rankingMetrics');
  const c = rankingCore(isPos, s);
  return { rocAuc: aucFromCore(c), averagePrecision: apFromCore(c) };
}

/**
 * @internal numpy's pairwise summation (`np.sum` / `np.mean` of a contiguous float64 array):
 * blocks of < 8 summed left to right, blocks of <= 128 with 8 accumulators, larger halves
 * recursively (split at a multiple of 8). Reproduces numpy's rounding bit for bit.
 */
export function npSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    let r0 = a[start] as number;
    let r1 = a[start + 1] as number;
    let r2 = a[start + 2] as number;
    let r3 = a[start + 3] as number;
    let r4 = a[start + 4] as number;
    let r5 = a[start + 5] as number;
    let r6 = a[start + 6] as number;
    let r7 = a[start + 7] as number;
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const o = start + i;
      r0 += a[o] as number;
      r1 += a[o + 1] as number;
      r2 += a[o + 2] as number;
      r3 += a[o + 3] as number;
      r4 += a[o + 4] as number;
      r5 += a[o + 5] as number;
      r6 += a[o + 6] as number;
      r7 += a[o + 7] as number;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return npSum(a, start, n2) + npSum(a, start + n2, n - n2);
}

/** @internal numpy mean (pairwise sum / n). */
export function npMean(a: ArrayLike<number>): number {
  return npSum(a) / a.length;
}
