import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { calibrationCheck, cbpe, estimatePerformance } from './estimate.js';
import { binaryReport } from './classification.js';
import { StatsInputError, type StatResult } from './types.js';
import { mulberry32 } from '../core/random.js';

/** Calibrated synthetic data: p from a skewed mixture, y ~ Bernoulli(p). */
function synth(seed: number, n: number, shift = 0): { p: Float64Array; y: Uint8Array } {
  const r = mulberry32(seed);
  const p = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    const logit = (r() < 0.3 ? 1.5 : -1.2) + 1.6 * (u - 0.5) * 3 + shift;
    p[i] = 1 / (1 + Math.exp(-logit));
    y[i] = r() < (p[i] as number) ? 1 : 0;
  }
  return { p, y };
}

const val = (r: StatResult): number => {
  if (!r.defined) throw new Error(`undefined: ${r.reason}`);
  return r.value;
};

describe('CBPE on calibrated synthetic data', () => {
  for (const [seed, shift] of [
    [1, 0],
    [2, 0.8],
    [3, -1.0],
  ] as const) {
    it(`estimate lands close to the realized metric (seed ${seed}, shift ${shift})`, () => {
      const { p, y } = synth(seed, 20000, shift);
      const est = estimatePerformance(p);
      const real = binaryReport({ yTrue: y, scores: p, threshold: 0.5 });
      expect(Math.abs(val(est.accuracy) - val(real.accuracy))).toBeLessThan(0.015);
      expect(Math.abs(val(est.precision) - val(real.precision))).toBeLessThan(0.02);
      expect(Math.abs(val(est.recall) - val(real.recall))).toBeLessThan(0.02);
      expect(Math.abs(val(est.f1) - val(real.f1))).toBeLessThan(0.02);
      // the expected confusion matrix sums to n
      const c = est.expectedConfusion;
      expect(c.tp + c.fp + c.fn + c.tn).toBeCloseTo(20000, 6);
    });
  }

  it('calibrated reference passes the calibration check; uncalibrated trips the flag', () => {
    const ref = synth(11, 5000);
    const window = synth(12, 5000);
    const ok = cbpe({ scores: window.p, reference: { yTrue: ref.y, scores: ref.p } });
    expect(ok.calibrationFlag).toBe(false);
    expect(val(ok.calibration.ece)).toBeLessThan(0.03);
    expect(ok.calibration.warnings).toEqual([]);

    // Overconfident model: logits ×3 (same ranking, miscalibrated probabilities).
    const sharpen = (q: Float64Array) => q.map((v) => 1 / (1 + Math.exp(-3 * Math.log(v / (1 - v)))));
    const bad = cbpe({ scores: sharpen(window.p), reference: { yTrue: ref.y, scores: sharpen(ref.p) } });
    expect(bad.calibrationFlag).toBe(true);
    expect(val(bad.calibration.ece)).toBeGreaterThan(0.05);
    // ... and indeed its estimate is off.
    const real = binaryReport({ yTrue: window.y, scores: sharpen(window.p) });
    expect(Math.abs(val(bad.estimate.accuracy) - val(real.accuracy))).toBeGreaterThan(0.03);

    // Under-confident (shrunk toward 0.5) also trips the flag.
    const shrink = (q: Float64Array) => q.map((v) => 0.5 + (v - 0.5) * 0.4);
    expect(calibrationCheck({ yTrue: ref.y, scores: shrink(ref.p) }).flagged).toBe(true);
  });

  it('small reference samples carry a warning', () => {
    const ref = synth(5, 200);
    expect(calibrationCheck({ yTrue: ref.y, scores: ref.p }).warnings.length).toBe(1);
  });
});

describe('CBPE edge cases and bad input', () => {
  it('no predicted positives → precision Undefined, not 0', () => {
    const e = estimatePerformance([0.1, 0.2, 0.3]);
    expect(e.precision.defined).toBe(false);
    expect(val(e.recall)).toBe(0);
    expect(val(e.accuracy)).toBeCloseTo(0.8, 15);
  });
  it('all scores 0 → recall and F1 Undefined', () => {
    const e = estimatePerformance([0, 0]);
    expect(e.recall.defined).toBe(false);
    expect(e.f1.defined).toBe(false);
    expect(val(e.accuracy)).toBe(1);
  });
  it('rejects empty input, non-probabilities, bad thresholds', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(StatsInputError);
        return (e as StatsInputError).code;
      }
      return 'none';
    };
    expect(code(() => estimatePerformance([]))).toBe('VIGIL_ERR_STATS_EMPTY');
    expect(code(() => estimatePerformance([0.2, 1.5]))).toBe('VIGIL_ERR_STATS_PROBABILITY_RANGE');
    expect(code(() => estimatePerformance([0.2, NaN]))).toBe('VIGIL_ERR_STATS_NON_FINITE');
    expect(code(() => estimatePerformance([0.2], { threshold: 2 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => calibrationCheck({ yTrue: [0, 1], scores: [0.2] }))).toBe('VIGIL_ERR_STATS_LENGTH_MISMATCH');
    expect(code(() => calibrationCheck({ yTrue: [0, 1], scores: [0.2, 0.3] }, { maxEce: 0 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
  });
  it('estimated metrics lie in [0,1] and do not depend on row order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }), (s) => {
        const a = estimatePerformance(s);
        const b = estimatePerformance([...s].reverse());
        for (const k of ['accuracy', 'precision', 'recall', 'f1'] as const) {
          const x = a[k];
          const y = b[k];
          expect(x.defined).toBe(y.defined);
          if (x.defined && y.defined) {
            expect(x.value).toBeGreaterThanOrEqual(0);
            expect(x.value).toBeLessThanOrEqual(1 + 1e-12);
            expect(Math.abs(x.value - y.value)).toBeLessThan(1e-9);
          }
        }
      }),
    );
  });
});

describe('estimatePerformance with the posted predictions', () => {
  it('takes the predicted class as posted (NannyML reads y_pred), not re-derived from the score', () => {
    // a model whose posted class disagrees with score >= 0.5 on two rows
    const scores = [0.9, 0.8, 0.3, 0.2, 0.6, 0.4];
    const posted = [true, true, false, false, false, true];
    const e = estimatePerformance(scores, { predictedPositive: posted });
    // predicted positive: 0.9, 0.8, 0.4 -> E[TP] = 2.1, E[FP] = 0.9; negative: 0.3, 0.2, 0.6 -> E[FN] = 1.1, E[TN] = 1.9
    expect(e.expectedConfusion.tp).toBeCloseTo(2.1, 12);
    expect(e.expectedConfusion.fp).toBeCloseTo(0.9, 12);
    expect(e.expectedConfusion.fn).toBeCloseTo(1.1, 12);
    expect(e.expectedConfusion.tn).toBeCloseTo(1.9, 12);
    const val = (r: typeof e.accuracy): number => (r.defined ? r.value : NaN);
    expect(val(e.accuracy)).toBeCloseTo(4 / 6, 12);
    const byScore = estimatePerformance(scores);
    expect(val(byScore.accuracy)).not.toBeCloseTo(val(e.accuracy), 6);
    expect(() => estimatePerformance(scores, { predictedPositive: [true] })).toThrow(/6 scores but 1 predictions/);
  });
});
