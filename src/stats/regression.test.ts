import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  medianAbsoluteError,
  r2Score,
  regressionReport,
  rootMeanSquaredError,
} from './regression.js';
import { StatsInputError, type StatResult } from './types.js';

interface Case {
  name: string;
  inputs: { y_true: number[]; y_pred: number[] };
  expected: Record<string, number | string>;
  warnings?: Record<string, string[]>;
}
const file = JSON.parse(readFileSync(new URL('../../test/fixtures/vectors/regression.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};
const num = (v: number | string): number => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));

function check(r: StatResult, expRaw: number | string, warnings: string[] | undefined, what: string) {
  const exp = num(expRaw);
  if (Number.isNaN(exp)) {
    expect(r.defined, `${what}: NaN in sklearn → Undefined`).toBe(false);
    if (!r.defined && warnings?.[0]?.startsWith('UndefinedMetricWarning')) expect(r.reason).toBe(warnings[0]);
    return;
  }
  expect(r.defined, what).toBe(true);
  if (!r.defined) return;
  if (!Number.isFinite(exp)) expect(r.value).toBe(exp);
  else {
    const ok = r.value === exp || Math.abs(r.value - exp) <= 1e-12 * Math.abs(exp) + 1e-15;
    if (!ok) expect.fail(`${what}: got ${r.value}, expected ${exp}`);
  }
  expect([...(r.warnings ?? [])], `${what} warnings`).toEqual(warnings ?? []);
}

describe('regression vectors (scikit-learn 1.2.1)', () => {
  expect(file.cases.length).toBe(10);
  for (const c of file.cases) {
    it(c.name, () => {
      const { y_true: t, y_pred: p } = c.inputs;
      const W = c.warnings ?? {};
      const fns: Record<string, () => StatResult> = {
        mae: () => meanAbsoluteError(t, p),
        mse: () => meanSquaredError(t, p),
        rmse: () => rootMeanSquaredError(t, p),
        mape: () => meanAbsolutePercentageError(t, p),
        r2: () => r2Score(t, p),
        r2_force_finite_false: () => r2Score(t, p, { forceFinite: false }),
        median_absolute_error: () => medianAbsoluteError(t, p),
      };
      for (const [k, v] of Object.entries(c.expected)) {
        const fn = fns[k];
        if (!fn) expect.fail(`unhandled key ${k}`);
        else check(fn(), v, W[k], k);
      }
      const rep = regressionReport({ yTrue: t, yPred: p });
      check(rep.mae, c.expected.mae as number, undefined, 'report.mae');
      check(rep.mse, c.expected.mse as number, undefined, 'report.mse');
      check(rep.rmse, c.expected.rmse as number, undefined, 'report.rmse');
      check(rep.mape, c.expected.mape as number, undefined, 'report.mape');
      check(rep.r2, c.expected.r2 as number, W.r2, 'report.r2');
      check(rep.medianAbsoluteError, c.expected.median_absolute_error as number, undefined, 'report.medae');
    });
  }
});

describe('regression: bad input', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(StatsInputError);
      return (e as StatsInputError).code;
    }
    return 'no error';
  };
  it('rejects empty, mismatched and non-finite input', () => {
    expect(code(() => meanAbsoluteError([], []))).toBe('VIGIL_ERR_STATS_EMPTY');
    expect(code(() => r2Score([1, 2], [1]))).toBe('VIGIL_ERR_STATS_LENGTH_MISMATCH');
    expect(code(() => meanSquaredError([1, NaN], [1, 2]))).toBe('VIGIL_ERR_STATS_NON_FINITE');
    expect(code(() => regressionReport({ yTrue: [1, 2], yPred: [Infinity, 2] }))).toBe('VIGIL_ERR_STATS_NON_FINITE');
    expect(code(() => medianAbsoluteError([1, -Infinity], [1, 2]))).toBe('VIGIL_ERR_STATS_NON_FINITE');
  });
  it('one element: errors defined, R² Undefined', () => {
    const r = regressionReport({ yTrue: [3], yPred: [2] });
    expect(r.mae).toEqual({ defined: true, value: 1 });
    expect(r.r2.defined).toBe(false);
  });
});

describe('regression properties', () => {
  const pairs = fc.array(
    fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    { minLength: 1, maxLength: 50 },
  );
  it('invariant to row order (up to summation rounding) and errors are non-negative', () => {
    fc.assert(
      fc.property(pairs, (ps) => {
        const a = regressionReport({ yTrue: ps.map((x) => x[0]), yPred: ps.map((x) => x[1]) });
        const rev = [...ps].reverse();
        const b = regressionReport({ yTrue: rev.map((x) => x[0]), yPred: rev.map((x) => x[1]) });
        for (const k of ['mae', 'mse', 'rmse', 'medianAbsoluteError'] as const) {
          const x = a[k];
          const y = b[k];
          expect(x.defined && y.defined).toBe(true);
          if (x.defined && y.defined) {
            expect(x.value).toBeGreaterThanOrEqual(0);
            expect(Math.abs(x.value - y.value)).toBeLessThanOrEqual(1e-9 * Math.max(1, x.value));
          }
        }
        expect(a.r2.defined).toBe(ps.length >= 2);
        if (a.r2.defined) expect(a.r2.value).toBeLessThanOrEqual(1);
      }),
    );
  });
});
