/**
 * The storage contract. Every backend (SQLite today; PostgreSQL may follow) implements this
 * interface and passes the one contract suite in `store.contract.ts`.
 *
 * Re-sending rule (predictions and labels alike): the first write of a (model, id) wins. A re-sent
 * id is not stored again — nothing is duplicated, the earlier data is never overwritten — and the
 * write result reports it in `duplicates`, so the sender knows it was not taken.
 */

export type FeatureValue = number | string | null;
/** A class label (string) for classifiers, a number for regression. */
export type Target = string | number;

export interface PredictionRecord {
  id: string;
  /** Event time, ms since the epoch. */
  ts: number;
  version: string;
  features: Readonly<Record<string, FeatureValue>>;
  prediction: Target;
  /** Binary: probability of the positive class; multiclass: per-class probabilities. */
  score: number | Readonly<Record<string, number>> | null;
  latencyMs: number | null;
  segment: string | null;
  /** Serving reported an error for this request (its message or code). */
  error: string | null;
}

export interface LabelRecord {
  id: string;
  ts: number;
  label: Target;
}

export interface WriteResult {
  /** Rows stored. */
  inserted: number;
  /** Indexes (into the written array) of records whose id was already stored: not stored again. */
  duplicates: number[];
  /** Per record: the store's sequence number of the stored row (strictly increasing across
   *  writes of one model), or -1 for a duplicate. */
  seqs: number[];
}

/** A stored prediction with its sequence number and joined label, as the hot windows load it. */
export interface WindowRow extends PredictionRecord {
  seq: number;
  label: Target | null;
  labelTs: number | null;
}

/** A reference summary for one model version (see src/monitors/baseline.ts for `summary`). */
export interface BaselineRecord {
  id: number;
  model: string;
  version: string;
  createdAt: number;
  /** Where it came from: `file:train.csv`, `api`, `window:24h`, … */
  source: string;
  rows: number;
  /** JSON text of the summary. */
  summary: string;
}

export interface StoredPrediction extends PredictionRecord {
  receivedAt: number;
  /** The joined label, when it has arrived. */
  label: LabelRecord | null;
}

export interface VersionCounts {
  version: string;
  predictions: number;
  firstTs: number;
  lastTs: number;
}

export interface ModelCounts {
  predictions: number;
  labels: number;
  /** Predictions that have a label (joined by id). */
  labeledPredictions: number;
  versions: VersionCounts[];
  lastPredictionTs: number | null;
  lastLabelTs: number | null;
}

export interface PruneResult {
  predictions: number;
  labels: number;
}

/** An Alertmanager-style silence (matchers as text, e.g. `model="fraud"`). */
/** What the API shows of a baseline (no reference data). */
export interface BaselineMeta extends Omit<BaselineRecord, 'summary'> {
  features: string[];
  quality: Record<string, number>;
}

export interface SilenceRecord {
  id: string;
  matchers: string[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
}

/** A notification waiting to be delivered (survives restarts). */
export interface OutboxRecord {
  id: string;
  receiver: string;
  /** JSON text */
  payload: string;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
}

export interface Store {
  /** Stores a batch atomically (one transaction). */
  insertPredictions(model: string, records: readonly PredictionRecord[], receivedAt: number): Promise<WriteResult>;
  insertLabels(model: string, records: readonly LabelRecord[], receivedAt: number): Promise<WriteResult>;
  getPrediction(model: string, id: string): Promise<StoredPrediction | undefined>;
  /** Sequence numbers of stored predictions by id (undefined where there is none). */
  predictionSeqs(model: string, ids: readonly string[]): Promise<(number | undefined)[]>;
  /** Every prediction of a model with event time >= fromTs, in sequence order, labels joined. */
  scanPredictions(model: string, fromTs: number, onRow: (row: WindowRow) => void): Promise<number>;
  saveBaseline(b: Omit<BaselineRecord, 'id'>): Promise<BaselineRecord>;
  /** A model's baselines, newest first (summaries included). */
  listBaselines(model: string): Promise<BaselineRecord[]>;
  /** A model's baselines without their summaries (cheap), newest first. */
  listBaselineMeta(model: string): Promise<BaselineMeta[]>;
  /** The highest baseline id of all models (0 when none): a cheap change check. */
  baselineGeneration(): Promise<number>;
  modelCounts(model: string): Promise<ModelCounts>;
  /** Deletes predictions and labels whose event time is before `beforeTs`. */
  prune(beforeTs: number): Promise<PruneResult>;
  saveSilence(s: SilenceRecord): Promise<void>;
  /** Silences whose end is after `endsAfter` (all when omitted), oldest first. */
  listSilences(endsAfter?: number): Promise<SilenceRecord[]>;
  /** Ends a silence now (Alertmanager expires, it does not delete); false when unknown. */
  expireSilence(id: string, now: number): Promise<boolean>;
  saveOutbox(e: OutboxRecord): Promise<void>;
  deleteOutbox(id: string): Promise<void>;
  /** Oldest first. */
  listOutbox(): Promise<OutboxRecord[]>;
  /** Small durable key/value state (heartbeats, last shutdown, …). */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string, now: number): Promise<void>;
  /** Whether the store is open and answering. */
  healthy(): boolean;
  close(): Promise<void>;
}
