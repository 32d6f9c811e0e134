import type { Sample } from '../../metrics/snapshot.js';
import type { Labels, VectorSample } from '../types.js';
import type { LabelMatcher } from './ast.js';
import type { SampleHistory } from './history.js';
import { compareStrings, keyOfSorted, labelsKey, METRIC_NAME, newLabels, resetLabelCaches, seal } from './labels.js';

const copyLabels = (labels: Labels): Record<string, string> => {
  const out = newLabels();
  for (const [k, v] of Object.entries(labels)) out[k] = v;
  return out;
};

/**
 * The instant snapshot as PromQL sees it: every sample as a series whose labels include
 * `__name__`, indexed by metric name. Label sets are built once (empty label values dropped: in
 * Prometheus an empty value is an absent label) and shared, so keys computed for matching are
 * cached across all rules of an evaluation. Selections are memoised: the snapshot is immutable.
 */
export class SeriesIndex {
  private readonly byName = new Map<string, VectorSample[]>();
  private readonly all: VectorSample[] = [];
  private readonly selections = new Map<string, readonly VectorSample[]>();
  private readonly memos = new Map<number, Map<string, unknown>>();
  /** Position of each series (by key) in `all`, and in its name's list of `byName`. */
  private readonly seen = new Map<string, number>();
  private readonly namePos = new Map<string, number>();
  /** The keys each rule writer has in this index (carried from the history or written here). */
  private readonly written = new Map<string, Set<string>>();
  /** Every key a rule writer put here. */
  private readonly ruleKeys = new Set<string>();
  private hist: SampleHistory | undefined;
  private snapshotAt = NaN;

  constructor(samples: readonly Sample[]) {
    resetLabelCaches();
    for (const s of samples) {
      const labels = newLabels();
      for (const [k, v] of Object.entries(s.labels)) if (v !== '' && k !== METRIC_NAME) labels[k] = v;
      if (s.name !== '') labels[METRIC_NAME] = s.name;
      // The same series twice: the later sample replaces the earlier one (as SnapshotBuilder does).
      this.put(labels, s.value);
    }
  }

  /** Adds or replaces a series (labels with `__name__`); returns its key. `byName` is rebuilt by the caller. */
  private put(labels: Record<string, string>, value: number, keepSnapshot = false): string {
    const names = Object.keys(labels).sort(compareStrings);
    const key = keyOfSorted(labels, names);
    const series: VectorSample = { labels: seal(labels as Labels, names, key), value };
    const at = this.seen.get(key);
    // a rule output never replaces a snapshot series (Prometheus refuses the duplicate sample)
    if (at !== undefined && keepSnapshot && !this.ruleKeys.has(key)) return key;
    if (keepSnapshot) this.ruleKeys.add(key);
    const name = labels[METRIC_NAME] ?? '';
    let list = this.byName.get(name);
    if (list === undefined) this.byName.set(name, (list = []));
    if (at !== undefined) {
      this.all[at] = series;
      list[this.namePos.get(key) as number] = series;
    } else {
      this.seen.set(key, this.all.length);
      this.all.push(series);
      this.namePos.set(key, list.length);
      list.push(series);
    }
    return key;
  }

  /** Rebuilds the positions and the name index from `all` (after series were removed). */
  private reindex(): void {
    this.seen.clear();
    this.byName.clear();
    this.namePos.clear();
    this.all.forEach((series, i) => {
      const key = labelsKey(series.labels);
      this.seen.set(key, i);
      const name = series.labels[METRIC_NAME] ?? '';
      let list = this.byName.get(name);
      if (list === undefined) this.byName.set(name, (list = []));
      this.namePos.set(key, list.length);
      list.push(series);
    });
  }

  /**
   * Rule outputs as Prometheus's storage holds them when a rule runs: for every rule writer of
   * the history (recording rules, ALERTS), its newest sample per series within the lookback before
   * this snapshot's time, unless stale. A rule that runs later in this evaluation replaces its own.
   */
  private carryRuleOutputs(mayBeRead: (name: string) => boolean): void {
    if (this.hist === undefined) return;
    // outputs no rule reads are not worth carrying
    for (const { writer, labels, value } of this.hist.latestOfRuleWriters(this.snapshotAt, mayBeRead)) {
      const key = this.put(copyLabels(labels), value, true);
      let keys = this.written.get(writer);
      if (keys === undefined) this.written.set(writer, (keys = new Set()));
      keys.add(key);
    }
  }

