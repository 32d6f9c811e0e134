import { describe, expect, it } from 'vitest';
import { Scratch } from './scratch.js';

const MB = 1 << 20;

describe('Scratch', () => {
  it('hands out zeroed, aligned, non-overlapping arrays from one block', () => {
    const s = new Scratch();
    const a = s.i32(3);
    const b = s.f64(5);
    const c = s.i32(1);
    expect(a.buffer).toBe(b.buffer);
    expect(b.buffer).toBe(c.buffer);
    expect([a.byteOffset % 8, b.byteOffset % 8, c.byteOffset % 8]).toEqual([0, 0, 0]);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.byteLength);
    expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + b.byteLength);
    a.fill(-1);
    b.fill(Math.PI);
    expect(Array.from(c)).toEqual([0]);
    // released: the same memory again, zeroed
    s.release();
    const again = s.i32(3);
    expect(again.buffer).toBe(a.buffer);
    expect(again.byteOffset).toBe(a.byteOffset);
    expect(Array.from(again)).toEqual([0, 0, 0]);
  });

  it('gives ordinary arrays when a round outgrows the block, and a block the round fits next time', () => {
    const s = new Scratch();
    expect(s.blockBytes).toBe(MB);
    const first = s.f64(100_000); // 800,000 bytes: fits
    const second = s.f64(100_000); // does not fit any more
    expect(second.buffer).not.toBe(first.buffer);
    expect(second.length).toBe(100_000);
    expect(second.every((x) => x === 0)).toBe(true);
    s.release();
    expect(s.blockBytes).toBe(2 * MB);
    const x = s.f64(100_000);
    const y = s.f64(100_000);
    expect(y.buffer).toBe(x.buffer);
    expect(x.buffer.byteLength).toBe(2 * MB);
  });

  it('lets the block go on drop and starts the next round with a block of the size learnt', () => {
    const s = new Scratch(3 * MB + 1);
    expect(s.blockBytes).toBe(4 * MB);
    const a = s.i32(10);
    s.drop();
    const b = s.i32(10);
    expect(b.buffer).not.toBe(a.buffer);
    expect(b.buffer.byteLength).toBe(4 * MB);
    expect(new Scratch(0).blockBytes).toBe(MB);
  });
});
