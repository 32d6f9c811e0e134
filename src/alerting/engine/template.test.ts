import { describe, expect, it } from 'vitest';
import { checkTemplate, expandAlertTemplate, expandTemplate, goSprintf } from './template.js';
import { formatFloat, rfc3339 } from './gofmt.js';

const data = { labels: { instance: 'a:9090', job: 'api', model: 'churn' }, externalLabels: { cluster: 'eu1' }, externalURL: 'http://vigil:9000/prefix', value: 0.1234567 };
const ex = (text: string, value = data.value) => {
  const r = expandTemplate(text, 'test', { ...data, value });
  return r.error ?? r.text;
};

describe('template expansion (values from Prometheus template_test.go)', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{ 1 }}', '1'],
    ['{{ "<b>" }}', '<b>'],
    ['{{ reReplaceAll "(a)b" "x$1" "ab" }}', 'xa'],
    ['{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}', '-22.22%:0%:12.35%:123.5%'],
    ['{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }}', '-22.22%:0%:12.35%:123.5%'],
    ['{{ 1435065584.128 | humanizeTimestamp }}', '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ "1435065584.128" | humanizeTimestamp }}', '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ "aa bb CC" | title }}', 'Aa Bb CC'],
    ['{{ "aa bb CC" | toUpper }}', 'AA BB CC'],
    ['{{ "aA bB CC" | toLower }}', 'aa bb cc'],
    ['{{ match "a+" "aa" }} {{ match "a+" "b" }}', 'true false'],
    ['{{ graphLink "up" }}', '/graph?g0.expr=up&g0.tab=0'],
    ['{{ tableLink "up" }}', '/graph?g0.expr=up&g0.tab=1'],
    ['{{ "foo.example.com:12345" | stripPort }}', 'foo.example.com'],
    ['{{ "[2001:0DB8::1]:12345" | stripPort }}', '2001:0DB8::1'],
    ['{{ "[2001:0DB8::1]::12345" | stripPort }}', '[2001:0DB8::1]::12345'],
    ['{{ "foo.example.com:12345" | stripDomain }}', 'foo:12345'],
    ['{{ "192.0.2.1:12345" | stripDomain }}', '192.0.2.1:12345'],
    ['{{ "1h2m10ms" | parseDuration }}', '3720.01'],
    ['{{ .Foo }}', 'error executing template test: template: test:1:115: executing "test" at <.Foo>: can\'t evaluate field Foo in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }'],
    ['{{ humanize "one" }}', 'error executing template test: template: test:1:115: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax'],
    ['{{ "one" | humanizePercentage }}', 'error executing template test: template: test:1:123: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax'],
  ])('%s', (text, want) => {
    expect(ex(text)).toBe(want);
  });

  it.each([
    ['humanize', [0, 1, 1234567, 0.12, -1, 9.223372036854776e18], '0:1:1.235M:120m:-1:9.223E:'],
    ['humanize1024', [0, 1, 1048576, 0.12, 1234567, 9.223372036854776e18], '0:1:1Mi:0.12:1.177Mi:8Ei:'],
    ['humanizeDuration', [0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99], '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:'],
    ['humanizeDuration', [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345, 1234567], '100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:14d 6h 56m 7s:'],
    ['humanizePercentage', [0, -1, 1, 1234567, 9.223372036854776e18], '0%:-100%:100%:1.235e+08%:9.223e+20%:'],
    ['humanizeTimestamp', [0, -1, 1, 1234567, 9223372036], '1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:'],
  ])('%s over $value', (fn, inputs, want) => {
    expect(inputs.map((v) => ex(`{{ ${fn} $value }}`, v) + ':').join('')).toBe(want);
  });

  it('Inf and NaN through every humanizer', () => {
    const out = [Infinity, -Infinity, NaN]
      .map((v) => ['humanize', 'humanize1024', 'humanizeDuration', 'humanizeTimestamp'].map((f) => ex(`{{ ${f} $value }}`, v) + ':').join(''))
      .join('');
    expect(out).toBe('+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:');
  });

  it('string inputs to humanizers', () => {
    expect(['0.0', '1.0', '1234567.0', '.12'].map((s) => ex(`{{ humanize "${s}" }}`)).join(':')).toBe('0:1:1.235M:120m');
    expect(['+Inf', '-Inf', 'NaN'].map((s) => ex(`{{ humanize1024 "${s}" }}`)).join(':')).toBe('+Inf:-Inf:NaN');
  });

  it('humanizeTimestamp overflow error', () => {
    expect(ex('{{ humanizeTimestamp $value }}', 1.8446744073709552e19)).toBe(
      'error executing template test: template: test:1:115: executing "test" at <humanizeTimestamp $value>: error calling humanizeTimestamp: 1.8446744073709552e+19 cannot be represented as a nanoseconds timestamp since it overflows int64',
    );
  });

  it('alert variables and data', () => {
    expect(ex('{{ $labels.instance }} {{ .Labels.job }} {{ $externalLabels.cluster }} {{ $externalURL }} {{ $value }}')).toBe('a:9090 api eu1 http://vigil:9000/prefix 0.1234567');
    expect(ex('[{{ $labels.missing }}]')).toBe('[]');
    expect(ex('{{ $value }}', 1234567)).toBe('1.234567e+06');
    expect(ex('{{ $value }}', 123456)).toBe('123456');
    expect(ex('{{ $labels }}')).toBe('map[instance:a:9090 job:api model:churn]');
    expect(ex('{{ pathPrefix }} {{ externalURL }}')).toBe('/prefix http://vigil:9000/prefix');
    expect(ex('{{ index $labels "job" }}')).toBe('api');
  });

  it('if / else / with / range / comparisons / and-or-not', () => {
    expect(ex('{{ if gt $value 0.1 }}high{{ else }}low{{ end }}')).toBe('high');
    expect(ex('{{ if lt $value 0.1 }}low{{ else if lt $value 0.2 }}mid{{ else }}high{{ end }}')).toBe('mid');
    expect(ex('{{ if eq $labels.job "api" "web" }}yes{{ end }}')).toBe('yes');
    expect(ex('{{ if ne $labels.job "api" }}no{{ else }}same{{ end }}')).toBe('same');
    expect(ex('{{ with $labels.model }}model={{ . }}{{ end }}{{ with $labels.none }}x{{ else }}-{{ end }}')).toBe('model=churn-');
    expect(ex('{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}')).toBe('instance=a:9090;job=api;model=churn;');
    expect(ex('{{ and 1 0 }} {{ or 0 "" "x" }} {{ not true }} {{ and 1 2 }}')).toBe('0 x false 2');
    expect(ex('{{ le 1 1 }} {{ ge 2 3 }} {{ lt "a" "b" }}')).toBe('true false true');
    // Go refuses comparing float64 with an untyped integer constant
    expect(ex('{{ if gt $value 0 }}x{{ end }}')).toBe(
      'error executing template test: template: test:1:118: executing "test" at <gt $value 0>: error calling gt: incompatible types for comparison',
    );
  });

  it('trim markers and comments', () => {
    expect(ex('a  {{- 1 -}}  b')).toBe('a1b');
    expect(ex('a {{/* note */}} b')).toBe('a  b');
    expect(ex('a\n  {{- /* note */ -}}\n b')).toBe('ab');
    expect(ex('{{ $x := 5 }}{{ $x }}{{ $x = 6 }}{{ $x }}')).toBe('56');
    expect(ex('{{ (printf "%s-%s" $labels.job $labels.model) | toUpper }}')).toBe('API-CHURN');
  });

  it('printf verbs as Go formats them', () => {
    expect(ex('{{ printf "%.2f" $value }}')).toBe('0.12');
    expect(ex('{{ printf "%.0f%%" 99.5 }}')).toBe('100%');
    expect(ex('{{ $value | printf "%.3f" }}')).toBe('0.123');
    expect(ex('{{ printf "%d items" 3 }}')).toBe('3 items');
    expect(ex('{{ printf "%d" $value }}')).toBe('%!d(float64=0.1234567)');
    expect(ex('{{ printf "%s=%v" $labels.job 2.5 }}')).toBe('api=2.5');
    expect(ex('{{ printf "%g %e %5.1f|%-5s|" 1e6 1234.5678 3.14159 "ab" }}')).toBe('1e+06 1.234568e+03   3.1|ab   |');
    expect(ex('{{ printf "%q" "a\\"b" }}')).toBe('"a\\"b"');
    expect(ex('{{ printf "%s" }}')).toBe('%!s(MISSING)');
    expect(goSprintf('%d %s', [1n, 'x', 2.5])).toBe('1 x%!(EXTRA float64=2.5)');
  });

  it('expansion failures are Prometheus-formatted text, never a throw', () => {
    expect(expandAlertTemplate('{{ humanize $labels.job }}', 'HighErr', data)).toBe(
      '<error expanding template: error executing template __alert_HighErr: template: __alert_HighErr:1:115: executing "__alert_HighErr" at <humanize $labels.job>: error calling humanize: strconv.ParseFloat: parsing "api": invalid syntax>',
    );
    expect(expandAlertTemplate('line1\n{{ toUpper $value }}', 'X', data)).toBe(
      '<error expanding template: error executing template __alert_X: template: __alert_X:2:3: executing "__alert_X" at <toUpper $value>: wrong type for value; expected string; got float64>',
    );
  });

  it('parse errors (load-time errors, as promtool)', () => {
    expect(checkTemplate('{{', 'test')).toBe('template: test:1: unclosed action');
    expect(checkTemplate('{{\u00a0}}', 'test')).toBe('template: test:1: unrecognized character in action: U+00A0');
    expect(checkTemplate('{{ nope 1 }}', 'test')).toBe('template: test:1: function "nope" not defined');
    expect(checkTemplate('{{ if 1 }}x', 'test')).toBe('template: test:1: unexpected EOF');
    expect(checkTemplate('{{ end }}', 'test')).toBe('template: test:1: unexpected {{end}}');
    expect(checkTemplate('{{ query "up" | first | value }}', 'test')).toMatch(/function "query" is not supported/);
    expect(checkTemplate('{{ $labels.x | humanize }}', 'test')).toBeUndefined();
  });
});

describe('Go number/time formatting', () => {
  it('%e shortest (the /api/v1/alerts value)', () => {
    expect([1, 0.5, 123.456, 0, -2, NaN, Infinity].map((v) => formatFloat(v, 'e', -1))).toEqual(['1e+00', '5e-01', '1.23456e+02', '0e+00', '-2e+00', 'NaN', '+Inf']);
  });
  it('rounds half to even on the exact binary value', () => {
    expect(formatFloat(1.0625, 'g', 4)).toBe('1.062');
    expect(formatFloat(2.675, 'f', 2)).toBe('2.67');
    expect(formatFloat(0.5, 'f', 0)).toBe('0');
    expect(formatFloat(1.5, 'f', 0)).toBe('2');
  });
  it('RFC 3339 as Go marshals time.Time', () => {
    expect(rfc3339(0)).toBe('1970-01-01T00:00:00Z');
    expect(rfc3339(1500)).toBe('1970-01-01T00:00:01.5Z');
  });
});
