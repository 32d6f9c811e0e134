/**
 * Prometheus's query API over Vigil's own sample history (`GET|POST /api/v1/query` and
 * `/api/v1/query_range`): the same parameters, the same JSON and the same errors as
 * web/api/v1/api.go (query, queryRange, parseTime, parseDuration, invalidParamError), so Grafana's
 * Prometheus data source and promtool-style scripts can read Vigil directly, and the web UI draws
 * its charts from it. What it can answer is what the history holds (`alerting.history`: an hour by
 * default, the series the rules read and the ones the UI charts).
 */
import type { Labels } from '../types.js';
import type { MatrixSelector, PromqlExpr } from './ast.js';
import { evaluate } from './eval.js';
import { PromqlError } from './errors.js';
import { formatFloatF } from './gomath.js';
import { compareStrings, labelsKey } from './labels.js';
import { parsePromql } from './parse.js';
import type { SeriesIndex } from './series.js';
import { parseDuration } from '../../core/duration.js';
import { parseRfc3339 } from '../../core/rfc3339.js';

/** Prometheus's limit: "for safety, limit the number of returned points per timeseries". */
export const MAX_POINTS = 11_000;
/**
 * Vigil's guards, as Prometheus's `--query.timeout` and `--query.max-samples`, smaller: a query
 * runs on the daemon's event loop, so it may hold it at most this long (the `timeout` parameter
 * may shorten it), and a range query's answer holds at most this many points.
 */
export const QUERY_TIMEOUT_MS = 2000;
export const MAX_RESULT_POINTS = 1_000_000;

export type QueryErrorType = 'bad_data' | 'execution' | 'timeout';

/** A failed query, as Prometheus's `apiError`: its type (400 bad_data, 422 execution, 503 timeout) and message. */
export class QueryApiError extends Error {
  constructor(
    readonly errorType: QueryErrorType,
    message: string,
  ) {
    super(message);
  }

  get statusCode(): number {
    return this.errorType === 'bad_data' ? 400 : this.errorType === 'timeout' ? 503 : 422;
  }
}

/** A point as Prometheus writes it: [unix seconds, value as Go's FormatFloat(v, 'f', -1)]. */
export type Point = [number, string];
export interface InstantSample {
  metric: Record<string, string>;
  value: Point;
}
export interface RangeSample {
  metric: Record<string, string>;
  values: Point[];
}
export type QueryData =
  | { resultType: 'vector'; result: InstantSample[] }
  | { resultType: 'matrix'; result: RangeSample[] }
  | { resultType: 'scalar' | 'string'; result: Point };

const point = (ms: number, v: number | string): Point => [ms / 1000, typeof v === 'string' ? v : formatFloatF(v)];
const metricOf = (labels: Labels): Record<string, string> => ({ ...labels });

/** labels.Compare: label pairs in name order, compared name then value; a shorter prefix first. */
function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort(compareStrings);
  const bn = Object.keys(b).sort(compareStrings);
  for (let i = 0; i < Math.min(an.length, bn.length); i++) {
    const x = an[i] as string;
    const y = bn[i] as string;
    if (x !== y) return compareStrings(x, y);
    const c = compareStrings(a[x] as string, b[y] as string);
    if (c !== 0) return c;
  }
  return an.length - bn.length;
}

/** parseTime: Unix seconds (a float, kept to the millisecond) or RFC 3339. */
export function parseQueryTime(text: string, param: string): number {
  const s = Number(text.trim());
  if (text.trim() !== '' && Number.isFinite(s)) {
    const whole = Math.trunc(s);
    return whole * 1000 + Math.round((s - whole) * 1000);
  }
  const t = parseRfc3339(text);
  if ('ms' in t) return t.ms;
  throw new QueryApiError('bad_data', `invalid parameter "${param}": cannot parse "${text}" to a valid timestamp`);
}

/** parseDuration: seconds (a float) or a Prometheus duration (`1h30m`, `15s`, `500ms`), in ms. */
export function parseQueryDuration(text: string, param: string): number {
  const s = Number(text.trim());
  if (text.trim() !== '' && Number.isFinite(s)) return s * 1000;
  try {
    return parseDuration(text);
  } catch {
    throw new QueryApiError('bad_data', `invalid parameter "${param}": cannot parse "${text}" to a valid duration`);
  }
}

function parse(text: string | undefined): PromqlExpr {
  try {
    return parsePromql(text ?? '', { anyType: true });
  } catch (e) {
    if (e instanceof PromqlError) throw new QueryApiError('bad_data', `invalid parameter "query": ${e.message}`);
    throw e;
  }
}

