import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SliCounters } from './counters.js';

describe('SliCounters', () => {
  it('sums the minutes of a window ending at a minute, exactly, and the period by whole hours', () => {
    const c = new SliCounters(30);
    const now = 10_000_000; // minutes since the epoch
    c.add(now, 1, 2);
    c.add(now - 4, 3, 3);
    c.add(now - 5, 10, 10); // just outside 5m
    c.add(now - 4319, 1, 1); // inside 3d
    c.add(now - 4320, 7, 7); // outside 3d
    expect(c.window(now, 5)).toEqual({ good: 4, total: 5 });
    expect(c.window(now, 6)).toEqual({ good: 14, total: 15 });
    expect(c.window(now, 4320)).toEqual({ good: 15, total: 16 });
    expect(c.period(now)).toEqual({ good: 22, total: 23 });
    // the period starts at an hour: a minute 30 days back counts if its hour is the period's first
    const h = Math.floor(now / 60);
    c.add((h - 30 * 24 + 1) * 60, 100, 100);
    c.add((h - 30 * 24 + 1) * 60 - 1, 1000, 1000);
    expect(c.period(now).total).toBe(123);
    expect(() => c.window(now, 4381)).toThrow(/longer than the minute counts/);
  });

  it('forgets what the rings reused, never counts a minute older than the slot holds', () => {
    const c = new SliCounters(28);
    c.add(100, 1, 1);
    c.add(100 + 4380, 2, 2); // same slot: replaces minute 100
    c.add(100, 5, 5); // older than the slot: ignored
    expect(c.window(100 + 4380, 4380)).toEqual({ good: 2, total: 2 });
    expect(c.window(100, 1)).toEqual({ good: 0, total: 0 });
  });

  it('agrees with a plain sum over random events (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.nat(5), fc.nat(5)), { maxLength: 200 }), fc.integer({ min: 1, max: 4380 }), (events, w) => {
        const now = 1_000_000;
        const c = new SliCounters(30);
        const sorted = events.map(([ago, g, b]) => [now - ago, g, g + b] as const).sort((a, b) => a[0] - b[0]);
        for (const [m, g, t] of sorted) c.add(m, g, t);
        const inWindow = sorted.filter(([m]) => m > now - w);
        expect(c.window(now, w)).toEqual({ good: inWindow.reduce((s, e) => s + e[1], 0), total: inWindow.reduce((s, e) => s + e[2], 0) });
      }),
    );
  });
});
