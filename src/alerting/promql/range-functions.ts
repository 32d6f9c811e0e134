/**
 * The float-sample range-vector functions of Prometheus v2.42.0 (promql/functions.go at tag
 * v2.42.0, with promql/quantile.go `quantile` and the engine's per-series call in
 * promql/engine.go `evaluator.eval` case *parser.Call), computed bit-for-bit as that release does.
 *
 * Every function keeps the Go code's order of float64 operations, so results are the same doubles
 * (the Debian promtool 2.42 build is compiled for GOAMD64=v1: Go fuses no multiply-adds there).
 * Where 2.42 sorts (quantile_over_time), Go 1.19's `sort.Sort` (pattern-defeating quicksort) is
 * reproduced exactly, because 2.42's `vectorByValueHeap.Less` is not a strict weak order once NaN
 * is involved (NaN is "less" than everything, even NaN), so the resulting order - and the quantile
 * picked from it - depends on the algorithm's exact sequence of comparisons and swaps.
 *
 * The engine only calls a range function for a series that has at least one point in the window
 * (stale markers dropped; the window is closed: rangeStart <= t <= rangeEnd). These functions
 * return `undefined` for an empty window all the same, never throwing for it.
 *
 * Histogram samples are out of scope: only float samples are handled.
 */
import { formatFloatF6 } from './gomath.js';
import { quantile } from './quantile.js';

/** One series' float samples inside a range selector's window, oldest first (stale markers already removed). Times are Unix milliseconds (integers). */
export interface RangePoints {
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
  readonly length: number;
}

/** What a range function sees besides the points. */
export interface RangeContext {
  /** enh.Ts: the evaluation timestamp, ms. */
  readonly evalMs: number;
  /** The selector's window: rangeStart = evalMs - (range + offset), rangeEnd = evalMs - offset, both ms, as extrapolatedRate computes them. */
  readonly rangeStartMs: number;
  readonly rangeEndMs: number;
  /**
   * ms.Range in seconds (rate divides by it). Go computes it as `Duration.Seconds()`, i.e. whole
   * seconds plus the nanosecond remainder / 1e9, which for some ranges (e.g. 61123 ms) is not the
   * same double as `ms / 1000`: use {@link durationSeconds} to get Go's value.
   */
  readonly rangeSeconds: number;
}

/**
 * A range function: the value of the output sample for one series, or undefined when Prometheus
 * emits no sample for it. `args` are the scalar arguments after the range vector, in order
 * (quantile_over_time's φ comes FIRST in PromQL - `quantile_over_time(φ, m[5m])` - but is passed
 * here as args[0] all the same; predict_linear's t is args[0]; holt_winters' sf and tf are args[0]
 * and args[1]).
 */
export type RangeFunction = (points: RangePoints, ctx: RangeContext, args: readonly number[]) => number | undefined;

/**
 * Functions whose output sample keeps the input series' `__name__`. In 2.42 the engine
 * (engine.go, case *parser.Call with a matrix argument) drops the metric name for every range
 * function except `last_over_time` ("acts like offset; thus, it should keep the metric name").
 * All other functions here (rate, increase, delta, irate, idelta, deriv, predict_linear,
 * holt_winters, changes, resets, avg/min/max/sum/count/quantile/stddev/stdvar/present_over_time)
 * drop it.
 */
export const KEEPS_METRIC_NAME: ReadonlySet<string> = new Set(['last_over_time']);

/**
 * Go `time.Duration(ms * 1e6).Seconds()`: `float64(d / Second) + float64(d % Second) / 1e9`.
 * This is the `rangeSeconds` a caller should pass for a selector range of `ms` milliseconds.
 */
export function durationSeconds(ms: number): number {
  const sec = Math.trunc(ms / 1000);
  const nsec = (ms - sec * 1000) * 1e6; // exact: |ms % 1000| * 1e6 < 2^53
  return sec + nsec / 1e9;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers (functions.go kahanSumInc, linearRegression).
// ---------------------------------------------------------------------------------------------

/**
 * functions.go `kahanSumInc`: one step of Neumaier-compensated summation. Returns [sum, c]
 * (a fresh tuple; callers destructure it).
 */
function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  // Neumaier: swap roles when the next term is larger than the running sum.
  if (Math.abs(sum) >= Math.abs(inc)) {
    c += sum - t + inc; // Go: c += (sum - t) + inc  (left-to-right, same grouping)
  } else {
    c += inc - t + sum; // Go: c += (inc - t) + sum
  }
  return [t, c];
}

