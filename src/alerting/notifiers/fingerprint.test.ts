import { describe, expect, it } from 'vitest';
import { fingerprint, hashKey } from './fingerprint.js';

describe('fingerprint', () => {
  it('matches prometheus/common model.LabelSet.Fingerprint vectors', () => {
    // prometheus/common model/signature_test.go TestLabelToFingerprint
    expect(BigInt(`0x${fingerprint({})}`)).toBe(14695981039346656037n);
    expect(BigInt(`0x${fingerprint({ name: 'garland, briggs', fear: 'love is not enough' })}`)).toBe(5799056148416392346n);
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
