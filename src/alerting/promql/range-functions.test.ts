import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { durationSeconds, KEEPS_METRIC_NAME, RANGE_FUNCTIONS, type RangeContext, type RangeFunction, type RangePoints } from './range-functions.js';

// Part 1: the real Prometheus 2.42 engine. range-functions.fixture.json holds what
// `promtool test rules` (Debian's /usr/bin/promtool, Prometheus 2.42.0) returned for every range
// function over hand-chosen series and windows; range-functions.fixture.mjs regenerates it.
// Every value must come out as the very same double (toBe is Object.is: NaN equals NaN, -0 is not 0).

interface FixtureCase {
  readonly fn: string;
  /** PromQL literals of the scalar arguments (quantile_over_time's φ first, as the interface takes it). */
  readonly args: readonly string[];
  readonly evalMs: number;
  readonly rangeMs: number;
  readonly offsetMs: number;
  readonly expr: string;
  /** Series name → output value as Go's strconv.FormatFloat(v, 'E', -1, 64); absent = no sample. */
  readonly results?: Readonly<Record<string, string>>;
  /** Series whose output sample kept `__name__`. */
  readonly named?: readonly string[];
  /** The evaluation's error text, when it failed. */
  readonly error?: string;
}

interface FixtureGroup {
  readonly name: string;
  readonly intervalMs: number;
  /** Series name → [t ms, value as loaded], stale markers and gaps omitted. */
  readonly series: Readonly<Record<string, readonly (readonly [number, string])[]>>;
  readonly cases: readonly FixtureCase[];
}

interface Fixture {
  readonly promtool: string;
  readonly groups: readonly FixtureGroup[];
}

const fixture = JSON.parse(readFileSync(new URL('./range-functions.fixture.json', import.meta.url), 'utf8')) as Fixture;

/** A Go-printed float (ParseFloat syntax, PromQL literals, FormatFloat 'E' output) → number. */
function goFloat(s: string): number {
  switch (s) {
    case 'NaN':
      return NaN;
    case 'Inf':
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  const v = Number(s);
  if (Number.isNaN(v)) throw new Error(`not a float: ${s}`);
  return v;
}

interface Series {
  readonly t: readonly number[];
  readonly v: readonly number[];
}

/** The points the engine hands the function: the closed window [rangeStart, rangeEnd]. */
function select(series: Series, start: number, end: number): RangePoints {
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < series.t.length; i++) {
    const ts = series.t[i] as number;
    if (ts >= start && ts <= end) {
      t.push(ts);
      v.push(series.v[i] as number);
    }
  }
  return { t, v, length: t.length };
}

function fnOf(name: string): RangeFunction {
  const fn = RANGE_FUNCTIONS[name];
  if (fn === undefined) throw new Error(`no range function ${name}`);
  return fn;
}

function errorOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return undefined;
}

describe('range functions against promtool 2.42 (range-functions.fixture.json)', () => {
  it('the fixture came from Prometheus 2.42 and covers every function', () => {
    expect(fixture.promtool).toMatch(/version 2\.42\./);
    const covered = new Set(fixture.groups.flatMap((g) => g.cases.map((c) => c.fn)));
    expect([...covered].sort()).toEqual(Object.keys(RANGE_FUNCTIONS).sort());
  });

  for (const group of fixture.groups) {
    const series = new Map<string, Series>(
      Object.entries(group.series).map(([name, samples]) => [name, { t: samples.map((s) => s[0]), v: samples.map((s) => goFloat(s[1])) }]),
    );
    describe(`${group.name} (interval ${group.intervalMs} ms)`, () => {
      for (const c of group.cases) {
        it(`${c.expr} at ${c.evalMs} ms`, () => {
          const fn = fnOf(c.fn);
          const args = c.args.map(goFloat);
          const rangeEndMs = c.evalMs - c.offsetMs;
          const ctx: RangeContext = {
            evalMs: c.evalMs,
            rangeStartMs: rangeEndMs - c.rangeMs,
            rangeEndMs,
            rangeSeconds: durationSeconds(c.rangeMs),
          };
          const withPoints = [...series].map(([name, s]) => [name, select(s, ctx.rangeStartMs, rangeEndMs)] as const).filter(([, p]) => p.length > 0);

          if (c.error !== undefined) {
            // The engine fails on the first series it calls the function for; the checks do not
            // depend on the points, so every series gives the same error.
            expect(withPoints.length).toBeGreaterThan(0);
            for (const [, p] of withPoints) expect(errorOf(() => fn(p, ctx, args))).toBe(c.error);
            return;
          }

          const results = c.results ?? {};
          // Series without points are never handed to the function: no output for them.
          const called = new Set(withPoints.map(([name]) => name));
          for (const name of Object.keys(results)) expect(called.has(name), `output for ${name}, which has no points`).toBe(true);
          for (const [name, p] of withPoints) {
            const want = results[name];
            expect(fn(p, ctx, args), `series ${name}`).toBe(want === undefined ? undefined : goFloat(want));
          }
          // Only last_over_time keeps the metric name.
          const named = [...(c.named ?? [])].sort();
          expect(named).toEqual(KEEPS_METRIC_NAME.has(c.fn) ? Object.keys(results).sort() : []);
        });
      }
    });
  }
});

