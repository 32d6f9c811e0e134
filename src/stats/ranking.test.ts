import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { averagePrecision, npSum, rankingMetrics, rocAuc } from './ranking.js';
import { StatsInputError } from './types.js';

describe('ranking metrics', () => {
  it('scikit-learn docstring example', () => {
    const y = [0, 0, 1, 1];
    const s = [0.1, 0.4, 0.35, 0.8];
    expect(rocAuc(y, s)).toEqual({ defined: true, value: 0.75 });
    const ap = averagePrecision(y, s);
    expect(ap.defined && ap.value).toBeCloseTo(0.8333333333333333, 15);
  });
  it('ties share one threshold (AP is not interpolated)', () => {
    // all scores tied: one threshold, precision = prevalence, recall 0 → 1
    expect(averagePrecision([0, 1, 0, 1, 1], [0.5, 0.5, 0.5, 0.5, 0.5])).toEqual({ defined: true, value: 0.6 });
    expect(rocAuc([0, 1, 0, 1, 1], [0.5, 0.5, 0.5, 0.5, 0.5])).toEqual({ defined: true, value: 0.5 });
  });
  it('string labels with an explicit positive label; Float64Array scores', () => {
    const r = rocAuc(['no', 'yes', 'no', 'yes'], Float64Array.from([0.2, 0.9, 0.4, 0.3]), { positiveLabel: 'yes' });
    expect(r).toEqual({ defined: true, value: 0.75 });
  });
  it('one class: AUC Undefined with scikit-learn reason; AP -0 with warning when no positives', () => {
    const r = rocAuc([1, 1], [0.2, 0.3]);
    expect(r.defined).toBe(false);
    if (!r.defined) expect(r.reason).toMatch(/Only one class present in y_true/);
    const ap = averagePrecision([0, 0], [0.2, 0.3]);
    expect(ap.defined && Object.is(ap.value, -0)).toBe(true);
    expect(ap.defined && ap.warnings?.[0]).toMatch(/No positive class found/);
  });
  it('does not mutate the caller arrays', () => {
    const s = Float64Array.from({ length: 5000 }, (_, i) => ((i * 37) % 101) / 101);
    const y = Uint8Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const s0 = s.slice();
    rankingMetrics(y, s);
    expect(s).toEqual(s0);
  });
  it('three classes are an input error', () => {
    expect(() => rocAuc([0, 1, 2], [0.1, 0.2, 0.3])).toThrow(StatsInputError);
  });
  it('rankingMetrics equals the separate functions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 50 }),
        (rows) => {
          const y = rows.map((r) => r[0]);
          const s = rows.map((r) => r[1]);
          const m = rankingMetrics(y, s);
          expect(m.rocAuc).toEqual(rocAuc(y, s));
          expect(m.averagePrecision).toEqual(averagePrecision(y, s));
        },
      ),
    );
  });
});

describe('npSum reproduces numpy pairwise summation', () => {
  it('known numpy results', () => {
    // numpy: np.sum(np.full(10, 0.1)) == 1.0, while left-to-right summation gives 0.9999999999999999
    expect(npSum(new Array<number>(10).fill(0.1))).toBe(1);
    expect(new Array<number>(10).fill(0.1).reduce((a, b) => a + b, 0)).toBe(0.9999999999999999);
    expect(npSum([])).toBe(0);
    expect(npSum([1, 2, 3])).toBe(6);
  });
  it('agrees with an exact sum to within pairwise error on large arrays', () => {
    const a = Float64Array.from({ length: 10007 }, (_, i) => ((i * 7919) % 1000) / 997);
    let exact = 0;
    for (const v of a) exact += v; // small error at this size, only a sanity bound
    expect(Math.abs(npSum(a) - exact)).toBeLessThan(1e-9);
  });
});