/**
 * functions.go `linearRegression`: least-squares fit over the points with x = (t - interceptTime)
 * seconds, summed with Kahan-Neumaier compensation (2.42 does compensate all four sums), returning
 * [slope, intercept at interceptTime]. Constant y gives slope 0 (or NaN for a constant ±Inf).
 */
function linearRegression(points: RangePoints, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = points.v[0] as number;
  let constY = true;
  for (let i = 0; i < points.length; i++) {
    const v = points.v[i] as number;
    // Set constY to false if any new y values are encountered (NaN != NaN, so NaN ends it too).
    if (constY && i > 0 && v !== initY) constY = false;
    n += 1.0;
    const x = ((points.t[i] as number) - interceptTime) / 1e3; // float64(int64 diff) / 1e3
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(v, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * v, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [NaN, NaN];
    return [0, initY];
  }
  sumX = sumX + cX;
  sumY = sumY + cY;
  sumXY = sumXY + cXY;
  sumX2 = sumX2 + cX2;

  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;

  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

// ---------------------------------------------------------------------------------------------
// The functions.
// ---------------------------------------------------------------------------------------------

/**
 * functions.go `extrapolatedRate` (float branch): rate (isCounter, isRate), increase (isCounter)
 * and delta. Needs at least 2 points. Counter resets add the pre-reset value back; the result is
 * extrapolated to the window edges when the first/last samples lie within 1.1 average sample
 * intervals of them (else by half an interval), and for counters never further back than the
 * extrapolated zero point (durationToZero) when the first value is >= 0 and the result is > 0.
 */
function extrapolatedRate(points: RangePoints, ctx: RangeContext, isCounter: boolean, isRate: boolean): number | undefined {
  const n = points.length;
  // No sense in trying to compute a rate without at least two points.
  if (n < 2) return undefined;

  const firstT = points.t[0] as number;
  const firstV = points.v[0] as number;
  const lastT = points.t[n - 1] as number;

  let resultValue = (points.v[n - 1] as number) - firstV;
  if (isCounter) {
    let prevValue = firstV;
    for (let i = 1; i < n; i++) {
      const cur = points.v[i] as number;
      if (cur < prevValue) resultValue += prevValue;
      prevValue = cur;
    }
  }

  // Duration between first/last samples and boundary of range (int64 ms difference, then / 1000).
  let durationToStart = (firstT - ctx.rangeStartMs) / 1000;
  const durationToEnd = (ctx.rangeEndMs - lastT) / 1000;

  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);

  if (isCounter && resultValue > 0 && firstV >= 0) {
    // Counters cannot be negative: do not extrapolate further back than the zero point.
    const durationToZero = sampledInterval * (firstV / resultValue);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }

  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;

  if (durationToStart < extrapolationThreshold) {
    extrapolateToInterval += durationToStart;
  } else {
    extrapolateToInterval += averageDurationBetweenSamples / 2;
  }
  if (durationToEnd < extrapolationThreshold) {
    extrapolateToInterval += durationToEnd;
  } else {
    extrapolateToInterval += averageDurationBetweenSamples / 2;
  }
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= ctx.rangeSeconds;
  resultValue *= factor;
  return resultValue;
}

/**
 * functions.go `instantValue`: irate (isRate) and idelta from the last two points. irate treats a
 * decrease as a counter reset (result = last value). No sample for fewer than 2 points or when the
 * last two share a timestamp.
 */
function instantValue(points: RangePoints, isRate: boolean): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const lastV = points.v[n - 1] as number;
  const prevV = points.v[n - 2] as number;

  let resultValue: number;
  if (isRate && lastV < prevV) {
    resultValue = lastV; // Counter reset.
  } else {
    resultValue = lastV - prevV;
  }

  const sampledInterval = (points.t[n - 1] as number) - (points.t[n - 2] as number);
  if (sampledInterval === 0) return undefined; // Avoid dividing by 0.

  if (isRate) resultValue /= sampledInterval / 1000; // Convert to per-second.
  return resultValue;
}

/** functions.go `calcTrendValue`: the trend at index i of the double exponential smoothing. */
function calcTrendValue(i: number, tf: number, s0: number, s1: number, b: number): number {
  if (i === 0) return b;
  const x = tf * (s1 - s0);
  const y = (1 - tf) * b;
  return x + y;
}

