/**
 * The storage contract. Every backend (SQLite today; PostgreSQL may follow) implements this
 * interface and passes the one contract suite in `store.contract.ts`.
 *
 * Re-sending rule (predictions and labels alike): the first write of a (model, id) wins. A re-sent
 * id is not stored again — nothing is duplicated, the earlier data is never overwritten — and the
 * write result reports it in `duplicates`, so the sender knows it was not taken.
 */
import type { PackLayout } from './packed.js';

import { VigilError } from '../core/errors.js';

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
  /**
   * The W3C trace context of the serving request that made the prediction
   * (`00-<trace id>-<span id>-<flags>`), when the caller sent one: stored, given back with the
   * prediction, and the exemplar of its latency observation. Absent: none.
   */
  traceparent?: string | null;
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

/**
 * A stored prediction as the hot-window rebuild reads it from its packed form (store/packed.ts):
 * the features and the window's score are in `packed`, the rest as stored.
 */
/** A stored prediction's target and segment (Store.predictionTargets). */
export interface PredictionTarget {
  prediction: Target;
  segment: string | null;
}

export interface PackedWindowRow {
  seq: number;
  ts: number;
  version: string;
  prediction: Target;
  latencyMs: number | null;
  segment: string | null;
  error: string | null;
  label: Target | null;
  labelTs: number | null;
  /** the packed form (starts with the layout's head); may be the store's memory, valid until its next windowPage call */
  packed: Uint8Array;
}

/** A row of a window page: packed when stored with the layout asked for, else its JSON record. */
export type WindowPageRow = WindowRow | PackedWindowRow;

export const isPacked = (r: WindowPageRow): r is PackedWindowRow => 'packed' in r;

export interface WindowPageQuery {
  /** event time >= fromTs */
  fromTs: number;
  /** only rows with sequence <= maxSeq (rows stored later reach a rebuild through ingestion) */
  maxSeq: number;
  /** after this row in (event time, sequence) order; undefined: from the first */
  after?: { ts: number; seq: number };
  /** rows at most */
  limit: number;
  /** rows packed with this layout come packed (no JSON parsed), the others as JSON records */
  layout: PackLayout;
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
  /** JSON text of the summary (small: numeric reference values are stored apart, see {@link ReferenceValues}). */
  summary: string;
}

/** A stored baseline, and the ids of the baselines of the same version it replaced (none unless asked to). */
export interface SavedBaseline extends BaselineRecord {
  replaced: number[];
}

/**
 * The error every backend raises when a model version has a baseline already and the caller did
 * not ask to replace it (409: the caller decides, nothing is overwritten silently).
 */
export const baselineExists = (model: string, version: string, ids: readonly number[]): VigilError =>
  new VigilError('VIGIL_ERR_BASELINE_EXISTS', `model "${model}" has a baseline for version "${version}" already (id ${ids.join(', ')})`, {
    statusCode: 409,
    details: { model, version, ids: [...ids] },
  });

/**
 * Whose reference values: a feature's (by name), the prediction's or label's (name ''), or a
 * segment's (`segment`: name is the JSON of [segment, kind, name], monitors/baseline.ts).
 */
export type ReferenceKind = 'feature' | 'prediction' | 'label' | 'segment';

/**
 * A baseline's numeric reference values for one feature (or its predictions / labels): sorted
 * ascending, finite, at least one. Stored as little-endian float64 bytes beside the summary
 * JSON, never inside it, so that loading a baseline copies bytes instead of parsing text.
 */
