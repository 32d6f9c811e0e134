import { describe, expect, it } from 'vitest';
import { rowToItem } from './file.js';
import { mapRecord } from './mapping.js';

/** Pulled records take the same rule as the HTTP API: `__proto__` and `constructor` are ordinary feature names. */
describe('user-named keys in pulled records', () => {
  const record = JSON.parse('{"id":"a","prediction":1,"inputs":{"__proto__":1,"constructor":"c"},"p":0.4,"x":2}') as unknown;

  it('mapRecord keeps them as own keys of features and score', () => {
    const item = mapRecord('predictions', record, { mapping: { 'features.toString': 'x', 'score.__proto__': 'p' }, featuresPath: 'inputs' });
    expect(Object.entries(item.features as object)).toEqual([
      ['__proto__', 1],
      ['constructor', 'c'],
      ['toString', 2],
    ]);
    expect(Object.entries(item.score as object)).toEqual([['__proto__', 0.4]]);
    expect(JSON.parse(JSON.stringify(item)).features).toHaveProperty(['__proto__'], 1);
  });

  it('rowToItem keeps them as own keys, from a nested object or from columns', () => {
    const nested = { get: (k: string) => (record as Record<string, unknown>)[k], keys: () => Object.keys(record as object) };
    const a = rowToItem('predictions', nested, { mapping: {}, features_path: 'inputs', ignore_columns: [] });
    expect(Object.keys(a.features as object)).toEqual(['__proto__', 'constructor']);
    const columns = new Map<string, unknown>([
      ['id', 'b'],
      ['prediction', 1],
      ['__proto__', 3],
      ['constructor', 'k'],
    ]);
    const b = rowToItem('predictions', { get: (k) => columns.get(k), keys: () => [...columns.keys()] }, { mapping: {}, features_path: '', ignore_columns: [] });
    expect(Object.entries(b.features as object)).toEqual([
      ['__proto__', 3],
      ['constructor', 'k'],
    ]);
  });
});
