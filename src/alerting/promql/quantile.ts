/**
 * promql/quantile.go of Prometheus 2.42: `quantile` (the `quantile` aggregation and
 * quantile_over_time) and `bucketQuantile` (histogram_quantile over classic buckets).
 */

/**
 * quantile.go `quantile` (quantile_over_time's window, the `quantile` aggregation's group): φ-quantile with linear interpolation between
 * the two closest ranks, after Go 1.19 `sort.Sort` with `vectorByValueHeap.Less`.
 * NaN φ → NaN; φ < 0 → -Inf; φ > 1 → +Inf; no values → NaN. Sorts `values` in place.
 */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  goSort(values);

  const n = values.length;
  // When the quantile lies between two samples, use a weighted average of the two samples.
  const rank = q * (n - 1);

  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);

  const weight = rank - Math.floor(rank);
  return (values[lowerIndex] as number) * (1 - weight) + (values[upperIndex] as number) * weight;
}

// ---------------------------------------------------------------------------------------------
// Go 1.19 sort.Sort (src/sort/sort.go Sort, src/sort/zsortinterface.go pdqsort and helpers) on
// a []float64 viewed as promql's vectorByValueHeap: Less(i, j) = IsNaN(s[i]) || s[i] < s[j].
// Ported line for line: with a comparator that is not a strict weak order, any deviation in the
// sequence of Less/Swap calls could change the final order.
// ---------------------------------------------------------------------------------------------

/** sort.go `sortedHint`: what choosePivot saw of the order around its pivot candidates. */
const Hint = { Unknown: 0, Increasing: 1, Decreasing: 2 } as const;
type Hint = (typeof Hint)[keyof typeof Hint];

/** promql vectorByValueHeap.Less: a NaN sorts before anything, NaN included. */
function less(d: number[], i: number, j: number): boolean {
  const a = d[i] as number;
  return Number.isNaN(a) || a < (d[j] as number);
}

function swap(d: number[], i: number, j: number): void {
  const x = d[i] as number;
  d[i] = d[j] as number;
  d[j] = x;
}

/** Go `bits.Len(uint(n))` for 0 <= n < 2^31. */
function bitsLen(n: number): number {
  return 32 - Math.clz32(n);
}

/** sort.go `Sort`. */
function goSort(d: number[]): void {
  const n = d.length;
  if (n <= 1) return;
  const limit = bitsLen(n);
  pdqsort(d, 0, n, limit);
}

/** zsortinterface.go `insertionSort`: sorts d[a:b]. */
function insertionSort(d: number[], a: number, b: number): void {
  for (let i = a + 1; i < b; i++) {
    for (let j = i; j > a && less(d, j, j - 1); j--) swap(d, j, j - 1);
  }
}

/** zsortinterface.go `siftDown`: heap property on d[lo:hi], root at offset `first`. */
function siftDown(d: number[], lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) break;
    if (child + 1 < hi && less(d, first + child, first + child + 1)) child++;
    if (!less(d, first + root, first + child)) return;
    swap(d, first + root, first + child);
    root = child;
  }
}

/** zsortinterface.go `heapSort`. */
function heapSort(d: number[], a: number, b: number): void {
  const first = a;
  const lo = 0;
  const hi = b - a;
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(d, i, hi, first);
  for (let i = hi - 1; i >= 0; i--) {
    swap(d, first, first + i);
    siftDown(d, lo, i, first);
  }
}

