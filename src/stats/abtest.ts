/**
 * A/B statistics: pooled two-proportion z-test, Welch's t-test (= scipy.stats.ttest_ind with
 * equal_var=False), sample size per group for two proportions (three formulas, as abtest.json
 * defines them), and comparison helpers for a quality metric of two model versions.
 *
 * Special functions come from @stdlib (erfc, Student-t CDF, normal quantile). The Student-t
 * quantile (only for the Welch confidence interval) is the @stdlib t CDF inverted by safeguarded
 * Newton iteration (documented in docs/statistics-quality.md).
 *
 * Multiple-testing corrections are NOT implemented here: `adjustComparisons` takes the adjustment
 * function as a parameter; `adjustComparisonsBy` picks Bonferroni / BH / Holm from
 * './multiple-testing.js'.
 */
import erfc from '@stdlib/math-base-special-erfc';
import gammaln from '@stdlib/math-base-special-gammaln';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { defined, undef, StatsInputError, type StatResult } from './types.js';
import { finiteFloat64, npMean, npSum, type NumArray } from './ranking.js';
import { benjaminiHochberg, bonferroni, holm } from './multiple-testing.js';

export type Alternative = 'two-sided' | 'greater' | 'less';

const SQRT2 = Math.SQRT2;

/** Standard normal survival function (scipy norm.sf) via erfc. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / SQRT2);
}
/** Standard normal CDF (scipy norm.cdf) via erfc. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

function checkInt(x: number, what: string, min: number): void {
  if (!Number.isInteger(x) || x < min) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `${what} must be an integer >= ${min}, got ${String(x)}`);
  }
}

function checkOpenUnit(x: number, what: string): void {
  if (typeof x !== 'number' || !(x > 0 && x < 1)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `${what} must be in (0, 1), got ${String(x)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Two-proportion z-test
// ---------------------------------------------------------------------------------------------

export interface ProportionsInput {
  readonly successesA: number;
  readonly nA: number;
  readonly successesB: number;
  readonly nB: number;
}

export interface PValues {
  readonly twoSided: StatResult;
  /** H1: B > A. */
  readonly greater: StatResult;
  /** H1: B < A. */
  readonly less: StatResult;
}

export interface TwoProportionZTest {
  readonly pA: number;
  readonly pB: number;
  readonly pPooled: number;
  readonly se: number;
  /** pB − pA. */
  readonly diff: number;
  /** (pB − pA) / se; Undefined when se = 0 (pooled rate 0 or 1). */
  readonly z: StatResult;
  readonly pValue: PValues;
}

