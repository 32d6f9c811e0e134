import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortedFloat32 } from './sort32.js';

describe('sortedFloat32', () => {
  it('sorts like a numeric sort of the same float32 values, dropping NaN and ±Infinity', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noDefaultInfinity: false })), (xs) => {
        const col = Float32Array.from(xs);
        const rows = Int32Array.from(xs.map((_, i) => i));
        const r = sortedFloat32(col, rows);
        const finite = [...col].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
        expect([...r.sorted].map((x) => (Object.is(x, -0) ? 0 : x))).toEqual(finite.map((x) => (Object.is(x, -0) ? 0 : x)));
        expect(r.nan).toBe([...col].filter((x) => Number.isNaN(x)).length);
        expect(r.posInf + r.negInf).toBe([...col].filter((x) => x === Infinity || x === -Infinity).length);
      }),
    );
  });

  it('takes only the given rows', () => {
    const col = Float32Array.from([5, 1, 4, 2, 3]);
    expect([...sortedFloat32(col, Int32Array.from([0, 2, 4])).sorted]).toEqual([3, 4, 5]);
  });
});
