/**
 * The rule history kept across restarts: each evaluation's pushes (samples and stale markers, as
 * the history journals them) are written to the store after the evaluation, and replayed at
 * start-up, so a `rate(…[5m])` rule is right at the first evaluation after a restart shorter than
 * its range. Layout: a dictionary of series (id, labels, writer) and one row per evaluation time
 * holding its samples, 12 bytes each (id as little-endian uint32, the stale bit included, then the
 * value as little-endian float64). Rows older than the history's oldest evaluation are dropped with
 * each write, so the store holds what the memory holds.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { RuleHistorySeries, RuleHistoryWrite, Store } from '../store/store.js';
import { compareStrings, newLabels } from './promql/labels.js';
import type { HistoryJournal, SampleHistory } from './promql/history.js';
import type { Labels } from './types.js';

const SAMPLE_BYTES = 12;
/** Unwritten appends kept while the store fails (the oldest go first). */
const MAX_PENDING_APPENDS = 240;

export function encodeSamples(ids: Uint32Array, values: Float64Array): Uint8Array {
  const out = new Uint8Array(ids.length * SAMPLE_BYTES);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < ids.length; i++) {
    dv.setUint32(i * SAMPLE_BYTES, ids[i] as number, true);
    dv.setFloat64(i * SAMPLE_BYTES + 4, values[i] as number, true);
  }
  return out;
}

/** The samples of one persisted row, or undefined when its length is not a whole number of samples. */
export function decodeSamples(data: Uint8Array): { ids: Uint32Array; values: Float64Array } | undefined {
  if (data.length % SAMPLE_BYTES !== 0) return undefined;
  const n = data.length / SAMPLE_BYTES;
  const ids = new Uint32Array(n);
  const values = new Float64Array(n);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    ids[i] = dv.getUint32(i * SAMPLE_BYTES, true);
    values[i] = dv.getFloat64(i * SAMPLE_BYTES + 4, true);
  }
  return { ids, values };
}

/** A label set as stored: JSON of its [name, value] pairs in name order. */
export function labelsJson(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort(compareStrings)
      .map((k) => [k, labels[k]]),
  );
}

function parseLabels(json: string): Labels | undefined {
  const pairs: unknown = JSON.parse(json);
  if (!Array.isArray(pairs)) return undefined;
  const out = newLabels();
  for (const p of pairs) {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
    out[p[0]] = p[1];
  }
  return out as Labels;
}

export interface RestoreResult {
  series: number;
  samples: number;
  evaluations: number;
  /** Rows or series that could not be read (skipped). */
  unreadable: number;
}

export class HistoryPersistence {
  private readonly series = new Map<number, RuleHistorySeries>();
  private readonly deleted = new Set<number>();
  private appends: { t: number; data: Uint8Array }[] = [];
  private failing = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /**
   * Replays the persisted history into `history` (which must be empty and journaling): evaluations
   * older than `now − retention` or after `now` are skipped. A store that cannot be read leaves the
   * history empty (logged), never fails start-up.
   */
  async restore(history: SampleHistory, now: number, retentionMs: number): Promise<RestoreResult> {
    const r: RestoreResult = { series: 0, samples: 0, evaluations: 0, unreadable: 0 };
    try {
      const { series, appends } = await this.store.readRuleHistory();
      for (const s of series) {
        let labels: Labels | undefined;
        try {
          labels = parseLabels(s.labels);
        } catch {
          labels = undefined;
        }
        if (labels === undefined) r.unreadable++;
        else history.define(s.id, labels, s.writer);
      }
      for (const a of appends) {
        if (a.t < now - retentionMs || a.t > now) continue;
        const d = decodeSamples(a.data);
        if (d === undefined) {
          r.unreadable++;
          continue;
        }
        if (history.restore(a.t, d.ids, d.values)) {
          r.evaluations++;
          r.samples += d.ids.length;
        }
      }
      history.endRestore();
      r.series = history.stats().series;
      if (r.unreadable > 0) this.log.warn({ unreadable: r.unreadable }, 'rule history: some persisted rows cannot be read; skipped');
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'rule history cannot be read from the store; range selectors start with an empty history');
      history.endRestore();
    }
    return r;
  }

  /**
   * Writes what the history journaled since the last call. A failed write is kept and retried
   * with the next one (at most the last MAX_PENDING_APPENDS evaluations), and logged once until a
   * write succeeds again.
   */
  async persist(history: SampleHistory): Promise<boolean> {
    this.take(history.takeJournal());
    const w: RuleHistoryWrite = {
      series: [...this.series.values()],
      deletedSeries: [...this.deleted],
      appends: this.appends,
      pruneBefore: history.oldest ?? history.newest,
    };
    try {
      await this.store.writeRuleHistory(w);
      this.series.clear();
      this.deleted.clear();
      this.appends = [];
      if (this.failing) this.log.info('rule history is written to the store again');
      this.failing = false;
      return true;
    } catch (e) {
      if (!this.failing) this.log.error({ err: errorMessage(e) }, 'rule history cannot be written to the store; retrying with the next evaluation');
      this.failing = true;
      return false;
    }
  }

  private take(j: HistoryJournal): void {
    for (const c of j.created) {
      this.series.set(c.id, { id: c.id, labels: labelsJson(c.labels), writer: c.writer });
      this.deleted.delete(c.id);
    }
    for (const id of j.deleted) {
      this.series.delete(id);
      this.deleted.add(id);
    }
    for (const a of j.appends) this.appends.push({ t: a.t, data: encodeSamples(a.ids, a.values) });
    if (this.appends.length > MAX_PENDING_APPENDS) this.appends.splice(0, this.appends.length - MAX_PENDING_APPENDS);
  }
}
