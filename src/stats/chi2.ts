/**
 * Chi-square tests for a categorical feature (current window vs reference), exactly as
 * test/fixtures/vectors/chi2.json defines them (scipy.stats.chisquare / chi2_contingency, SciPy 1.10):
 *  - `gof_union`: goodness of fit over the union of categories, f_exp = (ref_k/n_ref)*n_cur; a
 *    category unseen in the reference makes the statistic +Infinity (p = 0).
 *  - `gof_eps`: reference proportions with zeros replaced by epsilon (1e-4) and renormalised.
 *  - `gof_drop_new`: current rows in unseen categories are removed before the test.
 *  - `contingency` (DEFAULT): 2×K table [reference counts; current counts] over the union,
 *    correction=False. It treats the reference as the sample it is (not as known proportions), needs
 *    no epsilon, and handles new categories without an infinite statistic.
 * Every result also reports `unseenShare`: the fraction of current rows whose category never
 * occurs in the reference (a data-quality signal, reported whatever the variant).
 * p-values: chi2.sf(x, df) = Q(df/2, x/2), the regularized upper incomplete gamma from @stdlib.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import { StatsInputError } from './types.js';
import { numpySum, PSI_EPSILON, toCountMap, type CategoryCounts } from './psi.js';

export type Chi2Variant = 'gof_union' | 'gof_eps' | 'gof_drop_new' | 'contingency';
export const CHI2_DEFAULT_VARIANT: Chi2Variant = 'contingency';

export interface Chi2Options {
  readonly variant?: Chi2Variant;
  /** epsilon for gof_eps (default 1e-4) */
  readonly epsilon?: number;
  /** Yates continuity correction for the 2×2 contingency case (default false, as the vectors) */
  readonly correction?: boolean;
}

interface Chi2Common {
  readonly variant: Chi2Variant;
  /** category universe: sorted union of reference and current categories */
  readonly categories: string[];
  readonly refCounts: number[];
  readonly curCounts: number[];
  readonly nRef: number;
  readonly nCur: number;
  /** categories present in current but absent from reference */
  readonly newCategories: string[];
  /** categories present in reference but absent from current */
  readonly missingInCurrent: string[];
  /** share of current rows whose category is unseen in the reference (0 when nCur = 0) */
  readonly unseenShare: number;
  /** total variation distance 0.5·Σ|p_ref − p_cur| over the union (effect size in [0,1]) */
  readonly tvd: number;
  /** Cramér's V of the 2×K table, sqrt(chi2_contingency / N) (0 when K = 1) */
  readonly cramersV: number;
}

export interface Chi2Defined extends Chi2Common {
  readonly defined: true;
  readonly statistic: number;
  /** NaN for goodness-of-fit with a single category (df = 0), as SciPy */
  readonly pvalue: number;
  readonly df: number;
  /** observed counts used by the test (gof variants: current counts; contingency: flattened 2×K) */
  readonly fObs: number[];
  /** expected counts (gof: f_exp; contingency: flattened 2×K expected frequencies) */
  readonly fExp: number[];
  /** gof_drop_new: number of current rows removed */
  readonly nDropped: number;
  readonly warnings: string[];
}

export interface Chi2Undefined extends Chi2Common {
  readonly defined: false;
  readonly reason: string;
}

export type Chi2Result = Chi2Defined | Chi2Undefined;

/** scipy.stats.chi2.sf(x, df), including df <= 0 -> NaN, x = inf -> 0. */
export function chi2Sf(x: number, df: number): number {
  if (Number.isNaN(x) || Number.isNaN(df) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return gammainc(x / 2, df / 2, true, true);
}

/** Pearson terms and statistic as scipy.stats.power_divergence (lambda_=1), numpy summation order. */
function pearson(fObs: readonly number[], fExp: readonly number[]): { stat: number; warnings: string[] } {
  const terms: number[] = [];
  const warnings: string[] = [];
  let divZero = false;
  for (let k = 0; k < fObs.length; k++) {
    const o = fObs[k] as number;
    const e = fExp[k] as number;
    if (e === 0 && o !== 0) divZero = true;
    terms.push((o - e) ** 2 / e);
  }
  if (divZero) warnings.push('RuntimeWarning: divide by zero encountered in divide');
  return { stat: numpySum(terms), warnings };
}

/** Counts occurrences of each category label; null/undefined/'' are treated as missing and counted apart. */
export function countCategories(values: ArrayLike<string | number | boolean | null | undefined>): {
  counts: Map<string, number>;
  missing: number;
} {
  const counts = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v))) {
      missing++;
      continue;
    }
    const key = String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { counts, missing };
}

/**
 * Chi-square test of a current categorical sample (as counts) against reference counts.
 * Throws StatsInputError when either side has no observations.
 */
