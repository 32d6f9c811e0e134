import { describe, expect, it } from 'vitest';
import { SampleHistory } from './history.js';
import { newMatcher } from './labels.js';
import { SeriesIndex } from './series.js';

const name = (n: string) => [newMatcher('__name__', '=', n)];
const snap = (h: SampleHistory, t: number, values: Record<string, number>) =>
  new SeriesIndex(Object.entries(values).map(([k, v]) => ({ name: 'm', labels: { k }, value: v }))).recordIn(h, t);

describe('SampleHistory', () => {
  it('answers instant selectors with the newest sample within the 5-minute lookback, not past a stale marker', () => {
    const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000 });
    snap(h, 0, { a: 1, b: 10 });
    snap(h, 60_000, { a: 2 }); // b leaves: stale from here
    expect(h.instant(name('m'), 30_000).map((s) => [s.labels.k, s.value, s.t])).toEqual([
      ['a', 1, 0],
      ['b', 10, 0],
    ]);
    expect(h.instant(name('m'), 60_000).map((s) => s.labels.k)).toEqual(['a']);
    // a's last sample is 4 minutes old at 5m: still seen; at 6m01s it is past the lookback
    expect(h.instant(name('m'), 300_000 + 60_000).map((s) => s.value)).toEqual([2]);
    expect(h.instant(name('m'), 360_001)).toEqual([]);
  });

  it('range selectors include both ends and leave stale markers out; a series that returns continues', () => {
    const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000 });
    snap(h, 0, { a: 1 });
    snap(h, 60_000, {});
    snap(h, 120_000, { a: 3 });
    const r = h.range(name('m'), 0, 120_000);
    expect(r).toHaveLength(1);
    expect(Array.from(r[0]!.t)).toEqual([0, 120_000]);
    expect(Array.from(r[0]!.v)).toEqual([1, 3]);
    expect(h.range(name('m'), 1, 119_999)).toEqual([]);
  });

  it('drops what is older than the retention, and the oldest evaluations past the sample cap (counted)', () => {
    const h = new SampleHistory({ retentionMs: 120_000, maxSamples: 1_000_000 });
    for (let i = 0; i <= 5; i++) snap(h, i * 60_000, { a: i });
    expect(h.stats()).toMatchObject({ series: 1, samples: 3, droppedSamples: 0, oldestMs: 180_000 });

    const capped = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 1000 });
    const many = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`s${i}`, i]));
    for (let i = 0; i < 5; i++) snap(capped, i * 60_000, many);
    const s = capped.stats();
    expect(s.samples).toBeLessThanOrEqual(1000);
    expect(s.samples).toBe(800);
    expect(s.droppedSamples).toBe(1200);
    expect(s.oldestMs).toBe(180_000);
  });

  it('ignores an append not after the newest', () => {
    const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000 });
    snap(h, 60_000, { a: 1 });
    expect(h.append(60_000, [])).toBe(false);
    expect(h.append(0, [])).toBe(false);
    expect(h.stats().samples).toBe(1);
  });
});
