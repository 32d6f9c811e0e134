/**
 * Jensen–Shannon distance as scipy.spatial.distance.jensenshannon (SciPy 1.10):
 *   p, q normalised to sum 1; m = (p+q)/2; JS = sqrt((Σ rel_entr(p,m) + Σ rel_entr(q,m)) / 2 [/ ln base]).
 * rel_entr(0, y) = 0, so zero bins need no epsilon. Base 2 (default here) gives a distance in [0,1].
 * Also on binned numeric samples (equal-width bins over reference ∪ current, as psi.json
 * 'equal_width', proportions without epsilon) and on category frequencies.
 */
import { StatsInputError } from './types.js';
import { cleanNonEmpty, type DroppedCounts, type NumericInput } from './sample.js';
import { countEqualWidth, equalWidthEdges, numpySum, PSI_DEFAULT_BINS, toCountMap, type CategoryCounts } from './psi.js';

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/**
 * Jensen–Shannon DISTANCE between two non-negative weight vectors of equal length (normalised
 * first). base: 2 (default) or any base > 0, e.g. Math.E. A rounding-level negative divergence is
 * clamped to 0 (SciPy would return NaN there).
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>, base: number = 2): number {
  if (p.length !== q.length) {
    throw new StatsInputError('VIGIL_ERR_STATS_LENGTH_MISMATCH', `p and q differ in length (${p.length} vs ${q.length})`);
  }
  if (p.length === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'p and q are empty');
  if (!(base > 0) || base === 1) throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `base must be > 0 and != 1, got ${base}`);
  for (let k = 0; k < p.length; k++) {
    const a = p[k] as number;
    const b = q[k] as number;
    if (!(a >= 0 && b >= 0 && Number.isFinite(a) && Number.isFinite(b))) {
      throw new StatsInputError('VIGIL_ERR_STATS_BAD_WEIGHT', `weights must be finite and >= 0 (index ${k}: ${a}, ${b})`);
    }
  }
  const sp = numpySum(p);
  const sq = numpySum(q);
  if (sp === 0 || sq === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'p or q sums to 0');
  const n = p.length;
  const left = new Float64Array(n);
  const right = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const a = (p[k] as number) / sp;
    const b = (q[k] as number) / sq;
    const m = (a + b) / 2.0;
    left[k] = relEntr(a, m);
    right[k] = relEntr(b, m);
  }
  let js = numpySum(left) + numpySum(right);
  if (base !== Math.E) js /= Math.log(base);
  const d = js / 2.0;
  return Math.sqrt(d < 0 ? 0 : d);
}

export interface BinnedJsdResult {
  /** JS distance, base 2 */
  readonly distance: number;
  /** JS distance, natural log */
  readonly distanceBaseE: number;
  readonly edges: number[];
  readonly refProps: number[];
  readonly curProps: number[];
  readonly droppedRef: DroppedCounts;
  readonly droppedCur: DroppedCounts;
}

/** JS distance between two numeric samples binned on equal-width bins over reference ∪ current. */
export function jensenShannonSamples(reference: NumericInput, current: NumericInput, bins = PSI_DEFAULT_BINS): BinnedJsdResult {
  const r = cleanNonEmpty(reference, 'reference');
  const c = cleanNonEmpty(current, 'current');
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of [r.values, c.values]) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const edges = equalWidthEdges(lo, hi, bins);
  return binnedJsd(edges, countEqualWidth(r.values, edges), r.values.length, countEqualWidth(c.values, edges), c.values.length, r.dropped, c.dropped);
}

/** The binned JS result from bin counts of both samples (shared with the reference-summary path). */
export function binnedJsd(
  edges: number[],
  refCounts: readonly number[],
  nRef: number,
  curCounts: readonly number[],
  nCur: number,
  droppedRef: DroppedCounts,
  droppedCur: DroppedCounts,
): BinnedJsdResult {
  const refProps = refCounts.map((x) => x / nRef);
  const curProps = curCounts.map((x) => x / nCur);
  return {
    distance: jensenShannon(refProps, curProps, 2),
    distanceBaseE: jensenShannon(refProps, curProps, Math.E),
    edges,
    refProps,
    curProps,
    droppedRef,
    droppedCur,
  };
}

/** JS distance (base 2) between two category-frequency tables over the union of categories. */
export function jensenShannonCategorical(reference: CategoryCounts, current: CategoryCounts, base: number = 2): number {
  const r = toCountMap(reference);
  const c = toCountMap(current);
  const cats = [...new Set([...r.keys(), ...c.keys()])].sort();
  return jensenShannon(
    cats.map((k) => r.get(k) ?? 0),
    cats.map((k) => c.get(k) ?? 0),
    base,
  );
}
