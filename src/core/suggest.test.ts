import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './suggest.js';

describe('editDistance (optimal string alignment)', () => {
  it('counts inserts, deletes, substitutions and adjacent swaps', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(1); // swap
    expect(editDistance('kitten', 'sitting')).toBe(3); // the textbook Levenshtein pair
    expect(editDistance('ca', 'abc')).toBe(3); // OSA, not unrestricted Damerau (which says 2)
    expect(editDistance('retention', 'retenton')).toBe(1);
  });

  it('is symmetric', () => {
    for (const [a, b] of [['models', 'modles'], ['rule_files', 'rules_file'], ['x', 'yz']] as const) expect(editDistance(a, b)).toBe(editDistance(b, a));
  });
});

describe('closest', () => {
  const keys = ['server', 'storage', 'models', 'rule_files', 'evaluation_interval', 'log'];
  it('suggests the nearest known name for a typo', () => {
    expect(closest('modles', keys)).toBe('models');
    expect(closest('rules_files', keys)).toBe('rule_files');
    expect(closest('evaluation-interval', keys)).toBe('evaluation_interval');
    expect(closest('Server', keys)).toBe('server');
  });

  it('suggests nothing for a word that is not a typo of any', () => {
    expect(closest('webhooks', keys)).toBeUndefined();
    expect(closest('lg2', keys)).toBeUndefined(); // 2 edits from "log": too far for a short name
    expect(closest('x', [])).toBeUndefined();
  });
});
