/**
 * PromQL parsing: `@prometheus-io/lezer-promql` (pinned 0.315.0 — node names change between
 * releases) gives the syntax tree; this file walks it into Vigil's AST and applies the checks
 * Prometheus's own parser makes (promql/parser/parse.go `checkAST`, functions.go signatures), so a
 * rule Vigil accepts is one Prometheus accepts, with the same meaning. Everything that cannot be
 * evaluated over one instant snapshot is refused here (VIGIL_ERR_PROMQL_UNSUPPORTED), never later.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { RE2JS } from 're2js';
import type {
  AggregateOp,
  AtModifier,
  BinaryOp,
  Cardinality,
  LabelMatcher,
  MatchOp,
  PromqlExpr,
  PromqlType,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { PromqlError } from './errors.js';
import { formatFloatF6, goRound } from './gomath.js';
import { METRIC_NAME, newMatcher } from './labels.js';

/** lezer's SyntaxNode, named through @lezer/lr (the package we depend on) rather than @lezer/common. */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

interface FuncSig {
  readonly args: readonly PromqlType[];
  /** 0: exactly args.length; n > 0: up to n more (of the last type)… as Prometheus: min = args.length - 1. -1: unbounded. */
  readonly variadic: number;
  readonly ret: PromqlType;
}

const V: PromqlType = 'vector';
const S: PromqlType = 'scalar';
const STR: PromqlType = 'string';
const M: PromqlType = 'matrix';
const simple: FuncSig = { args: [V], variadic: 0, ret: V };
const range: FuncSig = { args: [M], variadic: 0, ret: V };
const date: FuncSig = { args: [V], variadic: 1, ret: V };

/** The functions Vigil evaluates: Prometheus 2.42's, but the experimental native-histogram ones (signatures from promql/parser/functions.go). */
export const SUPPORTED_FUNCTIONS: Readonly<Record<string, FuncSig>> = {
  abs: simple,
  absent: simple,
  ceil: simple,
  floor: simple,
  exp: simple,
  ln: simple,
  log2: simple,
  log10: simple,
  sqrt: simple,
  sgn: simple,
  sort: simple,
  sort_desc: simple,
  sin: simple,
  cos: simple,
  tan: simple,
  asin: simple,
  acos: simple,
  atan: simple,
  sinh: simple,
  cosh: simple,
  tanh: simple,
  asinh: simple,
  acosh: simple,
  atanh: simple,
  deg: simple,
  rad: simple,
  clamp: { args: [V, S, S], variadic: 0, ret: V },
  clamp_max: { args: [V, S], variadic: 0, ret: V },
  clamp_min: { args: [V, S], variadic: 0, ret: V },
  round: { args: [V, S], variadic: 1, ret: V },
  scalar: { args: [V], variadic: 0, ret: S },
  vector: { args: [S], variadic: 0, ret: V },
  time: { args: [], variadic: 0, ret: S },
  pi: { args: [], variadic: 0, ret: S },
  label_replace: { args: [V, STR, STR, STR, STR], variadic: 0, ret: V },
  label_join: { args: [V, STR, STR, STR], variadic: -1, ret: V },
  timestamp: simple,
  histogram_quantile: { args: [S, V], variadic: 0, ret: V },
  rate: range,
  irate: range,
  increase: range,
  delta: range,
  idelta: range,
  deriv: range,
  changes: range,
  resets: range,
  avg_over_time: range,
  min_over_time: range,
  max_over_time: range,
  sum_over_time: range,
  count_over_time: range,
  last_over_time: range,
  stddev_over_time: range,
  stdvar_over_time: range,
  present_over_time: range,
  absent_over_time: range,
  quantile_over_time: { args: [S, M], variadic: 0, ret: V },
  predict_linear: { args: [M, S], variadic: 0, ret: V },
  holt_winters: { args: [M, S, S], variadic: 0, ret: V },
  day_of_month: date,
  day_of_week: date,
  day_of_year: date,
  days_in_month: date,
  hour: date,
  minute: date,
  month: date,
  year: date,
};

