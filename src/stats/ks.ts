/**
 * Two-sample Kolmogorov–Smirnov test, identical to scipy.stats.ks_2samp (SciPy 1.10):
 * statistic, p-value, statistic_location, statistic_sign; alternatives two-sided/less/greater;
 * methods auto/exact/asymp with SciPy's `auto` rule and exact→asymp fallback.
 *
 * Input rule: NaN/±Infinity are dropped and counted (see sample.ts); an empty sample after
 * cleaning throws StatsInputError(VIGIL_ERR_STATS_EMPTY_SAMPLE). The statistic is computed in a
 * single merge pass over the two sorted samples (O(n1+n2) after sorting).
 */
import { StatsInputError } from './types.js';
import { attemptExact2kssamp, gcd, type Alternative } from './ks-exact.js';
import { kstwoSf } from './kolmogorov.js';
import { cleanNonEmpty, NO_DROPS, roundHalfEven, sortInPlace, type DroppedCounts, type NumericInput } from './sample.js';

export type { Alternative } from './ks-exact.js';
export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsOptions {
  readonly alternative?: Alternative;
  readonly method?: KsMethod;
  /**
   * With method `auto`: the exact p-value only when its work (ksExactCost) is within this budget,
   * else the asymptotic one — Vigil's deviation from SciPy's `auto`, which the monitors take
   * (drift.ks_method: auto) so that a cycle's cost grows smoothly with the window (SciPy's rule
   * costs O(n1·n2) per feature just below 10,000 rows). Undefined: SciPy's rule.
   */
  readonly exactBudget?: number;
}

export interface KsResult {
  /** D (two-sided), D+ = max(F1-F2) ('greater') or D- = max(F2-F1) ('less'); rounded to h/lcm when the exact path ran */
  readonly statistic: number;
  /** p-value in [0,1]; NaN only where SciPy returns NaN (asymp two-sided with n1=n2=1), see `warnings` */
  readonly pvalue: number;
  /** the x at which the extreme ECDF difference is attained (SciPy's tie rule) */
  readonly statisticLocation: number;
  /** +1 if the statistic is max(F1-F2), -1 if max(F2-F1) */
  readonly statisticSign: 1 | -1;
  readonly alternative: Alternative;
  readonly method: KsMethod;
  /** method that actually produced the p-value */
  readonly methodUsed: 'exact' | 'asymp';
  /** SciPy-style warnings (e.g. the exact→asymp fallback) */
  readonly warnings: readonly string[];
  readonly n1: number;
  readonly n2: number;
  /** non-finite values dropped from data1 / data2 */
  readonly dropped1: DroppedCounts;
  readonly dropped2: DroppedCounts;
}

export const KS_MAX_AUTO_N = 10000;

/**
 * The monitors' budget for an exact KS p-value (drift.ks_method: auto), in steps of the lattice
 * recursion (ksExactCost): ~0.1-0.4 ms of CPU, so 560 features (8 models × 70) cost at most
 * ~0.2 s a cycle in exact p-values. Against a 10,000-point reference only windows of up to ~15
 * values stay exact; the asymptotic p-value's distance from the exact one is measured and tested
 * (ks.test.ts, docs/statistics-drift.md).
 */
export const KS_EXACT_BUDGET = 100_000;

/**
 * The work of the exact p-value for samples of sizes n1 and n2 and statistic d, in steps of its
 * lattice recursion (ks-exact.ts), known before computing it: equal sizes O(n); two-sided unequal
 * sizes, the band of the path recursion, max(n1, n2) rows of about 2·d·min(n1, n2) cells; one-sided
 * unequal sizes, O(min(n1, n2)²) path sums.
 */
export function ksExactCost(n1: number, n2: number, d: number, alternative: Alternative): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  if (n1 === n2) return n;
  if (alternative === 'two-sided') return m * Math.min(2 * d * n + 2, n + 1);
  return n * n;
}
export const KS_FALLBACK_WARNING = 'RuntimeWarning: ks_2samp: Exact calculation unsuccessful. Switching to method=asymp.';
export const KS_DIVIDE_WARNING = 'RuntimeWarning: divide by zero encountered in divide';
const INT32_MAX = 2147483647;

/** ECDF extremes of two sorted samples (single merge pass). */
export interface EcdfExtremes {
  /** max(F1 - F2) as SciPy computes it (k/n1 - j/n2 in float64) */
  readonly maxS: number;
  readonly locMax: number;
  /** max(F2 - F1) clipped to [0, 1] */
  readonly minS: number;
  readonly locMin: number;
}

