/**
 * Reference summaries: a reference sample is summarised ONCE into a compact, JSON-serialisable
 * object so that each monitoring cycle compares a current window against it without re-reading or
 * re-sorting the reference.
 *
 * Numeric summary: count, dropped non-finite counts, min, max, mean, std, PSI quantile edges and the
 * reference counts in those bins (both closures), and the sorted reference values — exact when the
 * reference has at most `maxExact` finite values (default 32,000), otherwise a deterministic
 * QUANTILE SKETCH of `maxExact` values: the order statistics sorted[floor((i + 0.5)·n / k)],
 * i = 0..k-1 (its ECDF is within 1/(2k) of the full reference's, see sketchSorted). Statistics
 * against a sketch are computed as if the sketch were the reference sample (n_ref = k), which
 * makes KS p-values slightly conservative; the PSI quantile edges/counts are always from the FULL
 * reference. `limitReferencePoints` sketches a summary further (the daemon keeps at most the
 * model's `drift.reference_points` values in memory, 10,000 by default, and the store the rest).
 * Memory per numeric feature: 8·(number of sorted values) bytes, plus a few hundred bytes of
 * metadata; the store keeps the values as float64 bytes beside the JSON, not in it.
 *
 * Categorical summary: count per category (sorted keys), total, missing count. Memory: one entry
 * per distinct category.
 */
import { StatsInputError } from './types.js';
import { ks2sampSorted, type KsOptions, type KsResult } from './ks.js';
import {
  countEqualWidthSorted,
  countQuantileBins,
  countQuantileBinsSorted,
  countEqualWidth,
  equalWidthEdges,
  psiFromCounts,
  quantileEdgesSorted,
  PSI_DEFAULT_BINS,
  PSI_EPSILON,
  type CategoryCounts,
  type PsiBinning,
  type PsiResult,
  toCountMap,
  psiCategorical,
  type CategoricalPsiResult,
} from './psi.js';
import { binnedJsd, jensenShannon, type BinnedJsdResult } from './jsd.js';
import { wassersteinSorted } from './wasserstein.js';
import { chi2Categorical, countCategories, type Chi2Options, type Chi2Result } from './chi2.js';
import { cleanNonEmpty, isSortedAscending, sortInPlace, type DroppedCounts, type NumericInput, NO_DROPS } from './sample.js';

export const REFERENCE_SUMMARY_VERSION = 1;
/**
 * Finite reference values kept exactly; beyond, a quantile sketch of this many. 32,000 so that the
 * coding grid (sketch + at most bins + 1 split points) fits 2-byte codes (coded.ts, ≤ 32,766).
 */
export const DEFAULT_MAX_EXACT = 32_000;

export interface NumericReferenceSummary {
  readonly kind: 'numeric';
  readonly version: number;
  /** finite values in the reference */
  readonly count: number;
  readonly dropped: DroppedCounts;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** population standard deviation (ddof = 0) */
  readonly std: number;
  /** true when `sorted` holds every finite reference value; false when it is a quantile sketch */
  readonly exact: boolean;
  /** sorted reference values or quantile sketch (ascending, finite) */
  readonly sorted: Float64Array;
  readonly bins: number;
  /** inner PSI quantile edges (numpy.quantile linear, from the full reference) */
  readonly quantileEdges: readonly number[];
  readonly quantileRefCounts: readonly number[];
  readonly quantileRightClosedRefCounts: readonly number[];
}

export interface CategoricalReferenceSummary {
  readonly kind: 'categorical';
  readonly version: number;
  readonly count: number;
  readonly missing: number;
  /** category -> count, keys sorted */
  readonly counts: Readonly<Record<string, number>>;
}

export type ReferenceSummary = NumericReferenceSummary | CategoricalReferenceSummary;

export interface SummarizeOptions {
  /** keep every value up to this many; beyond, a quantile sketch of this size (default 32,000) */
  readonly maxExact?: number;
  /** PSI bin count (default 10) */
  readonly bins?: number;
}

