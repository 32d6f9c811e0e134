import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { chi2Categorical, chi2Sf, contingency2xK, countCategories, type Chi2Variant } from './chi2.js';
import { StatsInputError } from './types.js';

type Num = number | string;
interface Block {
  statistic: Num;
  pvalue: Num;
  df?: number;
  dof?: number;
  expected_freq?: number[][];
}
interface Chi2Case {
  name: string;
  inputs: { reference: string[]; current: string[]; reference_counts: Record<string, number>; current_counts: Record<string, number> };
  expected: Record<string, unknown> & {
    gof_union: Block;
    gof_eps: Block;
    gof_drop_new: Block | null;
    contingency: Block;
    contingency_yates?: Block;
    gof_union_f_exp: number[];
    gof_eps_f_exp: number[];
    gof_drop_new_n_dropped: number;
  };
  new_categories: string[];
  missing_in_current: string[];
  warnings?: Record<string, string[]>;
  raises?: Record<string, { type: string; message: string }>;
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/fixtures/vectors/chi2.json', import.meta.url), 'utf8'),
) as { cases: Chi2Case[] };
const num = (v: Num): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity);
const close = (a: number, e: number, rtol: number, atol: number): boolean =>
  Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);

describe('chi2 matches chi2.json', () => {
  for (const c of vectors.cases) {
    it(c.name, () => {
      const counted = countCategories(c.inputs.reference).counts;
      expect(Object.fromEntries(counted)).toEqual(
        Object.fromEntries(Object.entries(c.inputs.reference_counts).filter(([, v]) => v > 0)),
      );
      for (const variant of ['gof_union', 'gof_eps', 'gof_drop_new', 'contingency'] as Chi2Variant[]) {
        const r = chi2Categorical(c.inputs.reference_counts, c.inputs.current_counts, { variant });
        const e = c.expected[variant];
        expect(r.newCategories).toEqual(c.new_categories);
        expect(r.missingInCurrent).toEqual(c.missing_in_current);
        if (e === null) {
          expect(r.defined, variant).toBe(false);
          expect(c.raises?.[variant]).toBeDefined();
          continue;
        }
        if (!r.defined) throw new Error(`${variant} undefined: ${r.reason}`);
        expect(close(r.statistic, num(e.statistic), 1e-12, 1e-12), `${variant} stat ${r.statistic} vs ${String(e.statistic)}`).toBe(true);
        expect(close(r.pvalue, num(e.pvalue), 1e-9, 1e-300), `${variant} p ${r.pvalue} vs ${String(e.pvalue)}`).toBe(true);
        expect(r.df).toBe(e.df ?? e.dof);
        if (variant === 'gof_union') expect(r.fExp).toEqual(c.expected.gof_union_f_exp);
        if (variant === 'gof_eps') r.fExp.forEach((x, k) => expect(close(x, c.expected.gof_eps_f_exp[k] as number, 1e-14, 0)).toBe(true));
        if (variant === 'gof_drop_new') expect(r.nDropped).toBe(c.expected.gof_drop_new_n_dropped);
        if (variant === 'contingency' && e.expected_freq) expect(r.fExp).toEqual(e.expected_freq.flat());
        expect(r.warnings).toEqual(c.warnings?.[variant] ?? []);
      }
      const y = c.expected.contingency_yates;
      if (y) {
        const r = chi2Categorical(c.inputs.reference_counts, c.inputs.current_counts, { variant: 'contingency', correction: true });
        if (!r.defined) throw new Error('undefined');
        expect(close(r.statistic, num(y.statistic), 1e-12, 1e-12)).toBe(true);
        expect(close(r.pvalue, num(y.pvalue), 1e-9, 1e-300)).toBe(true);
      }
      const d = chi2Categorical(c.inputs.reference_counts, c.inputs.current_counts);
      const nCur = Object.values(c.inputs.current_counts).reduce((a, b) => a + b, 0);
      const unseen = c.new_categories.reduce((a, k) => a + (c.inputs.current_counts[k] ?? 0), 0);
      expect(d.variant).toBe('contingency');
      expect(d.unseenShare).toBe(unseen / nCur);
    });
  }
});

describe('chi2 properties', () => {
  const counts = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 500 }), { minKeys: 1 });
  it('p-values in [0,1] (or NaN for df=0 gof), statistic >= 0, Cramér V and TVD in [0,1]', () => {
    fc.assert(
      fc.property(counts, counts, fc.constantFrom<Chi2Variant>('gof_union', 'gof_eps', 'gof_drop_new', 'contingency'), (a, b, variant) => {
        const sa = Object.values(a).reduce((x, y) => x + y, 0);
        const sb = Object.values(b).reduce((x, y) => x + y, 0);
        if (sa === 0 || sb === 0) {
          expect(() => chi2Categorical(a, b, { variant })).toThrow(StatsInputError);
          return;
        }
        const r = chi2Categorical(a, b, { variant });
        expect(r.tvd).toBeGreaterThanOrEqual(0);
        expect(r.tvd).toBeLessThanOrEqual(1 + 1e-12);
        expect(r.cramersV).toBeGreaterThanOrEqual(0);
        expect(r.cramersV).toBeLessThanOrEqual(1 + 1e-12);
        if (!r.defined) return;
        expect(r.statistic).toBeGreaterThanOrEqual(0);
        if (r.df === 0 && variant !== 'contingency') expect(Number.isNaN(r.pvalue)).toBe(true);
        else {
          expect(r.pvalue).toBeGreaterThanOrEqual(0);
          expect(r.pvalue).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('chi2Sf edge cases', () => {
    expect(Number.isNaN(chi2Sf(1, 0))).toBe(true);
    expect(chi2Sf(Infinity, 3)).toBe(0);
    expect(chi2Sf(0, 3)).toBe(1);
    expect(chi2Sf(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
  });
  it('contingency rejects mismatched lengths and zero columns', () => {
    expect(() => contingency2xK([1, 2], [1])).toThrow(StatsInputError);
    expect(() => contingency2xK([1, 0], [1, 0])).toThrow(StatsInputError);
  });
  it('countCategories counts missing values apart', () => {
    const r = countCategories(['a', null, '', undefined, 'b', 'a']);
    expect(r.missing).toBe(3);
    expect(Object.fromEntries(r.counts)).toEqual({ a: 2, b: 1 });
  });
});