/**
 * Scans two ascending, finite samples once and returns max(F1-F2), max(F2-F1) and their
 * locations with SciPy's argmax rule (first index in concat(sorted1, sorted2)).
 */
export function ecdfExtremes(s1: Float64Array, s2: Float64Array): EcdfExtremes {
  const n1 = s1.length;
  const n2 = s2.length;
  let i = 0;
  let j = 0;
  let maxD = -Infinity;
  let maxLoc1 = NaN; // smallest x from data1 attaining the max
  let maxLoc2 = NaN; // smallest x (not in data1) attaining the max
  let minD = Infinity;
  let minLoc1 = NaN;
  let minLoc2 = NaN;
  while (i < n1 || j < n2) {
    let v: number;
    if (j >= n2) v = s1[i] as number;
    else if (i >= n1) v = s2[j] as number;
    else {
      const a = s1[i] as number;
      const b = s2[j] as number;
      v = a <= b ? a : b;
    }
    let inD1 = false;
    while (i < n1 && (s1[i] as number) === v) {
      i++;
      inD1 = true;
    }
    while (j < n2 && (s2[j] as number) === v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxD) {
      maxD = diff;
      if (inD1) {
        maxLoc1 = v;
        maxLoc2 = NaN;
      } else {
        maxLoc1 = NaN;
        maxLoc2 = v;
      }
    } else if (diff === maxD) {
      if (inD1) {
        if (Number.isNaN(maxLoc1)) maxLoc1 = v;
      } else if (Number.isNaN(maxLoc2)) maxLoc2 = v;
    }
    if (diff < minD) {
      minD = diff;
      if (inD1) {
        minLoc1 = v;
        minLoc2 = NaN;
      } else {
        minLoc1 = NaN;
        minLoc2 = v;
      }
    } else if (diff === minD) {
      if (inD1) {
        if (Number.isNaN(minLoc1)) minLoc1 = v;
      } else if (Number.isNaN(minLoc2)) minLoc2 = v;
    }
  }
  let minS = -minD;
  minS = minS <= 0 ? 0 : minS > 1 ? 1 : minS;
  return {
    maxS: maxD,
    locMax: Number.isNaN(maxLoc1) ? maxLoc2 : maxLoc1,
    minS,
    locMin: Number.isNaN(minLoc1) ? minLoc2 : minLoc1,
  };
}

/** Asymptotic p-value exactly as SciPy: kstwo.sf(d, round(en)) or Hodges' one-sided formula. */
export function ksAsympPvalue(d: number, n1: number, n2: number, alternative: Alternative): { p: number; warnings: string[] } {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  const warnings: string[] = [];
  let prob: number;
  if (alternative === 'two-sided') {
    const ne = roundHalfEven(en);
    if (ne === 0) warnings.push(KS_DIVIDE_WARNING);
    prob = kstwoSf(d, ne);
  } else {
    const z = Math.sqrt(en) * d;
    const expt = -2 * z ** 2 - (2 * z * (m + 2 * n)) / Math.sqrt(m * n * (m + n)) / 3.0;
    prob = Math.exp(expt);
  }
  return { p: Number.isNaN(prob) ? NaN : Math.min(1, Math.max(0, prob)), warnings };
}

function validateSorted(a: Float64Array, name: string): void {
  for (let k = 0; k < a.length; k++) {
    const v = a[k] as number;
    if (!Number.isFinite(v)) {
      throw new StatsInputError('VIGIL_ERR_STATS_NON_FINITE', `${name}[${k}] is ${v}: presorted samples must be finite (clean them first)`);
    }
    if (k > 0 && v < (a[k - 1] as number)) {
      throw new StatsInputError('VIGIL_ERR_STATS_NOT_SORTED', `${name} is not sorted ascending at index ${k}`);
    }
  }
  if (a.length === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', `${name} is empty`);
}

/**
 * ks_2samp on samples that are already sorted ascending and finite (validated in O(n), never
 * re-sorted). Use this with a reference summary sorted once.
 */
export function ks2sampSorted(
  sorted1: Float64Array,
  sorted2: Float64Array,
  options: KsOptions = {},
  dropped: { dropped1?: DroppedCounts; dropped2?: DroppedCounts } = {},
): KsResult {
  validateSorted(sorted1, 'data1');
  validateSorted(sorted2, 'data2');
  checkKsOptions(options);
  return ksFromExtremes(sorted1.length, sorted2.length, ecdfExtremes(sorted1, sorted2), options, dropped);
}

function checkKsOptions(options: KsOptions): void {
  const alternative: Alternative = options.alternative ?? 'two-sided';
  const method: KsMethod = options.method ?? 'auto';
  if (!['two-sided', 'less', 'greater'].includes(alternative)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `invalid alternative: ${String(alternative)}`);
  }
  if (!['auto', 'exact', 'asymp'].includes(method)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `invalid method: ${String(method)}`);
  }
  if (options.exactBudget !== undefined && !(options.exactBudget >= 0)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `invalid exactBudget: ${String(options.exactBudget)}`);
  }
}