function unsupportedReason(func: string): string {
  if (func.startsWith('histogram_')) return 'Vigil has no native histograms (classic buckets: histogram_quantile)';
  if (func === 'double_exponential_smoothing') return 'it is Prometheus 3\'s experimental name of holt_winters, which Vigil evaluates';
  return 'it is not in Prometheus 2.42 or is experimental (behind a feature flag)';
}

const DOC_TYPE: Record<PromqlType | 'matrix', string> = { scalar: 'scalar', vector: 'instant vector', string: 'string', matrix: 'range vector' };

const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Atan2: 'atan2',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const AGGREGATE_OPS: Readonly<Record<string, AggregateOp>> = {
  Sum: 'sum',
  Avg: 'avg',
  Min: 'min',
  Max: 'max',
  Count: 'count',
  Group: 'group',
  Stddev: 'stddev',
  Stdvar: 'stdvar',
  Topk: 'topk',
  Bottomk: 'bottomk',
  Quantile: 'quantile',
  CountValues: 'count_values',
};

const MATCH_OPS: Readonly<Record<string, MatchOp>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

export const isComparison = (op: BinaryOp): boolean =>
  op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
export const isSetOp = (op: BinaryOp): boolean => op === 'and' || op === 'or' || op === 'unless';

/**
 * Parses a PromQL expression into Vigil's AST; throws `PromqlError` (PARSE or UNSUPPORTED). A
 * rule's expression (the default) may not be a range vector; a query's (`anyType`) may.
 */
export function parsePromql(text: string, options: { anyType?: boolean } = {}): PromqlExpr {
  const e = new Walker(text).parse();
  // a rule's result is an instant vector or a scalar (Prometheus fails such a rule at every evaluation)
  if (e.type === 'matrix' && options.anyType !== true) throw new PromqlError('VIGIL_ERR_PROMQL_PARSE', 'a rule expression must be an instant vector or a scalar, got a range vector (wrap it in a function such as rate())', e.start);
  return e;
}

class Walker {
  constructor(private readonly text: string) {
    this.parsed = text;
  }

  /**
   * The text lezer parses: the source with each `holt_winters(` call renamed `day_of_month(` (same
   * length, so offsets hold) — the grammar of Prometheus 3 no longer knows the 2.42 name; the
   * call's name is read back from the source.
   */
  private parsed: string;

  parse(): PromqlExpr {
    for (;;) {
      try {
        return this.parseOnce();
      } catch (e) {
        const at = e instanceof PromqlError && /^unknown function with name "holt_winters"$/.test(e.message) ? e.offset : undefined;
        if (at === undefined) throw e;
        this.parsed = this.parsed.slice(0, at) + 'day_of_month' + this.parsed.slice(at + 'holt_winters'.length);
      }
    }
  }

  private parseOnce(): PromqlExpr {
    const tree = parser.parse(this.parsed);
    let firstError: SyntaxNode | undefined;
    tree.iterate({
      enter: (n) => {
        if (firstError !== undefined) return false;
        if (n.type.isError) {
          firstError = n.node;
          return false;
        }
        return undefined;
      },
    });
    if (firstError !== undefined) this.syntaxError(firstError);
    const top = kids(tree.topNode);
    const root = top[0];
    if (root === undefined) throw new PromqlError('VIGIL_ERR_PROMQL_PARSE', 'no expression found in input', 0);
    return this.expr(root);
  }

  private syntaxError(n: SyntaxNode): never {
    const at = n.from;
    // `foo(x)` with an unknown function name: lezer reads `foo` as a selector and fails at "(".
    const before = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(this.text.slice(0, at));
    if (this.text[at] === '(' && before?.[1] !== undefined && !/^(by|without|on|ignoring|group_left|group_right|bool)$/i.test(before[1])) {
      throw new PromqlError('VIGIL_ERR_PROMQL_PARSE', `unknown function with name "${before[1]}"`, at - before[0].length);
    }
    const tok = this.text.slice(at, Math.max(n.to, at + 1)).trim();
    const msg = at >= this.text.length || tok === '' ? 'unexpected end of input' : `unexpected ${JSON.stringify(tok)}`;
    throw new PromqlError('VIGIL_ERR_PROMQL_PARSE', `syntax error at offset ${at}: ${msg}`, at);
  }