/** Pooled two-proportion z-test, B minus A. */
export function twoProportionZTest(input: ProportionsInput): TwoProportionZTest {
  const { successesA: xa, nA: na, successesB: xb, nB: nb } = input;
  checkInt(na, 'nA', 1);
  checkInt(nb, 'nB', 1);
  checkInt(xa, 'successesA', 0);
  checkInt(xb, 'successesB', 0);
  if (xa > na || xb > nb) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', 'successes cannot exceed the number of trials');
  }
  const pA = xa / na;
  const pB = xb / nb;
  const p = (xa + xb) / (na + nb);
  const se = Math.sqrt(p * (1 - p) * (1 / na + 1 / nb));
  const diff = pB - pA;
  if (se === 0) {
    const u = undef('pooled proportion is 0 or 1: standard error is 0, the z-test is undefined');
    return { pA, pB, pPooled: p, se, diff, z: u, pValue: { twoSided: u, greater: u, less: u } };
  }
  const z = diff / se;
  return {
    pA,
    pB,
    pPooled: p,
    se,
    diff,
    z: defined(z),
    pValue: {
      twoSided: defined(Math.min(1, erfc(Math.abs(z) / SQRT2))),
      greater: defined(normalSf(z)),
      less: defined(normalCdf(z)),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Welch's t-test
// ---------------------------------------------------------------------------------------------

export const WARN_PRECISION_LOSS =
  'RuntimeWarning: Precision loss occurred in moment calculation due to catastrophic cancellation. This occurs when the data are nearly identical. Results may be unreliable.';

export interface WelchTTest {
  readonly nA: number;
  readonly nB: number;
  readonly meanA: number;
  readonly meanB: number;
  /** ddof = 1 variances. */
  readonly varA: number;
  readonly varB: number;
  readonly se: number;
  /** Welch–Satterthwaite df (1 when undefined, as SciPy). */
  readonly df: number;
  /** meanA − meanB. */
  readonly diff: number;
  /** t = (meanA − meanB) / se; Undefined for 0/0 or fewer than 2 values in a group. */
  readonly t: StatResult;
  /** two-sided; 'less' = H1 meanA < meanB; 'greater' = H1 meanA > meanB (SciPy's convention). */
  readonly pValue: PValues;
  /** 95% CI of meanA − meanB: diff ± t_{0.975, df}·se; undefined when se = 0 or n < 2. */
  readonly ci95: { readonly lower: number; readonly upper: number } | undefined;
  readonly warnings: readonly string[];
}

/** SciPy's `_var(x, ddof=1)`: mean of squared deviations × n/(n−1), plus its precision-loss check. */
function momentVar(x: Float64Array): { mean: number; v: number; precisionLoss: boolean } {
  const n = x.length;
  const mean = npMean(x);
  const sq = new Float64Array(n);
  let maxDev = 0;
  for (let i = 0; i < n; i++) {
    const d = (x[i] as number) - mean;
    sq[i] = d * d;
    const a = Math.abs(d);
    if (a > maxDev) maxDev = a;
  }
  const relDiff = maxDev / Math.abs(mean);
  const precisionLoss = relDiff < 1e-14 && n > 1; // NaN (0/0) compares false, as in numpy
  const v = (npSum(sq) / n) * (n / (n - 1));
  return { mean, v, precisionLoss };
}

/** Student-t lower-tail CDF (scipy.special.stdtr(df, t)). */
export function studentTCdf(t: number, df: number): number {
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  return tCdf(t, df);
}

/** Student-t quantile: the @stdlib t CDF inverted by safeguarded Newton + bisection. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `studentTQuantile: need 0 < p < 1 and df > 0 (p=${p}, df=${df})`);
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const logc = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * Math.log(df * Math.PI);
  const pdf = (x: number) => Math.exp(logc - ((df + 1) / 2) * Math.log1p((x * x) / df));
  // Bracket [lo, hi] with cdf(lo) < p <= cdf(hi).
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  let x = Math.min(Math.max(normalQuantile(p, 0, 1), lo), hi);
  for (let it = 0; it < 200; it++) {
    const f = tCdf(x, df) - p;
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    let nx = x - f / pdf(x);
    if (!(nx > lo && nx < hi)) nx = (lo + hi) / 2;
    if (Math.abs(nx - x) <= 1e-16 * Math.abs(x) || hi - lo <= 4e-16 * Math.abs(hi)) return nx;
    x = nx;
  }
  return x;
}

/**
 * Welch's t-test = `scipy.stats.ttest_ind(a, b, equal_var=False)` (SciPy 1.10), all three
 * alternatives, with SciPy's precision-loss warning. NaN/±Infinity values throw StatsInputError
 * (SciPy would propagate NaN); an empty sample throws; a sample of one gives Undefined t/p.
 */
export function welchTTest(a: NumArray, b: NumArray): WelchTTest {
  if (a.length === 0 || b.length === 0) {
    throw new StatsInputError('VIGIL_ERR_STATS_EMPTY', 'welchTTest: empty sample');
  }
  const A = finiteFloat64(a, 'welchTTest: a');
  const B = finiteFloat64(b, 'welchTTest: b');
  const na = A.length;
  const nb = B.length;
  const ma = momentVar(A);
  const mb = momentVar(B);
  const warnings = ma.precisionLoss || mb.precisionLoss ? [WARN_PRECISION_LOSS] : [];
  const diff = ma.mean - mb.mean;
  if (na < 2 || nb < 2) {
    const u = undef('Welch t-test needs at least 2 values in each group (ddof=1 variance)');
    return {
      nA: na, nB: nb, meanA: ma.mean, meanB: mb.mean, varA: ma.v, varB: mb.v, se: NaN, df: NaN, diff,
      t: u, pValue: { twoSided: u, greater: u, less: u }, ci95: undefined, warnings,
    };
  }
  const vn1 = ma.v / na;
  const vn2 = mb.v / nb;
  let df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (na - 1) + vn2 ** 2 / (nb - 1));
  if (Number.isNaN(df)) df = 1;
  const se = Math.sqrt(vn1 + vn2);
  const t = diff / se;
  const base = { nA: na, nB: nb, meanA: ma.mean, meanB: mb.mean, varA: ma.v, varB: mb.v, se, df, diff, warnings };
  if (Number.isNaN(t)) {
    const u = undef('t is NaN: both samples are constant with equal means (0/0)');
    return { ...base, t: u, pValue: { twoSided: u, greater: u, less: u }, ci95: undefined };
  }
  const w = warnings.length > 0 ? warnings : undefined;
  const q = se > 0 ? studentTQuantile(0.975, df) * se : NaN;
  return {
    ...base,
    t: defined(t, w),
    pValue: {
      twoSided: defined(studentTCdf(-Math.abs(t), df) * 2, w),
      less: defined(studentTCdf(t, df), w),
      greater: defined(studentTCdf(-t, df), w),
    },
    ci95: se > 0 ? { lower: diff - q, upper: diff + q } : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Sample size for two proportions
// ---------------------------------------------------------------------------------------------

export interface SampleSizeInput {
  /** Baseline rate (A). */
  readonly p1: number;
  /** Rate to detect (B). */
  readonly p2: number;
  /** Significance level (default 0.05). */
  readonly alpha?: number;
  /** Power 1 − β (default 0.8). */
  readonly power?: number;
  /** Two-sided test (default true): z_{1−α/2}; otherwise z_{1−α}. */
  readonly twoSided?: boolean;
}

export interface SampleSize {
  readonly zAlpha: number;
  readonly zBeta: number;
  /** Primary: Fleiss without continuity correction (= R power.prop.test). Infinity when p1 = p2. */
  readonly nPerGroup: number;
  readonly nPerGroupCeil: number;
  /** (z_a + z_b)²(p1(1−p1) + p2(1−p2)) / (p1 − p2)². */
  readonly nUnpooled: number;
  readonly nUnpooledCeil: number;
  /** h = 2·asin(√p2) − 2·asin(√p1). */
  readonly cohensH: number;
  /** 2((z_a + z_b)/|h|)². */
  readonly nCohensH: number;
  readonly nCohensHCeil: number;
  /** Root of sf(z_a − |h|√(n/2)) + cdf(−z_a − |h|√(n/2)) = power (two-sided only; = nCohensH one-sided). */
  readonly nCohensHBothTails: number;
  readonly nCohensHBothTailsCeil: number;
}

function checkRate(p: number, what: string): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `${what} must be a rate in [0, 1], got ${String(p)}`);
  }
}

