import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildGrid,
  CODE_MISSING,
  CODE_NEG_INF,
  codeArrayFor,
  codedSummary,
  countCodes,
  EMPTY_GRID,
  encode,
  encodeInto,
  gridOf,
  ksFromCodeCounts,
  MAX_UINT16_GRID,
  psiFromCodeCounts,
  quantileBinCountsFromCodes,
  rangeCodes,
} from './coded.js';
import { numericOutcomes, numericOutcomesCoded } from './drift-decision.js';
import { ks2samp, type Alternative } from './ks.js';
import { countQuantileBins } from './psi.js';
import { ksAgainstReference, prepareCurrent, psiAgainstReference, summarizeNumeric, type NumericReferenceSummary } from './reference.js';

/** Codes and their counts for raw values against a reference. */
function coded(ref: NumericReferenceSummary, values: readonly (number | null)[]): Int32Array {
  const grid = gridOf(ref);
  const codes = codeArrayFor(grid, values.length, false);
  values.forEach((x, i) => (codes[i] = encode(grid, x)));
  const rows = Int32Array.from(values.keys());
  return countCodes(codes, rows, new Int32Array(grid.codes), grid.codes);
}

const finiteOnly = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));

/** Bit-for-bit equality of doubles (NaN and -0 included). */
const bits = (x: number): string => Buffer.from(new Float64Array([x]).buffer).toString('hex');

/**
 * A reference and a current sample drawn to stress the codes: few distinct values (ties), values
 * equal to reference points, to PSI edges (midpoints of neighbours), to min/max, outside the range,
 * plus missing and infinite values.
 */
