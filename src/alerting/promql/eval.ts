/**
 * Instant evaluation of Vigil's PromQL AST over one snapshot, following Prometheus's engine
 * (promql/engine.go: VectorBinop, VectorscalarBinop, VectorAnd/Or/Unless, resultMetric,
 * aggregation, aggregationK, aggregationCountValues; promql/functions.go) with delayed name
 * removal off (the default): `__name__` is dropped exactly where Prometheus drops it.
 */
import type { Labels, PromqlValue, VectorSample } from '../types.js';
import type { AggregateExpr, AtModifier, BinaryExpr, BinaryOp, Call, PromqlExpr, SubqueryExpr, VectorMatching, VectorSelector } from './ast.js';
import type { RangeSeries } from './history.js';
import { bucketQuantile, quantile } from './quantile.js';
import { durationSeconds, KEEPS_METRIC_NAME, RANGE_FUNCTIONS, type RangeFunction } from './range-functions.js';
import { PromqlError } from './errors.js';
import { formatFloatF, formatFloatV, goLog10, goLog2, goPow, parseGoFloat } from './gomath.js';
import { dropMetricName, formatLabels, keyWith, keyWithout, labelsKey, METRIC_NAME, newLabels, pick, seal, sortedNames } from './labels.js';
import { compileRegexForReplace, isComparison, isSetOp, stringValue, validLabelName } from './parse.js';
import type { SeriesIndex } from './series.js';

export interface EvalInput {
  readonly series: SeriesIndex;
  /** Evaluation time, Unix milliseconds (`time()` = timeMs / 1000). */
  readonly timeMs: number;
  /** The rule's evaluation time, what `@ start()` and `@ end()` mean (inside a subquery too); timeMs when absent. */
  readonly queryTimeMs?: number;
  /** A range query's start and end (`@ start()`, `@ end()`); queryTimeMs when absent (an instant query: both are its time). */
  readonly queryStartMs?: number;
  readonly queryEndMs?: number;
  /** A query's deadline (performance.now() ms): past it, a subquery step throws VIGIL_ERR_PROMQL_TIMEOUT. Rules have none. */
  readonly deadline?: number;
  /** Where results are memoised per evaluation time; the series index's own (shared by the rules of an evaluation) when absent. */
  readonly memo?: (timeMs: number) => Map<string, unknown>;
  /** A subquery's step when it gives none: Prometheus's global evaluation_interval (1m by default). */
  readonly defaultStepMs?: number;
}

type Vec = readonly VectorSample[];
/** A range vector and the window it was selected over (what extrapolatedRate needs). */
interface Mat {
  readonly t: 'matrix';
  readonly m: readonly RangeSeries[];
  readonly startMs: number;
  readonly endMs: number;
  readonly rangeMs: number;
}
type Val = { readonly t: 'scalar'; readonly v: number } | { readonly t: 'string'; readonly v: string } | { readonly t: 'vector'; readonly s: Vec } | Mat;

const MAX_INT64 = 9223372036854774784; // largest float64 below 2^63, as engine.go maxInt64
const MIN_INT64 = -9223372036854775808;

/** Evaluates a parsed expression at one instant. Throws `PromqlError` (VIGIL_ERR_PROMQL_EXEC) where Prometheus errors. */
export function evaluate(expr: PromqlExpr, input: EvalInput): PromqlValue {
  const v = new Evaluator(input).eval(expr);
  switch (v.t) {
    case 'matrix':
      throw new PromqlError('VIGIL_ERR_PROMQL_EXEC', 'a range vector is not a rule result (wrap it in a function such as rate())', expr.start);
    case 'scalar':
      return { type: 'scalar', value: v.v };
    case 'string':
      return { type: 'string', value: v.v };
    case 'vector':
      return { type: 'vector', samples: v.s };
  }
}

function execError(message: string, at: number): never {
  throw new PromqlError('VIGIL_ERR_PROMQL_EXEC', message, at);
}

/** engine.go `ContainsSameLabelset` check after rangeEval (functions, operators) and unary minus. */
function checkUnique(vec: Vec, at: number): Vec {
  if (vec.length < 2) return vec;
  const seen = new Set<string>();
  for (const s of vec) {
    const k = labelsKey(s.labels);
    if (seen.has(k)) execError('vector cannot contain metrics with the same labelset', at);
    seen.add(k);
  }
  return vec;
}

const isArithmetic = (op: BinaryOp): boolean => !isComparison(op) && !isSetOp(op);

/** engine.go vectorElemBinop for floats: [value, keep]. */
function elemBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '^':
      return [goPow(l, r), true];
    case '%':
      return [l % r, true];
    case 'atan2':
      return [Math.atan2(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
    default:
      throw new Error(`operator ${op} not allowed between samples`);
  }
}

function signature(m: VectorMatching): (l: Labels) => string {
  if (m.on) return (l) => keyWith(l, m.labels);
  const set = new Set(m.labels);
  return (l) => keyWithout(l, set);
}