/** zsortinterface.go `pdqsort`: sorts d[a:b]; `limit` bad pivots allowed before heapsort. */
function pdqsort(d: number[], a: number, b: number, limit: number): void {
  const maxInsertion = 12;
  let wasBalanced = true; // whether the last partitioning was reasonably balanced
  let wasPartitioned = true; // whether the slice was already partitioned

  for (;;) {
    const length = b - a;
    if (length <= maxInsertion) {
      insertionSort(d, a, b);
      return;
    }
    // Fall back to heapsort if too many bad choices were made.
    if (limit === 0) {
      heapSort(d, a, b);
      return;
    }
    // If the last partitioning was imbalanced, break patterns.
    if (!wasBalanced) {
      breakPatterns(d, a, b);
      limit--;
    }

    let [pivot, hint] = choosePivot(d, a, b);
    if (hint === Hint.Decreasing) {
      reverseRange(d, a, b);
      pivot = b - 1 - (pivot - a);
      hint = Hint.Increasing;
    }

    // The slice is likely already sorted.
    if (wasBalanced && wasPartitioned && hint === Hint.Increasing) {
      if (partialInsertionSort(d, a, b)) return;
    }

    // Probably many duplicates: partition into elements equal to and greater than the pivot.
    if (a > 0 && !less(d, a - 1, pivot)) {
      a = partitionEqual(d, a, b, pivot);
      continue;
    }

    const [mid, alreadyPartitioned] = partition(d, a, b, pivot);
    wasPartitioned = alreadyPartitioned;

    const leftLen = mid - a;
    const rightLen = b - mid;
    const balanceThreshold = Math.trunc(length / 8);
    if (leftLen < rightLen) {
      wasBalanced = leftLen >= balanceThreshold;
      pdqsort(d, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = rightLen >= balanceThreshold;
      pdqsort(d, mid + 1, b, limit);
      b = mid;
    }
  }
}

/** zsortinterface.go `partition`: one quicksort partition around d[pivot]. */
function partition(d: number[], a: number, b: number, pivot: number): [number, boolean] {
  swap(d, a, pivot);
  let i = a + 1;
  let j = b - 1; // inclusive bounds of what remains to be partitioned
  while (i <= j && less(d, i, a)) i++;
  while (i <= j && !less(d, j, a)) j--;
  if (i > j) {
    swap(d, j, a);
    return [j, true];
  }
  swap(d, i, j);
  i++;
  j--;
  for (;;) {
    while (i <= j && less(d, i, a)) i++;
    while (i <= j && !less(d, j, a)) j--;
    if (i > j) break;
    swap(d, i, j);
    i++;
    j--;
  }
  swap(d, j, a);
  return [j, false];
}

/** zsortinterface.go `partitionEqual`: elements equal to d[pivot], then greater ones. */
function partitionEqual(d: number[], a: number, b: number, pivot: number): number {
  swap(d, a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !less(d, a, i)) i++;
    while (i <= j && less(d, a, j)) j--;
    if (i > j) break;
    swap(d, i, j);
    i++;
    j--;
  }
  return i;
}

/**
 * zsortinterface.go `partialInsertionSort` as Go 1.19 has it - including its "shift the smaller
 * one to the left" loop running down to index 1 rather than a+1.
 */
function partialInsertionSort(d: number[], a: number, b: number): boolean {
  const maxSteps = 5; // maximum number of adjacent out-of-order pairs that will get shifted
  const shortestShifting = 50; // don't shift any elements on short arrays
  let i = a + 1;
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !less(d, i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < shortestShifting) return false;
    swap(d, i, i - 1);
    // Shift the smaller one to the left.
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!less(d, j, j - 1)) break;
        swap(d, j, j - 1);
      }
    }
    // Shift the greater one to the right.
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!less(d, j, j - 1)) break;
        swap(d, j, j - 1);
      }
    }
  }
  return false;
}

const U64 = (1n << 64n) - 1n;

/**
 * zsortinterface.go `breakPatterns`, with sort.go's Go 1.19 `xorshift` (shifts 13, 17, 5 on a
 * uint64 seeded with the length) and `nextPowerOfTwo` (1 << bits.Len(length)).
 */
function breakPatterns(d: number[], a: number, b: number): void {
  const length = b - a;
  if (length >= 8) {
    let r = BigInt(length);
    const modulus = 2 ** bitsLen(length);
    const mask = BigInt(modulus - 1);
    const mid = a + Math.trunc(length / 4) * 2;
    for (let idx = mid - 1; idx <= mid + 1; idx++) {
      r ^= (r << 13n) & U64;
      r ^= r >> 17n;
      r ^= (r << 5n) & U64;
      let other = Number(r & mask);
      if (other >= length) other -= length;
      swap(d, idx, a + other);
    }
  }
}

