import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprint, hashKey } from './fingerprint.js';

describe('fingerprint', () => {
  it('matches prometheus/common model.LabelSet.Fingerprint vectors', () => {
    // prometheus/common model/signature_test.go TestLabelToFingerprint
    expect(BigInt(`0x${fingerprint({})}`)).toBe(14695981039346656037n);
    expect(BigInt(`0x${fingerprint({ name: 'garland, briggs', fear: 'love is not enough' })}`)).toBe(5799056148416392346n);
  });

  it('equals FNV-1a 64 computed with BigInt, on any labels (UTF-8 included)', () => {
    const reference = (labels: Record<string, string>): string => {
      let h = 0xcbf29ce484222325n;
      const eat = (bytes: Uint8Array) => {
        for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      };
      for (const n of Object.keys(labels).sort()) {
        eat(new TextEncoder().encode(n));
        eat(new Uint8Array([0xff]));
        eat(new TextEncoder().encode(labels[n] ?? ''));
        eat(new Uint8Array([0xff]));
      }
      return h.toString(16).padStart(16, '0');
    };
    fc.assert(fc.property(fc.dictionary(fc.string({ unit: 'grapheme-ascii' }), fc.string({ unit: 'grapheme' })), (labels) => fingerprint(labels) === reference(labels)), { numRuns: 500 });
  });

  it('is 16 hex digits and independent of key order', () => {
    const a = fingerprint({ alertname: 'X', model: 'm' });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint({ model: 'm', alertname: 'X' })).toBe(a);
    expect(fingerprint({ model: 'm2', alertname: 'X' })).not.toBe(a);
  });

  it('hashKey is hex SHA-256', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
