/**
 * What a drift report draws for each feature: the reference and the current distribution on the
 * same bins — numeric features on equal-width bins over the reference's range (with a bin each
 * for current values below and above it), categorical features per category (the current's
 * categories the reference never had marked new). Pure: columns in, shares out.
 */

/** One bar pair: the share of the reference's and of the current's values in it. */
export interface Bin {
  label: string;
  reference: number;
  current: number;
  /** categorical: a category the reference never had; numeric: below or above the reference's range */
  outside?: boolean;
}

export interface Distribution {
  kind: 'numeric' | 'categorical';
  /** numeric: how the bins were made */
  binning?: 'equal-width' | 'quantile';
  bins: Bin[];
  /** values counted (missing ones are not) */
  nReference: number;
  nCurrent: number;
  /** categorical: categories beyond the ones drawn, pooled in the last bar */
  pooled?: number;
}

/** Equal-width bins over the reference's finite range. */
export const NUMERIC_BINS = 20;
/** Categories drawn at most (by reference + current count); the rest pooled as one bar. */
export const MAX_CATEGORIES = 20;

const short = (x: number): string => {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
};

/** Numeric: shares per bin over [min, max] of the reference's finite values; NaN and ±Infinity are not counted. */
export function numericDistribution(reference: ArrayLike<number>, current: ArrayLike<number>, bins: number = NUMERIC_BINS): Distribution | null {
  let min = Infinity;
  let max = -Infinity;
  let nRef = 0;
  for (let i = 0; i < reference.length; i++) {
    const x = reference[i] as number;
    if (!Number.isFinite(x)) continue;
    nRef++;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (nRef === 0) return null;
  const k = min === max ? 1 : bins;
  const width = (max - min) / k;
  const ref = new Float64Array(k);
  const cur = new Float64Array(k + 2); // [below, bins…, above]
  const binOf = (x: number): number => (min === max ? 0 : Math.min(k - 1, Math.floor((x - min) / width)));
  for (let i = 0; i < reference.length; i++) {
    const x = reference[i] as number;
    if (Number.isFinite(x)) ref[binOf(x)] = (ref[binOf(x)] as number) + 1;
  }
  let nCur = 0;
  for (let i = 0; i < current.length; i++) {
    const x = current[i] as number;
    if (!Number.isFinite(x)) continue;
    nCur++;
    const b = x < min ? 0 : x > max ? k + 1 : binOf(x) + 1;
    cur[b] = (cur[b] as number) + 1;
  }
  const share = (n: number, of: number): number => (of === 0 ? 0 : n / of);
  const out: Bin[] = [];
  if ((cur[0] as number) > 0) out.push({ label: `< ${short(min)}`, reference: 0, current: share(cur[0] as number, nCur), outside: true });
  for (let b = 0; b < k; b++) {
    const lo = min + b * width;
    out.push({ label: k === 1 ? short(min) : `${short(lo)} – ${short(b === k - 1 ? max : lo + width)}`, reference: share(ref[b] as number, nRef), current: share(cur[b + 1] as number, nCur) });
  }
  if ((cur[k + 1] as number) > 0) out.push({ label: `> ${short(max)}`, reference: 0, current: share(cur[k + 1] as number, nCur), outside: true });
  return { kind: 'numeric', binning: 'equal-width', bins: out, nReference: nRef, nCurrent: nCur };
}

/**
 * Numeric, on the reference's own quantile bins (PSI's: the edges split the reference in equal
 * parts), from the reference's and the current's counts per bin — what a hot window gives exactly
 * from its codes (stats/coded.ts). Bin i holds [edge i-1, edge i).
 */
export function quantileDistribution(edges: readonly number[], refCounts: readonly number[], curCounts: readonly number[]): Distribution | null {
  const nRef = refCounts.reduce((a, b) => a + b, 0);
  const nCur = curCounts.reduce((a, b) => a + b, 0);
  if (nRef === 0) return null;
  const label = (i: number): string => (i === 0 ? `< ${short(edges[0] as number)}` : i === edges.length ? `≥ ${short(edges[i - 1] as number)}` : `${short(edges[i - 1] as number)} – ${short(edges[i] as number)}`);
  const bins: Bin[] = refCounts.map((n, i) => ({ label: label(i), reference: n / nRef, current: nCur === 0 ? 0 : (curCounts[i] ?? 0) / nCur }));
  return { kind: 'numeric', binning: 'quantile', bins, nReference: nRef, nCurrent: nCur };
}

/** Categorical: shares per category, the most frequent (reference + current) first; the current's new ones marked. */
export function categoricalDistribution(reference: readonly (string | null)[], current: readonly (string | null)[], max: number = MAX_CATEGORIES): Distribution | null {
  const count = (values: readonly (string | null)[]): Map<string, number> => {
    const out = new Map<string, number>();
    for (const v of values) if (v !== null) out.set(v, (out.get(v) ?? 0) + 1);
    return out;
  };
  return categoricalFromCounts(count(reference), count(current), max);
}

/** The same from counts per category (a hot window's codes, a baseline's summary). */
export function categoricalFromCounts(ref: ReadonlyMap<string, number>, cur: ReadonlyMap<string, number>, max: number = MAX_CATEGORIES): Distribution | null {
  let nRef = 0;
  let nCur = 0;
  for (const n of ref.values()) nRef += n;
  for (const n of cur.values()) nCur += n;
  if (nRef === 0) return null;
  const share = (n: number, of: number): number => (of === 0 ? 0 : n / of);
  const all = [...new Set([...ref.keys(), ...cur.keys()])].sort(
    (a, b) => share(ref.get(b) ?? 0, nRef) + share(cur.get(b) ?? 0, nCur) - (share(ref.get(a) ?? 0, nRef) + share(cur.get(a) ?? 0, nCur)) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const shown = all.slice(0, max);
  const rest = all.slice(max);
  const bins: Bin[] = shown.map((c) => ({ label: c, reference: share(ref.get(c) ?? 0, nRef), current: share(cur.get(c) ?? 0, nCur), ...(ref.has(c) ? {} : { outside: true }) }));
  if (rest.length > 0) {
    bins.push({
      label: `${rest.length} more`,
      reference: share(rest.reduce((n, c) => n + (ref.get(c) ?? 0), 0), nRef),
      current: share(rest.reduce((n, c) => n + (cur.get(c) ?? 0), 0), nCur),
    });
  }
  return { kind: 'categorical', bins, nReference: nRef, nCurrent: nCur, ...(rest.length > 0 ? { pooled: rest.length } : {}) };
}
