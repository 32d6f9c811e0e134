/**
 * Batches of predictions and labels as PostgreSQL stores them: one statement per batch, its rows
 * as a few parameters — a prediction's text and byte columns in one binary blob (Blob), its numbers
 * and a label's columns as one array each (unnest) — so a batch of any size is one round trip and a
 * few bind parameters (PostgreSQL allows 65,535 a statement; 10,000 rows × 13 columns would not fit).
 *
 * Sequence numbers follow commit order. The statement first moves its counter row on by the
 * batch's size (`UPDATE counters … RETURNING`), reserving a block of numbers, and gives them to the
 * rows in record order. The row stays locked until the statement commits, so a second writer waits
 * at that UPDATE until the first has committed, and then reserves the numbers after it: a row with
 * a lower seq is never committed after one with a higher seq. That is what lets a reader (a
 * follower replica, a window rebuild) take "the rows with seq > what I have seen" without missing
 * one — a plain sequence (nextval) would hand numbers out in call order and let a slower
 * transaction commit a lower number later. The price is one writer at a time per counter, which
 * the batch size pays for. Labels have their own counter (label_seq) and `seq` column, on the same
 * terms, for the followers' label feed. Numbers reserved for a row that turns out to be a
 * duplicate are skipped: seqs have gaps, they never go back.
 *
 * The first write of a (model, id) wins. A batch's own repeats are found here (the first occurrence
 * is written, the others are duplicates) and the rows already stored by `ON CONFLICT DO NOTHING`:
 * the statement answers the seqs it stored, and every other record is a duplicate.
 */
import type { LabelRecord, PredictionRecord, WriteResult } from '../store.js';
import { packsExactly, type Packer, type PackLayout } from '../packed.js';

/** A batch's distinct ids, in record order, and where each record's id first occurs. */
interface Distinct {
  /** Index into the records of each distinct id's first occurrence. */
  first: number[];
  /** Per record: the 1-based ordinal of its id among the distinct ones when it is the first occurrence, else 0. */
  ordinal: Int32Array;
}

function distinct(records: readonly { id: string }[]): Distinct {
  const seen = new Set<string>();
  const first: number[] = [];
  const ordinal = new Int32Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const id = (records[i] as { id: string }).id;
    if (seen.has(id)) continue;
    seen.add(id);
    first.push(i);
    ordinal[i] = first.length;
  }
  return { first, ordinal };
}

/** A target as its two columns: a number in the number column, anything else as text. */
const targetText = (t: PredictionRecord['prediction']): string | null => (typeof t === 'number' ? null : String(t));
const targetNumber = (t: PredictionRecord['prediction']): number | null => (typeof t === 'number' ? t : null);

/**
 * A batch's text and byte columns (ids, packed rows, features JSON, versions, …) as one binary
 * parameter and their places in it: node-postgres sends a Buffer as it is (binary), where an array
 * parameter would be written as text with every element quoted and escaped (a bytea as hex) and
 * parsed back by the server — most of a batch's cost, on both sides, before this. The statement cuts each value
 * out again with substring(… FROM start FOR length), which on a bytea parameter is a slice.
 */
class Blob {
  private readonly parts: Buffer[] = [];
  private size = 0;

  /** Appends a value; answers [start (1-based, as substring counts), length], or [0, -1] for null. */
  add(v: Uint8Array | string | null): [number, number] {
    if (v === null) return [0, -1];
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    this.parts.push(b);
    const at = this.size + 1;
    this.size += b.length;
    return [at, b.length];
  }

  buffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

/** The columns a batch of predictions sends in its blob, in this order: each has a start and a length per row in the places. */
const BLOB_COLUMNS = ['id', 'packed', 'features', 'version', 'prediction_text', 'score', 'segment', 'error', 'traceparent'] as const;

/**
 * The parameters of predictionsSql: the model, the time received, the block of seqs to reserve,
 * the blob and its places (BLOB_COLUMNS), then the numeric columns as arrays. With `exact` (the
 * layout is registered as this process's: pg-layouts.ts), a row whose packed form holds its
 * features exactly leaves its JSON out.
 */
export function predictionParams(
  model: string,
  records: readonly PredictionRecord[],
  receivedAt: number,
  layout: PackLayout | undefined,
  packer: Packer,
  exact = false,
): { params: unknown[]; distinct: Distinct } {
  const d = distinct(records);
  const n = d.first.length;
  const blob = new Blob();
  // per column c of BLOB_COLUMNS and row k: places[2c·n + k] its start, places[(2c+1)·n + k] its length (-1: null)
  const places = new Array<number>(2 * BLOB_COLUMNS.length * n);
  const put = (c: number, k: number, v: Uint8Array | string | null): void => {
    const [at, len] = blob.add(v);
    places[2 * c * n + k] = at;
    places[(2 * c + 1) * n + k] = len;
  };
  const ts = new Array<number>(n);
  const numbers = new Array<number | null>(n);
  const latencies = new Array<number | null>(n);
  for (let k = 0; k < n; k++) {
    const r = records[d.first[k] as number] as PredictionRecord;
    put(0, k, r.id);
    // the packer's buffer is reused for the next record: add copies it
    put(1, k, layout === undefined ? null : packer.pack(layout, r));
    put(2, k, exact && layout !== undefined && packsExactly(layout, r.features) ? null : JSON.stringify(r.features));
    put(3, k, r.version);
    put(4, k, targetText(r.prediction));
    put(5, k, r.score === null || r.score === undefined ? null : JSON.stringify(r.score));
    put(6, k, r.segment);
    put(7, k, r.error);
    put(8, k, r.traceparent ?? null);
    ts[k] = r.ts;
    numbers[k] = targetNumber(r.prediction);
    latencies[k] = r.latencyMs;
  }
  return { params: [model, receivedAt, n, blob.buffer(), numericArray(places), numericArray(ts), numericArray(numbers), numericArray(latencies)], distinct: d };
}

/**
 * An array of numbers as PostgreSQL's array text (`{1,2.5,NULL}`), written by one native join:
 * node-postgres would prepare each element on its own, most of a batch's client time for its
 * 16 places a row. The numbers are finite (validated; JSON has no other), so String() is exact.
 */
export function numericArray(values: readonly (number | null)[]): string {
  let nulls = false;
  for (const v of values) if (v === null) nulls = true;
  return `{${(nulls ? values.map((v) => (v === null ? 'NULL' : v)) : values).join(',')}}`;
}

/** Column c of BLOB_COLUMNS for row u.ord, cut out of the blob ($4) at its place ($5): bytea, or text. */
function fromBlob(c: number, text: boolean): string {
  const at = `($5::int4[])[${2 * c} * $3 + u.ord]`;
  const len = `($5::int4[])[${2 * c + 1} * $3 + u.ord]`;
  const bytes = `substring($4::bytea FROM ${at} FOR ${len})`;
  return `CASE WHEN ${len} >= 0 THEN ${text ? `convert_from(${bytes}, 'UTF8')` : bytes} END AS ${BLOB_COLUMNS[c]}`;
}

/** The parameters of labelsSql, on the same terms. */
export function labelParams(model: string, records: readonly LabelRecord[], receivedAt: number): { params: unknown[]; distinct: Distinct } {
  const d = distinct(records);
  const rows = d.first.map((i) => records[i] as LabelRecord);
  return {
    params: [model, receivedAt, rows.length, rows.map((r) => r.id), rows.map((r) => r.ts), rows.map((r) => targetText(r.label)), rows.map((r) => targetNumber(r.label))],
    distinct: d,
  };
}

/**
 * One batch of predictions: the block of seqs reserved (the counter row locked until commit), the
 * rows stored but those already there, the features JSON of the rows stored that have one (a row
 * packed exactly has none: pg-layouts.ts; a duplicate leaves no
 * orphan). Answers the stored rows' seqs and ordinals (1-based, among the batch's distinct ids).
 */
export const predictionsSql = (s: string): string => `
  WITH input AS (
    SELECT u.ord, u.ts, u.prediction_number, u.latency_ms,
      ${BLOB_COLUMNS.map((_, c) => fromBlob(c, BLOB_COLUMNS[c] !== 'packed')).join(',\n      ')}
    FROM unnest($6::bigint[], $7::float8[], $8::float8[]) WITH ORDINALITY AS u (ts, prediction_number, latency_ms, ord)
  ),
  block AS (
    UPDATE ${s}.counters SET value = value + $3 WHERE name = 'prediction_seq' RETURNING value - $3 AS base
  ),
  stored AS (
    INSERT INTO ${s}.predictions (model, id, seq, ts, version, prediction_text, prediction_number, score, latency_ms, segment, error, received_at, packed, traceparent)
    SELECT $1, i.id, b.base + i.ord, i.ts, i.version, i.prediction_text, i.prediction_number, i.score, i.latency_ms, i.segment, i.error, $2, i.packed, i.traceparent
    FROM input i CROSS JOIN block b ORDER BY i.ord
    ON CONFLICT (model, id) DO NOTHING
    RETURNING seq
  ),
  kept AS (
    INSERT INTO ${s}.prediction_features (seq, features)
    SELECT st.seq, i.features FROM stored st CROSS JOIN block b JOIN input i ON i.ord = st.seq - b.base WHERE i.features IS NOT NULL
  )
  SELECT st.seq, st.seq - b.base AS ord FROM stored st CROSS JOIN block b`;

/** One batch of labels, on the same terms (label_seq). */
export const labelsSql = (s: string): string => `
  WITH input AS (
    SELECT * FROM unnest($4::text[], $5::bigint[], $6::text[], $7::float8[]) WITH ORDINALITY AS u (id, ts, label_text, label_number, ord)
  ),
  block AS (
    UPDATE ${s}.counters SET value = value + $3 WHERE name = 'label_seq' RETURNING value - $3 AS base
  ),
  stored AS (
    INSERT INTO ${s}.labels (model, id, seq, ts, label_text, label_number, received_at)
    SELECT $1, i.id, b.base + i.ord, i.ts, i.label_text, i.label_number, $2
    FROM input i CROSS JOIN block b ORDER BY i.ord
    ON CONFLICT (model, id) DO NOTHING
    RETURNING seq
  )
  SELECT st.seq, st.seq - b.base AS ord FROM stored st CROSS JOIN block b`;

/** The write result of a batch of `n` records from the rows its statement stored. */
export function writeResult(n: number, d: Distinct, stored: readonly { seq: number; ord: number }[]): WriteResult {
  const seqOf = new Array<number | undefined>(d.first.length + 1);
  for (const r of stored) seqOf[r.ord] = r.seq;
  const duplicates: number[] = [];
  const seqs = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const k = d.ordinal[i] as number;
    const seq = k === 0 ? undefined : seqOf[k];
    if (seq === undefined) {
      seqs[i] = -1;
      duplicates.push(i);
    } else seqs[i] = seq;
  }
  return { inserted: n - duplicates.length, duplicates, seqs };
}
