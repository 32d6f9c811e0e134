import { describe, expect, it } from 'vitest';
import { growColumn, pagedBuffer, pagedF64 } from './columns.js';

describe('paged column memory', () => {
  it('grows a column in place within its reservation, keeping values and the old view', () => {
    const a = growColumn(new Uint16Array(new SharedArrayBuffer(0)), 1024);
    a.set([1, 2, 3]);
    const b = growColumn(a, 4096);
    expect(b.buffer).toBe(a.buffer); // same memory: no copy
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.length).toBe(4096);
    expect(Array.from(b.subarray(0, 4))).toEqual([1, 2, 3, 0]);
    expect(b[4095]).toBe(0);
    expect(a.length).toBe(1024); // a holder of the old view reads the same rows
    b[0] = 9;
    expect(a[0]).toBe(9);
  });

  it('fills the new elements, from a shared or a plain column', () => {
    const f = growColumn(new Float32Array(new SharedArrayBuffer(0)), 10, NaN);
    expect(Number.isNaN(f[9])).toBe(true);
    f[0] = 1.5;
    const g = growColumn(f, 20, NaN);
    expect([g[0], Number.isNaN(g[10]), Number.isNaN(g[19])]).toEqual([1.5, true, true]);
    const i = growColumn(new Int32Array(0), 5, -1);
    expect(Array.from(i)).toEqual([-1, -1, -1, -1, -1]);
    expect(i.buffer).toBeInstanceOf(SharedArrayBuffer); // always shared: fast views (see columns.ts)
    const j = growColumn(i, 8, -1);
    expect(j.buffer).toBe(i.buffer);
    expect(Array.from(j)).toEqual([-1, -1, -1, -1, -1, -1, -1, -1]);
  });

  it('copies to a new buffer beyond the reservation or from a plain buffer', () => {
    const plain = Float64Array.from([1, 2]);
    const a = growColumn(plain, 4);
    expect(a.buffer).not.toBe(plain.buffer);
    expect(Array.from(a)).toEqual([1, 2, 0, 0]);
    const max = (a.buffer as unknown as { maxByteLength: number }).maxByteLength;
    expect(max).toBeGreaterThanOrEqual(2 ** 20);
    const big = growColumn(a, max / 8 + 1);
    expect(big.buffer).not.toBe(a.buffer);
    expect(Array.from(big.subarray(0, 3))).toEqual([1, 2, 0]);
  });

  it('gives paged shared float64 memory of the exact size, and falls back to a plain buffer past the engine limit', () => {
    const r = pagedF64(3);
    expect(r.length).toBe(3);
    expect(r.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(r.buffer.byteLength).toBe(24);
    const b = pagedBuffer(8, false, 2 ** 40); // reservation clamped to the engine's limit
    expect(b.byteLength).toBe(8);
  });
});