const samples = fc
  .record({
    ref: fc.array(fc.oneof(fc.integer({ min: -20, max: 20 }), fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 300 }),
    cur: fc.array(
      fc.oneof(
        fc.integer({ min: -25, max: 25 }),
        fc.double({ min: -60, max: 60, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(null, Number.NaN, Infinity, -Infinity, 0, -0),
        fc.nat({ max: 1000 }).map((k) => -1 - k), // marker: a reference value (resolved below)
      ),
      { minLength: 0, maxLength: 300 },
    ),
  })
  .map(({ ref, cur }) => {
    const summary = summarizeNumeric(ref);
    const points = [...summary.sorted, ...summary.quantileEdges, summary.min, summary.max];
    const current = cur.map((x) => (typeof x === 'number' && Number.isInteger(x) && x < -25 ? (points[(-1 - x) % points.length] as number) : x));
    return { ref, summary, current };
  });

describe('codes against a reference (coded.ts)', () => {
  it('KS from code counts equals ks_2samp on the raw values: statistic and p-value bit for bit, every alternative', () => {
    fc.assert(
      fc.property(samples, fc.constantFrom<Alternative>('two-sided', 'less', 'greater'), ({ ref, summary, current }, alternative) => {
        const fin = finiteOnly(current);
        fc.pre(fin.length > 0);
        const a = ksFromCodeCounts(summary, coded(summary, current), { alternative });
        const b = ks2samp(ref, fin, { alternative });
        expect(bits(a.statistic)).toBe(bits(b.statistic));
        expect(bits(a.pvalue)).toBe(bits(b.pvalue));
        expect(a.statisticSign).toBe(b.statisticSign);
        expect(a.methodUsed).toBe(b.methodUsed);
        expect([a.n1, a.n2]).toEqual([b.n1, b.n2]);
        const nan = current.filter((x) => x === null || Number.isNaN(x)).length;
        expect(a.dropped2).toEqual({ nan, posInf: current.filter((x) => x === Infinity).length, negInf: current.filter((x) => x === -Infinity).length });
      }),
      { numRuns: 400 },
    );
  });

  it('PSI quantile bins (both closures) from code counts equal the counts and PSI of the raw values', () => {
    fc.assert(
      fc.property(samples, ({ summary, current }) => {
        const fin = finiteOnly(current);
        fc.pre(fin.length > 0);
        const counts = coded(summary, current);
        for (const left of [true, false]) {
          expect(quantileBinCountsFromCodes(summary, counts, left)).toEqual(countQuantileBins(fin, summary.quantileEdges, left));
          const binning = left ? 'quantile' : 'quantile_right_closed';
          expect(bits(psiFromCodeCounts(summary, counts, binning).psi)).toBe(bits(psiAgainstReference(summary, prepareCurrent(fin), { binning }).psi));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('codes tell missing, ±Infinity and the reference range exactly', () => {
    fc.assert(
      fc.property(samples, ({ summary, current }) => {
        const grid = gridOf(summary);
        const { below, above } = rangeCodes(summary);
        for (const x of current) {
          const c = encode(grid, x);
          if (x === null || Number.isNaN(x)) expect(c).toBe(CODE_MISSING);
          else if (x === -Infinity) expect(c).toBe(CODE_NEG_INF);
          else if (x === Infinity) expect(c).toBe(grid.posInf);
          else {
            expect(c).toBeGreaterThan(CODE_NEG_INF);
            expect(c).toBeLessThan(grid.posInf);
          }
          if (x !== null && !Number.isNaN(x)) expect(c < below || c >= above).toBe(x < summary.min || x > summary.max);
        }
        const s = codedSummary(grid, coded(summary, current));
        expect(s.n).toBe(finiteOnly(current).length);
      }),
      { numRuns: 300 },
    );
  });

  it('encodeInto (bucketed) gives the codes encode gives, value for value', () => {
    const check = (grid: ReturnType<typeof gridOf>, xs: readonly (number | null)[]): void => {
      const values = Float64Array.from(xs, (x) => (x === null ? Number.NaN : x));
      const out = codeArrayFor(grid, values.length + 3, false);
      encodeInto(grid, values, 0, values.length, out, 3);
      const wrong: [number | null, number, number][] = [];
      for (let i = 0; i < values.length; i++) if (out[i + 3] !== encode(grid, xs[i])) wrong.push([xs[i] as number | null, out[i + 3] as number, encode(grid, xs[i])]);
      expect(wrong).toEqual([]);
      checked += values.length;
    };
    let checked = 0;
    fc.assert(
      fc.property(samples, ({ summary, current }) => check(gridOf(summary), current)),
      { numRuns: 300 },
    );
    // large references (many buckets): normal, heavy-tailed, constant, few distinct values; every
    // grid point, its neighbours (nextafter) and points between
    const r = (seed: number): (() => number) => {
      let x = seed;
      return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    };
    const rnd = r(9);
    const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
    const refs = [
      Array.from({ length: 20_000 }, () => normal() * 7 + 3),
      Array.from({ length: 20_000 }, () => Math.exp(normal() * 3)),
      Array.from({ length: 5_000 }, () => 42),
      Array.from({ length: 9_000 }, (_, i) => i % 5),
    ];
    const next = (x: number, up: boolean): number => {
      const b = new Float64Array([x]);
      const i = new BigInt64Array(b.buffer);
      if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
      i[0] = (i[0] as bigint) + ((x > 0) === up ? 1n : -1n);
      return b[0] as number;
    };
    for (const ref of refs) {
      const summary = summarizeNumeric(ref);
      const grid = gridOf(summary);
      const points = [...grid.sorted, ...grid.extras];
      const xs: (number | null)[] = [null, Number.NaN, Infinity, -Infinity, 0, -0];
      for (const p of points) xs.push(p, next(p, true), next(p, false));
      for (let i = 0; i < 20_000; i++) xs.push(normal() * 20 + 3, Math.exp(normal() * 4));
      check(grid, xs);
    }
    expect(checked).toBeGreaterThan(200_000);
  });

  it('codes preserve order: x < y ⟹ code(x) <= code(y), equal codes only between the same grid points', () => {
    fc.assert(
      fc.property(samples, ({ summary, current }) => {
        const grid = gridOf(summary);
        const fin = finiteOnly(current).sort((a, b) => a - b);
        const points = [...summary.sorted, ...grid.extras].sort((a, b) => a - b);
        for (let i = 1; i < fin.length; i++) {
          const [x, y] = [fin[i - 1] as number, fin[i] as number];
          const [cx, cy] = [encode(grid, x), encode(grid, y)];
          expect(cx).toBeLessThanOrEqual(cy);
          if (cx === cy && x !== y) expect(points.some((p) => p >= x && p <= y)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('drift outcomes from codes equal numericOutcomes on the raw values (KS, PSI; JSD and Wasserstein from the raw values)', () => {
    fc.assert(
      fc.property(samples, ({ summary, current }) => {
        const raw = current.map((x) => (x === null ? Number.NaN : x));
        const tests = ['ks', 'psi', 'jsd', 'wasserstein'] as const;
        const a = numericOutcomesCoded('f', summary, coded(summary, current), tests, () => prepareCurrent(raw));
        const b = numericOutcomes('f', summary, raw, tests);
        if (finiteOnly(current).length === 0) {
          expect(a.every((o) => Number.isNaN(o.statistic))).toBe(true);
          expect(b.every((o) => Number.isNaN(o.statistic))).toBe(true);
          return;
        }
        expect(a.map((o) => [o.test, bits(o.statistic), o.pValue === null ? null : bits(o.pValue), bits(o.effectSize), o.nCurrent])).toEqual(
          b.map((o) => [o.test, bits(o.statistic), o.pValue === null ? null : bits(o.pValue), bits(o.effectSize), o.nCurrent]),
        );
        expect(a.map((o) => o.droppedCurrent)).toEqual(b.map((o) => o.droppedCurrent));
      }),
      { numRuns: 200 },
    );
  });

  it('a sketched reference: KS from codes equals KS against the same sketch on the raw values', () => {
    const r = fc.sample(fc.double({ min: -5, max: 5, noNaN: true }), { seed: 11, numRuns: 5000 });
    const summary = summarizeNumeric(r.map((x) => Math.round(x * 100) / 100), { maxExact: 700 });
    expect(summary.exact).toBe(false);
    const cur = fc.sample(fc.double({ min: -6, max: 6, noNaN: true }), { seed: 12, numRuns: 3000 }).map((x, i) => (i % 3 === 0 ? Math.round(x * 10) / 10 : x));
    const a = ksFromCodeCounts(summary, coded(summary, cur));
    const b = ksAgainstReference(summary, cur);
    expect(bits(a.statistic)).toBe(bits(b.statistic));
    expect(bits(a.pvalue)).toBe(bits(b.pvalue));
    // the range is the full reference's, not the sketch's
    const { below, above } = rangeCodes(summary);
    const grid = gridOf(summary);
    expect(encode(grid, summary.min)).toBeGreaterThanOrEqual(below);
    expect(encode(grid, summary.max)).toBeLessThan(above);
    expect(encode(grid, summary.max + 1e-9)).toBeGreaterThanOrEqual(above);
  });

  it('large references get 4-byte codes; the default sketch fits 2-byte codes', () => {
    const small = buildGrid(new Float64Array(MAX_UINT16_GRID).map((_, i) => i), []);
    expect(codeArrayFor(small, 4, false)).toBeInstanceOf(Uint16Array);
    expect(encode(small, Infinity)).toBe(65_535);
    const big = buildGrid(new Float64Array(MAX_UINT16_GRID + 1).map((_, i) => i), []);
    const codes = codeArrayFor(big, 4, true);
    expect(codes).toBeInstanceOf(Uint32Array);
    expect(codes.buffer).toBeInstanceOf(SharedArrayBuffer);
    const many = summarizeNumeric(Float64Array.from({ length: 100_000 }, (_, i) => Math.sin(i) * 1000));
    expect(many.exact).toBe(false);
    expect(codeArrayFor(gridOf(many), 1, false)).toBeInstanceOf(Uint16Array);
  });

  it('without a reference the codes still tell missing, ±Infinity and finite', () => {
    expect([null, Number.NaN, -Infinity, -3, 0, 7.5, Infinity].map((x) => encode(EMPTY_GRID, x))).toEqual([0, 0, 1, 2, 2, 2, 3]);
  });

  it('on the public KS vectors (reference = data1) the coded KS equals the vector-checked ks_2samp', () => {
    const cases = (JSON.parse(readFileSync(new URL('../../test/fixtures/vectors/ks.json', import.meta.url), 'utf8')) as { cases: { name: string; inputs: { data1: number[]; data2: number[] } }[] }).cases;
    let n = 0;
    for (const c of cases) {
      const d1 = finiteOnly(c.inputs.data1);
      const d2 = c.inputs.data2;
      if (d1.length === 0 || finiteOnly(d2).length === 0) continue;
      const summary = summarizeNumeric(d1);
      const a = ksFromCodeCounts(summary, coded(summary, d2));
      const b = ks2samp(d1, d2);
      expect(bits(a.statistic), c.name).toBe(bits(b.statistic));
      expect(bits(a.pvalue), c.name).toBe(bits(b.pvalue));
      n++;
    }
    expect(n).toBeGreaterThan(5);
  });
});