/** zsortinterface.go `choosePivot`: static, median-of-three or Tukey ninther pivot + order hint. */
function choosePivot(d: number[], a: number, b: number): [number, Hint] {
  const shortestNinther = 50;
  const maxSwaps = 4 * 3;
  const l = b - a;
  const swaps = { n: 0 };
  const q = Math.trunc(l / 4);
  let i = a + q * 1;
  let j = a + q * 2;
  let k = a + q * 3;
  if (l >= 8) {
    if (l >= shortestNinther) {
      // Tukey ninther method.
      i = median(d, i - 1, i, i + 1, swaps);
      j = median(d, j - 1, j, j + 1, swaps);
      k = median(d, k - 1, k, k + 1, swaps);
    }
    // Find the median among i, j, k and store it into j.
    j = median(d, i, j, k, swaps);
  }
  switch (swaps.n) {
    case 0:
      return [j, Hint.Increasing];
    case maxSwaps:
      return [j, Hint.Decreasing];
    default:
      return [j, Hint.Unknown];
  }
}

/** zsortinterface.go `median` (with `order2` inlined): index of the median of d[a], d[b], d[c]. */
function median(d: number[], a: number, b: number, c: number, swaps: { n: number }): number {
  // a, b = order2(a, b)
  if (less(d, b, a)) {
    swaps.n++;
    [a, b] = [b, a];
  }
  // b, c = order2(b, c)
  if (less(d, c, b)) {
    swaps.n++;
    [b, c] = [c, b];
  }
  // a, b = order2(a, b)
  if (less(d, b, a)) {
    swaps.n++;
    [a, b] = [b, a];
  }
  return b;
}

/** zsortinterface.go `reverseRange`. */
function reverseRange(d: number[], a: number, b: number): void {
  let i = a;
  let j = b - 1;
  while (i < j) {
    swap(d, i, j);
    i++;
    j--;
  }
}

/**
 * quantile.go bucketQuantile (2.42): buckets sorted by upper bound, equal bounds merged, counts
 * made monotonic; NaN without a +Inf bucket, with fewer than 2 buckets or no observations; linear
 * interpolation inside the bucket the rank falls in (the lowest bucket from 0 when its bound is
 * positive; the second-highest bound when the rank falls in +Inf).
 */
export function bucketQuantile(q: number, input: ReadonlyArray<{ upper: number; count: number }>): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upper - b.upper);
  if ((sorted.at(-1) as { upper: number }).upper !== Infinity) return NaN;
  // coalesceBuckets
  const b: Array<{ upper: number; count: number }> = [];
  for (const x of sorted) {
    const last = b.at(-1);
    if (last !== undefined && last.upper === x.upper) last.count += x.count;
    else b.push({ upper: x.upper, count: x.count });
  }
  // ensureMonotonic
  let max = (b[0] as { count: number }).count;
  for (let i = 1; i < b.length; i++) {
    const c = (b[i] as { count: number }).count;
    if (c > max) max = c;
    else if (c < max) (b[i] as { count: number }).count = max;
  }
  if (b.length < 2) return NaN;
  const observations = (b[b.length - 1] as { count: number }).count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // sort.Search over the first len − 1 buckets: the first whose count reaches the rank
  let lo = 0;
  let hi = b.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((b[mid] as { count: number }).count >= rank) hi = mid;
    else lo = mid + 1;
  }
  const i = lo;
  if (i === b.length - 1) return (b[b.length - 2] as { upper: number }).upper;
  if (i === 0 && (b[0] as { upper: number }).upper <= 0) return (b[0] as { upper: number }).upper;
  let bucketStart = 0;
  const bucketEnd = (b[i] as { upper: number }).upper;
  let count = (b[i] as { count: number }).count;
  if (i > 0) {
    const prev = b[i - 1] as { upper: number; count: number };
    bucketStart = prev.upper;
    count -= prev.count;
    rank -= prev.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}
