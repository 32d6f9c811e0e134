/**
 * Sorts the non-NaN float32 values of `col` at `rows` ascending into a Float64Array (values are
 * exact: every float32 is a double). An LSD radix sort on the 32-bit keys in three 11-bit passes (the
 * counters stay in L1) — about twice as fast as sorting the same values as doubles. Returns the sorted values and how many
 * were NaN (missing) and ±Infinity (dropped, as the statistics core drops them).
 */
export function sortedFloat32(col: Float32Array, rows: Int32Array): { sorted: Float64Array; nan: number; posInf: number; negInf: number } {
  const r = sortedFloat32Scratch(col, rows);
  return { ...r, sorted: r.sorted.slice() };
}

/** Buffers reused from one call to the next (one set per thread): no garbage per feature. */
let scratch = { keys: new Uint32Array(0), tmp: new Uint32Array(0), out: new Float64Array(0) };

/**
 * As {@link sortedFloat32}, but `sorted` is a view into a buffer the next call overwrites: use it
 * before sorting again, and keep no reference to it (the drift tests only read it).
 */
export function sortedFloat32Scratch(col: Float32Array, rows: Int32Array): { sorted: Float64Array; nan: number; posInf: number; negInf: number } {
  const n = rows.length;
  if (scratch.keys.length < n) {
    const size = Math.max(n, Math.ceil(scratch.keys.length * 1.5));
    scratch = { keys: new Uint32Array(size), tmp: new Uint32Array(size), out: new Float64Array(size) };
  }
  const keys = scratch.keys;
  const bits = new Uint32Array(col.buffer, col.byteOffset, col.length);
  let m = 0;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let k = 0; k < n; k++) {
    const i = rows[k] as number;
    const x = col[i] as number;
    if (x !== x) {
      nan++;
      continue;
    }
    if (x === Infinity) {
      posInf++;
      continue;
    }
    if (x === -Infinity) {
      negInf++;
      continue;
    }
    const b = bits[i] as number;
    // order-preserving key: flip all bits of negatives, the sign bit of positives
    keys[m++] = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  const tmp = scratch.tmp;
  const count = new Uint32Array(2048);
  radixPass(keys, tmp, m, 0, count);
  radixPass(tmp, keys, m, 11, count);
  radixPass(keys, tmp, m, 22, count);
  keys.set(tmp.subarray(0, m));
  const sorted = scratch.out.subarray(0, m);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let k = 0; k < m; k++) {
    const key = keys[k] as number;
    u[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
    sorted[k] = f[0] as number;
  }
  return { sorted, nan, posInf, negInf };
}

function radixPass(src: Uint32Array, dst: Uint32Array, n: number, shift: number, count: Uint32Array): void {
  count.fill(0);
  for (let i = 0; i < n; i++) {
    const b = ((src[i] as number) >>> shift) & 0x7ff;
    count[b] = (count[b] as number) + 1;
  }
  let sum = 0;
  for (let b = 0; b < 2048; b++) {
    const c = count[b] as number;
    count[b] = sum;
    sum += c;
  }
  for (let i = 0; i < n; i++) {
    const v = src[i] as number;
    const b = (v >>> shift) & 0x7ff;
    const at = count[b] as number;
    dst[at] = v;
    count[b] = at + 1;
  }
}