/** Summarises a numeric reference sample (NaN/±Infinity dropped and counted). */
export function summarizeNumeric(values: NumericInput, options: SummarizeOptions = {}): NumericReferenceSummary {
  const maxExact = options.maxExact ?? DEFAULT_MAX_EXACT;
  const bins = options.bins ?? PSI_DEFAULT_BINS;
  if (!Number.isInteger(maxExact) || maxExact < 2) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `maxExact must be an integer >= 2, got ${maxExact}`);
  }
  const c = cleanNonEmpty(values, 'reference');
  const full = sortInPlace(c.values);
  const n = full.length;
  // overflow-safe mean (incremental) and std (scaled by the largest deviation)
  let mean = 0;
  for (let i = 0; i < n; i++) mean += ((full[i] as number) - mean) / (i + 1);
  const scale = Math.max(Math.abs((full[0] as number) - mean), Math.abs((full[n - 1] as number) - mean));
  let ss = 0;
  if (scale > 0) for (let i = 0; i < n; i++) ss += (((full[i] as number) - mean) / scale) ** 2;
  const quantileEdges = quantileEdgesSorted(full, bins);
  const exact = n <= maxExact;
  const sorted = exact ? full : sketchSorted(full, new Float64Array(maxExact));
  return {
    kind: 'numeric',
    version: REFERENCE_SUMMARY_VERSION,
    count: n,
    dropped: c.dropped,
    min: full[0] as number,
    max: full[n - 1] as number,
    mean,
    std: scale > 0 ? scale * Math.sqrt(ss / n) : 0,
    exact,
    sorted,
    bins,
    quantileEdges,
    quantileRefCounts: countQuantileBinsSorted(full, quantileEdges, true),
    quantileRightClosedRefCounts: countQuantileBinsSorted(full, quantileEdges, false),
  };
}

/**
 * The quantile sketch of sorted values, into `out` (k = out.length ≤ sorted.length values): the
 * order statistics sorted[floor((i + 0.5)·n / k)], i = 0..k-1. Its ECDF is within 1/(2k) of the
 * ECDF of `sorted` everywhere: at any x with c of the n values ≤ x, the sketch has
 * ceil(c·k/n − 1/2) of its k points ≤ x. Returns `out`.
 */
export function sketchSorted(sorted: Float64Array, out: Float64Array): Float64Array {
  const n = sorted.length;
  const k = out.length;
  if (k > n || (k === 0 && n > 0)) throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `a sketch of ${k} points cannot be taken from ${n} values`);
  for (let i = 0; i < k; i++) out[i] = sorted[Math.floor(((i + 0.5) * n) / k)] as number;
  return out;
}

/**
 * A numeric summary whose sorted values are at most `maxPoints`: the same summary with its values
 * copied into `alloc(m)` when it has m ≤ maxPoints of them, else with the quantile sketch of
 * `maxPoints` of them (exact = false; count, min, max, mean, std and the PSI quantile edges and
 * counts stay those of the full reference). Sketching an exact summary gives the same values as
 * summarizing the reference with `maxExact: maxPoints`; sketching a sketch of s points adds at
 * most 1/(2s) to the ECDF error.
 */
export function limitReferencePoints(s: NumericReferenceSummary, maxPoints: number, alloc: (length: number) => Float64Array): NumericReferenceSummary {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  const n = s.sorted.length;
  if (n <= maxPoints) {
    const copy = alloc(n);
    copy.set(s.sorted);
    return { ...s, sorted: copy };
  }
  return { ...s, exact: false, sorted: sketchSorted(s.sorted, alloc(maxPoints)) };
}

/** Summarises a categorical reference from raw labels (null/undefined/'' counted as missing) or counts. */
export function summarizeCategorical(
  values: ArrayLike<string | number | boolean | null | undefined> | CategoryCounts,
): CategoricalReferenceSummary {
  let counts: Map<string, number>;
  let missing = 0;
  if (typeof (values as ArrayLike<unknown>).length === 'number' && !(values instanceof Map)) {
    const r = countCategories(values as ArrayLike<string | number | boolean | null | undefined>);
    counts = r.counts;
    missing = r.missing;
  } else {
    counts = toCountMap(values as CategoryCounts);
  }
  const keys = [...counts.keys()].filter((k) => (counts.get(k) ?? 0) > 0).sort();
  const total = keys.reduce((a, k) => a + (counts.get(k) ?? 0), 0);
  if (total === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'reference has no categorical observations');
  // fromEntries defines own properties: a category named __proto__ is kept like any other
  const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, counts.get(k) ?? 0]));
  return { kind: 'categorical', version: REFERENCE_SUMMARY_VERSION, count: total, missing, counts: out };
}

// ---------------------------------------------------------------- JSON (SQLite storage)

/**
 * A numeric summary as stored in JSON: everything but the sorted values, which the store keeps
 * apart as float64 bytes (SQLite: a BLOB per reference, see Store.saveBaseline) so that loading a
 * baseline never parses megabytes of JSON.
 */
export type NumericReferenceJSON = Omit<NumericReferenceSummary, 'sorted'>;
export type ReferenceSummaryJSON = NumericReferenceJSON | CategoricalReferenceSummary;