function execute<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PromqlError) throw new QueryApiError(e.code === 'VIGIL_ERR_PROMQL_TIMEOUT' ? 'timeout' : 'execution', e.message);
    throw e;
  }
}

const timedOut = (): QueryApiError => new QueryApiError('timeout', 'query timed out in expression evaluation');

/** A fresh memo per query: a query's results never mix with the rules' (nor with another query's `@ start()`). */
function queryMemo(): (timeMs: number) => Map<string, unknown> {
  const memos = new Map<number, Map<string, unknown>>();
  return (timeMs) => {
    let m = memos.get(timeMs);
    if (m === undefined) {
      if (memos.size >= 4096) memos.clear();
      memos.set(timeMs, (m = new Map()));
    }
    return m;
  };
}

/** `GET /api/v1/query`: one expression at one time (a range selector answers its raw samples, as Prometheus). */
export function instantQuery(series: SeriesIndex, text: string | undefined, timeMs: number, defaultStepMs: number, timeoutMs: number = QUERY_TIMEOUT_MS): QueryData {
  const deadline = performance.now() + timeoutMs;
  const expr = parse(text);
  let inner: PromqlExpr = expr;
  while (inner.kind === 'paren') inner = inner.expr;
  if (inner.kind === 'matrix') {
    const m = inner as MatrixSelector;
    const at = m.selector.at;
    const ref = (typeof at === 'number' ? at : timeMs) - m.selector.offsetMs;
    const ranges = series.history?.range(m.selector.matchers, ref - m.rangeMs, ref) ?? [];
    const result = ranges
      .filter((r) => r.t.length > 0)
      .map((r) => ({ metric: metricOf(r.labels), values: Array.from(r.t, (t, i) => point(t, r.v[i] as number)) }))
      .sort((a, b) => compareLabels(a.metric, b.metric));
    return { resultType: 'matrix', result };
  }
  const v = execute(() => evaluate(expr, { series, timeMs, queryTimeMs: timeMs, defaultStepMs, memo: queryMemo(), deadline }));
  switch (v.type) {
    case 'scalar':
      return { resultType: 'scalar', result: point(timeMs, v.value) };
    case 'string':
      return { resultType: 'string', result: point(timeMs, v.value) };
    case 'vector':
      return { resultType: 'vector', result: v.samples.map((s) => ({ metric: metricOf(s.labels), value: point(timeMs, s.value) })) };
  }
}

/**
 * `GET /api/v1/query_range`: the expression at start, start + step, … ≤ end; each series' points
 * in time order, the series in label order (a scalar: one series with no labels), as Prometheus's
 * range query.
 */
export function rangeQuery(
  series: SeriesIndex,
  text: string | undefined,
  startMs: number,
  endMs: number,
  stepMs: number,
  defaultStepMs: number,
  limits: { timeoutMs?: number; maxPoints?: number } = {},
): QueryData {
  const deadline = performance.now() + (limits.timeoutMs ?? QUERY_TIMEOUT_MS);
  const maxPoints = limits.maxPoints ?? MAX_RESULT_POINTS;
  if (endMs < startMs) throw new QueryApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
  if (!(stepMs > 0)) throw new QueryApiError('bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  if (Math.trunc((endMs - startMs) / stepMs) > MAX_POINTS) {
    throw new QueryApiError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
  const expr = parse(text);
  if (expr.type === 'string' || expr.type === 'matrix') {
    throw new QueryApiError('bad_data', `invalid expression type "${expr.type === 'matrix' ? 'range vector' : 'string'}" for range query, must be Scalar or instant Vector`);
  }
  const out = new Map<string, RangeSample>();
  const memo = queryMemo();
  let points = 0;
  for (let t = startMs; t <= endMs; t += stepMs) {
    if (performance.now() > deadline) throw timedOut();
    const v = execute(() => evaluate(expr, { series, timeMs: t, queryStartMs: startMs, queryEndMs: endMs, defaultStepMs, memo, deadline }));
    points += v.type === 'vector' ? v.samples.length : 1;
    if (points > maxPoints) throw new QueryApiError('execution', 'query processing would load too many samples into memory in query execution');
    if (v.type === 'scalar') {
      let s = out.get('');
      if (s === undefined) out.set('', (s = { metric: {}, values: [] }));
      s.values.push(point(t, v.value));
    } else if (v.type === 'vector') {
      for (const x of v.samples) {
        const key = labelsKey(x.labels);
        let s = out.get(key);
        if (s === undefined) out.set(key, (s = { metric: metricOf(x.labels), values: [] }));
        s.values.push(point(t, x.value));
      }
    }
  }
  return { resultType: 'matrix', result: [...out.values()].sort((a, b) => compareLabels(a.metric, b.metric)) };
}
