import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ks2samp, ks2sampSorted, ksAsympPvalue, ksExactCost, ksFromExtremes, KS_EXACT_BUDGET, type KsMethod, type Alternative } from './ks.js';
import { attemptExact2kssamp, gcd } from './ks-exact.js';
import { StatsInputError } from './types.js';

interface KsExpected {
  alternative: Alternative;
  method: KsMethod;
  method_used: 'exact' | 'asymp';
  statistic: number;
  pvalue: number | string;
  statistic_location: number;
  statistic_sign: number;
  statistic_location_candidates: number[];
  warnings: string[];
}
interface KsCase {
  name: string;
  inputs: { data1: number[]; data2: number[] };
  expected: KsExpected[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/fixtures/vectors/ks.json', import.meta.url), 'utf8'),
) as { cases: KsCase[] };

const num = (v: number | string): number =>
  typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;

function close(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

describe('ks2samp matches scipy.stats.ks_2samp (ks.json)', () => {
  for (const c of vectors.cases) {
    it(c.name, () => {
      for (const e of c.expected) {
        const r = ks2samp(c.inputs.data1, c.inputs.data2, { alternative: e.alternative, method: e.method });
        const label = `${c.name} ${e.alternative}/${e.method}`;
        expect(r.methodUsed, label).toBe(e.method_used);
        expect(close(r.statistic, e.statistic, 0, 1e-12), `${label} statistic ${r.statistic} vs ${e.statistic}`).toBe(true);
        const ep = num(e.pvalue);
        const [rtol, atol] = e.method_used === 'exact' ? [1e-9, 1e-14] : [1e-7, 1e-300];
        expect(close(r.pvalue, ep, rtol, atol), `${label} pvalue ${r.pvalue} vs ${ep}`).toBe(true);
        expect(r.statisticSign, label).toBe(e.statistic_sign);
        expect(r.statisticLocation, label).toBe(e.statistic_location);
        expect(e.statistic_location_candidates, label).toContain(r.statisticLocation);
        expect([...r.warnings], label).toEqual(e.warnings);
      }
    });
  }
});

describe('ks2samp properties', () => {
  const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 });
  const small = fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 40 });
  it('statistic in [0,1], p in [0,1], symmetric for two-sided', () => {
    fc.assert(
      fc.property(fc.oneof(sample, small), fc.oneof(sample, small), fc.constantFrom<KsMethod>('auto', 'exact', 'asymp'), (a, b, method) => {
        const r1 = ks2samp(a, b, { method });
        const r2 = ks2samp(b, a, { method });
        expect(r1.statistic).toBeGreaterThanOrEqual(0);
        expect(r1.statistic).toBeLessThanOrEqual(1);
        expect(r1.statistic).toBe(r2.statistic);
        if (!(a.length === 1 && b.length === 1 && method === 'asymp')) {
          expect(r1.pvalue).toBeGreaterThanOrEqual(0);
          expect(r1.pvalue).toBeLessThanOrEqual(1);
          expect(Math.abs(r1.pvalue - r2.pvalue)).toBeLessThanOrEqual(1e-12);
        }
        for (const alternative of ['less', 'greater'] as const) {
          const r = ks2samp(a, b, { method, alternative });
          expect(r.pvalue).toBeGreaterThanOrEqual(0);
          expect(r.pvalue).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });
  it('invariant to row order', () => {
    fc.assert(
      fc.property(fc.oneof(sample, small), fc.oneof(sample, small), (a, b) => {
        const r1 = ks2samp(a, b);
        const r2 = ks2samp([...a].reverse(), [...b].sort((x, y) => y - x));
        expect(r2.statistic).toBe(r1.statistic);
        expect(r2.pvalue).toBe(r1.pvalue);
        expect(r2.statisticLocation).toBe(r1.statisticLocation);
      }),
      { numRuns: 100 },
    );
  });
});

describe('ks2samp bad input', () => {
  it('empty sample -> StatsInputError', () => {
    expect(() => ks2samp([], [1, 2])).toThrow(StatsInputError);
    expect(() => ks2samp([1], [])).toThrowError(/data2 is empty/);
  });
  it('all non-finite -> StatsInputError naming the sample', () => {
    try {
      ks2samp([NaN, Infinity], [1]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(StatsInputError);
      expect((e as StatsInputError).code).toBe('VIGIL_ERR_STATS_EMPTY_SAMPLE');
    }
  });
  it('NaN / ±Infinity dropped and counted', () => {
    const r = ks2samp([1, 2, NaN, 3, Infinity, -Infinity], [1, 2, 3]);
    expect(r.n1).toBe(3);
    expect(r.dropped1).toEqual({ nan: 1, posInf: 1, negInf: 1 });
    expect(r.statistic).toBe(0);
    expect(r.pvalue).toBe(1);
  });
  it('one-element samples work (exact), asymp n1=n2=1 gives NaN with SciPy warning', () => {
    expect(ks2samp([1], [2]).pvalue).toBe(1);
    const r = ks2samp([1], [2], { method: 'asymp' });
    expect(Number.isNaN(r.pvalue)).toBe(true);
    expect(r.warnings.length).toBe(1);
  });
  it('presorted variant validates order and finiteness', () => {
    expect(() => ks2sampSorted(Float64Array.from([2, 1]), Float64Array.from([1]))).toThrowError(/not sorted/);
    expect(() => ks2sampSorted(Float64Array.from([1, NaN]), Float64Array.from([1]))).toThrow(StatsInputError);
    const r = ks2sampSorted(Float64Array.from([1, 2, 3]), Float64Array.from([2, 3, 4]));
    expect(r.statistic).toBeCloseTo(1 / 3, 15);
  });
  it('rejects bad options', () => {
    expect(() => ks2samp([1], [2], { method: 'nope' as KsMethod })).toThrow(StatsInputError);
  });
});

describe('KS with an exact-work budget (the monitors\' drift.ks_method: auto)', () => {
  /** ECDF extremes giving statistic d two-sided (the p-value path depends on d and the sizes only). */
  const extremes = (d: number) => ({ maxS: d, locMax: 0, minS: 0, locMin: 0 });

  it('estimates the exact computation\'s work before doing it: O(n) for equal sizes, the band of the recursion otherwise', () => {
    expect(ksExactCost(10_000, 10_000, 0.5, 'two-sided')).toBe(10_000);
    expect(ksExactCost(9_999, 10_000, 0.01, 'two-sided')).toBe(10_000 * (2 * 0.01 * 9_999 + 2));
    expect(ksExactCost(9_999, 10_000, 1, 'two-sided')).toBe(10_000 * 10_000);
    expect(ksExactCost(300, 10_000, 0.1, 'greater')).toBe(300 * 300);
    // it grows with the sizes: no size is cheaper than a smaller one at the same d
    let last = 0;
    for (let n = 1; n < 10_000; n += 37) {
      const c = ksExactCost(n, 10_000, 0.02, 'two-sided');
      expect(c).toBeGreaterThanOrEqual(last);
      last = c;
    }
  });

  it('takes the exact p-value only within the budget; SciPy\'s rule without one (exact up to 10,000 a side)', () => {
    const budget = { exactBudget: KS_EXACT_BUDGET };
    // 9,999 against a 10,000-point reference: SciPy computes 10^8 lattice cells; the budget takes the asymptotic form
    expect(ksFromExtremes(9_999, 10_000, extremes(0.01)).methodUsed).toBe('exact');
    expect(ksFromExtremes(9_999, 10_000, extremes(0.01), budget).methodUsed).toBe('asymp');
    // equal sizes stay exact (linear work), as do small windows
    expect(ksFromExtremes(10_000, 10_000, extremes(0.01), budget).methodUsed).toBe('exact');
    expect(ksFromExtremes(10, 10_000, extremes(0.3), budget).methodUsed).toBe('exact');
    // the asymptotic p-value is SciPy's own asymp for the same statistic (the statistic itself is not rounded to the lattice then)
    const r = ksFromExtremes(5_000, 10_000, extremes(0.02), budget);
    expect(r).toMatchObject({ method: 'auto', methodUsed: 'asymp', statistic: 0.02, warnings: [] });
    expect(r.pvalue).toBe(ksFromExtremes(5_000, 10_000, extremes(0.02), { method: 'asymp' }).pvalue);
    // a budget never changes an explicit method
    expect(ksFromExtremes(9_999, 10_000, extremes(0.01), { method: 'exact', exactBudget: 0 }).methodUsed).toBe('exact');
    expect(() => ksFromExtremes(5, 5, extremes(0.1), { exactBudget: -1 })).toThrow(StatsInputError);
    expect(() => ksFromExtremes(5, 5, extremes(0.1), { exactBudget: NaN })).toThrow(StatsInputError);
  });

  it('the asymptotic p-value it takes instead is within 0.005 of the exact one (two-sided; measured max 0.0035)', () => {
    // every size pair below the 10,000 limit whose exact work is over the budget at some d, over
    // statistics from no drift to strong drift (p from ~1 down to ~1e-12)
    const pairs: [number, number][] = [
      [16, 10_000], [30, 10_000], [50, 10_000], [101, 10_000], [317, 10_000], [1_000, 10_000], [3_001, 10_000], [9_999, 10_000],
      [20, 1_000], [99, 1_000], [999, 1_000], [2_000, 5_000],
    ];
    let worst = 0;
    let overBudget = 0;
    for (const [n, m] of pairs) {
      const g = gcd(n, m);
      const en = (n * m) / (n + m);
      for (const z of [0.3, 0.5, 0.7, 0.9, 1.1, 1.36, 1.63, 2, 2.5, 3, 3.7]) {
        const d = Math.min(1, z / Math.sqrt(en));
        if (ksExactCost(n, m, d, 'two-sided') <= KS_EXACT_BUDGET) continue;
        overBudget++;
        const exact = attemptExact2kssamp(n, m, g, d, 'two-sided');
        expect(exact.success).toBe(true);
        const asymp = ksAsympPvalue(exact.d, n, m, 'two-sided').p;
        worst = Math.max(worst, Math.abs(exact.prob - asymp));
        expect(Math.abs(exact.prob - asymp), `n=${n} m=${m} d=${d}: exact ${exact.prob}, asymp ${asymp}`).toBeLessThanOrEqual(0.005);
      }
    }
    expect(overBudget).toBeGreaterThan(80);
    expect(worst).toBeGreaterThan(1e-4); // the bound is measured, not vacuous
  });
});