/** Sample size per group to detect p1 → p2 at alpha with the given power (abtest.json formulas). */
export function sampleSizeTwoProportions(input: SampleSizeInput): SampleSize {
  const { p1, p2 } = input;
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const twoSided = input.twoSided ?? true;
  checkRate(p1, 'p1');
  checkRate(p2, 'p2');
  checkOpenUnit(alpha, 'alpha');
  checkOpenUnit(power, 'power');
  const zA = normalQuantile(twoSided ? 1 - alpha / 2 : 1 - alpha, 0, 1);
  const zB = normalQuantile(power, 0, 1);
  const d2 = (p1 - p2) ** 2;
  const pbar = (p1 + p2) / 2;
  const vSum = p1 * (1 - p1) + p2 * (1 - p2);
  const nPerGroup = (zA * Math.sqrt(2 * pbar * (1 - pbar)) + zB * Math.sqrt(vSum)) ** 2 / d2;
  const nUnpooled = ((zA + zB) ** 2 * vSum) / d2;
  const h = 2 * Math.asin(Math.sqrt(p2)) - 2 * Math.asin(Math.sqrt(p1));
  const ah = Math.abs(h);
  const nCohensH = 2 * ((zA + zB) / ah) ** 2;
  let nBoth = nCohensH;
  if (twoSided && Number.isFinite(nCohensH)) {
    const f = (n: number) => {
      const s = ah * Math.sqrt(n / 2);
      return normalSf(zA - s) + normalCdf(-zA - s) - power;
    };
    // The far tail only adds power, so the root lies at or below the one-tail solution.
    let hi = nCohensH;
    let lo = nCohensH / 2;
    while (f(lo) > 0 && lo > 1e-300) {
      hi = lo;
      lo /= 2;
    }
    for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) > 0) hi = mid;
      else lo = mid;
    }
    nBoth = (lo + hi) / 2;
  }
  return {
    zAlpha: zA,
    zBeta: zB,
    nPerGroup,
    nPerGroupCeil: Math.ceil(nPerGroup),
    nUnpooled,
    nUnpooledCeil: Math.ceil(nUnpooled),
    cohensH: h,
    nCohensH,
    nCohensHCeil: Math.ceil(nCohensH),
    nCohensHBothTails: nBoth,
    nCohensHBothTailsCeil: Math.ceil(nBoth),
  };
}

