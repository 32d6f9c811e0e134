import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  adjustComparisons,
  compareMeans,
  compareProportions,
  sampleSizeTwoProportions,
  studentTCdf,
  studentTQuantile,
  twoProportionZTest,
  welchTTest,
  WARN_PRECISION_LOSS,
} from './abtest.js';
import { StatsInputError, type StatResult } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Case {
  name: string;
  test: string;
  inputs: Record<string, Json>;
  expected: Record<string, Json>;
  warnings?: Record<string, string[]>;
}
const file = JSON.parse(readFileSync(new URL('../../test/fixtures/vectors/abtest.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};
const num = (v: Json): number => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));

function close(actual: number, expected: number, rtol: number, what: string, atol = 0): void {
  const ok = actual === expected || Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol;
  if (!ok) expect.fail(`${what}: got ${actual}, expected ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);
}
function closeStat(r: StatResult, exp: Json, rtol: number, what: string, atol = 0): void {
  const e = exp === null ? NaN : num(exp);
  if (Number.isNaN(e)) {
    expect(r.defined, `${what} undefined`).toBe(false);
    return;
  }
  expect(r.defined, `${what} defined`).toBe(true);
  if (r.defined) close(r.value, e, rtol, what, atol);
}

describe('abtest vectors: two-proportion z-test', () => {
  const cases = file.cases.filter((c) => c.test === 'two_proportion_ztest');
  expect(cases.length).toBe(10);
  for (const c of cases) {
    it(c.name, () => {
      const i = c.inputs as { successes_a: number; n_a: number; successes_b: number; n_b: number };
      const e = c.expected;
      const r = twoProportionZTest({ successesA: i.successes_a, nA: i.n_a, successesB: i.successes_b, nB: i.n_b });
      close(r.pA, num(e.p_a ?? NaN), 1e-12, 'p_a');
      close(r.pB, num(e.p_b ?? NaN), 1e-12, 'p_b');
      close(r.pPooled, num(e.p_pooled ?? NaN), 1e-12, 'p_pooled');
      close(r.se, num(e.se ?? NaN), 1e-12, 'se');
      close(r.diff, num(e.diff ?? NaN), 1e-12, 'diff');
      expect(!r.z.defined).toBe(e.undefined);
      closeStat(r.z, e.z ?? null, 1e-12, 'z');
      closeStat(r.pValue.twoSided, e.pvalue_two_sided ?? null, 1e-9, 'p two-sided');
      closeStat(r.pValue.greater, e.pvalue_greater ?? null, 1e-9, 'p greater');
      closeStat(r.pValue.less, e.pvalue_less ?? null, 1e-9, 'p less');
      if (r.z.defined && typeof e.crosscheck_chi2_contingency_statistic === 'number') {
        close(r.z.value ** 2, e.crosscheck_chi2_contingency_statistic, 1e-9, 'z² = chi2', 1e-15);
      }
    });
  }
});

describe('abtest vectors: Welch t-test', () => {
  const cases = file.cases.filter((c) => c.test === 'welch_ttest');
  expect(cases.length).toBe(9);
  for (const c of cases) {
    it(c.name, () => {
      const a = c.inputs.a as number[];
      const b = c.inputs.b as number[];
      const e = c.expected;
      const r = welchTTest(a, b);
      close(r.meanA, num(e.mean_a ?? NaN), 1e-12, 'mean_a', 1e-15);
      close(r.meanB, num(e.mean_b ?? NaN), 1e-12, 'mean_b', 1e-15);
      close(r.varA, num(e.var_a_ddof1 ?? NaN), 1e-12, 'var_a');
      close(r.varB, num(e.var_b_ddof1 ?? NaN), 1e-12, 'var_b');
      close(r.se, num(e.se ?? NaN), 1e-12, 'se');
      close(r.df, num(e.df_welch ?? NaN), 1e-12, 'df');
      close(r.diff, num(e.mean_diff_a_minus_b ?? NaN), 1e-12, 'diff', 1e-15);
      const alts = [
        ['ttest_two-sided', r.pValue.twoSided],
        ['ttest_less', r.pValue.less],
        ['ttest_greater', r.pValue.greater],
      ] as const;
      for (const [key, p] of alts) {
        const ex = e[key] as { statistic: Json; pvalue: Json };
        closeStat(r.t, ex.statistic, 1e-12, `${key} statistic`, 1e-15);
        closeStat(p, ex.pvalue, 1e-9, `${key} pvalue`);
        expect([...r.warnings], `${key} warnings`).toEqual(c.warnings?.[key] ?? []);
        if (p.defined) expect([...(p.warnings ?? [])]).toEqual(c.warnings?.[key] ?? []);
      }
      const ci = e.ci95_mean_diff as number[] | null;
      if (ci === null) expect(r.ci95).toBeUndefined();
      else {
        expect(r.ci95).toBeDefined();
        // The vector's CI uses SciPy 1.10's t.ppf (cdflib cdft, root-finder tol 1e-8), itself only
        // ~1e-9 accurate; our quantile is checked against closed forms below. Hence rtol 2e-9 here.
        close(r.ci95?.lower ?? NaN, ci[0] as number, 2e-9, 'ci lower');
        close(r.ci95?.upper ?? NaN, ci[1] as number, 2e-9, 'ci upper');
      }
    });
  }
});

describe('abtest vectors: sample size', () => {
  const cases = file.cases.filter((c) => c.test === 'sample_size_two_proportions');
  expect(cases.length).toBe(9);
  for (const c of cases) {
    it(c.name, () => {
      const i = c.inputs as { p1: number; p2: number; alpha: number; power: number; two_sided: boolean };
      const e = c.expected as Record<string, number>;
      const r = sampleSizeTwoProportions({ p1: i.p1, p2: i.p2, alpha: i.alpha, power: i.power, twoSided: i.two_sided });
      close(r.zAlpha, e.z_alpha as number, 1e-12, 'z_alpha');
      close(r.zBeta, e.z_beta as number, 1e-12, 'z_beta');
      close(r.cohensH, e.cohens_h as number, 1e-12, 'h');
      const pairs = [
        ['n_per_group', r.nPerGroup, r.nPerGroupCeil],
        ['n_unpooled', r.nUnpooled, r.nUnpooledCeil],
        ['n_cohens_h', r.nCohensH, r.nCohensHCeil],
        ['n_cohens_h_both_tails', r.nCohensHBothTails, r.nCohensHBothTailsCeil],
      ] as const;
      for (const [k, raw, ceil] of pairs) {
        const ex = e[k] as number;
        close(raw, ex, 1e-12, k);
        if (Math.abs(ex - Math.round(ex)) > 1e-9) expect(ceil, `${k}_ceil`).toBe(e[`${k}_ceil`]);
      }
    });
  }
});

describe('abtest: edge cases and bad input', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(StatsInputError);
      return (e as StatsInputError).code;
    }
    return 'no error';
  };
  it('z-test rejects impossible counts', () => {
    expect(code(() => twoProportionZTest({ successesA: 1, nA: 0, successesB: 0, nB: 5 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => twoProportionZTest({ successesA: 6, nA: 5, successesB: 0, nB: 5 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => twoProportionZTest({ successesA: 1.5, nA: 5, successesB: 0, nB: 5 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => twoProportionZTest({ successesA: NaN, nA: 5, successesB: 0, nB: 5 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
  });
  it('Welch rejects empty and non-finite samples; one value per group is Undefined', () => {
    expect(code(() => welchTTest([], [1, 2]))).toBe('VIGIL_ERR_STATS_EMPTY');
    expect(code(() => welchTTest([1, NaN], [1, 2]))).toBe('VIGIL_ERR_STATS_NON_FINITE');
    expect(code(() => welchTTest([1, 2], [Infinity, 2]))).toBe('VIGIL_ERR_STATS_NON_FINITE');
    const r = welchTTest([1], [2, 3]);
    expect(r.t.defined).toBe(false);
    expect(r.pValue.twoSided.defined).toBe(false);
    expect(r.ci95).toBeUndefined();
  });
  it('Welch on two different constants: infinite t, p = 0 (as SciPy)', () => {
    const r = welchTTest([1, 1, 1], [2, 2, 2]);
    expect(r.t).toEqual({ defined: true, value: -Infinity, warnings: [WARN_PRECISION_LOSS] });
    expect(r.pValue.twoSided.defined && r.pValue.twoSided.value).toBe(0);
    expect(r.pValue.greater.defined && r.pValue.greater.value).toBe(1);
  });
  it('sample size: parameters validated, no effect → Infinity', () => {
    expect(code(() => sampleSizeTwoProportions({ p1: 1.2, p2: 0.1 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => sampleSizeTwoProportions({ p1: 0.1, p2: 0.2, alpha: 0 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => sampleSizeTwoProportions({ p1: 0.1, p2: 0.2, power: 1 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(sampleSizeTwoProportions({ p1: 0.1, p2: 0.1 }).nPerGroup).toBe(Infinity);
  });
  it('Student-t quantile inverts the CDF', () => {
    for (const df of [1, 1.47, 2.5, 7, 30, 1000]) {
      for (const p of [0.001, 0.05, 0.5, 0.9, 0.975, 0.9999]) {
        const q = studentTQuantile(p, df);
        expect(Math.abs(studentTCdf(q, df) - p)).toBeLessThan(1e-14);
      }
    }
    // Closed forms: df = 1 (Cauchy) tan(π(p − ½)); df = 2: (2p − 1)/√(2p(1 − p)).
    for (const p of [0.01, 0.3, 0.975, 0.999]) {
      const c1 = Math.tan(Math.PI * (p - 0.5));
      const c2 = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      expect(Math.abs(studentTQuantile(p, 1) - c1)).toBeLessThanOrEqual(1e-13 * Math.abs(c1));
      expect(Math.abs(studentTQuantile(p, 2) - c2)).toBeLessThanOrEqual(1e-13 * Math.abs(c2));
    }
  });
});

describe('abtest: comparison helpers', () => {
  it('compareProportions: p-value, lift, significance and samples still needed', () => {
    const c = compareProportions({ successesA: 100, nA: 1000, successesB: 120, nB: 1000 });
    expect(c.pValue.defined && c.pValue.value).toBeCloseTo(0.1529177818639462, 12);
    expect(c.lift.defined && c.lift.value).toBeCloseTo(0.2, 12);
    expect(c.significant).toBe(false);
    // Fleiss n for 0.1 → 0.12 is 3841 (abtest.json ss_10_to_12); 1000 already collected.
    expect(c.requiredPerGroup).toEqual({ defined: true, value: 3841 });
    expect(c.samplesStillNeededPerGroup).toEqual({ defined: true, value: 2841 });
    const big = compareProportions({ successesA: 50, nA: 1000, successesB: 120, nB: 1000 });
    expect(big.significant).toBe(true);
    const z = compareProportions({ successesA: 0, nA: 100, successesB: 0, nB: 100 });
    expect(z.pValue.defined).toBe(false);
    expect(z.lift.defined).toBe(false);
    expect(z.significant).toBe(false);
    expect(z.samplesStillNeededPerGroup.defined).toBe(false);
  });
  it('compareProportions with a minimum detectable lift', () => {
    const c = compareProportions({ successesA: 100, nA: 1000, successesB: 100, nB: 1000, minDetectableLift: 0.2 });
    expect(c.requiredPerGroup).toEqual({ defined: true, value: 3841 });
    expect(c.lift).toEqual({ defined: true, value: 0 });
  });
  it('compareMeans uses Welch with B-vs-A alternatives', () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [3, 4, 5, 6, 7, 8];
    const two = compareMeans({ a, b });
    const greater = compareMeans({ a, b, alternative: 'greater' });
    expect(two.pValue.defined && greater.pValue.defined).toBe(true);
    if (two.pValue.defined && greater.pValue.defined) expect(greater.pValue.value).toBeCloseTo(two.pValue.value / 2, 14);
    expect(two.lift.defined && two.lift.value).toBeCloseTo(2 / 3.5, 14);
    expect(two.requiredPerGroup.defined).toBe(true);
  });
  it('adjustComparisons applies an injected correction and skips undefined p-values', () => {
    const cs = [
      compareProportions({ successesA: 50, nA: 1000, successesB: 120, nB: 1000 }),
      compareProportions({ successesA: 0, nA: 10, successesB: 0, nB: 10 }),
      compareProportions({ successesA: 100, nA: 1000, successesB: 120, nB: 1000 }),
    ];
    const bonf = (p: readonly number[]) => p.map((x) => Math.min(1, x * p.length));
    const out = adjustComparisons(cs, bonf);
    expect(out[1]?.adjustedPValue.defined).toBe(false);
    expect(out[0]?.significantAdjusted).toBe(true);
    const p2 = cs[2]?.pValue;
    expect(out[2]?.adjustedPValue).toEqual({ defined: true, value: Math.min(1, (p2?.defined ? p2.value : NaN) * 2) });
  });
});

describe('abtest properties: every p-value lies in [0, 1]', () => {
  const inUnit = (r: StatResult) => {
    if (r.defined) {
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(1);
    }
  };
  it('z-test', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100000 }), fc.integer({ min: 1, max: 100000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (na, nb, fa, fb) => {
        const r = twoProportionZTest({ successesA: Math.floor(fa * na), nA: na, successesB: Math.floor(fb * nb), nB: nb });
        inUnit(r.pValue.twoSided);
        inUnit(r.pValue.greater);
        inUnit(r.pValue.less);
      }),
      { numRuns: 500 },
    );
  });
  it('Welch', () => {
    const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = welchTTest(a, b);
        inUnit(r.pValue.twoSided);
        inUnit(r.pValue.greater);
        inUnit(r.pValue.less);
        if (r.pValue.less.defined && r.pValue.greater.defined) {
          expect(Math.abs(r.pValue.less.value + r.pValue.greater.value - 1)).toBeLessThan(1e-12);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('Welch is invariant to row order', () => {
    const sample = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 30 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r1 = welchTTest(a, b);
        const r2 = welchTTest([...a].reverse(), [...b].reverse());
        expect(r1.t.defined).toBe(r2.t.defined);
        if (r1.pValue.twoSided.defined && r2.pValue.twoSided.defined) {
          expect(Math.abs(r1.pValue.twoSided.value - r2.pValue.twoSided.value)).toBeLessThan(1e-9);
        }
      }),
      { numRuns: 200 },
    );
  });
});