/** labels.MatchLabels(on, names...). */
function matchLabels(l: Labels, m: VectorMatching): Labels {
  const out = newLabels();
  for (const n of sortedNames(l)) {
    const listed = m.labels.includes(n);
    if (m.on ? listed : !listed && n !== METRIC_NAME) out[n] = l[n] as string;
  }
  return out;
}

/** engine.go resultMetric: the labels of a vector/vector result element. */
function resultMetric(lhs: Labels, rhs: Labels, op: BinaryOp, m: VectorMatching): Labels {
  const dropName = isArithmetic(op);
  const oneToOne = m.card === 'one-to-one';
  // Fast path: nothing to change.
  if (
    m.include.length === 0 &&
    (!dropName || dropMetricName(lhs) === lhs) &&
    (!oneToOne || (m.on ? sortedNames(lhs).every((n) => m.labels.includes(n)) : m.labels.every((n) => lhs[n] === undefined)))
  ) {
    return lhs;
  }
  const base = dropName ? dropMetricName(lhs) : lhs;
  const kept = oneToOne ? pick(base, (n) => (m.on ? m.labels.includes(n) : !m.labels.includes(n))) : base;
  if (m.include.length === 0) return kept;
  const out = newLabels();
  for (const n of sortedNames(kept)) out[n] = kept[n] as string;
  for (const ln of m.include) {
    const v = rhs[ln];
    if (v !== undefined && v !== '') out[ln] = v;
    else delete out[ln];
  }
  return out;
}

// Go container/heap over a Less function, for topk/bottomk tie behaviour identical to Prometheus.
type Less = (a: VectorSample, b: VectorSample) => boolean;
const byValue: Less = (a, b) => Number.isNaN(a.value) || a.value < b.value;
const byReverseValue: Less = (a, b) => Number.isNaN(a.value) || a.value > b.value;

function heapUp(h: VectorSample[], j0: number, less: Less): void {
  let j = j0;
  for (;;) {
    const i = ((j - 1) / 2) | 0;
    if (i === j || !less(h[j] as VectorSample, h[i] as VectorSample)) break;
    [h[i], h[j]] = [h[j] as VectorSample, h[i] as VectorSample];
    j = i;
  }
}

function heapDown(h: VectorSample[], i0: number, n: number, less: Less): boolean {
  let i = i0;
  for (;;) {
    const j1 = 2 * i + 1;
    if (j1 >= n || j1 < 0) break;
    let j = j1;
    const j2 = j1 + 1;
    if (j2 < n && less(h[j2] as VectorSample, h[j1] as VectorSample)) j = j2;
    if (!less(h[j] as VectorSample, h[i] as VectorSample)) break;
    [h[i], h[j]] = [h[j] as VectorSample, h[i] as VectorSample];
    i = j;
  }
  return i > i0;
}

/**
 * Go `sort.Sort(sort.Reverse(x))` where x orders by `less`. Go uses insertion sort up to 12
 * elements (identical result here); longer inputs may order ties differently than Go's pdqsort.
 */
function sortReverse(h: VectorSample[], less: Less): VectorSample[] {
  for (let i = 1; i < h.length; i++) {
    for (let j = i; j > 0 && less(h[j - 1] as VectorSample, h[j] as VectorSample); j--) {
      [h[j], h[j - 1]] = [h[j - 1] as VectorSample, h[j] as VectorSample];
    }
  }
  return h;
}

/** util/kahansum.Inc (Neumaier). */
function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  let nc = c;
  if (t === Infinity || t === -Infinity) nc = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) nc += sum - t + inc;
  else nc += inc - t + sum;
  return [t, nc];
}

const NO_VALUES: number[] = [];
const NO_SAMPLES: VectorSample[] = [];

interface Group {
  labels: Labels;
  value: number;
  mean: number;
  kahanC: number;
  count: number;
  incrementalMean: boolean;
  values: number[];
  heap: VectorSample[];
}

/** int64(f) as amd64 converts it (NaN, ±Inf and out-of-range give math.MinInt64). */
function goInt64(f: number): number {
  if (!Number.isFinite(f) || f >= 9223372036854775807 || f < MIN_INT64) return MIN_INT64;
  return Math.trunc(f);
}

/** Proleptic Gregorian civil date from days since 1970-01-01 (exact for |days| < 2^53). */
function civil(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function dateField(func: string, secs: number): number {
  const days = Math.floor(secs / 86400);
  const sod = secs - days * 86400;
  const { y, m, d } = civil(days);
  switch (func) {
    case 'hour':
      return Math.floor(sod / 3600);
    case 'minute':
      return Math.floor((sod % 3600) / 60);
    case 'month':
      return m;
    case 'year':
      return y;
    case 'day_of_month':
      return d;
    case 'day_of_week':
      return (((days + 4) % 7) + 7) % 7;
    case 'day_of_year': {
      let doy = d;
      for (let i = 0; i < m - 1; i++) doy += MONTH_DAYS[i] as number;
      if (m > 2 && isLeap(y)) doy++;
      return doy;
    }
    case 'days_in_month':
      return m === 2 && isLeap(y) ? 29 : (MONTH_DAYS[m - 1] as number);
    default:
      throw new Error(`not a date function: ${func}`);
  }
}

const SIMPLE: Readonly<Record<string, (v: number) => number>> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  ln: Math.log,
  log2: goLog2,
  log10: goLog10,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
  sgn: (v) => (v < 0 ? -1 : v > 0 ? 1 : v),
};

