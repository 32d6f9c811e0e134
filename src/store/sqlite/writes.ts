/**
 * The store's hot writes — batches of predictions and labels, and retention's deletions — as
 * messages that run the same way on the main thread and in the writer thread (writer.ts): a
 * batch is prepared on the main thread (its packed forms computed there, into columns that copy
 * cheaply to a thread), then run by `Writes` on whichever connection writes it.
 */
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { LabelRecord, PredictionRecord, Target, WriteResult } from '../store.js';
import { packedJson, packsExactly, type Packer, type PackLayout } from '../packed.js';

export const INSERT_SQL = {
  model: 'INSERT INTO models (name, first_seen) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
  prediction: `INSERT INTO predictions
    (model, id, ts, version, features, prediction, score, latency_ms, segment, error, received_at, packed, features_ref, traceparent)
    VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, id) DO NOTHING`,
  features: 'INSERT INTO prediction_features (ref, features) VALUES (?, ?)',
  nextFeaturesRef: 'SELECT coalesce(max(ref), 0) + 1 AS ref FROM prediction_features',
  label: 'INSERT INTO labels (model, id, ts, label, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, id) DO NOTHING',
} as const;

/** Rows a retention deletion removes at most per transaction, so that ingestion is never blocked for long. */
export const PRUNE_CHUNK = 10_000;

/** A batch of predictions of one model, as columns (index i: the batch's row i). */
export interface PredictionBatch {
  kind: 'predictions';
  model: string;
  receivedAt: number;
  ids: string[];
  ts: number[];
  versions: string[];
  predictions: Target[];
  scores: PredictionRecord['score'][];
  latencies: (number | null)[];
  segments: (string | null)[];
  errors: (string | null)[];
  traceparents: (string | null)[];
  /**
   * The features, stored by Writes as JSON text: their text when the batch was prepared with it
   * (`textHere`); else the object, turned into text where the batch is written (the writer
   * thread); else null: the packed form holds them exactly (packsExactly), and their text is
   * rebuilt from it where the batch is written (packedJson), the object not copied to the thread.
   */
  features: (PredictionRecord['features'] | string | null)[];
  /** the layout the rows are packed with (null: not packed) */
  layout: PackLayout | null;
  /** the rows' packed forms one after the other (null: not packed), row i at [offsets[i], offsets[i + 1]) */
  packed: Uint8Array | null;
  offsets: Uint32Array | null;
}

export interface LabelBatch {
  kind: 'labels';
  model: string;
  receivedAt: number;
  ids: string[];
  ts: number[];
  labels: Target[];
}

/** One chunk of retention: at most PRUNE_CHUNK rows of a model's table older than beforeTs; answers the rows deleted. */
export interface PruneChunk {
  kind: 'prune';
  table: 'predictions' | 'labels';
  model: string;
  beforeTs: number;
}

export type WriteOp = PredictionBatch | LabelBatch | PruneChunk;
export type WriteAnswer<O extends WriteOp> = O extends PruneChunk ? number : WriteResult;

/** A batch of predictions prepared for Writes, packed with `layout`. */
export function predictionBatch(model: string, records: readonly PredictionRecord[], receivedAt: number, layout: PackLayout | undefined, packer: Packer, textHere = false): PredictionBatch {
  const n = records.length;
  const b: PredictionBatch = {
    kind: 'predictions',
    model,
    receivedAt,
    ids: new Array<string>(n),
    ts: new Array<number>(n),
    versions: new Array<string>(n),
    predictions: new Array<Target>(n),
    scores: new Array<PredictionRecord['score']>(n),
    latencies: new Array<number | null>(n),
    segments: new Array<string | null>(n),
    errors: new Array<string | null>(n),
    traceparents: new Array<string | null>(n),
    features: new Array<PredictionRecord['features'] | string | null>(n),
    layout: layout ?? null,
    packed: null,
    offsets: null,
  };
  let bytes = layout === undefined ? null : new Uint8Array(n * (24 + 8 * layout.numeric.length + 16 * layout.categorical.length));
  const offsets = layout === undefined ? null : new Uint32Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i] as PredictionRecord;
    b.ids[i] = r.id;
    b.ts[i] = r.ts;
    b.versions[i] = r.version;
    b.predictions[i] = r.prediction;
    b.scores[i] = r.score;
    b.latencies[i] = r.latencyMs;
    b.segments[i] = r.segment;
    b.errors[i] = r.error;
    b.traceparents[i] = r.traceparent ?? null;
    b.features[i] = textHere ? JSON.stringify(r.features) : r.features;
    if (layout !== undefined && bytes !== null && offsets !== null) {
      if (!textHere && packsExactly(layout, r.features)) b.features[i] = null;
      const p = packer.pack(layout, r); // a view of the packer's buffer: copied here
      if (at + p.length > bytes.length) {
        const grown = new Uint8Array(Math.max(2 * bytes.length, at + p.length));
        grown.set(bytes.subarray(0, at));
        bytes = grown;
      }
      bytes.set(p, at);
      at += p.length;
      offsets[i + 1] = at;
    }
  }
  if (bytes !== null && offsets !== null) {
    b.packed = bytes.subarray(0, at);
    b.offsets = offsets;
  }
  return b;
}

/** A batch of labels prepared for Writes. */
export function labelBatch(model: string, records: readonly LabelRecord[], receivedAt: number): LabelBatch {
  return { kind: 'labels', model, receivedAt, ids: records.map((r) => r.id), ts: records.map((r) => r.ts), labels: records.map((r) => r.label) };
}

