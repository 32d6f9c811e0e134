import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';

describe('parseExposition', () => {
  it('parses HELP/TYPE, comments, labels with escapes and the special values', () => {
    const text = [
      '# HELP feast_feature_freshness_seconds Seconds since the latest event timestamp.\\nSecond line \\\\ done',
      '# TYPE feast_feature_freshness_seconds gauge',
      '# a comment',
      'feast_feature_freshness_seconds{feature_view="driver_stats",project="p"} 12.5',
      'feast_feature_freshness_seconds{ feature_view = "a \\"quoted\\" \\\\ back\\nslash" , project="p", } +Inf',
      'up NaN 1700000000000',
      'x_total{a="1"} -Inf',
      'y 1e-3',
      'z{a="#"} 2 # {trace_id="abc"} 1',
      '',
      '# EOF',
    ].join('\n');
    const e = parseExposition(text);
    expect(e.help.get('feast_feature_freshness_seconds')).toBe('Seconds since the latest event timestamp.\nSecond line \\ done');
    expect(e.types.get('feast_feature_freshness_seconds')).toBe('gauge');
    expect(e.samples).toHaveLength(6);
    expect(e.samples[0]).toEqual({ name: 'feast_feature_freshness_seconds', labels: { feature_view: 'driver_stats', project: 'p' }, value: 12.5 });
    expect(e.samples[1]).toEqual({ name: 'feast_feature_freshness_seconds', labels: { feature_view: 'a "quoted" \\ back\nslash', project: 'p' }, value: Infinity });
    expect(e.samples[2]?.value).toBeNaN();
    expect(e.samples[2]?.timestampMs).toBe(1_700_000_000_000);
    expect(e.samples[3]?.value).toBe(-Infinity);
    expect(e.samples[4]).toEqual({ name: 'y', labels: {}, value: 0.001 });
    expect(e.samples[5]).toEqual({ name: 'z', labels: { a: '#' }, value: 2 });
  });

  it('rejects malformed lines with their line number', () => {
    expect(() => parseExposition('ok 1\nbad{a="x} 1')).toThrow('line 2: unterminated value of label a');
    expect(() => parseExposition('m{a="1"} abc')).toThrow('line 1: invalid value "abc" for m');
    expect(() => parseExposition('<html>')).toThrow('line 1: expected a metric name');
    expect(() => parseExposition('m{a="\\t"} 1')).toThrow('invalid escape');
    expect(() => parseExposition('m{a="1",a="2"} 1')).toThrow('duplicate label a');
    expect(() => parseExposition('# TYPE m bogus')).toThrow('unknown metric type "bogus"');
    expect(() => parseExposition('m 1 2 3')).toThrow('expected "value [timestamp]"');
  });
});