// Part 2: edge cases whose results can be derived by hand from functions.go.

const pts = (t: readonly number[], v: readonly number[]): RangePoints => ({ t, v, length: t.length });
const ctxFor = (evalMs: number, rangeMs: number, offsetMs = 0): RangeContext => ({
  evalMs,
  rangeStartMs: evalMs - offsetMs - rangeMs,
  rangeEndMs: evalMs - offsetMs,
  rangeSeconds: durationSeconds(rangeMs),
});
const call = (name: string, p: RangePoints, ctx: RangeContext, args: readonly number[] = []): number | undefined => fnOf(name)(p, ctx, args);

describe('range functions: hand-derived edge cases', () => {
  const one = pts([60_000], [5]);
  const ctx = ctxFor(120_000, 120_000);

  it('has exactly the 2.42 range functions (absent_over_time is the evaluator’s)', () => {
    expect(Object.keys(RANGE_FUNCTIONS).sort()).toEqual(
      [
        'avg_over_time',
        'changes',
        'count_over_time',
        'delta',
        'deriv',
        'holt_winters',
        'idelta',
        'increase',
        'irate',
        'last_over_time',
        'max_over_time',
        'min_over_time',
        'predict_linear',
        'present_over_time',
        'quantile_over_time',
        'rate',
        'resets',
        'stddev_over_time',
        'stdvar_over_time',
        'sum_over_time',
      ].sort(),
    );
    expect([...KEEPS_METRIC_NAME]).toEqual(['last_over_time']);
  });

  it('needs two points for rate, increase, delta, irate, idelta, deriv, predict_linear, holt_winters', () => {
    for (const name of ['rate', 'increase', 'delta', 'irate', 'idelta', 'deriv']) expect(call(name, one, ctx)).toBeUndefined();
    expect(call('predict_linear', one, ctx, [60])).toBeUndefined();
    expect(call('holt_winters', one, ctx, [0.5, 0.5])).toBeUndefined();
  });

  it('gives one-point aggregates', () => {
    expect(call('avg_over_time', one, ctx)).toBe(5);
    expect(call('count_over_time', one, ctx)).toBe(1);
    expect(call('changes', one, ctx)).toBe(0);
    expect(call('resets', one, ctx)).toBe(0);
    expect(call('stdvar_over_time', one, ctx)).toBe(0);
    expect(call('present_over_time', one, ctx)).toBe(1);
    expect(call('quantile_over_time', one, ctx, [0.3])).toBe(5);
  });

  it('returns no sample for an empty window (the engine never asks, but nothing throws)', () => {
    const none = pts([], []);
    for (const name of Object.keys(RANGE_FUNCTIONS)) expect(call(name, none, ctx, [0.5, 0.5])).toBeUndefined();
  });

  it('rate and increase over samples on both window edges do not extrapolate', () => {
    const p = pts([0, 60_000, 120_000], [0, 60, 120]);
    expect(call('increase', p, ctx)).toBe(120);
    expect(call('rate', p, ctx)).toBe(1);
    expect(call('delta', p, ctx)).toBe(120);
  });

  it('rate adds the pre-reset value on a counter reset; delta does not', () => {
    const p = pts([0, 60_000, 120_000], [10, 20, 5]);
    expect(call('increase', p, ctx)).toBe(15); // 5 - 10, plus 20 for the reset
    expect(call('delta', p, ctx)).toBe(-5);
  });

  it('irate treats a decrease as a reset; idelta does not', () => {
    const p = pts([0, 30_000, 40_000], [1, 10, 3]);
    expect(call('irate', p, ctx)).toBe(3 / 10);
    expect(call('idelta', p, ctx)).toBe(-7);
    expect(call('irate', pts([0, 10_000], [0, 5]), ctx)).toBe(0.5);
  });

  it('deriv and predict_linear: a straight line, and constants', () => {
    const line = pts([0, 60_000, 120_000], [1, 2, 3]);
    expect(call('deriv', line, ctx)).toBe(1 / 60);
    // Intercept at the evaluation time (120 s, value 3), then 60 s ahead.
    expect(call('predict_linear', line, ctx, [60])).toBe(4);
    expect(call('deriv', pts([0, 1000], [7, 7]), ctx)).toBe(0);
    expect(call('predict_linear', pts([0, 1000], [7, 7]), ctx, [1e6])).toBe(7);
    expect(call('deriv', pts([0, 1000], [Infinity, Infinity]), ctx)).toBeNaN();
  });

  it('holt_winters checks its factors first, with Go %f in the message', () => {
    const msg = (what: 'smoothing' | 'trend', v: string): string =>
      `invalid ${what} factor. Expected: 0 < ${what === 'smoothing' ? 'sf < 1' : 'tf < 1'}, got: ${v}`;
    const err = (sf: number, tf: number, p: RangePoints = one): string | undefined => errorOf(() => call('holt_winters', p, ctx, [sf, tf]));
    expect(err(0, 0.5)).toBe(msg('smoothing', '0.000000'));
    expect(err(1, 0.5)).toBe(msg('smoothing', '1.000000'));
    expect(err(-0, 0.5)).toBe(msg('smoothing', '-0.000000'));
    expect(err(1.0078125, 0.5)).toBe(msg('smoothing', '1.007812')); // ties round to even, unlike toFixed
    expect(err(1.0234375, 0.5)).toBe(msg('smoothing', '1.023438'));
    expect(err(1e22, 0.5)).toBe(msg('smoothing', '10000000000000000000000.000000'));
    expect(err(-Infinity, 0.5)).toBe(msg('smoothing', '-Inf'));
    expect(err(0.5, 1.5)).toBe(msg('trend', '1.500000'));
    expect(err(0.5, Infinity)).toBe(msg('trend', '+Inf'));
    expect(err(2, 2)).toBe(msg('smoothing', '2.000000')); // sf is checked first
    expect(err(0.5, 0.5)).toBeUndefined();
    expect(err(NaN, 0.5)).toBeUndefined(); // NaN fails neither comparison
    expect(err(0.5, 0.5, pts([], []))).toBeUndefined();
    expect(err(0.5, 0, pts([0, 1], [1, 2]))).toBe(msg('trend', '0.000000'));
  });

  it('holt_winters on two points: the first trend is the raw difference', () => {
    // s1 = 0.5·4 + 0.5·(2 + 2) = 4
    expect(call('holt_winters', pts([0, 1000], [2, 4]), ctx, [0.5, 0.25])).toBe(4);
  });

  it('changes counts NaN → NaN as no change; resets counts decreases', () => {
    expect(call('changes', pts([0, 1, 2, 3, 4], [NaN, NaN, 1, 1, NaN]), ctx)).toBe(2);
    expect(call('resets', pts([0, 1, 2, 3, 4], [5, 3, 3, 10, 1]), ctx)).toBe(2);
  });

  it('min/max_over_time let a later value replace a NaN', () => {
    expect(call('min_over_time', pts([0, 1, 2], [NaN, 3, 1]), ctx)).toBe(1);
    expect(call('max_over_time', pts([0, 1, 2], [NaN, 3, 1]), ctx)).toBe(3);
    expect(call('min_over_time', pts([0, 1], [1, NaN]), ctx)).toBe(1);
    expect(call('max_over_time', pts([0, 1], [NaN, NaN]), ctx)).toBeNaN();
  });

  it('avg_over_time: no overflow, Inf kept, opposite Infs and NaN give NaN', () => {
    expect(call('avg_over_time', pts([0, 1], [1e308, 1e308]), ctx)).toBe(1e308);
    expect(call('avg_over_time', pts([0, 1, 2], [Infinity, 1, Infinity]), ctx)).toBe(Infinity);
    expect(call('avg_over_time', pts([0, 1, 2], [1, -Infinity, 5]), ctx)).toBe(-Infinity);
    expect(call('avg_over_time', pts([0, 1], [Infinity, -Infinity]), ctx)).toBeNaN();
    expect(call('avg_over_time', pts([0, 1], [Infinity, NaN]), ctx)).toBeNaN();
    expect(call('sum_over_time', pts([0, 1], [1e308, 1e308]), ctx)).toBe(Infinity);
  });

  it('quantile_over_time: φ outside [0, 1] and NaN φ', () => {
    const p = pts([0, 1, 2], [3, 1, 2]);
    expect(call('quantile_over_time', p, ctx, [-0.1])).toBe(-Infinity);
    expect(call('quantile_over_time', p, ctx, [1.1])).toBe(Infinity);
    expect(call('quantile_over_time', p, ctx, [NaN])).toBeNaN();
    expect(call('quantile_over_time', p, ctx, [0.5])).toBe(2);
    expect(call('quantile_over_time', p, ctx, [0.75])).toBe(2.5);
    // NaN sorts first.
    expect(call('quantile_over_time', pts([0, 1, 2], [3, NaN, 1]), ctx, [0])).toBeNaN();
    expect(call('quantile_over_time', pts([0, 1, 2], [3, NaN, 1]), ctx, [1])).toBe(3);
  });

  it('stddev/stdvar_over_time: population variance', () => {
    const p = pts([0, 1, 2, 3], [2, 4, 4, 6]);
    expect(call('stdvar_over_time', p, ctx)).toBe(2);
    expect(call('stddev_over_time', p, ctx)).toBe(Math.SQRT2);
  });

  it('durationSeconds is Go’s Duration.Seconds()', () => {
    expect(durationSeconds(300_000)).toBe(300);
    expect(durationSeconds(1500)).toBe(1.5);
    expect(durationSeconds(61_123)).toBe(61 + 0.123);
  });
});
