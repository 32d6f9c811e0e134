import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { adjustPValues, benjaminiHochberg, bonferroni, holm, type AdjustMethod } from './multiple-testing.js';
import { StatsInputError } from './types.js';

interface AdjCase {
  name: string;
  test: string;
  inputs: { pvalues: number[]; alpha: number };
  expected: Record<string, number[] | boolean[]>;
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/fixtures/vectors/abtest.json', import.meta.url), 'utf8'),
) as { cases: AdjCase[] };
const adjCases = vectors.cases.filter((c) => c.test === 'multiple_testing');

describe('multiple testing matches abtest.json (bonferroni / bh / holm)', () => {
  it('has the adjustment cases', () => expect(adjCases.length).toBeGreaterThanOrEqual(8));
  for (const c of adjCases) {
    it(c.name, () => {
      for (const method of ['bonferroni', 'bh', 'holm'] as AdjustMethod[]) {
        const r = adjustPValues(c.inputs.pvalues, method, c.inputs.alpha);
        const e = c.expected[method] as number[];
        r.adjusted.forEach((a, k) => {
          const x = e[k] as number;
          expect(Math.abs(a - x) <= 1e-12 * Math.abs(x), `${method}[${k}] ${a} vs ${x}`).toBe(true);
        });
        expect(r.reject, `${method}_reject`).toEqual(c.expected[`${method}_reject`]);
      }
    });
  }
});

describe('multiple testing properties', () => {
  const ps = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 });
  it('adjusted >= raw, <= 1, monotone in the order of the raw p-values', () => {
    fc.assert(
      fc.property(ps, fc.constantFrom<AdjustMethod>('bh', 'holm', 'bonferroni'), (p, method) => {
        const adj = adjustPValues(p, method).adjusted;
        const order = p.map((_, k) => k).sort((a, b) => (p[a] as number) - (p[b] as number));
        for (let k = 0; k < p.length; k++) {
          expect(adj[k] as number).toBeGreaterThanOrEqual(p[k] as number);
          expect(adj[k] as number).toBeLessThanOrEqual(1);
        }
        for (let i = 1; i < order.length; i++) {
          expect(adj[order[i] as number] as number).toBeGreaterThanOrEqual(adj[order[i - 1] as number] as number);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('BH <= Holm <= Bonferroni', () => {
    fc.assert(
      fc.property(ps, (p) => {
        const b = benjaminiHochberg(p);
        const h = holm(p);
        const f = bonferroni(p);
        p.forEach((_, k) => {
          expect(b[k] as number).toBeLessThanOrEqual((h[k] as number) + 1e-15);
          expect(h[k] as number).toBeLessThanOrEqual((f[k] as number) + 1e-15);
        });
      }),
    );
  });
  it('NaN p-values are left out; invalid p-values throw', () => {
    const r = adjustPValues([0.01, NaN, 0.04], 'bh');
    expect(r.m).toBe(2);
    expect(Number.isNaN(r.adjusted[1] as number)).toBe(true);
    expect(r.adjusted[0]).toBeCloseTo(0.02, 15);
    expect(r.adjusted[2]).toBeCloseTo(0.04, 15);
    expect(r.reject).toEqual([true, false, true]);
    expect(() => adjustPValues([1.5])).toThrow(StatsInputError);
    expect(() => adjustPValues([-0.1])).toThrow(StatsInputError);
    expect(() => adjustPValues([0.1], 'bh', 0)).toThrow(StatsInputError);
    expect(adjustPValues([]).adjusted).toEqual([]);
  });
});
