import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement, type Transaction } from 'better-sqlite3';
import { VigilError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type {
  ActionFilter,
  ActionRecord,
  CircuitRecord,
  Fence,
  FollowedLabel,
  FollowedPrediction,
  IncidentFilter,
  Lease,
  IncidentRecord,
  BaselineMeta,
  BaselineRecord,
  SavedBaseline,
  LabelRecord,
  OutboxRecord,
  SilenceRecord,
  ModelCounts,
  PredictionRecord,
  PruneResult,
  ReferenceKind,
  ReferenceValues,
  RuleHistorySeries,
  RuleHistoryWrite,
  SloMinute,
  StoredPrediction,
  Store,
  PredictionTarget,
  Target,
  WindowPageQuery,
  WindowPageRow,
  WindowRow,
  WriteResult,
} from '../store.js';
import { baselineExists } from '../store.js';
import { checkReferences } from '../references.js';
import { actionOf, actionParams, incidentOf, incidentParams, type ActionRow, type IncidentRow } from '../rows.js';
import { Packer, type PackLayout } from '../packed.js';
import { migrate } from './migrations.js';
import { locatePageWorker, PageReader } from './page-reader.js';
import { locateWriterWorker, Writer } from './writer.js';
import { labelBatch, predictionBatch, PRUNE_CHUNK, Writes } from './writes.js';
import { pageParams, readPage, WINDOW_PAGE_SQL } from './window-pages.js';

export const DEFAULT_CACHE_MB = 4;

/** Long reads (a baseline's references) yield to the event loop at least this often. */
const YIELD_EVERY_MS = 10;

export interface SqliteStoreOptions {
  path: string;
  /** `normal` (default): durable across process crashes (kill -9) in WAL mode; `full`: also across
   *  power loss, at a cost in write throughput. */
  synchronous?: 'normal' | 'full';
  /** SQLite's page cache in MiB (default 4; SQLite's own default is 2, better-sqlite3's build 16). */
  cacheMb?: number;
  /** Where the hot-window rebuild's pages are read (page-reader.ts): `worker` (default for a file) or `main` (always for :memory:). */
  pageReader?: 'worker' | 'main';
  /** Where ingestion's batches and retention's deletions are written (writer.ts): `worker` (default for a file) or `main` (always for :memory:). */
  writer?: 'worker' | 'main';
  /** Where the writer thread's failures are logged. */
  logger?: Logger;
  now: number;
}

interface PredictionRow {
  model: string;
  id: string;
  ts: number;
  version: string;
  features: string;
  prediction: Target;
  score: string | null;
  latency_ms: number | null;
  segment: string | null;
  error: string | null;
  received_at: number;
  traceparent: string | null;
  label_ts: number | null;
  label: Target | null;
}

/** The writer thread waits this long for the main connection's write lock (it blocks no request meanwhile). */
const WRITER_BUSY_TIMEOUT_MS = 30_000;
/** A stored prediction's columns, its features JSON wherever it is (inline before migration 8, else in prediction_features). */
const PREDICTION_COLUMNS = `p.model, p.id, p.ts, p.version, coalesce(f.features, p.features) AS features, p.prediction, p.score,
  p.latency_ms, p.segment, p.error, p.received_at, p.traceparent`;

interface CircuitRow {
  model: string;
  state: CircuitRecord['state'];
  since: number;
  reason: string;
  incident_id: string | null;
  probe_until: number | null;
  manual: number;
  generation: number;
}

const circuitOf = (r: CircuitRow): CircuitRecord => ({
  model: r.model,
  state: r.state,
  since: r.since,
  reason: r.reason,
  incidentId: r.incident_id,
  probeUntil: r.probe_until,
  manual: r.manual === 1,
  generation: r.generation,
});

/** Optional filters as `(? IS NULL OR …)` so one prepared statement serves every combination. */
const opt = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const MAX_LIST = 10_000;

/** A stored row as the record it was written from. */
const recordOf = (r: PredictionRow): PredictionRecord => ({
  id: r.id,
  ts: r.ts,
  version: r.version,
  features: JSON.parse(r.features) as PredictionRecord['features'],
  prediction: r.prediction,
  score: r.score === null ? null : (JSON.parse(r.score) as PredictionRecord['score']),
  latencyMs: r.latency_ms,
  segment: r.segment,
  error: r.error,
  ...(r.traceparent === null || r.traceparent === undefined ? {} : { traceparent: r.traceparent }),
});

/** Reference values read per query (readReference): 32 KB of BLOB, 64 KB of hex text. */
const REFERENCE_CHUNK_VALUES = 4096;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Float64 values as little-endian bytes (on little-endian hosts a view of the same memory, no copy). */
function leBytes(a: Float64Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const out = Buffer.alloc(a.byteLength);
  for (let i = 0; i < a.length; i++) out.writeDoubleLE(a[i] as number, i * 8);
  return out;
}

/**
 * Decodes the hex text of little-endian float64 bytes into `out`; false when the text is not
 * exactly `out.length` float64 values.
 */
function decodeHexInto(hex: string, out: Float64Array): boolean {
  const bytes = out.byteLength;
  if (hex.length !== 2 * bytes) return false;
  if (Buffer.from(out.buffer, out.byteOffset, bytes).write(hex, 0, bytes, 'hex') !== bytes) return false;
  if (!LITTLE_ENDIAN) {
    const view = new DataView(out.buffer, out.byteOffset, bytes);
    out.set(Float64Array.from({ length: out.length }, (_, i) => view.getFloat64(i * 8, true)));
  }
  return true;
}

/**
 * The statements that store a batch of predictions: the model row, each prediction (features ''
 * and the JSON in prediction_features, migration 8, written only when the prediction was: a
 * re-sent id leaves no orphan), its features JSON. Shared with the ingest bench's raw side.
 */
export { INSERT_SQL } from './writes.js';

/** SQLite (better-sqlite3) on a local file in WAL mode; prepared statements only. */
export class SqliteStore implements Store {
  /** One process owns a SQLite file. */
  readonly shared = false;
  private readonly db: Db;
  private open = true;
  /** Reads the rebuild's pages, in a worker thread when the store is a file. */
  readonly pages: PageReader;
  /** Writes ingestion's batches and retention's deletions, in a writer thread when the store is a file. */
  readonly writer: Writer;
  /** Packs predictions' hot-window form at ingestion (one reused buffer). */
  private readonly packer = new Packer();
  /** Where readBaselineReferences decodes each reference's values (reused, grown as needed). */
  private referenceScratch = new Float64Array(0);
  private readonly stmts: {
    getPrediction: Statement;
    versions: Statement;
    labelStats: Statement;
    labeled: Statement;
    models: Statement;
    getState: Statement;
    setState: Statement;
    historySeries: Statement;
    historyDeleteSeries: Statement;
    historyAppend: Statement;
    historyAt: Statement;
    sloAdd: Statement;
    sloRead: Statement;
    sloPrune: Statement;
    sloHours: Statement;
    targetOf: Statement;
    historyPrune: Statement;
    historyReadSeries: Statement;
    historyReadAppends: Statement;
    seqOf: Statement;
    scan: Statement;
    windowPage: Statement;
    lastSeq: Statement;
    lastLabelSeq: Statement;
    followPredictions: Statement;
    followLabels: Statement;
    saveBaseline: Statement;
    baselineIdsOf: Statement;
    deleteBaseline: Statement;
    saveReference: Statement;
    listReferences: Statement;
    readReferenceChunk: Statement;
    listBaselines: Statement;
    listBaselineMeta: Statement;
    baselineGeneration: Statement;
    saveSilence: Statement;
    listSilences: Statement;
    expireSilence: Statement;
    saveOutbox: Statement;
    deleteOutbox: Statement;
    listOutbox: Statement;
    saveIncident: Statement;
    getIncident: Statement;
    listIncidents: Statement;
    saveAction: Statement;
    getAction: Statement;
    actionByKey: Statement;
    listActions: Statement;
    pruneIncidentActions: Statement;
    pruneIncidents: Statement;
    saveCircuit: Statement;
    listCircuits: Statement;
  };

  constructor(options: SqliteStoreOptions) {
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      // The cache is resident memory: better-sqlite3 builds SQLite with 16 MiB. Ingestion and the
      // label join touch few pages; the start-up rebuild reads the windows once, through it.
      this.db.pragma(`cache_size = -${Math.round((options.cacheMb ?? DEFAULT_CACHE_MB) * 1024)}`);
      migrate(this.db, options.now);
    } catch (e) {
      throw new VigilError('VIGIL_ERR_STORE_OPEN', `cannot open the store at ${options.path}: ${(e as Error).message}`, { cause: e });
    }
    const db = this.db;
    const worker = options.path !== ':memory:' && options.pageReader !== 'main' ? locatePageWorker() : null;
    this.pages = new PageReader(options.path, worker, (p) => readPage(this.stmts.windowPage, p));
    const writerFile = options.path !== ':memory:' && options.writer !== 'main' ? locateWriterWorker() : null;
    this.writer = new Writer(
      { path: options.path, synchronous: options.synchronous, cacheMb: options.cacheMb ?? DEFAULT_CACHE_MB, busyTimeoutMs: WRITER_BUSY_TIMEOUT_MS },
      writerFile,
      new Writes(db),
      options.logger,
    );
    this.baselineTx = db.transaction((b: Omit<BaselineRecord, 'id'>, references: readonly ReferenceValues[], replace: boolean): SavedBaseline => {
      const existing = (this.stmts.baselineIdsOf.all(b.model, b.version) as { id: number }[]).map((r) => r.id);
      if (existing.length > 0 && !replace) throw baselineExists(b.model, b.version, existing);
      // The new row first, then the old ones go: the new id is above every id there was, so the
      // generation (max id) moves on and a running engine loads the replacement like any new baseline.
      const id = Number(this.stmts.saveBaseline.run(b.model, b.version, b.createdAt, b.source, b.rows, b.summary).lastInsertRowid);
      for (const r of references) this.stmts.saveReference.run(id, r.kind, r.name, leBytes(r.sorted));
      for (const old of existing) this.stmts.deleteBaseline.run(old); // its references go with it (ON DELETE CASCADE)
      return { ...b, id, replaced: existing };
    });
    this.stmts = {
      getPrediction: db.prepare(`SELECT ${PREDICTION_COLUMNS}, l.ts AS label_ts, l.label AS label
        FROM predictions p LEFT JOIN prediction_features f ON f.ref = p.features_ref LEFT JOIN labels l ON l.model = p.model AND l.id = p.id
        WHERE p.model = ? AND p.id = ?`),
      versions: db.prepare(`SELECT version, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
        FROM predictions WHERE model = ? GROUP BY version ORDER BY version`),
      labelStats: db.prepare('SELECT count(*) AS n, max(ts) AS last_ts FROM labels WHERE model = ?'),
      labeled: db.prepare(`SELECT count(*) AS n FROM labels l
        JOIN predictions p ON p.model = l.model AND p.id = l.id WHERE l.model = ?`),
      models: db.prepare('SELECT name FROM models ORDER BY name'),
      getState: db.prepare('SELECT value FROM state WHERE key = ?'),
      historySeries: db.prepare('INSERT OR REPLACE INTO rule_history_series (id, labels, writer) VALUES (?, ?, ?)'),
      historyDeleteSeries: db.prepare('DELETE FROM rule_history_series WHERE id = ?'),
      historyAppend: db.prepare('INSERT OR REPLACE INTO rule_history (t, data) VALUES (?, ?)'),
      historyAt: db.prepare('SELECT data FROM rule_history WHERE t = ?').pluck(),
      sloAdd: db.prepare(`INSERT INTO slo_minutes (slo, minute, good, total) VALUES (?, ?, ?, ?)
        ON CONFLICT (slo, minute) DO UPDATE SET good = good + excluded.good, total = total + excluded.total`),
      sloRead: db.prepare('SELECT slo, minute, good, total FROM slo_minutes WHERE slo = ? AND minute >= ? ORDER BY minute'),
      sloPrune: db.prepare('DELETE FROM slo_minutes WHERE minute < ?'),
      sloHours: db.prepare(`SELECT minute / 60 AS hour, sum(good) AS good, sum(total) AS total FROM slo_minutes
        WHERE slo = ? AND minute >= ? AND minute < ? GROUP BY minute / 60 ORDER BY hour`),
      targetOf: db.prepare('SELECT prediction, segment FROM predictions WHERE model = ? AND id = ?'),
      historyPrune: db.prepare('DELETE FROM rule_history WHERE t < ?'),
      historyReadSeries: db.prepare('SELECT id, labels, writer FROM rule_history_series ORDER BY id'),
      historyReadAppends: db.prepare('SELECT t, data FROM rule_history ORDER BY t'),
      setState: db.prepare(`INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
      seqOf: db.prepare('SELECT rowid AS seq FROM predictions WHERE model = ? AND id = ?'),
      // In the order of the (model, ts) index: ORDER BY rowid made SQLite sort every row of the
      // window in a temporary b-tree (slower, and its pages left holes in the C heap).
      scan: db.prepare(`SELECT p.rowid AS seq, ${PREDICTION_COLUMNS}, l.ts AS label_ts, l.label AS label
        FROM predictions p LEFT JOIN prediction_features f ON f.ref = p.features_ref LEFT JOIN labels l ON l.model = p.model AND l.id = p.id
        WHERE p.model = ? AND p.ts >= ? ORDER BY p.ts, p.rowid`),
      windowPage: db.prepare(WINDOW_PAGE_SQL).raw(true),
      lastSeq: db.prepare('SELECT coalesce(max(rowid), 0) AS seq FROM predictions'),
      lastLabelSeq: db.prepare('SELECT coalesce(max(rowid), 0) AS seq FROM labels'),
      followPredictions: db.prepare(`SELECT p.rowid AS seq, ${PREDICTION_COLUMNS}
        FROM predictions p LEFT JOIN prediction_features f ON f.ref = p.features_ref WHERE p.rowid > ? ORDER BY p.rowid LIMIT ?`),
      followLabels: db.prepare('SELECT rowid AS seq, model, id, ts, label, received_at FROM labels WHERE rowid > ? ORDER BY rowid LIMIT ?'),
      saveBaseline: db.prepare(`INSERT INTO baselines (model, version, created_at, source, rows, summary)
        VALUES (?, ?, ?, ?, ?, ?)`),
      baselineIdsOf: db.prepare('SELECT id FROM baselines WHERE model = ? AND version = ? ORDER BY id'),
      deleteBaseline: db.prepare('DELETE FROM baselines WHERE id = ?'),
      saveReference: db.prepare('INSERT INTO baseline_references (baseline_id, kind, name, sorted) VALUES (?, ?, ?, ?)'),
      listReferences: db.prepare('SELECT rowid AS id, kind, name, length(sorted) AS bytes FROM baseline_references WHERE baseline_id = ? ORDER BY kind, name'),
      // hex(): the driver returns a BLOB as a Buffer the C heap holds until a GC, and hundreds of
      // them at start-up left tens of MB of holes in the process heap (measured); the text is
      // decoded into one reused array instead (about 0.7 ms per 20,000 values).
      readReferenceChunk: db.prepare('SELECT hex(substr(sorted, ?, ?)) AS hex FROM baseline_references WHERE rowid = ?'),
      listBaselines: db.prepare('SELECT * FROM baselines WHERE model = ? ORDER BY id DESC'),
      // JSON parsed by SQLite: the (possibly large) reference data never reaches JavaScript.
      listBaselineMeta: db.prepare(`SELECT id, model, version, created_at, source, rows,
          coalesce(json_extract(summary, '$.quality'), '{}') AS quality,
          (SELECT json_group_array(key) FROM json_each(summary, '$.features')) AS features
        FROM baselines WHERE model = ? ORDER BY id DESC`),
      baselineGeneration: db.prepare('SELECT coalesce(max(id), 0) AS g FROM baselines'),
      saveSilence: db.prepare(`INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, starts_at = excluded.starts_at,
        ends_at = excluded.ends_at, created_by = excluded.created_by, comment = excluded.comment`),
      listSilences: db.prepare('SELECT * FROM silences WHERE ends_at > ? ORDER BY created_at, id'),
      expireSilence: db.prepare('UPDATE silences SET ends_at = min(ends_at, ?), starts_at = min(starts_at, ?) WHERE id = ?'),
      saveOutbox: db.prepare(`INSERT INTO outbox (id, receiver, payload, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at`),
      deleteOutbox: db.prepare('DELETE FROM outbox WHERE id = ?'),
      listOutbox: db.prepare('SELECT * FROM outbox ORDER BY created_at, id'),
      saveIncident: db.prepare(`INSERT OR REPLACE INTO incidents (id, fingerprint, alertname, model, labels, annotations, fired_at, resolved_at, status, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getIncident: db.prepare('SELECT * FROM incidents WHERE id = ?'),
      listIncidents: db.prepare(`SELECT * FROM incidents i
        WHERE (@model IS NULL OR i.model = @model) AND (@status IS NULL OR i.status = @status)
          AND (@since IS NULL OR i.fired_at >= @since) AND (@until IS NULL OR i.fired_at < @until)
          AND (@action IS NULL AND @outcome IS NULL OR EXISTS (SELECT 1 FROM remediation_actions a WHERE a.incident_id = i.id
            AND (@action IS NULL OR a.action = @action) AND (@outcome IS NULL OR a.status = @outcome)))
        ORDER BY i.fired_at DESC, i.id DESC LIMIT @limit`),
      saveAction: db.prepare(`INSERT OR REPLACE INTO remediation_actions (id, incident_id, idempotency_key, model, action, type, status, reason, created_at,
          started_at, ended_at, expires_at, attempts, error, details, plan, decided_by, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getAction: db.prepare('SELECT * FROM remediation_actions WHERE id = ?'),
      actionByKey: db.prepare('SELECT id FROM remediation_actions WHERE idempotency_key = ?'),
      listActions: db.prepare(`SELECT * FROM remediation_actions
        WHERE (@incident IS NULL OR incident_id = @incident) AND (@incidents IS NULL OR incident_id IN (SELECT value FROM json_each(@incidents))) AND (@model IS NULL OR model = @model) AND (@action IS NULL OR action = @action)
          AND (@status IS NULL OR status = @status) AND (@since IS NULL OR created_at >= @since) AND (@until IS NULL OR created_at < @until)
        ORDER BY created_at DESC, rowid DESC LIMIT @limit`),
      pruneIncidentActions: db.prepare(`DELETE FROM remediation_actions WHERE incident_id IN
        (SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < ?)`),
      pruneIncidents: db.prepare("DELETE FROM incidents WHERE status = 'resolved' AND resolved_at < ?"),
      saveCircuit: db.prepare(`INSERT OR REPLACE INTO circuit_breakers (model, state, since, reason, incident_id, probe_until, manual, generation)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      listCircuits: db.prepare('SELECT * FROM circuit_breakers ORDER BY model'),
    };
  }

  /**
   * One batch in one transaction (created once, as better-sqlite3 advises): registers the model,
   * runs `write(i)` for every record and collects which were new (their sequence) or duplicates.
   */
  /** A baseline row and its reference values (replacing the version's baseline, if asked), in one transaction. */
  private readonly baselineTx: Transaction<(b: Omit<BaselineRecord, 'id'>, references: readonly ReferenceValues[], replace: boolean) => SavedBaseline>;

  private check(): void {
    if (!this.open) throw new VigilError('VIGIL_ERR_STORE_CLOSED', 'the store is closed', { statusCode: 503 });
  }

  async insertPredictions(model: string, records: readonly PredictionRecord[], receivedAt: number, layout?: PackLayout): Promise<WriteResult> {
    this.check();
    if (records.length === 0) return { inserted: 0, duplicates: [], seqs: [] };
    // The features' JSON text is made where there is time for it: by the writer thread, unless it
    // has a batch waiting already (then the main thread would wait for it: it makes the text itself).
    return this.writer.run(predictionBatch(model, records, receivedAt, layout, this.packer, this.writer.inFlight >= 2));
  }

  async insertLabels(model: string, records: readonly LabelRecord[], receivedAt: number): Promise<WriteResult> {
    this.check();
    if (records.length === 0) return { inserted: 0, duplicates: [], seqs: [] };
    return this.writer.run(labelBatch(model, records, receivedAt));
  }

  async getPrediction(model: string, id: string): Promise<StoredPrediction | undefined> {
    this.check();
    const row = this.stmts.getPrediction.get(model, id) as PredictionRow | undefined;
    if (row === undefined) return undefined;
    return {
      ...recordOf(row),
      receivedAt: row.received_at,
      label: row.label === null || row.label_ts === null ? null : { id: row.id, ts: row.label_ts, label: row.label },
    };
  }

  async predictionSeqs(model: string, ids: readonly string[]): Promise<(number | undefined)[]> {
    this.check();
    return ids.map((id) => (this.stmts.seqOf.get(model, id) as { seq: number } | undefined)?.seq);
  }

  async scanPredictions(model: string, fromTs: number, onRow: (row: WindowRow) => void): Promise<number> {
    this.check();
    let n = 0;
    for (const raw of this.stmts.scan.iterate(model, fromTs)) {
      const r = raw as PredictionRow & { seq: number };
      onRow({
        ...recordOf(r),
        seq: r.seq,
        label: r.label,
        labelTs: r.label_ts,
      });
      n++;
    }
    return n;
  }

  async windowPage(model: string, q: WindowPageQuery): Promise<WindowPageRow[]> {
    this.check();
    return this.pages.page(pageParams(model, q));
  }

  async lastPredictionSeq(): Promise<number> {
    this.check();
    return (this.stmts.lastSeq.get() as { seq: number }).seq;
  }

  /** One process owns the file: it always leads (epoch 1); the lease is kept in no table. */
  async acquireLease(holder: string, ttlMs: number): Promise<Lease> {
    this.check();
    return { holder, epoch: 1, expiresAt: Date.now() + ttlMs, mine: true };
  }

  async releaseLease(_holder: string): Promise<void> {
    this.check();
  }

  async lastLabelSeq(): Promise<number> {
    this.check();
    return (this.stmts.lastLabelSeq.get() as { seq: number }).seq;
  }

  // One process writes a SQLite file (its rowids are in commit order); these serve the contract.
  async followPredictions(afterSeq: number, limit: number): Promise<FollowedPrediction[]> {
    this.check();
    return (this.stmts.followPredictions.all(afterSeq, limit) as (PredictionRow & { seq: number })[]).map((r) => ({ model: r.model, seq: r.seq, record: recordOf(r), receivedAt: r.received_at }));
  }

  async followLabels(afterSeq: number, limit: number): Promise<FollowedLabel[]> {
    this.check();
    return (this.stmts.followLabels.all(afterSeq, limit) as { seq: number; model: string; id: string; ts: number; label: Target; received_at: number }[]).map((r) => ({
      model: r.model,
      seq: r.seq,
      record: { id: r.id, ts: r.ts, label: r.label },
      receivedAt: r.received_at,
    }));
  }

  async saveBaseline(b: Omit<BaselineRecord, 'id'>, references: readonly ReferenceValues[] = [], options: { replace?: boolean } = {}): Promise<SavedBaseline> {
    this.check();
    checkReferences(references);
    // BEGIN IMMEDIATE: the check for an existing version and the insert hold the write lock together,
    // so two writers (the daemon and `vigil baseline`) cannot both store the same version.
    return this.baselineTx.immediate(b, references, options.replace === true);
  }

  async readBaselineReferences(baselineId: number, each: (kind: ReferenceKind, name: string, values: Float64Array) => void): Promise<number> {
    this.check();
    let n = 0;
    const list = this.stmts.listReferences.all(baselineId) as { id: number; kind: ReferenceKind; name: string; bytes: number }[];
    let since = performance.now();
    for (const r of list) {
      // A baseline of 70 features × 20,000 values takes 60-90 ms to read and summarize: yield to
      // the event loop every ~10 ms so requests are answered meanwhile (each view is consumed by
      // `each` before the next read, so the reused scratch is never read across a yield).
      if (performance.now() - since >= YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        since = performance.now();
      }
      const values = this.readReference(r.id, r.bytes);
      if (values === null) throw new VigilError('VIGIL_ERR_STORE_BAD_REFERENCE', `baseline ${baselineId} ${r.kind} ${r.name}: the stored values are not whole float64 values`);
      each(r.kind, r.name, values);
      n++;
    }
    return n;
  }

  /**
   * One reference's values, decoded into the reused scratch (a view valid until the next read), or
   * null when they are not whole float64 values. Read in slices of REFERENCE_CHUNK_VALUES as hex
   * text: a whole 20,000-value reference as one string (320 KB) is a large object V8 puts straight
   * into its old generation — ~180 MB of such garbage when the bench's 560 references load — while
   * 64 KB slices die young. (A BLOB as a Buffer would leave holes in the C heap instead.)
   */
  private readReference(id: number, bytes: number): Float64Array | null {
    if (bytes <= 0 || bytes % 8 !== 0) return null;
    const n = bytes / 8;
    if (this.referenceScratch.length < n) this.referenceScratch = new Float64Array(2 ** Math.ceil(Math.log2(Math.max(n, 4096))));
    const out = this.referenceScratch.subarray(0, n);
    for (let from = 0; from < n; from += REFERENCE_CHUNK_VALUES) {
      const len = Math.min(REFERENCE_CHUNK_VALUES, n - from);
      const row = this.stmts.readReferenceChunk.get(from * 8 + 1, len * 8, id) as { hex: string } | undefined;
      if (row === undefined || !decodeHexInto(row.hex, out.subarray(from, from + len))) return null;
    }
    return out;
  }

  async listBaselines(model: string): Promise<BaselineRecord[]> {
    this.check();
    return (this.stmts.listBaselines.all(model) as { id: number; model: string; version: string; created_at: number; source: string; rows: number; summary: string }[]).map(
      (r) => ({ id: r.id, model: r.model, version: r.version, createdAt: r.created_at, source: r.source, rows: r.rows, summary: r.summary }),
    );
  }

  async listBaselineMeta(model: string): Promise<BaselineMeta[]> {
    this.check();
    type Row = { id: number; model: string; version: string; created_at: number; source: string; rows: number; quality: string; features: string };
    return (this.stmts.listBaselineMeta.all(model) as Row[]).map((r) => ({
      id: r.id,
      model: r.model,
      version: r.version,
      createdAt: r.created_at,
      source: r.source,
      rows: r.rows,
      quality: JSON.parse(r.quality) as Record<string, number>,
      features: JSON.parse(r.features) as string[],
    }));
  }

  async baselineGeneration(): Promise<number> {
    this.check();
    return (this.stmts.baselineGeneration.get() as { g: number }).g;
  }

  async saveSilence(x: SilenceRecord): Promise<void> {
    this.check();
    this.stmts.saveSilence.run(x.id, JSON.stringify(x.matchers), x.startsAt, x.endsAt, x.createdBy, x.comment, x.createdAt);
  }

  async listSilences(endsAfter = Number.NEGATIVE_INFINITY): Promise<SilenceRecord[]> {
    this.check();
    type Row = { id: string; matchers: string; starts_at: number; ends_at: number; created_by: string; comment: string; created_at: number };
    return (this.stmts.listSilences.all(Number.isFinite(endsAfter) ? endsAfter : -Number.MAX_SAFE_INTEGER) as Row[]).map((r) => ({
      id: r.id,
      matchers: JSON.parse(r.matchers) as string[],
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      createdBy: r.created_by,
      comment: r.comment,
      createdAt: r.created_at,
    }));
  }

  async expireSilence(id: string, now: number): Promise<boolean> {
    this.check();
    return this.stmts.expireSilence.run(now, now, id).changes > 0;
  }

  async saveOutbox(e: OutboxRecord): Promise<void> {
    this.check();
    this.stmts.saveOutbox.run(e.id, e.receiver, e.payload, e.attempts, e.nextAttemptAt, e.createdAt);
  }

  async deleteOutbox(id: string): Promise<void> {
    this.check();
    this.stmts.deleteOutbox.run(id);
  }

  async writeOutbox(save: readonly OutboxRecord[], remove: readonly string[]): Promise<void> {
    this.check();
    if (save.length + remove.length === 0) return;
    this.db.transaction(() => {
      for (const e of save) this.stmts.saveOutbox.run(e.id, e.receiver, e.payload, e.attempts, e.nextAttemptAt, e.createdAt);
      for (const id of remove) this.stmts.deleteOutbox.run(id);
    }).immediate(); // the write lock at BEGIN: the writer thread's connection writes too (writer.ts)
  }

  async listOutbox(): Promise<OutboxRecord[]> {
    this.check();
    type Row = { id: string; receiver: string; payload: string; attempts: number; next_attempt_at: number; created_at: number };
    return (this.stmts.listOutbox.all() as Row[]).map((r) => ({
      id: r.id,
      receiver: r.receiver,
      payload: r.payload,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      createdAt: r.created_at,
    }));
  }

  async modelCounts(model: string): Promise<ModelCounts> {
    this.check();
    const versions = (this.stmts.versions.all(model) as { version: string; n: number; first_ts: number; last_ts: number }[]).map((v) => ({
      version: v.version,
      predictions: v.n,
      firstTs: v.first_ts,
      lastTs: v.last_ts,
    }));
    const labels = this.stmts.labelStats.get(model) as { n: number; last_ts: number | null };
    const labeled = this.stmts.labeled.get(model) as { n: number };
    return {
      predictions: versions.reduce((s, v) => s + v.predictions, 0),
      labels: labels.n,
      labeledPredictions: labeled.n,
      versions,
      lastPredictionTs: versions.length === 0 ? null : Math.max(...versions.map((v) => v.lastTs)),
      lastLabelTs: labels.last_ts,
    };
  }

  async prune(beforeTs: number): Promise<PruneResult> {
    this.check();
    const out: PruneResult = { predictions: 0, labels: 0 };
    const models = (this.stmts.models.all() as { name: string }[]).map((m) => m.name);
    for (const model of models) {
      // Small transactions, in the writer's queue between ingestion's batches: never blocked for long.
      for (const table of ['predictions', 'labels'] as const) {
        for (;;) {
          const n = await this.writer.run({ kind: 'prune', table, model, beforeTs });
          out[table] += n;
          if (n < PRUNE_CHUNK) break;
        }
      }
    }
    return out;
  }

  // One process owns the file: no other can lead, a fence is always held.
  async saveIncident(i: IncidentRecord, _options: { fence?: Fence } = {}): Promise<void> {
    this.check();
    this.stmts.saveIncident.run(...incidentParams(i));
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    this.check();
    const r = this.stmts.getIncident.get(id) as IncidentRow | undefined;
    return r === undefined ? undefined : incidentOf(r);
  }

  async listIncidents(f: IncidentFilter): Promise<IncidentRecord[]> {
    this.check();
    const rows = this.stmts.listIncidents.all({
      model: opt(f.model),
      status: opt(f.status),
      since: opt(f.since),
      until: opt(f.until),
      action: opt(f.action),
      outcome: opt(f.outcome),
      limit: Math.min(f.limit ?? MAX_LIST, MAX_LIST),
    }) as IncidentRow[];
    return rows.map(incidentOf);
  }

  async saveAction(a: ActionRecord, _options: { fence?: Fence } = {}): Promise<void> {
    this.check();
    if (a.idempotencyKey !== null) {
      const other = this.stmts.actionByKey.get(a.idempotencyKey) as { id: string } | undefined;
      if (other !== undefined && other.id !== a.id) {
        throw new VigilError('VIGIL_ERR_STORE_CONFLICT', `action ${other.id} already holds idempotency key ${a.idempotencyKey}`, { statusCode: 409 });
      }
    }
    this.stmts.saveAction.run(...actionParams(a));
  }

  async getAction(id: string): Promise<ActionRecord | undefined> {
    this.check();
    const r = this.stmts.getAction.get(id) as ActionRow | undefined;
    return r === undefined ? undefined : actionOf(r);
  }

  async listActions(f: ActionFilter): Promise<ActionRecord[]> {
    this.check();
    const rows = this.stmts.listActions.all({
      incident: opt(f.incidentId),
      incidents: f.incidentIds === undefined ? null : JSON.stringify(f.incidentIds),
      model: opt(f.model),
      action: opt(f.action),
      status: opt(f.status),
      since: opt(f.since),
      until: opt(f.until),
      limit: Math.min(f.limit ?? MAX_LIST, MAX_LIST),
    }) as ActionRow[];
    return rows.map(actionOf);
  }

  async pruneIncidents(beforeTs: number): Promise<{ incidents: number; actions: number }> {
    this.check();
    return this.db.transaction(() => {
      const actions = this.stmts.pruneIncidentActions.run(beforeTs).changes;
      const incidents = this.stmts.pruneIncidents.run(beforeTs).changes;
      return { incidents, actions };
    }).immediate();
  }

  async saveCircuit(c: CircuitRecord, _options: { fence?: Fence } = {}): Promise<void> {
    this.check();
    this.stmts.saveCircuit.run(c.model, c.state, c.since, c.reason, c.incidentId, c.probeUntil, c.manual ? 1 : 0, c.generation);
  }

  async listCircuits(): Promise<CircuitRecord[]> {
    this.check();
    return (this.stmts.listCircuits.all() as CircuitRow[]).map(circuitOf);
  }

  async writeRuleHistory(w: RuleHistoryWrite): Promise<void> {
    this.check();
    this.db.transaction(() => {
      for (const r of w.series) this.stmts.historySeries.run(r.id, r.labels, r.writer);
      for (const id of w.deletedSeries) this.stmts.historyDeleteSeries.run(id);
      for (const a of w.appends) {
        if (a.data.length === 0) continue;
        const before = this.stmts.historyAt.get(a.t) as Buffer | undefined;
        this.stmts.historyAppend.run(a.t, before === undefined ? a.data : Buffer.concat([before, a.data]));
      }
      this.stmts.historyPrune.run(w.pruneBefore);
    }).immediate();
  }

  async readRuleHistory(): Promise<{ series: RuleHistorySeries[]; appends: { t: number; data: Uint8Array }[] }> {
    this.check();
    const series = this.stmts.historyReadSeries.all() as RuleHistorySeries[];
    const appends = (this.stmts.historyReadAppends.all() as { t: number; data: Buffer }[]).map((r) => ({ t: r.t, data: new Uint8Array(r.data) }));
    return { series, appends };
  }

  async addSloMinutes(rows: readonly SloMinute[]): Promise<void> {
    this.check();
    if (rows.length === 0) return;
    this.db.transaction(() => {
      for (const r of rows) this.stmts.sloAdd.run(r.slo, r.minute, r.good, r.total);
    }).immediate();
  }

  async readSloMinutes(slo: string, fromMinute: number): Promise<SloMinute[]> {
    this.check();
    return this.stmts.sloRead.all(slo, fromMinute) as SloMinute[];
  }

  async readSloHours(slo: string, fromMinute: number, beforeMinute: number): Promise<{ hour: number; good: number; total: number }[]> {
    this.check();
    return this.stmts.sloHours.all(slo, fromMinute, beforeMinute) as { hour: number; good: number; total: number }[];
  }

  async pruneSloMinutes(beforeMinute: number): Promise<number> {
    this.check();
    return this.stmts.sloPrune.run(beforeMinute).changes;
  }

  async predictionTargets(model: string, ids: readonly string[]): Promise<(PredictionTarget | undefined)[]> {
    this.check();
    return ids.map((id) => {
      const r = this.stmts.targetOf.get(model, id) as { prediction: Target; segment: string | null } | undefined;
      return r === undefined ? undefined : { prediction: r.prediction, segment: r.segment };
    });
  }

  async getState(key: string): Promise<string | undefined> {
    this.check();
    const row = this.stmts.getState.get(key) as { value: string | null } | undefined;
    return row?.value ?? undefined;
  }

  async setState(key: string, value: string, now: number): Promise<void> {
    this.check();
    this.stmts.setState.run(key, value, now);
  }

  healthy(): boolean {
    return this.open && this.db.open;
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.writer.close(); // the writes in flight are answered first
    await this.pages.close(); // before the checkpoint: no reader left on the file
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}
