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
 *
 * Who marks a series stale: the writer that created it. The cycle's snapshot marks its series that
 * left it; a recording rule marks its own output series that it no longer returns (Prometheus's
 * rule group does the same with `seriesInPreviousEval`). Several writers may append at the same time
 * (the snapshot, then each recording rule): a series keeps the first sample written at a time.
 *
 * Persistence: with `journal` on, every sample pushed (stale markers included) is also logged, and
 * `takeJournal` hands the log to whoever persists it (alerting/history-store.ts); `restore` replays
 * such logs in order after a restart, reproducing the exact history (stale markers included).
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

/** Who created a series: the cycle's snapshot, or a recording rule (its own key). */
export const SNAPSHOT_WRITER = '';

/** In a journal's ids, this bit marks a stale marker. Series ids stay below it. */
export const STALE_BIT = 0x8000_0000;

/** The samples pushed since the last `takeJournal`, grouped by time, and the series created and deleted. */
export interface HistoryJournal {
  readonly appends: ReadonlyArray<{ readonly t: number; readonly ids: Uint32Array; readonly values: Float64Array }>;
  readonly created: ReadonlyArray<{ readonly id: number; readonly labels: VectorSample['labels']; readonly writer: string }>;
  readonly deleted: readonly number[];
}

class Series {
  t = new Float64Array(8);
  v = new Float64Array(8);
  stale = new Uint8Array(8);
  /** samples live at [head, end) */
  head = 0;
  end = 0;

  constructor(
    readonly id: number,
    readonly key: string,
    readonly labels: VectorSample['labels'],
    readonly writer: string,
  ) {}

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

  get lastT(): number {
    return this.end > this.head ? (this.t[this.end - 1] as number) : -Infinity;
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
  /** Log every push for persistence (`takeJournal`). */
  readonly journal?: boolean;
}

/** A growable journal of one time's pushes. */
class JournalAppend {
  ids = new Uint32Array(64);
  values = new Float64Array(64);
  n = 0;
  constructor(readonly t: number) {}
  push(id: number, v: number): void {
    if (this.n === this.ids.length) {
      const ids = new Uint32Array(this.n * 2);
      const values = new Float64Array(this.n * 2);
      ids.set(this.ids);
      values.set(this.values);
      this.ids = ids;
      this.values = values;
    }
    this.ids[this.n] = id;
    this.values[this.n] = v;
    this.n++;
  }
}

export class SampleHistory {
  private readonly series = new Map<string, Series>();
  private readonly byId = new Map<number, Series>();
  private readonly byName = new Map<string, Set<Series>>();
  private readonly byWriter = new Map<string, Set<Series>>();
  /** Each writer's newest append time. */
  private readonly writerT = new Map<string, number>();
  private nextId = 1;
  private journal: JournalAppend[] = [];
  private created: Series[] = [];
  private deleted: number[] = [];
  /** Append times and how many samples each added, oldest first. */
  private readonly appends: Array<{ t: number; n: number }> = [];
  private total = 0;
  private dropped = 0;
  private lastT = -Infinity;

  constructor(private readonly opts: HistoryOptions) {}

  /** The oldest append kept (undefined before the first). */
  get oldest(): number | undefined {
    return this.appends[0]?.t;
  }

  /** The newest append's time (-Infinity before the first). */
  get newest(): number {
    return this.lastT;
  }

  /**
   * Appends `writer`'s samples at `t` (ms): the snapshot's (the default writer) or a recording
   * rule's. `t` must be after the newest append, or equal to it for a writer that has not appended
   * at `t` yet. The writer's earlier series that are not in `samples` get a stale marker. Returns
   * false (and appends nothing) otherwise.
   */
  append(t: number, samples: readonly VectorSample[], writer: string = SNAPSHOT_WRITER): boolean {
    if (!(t >= this.lastT) || (this.writerT.get(writer) ?? -Infinity) >= t) return false;
    this.writerT.set(writer, t);
    const present = new Set<Series>();
    let n = 0;
    for (const s of samples) {
      const key = labelsKey(s.labels);
      let ser = this.series.get(key);
      if (ser === undefined) ser = this.create(this.nextId, key, s.labels, writer);
      if (present.has(ser)) continue;
      present.add(ser);
      if (ser.lastT >= t) continue; // another writer's sample at t stays
      this.push(ser, t, s.value, false);
      n++;
    }
    for (const ser of this.byWriter.get(writer) ?? []) {
      if (present.has(ser) || ser.size === 0 || ser.lastIsStale() || ser.lastT >= t) continue;
      this.push(ser, t, NaN, true);
      n++;
    }
    this.account(t, n);
    return true;
  }

