import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ColumnarTable } from './columnar.js';
import { CsvStreamParser } from './csv-stream.js';
import { NdjsonStreamParser } from './ndjson-stream.js';
import { readRawTable, readTable, type ReadProgress } from './read-table.js';
import { decimalValue, isDecimal, parseNumber } from './records.js';
import { parseCsv, parseNdjson, RawTableCollector, toTabularData, typeColumns, type RawTable, type TabularData } from './tabular.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-read-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** A columnar table as typeColumns gives it (labels a row, lines a row), to compare the two paths. */
const asTabular = (t: ColumnarTable): TabularData => ({ ...toTabularData(t), rowLines: Array.from({ length: t.rowCount }, (_, i) => t.lineOf(i)) });

/** Parses `text` fed in the given pieces. */
function chunked(kind: 'csv' | 'ndjson', pieces: readonly string[], jsonColumns: readonly string[] = []): RawTable {
  const sink = new RawTableCollector('f', kind);
  const parser = kind === 'csv' ? new CsvStreamParser('f', sink) : new NdjsonStreamParser('f', sink, { jsonColumns });
  for (const p of pieces) parser.push(p);
  parser.end();
  return sink.table();
}

/** `text` cut at the given positions. */
const cut = (text: string, at: readonly number[]): string[] => {
  const points = [...new Set(at.map((x) => Math.min(x, text.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
};

const outcome = <T>(f: () => T): { ok: T } | { error: string } => {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: String(e) };
  }
};

describe('the incremental parsers: a chunk may end anywhere', () => {
  const csvPiece = fc.constantFrom('a', 'b,', ',', '1', '2.5', '"', '""', '"x,y"', '"q""q"', '\n', '\r\n', '\r', ' ', 'NA', 'é', '😀', '\ufeff');
  it('CSV: any text cut anywhere parses as the whole text (records, lines, issues, errors)', () => {
    fc.assert(
      fc.property(fc.array(csvPiece, { maxLength: 60 }), fc.array(fc.nat(300), { maxLength: 12 }), (parts, at) => {
        const text = `a,b\n${parts.join('')}`;
        const whole = outcome(() => parseCsv(text, 'f'));
        expect(outcome(() => chunked('csv', cut(text, at)))).toEqual(whole);
      }),
      { numRuns: 600 },
    );
  });
  it('NDJSON: any text cut anywhere parses as the whole text', () => {
    const line = fc.constantFrom('{"a": 1}', '{"b": "x", "a": null}', '{"s": {"p": 0.5}}', 'nope', '[1]', '', ' ', '{"2": true}', '{"a": "é😀"}');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), fc.array(fc.nat(200), { maxLength: 12 }), (lines, eol, at) => {
        const text = `{"a": 0}${eol}${lines.join(eol)}`;
        const whole = outcome(() => parseNdjson(text, 'f', { jsonColumns: ['s'] }));
        expect(outcome(() => chunked('ndjson', cut(text, at), ['s']))).toEqual(whole);
      }),
      { numRuns: 400 },
    );
  });
  it('a quote, a CR or a multi-unit character split between chunks', () => {
    const text = 'a,b\r\n"x""y",😀\r\n"1"\r\n"2",3\r';
    for (let i = 0; i <= text.length; i++) expect(chunked('csv', [text.slice(0, i), text.slice(i)])).toEqual(parseCsv(text, 'f'));
  });
  it('a field or a line past the longest kept is an issue of its record, wherever the chunks end; the parse goes on', () => {
    const csv = 'a,b\n1,"0123456789"\n2,0123456789x\n3,ok\n4,"0123\n456789"\n';
    const ndjson = '{"a": 1}\n{"a": "0123456789"}\n{"a": 3}\n';
    for (let i = 0; i <= csv.length; i++) {
      const sink = new RawTableCollector('f', 'csv');
      const p = new CsvStreamParser('f', sink, { maxFieldLength: 10 });
      p.push(csv.slice(0, i));
      p.push(csv.slice(i));
      p.end();
      const t = sink.table();
      expect(t.records).toEqual([
        ['1', '0123456789'],
        ['3', 'ok'],
      ]);
      expect(t.issues).toEqual([
        { file: 'f', line: 3, message: 'a field longer than 10 characters' },
        { file: 'f', line: 5, message: 'a field longer than 10 characters' },
      ]);
    }
    for (let i = 0; i <= ndjson.length; i++) {
      const sink = new RawTableCollector('f', 'ndjson');
      const p = new NdjsonStreamParser('f', sink, { maxLineLength: 16 });
      p.push(ndjson.slice(0, i));
      p.push(ndjson.slice(i));
      p.end();
      const t = sink.table();
      expect(t.records).toEqual([['1'], ['3']]);
      expect(t.issues).toEqual([{ file: 'f', line: 2, message: 'line longer than 16 characters' }]);
    }
  });
  it('isDecimal is the number pattern /^[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?$/', () => {
    const re = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
    const token = fc.array(fc.constantFrom('0', '1', '9', '.', '+', '-', 'e', 'E', ' ', 'x', '\0'), { maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(token, (t) => {
        expect(isDecimal(t)).toBe(re.test(t));
      }),
      { numRuns: 3000 },
    );
    expect(parseNumber('\u00a01.5\u00a0')).toBe(1.5); // trimmed as String.prototype.trim does
  });
  it('decimalValue is Number() of every decimal token, to the bit (-0 included), and undefined for the others', () => {
    const digits = fc.array(fc.constantFrom('0', '1', '2', '5', '7', '9'), { maxLength: 20 }).map((a) => a.join(''));
    const token = fc
      .tuple(fc.constantFrom('', '-', '+'), digits, fc.option(digits), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), fc.integer({ min: 0, max: 400 }))))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`);
    const text = fc.oneof(token, fc.double().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toFixed(6)));
    fc.assert(
      fc.property(text, (t) => {
        expect(Object.is(decimalValue(t), isDecimal(t) ? Number(t) : undefined)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('readTable: a file streamed into typed columns', () => {
  const csv = 'amount,city,zip,note\r\n12.5,Paris,75001,"a, b"\r\n\r\n,"Lyon",69001,"two\r\nlines"\r\nNA,Zürich,8001,x\r\n-3,😀,75002,\r\n';

  it('the same table as parsing the whole text and typing it, read a few bytes at a time', async () => {
    const path = file('t.csv', csv);
    const whole = typeColumns(parseCsv(csv, path));
    for (const chunkBytes of [1, 2, 3, 7, 64]) expect(asTabular(await readTable(path, { chunkBytes }))).toEqual(whole);
  });

  it('columns are compact: float64 with NaN for missing values, dictionary codes with -1 for missing', async () => {
    const t = await readTable(file('c.csv', csv), { chunkBytes: 5 });
    expect(t.header).toEqual(['amount', 'city', 'zip', 'note']);
    const [amount, city, , note] = t.columns;
    expect(amount?.type).toBe('numeric');
    if (amount?.type !== 'numeric' || city?.type !== 'categorical' || note?.type !== 'categorical') throw new Error('types');
    expect(amount.values).toBeInstanceOf(Float64Array);
    expect(Array.from(amount.values)).toEqual([12.5, NaN, NaN, -3]);
    expect(amount.missing).toBe(2);
    expect(city.codes).toBeInstanceOf(Int32Array);
    expect(Array.from(city.codes)).toEqual([0, 1, 2, 3]);
    expect(city.dictionary).toEqual(['Paris', 'Lyon', 'Zürich', '😀']);
    expect(Array.from(note.codes)).toEqual([0, 1, 2, -1]);
    expect(note.dictionary).toEqual(['a, b', 'two\r\nlines', 'x']);
    // each row's first line: the blank line and the quoted newline move them
    expect([0, 1, 2, 3].map((r) => t.lineOf(r))).toEqual([2, 4, 6, 7]);
  });

  it('a column that turns out to be text after rows of numbers keeps every value as written (its first rows read again)', async () => {
    const lines = ['version,x'];
    for (let i = 0; i < 600; i++) lines.push(`${i === 100 ? '2b' : i % 3 === 0 ? '1.0' : i % 3 === 1 ? '02' : ''},${i}`);
    const path = file('flip.csv', `${lines.join('\n')}\n`);
    const passes: ReadProgress[] = [];
    const t = await readTable(path, { chunkBytes: 256, onProgress: (p) => void passes.push(p) });
    const version = t.columns[0];
    if (version?.type !== 'categorical') throw new Error('version must be categorical');
    const labels = Array.from(version.codes, (c) => (c < 0 ? null : version.dictionary[c]));
    expect(labels.slice(0, 4)).toEqual(['1.0', '02', null, '1.0']);
    expect(labels.slice(99, 103)).toEqual(['1.0', '2b', null, '1.0']);
    expect(version.missing).toBe(200);
    expect(asTabular(t)).toEqual(typeColumns(parseCsv(`${lines.join('\n')}\n`, path)));
    // the second pass stopped once it had the rows it needed, before the end of the file
    const second = passes.filter((p) => p.pass === 2);
    expect(second.length).toBeGreaterThan(0);
    expect(Math.max(...second.map((p) => p.bytes))).toBeLessThan(Math.max(...passes.filter((p) => p.pass === 1).map((p) => p.bytes)));
  });

  it('the text of a column that turns out categorical after more than a page of rows (65,536) is filled in every page', async () => {
    const lines = ['code'];
    for (let i = 0; i < 150_000; i++) lines.push(i === 140_000 ? 'x' : i % 2 === 0 ? `${i}.0` : 'NA');
    const path = file('pages.csv', `${lines.join('\n')}\n`);
    const code = (await readTable(path)).columns[0];
    if (code?.type !== 'categorical') throw new Error('code must be categorical');
    const label = (r: number) => (code.codes[r] as number) < 0 ? null : code.dictionary[code.codes[r] as number];
    expect([0, 1, 65_536, 100_000, 139_998, 140_000, 149_998].map(label)).toEqual(['0.0', null, '65536.0', '100000.0', '139998.0', 'x', '149998.0']);
    expect(code.missing).toBe(75_000);
  });

  it('NDJSON: keys first seen late are missing before; the same table as the whole text typed', async () => {
    const text = '{"a": 1, "s": {"p": 0.2}}\n\n{"a": 2.5, "b": "x"}\nbad\n{"b": "y", "late": true}\n';
    const path = file('t.ndjson', text);
    for (const chunkBytes of [1, 4, 1024]) {
      expect(asTabular(await readTable(path, { chunkBytes, jsonColumns: ['s'] }))).toEqual(typeColumns(parseNdjson(text, path, { jsonColumns: ['s'] })));
    }
    const t = await readTable(path, { overrides: { numeric: ['b'] } });
    expect(t.issues.map((i) => `${i.line}: ${i.message.replace(/:.*valid JSON/, '')}`)).toEqual([
      '1: field "s" is a nested object; treated as missing',
      '3: column "b": "x" is not a number',
      '4: invalid JSON',
      '5: column "b": "y" is not a number',
    ]);
  });

  it('keeps only the columns asked for (and those with a type forced); the header names them all', async () => {
    const t = await readTable(file('k.csv', csv), { keep: (n) => n === 'zip', overrides: { categorical: ['city'] } });
    expect(t.header).toEqual(['amount', 'city', 'zip', 'note']);
    expect(t.columns.map((c) => [c.name, c.type])).toEqual([
      ['city', 'categorical'],
      ['zip', 'numeric'],
    ]);
  });

  it('overrides: a missing column is an error naming it, unless they apply where present', async () => {
    const path = file('o.csv', csv);
    await expect(readTable(path, { overrides: { numeric: ['nope'] } })).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_UNKNOWN_COLUMN', message: `${path}: column "nope" does not exist (columns: amount, city, zip, note)` });
    const t = await readTable(path, { overrides: { numeric: ['nope'], categorical: ['zip'] }, overridesIfPresent: true });
    expect(t.columns.map((c) => c.type)).toEqual(['numeric', 'categorical', 'categorical', 'categorical']);
    await expect(readTable(path, { overrides: { numeric: ['zip'], categorical: ['zip'] } })).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_BAD_OVERRIDE' });
  });

  it('errors name the file (and the line): unreadable, bad header, empty; bad lines are issues with file:line', async () => {
    const missing = join(dir, 'none.csv');
    await expect(readTable(missing)).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_READ', message: expect.stringMatching(new RegExp(`^${missing}: cannot read file: ENOENT`)) });
    await expect(readRawTable(missing)).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_READ' });
    await expect(readTable(file('dup.csv', '\n\na,a\n1,2\n'))).rejects.toThrow(/dup\.csv:3: duplicate column name "a"/);
    await expect(readTable(file('empty.csv', '\n\n'))).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_EMPTY' });
    const bad = file('bad.csv', 'a,b\n1,2\n1,2,3\n"x"y,1\n');
    const t = await readTable(bad, { chunkBytes: 3 });
    expect(t.rowCount).toBe(1);
    expect(t.issues).toEqual([
      { file: bad, line: 3, message: 'expected 2 fields, got 3' },
      { file: bad, line: 4, message: 'unexpected character "y" after closing quote' },
    ]);
  });

  it('readRawTable streams too: the rows of strings parseCsv gives', async () => {
    const path = file('raw.csv', csv);
    expect(await readRawTable(path, { chunkBytes: 2 })).toEqual(parseCsv(csv, path));
  });

  it('Parquet is read a row group at a time: progress after each, the table typeColumns gives', async () => {
    const path = new URL('../../test/fixtures/parquet/sample-zstd.parquet', import.meta.url).pathname;
    const progress: ReadProgress[] = [];
    const t = await readTable(path, { onProgress: (p) => void progress.push(p) });
    expect(asTabular(t)).toEqual(typeColumns(await readRawTable(path)));
    // the fixture has row groups of 200, 200 and 100 rows
    expect(progress.map((p) => p.rows)).toEqual([200, 400, 500]);
    expect(progress.every((p, i) => i === 0 || p.bytes > (progress[i - 1] as ReadProgress).bytes)).toBe(true);
  });
});
