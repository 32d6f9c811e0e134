import { describe, expect, it } from 'vitest';
import { cbpeCase, cbpeFixture } from '../../test/fixtures/cbpe-nannyml.js';
import { binIndexEdges, equalCountEce, fitCbpeCalibration, needsCalibration } from './cbpe-calibration.js';
import { estimatePerformance } from './estimate.js';
import { predictIsotonic } from './isotonic.js';
import { LegacyRandomState } from './numpy-random.js';
import { argsortHeap, argsortQuick } from './numpy-sort.js';
import { stratifiedShuffleSplit } from './stratified-split.js';
import { StatsInputError } from './types.js';


const value = (r: { defined: boolean; value?: number }): number => (r.defined ? (r.value as number) : NaN);

describe("numpy's legacy RandomState, as StratifiedShuffleSplit draws from it", () => {
  it('MT19937 seeded with 42 gives the reference outputs', () => {
    const r = new LegacyRandomState(42);
    // np.random.RandomState(42).randint(0, 2**32, 5, dtype=np.uint64): the raw 32-bit outputs
    expect(Array.from({ length: 5 }, () => r.nextUint32())).toEqual(cbpeFixture.mt42);
    expect(cbpeFixture.mt42[0]).toBe(1608637542);
  });
  it('permutation(n) is numpy’s for n = 1, 2, 10 and 1000', () => {
    for (const [n, perm] of Object.entries(cbpeFixture.permutations)) {
      expect(Array.from(new LegacyRandomState(42).permutation(Number(n))), `n=${n}`).toEqual(perm);
    }
  });
  it('refuses a seed numpy refuses', () => {
    expect(() => new LegacyRandomState(-1)).toThrow(/between 0 and 2\*\*32 - 1/);
    expect(() => new LegacyRandomState(2 ** 32)).toThrow(RangeError);
  });
});

describe("scikit-learn's StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)", () => {
  it('gives the same train and test rows in the same order', () => {
    for (const { y, splits } of cbpeFixture.splits) {
      const mine = stratifiedShuffleSplit(y, { nSplits: 10, testSize: 0.1, randomState: 42 });
      expect(mine.length).toBe(10);
      mine.forEach((s, k) => {
        expect(Array.from(s.train), `n=${y.length} split ${k} train`).toEqual(splits[k]?.train);
        expect(Array.from(s.test), `n=${y.length} split ${k} test`).toEqual(splits[k]?.test);
      });
    }
  });
  it('refuses what scikit-learn refuses, with its message', () => {
    expect(() => stratifiedShuffleSplit([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], { nSplits: 1, testSize: 0.1, randomState: 42 })).toThrow(/least populated class in y has only 1 member/);
    expect(() => stratifiedShuffleSplit([0, 1, 0, 1], { nSplits: 1, testSize: 0.1, randomState: 42 })).toThrow(/test_size = 1 should be greater or equal to the number of classes = 2/);
  });
});

describe("numpy's argsort", () => {
  it('argsort puts tied values in numpy’s order', () => {
    for (const { values, order } of cbpeFixture.argsorts) expect(Array.from(argsortQuick(values))).toEqual(order);
  });
  it('argsort sorts a sawtooth of equal runs', () => {
    const v = Float64Array.from({ length: 5000 }, (_, i) => (i * 7919) % 13);
    const o = argsortQuick(v);
    for (let i = 1; i < o.length; i++) expect(v[o[i] as number]).toBeGreaterThanOrEqual(v[o[i - 1] as number] as number);
    expect(new Set(o).size).toBe(5000);
  });
  it('its heapsort (the fallback past 2·log2(n) levels) is numpy’s argsort(kind="heapsort")', () => {
    for (const { values, heap } of cbpeFixture.argsorts) expect(Array.from(argsortHeap(values))).toEqual(heap);
  });
});

describe("NannyML's needs_calibration and CBPE estimate (test/fixtures/cbpe-nannyml.json)", () => {
  for (const c of cbpeFixture.cases) {
    it(`${c.name}: the same decision, errors, calibrator and estimates`, () => {
      const d = needsCalibration(c.refY, c.refScores);
      expect(d.needed).toBe(c.needed);
      if (c.reason === null) {
        expect(d.reason).toBeUndefined();
        if (d.reason === undefined) {
          expect(d.eceBefore).toBe(c.eceBefore);
          expect(d.eceAfter).toBe(c.eceAfter);
        }
      } else expect(d.reason).toBe(c.reason === 'auc' ? 'separable' : c.reason);

      const cal = fitCbpeCalibration(c.refY, c.refScores);
      const posted = c.curPred.map((p) => p === 1);
      const raw = estimatePerformance(c.curScores, { predictedPositive: posted });
      expect(value(raw.accuracy)).toBeCloseTo(c.raw.accuracy, 12);
      if (c.needed) {
        const fit = cal.fit!;
        expect(Array.from(fit.x)).toEqual(c.thresholdsX);
        expect(Array.from(fit.y)).toEqual(c.thresholdsY);
        const e = estimatePerformance(
          c.curScores.map((s) => predictIsotonic(fit, s)),
          { predictedPositive: posted },
        );
        for (const k of ['accuracy', 'precision', 'recall', 'f1'] as const) expect(value(e[k]), k).toBeCloseTo(c.calibrated![k], 12);
      }
    });
  }

  it('on the over-confident model the calibrated estimate lands on the realised accuracy; the raw one does not', () => {
    const c = cbpeCase('overconfident_x3');
    expect(c.needed).toBe(true);
    expect(Math.abs(c.calibrated!.accuracy - c.realizedAccuracy!)).toBeLessThan(0.005);
    expect(c.raw.accuracy - c.realizedAccuracy!).toBeGreaterThan(0.1);
  });

  it('bins as NannyML: n/bin_count rows, the last bin taking the rest; n/2 bins when n ≤ 2·bin_count', () => {
    expect(binIndexEdges(20, 4)).toEqual([
      [0, 5],
      [5, 10],
      [10, 15],
      [15, 20],
    ]);
    expect(binIndexEdges(105, 10).at(-1)).toEqual([90, 105]);
    expect(binIndexEdges(12, 10)).toHaveLength(6);
    expect(() => binIndexEdges(3, 10)).toThrow(StatsInputError);
    // a perfectly calibrated pair of bins has no error
    expect(equalCountEce([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5], binIndexEdges(4, 2))).toBe(0);
  });

  it('bad input is refused with its field named', () => {
    expect(() => needsCalibration([0, 1], [0.2])).toThrow(/2 labels but 1 scores/);
    expect(() => needsCalibration([0, 2], [0.2, 0.3])).toThrow(/label 1 is 2/);
    expect(() => needsCalibration([0, 1], [0.2, NaN])).toThrow(/score 1 is not finite/);
  });
});
