import { describe, expect, it } from 'vitest';
import { formatMatchers, matchesAll, parseMatcher, parseMatcherList, parseMatchers, quote } from './matchers.js';

describe('Alertmanager matchers', () => {
  it('parses the four operators, quoted and bare values', () => {
    expect(parseMatcher('severity="critical"')).toMatchObject({ name: 'severity', type: '=', value: 'critical' });
    expect(parseMatcher(' severity != critical ')).toMatchObject({ name: 'severity', type: '!=', value: 'critical' });
    expect(parseMatcher('model=~"fraud.*"')).toMatchObject({ name: 'model', type: '=~', value: 'fraud.*' });
    expect(parseMatcher('model!~fraud.*')).toMatchObject({ name: 'model', type: '!~', value: 'fraud.*' });
    expect(parseMatcher('msg="say \\"hi\\"\\n\\\\"').value).toBe('say "hi"\n\\');
    expect(parseMatcher('team=""').value).toBe('');
  });

  it('anchors regexes fully and treats a missing label as empty', () => {
    const m = parseMatcher('model=~"fraud.*"');
    expect(m.matches({ model: 'fraud-v2' })).toBe(true);
    expect(m.matches({ model: 'antifraud' })).toBe(false);
    expect(parseMatcher('model=~"fraud|churn"').matches({ model: 'churn' })).toBe(true);
    expect(parseMatcher('model=~"fraud|churn"').matches({ model: 'churnfraud' })).toBe(false);
    expect(parseMatcher('team=""').matches({})).toBe(true);
    expect(parseMatcher('team!=""').matches({})).toBe(false);
    expect(parseMatcher('team!~"ml.*"').matches({ team: 'ops' })).toBe(true);
    expect(parseMatcher('team!~"ml.*"').matches({ team: 'ml-platform' })).toBe(false);
    expect(parseMatcher('x=~".*"').matches({})).toBe(true);
  });

  it('parses lists with or without braces, commas inside quotes kept', () => {
    const ms = parseMatchers('{severity="critical", model=~"a,b|c", team!=ops,}');
    expect(ms.map((m) => m.toString())).toEqual(['severity="critical"', 'model=~"a,b|c"', 'team!="ops"']);
    expect(parseMatchers('{}')).toEqual([]);
    expect(formatMatchers(parseMatcherList(['severity="critical"', 'model=~"fraud.*"']))).toBe('{severity="critical",model=~"fraud.*"}');
    expect(matchesAll(ms, { severity: 'critical', model: 'a,b', team: 'ml' })).toBe(true);
    expect(matchesAll(ms, { severity: 'critical', model: 'a,b', team: 'ops' })).toBe(false);
    expect(matchesAll([], {})).toBe(true);
  });

  it('rejects invalid matchers with a coded error naming the text', () => {
    for (const bad of ['severity', '="x"', '1abc="x"', 'a=="x"', 'a="x', 'a=x"', 'a=~"(unclosed"', 'a=~"(?=lookahead)"', '{a="b"', 'a="b",,c="d"']) {
      expect(() => parseMatchers(bad), bad).toThrowError(/invalid/);
    }
    try {
      parseMatcher('a=~"(unclosed"');
    } catch (e) {
      expect((e as { code: string }).code).toBe('VIGIL_ERR_MATCHER_INVALID');
    }
  });
});

describe('quote (Go strconv.Quote, as Alertmanager prints label values)', () => {
  it('escapes as Go does: \\ and ", named control escapes, \\x below U+0080, \\u / \\U above; printable characters as they are', () => {
    expect(quote('fraud')).toBe('"fraud"');
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('\t\n\r\u0007\b\f\v')).toBe('"\\t\\n\\r\\a\\b\\f\\v"');
    expect(quote('\u0001\u007f')).toBe('"\\x01\\x7f"');
    expect(quote('é ü 中 😀 €')).toBe('"é ü 中 😀 €"');
    expect(quote('\u00a0\u2028\ufeff\u200b')).toBe('"\\u00a0\\u2028\\ufeff\\u200b"');
    expect(quote('\u{e0001}')).toBe('"\\U000e0001"');
  });
});
