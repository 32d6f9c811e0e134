/**
 * Exact null distribution of the two-sample Kolmogorov–Smirnov statistic, ported from SciPy 1.10
 * (scipy/stats/_stats_py.py): `_compute_prob_outside_square`, `_count_paths_outside_method`,
 * `_compute_outer_prob_inside_method` and `_attempt_exact_2kssamp`. Lattice-path counting after
 * Hodges (1958). Pure functions.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import { roundHalfEven } from './sample.js';

/**
 * Binomial coefficient C(n, k) as a double, following scipy.special.binom for integer arguments:
 * multiplicative formula for k < 20 (after reducing k by symmetry), else exp of log-gamma terms.
 */
export function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let kx = k;
  if (kx > n / 2 && n > 0) kx = n - kx;
  if (kx < 20) {
    let num = 1.0;
    let den = 1.0;
    for (let i = 1; i <= kx; i++) {
      num *= i + n - kx;
      den *= i;
      if (Math.abs(num) > 1e50) {
        num /= den;
        den = 1.0;
      }
    }
    return num / den;
  }
  return Math.exp(gammaln(n + 1) - gammaln(kx + 1) - gammaln(n - kx + 1));
}

/** Pr(D_{n,n} >= h/n), two-sided, equal sample sizes (Horner form, no cancellation). */
export function computeProbOutsideSquare(n: number, h: number): number {
  let P = 0.0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1.0;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1.0 - P);
    k -= 1;
  }
  return 2 * P;
}

/**
 * Number of lattice paths from (0,0) to (m,n) that reach the one-sided boundary (SciPy
 * `_count_paths_outside_method`). May overflow to Infinity / NaN: callers check.
 */
export function countPathsOutsideMethod(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  const lxj = n + Math.floor((mg - h) / mg);
  if (lxj <= 0) return binom(m + n, n);
  const xj = new Float64Array(lxj);
  for (let j = 0; j < lxj; j++) xj[j] = Math.floor((h + mg * j + ng - 1) / ng);
  const B = new Float64Array(lxj);
  B[0] = 1;
  for (let j = 1; j < lxj; j++) {
    const xjj = xj[j] as number;
    let Bj = binom(xjj + j, j);
    for (let i = 0; i < j; i++) {
      const bin = binom(xjj - (xj[i] as number) + j - i, j - i);
      Bj -= bin * (B[i] as number);
    }
    if (!Number.isFinite(Bj)) return NaN;
    B[j] = Bj;
  }
  let numPaths = 0;
  for (let j = 0; j < lxj; j++) {
    const bin = binom(m - (xj[j] as number) + (n - j), n - j);
    numPaths += (B[j] as number) * bin;
  }
  return numPaths;
}

/**
 * Pr(two-sided D_{m,n} >= h/lcm) for m != n: the probability that a path leaves the band
 * |x/m - y/n| < h/lcm (SciPy 1.10 `_compute_outer_prob_inside_method`, which propagates the
 * complementary probability directly so that tiny p-values keep full relative precision).
 */
export function computeOuterProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj && j < lenA; j++) A[j] = 0.0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1.0;
    let val = minj === 0 ? 0.0 : 1.0;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const s = maxj - minj;
      for (let t = s; t < s + (lastlen - curlen) && t < lenA; t++) A[t] = 1;
    }
  }
  return A[maxj - minj - 1] as number;
}

export type Alternative = 'two-sided' | 'less' | 'greater';

export interface ExactAttempt {
  readonly success: boolean;
  /** statistic rounded to h/lcm(n1, n2) */
  readonly d: number;
  readonly prob: number;
}

/** greatest common divisor of two non-negative integers */
export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/** SciPy `_attempt_exact_2kssamp`: exact p-value or a failure flag (caller falls back to asymp). */
export function attemptExact2kssamp(n1: number, n2: number, g: number, d0: number, alternative: Alternative): ExactAttempt {
  const lcm = Math.floor(n1 / g) * n2;
  const h = roundHalfEven(d0 * lcm);
  const d = (h * 1.0) / lcm;
  if (h === 0) return { success: true, d, prob: 1.0 };
  let prob = NaN;
  if (alternative === 'two-sided') {
    prob = n1 === n2 ? computeProbOutsideSquare(n1, h) : computeOuterProbInsideMethod(n1, n2, g, h);
    if (!Number.isFinite(prob)) return { success: false, d, prob: NaN };
  } else if (n1 === n2) {
    prob = 1;
    for (let j = 0; j < h; j++) prob *= (n1 - j) / (n1 + j + 1.0);
  } else {
    const bin = binom(n1 + n2, n1);
    if (!Number.isFinite(bin)) return { success: false, d, prob: NaN };
    const numPaths = countPathsOutsideMethod(n1, n2, g, h);
    if (!Number.isFinite(numPaths) || numPaths > bin) return { success: false, d, prob: NaN };
    prob = numPaths / bin;
  }
  if (!(prob >= 0 && prob <= 1)) return { success: false, d, prob };
  return { success: true, d, prob };
}