/**
 * The rest of ks_2samp once the ECDF extremes of samples of sizes n1 and n2 are known: the
 * statistic for the alternative, and its exact or asymptotic p-value (SciPy's `auto` rule and
 * exact→asymp fallback). Any computation giving the same extremes (e.g. from counts, see
 * coded.ts) gives the same result.
 */
export function ksFromExtremes(
  n1: number,
  n2: number,
  ex: EcdfExtremes,
  options: KsOptions = {},
  dropped: { dropped1?: DroppedCounts; dropped2?: DroppedCounts } = {},
): KsResult {
  checkKsOptions(options);
  if (n1 <= 0 || n2 <= 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', `KS needs two non-empty samples (sizes ${n1} and ${n2})`);
  const alternative: Alternative = options.alternative ?? 'two-sided';
  const method: KsMethod = options.method ?? 'auto';
  let d: number;
  let loc: number;
  let sign: 1 | -1;
  if (alternative === 'less' || (alternative === 'two-sided' && ex.minS > ex.maxS)) {
    d = ex.minS;
    loc = ex.locMin;
    sign = -1;
  } else {
    d = ex.maxS;
    loc = ex.locMax;
    sign = 1;
  }
  const warnings: string[] = [];
  const g = gcd(n1, n2);
  const n1g = n1 / g;
  const n2g = n2 / g;
  let mode: 'exact' | 'asymp';
  if (method === 'auto') {
    mode = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
    if (mode === 'exact' && options.exactBudget !== undefined && ksExactCost(n1, n2, d, alternative) > options.exactBudget) mode = 'asymp';
  }
  else if (method === 'exact') {
    mode = 'exact';
    if (n1g >= INT32_MAX / n2g) {
      mode = 'asymp';
      warnings.push(`RuntimeWarning: Exact ks_2samp calculation not possible with samples sizes ${n1} and ${n2}. Switching to 'asymp'.`);
    }
  } else mode = 'asymp';
  let prob = NaN;
  if (mode === 'exact') {
    const att = attemptExact2kssamp(n1, n2, g, d, alternative);
    d = att.d;
    if (att.success) prob = att.prob;
    else {
      mode = 'asymp';
      warnings.push(KS_FALLBACK_WARNING);
    }
  }
  if (mode === 'asymp') {
    const a = ksAsympPvalue(d, n1, n2, alternative);
    prob = a.p;
    warnings.push(...a.warnings);
  }
  if (!Number.isNaN(prob)) prob = Math.min(1, Math.max(0, prob));
  return {
    statistic: d === 0 ? 0 : d,
    pvalue: prob,
    statisticLocation: loc,
    statisticSign: sign,
    alternative,
    method,
    methodUsed: mode,
    warnings,
    n1,
    n2,
    dropped1: dropped.dropped1 ?? NO_DROPS,
    dropped2: dropped.dropped2 ?? NO_DROPS,
  };
}

/**
 * scipy.stats.ks_2samp(data1, data2, alternative, method). Inputs are copied, cleaned
 * (NaN/±Infinity dropped and counted) and sorted; the caller's arrays are never mutated.
 */
export function ks2samp(data1: NumericInput, data2: NumericInput, options: KsOptions = {}): KsResult {
  const c1 = cleanNonEmpty(data1, 'data1');
  const c2 = cleanNonEmpty(data2, 'data2');
  return ks2sampSorted(sortInPlace(c1.values), sortInPlace(c2.values), options, {
    dropped1: c1.dropped,
    dropped2: c2.dropped,
  });
}