/** Plain-JSON form of a summary (JSON.stringify-able); a numeric summary's `sorted` values are left out. */
export function referenceToJSON(s: ReferenceSummary): ReferenceSummaryJSON {
  if (s.kind === 'categorical') return { ...s, counts: { ...s.counts } };
  const { sorted: _kept, ...rest } = s;
  return { ...rest, dropped: { ...rest.dropped } };
}

/**
 * Parses and validates a summary produced by {@link referenceToJSON} (object or JSON text); a
 * numeric summary takes its sorted values from `sorted` (kept as they are: no copy, so they may
 * live on a SharedArrayBuffer).
 */
export function referenceFromJSON(input: unknown, sorted?: Float64Array): ReferenceSummary {
  const j = (typeof input === 'string' ? JSON.parse(input) : input) as Record<string, unknown> | null;
  const bad = (why: string): never => {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_SUMMARY', `invalid reference summary: ${why}`);
  };
  if (!j || typeof j !== 'object') return bad('not an object');
  if (j['version'] !== REFERENCE_SUMMARY_VERSION) return bad(`unsupported version ${String(j['version'])}`);
  if (j['kind'] === 'categorical') {
    const counts = j['counts'];
    if (!counts || typeof counts !== 'object') return bad('counts missing');
    const s = summarizeCategorical(counts as Record<string, number>);
    return { ...s, missing: typeof j['missing'] === 'number' ? j['missing'] : 0 };
  }
  if (j['kind'] !== 'numeric') return bad(`unknown kind ${String(j['kind'])}`);
  if (sorted === undefined) return bad('sorted values missing');
  if (sorted.length === 0 || !isSortedAscending(sorted) || !allFinite(sorted)) return bad('sorted values are not finite ascending');
  const num = (k: string): number => {
    const v = j[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : bad(`${k} must be a finite number`);
  };
  const arr = (k: string): number[] => {
    const v = j[k];
    return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : bad(`${k} must be an array of numbers`);
  };
  const d = (j['dropped'] ?? {}) as Record<string, unknown>;
  const edges = arr('quantileEdges');
  const bins = num('bins');
  if (edges.length !== bins - 1) bad('quantileEdges length does not match bins');
  const count = num('count');
  const exact = j['exact'] === true;
  if (exact ? sorted.length !== count : sorted.length > count) bad(`${sorted.length} sorted values for a count of ${count}${exact ? ' (exact)' : ''}`);
  return {
    kind: 'numeric',
    version: REFERENCE_SUMMARY_VERSION,
    count,
    dropped: { nan: Number(d['nan'] ?? 0), posInf: Number(d['posInf'] ?? 0), negInf: Number(d['negInf'] ?? 0) },
    min: num('min'),
    max: num('max'),
    mean: num('mean'),
    std: num('std'),
    exact,
    sorted,
    bins,
    quantileEdges: edges,
    quantileRefCounts: arr('quantileRefCounts'),
    quantileRightClosedRefCounts: arr('quantileRightClosedRefCounts'),
  };
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) return false;
  return true;
}

/** Approximate in-memory bytes of a summary (for capacity planning). */
export function referenceMemoryBytes(s: ReferenceSummary): number {
  if (s.kind === 'categorical') return 64 + Object.keys(s.counts).reduce((a, k) => a + 2 * k.length + 48, 0);
  return 256 + s.sorted.byteLength + 8 * 3 * s.quantileEdges.length;
}

// ---------------------------------------------------------------- comparisons against a summary

/** A current numeric window, cleaned and sorted once, reusable for every test. */
export interface PreparedCurrent {
  readonly sorted: Float64Array;
  readonly dropped: DroppedCounts;
}

/** Cleans (NaN/±Infinity dropped and counted) and sorts a current window once. */
export function prepareCurrent(values: NumericInput): PreparedCurrent {
  const c = cleanNonEmpty(values, 'current');
  return { sorted: sortInPlace(c.values), dropped: c.dropped };
}

const asPrepared = (current: NumericInput | PreparedCurrent): PreparedCurrent =>
  current instanceof Float64Array || Array.isArray(current) || !('sorted' in (current as object))
    ? prepareCurrent(current as NumericInput)
    : (current as PreparedCurrent);

/** KS of a current window against the reference (never re-sorts the reference). */
export function ksAgainstReference(ref: NumericReferenceSummary, current: NumericInput | PreparedCurrent, options: KsOptions = {}): KsResult {
  const cur = asPrepared(current);
  return ks2sampSorted(ref.sorted, cur.sorted, options, { dropped1: NO_DROPS, dropped2: cur.dropped });
}

