import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { wasserstein, wassersteinSorted, wassersteinWeighted } from './wasserstein.js';
import { StatsInputError } from './types.js';

interface JwCase {
  name: string;
  kind: 'proportions' | 'samples';
  inputs: { u_values?: number[]; v_values?: number[]; u_weights?: number[]; v_weights?: number[] };
  expected: { wasserstein?: number };
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/fixtures/vectors/jsd_wasserstein.json', import.meta.url), 'utf8'),
) as { cases: JwCase[] };
const close = (a: number, e: number): boolean => Math.abs(a - e) <= 1e-12 + 1e-12 * Math.abs(e);

describe('wasserstein matches jsd_wasserstein.json', () => {
  for (const c of vectors.cases) {
    if (c.kind !== 'samples') continue;
    it(c.name, () => {
      const u = c.inputs.u_values as number[];
      const v = c.inputs.v_values as number[];
      const e = c.expected.wasserstein as number;
      if (c.inputs.u_weights) {
        const d = wassersteinWeighted(u, v, c.inputs.u_weights, c.inputs.v_weights as number[]);
        expect(close(d, e), `${d} vs ${e}`).toBe(true);
      } else {
        const d = wasserstein(u, v).distance;
        expect(close(d, e), `${d} vs ${e}`).toBe(true);
        const w = wassersteinWeighted(u, v, u.map(() => 1), v.map(() => 1));
        expect(close(w, e), `weighted ${w} vs ${e}`).toBe(true);
      }
    });
  }
});

describe('wasserstein properties and bad input', () => {
  const arr = fc.array(fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 40 });
  it('>= 0, symmetric, 0 on identical, order invariant, equals weighted form with unit weights', () => {
    fc.assert(
      fc.property(arr, arr, (a, b) => {
        const d = wasserstein(a, b).distance;
        expect(d).toBeGreaterThanOrEqual(0);
        expect(Math.abs(d - wasserstein(b, a).distance)).toBeLessThanOrEqual(1e-9 * (1 + d));
        expect(wasserstein(a, a).distance).toBe(0);
        expect(wasserstein([...a].reverse(), b).distance).toBe(d);
        const w = wassersteinWeighted(a, b, a.map(() => 1), b.map(() => 1));
        expect(Math.abs(w - d)).toBeLessThanOrEqual(1e-9 * (1 + d));
      }),
    );
  });
  it('bad input', () => {
    expect(() => wasserstein([], [1])).toThrow(StatsInputError);
    expect(() => wassersteinSorted(new Float64Array(0), Float64Array.from([1]))).toThrow(StatsInputError);
    expect(() => wassersteinWeighted([1, 2], [1], [1], [1])).toThrowError(/length/);
    expect(() => wassersteinWeighted([1], [1], [-1], [1])).toThrow(StatsInputError);
    expect(() => wassersteinWeighted([1], [1], [0], [1])).toThrow(StatsInputError);
    expect(() => wassersteinWeighted([NaN], [1], [1], [1])).toThrow(StatsInputError);
    const r = wasserstein([0, NaN], [5, -Infinity]);
    expect(r.distance).toBe(5);
    expect(r.droppedU.nan).toBe(1);
    expect(r.droppedV.negInf).toBe(1);
  });
});
