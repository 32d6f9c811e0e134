import { describe, expect, it } from 'vitest';
import { PromqlError, promqlErrorPosition } from './errors.js';
import { parsePromql } from './parse.js';

function failure(expr: string): PromqlError {
  try {
    parsePromql(expr);
  } catch (e) {
    if (e instanceof PromqlError) return e;
    throw e;
  }
  throw new Error(`expected ${expr} to be refused`);
}

describe('refused at load time: not in Prometheus 2.42, or experimental (VIGIL_ERR_PROMQL_UNSUPPORTED)', () => {
  it.each([
    ['histogram_count(x)', 'function histogram_count()', 0],
    ['sort_by_label(x, "a")', 'function sort_by_label()', 0],
    ['info(x)', 'function info()', 0],
    ['double_exponential_smoothing(x[5m], 0.5, 0.5)', 'function double_exponential_smoothing()', 0],
    ['mad_over_time(x[5m])', 'function mad_over_time()', 0],
    ['x + fill(0) y', 'fill modifier', 4],
    ['limitk(2, x)', 'aggregation limitk()', 0],
    ['limit_ratio(0.5, x)', 'aggregation limit_ratio()', 0],
    ['x smoothed', 'smoothed modifier', 2],
    ['x[5m+1m]', 'range "5m+1m"', 2],
  ] as const)('%s', (expr, construct, offset) => {
    const e = failure(expr);
    expect(e.code).toBe('VIGIL_ERR_PROMQL_UNSUPPORTED');
    expect(e.construct).toBe(construct);
    expect(e.offset).toBe(offset);
    expect(e.message).toContain(`${construct} is not supported`);
  });
});

describe('range selectors, offset, @, subqueries (Prometheus 2.42)', () => {
  it.each([
    ['rate(x[5m])', 'call'],
    ['sum(rate(x{a="b"}[5m] offset 1m)) > 1', 'binary'],
    ['x offset -1h', 'selector'],
    ['x @ 1700000000.5 offset 5m', 'selector'],
    ['x offset 5m @ end()', 'selector'],
    ['max_over_time(rate(x[5m])[1h:1m] offset 2m @ start())', 'call'],
    ['quantile_over_time(0.9, x[10m])', 'call'],
    ['holt_winters(x[10m], 0.5, 0.3) + holt_winters(y[5m], 0.1, 0.9)', 'binary'],
    ['histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))', 'call'],
    ['timestamp(x)', 'call'],
    ['absent_over_time(x{a="b"}[5m])', 'call'],
  ] as const)('%s parses', (expr, kind) => {
    expect(parsePromql(expr).kind).toBe(kind);
  });

  it('keeps the modifiers on the selector, in ms', () => {
    const e = parsePromql('x @ 1700000000.5 offset 5m');
    expect(e).toMatchObject({ kind: 'selector', offsetMs: 300_000, at: 1_700_000_000_500 });
    const m = parsePromql('rate(x[1h30m] offset -2m)');
    expect(m.kind === 'call' && m.args[0]).toMatchObject({ kind: 'matrix', rangeMs: 5_400_000, selector: { offsetMs: -120_000 } });
    // offset and @ bind tighter than any operator, as in Prometheus's grammar (lezer attaches them to the whole expression)
    const b = parsePromql('a - b offset 30m > 1');
    expect(b.kind === 'binary' && b.lhs.kind === 'binary' && b.lhs.rhs).toMatchObject({ kind: 'selector', name: 'b', offsetMs: 1_800_000 });
    expect(b.kind === 'binary' && b.lhs.kind === 'binary' && b.lhs.lhs).toMatchObject({ kind: 'selector', name: 'a', offsetMs: 0 });
    const u = parsePromql('-x @ 100');
    expect(u.kind === 'unary' && u.expr).toMatchObject({ kind: 'selector', at: 100_000 });
    const q = parsePromql('max_over_time(x[1h:] @ start())');
    expect(q.kind === 'call' && q.args[0]).toMatchObject({ kind: 'subquery', rangeMs: 3_600_000, stepMs: 0, at: 'start' });
  });

  it.each([
    ['x[5m]', /a rule expression must be an instant vector or a scalar, got a range vector/],
    ['rate(x)', /expected type range vector in call to function "rate", got instant vector/],
    ['sum(x)[5m]', /ranges only allowed for vector selectors/],
    ['x offset 5m offset 1m', /offset may not be set multiple times/],
    ['x @ 1 @ 2', /@ <timestamp> may not be set multiple times/],
    ['sum(x) offset 5m', /offset modifier must be preceded by an instant vector selector or range vector selector or a subquery/],
    ['(a - b) offset 5m', /offset modifier must be preceded by an instant vector selector or range vector selector or a subquery/],
    ['a - 1 @ 100', /@ modifier must be preceded by an instant vector selector or range vector selector or a subquery/],
    ['rate(x[5m])[10m:] ', /a rule expression must be an instant vector or a scalar/],
    ['x[5m][10m:]', /subquery is only allowed on instant vector, got range vector instead/],
    ['holt_winters(x[5m], 0.5)', /expected 3 argument\(s\) in call to "holt_winters", got 2/],
  ] as const)('%s is refused as Prometheus refuses it', (expr, re) => {
    expect(failure(expr).message).toMatch(re);
  });
});

