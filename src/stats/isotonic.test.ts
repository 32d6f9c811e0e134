import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitIsotonic, predictIsotonic } from './isotonic.js';

/** scikit-learn 1.2.1's IsotonicRegression(out_of_bounds="clip") on the same data (test/fixtures/isotonic-sklearn.py). */
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/isotonic-sklearn.json', import.meta.url), 'utf8')) as {
  sklearn: string;
  cases: { name: string; x: number[]; y: number[]; thresholdsX: number[]; thresholdsY: number[]; t: number[]; predicted: number[] }[];
};

describe('isotonic regression as scikit-learn fits and predicts it', () => {
  it('the fixture was made by scikit-learn and covers ties, near-ties, a constant score, one class, an over-confident model', () => {
    expect(fixture.sklearn).toBe('1.2.1');
    expect(fixture.cases.map((c) => c.name)).toEqual(expect.arrayContaining(['near_ties', 'constant_score', 'single_class', 'ties_2000', 'overconfident_3000']));
  });
  for (const c of fixture.cases) {
    it(`${c.name}: the same thresholds and predictions, to the last bit`, () => {
      const f = fitIsotonic(c.x, c.y);
      expect(Array.from(f.x)).toEqual(c.thresholdsX);
      expect(Array.from(f.y)).toEqual(c.thresholdsY);
      const got = c.t.map((t) => predictIsotonic(f, t));
      expect(got).toEqual(c.predicted);
    });
  }
  it('refuses what it cannot fit, naming why', () => {
    expect(() => fitIsotonic([], [])).toThrow(/at least one point/);
    expect(() => fitIsotonic([0.1, NaN], [0, 1])).toThrow(/point 1 is not finite/);
    expect(() => fitIsotonic([0.1], [0, 1])).toThrow(/x has 1 values, y 2/);
  });
});