// ---------------------------------------------------------------------------------------------
// Comparing a quality metric of two model versions
// ---------------------------------------------------------------------------------------------

export interface Comparison {
  /** p-value of the chosen alternative. */
  readonly pValue: StatResult;
  /** (B − A) / A; Undefined when A = 0. */
  readonly lift: StatResult;
  /** pValue <= alpha (false when the p-value is Undefined). */
  readonly significant: boolean;
  /** Samples per group needed to detect the effect (observed, or minDetectableLift) at alpha/power. */
  readonly requiredPerGroup: StatResult;
  /** max(0, requiredPerGroup − min(nA, nB)). */
  readonly samplesStillNeededPerGroup: StatResult;
  readonly valueA: number;
  readonly valueB: number;
}

export interface CompareProportionsInput extends ProportionsInput {
  readonly alpha?: number;
  readonly power?: number;
  readonly alternative?: Alternative;
  /** Relative lift to size for (e.g. 0.05 = +5%); default: the observed lift. */
  readonly minDetectableLift?: number;
}

function pick(p: PValues, alt: Alternative): StatResult {
  return alt === 'two-sided' ? p.twoSided : alt === 'greater' ? p.greater : p.less;
}

function liftOf(a: number, b: number): StatResult {
  return a === 0 ? undef('baseline (A) is 0: lift ratio undefined') : defined((b - a) / a);
}

/**
 * A/B comparison of a rate-type quality metric (accuracy, hit rate, conversion) between model
 * versions A and B: pooled z-test p-value, lift (B − A)/A, significance at alpha, and the
 * Fleiss sample size per group still needed for the observed (or minimum detectable) lift.
 */
export function compareProportions(input: CompareProportionsInput): Comparison {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const alt = input.alternative ?? 'two-sided';
  checkOpenUnit(alpha, 'alpha');
  checkOpenUnit(power, 'power');
  const z = twoProportionZTest(input);
  const pValue = pick(z.pValue, alt);
  const target = input.minDetectableLift === undefined ? z.pB : z.pA * (1 + input.minDetectableLift);
  let required: StatResult;
  if (!(target >= 0 && target <= 1)) required = undef(`target rate ${target} is not a proportion`);
  else if (target === z.pA) required = undef('no effect to detect (B rate equals A rate)');
  else {
    const ss = sampleSizeTwoProportions({ p1: z.pA, p2: target, alpha, power, twoSided: alt === 'two-sided' });
    required = Number.isFinite(ss.nPerGroup) ? defined(ss.nPerGroupCeil) : undef('sample size is infinite');
  }
  return {
    pValue,
    lift: liftOf(z.pA, z.pB),
    significant: pValue.defined && pValue.value <= alpha,
    requiredPerGroup: required,
    samplesStillNeededPerGroup: required.defined
      ? defined(Math.max(0, required.value - Math.min(input.nA, input.nB)))
      : required,
    valueA: z.pA,
    valueB: z.pB,
  };
}

export interface CompareMeansInput {
  /** Per-row metric values of version A (e.g. absolute errors, per-request scores). */
  readonly a: NumArray;
  readonly b: NumArray;
  readonly alpha?: number;
  readonly power?: number;
  readonly alternative?: Alternative;
  readonly minDetectableLift?: number;
}

