import { describe, expect, it } from 'vitest';
import { parseCsv, parseNdjson, parseTabular, readTabularFile, typeColumns, TabularError, parseNumber, formatFromPath } from './tabular.js';

describe('CSV parsing (RFC 4180)', () => {
  it('quoted fields with commas, escaped quotes and embedded newlines; CRLF', () => {
    const text = 'id,name,note\r\n1,"Smith, J","said ""hi"""\r\n2,plain,"line1\r\nline2"\r\n3,x,\r\n';
    const r = parseCsv(text, 'a.csv');
    expect(r.header).toEqual(['id', 'name', 'note']);
    expect(r.records).toEqual([
      ['1', 'Smith, J', 'said "hi"'],
      ['2', 'plain', 'line1\r\nline2'],
      ['3', 'x', ''],
    ]);
    expect(r.recordLines).toEqual([2, 3, 5]);
    expect(r.issues).toEqual([]);
  });
  it('LF, BOM, blank lines, no trailing newline', () => {
    const r = parseCsv('\ufeffa,b\n1,2\n\n3,4', 'b.csv');
    expect(r.header).toEqual(['a', 'b']);
    expect(r.records).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(r.recordLines).toEqual([2, 4]);
  });
  it('reports bad lines with file:line and keeps going', () => {
    const r = parseCsv('a,b\n1,2\n1,2,3\n4,"x"y\n5,6\n7,"open\n', 'c.csv');
    expect(r.records).toEqual([
      ['1', '2'],
      ['5', '6'],
    ]);
    expect(r.issues).toEqual([
      { file: 'c.csv', line: 3, message: 'expected 2 fields, got 3' },
      { file: 'c.csv', line: 4, message: 'unexpected character "y" after closing quote' },
      { file: 'c.csv', line: 6, message: 'unterminated quoted field starting on line 6' },
    ]);
  });
  it('fatal header problems throw TabularError', () => {
    expect(() => parseCsv('', 'e.csv')).toThrow(TabularError);
    expect(() => parseCsv('\n\n', 'e.csv')).toThrowError(/e\.csv: no header/);
    expect(() => parseCsv('a,a\n1,2', 'd.csv')).toThrowError(/d\.csv:1: duplicate column name "a"/);
    expect(() => parseCsv('a,,b\n1,2,3', 'd.csv')).toThrowError(/empty name/);
  });
});

describe('NDJSON parsing', () => {
  it('union of keys, nulls and absent keys are missing, bad line numbers reported', () => {
    const text = '{"x": 1.5, "c": "a"}\n{"x": null, "c": "b", "flag": true}\n\nnot json\n[1,2]\n{"x": 3, "nested": {"a": 1}}\n';
    const r = parseNdjson(text, 'f.ndjson');
    expect(r.header).toEqual(['x', 'c', 'flag', 'nested']);
    expect(r.records).toEqual([
      ['1.5', 'a', null, null],
      [null, 'b', 'true', null],
      ['3', null, null, null],
    ]);
    expect(r.recordLines).toEqual([1, 2, 6]);
    expect(r.issues.map((i) => [i.file, i.line])).toEqual([
      ['f.ndjson', 4],
      ['f.ndjson', 5],
      ['f.ndjson', 6],
    ]);
    expect(r.issues[0]?.message).toMatch(/invalid JSON/);
    expect(() => parseNdjson('\n', 'g.ndjson')).toThrow(TabularError);
  });
});

describe('column typing', () => {
  it('infers numeric vs categorical, missing values, overrides', () => {
    const t = parseTabular('age,city,zip,score\n30,Paris,75001,1e3\nNA,,75002,-inf\n41,Lyon,69001,\n', 'h.csv');
    const by = Object.fromEntries(t.columns.map((c) => [c.name, c]));
    expect(by['age']?.type).toBe('numeric');
    expect(Array.from(by['age']?.numeric ?? [])).toEqual([30, NaN, 41]);
    expect(by['age']?.missing).toBe(1);
    expect(by['city']?.type).toBe('categorical');
    expect(by['city']?.labels).toEqual(['Paris', null, 'Lyon']);
    expect(by['zip']?.type).toBe('numeric');
    expect(Array.from(by['score']?.numeric ?? [])).toEqual([1000, -Infinity, NaN]);
    const o = parseTabular('age,zip\n30,75001\nabc,75002\n', 'i.csv', 'csv', { categorical: ['zip'], numeric: ['age'] });
    expect(o.columns.map((c) => c.type)).toEqual(['numeric', 'categorical']);
    expect(o.columns[1]?.labels).toEqual(['75001', '75002']);
    expect(o.issues).toEqual([{ file: 'i.csv', line: 3, message: 'column "age": "abc" is not a number' }]);
    expect(() => typeColumns(parseCsv('a\n1', 'j.csv'), { numeric: ['b'] })).toThrowError(/column "b" does not exist/);
    expect(() => typeColumns(parseCsv('a\n1', 'j.csv'), { numeric: ['a'], categorical: ['a'] })).toThrow(TabularError);
  });
  it('all-missing column is categorical with no labels', () => {
    const t = parseTabular('a,b\n1,\n2,NA\n', 'k.csv');
    expect(t.columns[1]?.type).toBe('categorical');
    expect(t.columns[1]?.missing).toBe(2);
  });
  it('parseNumber and formatFromPath', () => {
    expect(parseNumber(' 2.5 ')).toBe(2.5);
    expect(parseNumber('0x10')).toBeUndefined();
    expect(parseNumber('1e-7')).toBe(1e-7);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('Infinity')).toBe(Infinity);
    expect(formatFromPath('x.jsonl')).toBe('ndjson');
    expect(formatFromPath('x.CSV')).toBe('csv');
  });
  it('readTabularFile uses the injected reader and wraps read errors', async () => {
    const t = await readTabularFile('m.ndjson', async () => '{"a":1}\n{"a":2}\n');
    expect(t.format).toBe('ndjson');
    expect(Array.from(t.columns[0]?.numeric ?? [])).toEqual([1, 2]);
    await expect(
      readTabularFile('missing.csv', async () => {
        throw new Error('ENOENT');
      }),
    ).rejects.toThrowError(/missing\.csv: cannot read file: ENOENT/);
  });
});