  private src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  private parseError(message: string, offset: number): never {
    throw new PromqlError('VIGIL_ERR_PROMQL_PARSE', message, offset);
  }

  private unsupported(construct: string, reason: string, offset: number): never {
    throw new PromqlError('VIGIL_ERR_PROMQL_UNSUPPORTED', `${construct} is not supported: ${reason}`, offset, construct);
  }

  private expr(n: SyntaxNode): PromqlExpr {
    switch (n.name) {
      case 'ParenExpr': {
        const inner = this.expr(need(kids(n)[0], n));
        return { kind: 'paren', expr: inner, type: inner.type, start: n.from, end: n.to };
      }
      case 'NumberDurationLiteral':
        return this.numberLiteral(n);
      case 'StringLiteral':
        return { kind: 'string', value: this.unquote(n), type: 'string', start: n.from, end: n.to };
      case 'VectorSelector':
        return this.selector(n);
      case 'UnaryExpr': {
        const [opNode, argNode] = kids(n);
        const op = this.src(need(opNode, n)) === '-' ? '-' : '+';
        const arg = this.expr(need(argNode, n));
        if (arg.type !== 'scalar' && arg.type !== 'vector') {
          this.parseError(`unary expression only allowed on expressions of type scalar or instant vector, got "${DOC_TYPE[arg.type]}"`, n.from);
        }
        return { kind: 'unary', op, expr: arg, type: arg.type, start: n.from, end: n.to };
      }
      case 'BinaryExpr':
        return this.binary(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'FunctionCall':
        return this.call(n);
      case 'MatrixSelector':
        return this.matrix(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offsetExpr(n);
      case 'StepInvariantExpr':
        return this.atExpr(n);
      case 'AnchoredExpr':
      case 'SmoothedExpr': {
        const kw = kids(n).at(-1);
        return this.unsupported(`${n.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier`, 'it is experimental and needs sample history', kw?.from ?? n.from);
      }
      default:
        return this.parseError(`unexpected ${n.name} ${JSON.stringify(this.src(n))}`, n.from);
    }
  }

  /** A duration in a range, step or offset (`5m`, `1h30m`), in ms; Prometheus 2.42 takes no other form there. */
  private duration(n: SyntaxNode, what: string): number {
    const raw = this.src(n).trim();
    const seconds = /^[0-9]/.test(raw) && /[a-z]$/.test(raw) ? parseDurationSeconds(raw) : undefined;
    if (seconds === undefined) this.unsupported(`${what} "${raw}"`, 'Prometheus 2.42 takes a duration literal there (such as 5m or 1h30m)', n.from);
    return Math.round(seconds * 1000);
  }

  /** `selector[range]` (2.42 generated_parser.y matrix_selector). */
  private matrix(n: SyntaxNode): PromqlExpr {
    const [inner, durNode] = kids(n);
    const vs = this.expr(need(inner, n));
    if (vs.kind !== 'selector') return this.parseError('ranges only allowed for vector selectors', n.from);
    if (vs.offsetMs !== 0) this.parseError('no offset modifiers allowed before range', n.from);
    if (vs.at !== undefined) this.parseError('no @ modifiers allowed before range', n.from);
    const rangeMs = this.duration(need(durNode, n), 'range');
    return { kind: 'matrix', selector: vs, rangeMs, type: 'matrix', start: n.from, end: n.to };
  }

  /** `expr[range:step]` (2.42 checkAST: only over an instant vector). */
  private subquery(n: SyntaxNode): PromqlExpr {
    const parts = kids(n);
    const expr = this.expr(need(parts[0], n));
    if (expr.type !== 'vector') this.parseError(`subquery is only allowed on instant vector, got ${DOC_TYPE[expr.type]} instead`, n.from);
    const rangeMs = this.duration(need(parts[1], n), 'subquery range');
    const stepMs = parts[2] === undefined ? 0 : this.duration(parts[2], 'subquery step');
    return { kind: 'subquery', expr, rangeMs, stepMs, offsetMs: 0, at: undefined, type: 'matrix', start: n.from, end: n.to };
  }

  /**
   * Applies `offset` or `@` to what it follows (2.42 parse.go addOffset / setTimestamp: a selector,
   * range selector or subquery). In Prometheus's grammar the modifier binds tighter than any
   * operator (`a - b offset 1h` is `a - (b offset 1h)`); lezer's attaches it to the whole binary or
   * unary expression, so it is moved to the rightmost operand here.
   */
  private modify(e: PromqlExpr, modifier: string, n: SyntaxNode, set: (target: PromqlExpr & { kind: 'selector' | 'matrix' | 'subquery' }) => PromqlExpr): PromqlExpr {
    if (e.kind === 'binary') return { ...e, rhs: this.modify(e.rhs, modifier, n, set), end: n.to };
    if (e.kind === 'unary') return { ...e, expr: this.modify(e.expr, modifier, n, set), end: n.to };
    if (e.kind === 'selector' || e.kind === 'matrix' || e.kind === 'subquery') return set(e);
    return this.parseError(`${modifier} modifier must be preceded by an instant vector selector or range vector selector or a subquery`, n.from);
  }

  private offsetExpr(n: SyntaxNode): PromqlExpr {
    const parts = kids(n);
    const durNode = need(parts.find((k) => k.name === 'OffsetDurationExpr'), n);
    const text = this.src(durNode).replace(/\s+/g, '');
    const sign = text.startsWith('-') ? -1 : 1;
    const inner = sign < 0 ? need(kids(durNode).find((k) => k.name === 'OffsetDurationExpr'), durNode) : durNode;
    const offsetMs = sign * this.duration(inner, 'offset');
    return this.modify(this.expr(need(parts[0], n)), 'offset', n, (e) => {
      const current = e.kind === 'matrix' ? e.selector.offsetMs : e.offsetMs;
      if (current !== 0) this.parseError('offset may not be set multiple times', n.from);
      return this.withModifiers(e, { offsetMs }, n);
    });
  }

  private atExpr(n: SyntaxNode): PromqlExpr {
    const parts = kids(n);
    const last = need(parts.at(-1), n);
    let at: AtModifier;
    if (last.name === 'AtModifierPreprocessors') at = this.src(last).trim() === 'start' ? 'start' : 'end';
    else {
      const v = this.expr(last);
      if (v.kind !== 'number') return this.parseError(`unexpected ${JSON.stringify(this.src(last))} after @`, last.from);
      const ts = v.value;
      if (!Number.isFinite(ts) || ts * 1000 >= 9223372036854775807 || ts * 1000 <= -9223372036854775808) {
        this.parseError(`timestamp out of bounds for @ modifier: ${formatFloatF6(ts)}`, n.from);
      }
      // timestamp.FromFloatSeconds: int64(math.Round(ts * 1000))
      at = goRound(ts * 1000);
    }
    return this.modify(this.expr(need(parts[0], n)), '@', n, (e) => {
      const current = e.kind === 'matrix' ? e.selector.at : e.at;
      if (current !== undefined) this.parseError('@ <timestamp> may not be set multiple times', n.from);
      return this.withModifiers(e, { at }, n);
    });
  }

  /** `e` with an offset or `@` set (a range selector's go to its vector selector), spanning to the end of `n`. */
  private withModifiers(e: PromqlExpr & { kind: 'selector' | 'matrix' | 'subquery' }, m: { offsetMs?: number; at?: AtModifier }, n: SyntaxNode): PromqlExpr {
    if (e.kind === 'matrix') return { ...e, selector: { ...e.selector, ...m }, end: n.to };
    return { ...e, ...m, end: n.to };
  }

  private numberLiteral(n: SyntaxNode): PromqlExpr {
    const raw = this.src(n);
    let sign = 1;
    let body = raw;
    let offset = n.from;
    if (raw[0] === '-' || raw[0] === '+') {
      sign = raw[0] === '-' ? -1 : 1;
      const rest = stripSkipped(raw.slice(1));
      offset = n.to - rest.length;
      body = rest;
    }
    const value = sign * this.number(body, offset);
    return { kind: 'number', value, type: 'scalar', start: n.from, end: n.to };
  }

  /** Prometheus `parser.number` (strconv.ParseInt base 0, then ParseFloat) plus duration literals (seconds). */
  private number(s: string, offset: number): number {
    const lower = s.toLowerCase();
    if (lower === 'inf') return Infinity;
    if (lower === 'nan') return NaN;
    const dur = parseDurationSeconds(s);
    if (dur !== undefined) return dur;
    const t = s.replace(/_/g, '');
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) {
      const big = BigInt(t);
      if (big > 9223372036854775807n) this.parseError(`error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`, offset);
      return Number(big);
    }
    if (/^0[0-7]+$/.test(t)) {
      const big = BigInt(`0o${t.slice(1)}`);
      return Number(big);
    }
    const v = Number(t);
    if (t === '' || Number.isNaN(v)) this.parseError(`error parsing number: ${JSON.stringify(s)}`, offset);
    return v;
  }

  /** Go-style unquoting of a PromQL string literal (prometheus util/strutil.Unquote). */
  private unquote(n: SyntaxNode): string {
    const raw = this.src(n);
    const q = raw[0];
    if (raw.length < 2 || raw[raw.length - 1] !== q) {
      this.parseError(q === '`' ? 'unterminated raw string' : 'unterminated quoted string', n.from);
    }
    const body = raw.slice(1, -1);
    if (q === '`') return body.replace(/\r/g, '');
    if (!body.includes('\\')) return body;
    const bytes: number[] = [];
    const enc = new TextEncoder();
    const pushStr = (s: string): void => {
      for (const b of enc.encode(s)) bytes.push(b);
    };
    const bad = (i: number): never => this.parseError(`error unquoting string ${JSON.stringify(raw)}: invalid syntax`, n.from + 1 + i);
    for (let i = 0; i < body.length; ) {
      const c = body[i] as string;
      if (c !== '\\') {
        const cp = body.codePointAt(i) as number;
        const ch = String.fromCodePoint(cp);
        pushStr(ch);
        i += ch.length;
        continue;
      }
      const e = body[i + 1];
      switch (e) {
        case 'a':
          bytes.push(7);
          i += 2;
          break;
        case 'b':
          bytes.push(8);
          i += 2;
          break;
        case 'f':
          bytes.push(12);
          i += 2;
          break;
        case 'n':
          bytes.push(10);
          i += 2;
          break;
        case 'r':
          bytes.push(13);
          i += 2;
          break;
        case 't':
          bytes.push(9);
          i += 2;
          break;
        case 'v':
          bytes.push(11);
          i += 2;
          break;
        case '\\':
          bytes.push(92);
          i += 2;
          break;
        case "'":
        case '"':
          if (e !== q) bad(i);
          bytes.push(e.charCodeAt(0));
          i += 2;
          break;
        case 'x': {
          const h = body.slice(i + 2, i + 4);
          if (!/^[0-9a-fA-F]{2}$/.test(h)) bad(i);
          bytes.push(parseInt(h, 16));
          i += 4;
          break;
        }
        case 'u':
        case 'U': {
          const len = e === 'u' ? 4 : 8;
          const h = body.slice(i + 2, i + 2 + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) bad(i);
          const cp = parseInt(h, 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bad(i);
          pushStr(String.fromCodePoint(cp));
          i += 2 + len;
          break;
        }
        default: {
          const o = body.slice(i + 1, i + 4);
          if (!/^[0-7]{3}$/.test(o)) bad(i);
          const v = parseInt(o, 8);
          if (v > 255) bad(i);
          bytes.push(v);
          i += 4;
        }
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  private labelName(n: SyntaxNode): string {
    if (n.name === 'QuotedLabelName') return this.unquote(need(kids(n)[0], n));
    return this.src(n);
  }

  private selector(n: SyntaxNode): VectorSelector {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    let nameMatcher: LabelMatcher | undefined;
    for (const k of kids(n)) {
      if (k.name === 'Identifier') {
        name = this.src(k);
        nameMatcher = newMatcher(METRIC_NAME, '=', name);
      } else if (k.name === 'LabelMatchers') {
        for (const m of kids(k)) {
          if (m.name === 'QuotedLabelName') {
            matchers.push(newMatcher(METRIC_NAME, '=', this.labelName(m)));
            continue;
          }
          const [ln, opNode, valNode] = kids(m);
          const label = this.labelName(need(ln, m));
          const opTok = kids(need(opNode, m))[0];
          const op = MATCH_OPS[opTok?.name ?? ''];
          if (op === undefined) this.parseError(`unexpected label matcher operator ${JSON.stringify(this.src(need(opNode, m)))}`, m.from);
          const value = this.unquote(need(valNode, m));
          try {
            matchers.push(newMatcher(label, op, value));
          } catch (err) {
            this.parseError(err instanceof Error ? err.message : String(err), m.from);
          }
        }
      }
    }
    if (nameMatcher !== undefined) {
      const dup = matchers.find((m) => m.name === METRIC_NAME);
      if (dup !== undefined) this.parseError(`metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(dup.value)}`, n.from);
      matchers.push(nameMatcher);
    } else if (!matchers.some((m) => !m.matches(''))) {
      this.parseError('vector selector must contain at least one non-empty matcher', n.from);
    }
    const key = JSON.stringify(matchers.map((m) => [m.name, m.op, m.value]));
    return { kind: 'selector', name, matchers, key, offsetMs: 0, at: undefined, type: 'vector', start: n.from, end: n.to };
  }

  private groupingLabels(n: SyntaxNode): string[] {
    return kids(n).map((k) => this.labelName(k));
  }

  private binary(n: SyntaxNode): PromqlExpr {
    const parts = kids(n);
    const lhsNode = need(parts[0], n);
    const opNode = need(parts[1], n);
    const rhsNode = need(parts.at(-1), n);
    const opName = opNode.name;
    if (opName === 'TrimUpper' || opName === 'TrimLower') {
      this.unsupported(`operator "${this.src(opNode)}"`, 'it trims native histograms (experimental), which Vigil does not have', opNode.from);
    }
    const op = BINARY_OPS[opName];
    if (op === undefined) this.parseError(`unexpected operator ${JSON.stringify(this.src(opNode))}`, opNode.from);

    // lezer glues a sign to a number literal ("-2"), which binds tighter than `^`; Prometheus parses a
    // leading sign as a unary operator at the precedence of `*`, so `-2 ^ 2` is -(2 ^ 2) = -4.
    const lhsText = this.src(lhsNode);
    if (op === '^' && lhsNode.name === 'NumberDurationLiteral' && (lhsText[0] === '-' || lhsText[0] === '+')) {
      const rest = stripSkipped(lhsText.slice(1));
      const litStart = lhsNode.to - rest.length;
      const lit: PromqlExpr = { kind: 'number', value: this.number(rest, litStart), type: 'scalar', start: litStart, end: lhsNode.to };
      const inner = this.binaryNode(n, op, lit, parts.slice(2, -1), rhsNode, opNode, litStart);
      return { kind: 'unary', op: lhsText[0] === '-' ? '-' : '+', expr: inner, type: inner.type, start: n.from, end: n.to };
    }
    return this.binaryNode(n, op, this.expr(lhsNode), parts.slice(2, -1), rhsNode, opNode, n.from);
  }

  private binaryNode(n: SyntaxNode, op: BinaryOp, lhs: PromqlExpr, modifiers: SyntaxNode[], rhsNode: SyntaxNode, opNode: SyntaxNode, start: number): PromqlExpr {
    const rhs = this.expr(rhsNode);
    let returnBool = false;
    let card: Cardinality = 'one-to-one';
    let on = false;
    let labels: string[] = [];
    let include: string[] = [];
    for (const m of modifiers) {
      if (m.name === 'BoolModifier') returnBool = true;
      else if (m.name === 'MatchingModifierClause') {
        for (const c of kids(m)) {
          if (c.name === 'On') on = true;
          else if (c.name === 'Ignoring') on = false;
          else if (c.name === 'GroupLeft') card = 'many-to-one';
          else if (c.name === 'GroupRight') card = 'one-to-many';
          else if (c.name === 'GroupingLabels') {
            if (card === 'one-to-one') labels = this.groupingLabels(c);
            else include = this.groupingLabels(c);
          }
        }
      } else if (m.name === 'FillModifier') {
        this.unsupported('fill modifier', 'it is experimental in Prometheus (behind a feature flag)', m.from);
      }
    }
    const opAt = opNode.from;
    const lt = lhs.type;
    const rt = rhs.type;
    if (returnBool && !isComparison(op)) this.parseError('bool modifier can only be used on comparison operators', opAt);
    if (isComparison(op) && !returnBool && lt === 'scalar' && rt === 'scalar') this.parseError('comparisons between scalars must use BOOL modifier', opAt);
    if (isSetOp(op) && card === 'one-to-one') card = 'many-to-many';
    if (on) {
      for (const l of labels) if (include.includes(l)) this.parseError(`label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`, opAt);
    }
    if (lt !== 'scalar' && lt !== 'vector') this.parseError('binary expression must contain only scalar and instant vector types', lhs.start);
    if (rt !== 'scalar' && rt !== 'vector') this.parseError('binary expression must contain only scalar and instant vector types', rhs.start);
    let matching: VectorMatching | null = { card, on, labels: [...labels].sort(), include };
    if (lt !== 'vector' || rt !== 'vector') {
      if (labels.length > 0) this.parseError('vector matching only allowed between instant vectors', start);
      matching = null;
    } else if (isSetOp(op) && (card === 'one-to-many' || card === 'many-to-one')) {
      this.parseError(`no grouping allowed for "${op}" operation`, start);
    }
    if ((lt === 'scalar' || rt === 'scalar') && isSetOp(op)) this.parseError(`set operator "${op}" not allowed in binary scalar expression`, start);
    const type: PromqlType = lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
    return { kind: 'binary', op, lhs, rhs, returnBool, matching, type, start, end: n.to };
  }

  private aggregate(n: SyntaxNode): PromqlExpr {
    let op: AggregateOp | undefined;
    let grouping: string[] = [];
    let without = false;
    let body: SyntaxNode | undefined;
    for (const k of kids(n)) {
      if (k.name === 'AggregateOp') {
        const t = kids(k)[0];
        const name = t?.name ?? '';
        if (name === 'LimitK' || name === 'LimitRatio') {
          this.unsupported(`aggregation ${this.src(k)}()`, 'it is experimental in Prometheus (behind a feature flag)', n.from);
        }
        op = AGGREGATE_OPS[name];
        if (op === undefined) this.parseError(`unknown aggregation ${JSON.stringify(this.src(k))}`, k.from);
      } else if (k.name === 'AggregateModifier') {
        for (const c of kids(k)) {
          if (c.name === 'Without') without = true;
          else if (c.name === 'By') without = false;
          else if (c.name === 'GroupingLabels') grouping = this.groupingLabels(c);
        }
      } else if (k.name === 'FunctionCallBody') body = k;
    }
    if (op === undefined || body === undefined) return this.parseError('malformed aggregation', n.from);
    const args = kids(body);
    const withParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    if (args.length === 0) this.parseError('no arguments for aggregate expression provided', body.from);
    const want = withParam ? 2 : 1;
    if (args.length !== want) this.parseError(`wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`, body.from);
    const param = withParam ? this.expr(need(args[0], body)) : undefined;
    const expr = this.expr(need(args.at(-1), body));
    if (expr.type !== 'vector') this.parseError(`expected type instant vector in aggregation expression, got ${DOC_TYPE[expr.type]}`, expr.start);
    if (param !== undefined) {
      const wantType: PromqlType = op === 'count_values' ? 'string' : 'scalar';
      if (param.type !== wantType) this.parseError(`expected type ${DOC_TYPE[wantType]} in aggregation parameter, got ${DOC_TYPE[param.type]}`, param.start);
    }
    return { kind: 'aggregate', op, expr, param, grouping: [...new Set(grouping)].sort(), without, type: 'vector', start: n.from, end: n.to };
  }

  private call(n: SyntaxNode): PromqlExpr {
    const [idNode, bodyNode] = kids(n);
    const func = this.src(need(idNode, n));
    const sig = SUPPORTED_FUNCTIONS[func];
    if (sig === undefined) this.unsupported(`function ${func}()`, unsupportedReason(func), n.from);
    const argNodes = kids(need(bodyNode, n));
    const nargs = sig.args.length;
    if (sig.variadic === 0) {
      if (nargs !== argNodes.length) this.parseError(`expected ${nargs} argument(s) in call to ${JSON.stringify(func)}, got ${argNodes.length}`, n.from);
    } else {
      const na = nargs - 1;
      if (na > argNodes.length) this.parseError(`expected at least ${na} argument(s) in call to ${JSON.stringify(func)}, got ${argNodes.length}`, n.from);
      else if (sig.variadic > 0 && na + sig.variadic < argNodes.length) {
        this.parseError(`expected at most ${na + sig.variadic} argument(s) in call to ${JSON.stringify(func)}, got ${argNodes.length}`, n.from);
      }
    }
    const args = argNodes.map((a) => this.expr(a));
    args.forEach((a, i) => {
      const want = sig.args[Math.min(i, nargs - 1)] as PromqlType;
      if (a.type !== want) this.parseError(`expected type ${DOC_TYPE[want]} in call to function ${JSON.stringify(func)}, got ${DOC_TYPE[a.type]}`, a.start);
    });
    if (func === 'label_replace') this.checkLabelReplace(args, n.from);
    if (func === 'label_join') this.checkLabelJoin(args, n.from);
    return { kind: 'call', func, args, type: sig.ret, start: n.from, end: n.to };
  }

  /**
   * label_replace/label_join validate their string arguments before evaluating anything, so in
   * Prometheus they fail on every evaluation; Vigil refuses them when the rule is loaded.
   */
  private checkLabelReplace(args: readonly PromqlExpr[], at: number): void {
    const [, dst, , , re] = args.map(stringValue);
    try {
      compileRegexForReplace(re ?? '');
    } catch {
      this.parseError(`invalid regular expression in label_replace(): ${re ?? ''}`, at);
    }
    if (!validLabelName(dst ?? '')) this.parseError(`invalid destination label name in label_replace(): ${dst ?? ''}`, at);
  }

  private checkLabelJoin(args: readonly PromqlExpr[], at: number): void {
    const strs = args.map(stringValue);
    for (const src of strs.slice(3)) {
      if (!validLabelName(src ?? '')) this.parseError(`invalid source label name in label_join(): ${src ?? ''}`, at);
    }
    if (!validLabelName(strs[1] ?? '')) this.parseError(`invalid destination label name in label_join(): ${strs[1] ?? ''}`, at);
  }
}

/** The value of a string-typed argument (a string literal, possibly in parentheses). */
export function stringValue(e: PromqlExpr): string | undefined {
  let x = e;
  while (x.kind === 'paren') x = x.expr;
  return x.kind === 'string' ? x.value : undefined;
}

/** Prometheus 3 (UTF-8 validation): any non-empty, valid UTF-8 name. */
export function validLabelName(s: string): boolean {
  return s.length > 0 && !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
}

/** label_replace compiles `^(?s:REGEX)$` as given (no separate check of REGEX alone). */
export function compileRegexForReplace(re: string): RE2JS {
  return RE2JS.compile(`^(?s:${re})$`);
}

function kids(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c !== null; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
  return out;
}

function need(n: SyntaxNode | undefined, parent: SyntaxNode): SyntaxNode {
  if (n === undefined) throw new PromqlError('VIGIL_ERR_PROMQL_PARSE', `incomplete ${parent.name}`, parent.from);
  return n;
}

/** Drops the whitespace and `#` comments lezer allows between a sign and its number. */
function stripSkipped(s: string): string {
  let t = s;
  for (;;) {
    const u = t.replace(/^\s+/, '').replace(/^#[^\n]*/, '');
    if (u === t) return t;
    t = u;
  }
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** A duration literal (`5m`, `1h30m`) as seconds — Prometheus 3 accepts durations as numbers. */
function parseDurationSeconds(s: string): number | undefined {
  if (!/[a-z]$/.test(s) || /^0[xX]/.test(s)) return undefined;
  const m = DURATION_RE.exec(s);
  if (m === null) return undefined;
  const unitsMs = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
  let ms = 0;
  unitsMs.forEach((u, i) => {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * u;
  });
  return ms / 1000;
}