  /**
   * Replays a journal's append (after a restart): the series it names must have been `define`d;
   * unknown ids are skipped. Appends in time order only; returns false for a `t` before the newest.
   */
  restore(t: number, ids: Uint32Array, values: Float64Array): boolean {
    if (!(t >= this.lastT)) return false;
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const ser = this.byId.get((id & ~STALE_BIT) >>> 0);
      if (ser === undefined || ser.lastT >= t) continue;
      const stale = (id & STALE_BIT) !== 0;
      this.push(ser, t, stale ? NaN : (values[i] as number), stale);
      n++;
    }
    for (const w of this.byWriter.keys()) this.writerT.set(w, t);
    this.account(t, n);
    return true;
  }

  /**
   * Every rule writer's (not the snapshot's) newest sample per series at or before `refMs` within
   * the lookback, unless it is a stale marker: what an instant selector sees of rule outputs. Only
   * series whose metric name `keep` accepts.
   */
  latestOfRuleWriters(refMs: number, keep: (name: string) => boolean = () => true, lookbackMs = LOOKBACK_DELTA_MS): Array<{ writer: string; labels: VectorSample['labels']; value: number }> {
    const out: Array<{ writer: string; labels: VectorSample['labels']; value: number }> = [];
    for (const [writer, set] of this.byWriter) {
      if (writer === SNAPSHOT_WRITER) continue;
      for (const s of set) {
        if (!keep(s.labels[METRIC_NAME] ?? '')) continue;
        const i = s.firstAtOrAfter(refMs + 1) - 1;
        if (i < s.head || s.stale[i] === 1 || (s.t[i] as number) < refMs - lookbackMs) continue;
        out.push({ writer, labels: s.labels, value: s.v[i] as number });
      }
    }
    return out;
  }

  /** The rule writers that have series in the history. */
  ruleWriters(): string[] {
    return [...this.byWriter.keys()].filter((w) => w !== SNAPSHOT_WRITER);
  }

  /** Declares a persisted series before `restore` replays its samples. */
  define(id: number, labels: VectorSample['labels'], writer: string): void {
    const key = labelsKey(labels);
    if (this.byId.has(id) || this.series.has(key)) return;
    this.create(id, key, labels, writer);
  }

  /**
   * After restoring: forgets defined series that got no sample, and empties the journal (what was
   * restored is persisted already). Deleted series stay listed, for the store to drop.
   */
  endRestore(): void {
    for (const ser of this.series.values()) if (ser.size === 0) this.remove(ser);
    this.journal = [];
    this.created = [];
  }

  /** What was pushed, created and deleted since the last call (empty unless `journal` is on). */
  takeJournal(): HistoryJournal {
    const j: HistoryJournal = {
      appends: this.journal.map((a) => ({ t: a.t, ids: a.ids.slice(0, a.n), values: a.values.slice(0, a.n) })),
      created: this.created.filter((s) => this.byId.get(s.id) === s).map((s) => ({ id: s.id, labels: s.labels, writer: s.writer })),
      deleted: this.deleted,
    };
    this.journal = [];
    this.created = [];
    this.deleted = [];
    return j;
  }

  private create(id: number, key: string, labels: VectorSample['labels'], writer: string): Series {
    const ser = new Series(id, key, labels, writer);
    this.nextId = Math.max(this.nextId, id + 1);
    this.series.set(key, ser);
    this.byId.set(id, ser);
    const name = labels[METRIC_NAME] ?? '';
    let set = this.byName.get(name);
    if (set === undefined) this.byName.set(name, (set = new Set()));
    set.add(ser);
    let own = this.byWriter.get(writer);
    if (own === undefined) this.byWriter.set(writer, (own = new Set()));
    own.add(ser);
    if (this.opts.journal === true) this.created.push(ser);
    return ser;
  }

  private remove(ser: Series): void {
    this.series.delete(ser.key);
    this.byId.delete(ser.id);
    this.byName.get(ser.labels[METRIC_NAME] ?? '')?.delete(ser);
    const own = this.byWriter.get(ser.writer);
    own?.delete(ser);
    if (own?.size === 0) {
      this.byWriter.delete(ser.writer);
      this.writerT.delete(ser.writer);
    }
    if (this.opts.journal === true) this.deleted.push(ser.id);
  }

  private push(ser: Series, t: number, v: number, stale: boolean): void {
    ser.push(t, v, stale);
    if (this.opts.journal !== true) return;
    let j = this.journal[this.journal.length - 1];
    if (j === undefined || j.t !== t) this.journal.push((j = new JournalAppend(t)));
    j.push(stale ? (ser.id | STALE_BIT) >>> 0 : ser.id, v);
  }

  private account(t: number, n: number): void {
    const last = this.appends[this.appends.length - 1];
    if (last !== undefined && last.t === t) last.n += n;
    else this.appends.push({ t, n });
    this.total += n;
    this.lastT = t;
    this.evict();
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
    for (const ser of this.series.values()) {
      ser.dropBefore(cutoff);
      // a series whose only sample left is its stale marker is gone
      if (ser.size === 0 || (ser.size === 1 && ser.lastIsStale())) this.remove(ser);
      else this.total += ser.size;
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
