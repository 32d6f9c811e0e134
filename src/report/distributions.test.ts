import { describe, expect, it } from 'vitest';
import { categoricalDistribution, numericDistribution } from './distributions.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('report distributions', () => {
  it('numeric: equal-width bins over the reference range, the current outside it in bars of its own; NaN and ±Infinity not counted', () => {
    const ref = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NaN];
    const cur = [-5, 0, 10, 10, 11, Infinity, NaN];
    const d = numericDistribution(ref, cur, 5);
    expect(d).toMatchObject({ kind: 'numeric', nReference: 11, nCurrent: 5 });
    expect(d?.bins.map((b) => b.label)).toEqual(['< 0', '0 – 2', '2 – 4', '4 – 6', '6 – 8', '8 – 10', '> 10']);
    expect(d?.bins.map((b) => b.reference)).toEqual([0, 2 / 11, 2 / 11, 2 / 11, 2 / 11, 3 / 11, 0]); // the maximum in the last bin
    expect(d?.bins.map((b) => b.current)).toEqual([1 / 5, 1 / 5, 0, 0, 0, 2 / 5, 1 / 5]);
    expect(d?.bins.filter((b) => b.outside === true).map((b) => b.label)).toEqual(['< 0', '> 10']);
    expect(sum(d?.bins.map((b) => b.reference) ?? [])).toBeCloseTo(1, 12);
    expect(sum(d?.bins.map((b) => b.current) ?? [])).toBeCloseTo(1, 12);
    // a constant reference: one bin; none at all: nothing to draw
    expect(numericDistribution([3, 3, 3], [3, 4], 5)?.bins.map((b) => [b.label, b.reference, b.current])).toEqual([
      ['3', 1, 0.5],
      ['> 3', 0, 0.5],
    ]);
    expect(numericDistribution([NaN], [1])).toBeNull();
  });

  it('categorical: shares per category, most frequent first, new categories marked, the rest pooled', () => {
    const d = categoricalDistribution(['a', 'a', 'b', null, 'c'], ['a', 'x', 'x', 'b', null], 3);
    expect(d).toMatchObject({ kind: 'categorical', nReference: 4, nCurrent: 4, pooled: 1 });
    expect(d?.bins).toEqual([
      { label: 'a', reference: 0.5, current: 0.25 },
      { label: 'b', reference: 0.25, current: 0.25 }, // ties (0.5 in all) by name
      { label: 'x', reference: 0, current: 0.5, outside: true },
      { label: '1 more', reference: 0.25, current: 0 },
    ]);
    expect(categoricalDistribution([null], ['a'])).toBeNull();
  });
});
