/**
 * Isotonic regression as scikit-learn fits and predicts it — `IsotonicRegression(increasing=True,
 * out_of_bounds="clip")`, the calibrator NannyML's CBPE fits on the reference's scores and labels —
 * step for step, so the fitted thresholds and the predictions are the same doubles (tested
 * against scikit-learn 1.2.1: test/fixtures/isotonic-sklearn.json):
 *
 * 1. the points sorted by x, then y (numpy `lexsort((y, x))`);
 * 2. equal x merged into one point with the weighted mean of its y (`_make_unique`), x closer than
 *    float64's resolution (1e-15) counting as equal;
 * 3. the pool-adjacent-violators algorithm over the merged points, with the same block merging
 *    and backtracking, in the same order of sums (`_inplace_contiguous_isotonic_regression`);
 * 4. the points inside a run of equal fitted values dropped (`trim_duplicates`);
 * 5. prediction: t clipped to the fitted x range, then numpy `interp` over the thresholds (what
 *    scipy's `interp1d(kind="linear")` calls for a 1-d y).
 */
import { sortInPlace } from './sample.js';
import { StatsInputError } from './types.js';

/** A fitted isotonic regression: its thresholds (ascending x, non-decreasing y) and x range. */
export interface IsotonicFit {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly xMin: number;
  readonly xMax: number;
}

/** numpy.finfo(float64).resolution: scikit-learn's tolerance for equal x. */
const RESOLUTION = 1e-15;

/** Fits y ≈ f(x), f non-decreasing (sample weights 1). */
export function fitIsotonic(x: ArrayLike<number>, y: ArrayLike<number>): IsotonicFit {
  const n = x.length;
  if (n !== y.length) throw new StatsInputError('VIGIL_ERR_STATS_LENGTH_MISMATCH', `x has ${n} values, y ${y.length}`);
  if (n === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'isotonic regression needs at least one point');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i] as number) || !Number.isFinite(y[i] as number)) throw new StatsInputError('VIGIL_ERR_STATS_NON_FINITE', `point ${i} is not finite`);
  }
  // 1. by x, then y
  let [sx, sy] = lexsorted(x, y);
  // 2. merge equal x: weighted mean of y (at most n merged points, kept in typed arrays)
  const ux = new Float64Array(n);
  const uy = new Float64Array(n);
  const uw = new Float64Array(n);
  let m = 0;
  let cx = sx[0] as number;
  let cy = 0;
  let cw = 0;
  for (let j = 0; j < n; j++) {
    const xj = sx[j] as number;
    if (xj - cx >= RESOLUTION) {
      ux[m] = cx;
      uy[m] = cy / cw;
      uw[m] = cw;
      m++;
      cx = xj;
      cw = 1;
      cy = sy[j] as number;
    } else {
      cw += 1;
      cy += sy[j] as number;
    }
  }
  ux[m] = cx;
  uy[m] = cy / cw;
  uw[m] = cw;
  m++;
  sx = sy = new Float64Array(0); // the sorted points are not needed any more
  // 3. pool adjacent violators, in place
  const fitted = pava(uy.subarray(0, m), uw.subarray(0, m));
  // 4. drop the inner points of runs of equal values
  const keepX = new Float64Array(m);
  const keepY = new Float64Array(m);
  let kept = 0;
  for (let i = 0; i < m; i++) {
    const v = fitted[i] as number;
    if (i === 0 || i === m - 1 || v !== fitted[i - 1] || v !== fitted[i + 1]) {
      keepX[kept] = ux[i] as number;
      keepY[kept] = v;
      kept++;
    }
  }
  return { x: keepX.slice(0, kept), y: keepY.slice(0, kept), xMin: ux[0] as number, xMax: ux[m - 1] as number };
}

/**
 * The points in numpy `lexsort((y, x))` order. Labels of 0 and 1 (the calibrator's case) take a
 * fast path: each class's x sorted natively, then merged, 0 before 1 at equal x — the same
 * sequence, since only x and y values reach the fit.
 */
