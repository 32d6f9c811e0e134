import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { categoricalOutcomes, decideDrift, numericOutcomes, DEFAULT_THRESHOLDS, type TestOutcome } from './drift-decision.js';
import { summarizeCategorical, summarizeNumeric } from './reference.js';
import { StatsInputError } from './types.js';
import { seededNormals } from '../core/random.js';

const normals = seededNormals;

describe('drift decisions on numeric features', () => {
  const ref = summarizeNumeric(normals(100_000, 0, 1, 1));
  it('a trivial shift on 100k rows is significant but stable (effect-size gate)', () => {
    const outs = numericOutcomes('x', ref, normals(100_000, 0.03, 1, 2), ['ks', 'psi', 'jsd', 'wasserstein']);
    const rep = decideDrift(outs);
    const ks = rep.decisions.find((d) => d.test === 'ks');
    expect(ks?.pValue).toBeLessThan(0.05);
    expect(ks?.adjustedPValue).toBeLessThan(0.05);
    expect(ks?.status).toBe('stable');
    for (const d of rep.decisions) expect(d.status, d.test).toBe('stable');
    expect(rep.summary.driftDetected).toBe(false);
    expect(rep.summary.severity).toBe('none');
  });
  it('a 0.75-SD shift is drift on every test', () => {
    const rep = decideDrift(numericOutcomes('x', ref, normals(20_000, 0.75, 1, 3), ['ks', 'psi', 'jsd', 'wasserstein']));
    for (const d of rep.decisions) expect(d.status, `${d.test} ${d.reason}`).toBe('drift');
    expect(rep.summary.featuresDrifted).toBe(1);
    expect(rep.summary.driftedFeatures).toEqual(['x']);
    expect(rep.decisions[0]?.action).toMatch(/Investigate x/);
  });
  it('no shift is stable', () => {
    const rep = decideDrift(numericOutcomes('x', ref, normals(5000, 0, 1, 4), ['ks', 'psi', 'jsd', 'wasserstein']));
    for (const d of rep.decisions) expect(d.status, `${d.test} ${d.reason}`).toBe('stable');
  });
  it('few rows or all-NaN current -> insufficient_data', () => {
    const few = decideDrift(numericOutcomes('x', ref, normals(10, 3, 1, 5), ['ks', 'psi']));
    for (const d of few.decisions) expect(d.status).toBe('insufficient_data');
    const nan = decideDrift(numericOutcomes('x', ref, [NaN, NaN], ['ks', 'wasserstein']));
    for (const d of nan.decisions) {
      expect(d.status).toBe('insufficient_data');
      expect(d.action).toMatch(/Collect more data/);
    }
    expect(nan.summary.featuresInsufficient).toBe(1);
  });
  it('chi2 is skipped for numeric features, ks for categorical ones', () => {
    expect(numericOutcomes('x', ref, [1, 2, 3], ['chi2']).length).toBe(0);
    expect(categoricalOutcomes('c', summarizeCategorical(['a']), ['a'], ['ks']).length).toBe(0);
  });
});

describe('drift decisions on categorical features', () => {
  const refLabels = Array.from({ length: 5000 }, (_, i) => ['a', 'b', 'c'][i % 3] as string);
  const ref = summarizeCategorical(refLabels);
  it('new categories are reported in the action and move TVD', () => {
    const cur = [...refLabels.slice(0, 900), ...Array.from({ length: 150 }, () => 'zzz')];
    const rep = decideDrift(categoricalOutcomes('c', ref, cur, ['chi2', 'psi', 'jsd']));
    const chi = rep.decisions.find((d) => d.test === 'chi2');
    expect(chi?.unseenShare).toBeCloseTo(150 / 1050, 12);
    expect(chi?.status).toBe('drift');
    expect(chi?.action).toMatch(/14\.3% of current rows are in categories unseen/);
  });
  it('same proportions -> stable', () => {
    const rep = decideDrift(categoricalOutcomes('c', ref, refLabels.slice(0, 3000), ['chi2', 'psi', 'jsd']));
    for (const d of rep.decisions) expect(d.status).toBe('stable');
  });
});

describe('decideDrift mechanics', () => {
  const o = (feature: string, p: number, d: number): TestOutcome => ({
    feature,
    featureType: 'numeric',
    test: 'ks',
    statistic: d,
    pValue: p,
    effectSize: d,
    effectName: 'D',
    nReference: 1000,
    nCurrent: 1000,
  });
  it('BH-adjusts p-values across features; adjusted >= raw and monotone', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 30 }), (xs) => {
        const rep = decideDrift(xs.map(([p, d], k) => o(`f${k}`, p, d)));
        const pairs = rep.decisions.map((d) => [d.pValue as number, d.adjustedPValue as number] as const).sort((a, b) => a[0] - b[0]);
        for (let i = 0; i < pairs.length; i++) {
          const [raw, adj] = pairs[i] as readonly [number, number];
          expect(adj).toBeGreaterThanOrEqual(raw);
          expect(adj).toBeLessThanOrEqual(1);
          if (i > 0) expect(adj).toBeGreaterThanOrEqual((pairs[i - 1] as readonly [number, number])[1]);
        }
        for (const d of rep.decisions) {
          if (d.status === 'drift') {
            expect(d.effectSize).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.ksDriftD);
            expect(d.adjustedPValue).toBeLessThan(0.05);
          }
        }
      }),
    );
  });
  it('a large D that is not significant after BH stays stable', () => {
    const rep = decideDrift([o('a', 0.04, 0.5), o('b', 0.5, 0.01), o('c', 0.9, 0.01)]);
    expect(rep.decisions[0]?.adjustedPValue).toBeCloseTo(0.12, 12);
    expect(rep.decisions[0]?.status).toBe('stable');
  });
  it('severity levels and thresholds override', () => {
    const rep = decideDrift([o('a', 1e-9, 0.3), o('b', 1e-9, 0.12), o('c', 1e-9, 0.06)]);
    expect(rep.decisions.map((d) => [d.status, d.severity])).toEqual([
      ['drift', 'high'],
      ['drift', 'medium'],
      ['moderate', 'low'],
    ]);
    expect(rep.summary.severity).toBe('high');
    const strict = decideDrift([o('c', 1e-9, 0.06)], { ksDriftD: 0.05 });
    expect(strict.decisions[0]?.status).toBe('drift');
    expect(() => decideDrift([], { alpha: 2 })).toThrow(StatsInputError);
    expect(() => decideDrift([], { ksDriftD: NaN })).toThrow(StatsInputError);
    expect(decideDrift([]).summary.featuresTested).toBe(0);
  });
});

describe('JSD bias correction', () => {
  it('identical distributions on 1,000-row windows are not flagged by JSD', async () => {
    const { jsdBiasCorrected } = await import('./drift-decision.js');
    expect(jsdBiasCorrected(0.057, 10, 1000, 1000)).toBeLessThan(0.01);
    expect(jsdBiasCorrected(0.3, 10, 1e6, 1e6)).toBeCloseTo(0.3, 4);
    let flagged = 0;
    for (let s = 0; s < 20; s++) {
      const ref = summarizeNumeric(normals(1000, 0, 1, 100 + s));
      const rep = decideDrift(numericOutcomes('x', ref, normals(1000, 0, 1, 200 + s), ['jsd']));
      if (rep.decisions[0]?.status !== 'stable') flagged++;
    }
    expect(flagged).toBeLessThanOrEqual(2);
  });
});
