import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRfc3339 } from './rfc3339.js';

describe('parseRfc3339', () => {
  it.each([
    ['2026-01-31T12:00:00Z', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31t12:00:00z', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31 12:00:00.250+02:00', Date.UTC(2026, 0, 31, 10, 0, 0, 250)],
    ['2026-01-31T12:00:00.123456789-05:30', Date.UTC(2026, 0, 31, 17, 30, 0, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T23:59:59Z', Date.UTC(2000, 1, 29, 23, 59, 59)],
    ['0099-01-01T00:00:00Z', -59_042_995_200_000],
  ])('%s', (s, ms) => {
    expect(parseRfc3339(s)).toEqual({ ms });
  });

  it.each([
    ['2026-02-30T00:00:00Z', 'has no day 30 in 2026-02'],
    ['2025-02-29T00:00:00Z', 'has no day 29 in 2025-02'],
    ['1900-02-29T00:00:00Z', 'has no day 29 in 1900-02'],
    ['2026-04-31T00:00:00Z', 'has no day 31 in 2026-04'],
    ['2026-13-01T00:00:00Z', 'has no month 13'],
    ['2026-00-10T00:00:00Z', 'has no month 00'],
    ['2026-01-00T00:00:00Z', 'has no day 00 in 2026-01'],
    ['2026-01-01T24:00:00Z', 'has no hour 24'],
    ['2026-01-01T23:61:00Z', 'has no minute 61'],
    ['2026-01-01T24:61:00Z', 'has no hour 24'],
    ['2026-12-31T23:59:60Z', 'has no second 60 (leap seconds are not supported)'],
    ['2026-01-01T10:00:00+24:00', 'has no UTC offset +24:00'],
    ['2026-01-01T10:00:00+01:60', 'has no UTC offset +01:60'],
    ['2026-01-01', 'must be an RFC 3339 time (2026-01-31T12:00:00Z)'],
    ['2026-01-01T10:00:00', 'must be an RFC 3339 time (2026-01-31T12:00:00Z)'],
    ['yesterday', 'must be an RFC 3339 time (2026-01-31T12:00:00Z)'],
    ['', 'must be an RFC 3339 time (2026-01-31T12:00:00Z)'],
  ])('%s: %s', (s, error) => {
    expect(parseRfc3339(s)).toEqual({ error });
  });

  it('agrees with Date on every real date-time', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }), (d) => {
        expect(parseRfc3339(d.toISOString())).toEqual({ ms: d.getTime() });
      }),
      { numRuns: 500 },
    );
  });
});