const DATE_FUNCS = new Set(['day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year']);

/** Go regexp.Expand for label_replace's replacement template ($1, ${1}, $name, ${name}, $$). */
function expandTemplate(template: string, groups: (string | null)[], names: Readonly<Record<string, number>>): string {
  let out = '';
  let t = template;
  for (;;) {
    const at = t.indexOf('$');
    if (at < 0) break;
    out += t.slice(0, at);
    t = t.slice(at + 1);
    if (t.startsWith('$')) {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const ex = extractRef(t);
    if (ex === undefined) {
      out += '$';
      continue;
    }
    t = ex.rest;
    if (ex.num >= 0) out += groups[ex.num] ?? '';
    else {
      const idx = names[ex.name];
      if (idx !== undefined) out += groups[idx] ?? '';
    }
  }
  return out + t;
}

function extractRef(str: string): { name: string; num: number; rest: string } | undefined {
  if (str === '') return undefined;
  let s = str;
  const brace = s[0] === '{';
  if (brace) s = s.slice(1);
  const m = /^[\p{L}\p{Nd}_]+/u.exec(s);
  if (m === null) return undefined;
  const name = m[0];
  let i = name.length;
  if (brace) {
    if (s[i] !== '}') return undefined;
    i++;
  }
  let num = 0;
  for (const ch of name) {
    if (ch < '0' || ch > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + (ch.charCodeAt(0) - 48);
  }
  if (name[0] === '0' && name.length > 1) num = -1;
  return { name, num, rest: s.slice(i) };
}

const canonicalText = new WeakMap<PromqlExpr, string>();

/** A position-free text of an expression: equal texts ⇔ the same computation. Computed once per node. */
function canonical(e: PromqlExpr): string {
  let c = canonicalText.get(e);
  if (c === undefined) {
    // Numbers as text: JSON would turn NaN and ±Inf into null (and -0 into 0), merging distinct expressions.
    c = JSON.stringify(e, (k, v: unknown) =>
      k === 'start' || k === 'end' || k === 'matchers' ? undefined : typeof v === 'number' ? `#${Object.is(v, -0) ? '-0' : String(v)}` : v,
    );
    canonicalText.set(e, c);
  }
  return c;
}

class Evaluator {
  private readonly memo: Map<string, unknown>;

  constructor(private readonly input: EvalInput) {
    this.memo = input.memo?.(input.timeMs) ?? input.series.evaluationMemo(input.timeMs);
  }

  eval(e: PromqlExpr): Val {
    if (e.kind === 'number' || e.kind === 'string' || e.kind === 'selector' || e.kind === 'paren') return this.compute(e);
    const key = canonical(e);
    const hit = this.memo.get(key) as Val | undefined;
    if (hit !== undefined) return hit;
    const v = this.compute(e);
    this.memo.set(key, v);
    return v;
  }

  private compute(e: PromqlExpr): Val {
    switch (e.kind) {
      case 'number':
        return { t: 'scalar', v: e.value };
      case 'string':
        return { t: 'string', v: e.value };
      case 'paren':
        return this.eval(e.expr);
      case 'selector':
        return { t: 'vector', s: this.select(e) };
      case 'matrix': {
        const ref = this.refTime(e.selector.at, e.selector.offsetMs);
        const h = this.input.series.history;
        const m = h === undefined ? [] : h.range(e.selector.matchers, ref - e.rangeMs, ref);
        return { t: 'matrix', m, startMs: ref - e.rangeMs, endMs: ref, rangeMs: e.rangeMs };
      }
      case 'subquery':
        return this.subquery(e);
      case 'unary': {
        const v = this.eval(e.expr);
        if (e.op === '+') return v;
        if (v.t === 'scalar') return { t: 'scalar', v: -v.v };
        if (v.t !== 'vector') throw new Error('unary minus on a string');
        return { t: 'vector', s: checkUnique(v.s.map((s) => ({ labels: dropMetricName(s.labels), value: -s.value })), e.start) };
      }
      case 'binary':
        return this.binary(e);
      case 'aggregate':
        return { t: 'vector', s: this.aggregate(e) };
      case 'call':
        return this.call(e);
    }
  }

  /** The time a selector or subquery reads at: its `@` time (start()/end(): the rule's), else now, minus its offset. */
  private refTime(at: AtModifier, offsetMs: number): number {
    const base = at === undefined ? this.input.timeMs : at === 'start' ? (this.input.queryStartMs ?? this.queryTimeMs) : at === 'end' ? (this.input.queryEndMs ?? this.queryTimeMs) : at;
    return base - offsetMs;
  }

  private get queryTimeMs(): number {
    return this.input.queryTimeMs ?? this.input.timeMs;
  }

  /**
   * An instant selector: the snapshot when it reads at the snapshot's time (or when there is no
   * history), else the history with Prometheus's 5-minute lookback and staleness.
   */
  private select(e: VectorSelector): Vec {
    const s = this.fromSnapshot(e);
    return s ?? this.input.series.history?.instant(e.matchers, this.refTime(e.at, e.offsetMs)) ?? [];
  }

  /** The snapshot's selection when `e` reads at the snapshot's time (or there is no history to read), else undefined. */
  private fromSnapshot(e: VectorSelector): Vec | undefined {
    const idx = this.input.series;
    const plain = e.offsetMs === 0 && e.at === undefined;
    if (this.refTime(e.at, e.offsetMs) === idx.snapshotTimeMs || (idx.history === undefined && plain)) return idx.select(e.matchers, e.key);
    return undefined;
  }

  /** A selector's samples with their own times (timestamp()): the snapshot's are taken at its time. */
  private selectTimed(e: VectorSelector): ReadonlyArray<VectorSample & { readonly t: number }> {
    const idx = this.input.series;
    const s = this.fromSnapshot(e);
    if (s === undefined) return idx.history?.instant(e.matchers, this.refTime(e.at, e.offsetMs)) ?? [];
    const t = Number.isNaN(idx.snapshotTimeMs) ? this.input.timeMs : idx.snapshotTimeMs;
    return s.map((x) => ({ ...x, t }));
  }

  /**
   * `expr[range:step]` as Prometheus 2.42 evaluates it (engine.go, SubqueryExpr): steps aligned to
   * multiples of the step from the first at or after (ref − range) up to ref, `expr` evaluated at
   * each; every series' values at those steps form the range vector.
   */
  private subquery(e: SubqueryExpr): Mat {
    const ref = this.refTime(e.at, e.offsetMs);
    const step = e.stepMs > 0 ? e.stepMs : (this.input.defaultStepMs ?? 60_000);
    const from = ref - e.rangeMs;
    let start = step * Math.trunc(from / step);
    if (start < from) start += step;
    const series = new Map<string, { labels: Labels; t: number[]; v: number[] }>();
    for (let tau = start; tau <= ref; tau += step) {
      if (this.input.deadline !== undefined && performance.now() > this.input.deadline) throw new PromqlError('VIGIL_ERR_PROMQL_TIMEOUT', 'query timed out in expression evaluation', e.start);
      const inner = new Evaluator({ ...this.input, timeMs: tau, queryTimeMs: this.queryTimeMs });
      for (const s of inner.vector(e.expr)) {
        const key = labelsKey(s.labels);
        let ser = series.get(key);
        if (ser === undefined) series.set(key, (ser = { labels: s.labels, t: [], v: [] }));
        ser.t.push(tau);
        ser.v.push(s.value);
      }
    }
    const m = [...series.values()].map((s) => ({ labels: s.labels, t: Float64Array.from(s.t), v: Float64Array.from(s.v) }));
    return { t: 'matrix', m, startMs: from, endMs: ref, rangeMs: e.rangeMs };
  }

  private matrix(e: PromqlExpr): Mat {
    const v = this.eval(e);
    if (v.t !== 'matrix') throw new Error(`expected a range vector, got ${v.t}`);
    return v;
  }

  /** A function of a range vector (functions.go, 2.42): one output sample per series that yields one. */
  private rangeCall(e: Call, fn: RangeFunction): Vec {
    const { func, args } = e;
    const mi = func === 'quantile_over_time' ? 1 : 0;
    const mat = this.matrix(args[mi] as PromqlExpr);
    const scalars = args.filter((_, i) => i !== mi).map((a) => this.scalar(a));
    if (func === 'absent_over_time') {
      return mat.m.length > 0 ? [] : [{ labels: absentLabels(args[0] as PromqlExpr), value: 1 }];
    }
    // evalMs is this evaluation's time. Known gap: inside a subquery, 2.42 evaluates a call with `@`
    // once at the subquery's first step (StepInvariantExpr), so predict_linear(x[…] @ t, d) there
    // fits around that first step; here it fits around each step.
    const ctx = { evalMs: this.input.timeMs, rangeStartMs: mat.startMs, rangeEndMs: mat.endMs, rangeSeconds: durationSeconds(mat.rangeMs) };
    const keep = KEEPS_METRIC_NAME.has(func);
    const out: VectorSample[] = [];
    for (const s of mat.m) {
      let v: number | undefined;
      try {
        v = fn({ t: s.t, v: s.v, length: s.t.length }, ctx, scalars);
      } catch (err) {
        execError(err instanceof Error ? err.message : String(err), e.start);
      }
      if (v !== undefined) out.push({ labels: keep ? s.labels : dropMetricName(s.labels), value: v });
    }
    return checkUnique(out, e.start);
  }

  /**
   * timestamp(): of a selector, each sample's own time; of anything else, the evaluation time (2.42
   * engine.go special case — which, with `@`, reads at the `@` time ignoring the offset, as 2.42 does).
   */
  private timestamp(e: Call): Vec {
    let a = e.args[0] as PromqlExpr;
    while (a.kind === 'paren') a = a.expr;
    const timed = a.kind === 'selector' ? this.selectTimed(a.at === undefined ? a : { ...a, offsetMs: 0 }) : this.vector(a).map((x) => ({ ...x, t: this.input.timeMs }));
    return checkUnique(
      timed.map((x) => ({ labels: dropMetricName(x.labels), value: x.t / 1000 })),
      e.start,
    );
  }

  /** histogram_quantile over classic buckets (functions.go funcHistogramQuantile, quantile.go bucketQuantile, 2.42). */
  private histogramQuantile(e: Call): Vec {
    const q = this.scalar(e.args[0] as PromqlExpr);
    const groups = new Map<string, { labels: Labels; buckets: Array<{ upper: number; count: number }> }>();
    const noLe = new Set(['le']);
    for (const s of this.vector(e.args[1] as PromqlExpr)) {
      const upper = parseGoFloat(s.labels.le ?? '');
      if (upper === undefined) continue; // not a bucket: skipped, as Prometheus does
      const key = keyWithout(s.labels, noLe);
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { labels: pick(s.labels, (n) => n !== 'le' && n !== METRIC_NAME), buckets: [] }));
      g.buckets.push({ upper, count: s.value });
    }
    return checkUnique(
      [...groups.values()].map((g) => ({ labels: g.labels, value: bucketQuantile(q, g.buckets) })),
      e.start,
    );
  }

  private vector(e: PromqlExpr): Vec {
    const v = this.eval(e);
    if (v.t !== 'vector') throw new Error(`expected an instant vector, got ${v.t}`);
    return v.s;
  }

  private scalar(e: PromqlExpr): number {
    const v = this.eval(e);
    if (v.t !== 'scalar') throw new Error(`expected a scalar, got ${v.t}`);
    return v.v;
  }

  private binary(e: BinaryExpr): Val {
    const l = this.eval(e.lhs);
    const r = this.eval(e.rhs);
    const { op } = e;
    if (l.t === 'scalar' && r.t === 'scalar') {
      const [v, keep] = elemBinop(op, l.v, r.v);
      return { t: 'scalar', v: isComparison(op) ? (keep ? 1 : 0) : v };
    }
    if (l.t === 'vector' && r.t === 'vector') {
      const m = e.matching as VectorMatching;
      let out: Vec;
      if (op === 'and') out = this.and(l.s, r.s, m);
      else if (op === 'or') out = this.or(l.s, r.s, m);
      else if (op === 'unless') out = this.unless(l.s, r.s, m);
      else out = this.vectorBinop(op, l.s, r.s, m, e.returnBool, e.start);
      return { t: 'vector', s: checkUnique(out, e.start) };
    }
    if (l.t === 'vector' && r.t === 'scalar') return { t: 'vector', s: checkUnique(this.vectorScalar(op, l.s, r.v, false, e.returnBool), e.start) };
    if (l.t === 'scalar' && r.t === 'vector') return { t: 'vector', s: checkUnique(this.vectorScalar(op, r.s, l.v, true, e.returnBool), e.start) };
    throw new Error('binary expression on strings');
  }

  private and(lhs: Vec, rhs: Vec, m: VectorMatching): Vec {
    if (lhs.length === 0 || rhs.length === 0) return [];
    const sig = signature(m);
    const right = new Set(rhs.map((s) => sig(s.labels)));
    return lhs.filter((s) => right.has(sig(s.labels)));
  }

  private or(lhs: Vec, rhs: Vec, m: VectorMatching): Vec {
    if (lhs.length === 0) return rhs;
    if (rhs.length === 0) return lhs;
    const sig = signature(m);
    const left = new Set(lhs.map((s) => sig(s.labels)));
    return [...lhs, ...rhs.filter((s) => !left.has(sig(s.labels)))];
  }

  private unless(lhs: Vec, rhs: Vec, m: VectorMatching): Vec {
    if (lhs.length === 0 || rhs.length === 0) return lhs;
    const sig = signature(m);
    const right = new Set(rhs.map((s) => sig(s.labels)));
    return lhs.filter((s) => !right.has(sig(s.labels)));
  }

  private vectorBinop(op: BinaryOp, lhs0: Vec, rhs0: Vec, m: VectorMatching, returnBool: boolean, at: number): Vec {
    if (lhs0.length === 0 || rhs0.length === 0) return [];
    const swap = m.card === 'one-to-many';
    const [lhs, rhs] = swap ? [rhs0, lhs0] : [lhs0, rhs0];
    const sig = signature(m);
    const rightSigs = new Map<string, VectorSample>();
    for (const rs of rhs) {
      const k = sig(rs.labels);
      const dupl = rightSigs.get(k);
      if (dupl !== undefined) {
        execError(
          `found duplicate series for the match group ${formatLabels(matchLabels(rs.labels, m))} on the ${swap ? 'left' : 'right'} hand-side of the operation: ` +
            `[${formatLabels(rs.labels)}, ${formatLabels(dupl.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
          at,
        );
      }
      rightSigs.set(k, rs);
    }
    const matched = new Map<string, Set<string> | null>();
    const out: VectorSample[] = [];
    for (const ls of lhs) {
      const k = sig(ls.labels);
      const rs = rightSigs.get(k);
      if (rs === undefined) continue;
      const [fl, fr] = swap ? [rs.value, ls.value] : [ls.value, rs.value];
      let [value, keep] = elemBinop(op, fl, fr);
      if (returnBool) value = keep ? 1 : 0;
      let metric = resultMetric(ls.labels, rs.labels, op, m);
      if (returnBool) metric = dropMetricName(metric);
      if (m.card === 'one-to-one') {
        if (matched.has(k)) execError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)', at);
        matched.set(k, null);
      } else {
        const insertSig = labelsKey(metric);
        const inserted = matched.get(k);
        if (inserted === undefined || inserted === null) matched.set(k, new Set([insertSig]));
        else if (inserted.has(insertSig)) execError('multiple matches for labels: grouping labels must ensure unique matches', at);
        else inserted.add(insertSig);
      }
      if (!keep && !returnBool) continue;
      out.push({ labels: metric, value });
    }
    return out;
  }

  private vectorScalar(op: BinaryOp, vec: Vec, scalar: number, swap: boolean, returnBool: boolean): Vec {
    const out: VectorSample[] = [];
    const drop = isArithmetic(op) || returnBool;
    for (const s of vec) {
      const [lf, rf] = swap ? [scalar, s.value] : [s.value, scalar];
      let [value, keep] = elemBinop(op, lf, rf);
      if (isComparison(op) && swap) value = rf;
      if (returnBool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (keep) out.push({ labels: drop ? dropMetricName(s.labels) : s.labels, value });
    }
    return out;
  }

  private aggregate(e: AggregateExpr): Vec {
    const { op, without, grouping } = e;
    if (op === 'count_values') return this.countValues(e);
    const param = e.param === undefined ? undefined : this.scalar(e.param);
    const vec = this.vector(e.expr);
    const groupKey = without ? ((set) => (l: Labels) => keyWithout(l, set))(new Set(grouping)) : (l: Labels) => (grouping.length === 0 ? '' : keyWith(l, grouping));
    // The group's labels are exactly what its key encodes (same order and format), so the key is sealed in.
    const groupLabels = (l: Labels, key: string): Labels => {
      const out = newLabels();
      const names: string[] = [];
      if (without) {
        for (const n of sortedNames(l)) {
          if (n === METRIC_NAME || grouping.includes(n)) continue;
          out[n] = l[n] as string;
          names.push(n);
        }
      } else {
        for (const n of grouping) {
          const v = l[n];
          if (v === undefined) continue;
          out[n] = v;
          names.push(n);
        }
      }
      return seal(out, names, key);
    };

    let k = 0;
    if (op === 'topk' || op === 'bottomk') {
      const p = param as number;
      if (p < 1) return [];
      if (Number.isNaN(p)) execError('Parameter value is NaN', e.start);
      if (p >= MAX_INT64) execError(`Scalar value ${formatFloatV(p)} overflows int64`, e.start);
      k = Math.min(Math.trunc(p), vec.length);
      if (k < 1) return [];
    }

    const index = new Map<string, number>();
    const groups: Group[] = [];
    for (const s of vec) {
      const key = groupKey(s.labels);
      let gi = index.get(key);
      const f = s.value;
      if (gi === undefined) {
        gi = groups.length;
        index.set(key, gi);
        const g: Group = {
          labels: op === 'topk' || op === 'bottomk' ? s.labels : groupLabels(s.labels, key),
          value: f,
          mean: f,
          kahanC: 0,
          count: 1,
          incrementalMean: false,
          values: op === 'quantile' ? [f] : NO_VALUES,
          heap: op === 'topk' || op === 'bottomk' ? [] : NO_SAMPLES,
        };
        if (op === 'stddev' || op === 'stdvar') g.value = Number.isNaN(f) || !Number.isFinite(f) ? NaN : 0;
        else if (op === 'group') g.value = 1;
        else if (op === 'topk') {
          g.heap.push(s);
          heapUp(g.heap, 0, byValue);
        } else if (op === 'bottomk') {
          g.heap.push(s);
          heapUp(g.heap, 0, byReverseValue);
        }
        groups.push(g);
        continue;
      }
      const g = groups[gi] as Group;
      switch (op) {
        case 'sum':
          [g.value, g.kahanC] = kahanInc(f, g.value, g.kahanC);
          break;
        case 'avg': {
          g.count++;
          if (!g.incrementalMean) {
            const [nv, nc] = kahanInc(f, g.value, g.kahanC);
            if (nv !== Infinity && nv !== -Infinity) {
              g.value = nv;
              g.kahanC = nc;
              break;
            }
            g.incrementalMean = true;
            g.mean = g.value / (g.count - 1);
            g.kahanC /= g.count - 1;
          }
          const q = (g.count - 1) / g.count;
          [g.mean, g.kahanC] = kahanInc(f / g.count, q * g.mean, q * g.kahanC);
          break;
        }
        case 'group':
          break;
        case 'max':
          if (g.value < f || Number.isNaN(g.value)) g.value = f;
          break;
        case 'min':
          if (g.value > f || Number.isNaN(g.value)) g.value = f;
          break;
        case 'count':
          g.count++;
          break;
        case 'stddev':
        case 'stdvar': {
          g.count++;
          const delta = f - g.mean;
          g.mean += delta / g.count;
          g.value += delta * (f - g.mean);
          break;
        }
        case 'quantile':
          g.values.push(f);
          break;
        case 'topk': {
          const top = g.heap[0] as VectorSample;
          if (g.heap.length < k) {
            g.heap.push(s);
            heapUp(g.heap, g.heap.length - 1, byValue);
          } else if (top.value < f || (Number.isNaN(top.value) && !Number.isNaN(f))) {
            g.heap[0] = s;
            if (k > 1 && !heapDown(g.heap, 0, g.heap.length, byValue)) heapUp(g.heap, 0, byValue);
          }
          break;
        }
        case 'bottomk': {
          const top = g.heap[0] as VectorSample;
          if (g.heap.length < k) {
            g.heap.push(s);
            heapUp(g.heap, g.heap.length - 1, byReverseValue);
          } else if (top.value > f || (Number.isNaN(top.value) && !Number.isNaN(f))) {
            g.heap[0] = s;
            if (k > 1 && !heapDown(g.heap, 0, g.heap.length, byReverseValue)) heapUp(g.heap, 0, byReverseValue);
          }
          break;
        }
      }
    }

    if (op === 'topk' || op === 'bottomk') {
      const out: VectorSample[] = [];
      for (const g of groups) out.push(...sortReverse(g.heap, op === 'topk' ? byValue : byReverseValue));
      return out;
    }
    return groups.map((g) => {
      let value: number;
      switch (op) {
        case 'avg':
          value = g.incrementalMean ? g.mean + g.kahanC : g.value / g.count + g.kahanC / g.count;
          break;
        case 'count':
          value = g.count;
          break;
        case 'stdvar':
          value = g.value / g.count;
          break;
        case 'stddev':
          value = Math.sqrt(g.value / g.count);
          break;
        case 'quantile':
          value = quantile(param as number, g.values);
          break;
        case 'sum':
          value = g.value + g.kahanC;
          break;
        default:
          value = g.value;
      }
      return { labels: g.labels, value };
    });
  }

  private countValues(e: AggregateExpr): Vec {
    const valueLabel = stringValue(e.param as PromqlExpr) ?? '';
    if (!validLabelName(valueLabel)) execError(`invalid label name ${JSON.stringify(valueLabel)}`, e.start);
    const grouping = e.without ? [...e.grouping] : [...e.grouping, valueLabel].sort();
    const set = new Set(grouping);
    const vec = this.vector(e.expr);
    const index = new Map<string, { labels: Labels; count: number }>();
    for (const s of vec) {
      const metric = newLabels();
      for (const n of sortedNames(s.labels)) metric[n] = s.labels[n] as string;
      metric[valueLabel] = formatFloatF(s.value);
      const key = e.without ? keyWithout(metric, set) : keyWith(metric, grouping);
      const g = index.get(key);
      if (g !== undefined) {
        g.count++;
        continue;
      }
      const labels = newLabels();
      if (e.without) {
        for (const n of sortedNames(metric)) if (n !== METRIC_NAME && !set.has(n)) labels[n] = metric[n] as string;
      } else {
        for (const n of grouping) if (metric[n] !== undefined) labels[n] = metric[n];
      }
      index.set(key, { labels, count: 1 });
    }
    return [...index.values()].map((g) => ({ labels: g.labels, value: g.count }));
  }

  private call(e: Call): Val {
    const { func, args } = e;
    const simple = SIMPLE[func];
    if (simple !== undefined) {
      const vec = this.vector(args[0] as PromqlExpr);
      return { t: 'vector', s: checkUnique(vec.map((s) => ({ labels: dropMetricName(s.labels), value: simple(s.value) })), e.start) };
    }
    if (DATE_FUNCS.has(func)) {
      if (args.length === 0) {
        const secs = Math.trunc(Math.trunc(this.input.timeMs) / 1000);
        return { t: 'vector', s: [{ labels: newLabels(), value: dateField(func, secs) }] };
      }
      const vec = this.vector(args[0] as PromqlExpr);
      return { t: 'vector', s: checkUnique(vec.map((s) => ({ labels: dropMetricName(s.labels), value: dateField(func, goInt64(s.value)) })), e.start) };
    }
    const rangeFn = RANGE_FUNCTIONS[func];
    if (rangeFn !== undefined || func === 'absent_over_time') return { t: 'vector', s: this.rangeCall(e, rangeFn ?? (() => undefined)) };
    switch (func) {
      case 'timestamp':
        return { t: 'vector', s: this.timestamp(e) };
      case 'histogram_quantile':
        return { t: 'vector', s: this.histogramQuantile(e) };
      case 'time':
        return { t: 'scalar', v: Math.trunc(this.input.timeMs) / 1000 };
      case 'pi':
        return { t: 'scalar', v: Math.PI };
      case 'vector':
        return { t: 'vector', s: [{ labels: newLabels(), value: this.scalar(args[0] as PromqlExpr) }] };
      case 'scalar': {
        const vec = this.vector(args[0] as PromqlExpr);
        return { t: 'scalar', v: vec.length === 1 ? (vec[0] as VectorSample).value : NaN };
      }
      case 'round': {
        const vec = this.vector(args[0] as PromqlExpr);
        const toNearest = args.length >= 2 ? this.scalar(args[1] as PromqlExpr) : 1;
        const inv = 1 / toNearest;
        return { t: 'vector', s: checkUnique(vec.map((s) => ({ labels: dropMetricName(s.labels), value: Math.floor(s.value * inv + 0.5) / inv })), e.start) };
      }
      case 'clamp':
      case 'clamp_min':
      case 'clamp_max': {
        const vec = this.vector(args[0] as PromqlExpr);
        let min = -Infinity;
        let max = Infinity;
        if (func === 'clamp') {
          min = this.scalar(args[1] as PromqlExpr);
          max = this.scalar(args[2] as PromqlExpr);
        } else if (func === 'clamp_min') min = this.scalar(args[1] as PromqlExpr);
        else max = this.scalar(args[1] as PromqlExpr);
        if (max < min) return { t: 'vector', s: [] };
        return { t: 'vector', s: checkUnique(vec.map((s) => ({ labels: dropMetricName(s.labels), value: Math.max(min, Math.min(max, s.value)) })), e.start) };
      }
      case 'absent': {
        const vec = this.vector(args[0] as PromqlExpr);
        if (vec.length > 0) return { t: 'vector', s: [] };
        return { t: 'vector', s: [{ labels: absentLabels(args[0] as PromqlExpr), value: 1 }] };
      }
      case 'sort':
      case 'sort_desc': {
        const vec = [...this.vector(args[0] as PromqlExpr)];
        return { t: 'vector', s: checkUnique(sortReverse(vec, func === 'sort' ? byReverseValue : byValue), e.start) };
      }
      case 'label_replace':
        return { t: 'vector', s: checkUnique(this.labelReplace(args), e.start) };
      case 'label_join':
        return { t: 'vector', s: checkUnique(this.labelJoin(args), e.start) };
      default:
        throw new PromqlError('VIGIL_ERR_PROMQL_UNSUPPORTED', `function ${func}() is not supported`, e.start, `function ${func}()`);
    }
  }

  private labelReplace(args: readonly PromqlExpr[]): Vec {
    const [, dst, repl, src, regex] = args.map((a) => stringValue(a) ?? '') as [string, string, string, string, string];
    const re = compileRegexForReplace(regex);
    const names = re.namedGroups() as Readonly<Record<string, number>>;
    const vec = this.vector(args[0] as PromqlExpr);
    return vec.map((s) => {
      const m = re.matcher(s.labels[src] ?? '');
      if (!m.matches()) return s;
      const groups: (string | null)[] = [];
      for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i));
      return { labels: withLabel(s.labels, dst, expandTemplate(repl, groups, names)), value: s.value };
    });
  }

  private labelJoin(args: readonly PromqlExpr[]): Vec {
    const strs = args.map((a) => stringValue(a) ?? '');
    const dst = strs[1] as string;
    const sep = strs[2] as string;
    const srcs = strs.slice(3);
    const vec = this.vector(args[0] as PromqlExpr);
    return vec.map((s) => ({ labels: withLabel(s.labels, dst, srcs.map((l) => s.labels[l] ?? '').join(sep)), value: s.value }));
  }
}

/** labels.Builder Set: an empty value deletes the label. */
function withLabel(l: Labels, name: string, value: string): Labels {
  if ((l[name] ?? '') === value) return l;
  const out = newLabels();
  for (const n of sortedNames(l)) if (n !== name) out[n] = l[n] as string;
  if (value !== '') out[name] = value;
  return out;
}

/** functions.go createLabelsForAbsentFunction (arguments are unwrapped from parentheses first, as PreprocessExpr does). */
function absentLabels(arg: PromqlExpr): Labels {
  let e = arg;
  while (e.kind === 'paren') e = e.expr;
  const out = newLabels();
  if (e.kind === 'matrix') e = e.selector;
  if (e.kind !== 'selector') return out;
  const sel: VectorSelector = e;
  const has = new Set<string>();
  for (const m of sel.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.op === '=' && !has.has(m.name)) {
      if (m.value !== '') out[m.name] = m.value;
      else delete out[m.name];
      has.add(m.name);
    } else delete out[m.name];
  }
  return out;
}
