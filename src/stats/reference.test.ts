import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  summarizeNumeric,
  summarizeCategorical,
  referenceToJSON,
  referenceFromJSON,
  referenceMemoryBytes,
  ksAgainstReference,
  psiAgainstReference,
  jsdAgainstReference,
  wassersteinAgainstReference,
  chi2AgainstReference,
  psiCategoricalAgainstReference,
  jsdCategoricalAgainstReference,
  prepareCurrent,
  limitReferencePoints,
  sketchSorted,
  type NumericReferenceSummary,
} from './reference.js';
import { ks2samp } from './ks.js';
import { psi } from './psi.js';
import { jensenShannonSamples } from './jsd.js';
import { wasserstein } from './wasserstein.js';
import { chi2Categorical } from './chi2.js';
import { StatsInputError } from './types.js';

const load = <T>(f: string): T => JSON.parse(readFileSync(new URL(`../../test/fixtures/vectors/${f}`, import.meta.url), 'utf8')) as T;
const psiCases = load<{ cases: { name: string; inputs: { reference: number[]; current: number[] }; expected: Record<string, { psi: number }> }[] }>('psi.json').cases;
const ksCases = load<{ cases: { name: string; inputs: { data1: number[]; data2: number[] } }[] }>('ks.json').cases;

describe('comparisons against an exact reference summary equal the direct functions', () => {
  it('PSI (all binnings) on psi.json', () => {
    for (const c of psiCases) {
      const ref = summarizeNumeric(c.inputs.reference);
      const cur = prepareCurrent(c.inputs.current);
      for (const binning of ['quantile', 'quantile_right_closed', 'equal_width'] as const) {
        const a = psiAgainstReference(ref, cur, { binning });
        const b = psi(c.inputs.reference, c.inputs.current, { binning });
        expect(a.refCounts, `${c.name} ${binning}`).toEqual(b.refCounts);
        expect(a.curCounts).toEqual(b.curCounts);
        expect(a.edges).toEqual(b.edges);
        expect(a.psi).toBe(b.psi);
        expect(Math.abs(a.psi - (c.expected[binning] as { psi: number }).psi)).toBeLessThanOrEqual(1e-12 * Math.abs(a.psi) + 1e-300);
      }
      const j = jsdAgainstReference(ref, c.inputs.current);
      expect(j.distance).toBe(jensenShannonSamples(c.inputs.reference, c.inputs.current).distance);
      expect(wassersteinAgainstReference(ref, c.inputs.current)).toBe(wasserstein(c.inputs.reference, c.inputs.current).distance);
    }
  });
  it('KS on ks.json (all alternatives, auto)', () => {
    for (const c of ksCases) {
      const ref = summarizeNumeric(c.inputs.data1);
      for (const alternative of ['two-sided', 'less', 'greater'] as const) {
        const a = ksAgainstReference(ref, c.inputs.data2, { alternative });
        const b = ks2samp(c.inputs.data1, c.inputs.data2, { alternative });
        expect(a.statistic, c.name).toBe(b.statistic);
        expect(a.pvalue, c.name).toBe(b.pvalue);
        expect(a.statisticLocation).toBe(b.statisticLocation);
      }
    }
  });
  it('categorical chi2 / PSI / JSD', () => {
    const ref = summarizeCategorical(['a', 'a', 'b', null, 'c', '']);
    expect(ref.count).toBe(4);
    expect(ref.missing).toBe(2);
    expect(ref.counts).toEqual({ a: 2, b: 1, c: 1 });
    const r = chi2AgainstReference(ref, ['a', 'b', 'b', 'd', undefined]);
    const direct = chi2Categorical({ a: 2, b: 1, c: 1 }, { a: 1, b: 2, d: 1 });
    expect(r.defined && direct.defined && r.statistic === direct.statistic).toBe(true);
    expect(r.missing).toBe(1);
    expect(r.unseenShare).toBe(0.25);
    expect(psiCategoricalAgainstReference(ref, { a: 2, b: 1, c: 1 }).psi).toBe(0);
    expect(jsdCategoricalAgainstReference(ref, { a: 20, b: 10, c: 10 })).toBe(0);
  });
});

