/**
 * Vigil's sample history: what range selectors, `offset`, `@` and subqueries read. Each rule
 * evaluation appends the cycle's snapshot at its time, as a Prometheus scrape appends a target's
 * samples. A series missing from a later snapshot gets a stale marker there (Prometheus writes one
 * when a series leaves a scrape), so it stops answering instant selectors at once and range
 * selectors keep only its earlier samples.
 *
 * Bounds: samples older than `retentionMs` before the newest append are dropped, and so are the
 * oldest appends while more than `maxSamples` samples are kept (a range longer than what is kept
 * sees fewer samples: `vigil_rule_history_dropped_samples_total` counts them). Cost: about 17
 * bytes a sample slot (time and value as float64, a stale flag), slots growing by doubling, plus
 * some 200 bytes a series.
 */
import type { VectorSample } from '../types.js';
import type { LabelMatcher } from './ast.js';
import { labelsKey, METRIC_NAME } from './labels.js';

/** Prometheus's default `--query.lookback-delta`: an instant selector sees a sample this old at most. */
export const LOOKBACK_DELTA_MS = 5 * 60_000;

/** One series' samples in a range, oldest first (stale markers left out). */
export interface RangeSeries {
  readonly labels: VectorSample['labels'];
  readonly t: Float64Array;
  readonly v: Float64Array;
}

/** An instant selection from history: the sample and its own time. */
export interface TimedSample extends VectorSample {
  readonly t: number;
}

class Series {
  t = new Float64Array(8);
  v = new Float64Array(8);
  stale = new Uint8Array(8);
  /** samples live at [head, end) */
  head = 0;
  end = 0;

  constructor(readonly labels: VectorSample['labels']) {}

  get size(): number {
    return this.end - this.head;
  }

  push(t: number, v: number, stale: boolean): void {
    if (this.end === this.t.length) {
      const n = this.size;
      const cap = n * 2 > this.t.length ? this.t.length * 2 : this.t.length;
      const t2 = new Float64Array(cap);
      const v2 = new Float64Array(cap);
      const s2 = new Uint8Array(cap);
      t2.set(this.t.subarray(this.head, this.end));
      v2.set(this.v.subarray(this.head, this.end));
      s2.set(this.stale.subarray(this.head, this.end));
      this.t = t2;
      this.v = v2;
      this.stale = s2;
      this.head = 0;
      this.end = n;
    }
    this.t[this.end] = t;
    this.v[this.end] = v;
    this.stale[this.end] = stale ? 1 : 0;
    this.end++;
  }

  /** Drops the samples before `t`; returns how many. */
  dropBefore(t: number): number {
    let h = this.head;
    while (h < this.end && (this.t[h] as number) < t) h++;
    const n = h - this.head;
    this.head = h;
    return n;
  }

  lastIsStale(): boolean {
    return this.end > this.head && this.stale[this.end - 1] === 1;
  }

