import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../metrics/snapshot.js';
import type { PromqlValue, VectorSample } from '../types.js';
import { labelsKey } from './labels.js';
import { SeriesIndex } from './series.js';
import { run } from './testutil.contract.js';

/** Random snapshots of metric `x` (unique series) plus a few `y` series. */
const snapshot = fc
  .uniqueArray(
    fc.record({
      a: fc.constantFrom('1', '2', '3'),
      b: fc.constantFrom('p', 'q', 'r', 's'),
      c: fc.constantFrom('', 'u', 'v'),
      value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    }),
    { selector: (r) => `${r.a}/${r.b}/${r.c}`, maxLength: 30 },
  )
  .map((rows): Sample[] => rows.map((r) => ({ name: 'x', labels: { a: r.a, b: r.b, c: r.c }, value: r.value })));

const vec = (v: PromqlValue): readonly VectorSample[] => (v.type === 'vector' ? v.samples : []);
const byKey = (v: readonly VectorSample[]): Map<string, number> => new Map(v.map((s) => [labelsKey(s.labels), s.value]));

describe('properties', () => {
  it('sum(x) equals sum over the groups of sum by (all labels)(x)', () => {
    fc.assert(
      fc.property(snapshot, (samples) => {
        const idx = new SeriesIndex(samples);
        const total = vec(run('sum(x)', idx));
        const grouped = vec(run('sum(sum by (a, b, c) (x))', idx));
        expect(total.length).toBe(grouped.length);
        if (total[0] !== undefined) expect((grouped[0] as VectorSample).value).toBeCloseTo(total[0].value, 3);
      }),
    );
  });

  it('sum by (a) (x) equals sum without (b, c) (x)', () => {
    fc.assert(
      fc.property(snapshot, (samples) => {
        const idx = new SeriesIndex(samples);
        expect(byKey(vec(run('sum by (a) (x)', idx)))).toEqual(byKey(vec(run('sum without (b, c) (x)', idx))));
      }),
    );
  });

  it('x + 0 is x without its name, x * 1 too, and x > -Inf keeps the name', () => {
    fc.assert(
      fc.property(snapshot, (samples) => {
        const idx = new SeriesIndex(samples);
        const x = vec(run('x', idx));
        const plus = vec(run('x + 0', idx));
        expect(plus.map((s) => s.value)).toEqual(x.map((s) => s.value + 0)); // -0 + 0 = +0, as in Go
        expect(plus.every((s) => s.labels['__name__'] === undefined)).toBe(true);
        expect(byKey(plus)).toEqual(byKey(vec(run('x * 1 + 0', idx)))); // (-0 * 1 = -0, -0 + 0 = +0)
        expect(vec(run('x > -Inf', idx))).toEqual(x);
      }),
    );
  });

  it('count(x) <= number of series; count by never exceeds it; topk(k) returns min(k, n)', () => {
    fc.assert(
      fc.property(snapshot, fc.integer({ min: 1, max: 40 }), (samples, k) => {
        const idx = new SeriesIndex(samples);
        const n = idx.size;
        const c = vec(run('count(x)', idx));
        expect(c.length).toBe(n === 0 ? 0 : 1);
        if (c[0] !== undefined) expect(c[0].value).toBeLessThanOrEqual(n);
        const groups = vec(run('count by (a) (x)', idx));
        expect(groups.reduce((acc, s) => acc + s.value, 0)).toBe(n);
        expect(vec(run(`topk(${k}, x)`, idx)).length).toBe(Math.min(k, n));
        expect(vec(run(`bottomk(${k}, x)`, idx)).length).toBe(Math.min(k, n));
      }),
    );
  });

  it('x and x == x; x unless x is empty; x or x == x; (x > t) or (x <= t) covers x', () => {
    fc.assert(
      fc.property(snapshot, fc.double({ min: -1e6, max: 1e6, noNaN: true }), (samples, t) => {
        const idx = new SeriesIndex(samples);
        const x = vec(run('x', idx));
        expect(vec(run('x and x', idx))).toEqual(x);
        expect(vec(run('x unless x', idx))).toEqual([]);
        expect(vec(run('x or x', idx))).toEqual(x);
        expect(byKey(vec(run(`(x > ${t}) or (x <= ${t})`, idx)))).toEqual(byKey(x));
      }),
    );
  });

  it('min <= avg <= max and quantile(0.5) lies between min and max', () => {
    fc.assert(
      fc.property(snapshot, (samples) => {
        const idx = new SeriesIndex(samples);
        if (idx.size === 0) return;
        const v = (q: string): number => (vec(run(q, idx))[0] as VectorSample).value;
        const min = v('min(x)');
        const max = v('max(x)');
        const avg = v('avg(x)');
        const med = v('quantile(0.5, x)');
        expect(min).toBeLessThanOrEqual(avg + 1e-6);
        expect(avg).toBeLessThanOrEqual(max + 1e-6);
        // within rounding, as avg: Prometheus interpolates lower*(1-w) + upper*w (promql/quantile.go),
        // which can step past the bound, e.g. two subnormals 1.5e-323 give 2e-323 (Go does the same)
        expect(med).toBeGreaterThanOrEqual(min - 1e-6);
        expect(med).toBeLessThanOrEqual(max + 1e-6);
      }),
    );
  });
});