/**
 * A/B comparison of a mean-type quality metric: Welch's t-test (alternative phrased for B vs A:
 * 'greater' = H1 mean_B > mean_A), lift (meanB − meanA)/meanA, and the normal-approximation
 * sample size per group n = (z_{1−α/2} + z_{1−β})²(s²_A + s²_B)/Δ² (documented; not in the vectors).
 */
export function compareMeans(input: CompareMeansInput): Comparison {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const alt = input.alternative ?? 'two-sided';
  checkOpenUnit(alpha, 'alpha');
  checkOpenUnit(power, 'power');
  const w = welchTTest(input.a, input.b);
  // welchTTest is A − B; flip the one-sided alternatives so they read "B vs A".
  const pValue = alt === 'two-sided' ? w.pValue.twoSided : alt === 'greater' ? w.pValue.less : w.pValue.greater;
  const delta = input.minDetectableLift === undefined ? w.meanB - w.meanA : w.meanA * input.minDetectableLift;
  let required: StatResult;
  if (w.nA < 2 || w.nB < 2) required = undef('need at least 2 values per group to estimate variances');
  else if (delta === 0) required = undef('no effect to detect (equal means)');
  else {
    const zA = normalQuantile(alt === 'two-sided' ? 1 - alpha / 2 : 1 - alpha, 0, 1);
    const zB = normalQuantile(power, 0, 1);
    const n = ((zA + zB) ** 2 * (w.varA + w.varB)) / (delta * delta);
    required = defined(Math.max(2, Math.ceil(n)));
  }
  return {
    pValue,
    lift: liftOf(w.meanA, w.meanB),
    significant: pValue.defined && pValue.value <= alpha,
    requiredPerGroup: required,
    samplesStillNeededPerGroup: required.defined ? defined(Math.max(0, required.value - Math.min(w.nA, w.nB))) : required,
    valueA: w.meanA,
    valueB: w.meanB,
  };
}

/** A multiple-testing adjustment, e.g. `benjaminiHochberg` from './multiple-testing.js'. */
export type PAdjust = (p: readonly number[]) => number[];

export interface AdjustedComparison extends Comparison {
  /** The adjusted p-value (Undefined when the raw one was). */
  readonly adjustedPValue: StatResult;
  /** adjustedPValue <= alpha. */
  readonly significantAdjusted: boolean;
}

/**
 * Adjust the p-values of several comparisons (several metrics or model pairs) with the given
 * correction; comparisons with an Undefined p-value are left out of the family.
 */
export function adjustComparisons(
  comparisons: readonly Comparison[],
  adjust: PAdjust,
  alpha = 0.05,
): AdjustedComparison[] {
  checkOpenUnit(alpha, 'alpha');
  const idx: number[] = [];
  const ps: number[] = [];
  comparisons.forEach((c, i) => {
    if (c.pValue.defined) {
      idx.push(i);
      ps.push(c.pValue.value);
    }
  });
  const adj = ps.length > 0 ? adjust(ps) : [];
  if (adj.length !== ps.length) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', 'adjust() returned a different number of p-values');
  }
  const byIndex = new Map<number, number>();
  idx.forEach((i, k) => byIndex.set(i, adj[k] as number));
  return comparisons.map((c, i) => {
    const a = byIndex.get(i);
    const adjustedPValue = a === undefined ? undef('raw p-value undefined') : defined(a);
    return { ...c, adjustedPValue, significantAdjusted: a !== undefined && a <= alpha };
  });
}

/** `adjustComparisons` with the named correction from './multiple-testing.js'. */
export function adjustComparisonsBy(
  comparisons: readonly Comparison[],
  method: 'bonferroni' | 'bh' | 'holm' = 'bh',
  alpha = 0.05,
): AdjustedComparison[] {
  const fn: PAdjust = method === 'bonferroni' ? (p) => bonferroni(p) : method === 'holm' ? (p) => holm(p) : (p) => benjaminiHochberg(p);
  return adjustComparisons(comparisons, fn, alpha);
}