  /** Index of the first sample at or after `t` (binary search). */
  firstAtOrAfter(t: number): number {
    let lo = this.head;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.t[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface HistoryOptions {
  readonly retentionMs: number;
  readonly maxSamples: number;
}

export class SampleHistory {
  private readonly series = new Map<string, Series>();
  private readonly byName = new Map<string, Set<Series>>();
  /** Append times and how many samples each added, oldest first. */
  private readonly appends: Array<{ t: number; n: number }> = [];
  private total = 0;
  private dropped = 0;
  private lastT = -Infinity;

  constructor(private readonly opts: HistoryOptions) {}

  /** The newest append's time (-Infinity before the first). */
  get newest(): number {
    return this.lastT;
  }

  /**
   * Appends a snapshot taken at `t` (ms, after the previous append's). Series of earlier appends
   * that are not in it get a stale marker. Returns false (and appends nothing) for a `t` not after
   * the newest.
   */
  append(t: number, samples: readonly VectorSample[]): boolean {
    if (!(t > this.lastT)) return false;
    const present = new Set<Series>();
    let n = 0;
    for (const s of samples) {
      const key = labelsKey(s.labels);
      let ser = this.series.get(key);
      if (ser === undefined) {
        ser = new Series(s.labels);
        this.series.set(key, ser);
        const name = s.labels[METRIC_NAME] ?? '';
        let set = this.byName.get(name);
        if (set === undefined) this.byName.set(name, (set = new Set()));
        set.add(ser);
      }
      if (present.has(ser)) continue;
      present.add(ser);
      ser.push(t, s.value, false);
      n++;
    }
    for (const ser of this.series.values()) {
      if (present.has(ser) || ser.size === 0 || ser.lastIsStale()) continue;
      ser.push(t, NaN, true);
      n++;
    }
    this.appends.push({ t, n });
    this.total += n;
    this.lastT = t;
    this.evict();
    return true;
  }

  private evict(): void {
    let cutoff = this.lastT - this.opts.retentionMs;
    let i = 0;
    let total = this.total;
    // appends older than the retention, then the oldest while over the sample cap (the newest always stays)
    while (i < this.appends.length - 1 && ((this.appends[i] as { t: number }).t < cutoff || total > this.opts.maxSamples)) {
      const a = this.appends[i] as { t: number; n: number };
      if (a.t >= cutoff) this.dropped += a.n;
      total -= a.n;
      i++;
    }
    if (i === 0) return;
    cutoff = (this.appends[i] as { t: number }).t;
    this.appends.splice(0, i);
    this.total = 0;
    for (const [key, ser] of this.series) {
      ser.dropBefore(cutoff);
      // a series whose only sample left is its stale marker is gone
      if (ser.size === 0 || (ser.size === 1 && ser.lastIsStale())) {
        this.series.delete(key);
        this.byName.get(ser.labels[METRIC_NAME] ?? '')?.delete(ser);
      } else this.total += ser.size;
    }
  }

  private matching(matchers: readonly LabelMatcher[]): Iterable<Series> {
    const byName = matchers.find((m) => m.name === METRIC_NAME && m.op === '=');
    const candidates: Iterable<Series> = byName === undefined ? this.series.values() : (this.byName.get(byName.value) ?? []);
    const out: Series[] = [];
    for (const s of candidates) if (matchers.every((m) => m.matches(s.labels[m.name] ?? ''))) out.push(s);
    return out;
  }

  /**
   * An instant selector at `refMs`: per matching series, its newest sample in
   * [refMs − lookback, refMs], unless that is a stale marker (Prometheus 2.42 vectorSelectorSingle).
   */
  instant(matchers: readonly LabelMatcher[], refMs: number, lookbackMs = LOOKBACK_DELTA_MS): TimedSample[] {
    const out: TimedSample[] = [];
    for (const s of this.matching(matchers)) {
      const i = s.firstAtOrAfter(refMs + 1) - 1; // the last sample at or before refMs
      if (i < s.head) continue;
      const t = s.t[i] as number;
      if (t < refMs - lookbackMs || s.stale[i] === 1) continue;
      out.push({ labels: s.labels, value: s.v[i] as number, t });
    }
    return out;
  }

  /** A range selector: per matching series, its samples in [startMs, endMs] (2.42: both ends included), stale markers left out; series without any are left out. */
  range(matchers: readonly LabelMatcher[], startMs: number, endMs: number): RangeSeries[] {
    const out: RangeSeries[] = [];
    for (const s of this.matching(matchers)) {
      const from = s.firstAtOrAfter(startMs);
      const to = s.firstAtOrAfter(endMs + 1);
      let n = 0;
      for (let i = from; i < to; i++) if (s.stale[i] === 0) n++;
      if (n === 0) continue;
      const t = new Float64Array(n);
      const v = new Float64Array(n);
      let k = 0;
      for (let i = from; i < to; i++) {
        if (s.stale[i] === 1) continue;
        t[k] = s.t[i] as number;
        v[k] = s.v[i] as number;
        k++;
      }
      out.push({ labels: s.labels, t, v });
    }
    return out;
  }

  stats(): { series: number; samples: number; droppedSamples: number; oldestMs: number | undefined; bytes: number } {
    let bytes = 0;
    for (const s of this.series.values()) bytes += 200 + s.t.length * 17;
    return { series: this.series.size, samples: this.total, droppedSamples: this.dropped, oldestMs: this.appends[0]?.t, bytes };
  }
}
