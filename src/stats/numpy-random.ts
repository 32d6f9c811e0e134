/**
 * The part of numpy's legacy `RandomState` that scikit-learn's `StratifiedShuffleSplit` draws
 * from, so a split seeded with `random_state=42` picks the same rows here as in Python:
 *
 * - the Mersenne Twister MT19937 seeded from a 32-bit integer (numpy `mt19937_seed`, the reference
 *   `init_genrand`) and its tempered 32-bit outputs (`mt19937_next32`);
 * - `random_interval(max)`: a value in [0, max] by masking 32-bit outputs to the smallest
 *   all-ones mask ≥ max and rejecting those above max;
 * - `shuffle` of a 1-d array: Fisher–Yates from the last element down, j = random_interval(i);
 * - `permutation(n)` (a shuffled arange) and `permutation(array)` (a shuffled copy);
 * - `choice(n, size, replace=False)`: the first `size` of `permutation(n)`.
 *
 * Tested against numpy 1.24 (test/fixtures/cbpe-nannyml.json). The legacy stream is frozen by
 * numpy's compatibility policy (NEP 19), so these draws do not change with numpy's version.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class LegacyRandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError('Seed must be between 0 and 2**32 - 1');
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] as number;
      mt[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
    }
  }

  /** The next tempered 32-bit output. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.pos >= N) {
      let kk = 0;
      let y: number;
      for (; kk < N - M; kk++) {
        y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
        mt[kk] = (mt[kk + M] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
        mt[kk] = (mt[kk + (M - N)] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      y = ((mt[N - 1] as number) & UPPER_MASK) | ((mt[0] as number) & LOWER_MASK);
      mt[N - 1] = (mt[M - 1] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.pos = 0;
    }
    let y = mt[this.pos++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy `random_interval(max)`: uniform in [0, max], for max < 2^32. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max >>> 0;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /** `RandomState.shuffle` of a 1-d array, in place. */
  shuffle(a: Int32Array): Int32Array {
    for (let i = a.length - 1; i >= 1; i--) {
      const j = this.interval(i);
      const t = a[i] as number;
      a[i] = a[j] as number;
      a[j] = t;
    }
    return a;
  }

  /** `RandomState.permutation(n)` or of a copy of `values`. */
  permutation(nOrValues: number | ArrayLike<number>): Int32Array {
    if (typeof nOrValues === 'number') {
      const a = new Int32Array(nOrValues);
      for (let i = 0; i < nOrValues; i++) a[i] = i;
      return this.shuffle(a);
    }
    return this.shuffle(Int32Array.from(nOrValues));
  }

  /** `RandomState.choice(n, size, replace=False)`: positions in [0, n). */
  choiceWithoutReplacement(n: number, size: number): Int32Array {
    if (size > n) throw new RangeError("Cannot take a larger sample than population when 'replace=False'");
    return this.permutation(n).subarray(0, size);
  }
}