function lexsorted(x: ArrayLike<number>, y: ArrayLike<number>): [Float64Array, Float64Array] {
  const n = x.length;
  let ones = 0;
  let binary = true;
  for (let i = 0; i < n && binary; i++) {
    const v = y[i] as number;
    if (v === 1) ones++;
    else if (v !== 0) binary = false;
  }
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  if (binary) {
    const x0 = new Float64Array(n - ones);
    const x1 = new Float64Array(ones);
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if ((y[i] as number) === 1) x1[b++] = x[i] as number;
      else x0[a++] = x[i] as number;
    }
    sortInPlace(x0);
    sortInPlace(x1);
    a = 0;
    b = 0;
    for (let k = 0; k < n; k++) {
      // equal x: the 0 first (-0 and 0 are equal, as for numpy)
      if (b >= x1.length || (a < x0.length && (x0[a] as number) <= (x1[b] as number))) sx[k] = x0[a++] as number;
      else {
        sx[k] = x1[b++] as number;
        sy[k] = 1;
      }
    }
    return [sx, sy];
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => (x[p] as number) - (x[q] as number) || (y[p] as number) - (y[q] as number) || p - q);
  order.forEach((j, k) => {
    sx[k] = x[j] as number;
    sy[k] = y[j] as number;
  });
  return [sx, sy];
}

/**
 * scikit-learn's `_inplace_contiguous_isotonic_regression`: blocks are kept as `target[i] = j`,
 * `target[j] = i` for an active block [i, j]; a decreasing run is pooled into its first entry
 * (weighted mean), then the scan backtracks to the block before.
 */
function pava(y: Float64Array, w: Float64Array): Float64Array {
  const n = y.length;
  const target = new Int32Array(n);
  for (let i = 0; i < n; i++) target[i] = i;
  let i = 0;
  while (i < n) {
    let k = (target[i] as number) + 1;
    if (k === n) break;
    if ((y[i] as number) < (y[k] as number)) {
      i = k;
      continue;
    }
    let sumWy = (w[i] as number) * (y[i] as number);
    let sumW = w[i] as number;
    for (;;) {
      // within a decreasing subsequence
      const prevY = y[k] as number;
      sumWy += (w[k] as number) * (y[k] as number);
      sumW += w[k] as number;
      k = (target[k] as number) + 1;
      if (k === n || prevY < (y[k] as number)) {
        // the non-singleton decreasing subsequence is finished: its first entry holds it
        y[i] = sumWy / sumW;
        w[i] = sumW;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1] as number; // backtrack
        break;
      }
    }
  }
  // the solution: every block's value over its entries
  i = 0;
  while (i < n) {
    const k = (target[i] as number) + 1;
    y.fill(y[i] as number, i + 1, k);
    i = k;
  }
  return y;
}

/** f(t): t clipped to the fitted x range, then linear between the thresholds (numpy `interp`). */
export function predictIsotonic(f: IsotonicFit, t: number): number {
  if (Number.isNaN(t)) return NaN;
  const v = Math.min(Math.max(t, f.xMin), f.xMax);
  const xs = f.x;
  const ys = f.y;
  const len = xs.length;
  if (len === 1) return ys[0] as number;
  if (v < (xs[0] as number)) return ys[0] as number;
  if (v > (xs[len - 1] as number)) return ys[len - 1] as number;
  // j: xs[j] <= v < xs[j + 1] (j = len - 1 when v is the last threshold)
  let lo = 0;
  let hi = len - 1;
  if (v >= (xs[hi] as number)) return ys[hi] as number;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) <= v) lo = mid;
    else hi = mid;
  }
  const j = lo;
  const xj = xs[j] as number;
  const yj = ys[j] as number;
  if (xj === v) return yj;
  const slope = ((ys[j + 1] as number) - yj) / ((xs[j + 1] as number) - xj);
  let r = slope * (v - xj) + yj;
  if (Number.isNaN(r)) {
    r = slope * (v - (xs[j + 1] as number)) + (ys[j + 1] as number);
    if (Number.isNaN(r) && yj === ys[j + 1]) r = yj;
  }
  return r;
}
