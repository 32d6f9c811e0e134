import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, lineColumn, parseJsonBatch, parseNdjsonBatch } from './body.js';

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
