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

describe('SampleHistory writers, journal and restore', () => {
  const rec = (h: SampleHistory, t: number, values: Record<string, number>) =>
    h.append(
      t,
      new SeriesIndex(Object.entries(values).map(([k, v]) => ({ name: 'r', labels: { k }, value: v }))).select([], 'all'),
      'group/rule',
    );

  it('lets each writer append once per time and mark only its own series stale', () => {
    const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000 });
    snap(h, 0, { a: 1 });
    expect(rec(h, 0, { x: 10, y: 20 })).toBe(true);
    expect(rec(h, 0, { x: 11 })).toBe(false); // once per time
    snap(h, 60_000, { a: 2 }); // the snapshot does not mark the rule's series stale
    expect(h.instant(name('r'), 60_000).map((s) => s.labels.k)).toEqual(['x', 'y']);
    rec(h, 60_000, { x: 12 }); // the rule no longer returns y: stale
    expect(h.instant(name('r'), 60_000).map((s) => [s.labels.k, s.value])).toEqual([['x', 12]]);
    expect(h.append(0, [])).toBe(false);
  });

  it('replays its journal into an identical history (stale markers, eviction, two writers)', () => {
    const opts = { retentionMs: 180_000, maxSamples: 10_000, journal: true };
    const a = new SampleHistory(opts);
    const journals = [];
    for (let i = 0; i < 8; i++) {
      const values: Record<string, number> = { a: i, c: i * 2 };
      if (i % 3 !== 0) values.b = -i; // b leaves and returns
      if (i === 5) values.nan = NaN; // a NaN value is not a stale marker
      snap(a, i * 60_000, values);
      rec(a, i * 60_000, i < 4 ? { x: i } : {});
      journals.push(a.takeJournal());
    }
    const b = new SampleHistory(opts);
    const defined = new Map<number, { labels: Record<string, string>; writer: string }>();
    for (const j of journals) {
      for (const c of j.created) defined.set(c.id, { labels: c.labels, writer: c.writer });
      for (const id of j.deleted) defined.delete(id);
    }
    for (const [id, d] of defined) b.define(id, d.labels, d.writer);
    for (const j of journals) for (const x of j.appends) if (x.t >= 420_000 - 180_000) expect(b.restore(x.t, x.ids, x.values)).toBe(true);
    b.endRestore();
    const all = [newMatcher('__name__', '=~', '.+')];
    for (const t of [300_000, 360_000, 420_000]) expect(b.instant(all, t)).toEqual(a.instant(all, t));
    expect(b.range(all, 0, 420_000)).toEqual(a.range(all, 0, 420_000));
    expect(b.stats()).toMatchObject({ series: a.stats().series, samples: a.stats().samples, oldestMs: 240_000 });
    expect(b.instant(name('m'), 300_000).find((s) => s.labels.k === 'nan')?.value).toBeNaN();
    // both go on identically: the restored side knows its writers and its stale state
    snap(a, 480_000, { a: 9 });
    snap(b, 480_000, { a: 9 });
    expect(b.range(all, 0, 480_000)).toEqual(a.range(all, 0, 480_000));
    expect(b.instant(all, 480_000)).toEqual(a.instant(all, 480_000));
    // a journal's ids: created series are new; series evicted are listed as deleted
    expect(journals[0]!.created.map((c) => c.labels.k)).toEqual(['a', 'c', 'x']);
    expect(journals.flatMap((j) => j.deleted).length).toBeGreaterThan(0);
  });
});
