/**
 * Batches of predictions and labels as PostgreSQL stores them: one statement per batch, its rows
 * as one array parameter per column (unnest), so a batch of any size is one round trip and a few
 * bind parameters (PostgreSQL allows 65,535 a statement; 10,000 rows × 13 columns would not fit).
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
import type { Packer, PackLayout } from '../packed.js';

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

/** The parameters of predictionsSql: the model, the time received, the block of seqs to reserve, then one array per column. */
export function predictionParams(model: string, records: readonly PredictionRecord[], receivedAt: number, layout: PackLayout | undefined, packer: Packer): { params: unknown[]; distinct: Distinct } {
  const d = distinct(records);
  const n = d.first.length;
  const ids = new Array<string>(n);
  const ts = new Array<number>(n);
  const versions = new Array<string>(n);
  const texts = new Array<string | null>(n);
  const numbers = new Array<number | null>(n);
  const scores = new Array<string | null>(n);
  const latencies = new Array<number | null>(n);
  const segments = new Array<string | null>(n);
  const errors = new Array<string | null>(n);
  const packed = new Array<Buffer | null>(n);
  const features = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const r = records[d.first[k] as number] as PredictionRecord;
    ids[k] = r.id;
    ts[k] = r.ts;
    versions[k] = r.version;
    texts[k] = targetText(r.prediction);
    numbers[k] = targetNumber(r.prediction);
    scores[k] = r.score === null || r.score === undefined ? null : JSON.stringify(r.score);
    latencies[k] = r.latencyMs;
    segments[k] = r.segment;
    errors[k] = r.error;
    // the packer's buffer is reused for the next record: copied
    packed[k] = layout === undefined ? null : Buffer.from(packer.pack(layout, r));
    features[k] = JSON.stringify(r.features);
  }
  return { params: [model, receivedAt, n, ids, ts, versions, texts, numbers, scores, latencies, segments, errors, packed, features], distinct: d };
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
 * rows stored but those already there, the features JSON of the rows stored (a duplicate leaves no
 * orphan). Answers the stored rows' seqs and ordinals (1-based, among the batch's distinct ids).
 */
export const predictionsSql = (s: string): string => `
  WITH input AS (
    SELECT * FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::float8[], $11::text[], $12::text[], $13::bytea[], $14::text[])
      WITH ORDINALITY AS u (id, ts, version, prediction_text, prediction_number, score, latency_ms, segment, error, packed, features, ord)
  ),
  block AS (
    UPDATE ${s}.counters SET value = value + $3 WHERE name = 'prediction_seq' RETURNING value - $3 AS base
  ),
  stored AS (
    INSERT INTO ${s}.predictions (model, id, seq, ts, version, prediction_text, prediction_number, score, latency_ms, segment, error, received_at, packed)
    SELECT $1, i.id, b.base + i.ord, i.ts, i.version, i.prediction_text, i.prediction_number, i.score, i.latency_ms, i.segment, i.error, $2, i.packed
    FROM input i CROSS JOIN block b ORDER BY i.ord
    ON CONFLICT (model, id) DO NOTHING
    RETURNING seq
  ),
  kept AS (
    INSERT INTO ${s}.prediction_features (seq, features)
    SELECT st.seq, i.features FROM stored st CROSS JOIN block b JOIN input i ON i.ord = st.seq - b.base
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
