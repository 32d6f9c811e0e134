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

export interface Store {
  /** Stores a batch atomically (one transaction). */
  insertPredictions(model: string, records: readonly PredictionRecord[], receivedAt: number): Promise<WriteResult>;
  insertLabels(model: string, records: readonly LabelRecord[], receivedAt: number): Promise<WriteResult>;
  getPrediction(model: string, id: string): Promise<StoredPrediction | undefined>;
  modelCounts(model: string): Promise<ModelCounts>;
  /** Deletes predictions and labels whose event time is before `beforeTs`. */
  prune(beforeTs: number): Promise<PruneResult>;
  /** Small durable key/value state (heartbeats, last shutdown, …). */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string, now: number): Promise<void>;
  /** Whether the store is open and answering. */
  healthy(): boolean;
  close(): Promise<void>;
}