export function chi2Categorical(reference: CategoryCounts, current: CategoryCounts, options: Chi2Options = {}): Chi2Result {
  const variant = options.variant ?? CHI2_DEFAULT_VARIANT;
  const epsilon = options.epsilon ?? PSI_EPSILON;
  if (!['gof_union', 'gof_eps', 'gof_drop_new', 'contingency'].includes(variant)) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `unknown chi-square variant: ${String(variant)}`);
  }
  if (!(epsilon > 0 && epsilon < 1)) throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `epsilon must be in (0,1), got ${epsilon}`);
  const r = toCountMap(reference);
  const c = toCountMap(current);
  // categories with zero count on both sides carry no information: drop them
  const categories = [...new Set([...r.keys(), ...c.keys()])].filter((k) => (r.get(k) ?? 0) + (c.get(k) ?? 0) > 0).sort();
  const refCounts = categories.map((k) => r.get(k) ?? 0);
  const curCounts = categories.map((k) => c.get(k) ?? 0);
  const nRef = refCounts.reduce((a, b) => a + b, 0);
  const nCur = curCounts.reduce((a, b) => a + b, 0);
  if (nRef === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'reference has no categorical observations');
  if (nCur === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'current has no categorical observations');
  const K = categories.length;
  const newIdx = categories.map((_, k) => (refCounts[k] as number) === 0);
  const newCategories = categories.filter((_, k) => newIdx[k]);
  const missingInCurrent = categories.filter((_, k) => (curCounts[k] as number) === 0);
  let unseen = 0;
  for (let k = 0; k < K; k++) if (newIdx[k]) unseen += curCounts[k] as number;
  let tvdSum = 0;
  for (let k = 0; k < K; k++) tvdSum += Math.abs((refCounts[k] as number) / nRef - (curCounts[k] as number) / nCur);

  const cont = contingency2xK(refCounts, curCounts, false);
  const common: Chi2Common = {
    variant,
    categories,
    refCounts,
    curCounts,
    nRef,
    nCur,
    newCategories,
    missingInCurrent,
    unseenShare: unseen / nCur,
    tvd: tvdSum / 2,
    cramersV: K > 1 ? Math.sqrt(cont.statistic / (nRef + nCur)) : 0,
  };

  if (variant === 'contingency') {
    const res = options.correction ? contingency2xK(refCounts, curCounts, true) : cont;
    return { ...common, defined: true, ...res, nDropped: 0, warnings: [] };
  }
  let fObs: number[];
  let fExp: number[];
  let nDropped = 0;
  if (variant === 'gof_union') {
    fObs = curCounts;
    fExp = refCounts.map((rc) => (rc / nRef) * nCur);
  } else if (variant === 'gof_eps') {
    fObs = curCounts;
    let p = refCounts.map((rc) => rc / nRef);
    if (p.some((x) => x === 0)) {
      p = p.map((x) => (x === 0 ? epsilon : x));
      const s = numpySum(p);
      p = p.map((x) => x / s);
    }
    fExp = p.map((x) => x * nCur);
  } else {
    const keep = categories.map((_, k) => !newIdx[k]);
    fObs = curCounts.filter((_, k) => keep[k]);
    nDropped = unseen;
    const kept = nCur - unseen;
    if (kept === 0) {
      return { ...common, defined: false, reason: 'no current observations in reference categories' };
    }
    fExp = refCounts.filter((_, k) => keep[k]).map((rc) => (rc / nRef) * kept);
  }
  const { stat, warnings } = pearson(fObs, fExp);
  const df = fObs.length - 1;
  return { ...common, defined: true, statistic: stat, pvalue: chi2Sf(stat, df), df, fObs, fExp, nDropped, warnings };
}

/**
 * scipy.stats.chi2_contingency on the 2×K table [ref; cur] (rows must both be non-empty and
 * every column total > 0). dof = K-1; dof 0 -> statistic 0, p 1.
 */
export function contingency2xK(
  refCounts: readonly number[],
  curCounts: readonly number[],
  correction = false,
): { statistic: number; pvalue: number; df: number; fObs: number[]; fExp: number[] } {
  const K = refCounts.length;
  if (curCounts.length !== K) {
    throw new StatsInputError('VIGIL_ERR_STATS_LENGTH_MISMATCH', `count vectors differ in length (${K} vs ${curCounts.length})`);
  }
  const rowR = refCounts.reduce((a, b) => a + b, 0);
  const rowC = curCounts.reduce((a, b) => a + b, 0);
  const total = rowR + rowC;
  const obs = [...refCounts, ...curCounts];
  const exp: number[] = [];
  for (const row of [rowR, rowC]) {
    for (let k = 0; k < K; k++) exp.push((row * ((refCounts[k] as number) + (curCounts[k] as number))) / total);
  }
  if (exp.some((e) => e === 0)) {
    throw new StatsInputError('VIGIL_ERR_STATS_ZERO_EXPECTED', 'contingency table has a zero expected frequency (empty row or column)');
  }
  const dof = K - 1;
  if (dof === 0) return { statistic: 0.0, pvalue: 1.0, df: 0, fObs: obs, fExp: exp };
  let o = obs;
  if (dof === 1 && correction) {
    o = obs.map((x, i) => {
      const diff = (exp[i] as number) - x;
      return x + Math.min(0.5, Math.abs(diff)) * Math.sign(diff);
    });
  }
  const { stat } = pearson(o, exp);
  return { statistic: stat, pvalue: chi2Sf(stat, dof), df: dof, fObs: obs, fExp: exp };
}