export interface ReferenceValues {
  kind: ReferenceKind;
  /** The feature's name; '' for the prediction and the label; for a segment's, the JSON of [segment, kind, name]. */
  name: string;
  sorted: Float64Array;
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

/** An alert episode that matched a remediation route: from firing to resolved. */
export interface IncidentRecord {
  id: string;
  /** fingerprint(alert labels): one open incident per fingerprint at a time. */
  fingerprint: string;
  alertname: string;
  /** The alert's `model` label ('' when it has none). */
  model: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  firedAt: number;
  resolvedAt: number | null;
  status: 'open' | 'resolved';
  createdAt: number;
}

/**
 * One remediation decision. An execution (pending_approval → running → succeeded|failed|…) is one
 * record updated in place, keyed by its idempotency key (incident + action); skips are records of
 * their own without a key.
 */
export type ActionStatus =
  | 'pending_approval'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'refused'
  | 'skipped'
  | 'dry_run'
  | 'rejected'
  | 'expired'
  | 'interrupted';

export interface ActionRecord {
  id: string;
  incidentId: string;
  /** `<incident id>/<action name>` for executions; null for skips. Unique. */
  idempotencyKey: string | null;
  model: string;
  /** The configured action name. */
  action: string;
  type: string;
  status: ActionStatus;
  /** Why (skips: silenced, paused, cooldown, rate_limited, loop_detected, …; other states: a sentence). */
  reason: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Pending approvals expire at this time. */
  expiresAt: number | null;
  attempts: number;
  error: string | null;
  /** What the action did or would do. */
  details: Record<string, unknown>;
  /** What the action saved before acting (for a resumed attempt). */
  plan: Record<string, unknown>;
  /** Who approved or rejected it. */
  decidedBy: string | null;
  updatedAt: number;
}

export interface CircuitRecord {
  model: string;
  state: 'closed' | 'open' | 'half_open';
  since: number;
  reason: string;
  incidentId: string | null;
  /** Half-open: when the probe period ends. */
  probeUntil: number | null;
  /** Set by an admin (PUT): automation leaves a manually opened breaker alone. */
  manual: boolean;
  /** Increases on every change (ETag). */
  generation: number;
}

export interface IncidentFilter {
  model?: string;
  status?: 'open' | 'resolved';
  /** Incidents with at least one record of this action … */
  action?: string;
  /** … or with this status (outcome). */
  outcome?: ActionStatus;
  /** firedAt >= since, firedAt < until */
  since?: number;
  until?: number;
  limit?: number;
}

export interface ActionFilter {
  incidentId?: string;
  /** Records of any of these incidents (one query for a page of incidents). */
  incidentIds?: readonly string[];
  model?: string;
  action?: string;
  status?: ActionStatus;
  /** createdAt >= since, createdAt < until */
  since?: number;
  until?: number;
  limit?: number;
}

/** A series of the rule history as persisted: its labels as JSON (sorted [name, value] pairs) and its writer. */
export interface RuleHistorySeries {
  id: number;
  labels: string;
  writer: string;
}

/**
 * One write of the rule history (alerting/history-store.ts): series created and deleted since the
 * last write, the appends (per time, 12 bytes a sample: series id as little-endian uint32, value
 * as little-endian float64), and the time before which persisted appends are dropped.
 */
export interface RuleHistoryWrite {
  series: readonly RuleHistorySeries[];
  deletedSeries: readonly number[];
  appends: readonly { t: number; data: Uint8Array }[];
  pruneBefore: number;
}

/** Good and total events of one SLO in one minute (slo/counters.ts). */
export interface SloMinute {
  slo: string;
  /** Minutes since the epoch. */
  minute: number;
  good: number;
  total: number;
}

/** A stored prediction as a replica following the store reads it (Store.followPredictions). */
export interface FollowedPrediction {
  model: string;
  seq: number;
  record: PredictionRecord;
  /** When a replica stored it (its receivedAt, ms since the epoch). */
  receivedAt: number;
}

/** A stored label as a replica following the store reads it (Store.followLabels). */
export interface FollowedLabel {
  model: string;
  seq: number;
  record: LabelRecord;
  /** When a replica stored it (ms since the epoch). */
  receivedAt: number;
}

/**
 * A leader's writes carry its lease (holder and epoch): a shared store refuses them once another
 * replica holds the lease (VIGIL_ERR_STORE_FENCED), so a leader paused past its lease that resumes
 * cannot act twice. A store of one process ignores it.
 */
export interface Fence {
  holder: string;
  epoch: number;
}

/** The leader lease as a replica sees it after asking for it (Store.acquireLease). */
export interface Lease {
  /** who holds it now (null: nobody ever did) */
  holder: string | null;
  /** goes up each time the lease changes hands or lapses: the fencing token of the holder's writes */
  epoch: number;
  /** the database's time when it lapses unless renewed, ms */
  expiresAt: number;
  /** this replica holds it */
  mine: boolean;
}

export interface Store {
  /**
   * Whether several Vigil processes may share this store (PostgreSQL): each then follows what the
   * others store (followPredictions, followLabels) instead of only what it ingests itself.
   */
  readonly shared: boolean;
  /**
   * Stores a batch atomically (one transaction). With a layout, each prediction's packed form
   * (store/packed.ts) is stored beside its JSON, for the hot-window rebuild.
   */
  insertPredictions(model: string, records: readonly PredictionRecord[], receivedAt: number, layout?: PackLayout): Promise<WriteResult>;
  insertLabels(model: string, records: readonly LabelRecord[], receivedAt: number): Promise<WriteResult>;
  getPrediction(model: string, id: string): Promise<StoredPrediction | undefined>;
  /** Sequence numbers of stored predictions by id (undefined where there is none). */
  predictionSeqs(model: string, ids: readonly string[]): Promise<(number | undefined)[]>;
  /** Every prediction of a model with event time >= fromTs, in event-time order (ties in sequence order), labels joined. */
  scanPredictions(model: string, fromTs: number, onRow: (row: WindowRow) => void): Promise<number>;
  /**
   * One page of a model's predictions for a hot-window rebuild: event time >= fromTs, sequence <=
   * maxSeq, after the cursor, in (event time, sequence) order, labels joined; each page its own
   * query (nothing held open between pages, so ingestion runs between them). The packed rows'
   * bytes are valid until the next call.
   */
  windowPage(model: string, q: WindowPageQuery): Promise<WindowPageRow[]>;
  /** The highest sequence number of any stored prediction (0 when none). */
  lastPredictionSeq(): Promise<number>;
  /** The highest sequence number of any stored label (0 when none). */
  lastLabelSeq(): Promise<number>;
  /**
   * The predictions of every model stored with a sequence number above `afterSeq`, in sequence
   * order, at most `limit`: what a replica follows. A backend numbers rows in commit order, so a
   * row never becomes visible after one with a higher number (taking "above the last one seen"
   * misses nothing).
   */
  followPredictions(afterSeq: number, limit: number): Promise<FollowedPrediction[]>;
  /** The labels stored with a sequence number above `afterSeq`, in sequence order, at most `limit` (the same terms). */
  followLabels(afterSeq: number, limit: number): Promise<FollowedLabel[]>;
  /**
   * Stores a baseline: its summary JSON and its numeric reference values, in one transaction.
   * Reference values that are empty, not finite or not ascending, or two for the same kind and
   * name, are refused (VIGIL_ERR_STORE_BAD_REFERENCE) and nothing is stored.
   * One baseline per (model, version): when the version has one, it is refused with
   * {@link baselineExists} (VIGIL_ERR_BASELINE_EXISTS, 409), unless `replace`: then, in the same
   * transaction, the new one is stored and the old one (and its references) deleted. The new
   * baseline's id is always above every earlier id, so `baselineGeneration()` moves on.
   */
  saveBaseline(b: Omit<BaselineRecord, 'id'>, references?: readonly ReferenceValues[], options?: { replace?: boolean }): Promise<SavedBaseline>;
  /**
   * Reads one baseline's reference values: `each(kind, name, values)` once per reference, in order
   * of kind, then name. `values` is valid only during the call (the store reuses its memory):
   * the caller copies what it keeps, into the memory it chooses. Returns how many were read (0 for
   * an unknown baseline).
   */
  readBaselineReferences(baselineId: number, each: (kind: ReferenceKind, name: string, values: Float64Array) => void): Promise<number>;
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
  /** Saves (inserts or replaces) and deletes outbox entries in one transaction: all or nothing. */
  writeOutbox(save: readonly OutboxRecord[], remove: readonly string[]): Promise<void>;
  /** Oldest first. */
  listOutbox(): Promise<OutboxRecord[]>;
  /** Inserts or replaces an incident (by id). */
  saveIncident(i: IncidentRecord, options?: { fence?: Fence }): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /** Newest first (by firedAt). */
  listIncidents(f: IncidentFilter): Promise<IncidentRecord[]>;
  /**
   * Inserts or replaces a decision record (by id). A second record with the idempotency key of
   * another one is refused (VIGIL_ERR_STORE_CONFLICT): an action never executes twice.
   */
  saveAction(a: ActionRecord, options?: { fence?: Fence }): Promise<void>;
  getAction(id: string): Promise<ActionRecord | undefined>;
  /** Newest first (by createdAt, then id). */
  listActions(f: ActionFilter): Promise<ActionRecord[]>;
  /**
   * Deletes incidents resolved before `beforeTs` with their action records (audit retention).
   * Open incidents and their records are kept whatever their age.
   */
  pruneIncidents(beforeTs: number): Promise<{ incidents: number; actions: number }>;
  saveCircuit(c: CircuitRecord, options?: { fence?: Fence }): Promise<void>;
  listCircuits(): Promise<CircuitRecord[]>;
  /** Small durable key/value state (heartbeats, last shutdown, …). */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string, now: number): Promise<void>;
  /**
   * Persists the rule history's changes in one transaction. Data for a time already stored is
   * appended to that time's row.
   */
  writeRuleHistory(w: RuleHistoryWrite): Promise<void>;
  /** The persisted rule history: every series and every append in time order. */
  readRuleHistory(): Promise<{ series: RuleHistorySeries[]; appends: { t: number; data: Uint8Array }[] }>;
  /** Adds these counts to the stored ones (same SLO and minute: summed), in one transaction. */
  addSloMinutes(rows: readonly SloMinute[]): Promise<void>;
  /** One SLO's minutes from `fromMinute` on, in minute order. */
  readSloMinutes(slo: string, fromMinute: number): Promise<SloMinute[]>;
  /** One SLO's counts per hour (minute ÷ 60) over the minutes in [fromMinute, beforeMinute), in hour order. */
  readSloHours(slo: string, fromMinute: number, beforeMinute: number): Promise<{ hour: number; good: number; total: number }[]>;
  /** Deletes every SLO's minutes before `beforeMinute`; returns how many. */
  pruneSloMinutes(beforeMinute: number): Promise<number>;
  /** The predictions of these ids with their segments (undefined where there is none), for label-time SLIs. */
  predictionTargets(model: string, ids: readonly string[]): Promise<(PredictionTarget | undefined)[]>;
  /**
   * Takes or renews the leader lease for `holder` for `ttlMs` of the database's time: granted when
   * the holder has it, or when nobody does (it lapsed, or was released). The epoch goes up when the
   * lease changes hands or lapsed. One process owns a SQLite file: its lease is always granted.
   */
  acquireLease(holder: string, ttlMs: number): Promise<Lease>;
  /** Lets the lease lapse now if `holder` has it (a replica stopping), so another takes over at once. */
  releaseLease(holder: string): Promise<void>;
  /** Whether the store is open and answering. */
  healthy(): boolean;
  close(): Promise<void>;
}