describe('Prometheus parse errors (VIGIL_ERR_PROMQL_PARSE)', () => {
  it.each([
    ['sum(x', /syntax error|unexpected/, undefined],
    ['x +', /unexpected end of input/, undefined],
    ['foo(x)', /^unknown function with name "foo"$/, 0],
    ['1 + nosuchfn(x)', /^unknown function with name "nosuchfn"$/, 4],
    ['{}', /vector selector must contain at least one non-empty matcher/, 0],
    ['{a=""}', /vector selector must contain at least one non-empty matcher/, 0],
    ['{a=~".*"}', /vector selector must contain at least one non-empty matcher/, 0],
    ['{a!~".+"}', /vector selector must contain at least one non-empty matcher/, 0],
    ['x{__name__="y"}', /metric name must not be set twice/, 0],
    ['x{a=~"("}', /missing closing \)/, 2],
    ['x{a=~"a)|(b"}', /unexpected \)/, 2],
    ['1 > 2', /comparisons between scalars must use BOOL modifier/, 2],
    ['x + bool y', /bool modifier can only be used on comparison operators/, 2],
    ['x and 1', /set operator "and" not allowed in binary scalar expression/, 0],
    ['x + on(a) 1', /vector matching only allowed between instant vectors/, 0],
    ['x and on(a) group_left y', /no grouping allowed for "and" operation/, 0],
    ['x + on(a) group_left(a) y', /label "a" must not occur in ON and GROUP clause at once/, 2],
    ['sum(1)', /expected type instant vector in aggregation expression, got scalar/, 4],
    ['topk(x, y)', /expected type scalar in aggregation parameter, got instant vector/, 5],
    ['topk(y)', /wrong number of arguments for aggregate expression provided, expected 2, got 1/, 4],
    ['count_values(1, x)', /expected type string in aggregation parameter, got scalar/, 13],
    ['abs(1)', /expected type instant vector in call to function "abs", got scalar/, 4],
    ['abs(x, y)', /expected 1 argument\(s\) in call to "abs", got 2/, 0],
    ['round(x, 1, 2)', /expected at most 2 argument\(s\) in call to "round", got 3/, 0],
    ['label_join(x)', /expected at least 3 argument\(s\) in call to "label_join", got 1/, 0],
    ['vector(x)', /expected type scalar in call to function "vector", got instant vector/, 7],
    ['-"a"', /unary expression only allowed on expressions of type scalar or instant vector/, 0],
    ['"a" + 1', /binary expression must contain only scalar and instant vector types/, 0],
    ['label_replace(x, "", "b", "c", "d")', /invalid destination label name in label_replace\(\): $/, 0],
    ['label_replace(x, "a", "b", "c", "(")', /invalid regular expression in label_replace\(\): \($/, 0],
    ['label_join(x, "a", ",", "")', /invalid source label name in label_join\(\): $/, 0],
    ['x{a="b\\q"}', /error unquoting string/, 6],
    ['"unterminated', /unterminated quoted string/, 0],
  ] as const)('%s', (expr, re, offset) => {
    const e = failure(expr);
    expect(e.code).toBe('VIGIL_ERR_PROMQL_PARSE');
    expect(e.message).toMatch(re);
    if (offset !== undefined) expect(e.offset).toBe(offset);
  });
});

describe('AST shape', () => {
  it('keeps Prometheus precedence and right-associative ^', () => {
    const e = parsePromql('a + b * c ^ d ^ e');
    expect(e.kind).toBe('binary');
    if (e.kind !== 'binary') return;
    expect(e.op).toBe('+');
    const r = e.rhs;
    expect(r.kind === 'binary' && r.op).toBe('*');
    const p = r.kind === 'binary' ? r.rhs : r;
    expect(p.kind === 'binary' && p.op).toBe('^');
    expect(p.kind === 'binary' && p.rhs.kind === 'binary' && p.rhs.op).toBe('^');
  });

  it('treats a leading minus on a literal as unary at * precedence (-2^2 = -(2^2))', () => {
    const e = parsePromql('-2 ^ 2');
    expect(e.kind).toBe('unary');
  });

  it('accepts and / or / unless precedence (and binds tighter than or)', () => {
    const e = parsePromql('a or b and c');
    expect(e.kind === 'binary' && e.op).toBe('or');
  });

  it('records matching, grouping and bool', () => {
    const e = parsePromql('a > bool on(z, y) group_left(w) b');
    expect(e).toMatchObject({ kind: 'binary', op: '>', returnBool: true, matching: { card: 'many-to-one', on: true, labels: ['y', 'z'], include: ['w'] } });
    const agg = parsePromql('sum(x) without (b, a)');
    expect(agg).toMatchObject({ kind: 'aggregate', op: 'sum', without: true, grouping: ['a', 'b'] });
    const setop = parsePromql('a and ignoring(q) b');
    expect(setop).toMatchObject({ matching: { card: 'many-to-many', on: false, labels: ['q'] } });
    expect(parsePromql('a + 1')).toMatchObject({ matching: null, type: 'vector' });
    expect(parsePromql('1 + 1')).toMatchObject({ type: 'scalar' });
  });

  it('ignores comments', () => {
    expect(parsePromql('x # the metric\n > 1')).toMatchObject({ kind: 'binary', op: '>' });
  });
});

describe('promqlErrorPosition', () => {
  it('turns an offset into line and column (1-based)', () => {
    expect(promqlErrorPosition('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(promqlErrorPosition('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(promqlErrorPosition('ab\ncd', 99)).toEqual({ line: 2, column: 3 });
    const text = 'sum(\n  limitk(2, x)\n)';
    const e = failure(text);
    expect(promqlErrorPosition(text, e.offset)).toEqual({ line: 2, column: 3 });
  });
});
