/**
 * Two numpy reductions whose exact order of operations matters when a result is to be the same
 * double as Python's:
 *
 * - `argsortQuick`: `ndarray.argsort()` with its default kind, numpy's introsort over indexes
 *   (`aquicksort_` in numpy/core/src/npysort/quicksort.cpp: median of three, the pivot parked at
 *   pr − 1, partitions of more than 16 by Hoare's scheme, the larger one pushed, insertion sort
 *   below, heapsort past 2·log2(n) levels). It is not stable: among equal values its order is
 *   numpy's, and NannyML's equal-count calibration bins cut through runs of equal scores, so which
 *   rows fall into which bin follows it. (numpy ≥ 1.25 sorts 64-bit values with AVX-512 when the
 *   processor has it; this is the portable path every numpy takes otherwise.)
 * - `pairwiseSum`: numpy's `add.reduce` of contiguous float64 (`pairwise_sum` in
 *   numpy/core/src/umath/loops_utils.h.src): below 8 values a plain loop, up to 128 eight
 *   accumulators, above that the halves (rounded to a multiple of 8) summed recursively.
 */

const SMALL_QUICKSORT = 15;

/** floor(log2(n)) for n ≥ 1 (numpy `npy_get_msb`). */
function msb(n: number): number {
  let depth = 0;
  while (n > 1) {
    n = Math.floor(n / 2);
    depth++;
  }
  return depth;
}

/** `values.argsort()` (kind="quicksort") as numpy computes it: the same order, ties included. */
export function argsortQuick(values: ArrayLike<number>): Int32Array {
  const num = values.length;
  const t = new Int32Array(num);
  for (let i = 0; i < num; i++) t[i] = i;
  if (num < 2) return t;
  // NaN sorts last, as numpy's `Tag::less` for floats
  const less = (a: number, b: number): boolean => a < b || (b !== b && a === a);
  const v = values;
  const swap = (i: number, j: number): void => {
    const x = t[i] as number;
    t[i] = t[j] as number;
    t[j] = x;
  };
  let pl = 0;
  let pr = num - 1;
  const stack: number[] = [];
  const depths: number[] = [];
  let cdepth = msb(num) * 2;
  for (;;) {
    let popped = false;
    if (cdepth < 0) {
      aheapsort(v, t, pl, pr - pl + 1, less);
      popped = true;
    }
    if (!popped) {
      while (pr - pl > SMALL_QUICKSORT) {
        const pm = pl + ((pr - pl) >> 1);
        if (less(v[t[pm] as number] as number, v[t[pl] as number] as number)) swap(pm, pl);
        if (less(v[t[pr] as number] as number, v[t[pm] as number] as number)) swap(pr, pm);
        if (less(v[t[pm] as number] as number, v[t[pl] as number] as number)) swap(pm, pl);
        const vp = v[t[pm] as number] as number;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (less(v[t[pi] as number] as number, vp));
          do --pj;
          while (less(vp, v[t[pj] as number] as number));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // the larger partition waits on the stack
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depths.push(--cdepth);
      }
      // insertion sort
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = t[pi] as number;
        const vp = v[vi] as number;
        let pj = pi;
        let pk = pi - 1;
        while (pj > pl && less(vp, v[t[pk] as number] as number)) t[pj--] = t[pk--] as number;
        t[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop() as number;
    pl = stack.pop() as number;
    cdepth = depths.pop() as number;
  }
  return t;
}

/** numpy `aheapsort_` over t[start .. start + n). */
function aheapsort(v: ArrayLike<number>, t: Int32Array, start: number, n: number, less: (a: number, b: number) => boolean): void {
  // 1-based as numpy's: a[k] is t[start + k - 1]
  const get = (k: number): number => t[start + k - 1] as number;
  const set = (k: number, x: number): void => {
    t[start + k - 1] = x;
  };
  const val = (k: number): number => v[get(k)] as number;
  for (let l = n >> 1; l > 0; --l) {
    const tmp = get(l);
    let i = l;
    let j = l << 1;
    while (j <= n) {
      if (j < n && less(val(j), val(j + 1))) j += 1;
      if (less(v[tmp] as number, val(j))) {
        set(i, get(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
  for (; n > 1; ) {
    const tmp = get(n);
    set(n, get(1));
    n -= 1;
    let i = 1;
    let j = 2;
    while (j <= n) {
      if (j < n && less(val(j), val(j + 1))) j++;
      if (less(v[tmp] as number, val(j))) {
        set(i, get(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
}

const PW_BLOCKSIZE = 128;

/** numpy's sum of a[from .. from + n) (float64, contiguous). */
export function pairwiseSum(a: ArrayLike<number>, from: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[from + i] as number;
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    let r0 = a[from] as number;
    let r1 = a[from + 1] as number;
    let r2 = a[from + 2] as number;
    let r3 = a[from + 3] as number;
    let r4 = a[from + 4] as number;
    let r5 = a[from + 5] as number;
    let r6 = a[from + 6] as number;
    let r7 = a[from + 7] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const b = from + i;
      r0 += a[b] as number;
      r1 += a[b + 1] as number;
      r2 += a[b + 2] as number;
      r3 += a[b + 3] as number;
      r4 += a[b + 4] as number;
      r5 += a[b + 5] as number;
      r6 += a[b + 6] as number;
      r7 += a[b + 7] as number;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[from + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2);
}
