import { Readable } from 'node:stream';
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VigilError } from '../core/errors.js';
import {
  checkCharset,
  decodeBody,
  depthExceededAt,
  jsonErrorOffset,
  lineColumn,
  MAX_JSON_DEPTH,
  nonFiniteAsNull,
  parseJsonBatch,
  parseJsonBody,
  parseNdjsonBatch,
  type DecodedBody,
} from './body.js';

describe('jsonErrorOffset', () => {
  it.each([
    ['{"a": 1,}', 8],
    ['[1, 2', 5],
    ['[1 2]', 3],
    ['{"a" 1}', 5],
    ['tru', 3],
    ['"abc', 4],
    ['[NaN]', 1],
    ['[1] x', 4],
    ['{"a": "\\x"}', 8],
    ['[-]', 1],
  ])('%s fails at %i', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('accepts everything JSON.parse accepts', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(jsonErrorOffset(text)).toBe(text.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('batches', () => {
  it('line and column of an offset', () => {
    expect(lineColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(lineColumn('abc', 0)).toEqual({ line: 1, column: 1 });
  });

  it('NDJSON names the failing line among good ones', () => {
    expect(() => parseNdjsonBatch('{"a":1}\n\n{"b":}\n')).toThrow(/line 3, column 6/);
    expect(parseNdjsonBatch('{"a":1}\r\n{"b":2}')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseNdjsonBatch('')).toEqual([]);
  });

  it('JSON must be an array or one object', () => {
    expect(parseJsonBatch('[1,2]')).toEqual([1, 2]);
    expect(parseJsonBatch('{"id":1}')).toEqual([{ id: 1 }]);
    expect(() => parseJsonBatch('42')).toThrow(/JSON array/);
  });
});

describe('any nesting depth', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  it('locates errors at any depth without recursion (12,000 and 50,000 levels)', () => {
    expect(jsonErrorOffset('['.repeat(12_000))).toBe(12_000);
    expect(jsonErrorOffset(`${'['.repeat(50_000)}x${']'.repeat(50_000)}`)).toBe(50_000);
    expect(jsonErrorOffset(`${'{"a":'.repeat(20_000)}1${'}'.repeat(19_999)}]`)).toBe(20_000 * 5 + 1 + 19_999);
    expect(jsonErrorOffset(deep(100_000))).toBe(200_000);
    expect(() => parseJsonBatch('['.repeat(12_000))).toThrow(/line 1, column 12001: unexpected end of input/);
    expect(() => parseNdjsonBatch(`{"id":1}\n${'['.repeat(50_000)}`)).toThrow(/NDJSON at line 2, column 50001/);
  });

  it('valid deep JSON parses; other bodies refuse more than 64 levels, naming where', () => {
    expect(parseJsonBatch(deep(12_000))).toHaveLength(1);
    expect(parseJsonBody(`{"a":${deep(MAX_JSON_DEPTH - 1)}}`)).toBeTypeOf('object');
    const err = (() => {
      try {
        parseJsonBody(`{"matchers":\n ${deep(12_000)}}`);
      } catch (e) {
        return e as VigilError;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ code: 'VIGIL_ERR_HTTP_MALFORMED', statusCode: 400, details: { line: 2, column: 2 + MAX_JSON_DEPTH - 1 } });
    expect(err?.message).toContain('nested deeper than 64 levels');
    // brackets inside strings do not count
    expect(depthExceededAt(JSON.stringify({ s: '['.repeat(1000) + '\\"[' }), 2)).toBe(-1);
    expect(parseJsonBody('  ')).toBeUndefined();
  });

  it('numbers of any length are located exactly', () => {
    const long = '1'.repeat(1000);
    expect(jsonErrorOffset(`[${long} 2]`)).toBe(1002); // the "2" after the space, not somewhere inside the long number
  });

  it('strips a UTF-8 byte order mark', () => {
    expect(parseJsonBatch('\ufeff[{"id":1}]')).toEqual([{ id: 1 }]);
    expect(parseNdjsonBatch('\ufeff{"id":1}\n{"id":2}')).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('keeps __proto__ and constructor as own keys, never as a prototype', () => {
    const [item] = parseJsonBatch('[{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}]') as Record<string, unknown>[];
    expect(Object.keys(item as object)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('charset', () => {
  it('takes UTF-8 (or none) and refuses others with 415', () => {
    expect(() => checkCharset('application/json')).not.toThrow();
    expect(() => checkCharset('application/json; charset=UTF-8')).not.toThrow();
    expect(() => checkCharset('application/json; charset="utf-8"')).not.toThrow();
    expect(() => checkCharset('application/json;charset=latin1')).toThrow(expect.objectContaining({ statusCode: 415, code: 'VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE' }));
  });
});

describe('decodeBody', () => {
  const collect = (s: Readable): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
  const text = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, prediction: 1 })));

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('decodes %s and counts the encoded bytes', async (enc, compress) => {
    const packed = compress(Buffer.from(text));
    const out = decodeBody(Readable.from([packed.subarray(0, 10), packed.subarray(10)]), enc, 1 << 20) as DecodedBody;
    expect((await collect(out)).toString()).toBe(text);
    expect(out.receivedEncodedLength).toBe(packed.length);
  });

  it('passes identity and no encoding through', () => {
    const raw = Readable.from([Buffer.from('x')]);
    expect(decodeBody(raw, undefined, 10)).toBe(raw);
    expect(decodeBody(raw, 'Identity', 10)).toBe(raw);
  });

  it('refuses an unknown encoding (415) and corrupt data (400)', async () => {
    expect(() => decodeBody(Readable.from([]), 'compress', 10)).toThrow(expect.objectContaining({ statusCode: 415, code: 'VIGIL_ERR_HTTP_UNSUPPORTED_ENCODING' }));
    await expect(collect(decodeBody(Readable.from([Buffer.from('not gzip at all')]), 'gzip', 1000))).rejects.toMatchObject({ statusCode: 400, code: 'VIGIL_ERR_HTTP_BAD_ENCODING' });
    const truncated = gzipSync(Buffer.from(text)).subarray(0, 40);
    await expect(collect(decodeBody(Readable.from([truncated]), 'gzip', 1 << 20))).rejects.toMatchObject({ statusCode: 400 });
  });

  it('stops a zip bomb at the limit: 413, without inflating (or even reading) the rest', async () => {
    // An endless gzip stream of zeros, produced only as fast as it is read.
    let produced = 0;
    const zeros = new Readable({
      read() {
        produced += 1 << 16;
        this.push(Buffer.alloc(1 << 16));
      },
    });
    const bomb = zeros.pipe(createGzip());
    const limit = 1 << 20;
    await expect(collect(decodeBody(bomb, 'gzip', limit))).rejects.toMatchObject({ statusCode: 413, code: 'VIGIL_ERR_HTTP_BODY_TOO_LARGE' });
    // Stream buffers hold a few chunks at most: far from "all of it" (which is endless).
    expect(produced).toBeLessThan(64 * limit);
    zeros.destroy();
    bomb.destroy();
  });
});

describe("the non-finite numbers of Python's json.dumps (NaN, Infinity, -Infinity)", () => {
  it('are read as null on the ingestion bodies, never inside strings, never as part of a longer word', () => {
    expect(nonFiniteAsNull('[{"a": NaN, "b": "NaN", "c": -Infinity, "d": [Infinity,NaN], "e": "say \\"NaN\\" NaN"}]')).toBe(
      '[{"a": null, "b": "NaN", "c": null, "d": [null,null], "e": "say \\"NaN\\" NaN"}]',
    );
    expect(nonFiniteAsNull('{"a": 1}')).toBeUndefined();
    expect(nonFiniteAsNull('{"NaN": 1}')).toBeUndefined(); // a key
    expect(nonFiniteAsNull('[NaNa]')).toBeUndefined();
    expect(parseJsonBatch('[{"id": "x", "features": {"a": NaN, "b": Infinity}, "score": -Infinity}]')).toEqual([{ id: 'x', features: { a: null, b: null }, score: null }]);
    expect(parseNdjsonBatch('{"a": NaN}\n{"a": 1}\n')).toEqual([{ a: null }, { a: 1 }]);
    // a body malformed for another reason still names its first problem, as sent
    expect(() => parseJsonBatch('[{"a": NaN,}]')).toThrow(/malformed JSON at line 1, column 8/);
    // the other endpoints stay strict JSON
    expect(() => parseJsonBody('{"a": NaN}')).toThrow(/malformed JSON at line 1, column 7/);
  });

  it('a property: any JSON with some values replaced by NaN/Infinity parses as that JSON with nulls there', () => {
    const leaf = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.constant(null), fc.constantFrom('__NaN__', '__Inf__', '__-Inf__'));
    const value = fc.letrec((tie) => ({ v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 })) })).v;
    fc.assert(
      fc.property(value, (v) => {
        const marked = JSON.stringify([v]);
        const python = marked.replaceAll('"__NaN__"', 'NaN').replaceAll('"__Inf__"', 'Infinity').replaceAll('"__-Inf__"', '-Infinity');
        const expected = JSON.parse(marked.replaceAll('"__NaN__"', 'null').replaceAll('"__Inf__"', 'null').replaceAll('"__-Inf__"', 'null')) as unknown;
        expect(parseJsonBatch(python)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
