import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { jensenShannon, jensenShannonCategorical, jensenShannonSamples } from './jsd.js';
import { StatsInputError } from './types.js';

interface JwCase {
  name: string;
  kind: 'proportions' | 'samples';
  inputs: { p?: number[]; q?: number[]; u_values?: number[]; v_values?: number[]; u_weights?: number[] };
  expected: {
    jensenshannon_base2?: number;
    js_divergence_base2?: number;
    jensenshannon_base_e?: number;
    binning_edges?: number[];
    binned_p?: number[];
    binned_q?: number[];
  };
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/fixtures/vectors/jsd_wasserstein.json', import.meta.url), 'utf8'),
) as { cases: JwCase[] };
const close = (a: number, e: number): boolean => Math.abs(a - e) <= 1e-15 + 1e-12 * Math.abs(e);

describe('jensenShannon matches jsd_wasserstein.json', () => {
  for (const c of vectors.cases) {
    if (c.kind === 'proportions') {
      it(c.name, () => {
        const p = c.inputs.p as number[];
        const q = c.inputs.q as number[];
        const d2 = jensenShannon(p, q, 2);
        expect(close(d2, c.expected.jensenshannon_base2 as number), `${d2} vs ${c.expected.jensenshannon_base2}`).toBe(true);
        expect(close(d2 * d2, c.expected.js_divergence_base2 as number)).toBe(true);
        expect(close(jensenShannon(p, q, Math.E), c.expected.jensenshannon_base_e as number)).toBe(true);
      });
    } else if (c.expected.binned_p) {
      it(`${c.name} (binned samples)`, () => {
        const r = jensenShannonSamples(c.inputs.u_values as number[], c.inputs.v_values as number[]);
        expect(r.edges).toEqual(c.expected.binning_edges);
        expect(r.refProps).toEqual(c.expected.binned_p);
        expect(r.curProps).toEqual(c.expected.binned_q);
        expect(close(r.distance, c.expected.jensenshannon_base2 as number), `${r.distance} vs ${c.expected.jensenshannon_base2}`).toBe(true);
      });
    }
  }
});

describe('jensenShannon properties and bad input', () => {
  const w = fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 20 });
  it('in [0,1] (base 2), symmetric, 0 on identical input', () => {
    fc.assert(
      fc.property(w, w, (a, b) => {
        const n = Math.min(a.length, b.length);
        const p = a.slice(0, n);
        const q = b.slice(0, n);
        if (p.reduce((x, y) => x + y, 0) === 0 || q.reduce((x, y) => x + y, 0) === 0) {
          expect(() => jensenShannon(p, q)).toThrow(StatsInputError);
          return;
        }
        const d = jensenShannon(p, q);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1 + 1e-12);
        expect(Math.abs(d - jensenShannon(q, p))).toBeLessThanOrEqual(1e-12);
        expect(jensenShannon(p, p)).toBe(0);
      }),
    );
  });
  it('categorical', () => {
    expect(jensenShannonCategorical({ a: 1 }, { b: 1 })).toBe(1);
    expect(jensenShannonCategorical({ a: 3, b: 1 }, { b: 2, a: 6 })).toBe(0);
  });
  it('bad input', () => {
    expect(() => jensenShannon([1, 2], [1])).toThrowError(/length/);
    expect(() => jensenShannon([], [])).toThrow(StatsInputError);
    expect(() => jensenShannon([-1, 2], [1, 1])).toThrow(StatsInputError);
    expect(() => jensenShannon([NaN, 2], [1, 1])).toThrow(StatsInputError);
    expect(() => jensenShannon([1], [1], 1)).toThrow(StatsInputError);
    expect(() => jensenShannonSamples([], [1])).toThrow(StatsInputError);
    const r = jensenShannonSamples([1, 2, NaN], [1, 2, Infinity]);
    expect(r.distance).toBe(0);
    expect(r.droppedRef.nan).toBe(1);
    expect(r.droppedCur.posInf).toBe(1);
  });
});
