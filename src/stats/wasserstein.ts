/**
 * Wasserstein-1 distance as scipy.stats.wasserstein_distance (SciPy 1.10, `_cdf_distance` with p=1):
 *   ∫ |F_u(x) − F_v(x)| dx of the (optionally weighted) empirical CDFs, summed with numpy's
 * pairwise order over the merged sorted values. NaN/±Infinity values are dropped and counted
 * (unweighted API); the weighted API rejects them.
 */
import { StatsInputError } from './types.js';
import { cleanNonEmpty, sortInPlace, type DroppedCounts, type NumericInput } from './sample.js';
import { numpySum } from './psi.js';

export interface WassersteinResult {
  readonly distance: number;
  readonly nU: number;
  readonly nV: number;
  readonly droppedU: DroppedCounts;
  readonly droppedV: DroppedCounts;
}

/** W1 between two ascending, finite samples (single merge pass, no re-sorting). */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  const n1 = u.length;
  const n2 = v.length;
  if (n1 === 0 || n2 === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'wasserstein needs two non-empty samples');
  const N = n1 + n2;
  const terms = new Float64Array(N - 1);
  let i = 0;
  let j = 0;
  let pos = 0;
  while (i < n1 || j < n2) {
    let x: number;
    if (j >= n2) x = u[i] as number;
    else if (i >= n1) x = v[j] as number;
    else x = Math.min(u[i] as number, v[j] as number);
    const i0 = i;
    const j0 = j;
    while (i < n1 && (u[i] as number) === x) i++;
    while (j < n2 && (v[j] as number) === x) j++;
    const group = i - i0 + (j - j0);
    const diff = Math.abs(i / n1 - j / n2);
    // positions inside a run of equal values have delta 0 (terms stay 0)
    pos += group - 1;
    if (pos < N - 1) {
      let next: number;
      if (j >= n2) next = u[i] as number;
      else if (i >= n1) next = v[j] as number;
      else next = Math.min(u[i] as number, v[j] as number);
      terms[pos] = diff * (next - x);
    }
    pos++;
  }
  return numpySum(terms);
}

/** scipy.stats.wasserstein_distance(u_values, v_values) (unweighted). */
export function wasserstein(uValues: NumericInput, vValues: NumericInput): WassersteinResult {
  const u = cleanNonEmpty(uValues, 'u_values');
  const v = cleanNonEmpty(vValues, 'v_values');
  return {
    distance: wassersteinSorted(sortInPlace(u.values), sortInPlace(v.values)),
    nU: u.values.length,
    nV: v.values.length,
    droppedU: u.dropped,
    droppedV: v.dropped,
  };
}

function validateWeighted(values: ArrayLike<number>, weights: ArrayLike<number>, name: string): void {
  if (values.length === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', `${name} is empty`);
  if (weights.length !== values.length) {
    throw new StatsInputError('VIGIL_ERR_STATS_LENGTH_MISMATCH', `${name}: values and weights differ in length (${values.length} vs ${weights.length})`);
  }
  let s = 0;
  for (let k = 0; k < values.length; k++) {
    const x = values[k] as number;
    const w = weights[k] as number;
    if (!Number.isFinite(x)) throw new StatsInputError('VIGIL_ERR_STATS_NON_FINITE', `${name}[${k}] is ${x}`);
    if (!(w >= 0) || !Number.isFinite(w)) throw new StatsInputError('VIGIL_ERR_STATS_BAD_WEIGHT', `${name} weight ${k} must be finite and >= 0, got ${w}`);
    s += w;
  }
  if (!(s > 0)) throw new StatsInputError('VIGIL_ERR_STATS_BAD_WEIGHT', `${name} weights must sum to a positive value`);
}

/** scipy.stats.wasserstein_distance(u_values, v_values, u_weights, v_weights). */
export function wassersteinWeighted(
  uValues: ArrayLike<number>,
  vValues: ArrayLike<number>,
  uWeights: ArrayLike<number>,
  vWeights: ArrayLike<number>,
): number {
  validateWeighted(uValues, uWeights, 'u');
  validateWeighted(vValues, vWeights, 'v');
  const sortIdx = (a: ArrayLike<number>): number[] => Array.from({ length: a.length }, (_, k) => k).sort((x, y) => (a[x] as number) - (a[y] as number) || x - y);
  const us = sortIdx(uValues);
  const vs = sortIdx(vValues);
  const uSorted = us.map((k) => uValues[k] as number);
  const vSorted = vs.map((k) => vValues[k] as number);
  const cum = (idx: number[], w: ArrayLike<number>): number[] => {
    const out = [0];
    let s = 0;
    for (const k of idx) {
      s += w[k] as number;
      out.push(s);
    }
    return out;
  };
  const uCum = cum(us, uWeights);
  const vCum = cum(vs, vWeights);
  const all = [...uSorted, ...vSorted].sort((a, b) => a - b);
  const upper = (sorted: number[], x: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const uTot = uCum[uCum.length - 1] as number;
  const vTot = vCum[vCum.length - 1] as number;
  const terms = new Float64Array(all.length - 1);
  for (let k = 0; k < all.length - 1; k++) {
    const x = all[k] as number;
    const uc = (uCum[upper(uSorted, x)] as number) / uTot;
    const vc = (vCum[upper(vSorted, x)] as number) / vTot;
    terms[k] = Math.abs(uc - vc) * ((all[k + 1] as number) - x);
  }
  return numpySum(terms);
}