/**
 * functions.go `funcHoltWinters`: double exponential smoothing with smoothing factor sf = args[0]
 * and trend factor tf = args[1]. Factors are checked before the point count (so even a
 * one-point window throws), with 2.42's panic messages (fmt "%f"); NaN factors pass the check.
 */
function holtWinters(points: RangePoints, _ctx: RangeContext, args: readonly number[]): number | undefined {
  const sf = args[0] as number;
  const tf = args[1] as number;
  if (sf <= 0 || sf >= 1) {
    throw new Error(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatFloatF6(sf)}`);
  }
  if (tf <= 0 || tf >= 1) {
    throw new Error(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatFloatF6(tf)}`);
  }
  const l = points.length;
  // Can't do the smoothing operation with less than two points.
  if (l < 2) return undefined;

  let s0 = 0;
  let s1 = points.v[0] as number;
  let b = (points.v[1] as number) - s1;
  for (let i = 1; i < l; i++) {
    // Scale the raw value against the smoothing factor.
    const x = sf * (points.v[i] as number);
    // Scale the last smoothed value with the trend at this point.
    b = calcTrendValue(i - 1, tf, s0, s1, b);
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/**
 * functions.go `funcAvgOverTime` (via `aggrOverTime`): the incremental mean
 * mean += v/count - mean/count, Kahan-Neumaier compensated. Once the mean is ±Inf, further values
 * that are finite, or Inf of the same sign, are skipped (so the mean stays ±Inf); an Inf of the
 * other sign or a NaN still goes through the update and turns it NaN. The compensation term is
 * added at the end only when the mean is finite.
 */
function avgOverTime(points: RangePoints): number | undefined {
  if (points.length === 0) return undefined;
  let mean = 0;
  let count = 0;
  let c = 0;
  for (let i = 0; i < points.length; i++) {
    const v = points.v[i] as number;
    count++;
    if (mean === Infinity || mean === -Infinity) {
      const vInf = v === Infinity || v === -Infinity;
      // mean and v are Inf of the same sign: mean is correct already.
      if (vInf && (mean > 0) === (v > 0)) continue;
      // mean is infinite and v is finite: keep the mean (the update would make Inf - Inf = NaN).
      if (!vInf && !Number.isNaN(v)) continue;
    }
    [mean, c] = kahanSumInc(v / count - mean / count, mean, c);
  }
  if (mean === Infinity || mean === -Infinity) return mean;
  return mean + c;
}

/** functions.go `funcMinOverTime`: a NaN is replaced by any later value; all-NaN gives NaN. */
function minOverTime(points: RangePoints): number | undefined {
  if (points.length === 0) return undefined;
  let min = points.v[0] as number;
  for (let i = 0; i < points.length; i++) {
    const v = points.v[i] as number;
    if (v < min || Number.isNaN(min)) min = v;
  }
  return min;
}

/** functions.go `funcMaxOverTime`: a NaN is replaced by any later value; all-NaN gives NaN. */
function maxOverTime(points: RangePoints): number | undefined {
  if (points.length === 0) return undefined;
  let max = points.v[0] as number;
  for (let i = 0; i < points.length; i++) {
    const v = points.v[i] as number;
    if (v > max || Number.isNaN(max)) max = v;
  }
  return max;
}

/** functions.go `funcSumOverTime`: Kahan-Neumaier sum; compensation dropped when the sum is ±Inf. */
function sumOverTime(points: RangePoints): number | undefined {
  if (points.length === 0) return undefined;
  let sum = 0;
  let c = 0;
  for (let i = 0; i < points.length; i++) {
    [sum, c] = kahanSumInc(points.v[i] as number, sum, c);
  }
  if (sum === Infinity || sum === -Infinity) return sum;
  return sum + c;
}

/**
 * functions.go `funcStddevOverTime` / `funcStdvarOverTime`: Welford's running mean and sum of
 * squared deviations, each accumulated with kahanSumInc; population variance (aux / count).
 */
function stdvar(points: RangePoints): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = 0; i < points.length; i++) {
    const v = points.v[i] as number;
    count++;
    const delta = v - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/**
 * functions.go `funcChanges`: number of times the value changed; NaN → NaN is no change, any
 * other transition involving NaN is one.
 */
function changes(points: RangePoints): number | undefined {
  if (points.length === 0) return undefined;
  let n = 0;
  let prev = points.v[0] as number;
  for (let i = 1; i < points.length; i++) {
    const cur = points.v[i] as number;
    if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) n++;
    prev = cur;
  }
  return n;
}