/** PSI of a current window against the reference summary. */
export function psiAgainstReference(
  ref: NumericReferenceSummary,
  current: NumericInput | PreparedCurrent,
  options: { binning?: PsiBinning; epsilon?: number } = {},
): PsiResult {
  const cur = asPrepared(current);
  const binning = options.binning ?? 'quantile';
  const epsilon = options.epsilon ?? PSI_EPSILON;
  let edges: number[];
  let refCounts: number[];
  let curCounts: number[];
  if (binning === 'quantile' || binning === 'quantile_right_closed') {
    edges = [...ref.quantileEdges];
    const left = binning === 'quantile';
    refCounts = [...(left ? ref.quantileRefCounts : ref.quantileRightClosedRefCounts)];
    curCounts = countQuantileBinsSorted(cur.sorted, edges, left);
  } else if (binning === 'equal_width') {
    const lo = Math.min(ref.min, cur.sorted[0] as number);
    const hi = Math.max(ref.max, cur.sorted[cur.sorted.length - 1] as number);
    edges = equalWidthEdges(lo, hi, ref.bins);
    refCounts = countEqualWidthSorted(ref.sorted, edges);
    curCounts = countEqualWidthSorted(cur.sorted, edges);
  } else {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `unknown PSI binning: ${String(binning)}`);
  }
  const p = psiFromCounts(refCounts, curCounts, epsilon);
  const nRef = refCounts.reduce((a, b) => a + b, 0);
  return { ...p, binning, edges, refCounts, curCounts, nRef, nCur: cur.sorted.length, droppedRef: ref.dropped, droppedCur: cur.dropped };
}

/** JS distance on equal-width bins over reference ∪ current (reference counts from the summary). */
export function jsdAgainstReference(ref: NumericReferenceSummary, current: NumericInput | PreparedCurrent): BinnedJsdResult {
  const cur = asPrepared(current);
  const lo = Math.min(ref.min, cur.sorted[0] as number);
  const hi = Math.max(ref.max, cur.sorted[cur.sorted.length - 1] as number);
  const edges = equalWidthEdges(lo, hi, ref.bins);
  return binnedJsd(
    edges,
    countEqualWidthSorted(ref.sorted, edges),
    ref.sorted.length,
    countEqualWidthSorted(cur.sorted, edges),
    cur.sorted.length,
    ref.dropped,
    cur.dropped,
  );
}

/** Wasserstein-1 between the reference (or its sketch) and a current window. */
export function wassersteinAgainstReference(ref: NumericReferenceSummary, current: NumericInput | PreparedCurrent): number {
  return wassersteinSorted(ref.sorted, asPrepared(current).sorted);
}

/** Current categorical window: raw labels or counts. */
export type CategoricalCurrent = ArrayLike<string | number | boolean | null | undefined> | CategoryCounts;

function currentCounts(current: CategoricalCurrent): { counts: Map<string, number>; missing: number } {
  if (typeof (current as ArrayLike<unknown>).length === 'number' && !(current instanceof Map)) {
    return countCategories(current as ArrayLike<string | number | boolean | null | undefined>);
  }
  return { counts: toCountMap(current as CategoryCounts), missing: 0 };
}

/** Chi-square (default: 2×K contingency) of a current categorical window against the reference. */
export function chi2AgainstReference(ref: CategoricalReferenceSummary, current: CategoricalCurrent, options: Chi2Options = {}): Chi2Result & { missing: number } {
  const c = currentCounts(current);
  return { ...chi2Categorical(ref.counts, c.counts, options), missing: c.missing };
}

/** PSI over categories against the reference. */
export function psiCategoricalAgainstReference(ref: CategoricalReferenceSummary, current: CategoricalCurrent, epsilon = PSI_EPSILON): CategoricalPsiResult {
  return psiCategorical(ref.counts, currentCounts(current).counts, epsilon);
}

/** JS distance (base 2) over categories against the reference. */
export function jsdCategoricalAgainstReference(ref: CategoricalReferenceSummary, current: CategoricalCurrent): number {
  const c = currentCounts(current).counts;
  const cats = [...new Set([...Object.keys(ref.counts), ...c.keys()])].sort();
  return jensenShannon(
    cats.map((k) => (Object.hasOwn(ref.counts, k) ? (ref.counts[k] as number) : 0)),
    cats.map((k) => c.get(k) ?? 0),
    2,
  );
}

// re-exported for callers that only import reference.ts
export { countQuantileBins, countEqualWidth };