/** Runs write operations on one connection (the main thread's, or the writer thread's). */
export class Writes {
  private readonly stmts: Record<'model' | 'prediction' | 'features' | 'nextFeaturesRef' | 'label' | 'prunePredictions' | 'pruneLabels' | 'storedPrediction' | 'storedLabel', Statement>;
  private readonly predictionTx: (b: PredictionBatch) => WriteResult;
  private readonly labelTx: (b: LabelBatch) => WriteResult;

  constructor(db: Db) {
    this.stmts = {
      model: db.prepare(INSERT_SQL.model),
      prediction: db.prepare(INSERT_SQL.prediction),
      features: db.prepare(INSERT_SQL.features),
      nextFeaturesRef: db.prepare(INSERT_SQL.nextFeaturesRef).pluck(),
      label: db.prepare(INSERT_SQL.label),
      prunePredictions: db.prepare(`DELETE FROM predictions WHERE rowid IN
        (SELECT rowid FROM predictions WHERE model = ? AND ts < ? LIMIT ${PRUNE_CHUNK})`),
      pruneLabels: db.prepare(`DELETE FROM labels WHERE rowid IN
        (SELECT rowid FROM labels WHERE model = ? AND ts < ? LIMIT ${PRUNE_CHUNK})`),
      storedPrediction: db.prepare('SELECT rowid AS seq, received_at FROM predictions WHERE model = ? AND id = ?'),
      storedLabel: db.prepare('SELECT rowid AS seq, received_at FROM labels WHERE model = ? AND id = ?'),
    };
    // IMMEDIATE: the write lock is taken at BEGIN, waiting (busy_timeout) while the other
    // connection writes; a deferred transaction that read first could fail with SQLITE_BUSY.
    const predictions = db.transaction((b: PredictionBatch): WriteResult => {
      const s = this.stmts;
      s.model.run(b.model, b.receivedAt);
      let ref = s.nextFeaturesRef.get() as number;
      const { packed, offsets, layout } = b;
      return results(b.ids.length, (i) => {
        const score = b.scores[i];
        const bytes = packed === null || offsets === null ? null : Buffer.from(packed.buffer, packed.byteOffset + (offsets[i] as number), (offsets[i + 1] as number) - (offsets[i] as number));
        const info = s.prediction.run(
          b.model,
          b.ids[i],
          b.ts[i],
          b.versions[i],
          b.predictions[i],
          score === null || score === undefined ? null : JSON.stringify(score),
          b.latencies[i],
          b.segments[i],
          b.errors[i],
          b.receivedAt,
          bytes,
          ref,
          b.traceparents[i],
        );
        if (info.changes > 0) {
          const features = b.features[i];
          const text = typeof features === 'string' ? features : features !== null && features !== undefined ? JSON.stringify(features) : packedJson(layout as PackLayout, bytes as Uint8Array);
          s.features.run(ref++, text);
        }
        return info.changes > 0 ? Number(info.lastInsertRowid) : -1;
      });
    });
    this.predictionTx = (b) => predictions.immediate(b);
    const labels = db.transaction((b: LabelBatch): WriteResult => {
      const s = this.stmts;
      s.model.run(b.model, b.receivedAt);
      return results(b.ids.length, (i) => {
        const info = s.label.run(b.model, b.ids[i], b.ts[i], b.labels[i], b.receivedAt);
        return info.changes > 0 ? Number(info.lastInsertRowid) : -1;
      });
    });
    this.labelTx = (b) => labels.immediate(b);
  }

  run<O extends WriteOp>(op: O): WriteAnswer<O>;
  run(op: WriteOp): WriteResult | number {
    switch (op.kind) {
      case 'predictions':
        return this.predictionTx(op);
      case 'labels':
        return this.labelTx(op);
      case 'prune':
        return (op.table === 'predictions' ? this.stmts.prunePredictions : this.stmts.pruneLabels).run(op.model, op.beforeTs).changes;
    }
  }

  /**
   * A batch run again after the writer thread was lost with it in flight: it may have committed
   * before the thread ended. Its rows come back as duplicates then; a row received at this
   * batch's own time (received_at) was stored by it, and is reported stored, with its sequence.
   */
  rerun<O extends WriteOp>(op: O): WriteAnswer<O>;
  rerun(op: WriteOp): WriteResult | number {
    const out = this.run(op);
    if (op.kind === 'prune' || typeof out === 'number' || out.duplicates.length === 0) return out;
    const stmt = op.kind === 'predictions' ? this.stmts.storedPrediction : this.stmts.storedLabel;
    const duplicates: number[] = [];
    for (const i of out.duplicates) {
      const row = stmt.get(op.model, op.ids[i]) as { seq: number; received_at: number } | undefined;
      if (row !== undefined && row.received_at === op.receivedAt) out.seqs[i] = row.seq;
      else duplicates.push(i);
    }
    return { inserted: op.ids.length - duplicates.length, duplicates, seqs: out.seqs };
  }
}

function results(n: number, write: (i: number) => number): WriteResult {
  const duplicates: number[] = [];
  const seqs = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const seq = write(i);
    seqs[i] = seq;
    if (seq < 0) duplicates.push(i);
  }
  return { inserted: n - duplicates.length, duplicates, seqs };
}

/** An error of the writer thread's connection, as the main thread's would be (code and message). */
export function sqliteError(message: string, code: string | undefined): Error {
  return code === undefined ? new Error(message) : new Database.SqliteError(message, code);
}