  /**
   * A rule's output at this snapshot's time (`writer` as in SampleHistory): the writer's series
   * here are replaced by `samples` (those it no longer returns leave, being stale from now), and
   * `samples` are appended to the history. Later rules of this evaluation see them.
   */
  write(writer: string, samples: readonly VectorSample[], mayBeRead: (name: string) => boolean = () => true): void {
    if (this.hist !== undefined && !Number.isNaN(this.snapshotAt)) this.hist.append(this.snapshotAt, samples, writer);
    const before = this.written.get(writer);
    if (samples.length === 0 && (before === undefined || before.size === 0)) return; // an inactive alerting rule: nothing changes
    const now = new Set<string>();
    const names = new Set<string>();
    for (const s of samples) {
      const labels = newLabels();
      for (const [k, v] of Object.entries(s.labels)) if (v !== '') labels[k] = v;
      now.add(this.put(labels, s.value, true));
      names.add(labels[METRIC_NAME] ?? '');
    }
    const gone = before === undefined ? [] : [...before].filter((k) => !now.has(k) && this.ruleKeys.has(k) && this.seen.has(k));
    if (gone.length > 0) {
      const drop = new Set(gone.map((k) => this.seen.get(k)));
      for (const k of gone) names.add(this.all[this.seen.get(k) as number]?.labels[METRIC_NAME] ?? '');
      const kept = this.all.filter((_, i) => !drop.has(i));
      this.all.length = 0;
      this.all.push(...kept);
      this.reindex();
    }
    this.written.set(writer, now);
    // cached selections and subexpression results are stale only if a rule may read these names
    if ([...names].some(mayBeRead)) {
      this.selections.clear();
      this.memos.clear();
    }
  }

  /**
   * Results of already evaluated subexpressions at `timeMs` (by canonical expression text): the
   * snapshot is immutable and evaluation is pure, so rules sharing a subexpression (the same
   * `sum by (model) (…)`) compute it once per snapshot and time. Internal to the evaluator.
   */
  evaluationMemo(timeMs: number): Map<string, unknown> {
    let memo = this.memos.get(timeMs);
    if (memo === undefined) {
      // subqueries evaluate at many times: keep a bounded number of them
      if (this.memos.size >= 4096) this.memos.clear();
      this.memos.set(timeMs, (memo = new Map()));
    }
    return memo;
  }

  /**
   * Appends this snapshot to `history` at `timeMs` and reads range selectors, offsets and
   * subqueries from it; rule outputs of earlier evaluations that a rule may read (`mayBeRead`, by
   * metric name) are carried in (carryRuleOutputs). With `ruleWriters`, the history's other rule
   * writers are retired: their series are stale from now.
   */
  recordIn(history: SampleHistory, timeMs: number, ruleWriters?: ReadonlySet<string>, mayBeRead: (name: string) => boolean = () => true): this {
    history.append(timeMs, this.all);
    // the series of rules no longer loaded are stale from now (Prometheus marks a removed group's series stale)
    if (ruleWriters !== undefined) for (const w of history.ruleWriters()) if (!ruleWriters.has(w)) history.append(timeMs, [], w);
    this.hist = history;
    this.snapshotAt = timeMs;
    this.carryRuleOutputs(mayBeRead);
    return this;
  }

  /** Reads range selectors, offsets and subqueries from `history`, this snapshot not being in it. */
  readFrom(history: SampleHistory): this {
    this.hist = history;
    this.snapshotAt = NaN;
    return this;
  }

  /** The history range selectors, offsets and subqueries read, if any. */
  get history(): SampleHistory | undefined {
    return this.hist;
  }

  /** This snapshot's time in the history (NaN when it is not in one). */
  get snapshotTimeMs(): number {
    return this.snapshotAt;
  }

  get size(): number {
    return this.all.length;
  }

  /** The series matching every matcher (in snapshot order). `key` identifies the matcher set for memoisation. */
  select(matchers: readonly LabelMatcher[], key: string): readonly VectorSample[] {
    const cached = this.selections.get(key);
    if (cached !== undefined) return cached;
    const byName = matchers.find((m) => m.name === METRIC_NAME && m.op === '=');
    const candidates = byName === undefined ? this.all : (this.byName.get(byName.value) ?? []);
    const out: VectorSample[] = [];
    for (const s of candidates) {
      let ok = true;
      for (const m of matchers) {
        if (!m.matches(s.labels[m.name] ?? '')) {
          ok = false;
          break;
        }
      }
      if (ok) out.push(s);
    }
    this.selections.set(key, out);
    return out;
  }
}
