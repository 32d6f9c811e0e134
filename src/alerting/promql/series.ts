import type { Sample } from '../../metrics/snapshot.js';
import type { Labels, VectorSample } from '../types.js';
import type { LabelMatcher } from './ast.js';
import type { SampleHistory } from './history.js';
import { compareStrings, keyOfSorted, METRIC_NAME, newLabels, resetLabelCaches, seal } from './labels.js';

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
  private hist: SampleHistory | undefined;
  private snapshotAt = NaN;

  constructor(samples: readonly Sample[]) {
    resetLabelCaches();
    const seen = new Map<string, number>();
    for (const s of samples) {
      const labels = newLabels();
      for (const [k, v] of Object.entries(s.labels)) if (v !== '' && k !== METRIC_NAME) labels[k] = v;
      if (s.name !== '') labels[METRIC_NAME] = s.name;
      const names = Object.keys(labels).sort(compareStrings);
      const key = keyOfSorted(labels, names);
      const series: VectorSample = { labels: seal(labels as Labels, names, key), value: s.value };
      const at = seen.get(key);
      if (at !== undefined) {
        // The same series twice: the later sample replaces the earlier one (as SnapshotBuilder does).
        this.all[at] = series;
        continue;
      }
      seen.set(key, this.all.length);
      this.all.push(series);
    }
    for (const series of this.all) {
      const name = series.labels[METRIC_NAME] ?? '';
      const list = this.byName.get(name);
      if (list === undefined) this.byName.set(name, [series]);
      else list.push(series);
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

  /** Appends this snapshot to `history` at `timeMs` and reads range selectors, offsets and subqueries from it. */
  recordIn(history: SampleHistory, timeMs: number): this {
    history.append(timeMs, this.all);
    this.hist = history;
    this.snapshotAt = timeMs;
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
