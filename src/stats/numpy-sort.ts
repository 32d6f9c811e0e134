/**
 * `argsortQuick`: `ndarray.argsort()` with its default kind, numpy's introsort over indexes
 * (`aquicksort_` in numpy/core/src/npysort/quicksort.cpp: median of three, the pivot parked at
 * pr − 1, partitions of more than 16 by Hoare's scheme, the larger one pushed, insertion sort
 * below, heapsort past 2·log2(n) levels). It is not stable: among equal values its order is
 * numpy's, and NannyML's equal-count calibration bins cut through runs of equal scores, so which
 * rows fall into which bin follows it. (numpy ≥ 1.25 sorts 64-bit values with AVX-512 when the
 * processor has it; this is the portable path every numpy takes otherwise.)
 */

const SMALL_QUICKSORT = 15;

/** numpy's `Tag::less` for floats: NaN sorts last. */
const floatLess = (a: number, b: number): boolean => a < b || (b !== b && a === a);

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
  const less = floatLess;
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

/** `values.argsort(kind="heapsort")` as numpy computes it (the introsort's fallback). */
export function argsortHeap(values: ArrayLike<number>): Int32Array {
  const t = new Int32Array(values.length);
  for (let i = 0; i < t.length; i++) t[i] = i;
  aheapsort(values, t, 0, t.length, floatLess);
  return t;
}

/** numpy `aheapsort_` over t[start .. start + n): a max-heap built, then emptied from the top. */
function aheapsort(v: ArrayLike<number>, t: Int32Array, start: number, n: number, less: (a: number, b: number) => boolean): void {
  // 1-based as numpy's: a[k] is t[start + k - 1]
  const at = (k: number): number => t[start + k - 1] as number;
  /** numpy's sift: `tmp` moved down from position i within a[1..size]. */
  const sift = (tmp: number, i: number, size: number): void => {
    let j = i << 1;
    while (j <= size) {
      if (j < size && less(v[at(j)] as number, v[at(j + 1)] as number)) j += 1;
      if (!less(v[tmp] as number, v[at(j)] as number)) break;
      t[start + i - 1] = at(j);
      i = j;
      j += j;
    }
    t[start + i - 1] = tmp;
  };
  for (let l = n >> 1; l > 0; --l) sift(at(l), l, n);
  for (; n > 1; ) {
    const tmp = at(n);
    t[start + n - 1] = at(1);
    n -= 1;
    sift(tmp, 1, n);
  }
}