/** functions.go `funcResets`: number of decreases between consecutive points. */
function resets(points: RangePoints): number | undefined {
  if (points.length === 0) return undefined;
  let n = 0;
  let prev = points.v[0] as number;
  for (let i = 1; i < points.length; i++) {
    const cur = points.v[i] as number;
    if (cur < prev) n++;
    prev = cur;
  }
  return n;
}

/** The range functions of Prometheus 2.42 by PromQL name (absent_over_time is the evaluator's). */
export const RANGE_FUNCTIONS: Readonly<Record<string, RangeFunction>> = Object.freeze({
  /** functions.go `funcRate` → extrapolatedRate(isCounter=true, isRate=true). */
  rate: (p, ctx) => extrapolatedRate(p, ctx, true, true),
  /** functions.go `funcIncrease` → extrapolatedRate(isCounter=true, isRate=false). */
  increase: (p, ctx) => extrapolatedRate(p, ctx, true, false),
  /** functions.go `funcDelta` → extrapolatedRate(isCounter=false, isRate=false). */
  delta: (p, ctx) => extrapolatedRate(p, ctx, false, false),
  /** functions.go `funcIrate` → instantValue(isRate=true). */
  irate: (p) => instantValue(p, true),
  /** functions.go `funcIdelta` → instantValue(isRate=false). */
  idelta: (p) => instantValue(p, false),
  /** functions.go `funcDeriv`: linearRegression slope with the first point's time as intercept time. */
  deriv: (p) => {
    // No sense in trying to compute a derivative without at least two points.
    if (p.length < 2) return undefined;
    return linearRegression(p, p.t[0] as number)[0];
  },
  /**
   * functions.go `funcPredictLinear`: linearRegression around the evaluation time (enh.Ts, not
   * the offset-shifted range end), then slope × t + intercept with t = args[0] seconds.
   */
  predict_linear: (p, ctx, args) => {
    const duration = args[0] as number;
    // No sense in trying to predict anything without at least two points.
    if (p.length < 2) return undefined;
    const [slope, intercept] = linearRegression(p, ctx.evalMs);
    return slope * duration + intercept;
  },
  /** functions.go `funcHoltWinters`. */
  holt_winters: holtWinters,
  /** functions.go `funcChanges`. */
  changes: (p) => changes(p),
  /** functions.go `funcResets`. */
  resets: (p) => resets(p),
  /** functions.go `funcAvgOverTime`. */
  avg_over_time: (p) => avgOverTime(p),
  /** functions.go `funcMinOverTime`. */
  min_over_time: (p) => minOverTime(p),
  /** functions.go `funcMaxOverTime`. */
  max_over_time: (p) => maxOverTime(p),
  /** functions.go `funcSumOverTime`. */
  sum_over_time: (p) => sumOverTime(p),
  /** functions.go `funcCountOverTime`: float64(len(points)). */
  count_over_time: (p) => (p.length === 0 ? undefined : p.length),
  /** functions.go `funcLastOverTime`: the newest value (the output keeps `__name__`). */
  last_over_time: (p) => (p.length === 0 ? undefined : (p.v[p.length - 1] as number)),
  /** functions.go `funcQuantileOverTime` → quantile.go `quantile(φ = args[0], values)`. */
  quantile_over_time: (p, _ctx, args) => {
    if (p.length === 0) return undefined;
    const values: number[] = new Array<number>(p.length);
    for (let i = 0; i < p.length; i++) values[i] = p.v[i] as number;
    return quantile(args[0] as number, values);
  },
  /** functions.go `funcStddevOverTime`: math.Sqrt of the stdvar accumulation. */
  stddev_over_time: (p) => (p.length === 0 ? undefined : Math.sqrt(stdvar(p))),
  /** functions.go `funcStdvarOverTime`. */
  stdvar_over_time: (p) => (p.length === 0 ? undefined : stdvar(p)),
  /** functions.go `funcPresentOverTime`: 1 for any series with a point in the window. */
  present_over_time: (p) => (p.length === 0 ? undefined : 1),
} satisfies Record<string, RangeFunction>);
