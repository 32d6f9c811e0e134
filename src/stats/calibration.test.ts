import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { binIndex, calibrationReport, expectedCalibrationError } from './calibration.js';
import { StatsInputError } from './types.js';

describe('calibration binning', () => {
  it('equal-width bins [b/10, (b+1)/10), last bin closed, exact at the edges', () => {
    for (let b = 0; b < 10; b++) {
      expect(binIndex(b / 10, 10)).toBe(b);
      if (b > 0) expect(binIndex(b / 10 - 1e-12, 10)).toBe(b - 1);
    }
    expect(binIndex(0, 10)).toBe(0);
    expect(binIndex(1, 10)).toBe(9);
    expect(binIndex(0.3, 10)).toBe(3); // 0.3·10 = 3.0000000000000004
    expect(binIndex(0.7, 10)).toBe(7);
    expect(binIndex(0.5, 4)).toBe(2);
  });
});

describe('expected calibration error', () => {
  it('hand-computed example', () => {
    const r = calibrationReport([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]);
    // bin 1: mean p 0.1, positives 0.5 → gap 0.4, weight 1/2; bin 9: 0.9 vs 1 → gap 0.1, weight 1/2
    expect(r.ece.defined && r.ece.value).toBeCloseTo(0.25, 15);
    expect(r.mce.defined && r.mce.value).toBeCloseTo(0.4, 15);
    expect(r.bins.map((b) => b.count)).toEqual([0, 2, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(Number.isNaN(r.bins[0]?.meanPredicted)).toBe(true);
  });
  it('perfectly calibrated bins give 0', () => {
    expect(expectedCalibrationError([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toEqual({ defined: true, value: 0 });
  });
  it('string positive label and custom bin count', () => {
    const r = expectedCalibrationError(['n', 'y'], [0.2, 0.8], { positiveLabel: 'y', nBins: 2 });
    expect(r.defined && r.value).toBeCloseTo(0.2, 15);
  });
  it('bad input', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(StatsInputError);
        return (e as StatsInputError).code;
      }
      return 'none';
    };
    expect(code(() => expectedCalibrationError([], []))).toBe('VIGIL_ERR_STATS_EMPTY');
    expect(code(() => expectedCalibrationError([0, 1], [0.5]))).toBe('VIGIL_ERR_STATS_LENGTH_MISMATCH');
    expect(code(() => expectedCalibrationError([0, 1], [0.5, 1.01]))).toBe('VIGIL_ERR_STATS_PROBABILITY_RANGE');
    expect(code(() => expectedCalibrationError([0, 1], [0.5, NaN]))).toBe('VIGIL_ERR_STATS_NON_FINITE');
    expect(code(() => expectedCalibrationError([0, 1], [0.5, 0.5], { nBins: 0 }))).toBe('VIGIL_ERR_STATS_BAD_PARAM');
    expect(code(() => expectedCalibrationError([0, 1, 2], [0.5, 0.5, 0.1]))).toBe('VIGIL_ERR_STATS_NOT_BINARY');
  });
  it('properties: 0 <= ECE <= MCE <= 1 and order invariance', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 80 }),
        (rows) => {
          const a = calibrationReport(rows.map((r) => r[0]), rows.map((r) => r[1]));
          const rev = [...rows].reverse();
          const b = calibrationReport(rev.map((r) => r[0]), rev.map((r) => r[1]));
          if (!a.ece.defined || !a.mce.defined || !b.ece.defined) throw new Error('undefined');
          expect(a.ece.value).toBeGreaterThanOrEqual(0);
          expect(a.ece.value).toBeLessThanOrEqual(a.mce.value + 1e-12);
          expect(a.mce.value).toBeLessThanOrEqual(1);
          expect(Math.abs(a.ece.value - b.ece.value)).toBeLessThan(1e-12);
          expect(a.bins.reduce((s, x) => s + x.count, 0)).toBe(rows.length);
        },
      ),
    );
  });
});