describe('summary serialisation and sketch', () => {
  it('JSON round trip is lossless and reusable', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e300, max: 1e300 }), { minLength: 1, maxLength: 200 }), fc.array(fc.double({ noNaN: true, min: -1e3, max: 1e3 }), { minLength: 1, maxLength: 50 }), (a, b) => {
          const s = summarizeNumeric(a);
          const text = JSON.stringify(referenceToJSON(s));
          expect(text).not.toContain('sorted"'); // the values are stored apart
          const back = referenceFromJSON(text, Float64Array.from(s.sorted)) as NumericReferenceSummary;
          expect(Array.from(back.sorted)).toEqual(Array.from(s.sorted));
          // JSON has no -0 (it reads back as 0); as a bin edge -0 and 0 are the same value
          const plain = (xs: readonly number[]): number[] => xs.map((x) => x + 0);
          expect(plain(back.quantileEdges)).toEqual(plain(s.quantileEdges));
          expect(ksAgainstReference(back, b).pvalue).toBe(ksAgainstReference(s, b).pvalue);
          expect(psiAgainstReference(back, b).psi).toBe(psiAgainstReference(s, b).psi);
        },
      ),
      { numRuns: 50 },
    );
    const cat = summarizeCategorical({ x: 3, y: 0, z: 1 });
    expect(referenceFromJSON(JSON.stringify(referenceToJSON(cat)))).toEqual(cat);
  });
  it('rejects corrupt summaries', () => {
    expect(() => referenceFromJSON('{"kind":"numeric","version":1}')).toThrow(StatsInputError);
    expect(() => referenceFromJSON({ kind: 'x', version: 1 })).toThrow(StatsInputError);
    expect(() => referenceFromJSON({ kind: 'numeric', version: 99 })).toThrow(StatsInputError);
    const s = referenceToJSON(summarizeNumeric([3, 2, 1]));
    expect(() => referenceFromJSON(s)).toThrowError(/sorted values missing/);
    expect(() => referenceFromJSON(s, new Float64Array([3, 2, 1]))).toThrowError(/ascending/);
    expect(() => referenceFromJSON(s, new Float64Array([1, NaN, 3]))).toThrowError(/finite/);
    expect(() => referenceFromJSON(s, new Float64Array([1, 2]))).toThrowError(/2 sorted values for a count of 3 \(exact\)/);
    const sorted = new Float64Array([1, 2, 3]);
    expect((referenceFromJSON(s, sorted) as NumericReferenceSummary).sorted).toBe(sorted); // kept, not copied
  });
  it('large references become a quantile sketch with full-reference PSI edges', () => {
    const n = 10_000;
    const vals = Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);
    const s = summarizeNumeric(vals, { maxExact: 1000 });
    expect(s.exact).toBe(false);
    expect(s.sorted.length).toBe(1000);
    expect(s.count).toBe(n);
    expect(s.quantileRefCounts.reduce((x, y) => x + y, 0)).toBe(n);
    expect(s.quantileEdges).toEqual(summarizeNumeric(vals).quantileEdges);
    // ECDF of the sketch is within 1/k of the full reference
    const full = ksAgainstReference(summarizeNumeric(vals), s.sorted);
    expect(full.statistic).toBeLessThanOrEqual(1 / 1000 + 1e-12);
    expect(referenceMemoryBytes(s)).toBeLessThan(9000 + 1000);
  });
  it('a summary limited to k points is the summary made with maxExact k (exact values copied up to k)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -5, max: 5 })), { minLength: 2, maxLength: 400 }),
        fc.integer({ min: 2, max: 450 }),
        (vals, k) => {
          const full = summarizeNumeric(vals);
          const allocated: number[] = [];
          const limited = limitReferencePoints(full, k, (n) => {
            allocated.push(n);
            return new Float64Array(n);
          });
          const direct = summarizeNumeric(vals, { maxExact: k });
          expect(allocated).toEqual([Math.min(k, vals.length)]);
          expect(limited.sorted).not.toBe(full.sorted); // always the caller's memory
          expect(Array.from(limited.sorted)).toEqual(Array.from(direct.sorted));
          expect({ ...limited, sorted: null }).toEqual({ ...direct, sorted: null });
        },
      ),
      { numRuns: 300 },
    );
  });
  it("a sketch's ECDF is within 1/(2k) of the values' everywhere, and a sketch of a sketch within 1/(2k) + 1/(2s)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 3, maxLength: 3000 }), fc.integer({ min: 2, max: 3000 }), (vals, kk) => {
        const sorted = Float64Array.from(vals).sort();
        const k = Math.min(kk, sorted.length);
        const sketch = sketchSorted(sorted, new Float64Array(k));
        const ecdf = (a: Float64Array, x: number): number => a.filter((v) => v <= x).length / a.length;
        for (let x = -51; x <= 50; x++) expect(Math.abs(ecdf(sketch, x) - ecdf(sorted, x))).toBeLessThanOrEqual(1 / (2 * k) + 1e-12);
        const k2 = Math.max(2, Math.floor(k / 3));
        const twice = sketchSorted(sketch, new Float64Array(k2));
        for (let x = -51; x <= 50; x++) expect(Math.abs(ecdf(twice, x) - ecdf(sorted, x))).toBeLessThanOrEqual(1 / (2 * k2) + 1 / (2 * k) + 1e-12);
      }),
      { numRuns: 200 },
    );
    expect(() => sketchSorted(new Float64Array(3), new Float64Array(4))).toThrow(StatsInputError);
    expect(() => limitReferencePoints(summarizeNumeric([1, 2, 3]), 1, (n) => new Float64Array(n))).toThrow(StatsInputError);
  });
  it('bad input', () => {
    expect(() => summarizeNumeric([])).toThrow(StatsInputError);
    expect(() => summarizeNumeric([NaN, Infinity])).toThrow(StatsInputError);
    expect(() => summarizeNumeric([1], { maxExact: 1 })).toThrow(StatsInputError);
    expect(() => summarizeCategorical([null, ''])).toThrow(StatsInputError);
    const s = summarizeNumeric([1, 2, NaN]);
    expect(s.dropped.nan).toBe(1);
    expect(() => ksAgainstReference(s, [])).toThrow(StatsInputError);
  });
});
