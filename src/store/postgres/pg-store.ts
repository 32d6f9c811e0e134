/**
 * The Store on PostgreSQL (issue 14): one database that several Vigil replicas share. It keeps the
 * SQLite store's tables and behaviour (migrations.ts says what differs in the schema) and adds what
 * sharing needs: migrations under an advisory lock, sequence numbers in commit order
 * (pg-writes.ts), and an unreachable server reported as 503 (VIGIL_ERR_STORE_UNAVAILABLE) while
 * the pool reconnects by itself.
 *
 * Every statement names its tables with the schema (never search_path: nothing depends on a
 * connection's settings, and a pooler in transaction mode cannot lose them). Epoch milliseconds
 * and seqs are bigint, read back as JS numbers by the pool's own int8 parser (not pg's global
 * one: other pg users in the process are left alone).
 */
import pg from 'pg';
import type { CustomTypesConfig, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { isVigilError, VigilError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { Packer, type PackLayout } from '../packed.js';
import { baselineExists } from '../store.js';
import type {
  ActionFilter,
  ActionRecord,
  BaselineMeta,
  BaselineRecord,
  CircuitRecord,
  FollowedLabel,
  Fence,
  FollowedPrediction,
  IncidentFilter,
  Lease,
  IncidentRecord,
  LabelRecord,
  ModelCounts,
  OutboxRecord,
  PredictionRecord,
  PredictionTarget,
  PruneResult,
  ReferenceKind,
  ReferenceValues,
  RuleHistorySeries,
  RuleHistoryWrite,
  SavedBaseline,
  SilenceRecord,
  SloMinute,
  Store,
  StoredPrediction,
  Target,
  WindowPageQuery,
  WindowPageRow,
  WindowRow,
  WriteResult,
} from '../store.js';
import { migrate, quoteIdent, SCHEMA_NAME } from './migrations.js';
import { describeTarget, isConnectionLost, isUnavailable, reasonOf, redactor, storeUnavailable } from './pg-errors.js';
import {
  decodeWindowPage,
  INDEX_ORDER,
  intBound,
  FEATURES_COLUMNS,
  RECORD_COLUMNS,
  recordOf,
  SCAN_PAGE_ROWS,
  scanPageParams,
  scanPageSql,
  targetOf,
  windowPageParams,
  windowPageSql,
  windowRowOf,
  type PageRow,
  type ScanRow,
} from './pg-reads.js';
import { checkReferences } from '../references.js';
import { actionOf, actionParams, incidentOf, incidentParams, type ActionRow, type IncidentRow } from '../rows.js';
import { leBytes, REFERENCE_CHUNK_BYTES, ReferenceScratch } from './pg-references.js';
import { labelParams, labelsSql, predictionParams, predictionsSql, writeResult } from './pg-writes.js';
import { PackedLayouts } from './pg-layouts.js';
import type { Half, JoinBackend, KserveHalf, Unmatched } from '../../ingest/kserve-join.js';

export interface PostgresStoreOptions {
  /** postgres://USER[:PASSWORD]@HOST:PORT/DATABASE[?sslmode=…] */
  url: string;
  /** The password, when it does not come in the URL (from a file or PGPASSWORD: the caller reads it). */
  password?: string | undefined;
  /** The schema the tables live in (created if missing); default `vigil`. */
  schema?: string | undefined;
  /** Connections in the pool; default 10. */
  poolSize?: number | undefined;
  /** What the connections show in pg_stat_activity; default `vigil`. */
  applicationName?: string | undefined;
  /** How long a new connection may take before the attempt counts as the server being unavailable; default 5 s. */
  connectTimeoutMs?: number | undefined;
  /** Where a pool connection's failure is logged (the password never is). */
  logger?: Logger | undefined;
  /** Recorded with the migrations applied. */
  now: number;
}

export const DEFAULT_SCHEMA = 'vigil';
export const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Idle connections are closed after this (the pool opens new ones as needed). */
const IDLE_TIMEOUT_MS = 30_000;
/** The server ends a session idle this long inside a transaction (none of the store's is). */
const IDLE_IN_TRANSACTION_MS = 60_000;
/** Rule-history rows read per query (each row one evaluation time's samples). */
const HISTORY_PAGE_ROWS = 1_000;
const MAX_LIST = 10_000;

const INT8_OID = 20;
const parseInt8 = (text: string): number => Number(text);

/** pg's parsers, but int8 (bigint: epoch ms, seqs, counts) as a JS number. */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/**
 * The URL the pool connects with: the password, when given apart, put into it (node-postgres lets
 * a connection string's empty password override a `password` option). Throws on a URL that does not
 * parse; the error says nothing of the URL.
 */
function connectionString(url: string, password: string | undefined): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VigilError('VIGIL_ERR_STORE_OPEN', 'the PostgreSQL URL is not a valid URL (postgres://USER@HOST:PORT/DATABASE)');
  }
  if (password === undefined || password === '') return url;
  u.password = encodeURIComponent(password);
  if (u.password === '') throw new VigilError('VIGIL_ERR_STORE_OPEN', 'a separate password needs a PostgreSQL URL with a host (postgres://USER@HOST:PORT/DATABASE)');
  return u.toString();
}

/** The password inside a URL (as written there), if any. */
function passwordIn(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p === '' ? undefined : p;
  } catch {
    return undefined;
  }
}

interface CircuitRow {
  model: string;
  state: CircuitRecord['state'];
  since: number;
  reason: string;
  incident_id: string | null;
  probe_until: number | null;
  manual: boolean;
  generation: number;
}

const circuitOf = (r: CircuitRow): CircuitRecord => ({
  model: r.model,
  state: r.state,
  since: r.since,
  reason: r.reason,
  incidentId: r.incident_id,
  probeUntil: r.probe_until,
  manual: r.manual,
  generation: r.generation,
});

/** A WHERE clause built from the filters given: each value a parameter. */
class Where {
  readonly values: unknown[] = [];
  private readonly terms: string[] = [];

  /** Adds `term`, in which `$` stands for the value's parameter. */
  add(term: string, value: unknown): void {
    this.values.push(value);
    const n = this.values.length;
    this.terms.push(term.replace('$', () => `$${n}`));
  }

  /** Adds a term whose values are parameters already (param). */
  addTerm(term: string): void {
    this.terms.push(term);
  }

  /** A parameter for a value used outside the WHERE clause (e.g. LIMIT). */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  toString(): string {
    return this.terms.length === 0 ? '' : `WHERE ${this.terms.join(' AND ')}`;
  }
}

/** A statement that inserts or updates an outbox entry (the receiver and creation time stay). */
const outboxUpsertSql = (s: string): string => `INSERT INTO ${s}.outbox (id, receiver, payload, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, attempts = EXCLUDED.attempts, next_attempt_at = EXCLUDED.next_attempt_at`;

/** The advisory lock class of a KServe half's key (kserveJoin). */
const KSERVE_LOCK_CLASS = 0x5649_4b53; // 'VIKS'

/** Rows a statement of prune deletes. */
const PRUNE_BATCH = 10_000;

const outboxParams = (e: OutboxRecord): unknown[] => [e.id, e.receiver, e.payload, e.attempts, e.nextAttemptAt, e.createdAt];

export class PostgresStore implements Store {
  /** Several Vigil replicas share one database: each follows what the others store. */
  readonly shared = true;
  /** The schema, as given (the tables are `"<schema>".<table>`). */
  readonly schema: string;
  private readonly pool: pg.Pool;
  /** The schema as a quoted identifier, for the statements. */
  private readonly s: string;
  private readonly redact: (text: string) => string;
  private readonly logger: Logger | undefined;
  private readonly sql: { predictions: string; labels: string; windowPage: string; scanPage: string };
  private readonly packer = new Packer();
  /** The packed layouts of the rows stored without their features JSON. */
  private readonly layouts: PackedLayouts;
  private readonly referenceScratch = new ReferenceScratch();
  /** Models this process has registered in `models` (a row each, written once). */
  private readonly registered = new Set<string>();
  /** Connections in the pool: how often a read may meet a lost one before the pool connects anew. */
  private readonly poolSize: number;
  private open = true;
  /** Whether the last statement reached the server (false after a connection-level failure). */
  private up = true;
  private probing = false;

  private constructor(pool: pg.Pool, poolSize: number, schema: string, redact: (text: string) => string, logger: Logger | undefined) {
    this.pool = pool;
    this.poolSize = poolSize;
    this.schema = schema;
    this.s = quoteIdent(schema);
    this.redact = redact;
    this.logger = logger;
    this.sql = { predictions: predictionsSql(this.s), labels: labelsSql(this.s), windowPage: windowPageSql(this.s), scanPage: scanPageSql(this.s) };
    this.layouts = new PackedLayouts(
      this.s,
      (text, values) => this.q(text, values),
      (text, values) => this.read(text, values),
    );
    // An idle connection that fails (the server restarted, an admin ended it) is an event of the
    // pool, not of a query: without a listener it would crash the process. The pool has dropped
    // it already; a probe says whether the server still answers.
    pool.on('error', (e) => {
      this.logger?.warn({ err: reasonOf(e, this.redact) }, 'an idle PostgreSQL connection failed');
      this.probe();
    });
  }

  /**
   * Connects, brings the schema up to date (migrations.ts) and returns the store. Fails with
   * VIGIL_ERR_STORE_UNAVAILABLE (503) when the server cannot be reached — the caller may retry —
   * and VIGIL_ERR_STORE_OPEN otherwise (bad URL, authentication, a schema newer than this Vigil).
   * No message carries the password.
   */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? DEFAULT_SCHEMA;
    const redact = redactor([opts.password, passwordIn(opts.url)]);
    if (!SCHEMA_NAME.test(schema)) throw new VigilError('VIGIL_ERR_STORE_OPEN', `the schema name "${schema}" is not a lower-case SQL identifier (letters, digits, _)`);
    const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
    const pool = new pg.Pool({
      connectionString: connectionString(opts.url, opts.password),
      max: poolSize,
      application_name: opts.applicationName ?? 'vigil',
      connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      keepAlive: true,
      // A transaction left open by a process that hangs would hold its locks (the seq counter's
      // row among them) until the server ends it: its transactions are short, so this is generous.
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      types: TYPES,
    });
    const store = new PostgresStore(pool, poolSize, schema, redact, opts.logger);
    const target = describeTarget(opts.url);
    try {
      // Migrations on a connection of their own: the advisory lock they take is the session's.
      const client = await pool.connect();
      let broken: Error | undefined;
      const lost = (e: Error): void => void (broken = e);
      client.on('error', lost);
      try {
        await migrate(client, schema, opts.now);
      } catch (e) {
        if (isUnavailable(e)) broken ??= e as Error;
        throw e;
      } finally {
        client.off('error', lost);
        client.release(broken);
      }
    } catch (e) {
      store.open = false;
      await pool.end().catch(() => undefined);
      if (isUnavailable(e)) throw storeUnavailable(`cannot reach ${target}: ${reasonOf(e, redact)}`);
      if (isVigilError(e)) throw new VigilError(e.code, redact(e.message), { statusCode: e.statusCode, ...(e.details === undefined ? {} : { details: e.details }) });
      throw new VigilError('VIGIL_ERR_STORE_OPEN', `cannot open the PostgreSQL store at ${target}: ${reasonOf(e, redact)}`);
    }
    return store;
  }

  private check(): void {
    if (!this.open) throw new VigilError('VIGIL_ERR_STORE_CLOSED', 'the store is closed', { statusCode: 503 });
  }

  /**
   * What a method rejects with for `e`: a lost or unreachable server as VIGIL_ERR_STORE_UNAVAILABLE
   * (and the store unhealthy until a statement succeeds), a pool closed under a running call as
   * VIGIL_ERR_STORE_CLOSED, anything else as it is (a statement's error, the caller's own).
   */
  private failure(e: unknown): unknown {
    if (isUnavailable(e)) {
      this.up = false;
      return storeUnavailable(reasonOf(e, this.redact));
    }
    if (!this.open && !isVigilError(e)) return new VigilError('VIGIL_ERR_STORE_CLOSED', 'the store is closed', { statusCode: 503 });
    return e;
  }

  /**
   * One statement on any connection of the pool. A statement that only reads (`reads`) runs again
   * when its connection turns out to have gone away — the server restarted or ended it while it sat
   * idle in the pool, and the pool had not heard yet: each such failure drops that connection, so
   * after at most a pool's worth of them the pool connects anew. A write is not repeated: whether a
   * lost one committed is unknown, and the caller hears 503.
   */
  private async q<R extends QueryResultRow>(text: string, values?: readonly unknown[], reads = false): Promise<QueryResult<R>> {
    this.check();
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.pool.query<R>(text, values as unknown[] | undefined);
        this.up = true;
        return r;
      } catch (e) {
        if (!(reads && this.open && attempt < this.poolSize && isConnectionLost(e))) throw this.failure(e);
      }
    }
  }

  /** A statement that only reads (q). */
  private read<R extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.q<R>(text, values, true);
  }

  /**
   * `fn` in one transaction on one connection: committed when it returns, rolled back when it
   * throws. A connection that failed is not given back to the pool. A transaction that only reads
   * (`reads`) runs again on a lost connection, as q does.
   */
  /**
   * A write, fenced when a fence is given: in one transaction the lease row is read FOR SHARE —
   * held as the fence says, or the write is refused (VIGIL_ERR_STORE_FENCED, 409) — and kept
   * locked until the write commits, so a replica taking the lease over waits for it and never
   * slips in between.
   */
  private async fenced(fence: Fence | undefined, text: string, values: readonly unknown[]): Promise<void> {
    if (fence === undefined) {
      await this.q(text, values);
      return;
    }
    await this.tx(async (c) => {
      const held = await c.query(`SELECT 1 FROM ${this.s}.leader_lease WHERE name = 'leader' AND holder = $1 AND epoch = $2 FOR SHARE`, [fence.holder, fence.epoch]);
      if (held.rowCount === 0) {
        throw new VigilError('VIGIL_ERR_STORE_FENCED', `refused: ${fence.holder} no longer holds the leader lease (epoch ${fence.epoch}); another replica leads`, { statusCode: 409, details: { epoch: fence.epoch } });
      }
      await c.query(text, values as unknown[]);
    });
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>, begin = 'BEGIN', reads = false): Promise<T> {
    this.check();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(fn, begin);
      } catch (e) {
        if (!(reads && this.open && attempt < this.poolSize && isConnectionLost(e))) throw this.failure(e);
      }
    }
  }

  /** One attempt of tx (its errors as they came). */
  private async once<T>(fn: (c: PoolClient) => Promise<T>, begin: string): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // a checked-out client's connection error is emitted on it: heard here, not left to crash the process
    const lost = (e: Error): void => void (broken = e);
    client.on('error', lost);
    try {
      await client.query(begin);
      const out = await fn(client);
      await client.query('COMMIT');
      this.up = true;
      return out;
    } catch (e) {
      if (isUnavailable(e)) broken ??= e as Error;
      else await client.query('ROLLBACK').catch((r: unknown) => void (broken ??= r as Error));
      throw e;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  /** Asks the server whether it answers (one probe at a time); `up` follows the answer (q, failure). */
  private probe(): void {
    if (this.probing || !this.open) return;
    this.probing = true;
    this.read('SELECT 1')
      .catch(() => undefined)
      .finally(() => {
        this.probing = false;
      });
  }

  /** Registers a model once per process (the model list retention walks). */
  private async register(model: string, now: number): Promise<void> {
    if (this.registered.has(model)) return;
    await this.q(`INSERT INTO ${this.s}.models (name, first_seen) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [model, now]);
    this.registered.add(model);
  }

  /** One batch, one statement (atomic): see pg-writes.ts for the seqs and the duplicates. */
  async insertPredictions(model: string, records: readonly PredictionRecord[], receivedAt: number, layout?: PackLayout): Promise<WriteResult> {
    this.check();
    if (records.length === 0) return { inserted: 0, duplicates: [], seqs: [] };
    await this.register(model, receivedAt);
    const exact = layout === undefined ? false : await this.layouts.exact(layout);
    const { params, distinct } = predictionParams(model, records, receivedAt, layout, this.packer, exact);
    const r = await this.q<{ seq: number; ord: number }>(this.sql.predictions, params);
    return writeResult(records.length, distinct, r.rows);
  }

  async insertLabels(model: string, records: readonly LabelRecord[], receivedAt: number): Promise<WriteResult> {
    this.check();
    if (records.length === 0) return { inserted: 0, duplicates: [], seqs: [] };
    await this.register(model, receivedAt);
    const { params, distinct } = labelParams(model, records, receivedAt);
    const r = await this.q<{ seq: number; ord: number }>(this.sql.labels, params);
    return writeResult(records.length, distinct, r.rows);
  }

  async getPrediction(model: string, id: string): Promise<StoredPrediction | undefined> {
    type Row = Omit<ScanRow, 'seq'> & { received_at: number };
    const r = await this.read<Row>(
      `SELECT ${RECORD_COLUMNS}, p.received_at
       FROM ${this.s}.predictions p
         LEFT JOIN ${this.s}.prediction_features f ON f.seq = p.seq
         LEFT JOIN ${this.s}.labels l ON l.model = p.model AND l.id = p.id
       WHERE p.model = $1 AND p.id = $2`,
      [model, id],
    );
    const row = r.rows[0];
    if (row === undefined) return undefined;
    await this.layouts.prepare(r.rows);
    const label = targetOf(row.label_text, row.label_number);
    return { ...recordOf(row, this.layouts), receivedAt: row.received_at, label: label === null || row.label_ts === null ? null : { id: row.id, ts: row.label_ts, label } };
  }

  /** One statement for all the ids (their position in the list as ordinal). */
  async predictionSeqs(model: string, ids: readonly string[]): Promise<(number | undefined)[]> {
    this.check();
    const out = new Array<number | undefined>(ids.length).fill(undefined);
    if (ids.length === 0) return out;
    const r = await this.read<{ ord: number; seq: number }>(
      `SELECT u.ord, p.seq FROM unnest($2::text[]) WITH ORDINALITY AS u (id, ord) JOIN ${this.s}.predictions p ON p.model = $1 AND p.id = u.id`,
      [model, ids],
    );
    for (const row of r.rows) out[row.ord - 1] = row.seq;
    return out;
  }

  async predictionTargets(model: string, ids: readonly string[]): Promise<(PredictionTarget | undefined)[]> {
    this.check();
    const out = new Array<PredictionTarget | undefined>(ids.length).fill(undefined);
    if (ids.length === 0) return out;
    const r = await this.read<{ ord: number; prediction_text: string | null; prediction_number: number | null; segment: string | null }>(
      `SELECT u.ord, p.prediction_text, p.prediction_number, p.segment
       FROM unnest($2::text[]) WITH ORDINALITY AS u (id, ord) JOIN ${this.s}.predictions p ON p.model = $1 AND p.id = u.id`,
      [model, ids],
    );
    for (const row of r.rows) out[row.ord - 1] = { prediction: targetOf(row.prediction_text, row.prediction_number) as Target, segment: row.segment };
    return out;
  }

  /**
   * Pages of SCAN_PAGE_ROWS in (ts, seq) order, each its own query in the index's order, bounded by
   * the highest seq when the scan began: the rows stored before it, none stored during it (pg-reads.ts).
   */
  async scanPredictions(model: string, fromTs: number, onRow: (row: WindowRow) => void): Promise<number> {
    const maxSeq = await this.lastPredictionSeq();
    let n = 0;
    let after: { ts: number; seq: number } | undefined;
    for (;;) {
      const params = scanPageParams(model, fromTs, maxSeq, after, SCAN_PAGE_ROWS);
      const rows = await this.tx(async (c) => (await c.query<ScanRow>(this.sql.scanPage, params)).rows, `BEGIN READ ONLY; ${INDEX_ORDER}`, true);
      await this.layouts.prepare(rows);
      for (const r of rows) {
        onRow(windowRowOf(r, this.layouts));
        n++;
      }
      const last = rows[rows.length - 1];
      if (rows.length < SCAN_PAGE_ROWS || last === undefined) return n;
      after = { ts: last.ts, seq: last.seq };
    }
  }

  /** One query in the index's order (pg-reads.ts), in a read-only transaction of its own. */
  async windowPage(model: string, q: WindowPageQuery): Promise<WindowPageRow[]> {
    const params = windowPageParams(model, q);
    const rows = await this.tx(async (c) => (await c.query<PageRow>(this.sql.windowPage, params)).rows, `BEGIN READ ONLY; ${INDEX_ORDER}`, true);
    await this.layouts.prepare(rows);
    return decodeWindowPage(rows, this.layouts);
  }

  async lastPredictionSeq(): Promise<number> {
    return (await this.read<{ seq: number }>(`SELECT coalesce(max(seq), 0) AS seq FROM ${this.s}.predictions`)).rows[0]?.seq ?? 0;
  }

  /**
   * One statement on the lease row, on the database's clock: granted (and renewed, or taken over
   * with the next epoch) when the holder has it or it lapsed; else the row as it is.
   */
  async acquireLease(holder: string, ttlMs: number): Promise<Lease> {
    type Row = { holder: string | null; epoch: number; expires_at: number };
    const taken = await this.q<Row>(
      `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t)
       UPDATE ${this.s}.leader_lease l
          SET epoch = CASE WHEN l.holder = $1 AND l.expires_at > now.t THEN l.epoch ELSE l.epoch + 1 END,
              holder = $1,
              expires_at = now.t + $2
         FROM now
        WHERE l.name = 'leader' AND (l.expires_at <= now.t OR l.holder = $1)
       RETURNING l.holder, l.epoch, l.expires_at`,
      [holder, Math.max(1, Math.round(ttlMs))],
    );
    const row = taken.rows[0] ?? (await this.read<Row>(`SELECT holder, epoch, expires_at FROM ${this.s}.leader_lease WHERE name = 'leader'`)).rows[0];
    if (row === undefined) throw new VigilError('VIGIL_ERR_STORE_OPEN', 'the leader lease row is missing (migration 8)');
    return { holder: row.holder, epoch: row.epoch, expiresAt: row.expires_at, mine: taken.rows.length > 0 };
  }

  /**
   * The KServe join in the shared database (src/ingest/kserve-join.ts, JoinBackend): the two halves
   * of an inference may reach two replicas. An offer takes a transaction-scoped advisory lock on
   * its key, so a request and its response offered at the same moment by two replicas are seen one
   * after the other: the second finds the first and takes it (DELETE … RETURNING), never both
   * waiting. Expiry and the bounds are one statement each, whoever runs them (a row is deleted,
   * and counted, once).
   */
  kserveJoin(): JoinBackend {
    const s = this.s;
    type Row = { model: string; component: string; id: string; half: Half; endpoint: string; time: number | null; data: string };
    const halfOf = (r: Row): KserveHalf => ({ half: r.half, model: r.model, id: r.id, component: r.component, endpoint: r.endpoint, time: r.time, data: JSON.parse(r.data) as unknown });
    const unmatched = (rows: readonly { model: string; half: Half; id: string }[], reason: Unmatched['reason']): Unmatched[] => rows.map((r) => ({ model: r.model, half: r.half, id: r.id, reason }));
    return {
      offer: (half, now) =>
        this.tx(async (c) => {
          await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [KSERVE_LOCK_CLASS, JSON.stringify([half.model, half.component, half.id])]);
          const other = await c.query<Row>(
            `DELETE FROM ${s}.kserve_pending WHERE model = $1 AND component = $2 AND id = $3 AND half <> $4 RETURNING model, component, id, half, endpoint, time, data`,
            [half.model, half.component, half.id, half.half],
          );
          const found = other.rows[0];
          if (found !== undefined) {
            const waiting = halfOf(found);
            const [request, response] = half.half === 'request' ? [half, waiting] : [waiting, half];
            return { pair: { model: half.model, id: half.id, request, response }, unmatched: [] };
          }
          const data = JSON.stringify(half.data) ?? 'null';
          // a re-delivered half replaces the first
          await c.query(
            `INSERT INTO ${s}.kserve_pending (model, component, id, half, endpoint, time, data, bytes, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (model, component, id, half) DO UPDATE SET endpoint = EXCLUDED.endpoint, time = EXCLUDED.time, data = EXCLUDED.data, bytes = EXCLUDED.bytes, received_at = EXCLUDED.received_at`,
            [half.model, half.component, half.id, half.half, half.endpoint, half.time, data, data.length, now],
          );
          return { pair: null, unmatched: [] };
        }),
      expire: async (now, limits) => {
        const expired = await this.q<{ model: string; half: Half; id: string }>(
          `DELETE FROM ${s}.kserve_pending WHERE received_at <= $1 RETURNING model, half, id`,
          [now - limits.joinTimeoutMs],
        );
        // beyond the bounds, the oldest go (the newest is kept whatever its size)
        const evicted = await this.q<{ model: string; half: Half; id: string }>(
          `DELETE FROM ${s}.kserve_pending p USING (
             SELECT model, component, id, half FROM (
               SELECT model, component, id, half,
                 row_number() OVER (ORDER BY received_at DESC, id DESC) AS n,
                 sum(bytes) OVER (ORDER BY received_at DESC, id DESC) AS b
               FROM ${s}.kserve_pending) x
             WHERE n > 1 AND (n > $1 OR b > $2)) o
           WHERE p.model = o.model AND p.component = o.component AND p.id = o.id AND p.half = o.half
           RETURNING p.model, p.half, p.id`,
          [limits.maxPending, limits.maxPendingBytes ?? Number.MAX_SAFE_INTEGER],
        );
        return [...unmatched(expired.rows, 'expired'), ...unmatched(evicted.rows, 'evicted')];
      },
      pendingCount: async () => Number((await this.read<{ n: string }>(`SELECT count(*) AS n FROM ${s}.kserve_pending`)).rows[0]?.n ?? 0),
    };
  }

  async releaseLease(holder: string): Promise<void> {
    await this.q(`UPDATE ${this.s}.leader_lease SET expires_at = 0 WHERE name = 'leader' AND holder = $1`, [holder]);
  }

  async lastLabelSeq(): Promise<number> {
    return (await this.read<{ seq: number }>(`SELECT coalesce(max(seq), 0) AS seq FROM ${this.s}.labels`)).rows[0]?.seq ?? 0;
  }

  /** By the unique seq index; the numbers are in commit order (pg-writes.ts), so "above the last seen" misses nothing. */
  async followPredictions(afterSeq: number, limit: number): Promise<FollowedPrediction[]> {
    type Row = Omit<ScanRow, 'seq'> & { seq: number; model: string; received_at: number };
    const r = await this.read<Row>(
      `SELECT p.model, p.seq, p.received_at, p.id, p.ts, p.version, p.prediction_text, p.prediction_number, p.score, p.latency_ms, p.segment, p.error, p.traceparent,
         ${FEATURES_COLUMNS}, NULL::bigint AS label_ts, NULL::text AS label_text, NULL::float8 AS label_number
       FROM ${this.s}.predictions p LEFT JOIN ${this.s}.prediction_features f ON f.seq = p.seq
       WHERE p.seq > $1 ORDER BY p.seq LIMIT $2`,
      [afterSeq, limit],
    );
    await this.layouts.prepare(r.rows);
    return r.rows.map((row) => ({ model: row.model, seq: row.seq, record: recordOf(row, this.layouts), receivedAt: row.received_at }));
  }

  async followLabels(afterSeq: number, limit: number): Promise<FollowedLabel[]> {
    const r = await this.read<{ model: string; seq: number; id: string; ts: number; label_text: string | null; label_number: number | null; received_at: number }>(
      `SELECT model, seq, id, ts, label_text, label_number, received_at FROM ${this.s}.labels WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return r.rows.map((row) => ({
      model: row.model,
      seq: row.seq,
      record: { id: row.id, ts: row.ts, label: targetOf(row.label_text, row.label_number) as Target },
      receivedAt: row.received_at,
    }));
  }

  async saveBaseline(b: Omit<BaselineRecord, 'id'>, references: readonly ReferenceValues[] = [], options: { replace?: boolean } = {}): Promise<SavedBaseline> {
    this.check();
    checkReferences(references);
    const s = this.s;
    return this.tx(async (c) => {
      // One baseline writer at a time (reads go on): the check for the version's baseline and the
      // insert hold together across replicas, and ids commit in the order they are drawn, so the
      // generation (max id) never passes over a baseline that commits later with a lower id.
      await c.query(`LOCK TABLE ${s}.baselines IN SHARE ROW EXCLUSIVE MODE`);
      const existing = (await c.query<{ id: number }>(`SELECT id FROM ${s}.baselines WHERE model = $1 AND version = $2 ORDER BY id`, [b.model, b.version])).rows.map((r) => r.id);
      if (existing.length > 0 && options.replace !== true) throw baselineExists(b.model, b.version, existing);
      // the old one first (one per version: a unique key); its references go with it (ON DELETE CASCADE)
      if (existing.length > 0) await c.query(`DELETE FROM ${s}.baselines WHERE id = ANY($1::bigint[])`, [existing]);
      const inserted = await c.query<{ id: number }>(
        `INSERT INTO ${s}.baselines (model, version, created_at, source, rows, summary) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [b.model, b.version, b.createdAt, b.source, b.rows, b.summary],
      );
      const id = (inserted.rows[0] as { id: number }).id;
      if (references.length > 0) {
        await c.query(`INSERT INTO ${s}.baseline_references (baseline_id, kind, name, sorted) SELECT $1, u.kind, u.name, u.sorted FROM unnest($2::text[], $3::text[], $4::bytea[]) AS u (kind, name, sorted)`, [
          id,
          references.map((r) => r.kind),
          references.map((r) => r.name),
          references.map((r) => leBytes(r.sorted)),
        ]);
      }
      return { ...b, id, replaced: existing };
    });
  }

  /**
   * Each reference in its own query, as rows of REFERENCE_CHUNK_BYTES (substring of an EXTERNAL
   * value reads only its chunks), decoded into reused memory: a baseline of many large references
   * never sits in memory whole, and no single large string is made per reference.
   */
  async readBaselineReferences(baselineId: number, each: (kind: ReferenceKind, name: string, values: Float64Array) => void): Promise<number> {
    const s = this.s;
    const list = (
      await this.read<{ kind: ReferenceKind; name: string; bytes: number }>(
        `SELECT kind, name, octet_length(sorted) AS bytes FROM ${s}.baseline_references WHERE baseline_id = $1 ORDER BY kind, name`,
        [baselineId],
      )
    ).rows;
    let n = 0;
    for (const r of list) {
      const chunks = (
        await this.read<{ chunk: Buffer }>(
          `SELECT substring(sorted FROM g FOR $4) AS chunk
           FROM ${s}.baseline_references CROSS JOIN generate_series(1, octet_length(sorted), $4) AS g
           WHERE baseline_id = $1 AND kind = $2 AND name = $3 ORDER BY g`,
          [baselineId, r.kind, r.name, REFERENCE_CHUNK_BYTES],
        )
      ).rows.map((x) => x.chunk);
      const values = this.referenceScratch.decode(r.bytes, chunks);
      if (values === null) throw new VigilError('VIGIL_ERR_STORE_BAD_REFERENCE', `baseline ${baselineId} ${r.kind} ${r.name}: the stored values are not whole float64 values`);
      each(r.kind, r.name, values);
      n++;
    }
    return n;
  }

  async listBaselines(model: string): Promise<BaselineRecord[]> {
    type Row = { id: number; model: string; version: string; created_at: number; source: string; rows: number; summary: string };
    const r = await this.read<Row>(`SELECT id, model, version, created_at, source, rows, summary FROM ${this.s}.baselines WHERE model = $1 ORDER BY id DESC`, [model]);
    return r.rows.map((x) => ({ id: x.id, model: x.model, version: x.version, createdAt: x.created_at, source: x.source, rows: x.rows, summary: x.summary }));
  }

  /** The summary's quality and feature names picked out by the server: the summaries never reach JavaScript. */
  async listBaselineMeta(model: string): Promise<BaselineMeta[]> {
    type Row = { id: number; model: string; version: string; created_at: number; source: string; rows: number; quality: Record<string, number>; features: string[] };
    // json (not jsonb): the feature names in the order the summary lists them
    const r = await this.read<Row>(
      `SELECT b.id, b.model, b.version, b.created_at, b.source, b.rows,
         CASE WHEN json_typeof(j.doc -> 'quality') = 'object' THEN j.doc -> 'quality' ELSE '{}'::json END AS quality,
         (SELECT coalesce(json_agg(k.key ORDER BY k.ord), '[]'::json)
            FROM json_object_keys(CASE WHEN json_typeof(j.doc -> 'features') = 'object' THEN j.doc -> 'features' ELSE '{}'::json END) WITH ORDINALITY AS k (key, ord)) AS features
       FROM ${this.s}.baselines b CROSS JOIN LATERAL (SELECT b.summary::json AS doc) j
       WHERE b.model = $1 ORDER BY b.id DESC`,
      [model],
    );
    return r.rows.map((x) => ({ id: x.id, model: x.model, version: x.version, createdAt: x.created_at, source: x.source, rows: x.rows, quality: x.quality, features: x.features }));
  }

  async baselineGeneration(): Promise<number> {
    return (await this.read<{ g: number }>(`SELECT coalesce(max(id), 0) AS g FROM ${this.s}.baselines`)).rows[0]?.g ?? 0;
  }

  async modelCounts(model: string): Promise<ModelCounts> {
    const s = this.s;
    const [versionRows, labelRows, labeledRows] = await Promise.all([
      this.read<{ version: string; n: number; first_ts: number; last_ts: number }>(
        `SELECT version, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts FROM ${s}.predictions WHERE model = $1 GROUP BY version ORDER BY version`,
        [model],
      ),
      this.read<{ n: number; last_ts: number | null }>(`SELECT count(*) AS n, max(ts) AS last_ts FROM ${s}.labels WHERE model = $1`, [model]),
      this.read<{ n: number }>(`SELECT count(*) AS n FROM ${s}.labels l JOIN ${s}.predictions p ON p.model = l.model AND p.id = l.id WHERE l.model = $1`, [model]),
    ]);
    const versions = versionRows.rows.map((v) => ({ version: v.version, predictions: v.n, firstTs: v.first_ts, lastTs: v.last_ts }));
    const labels = labelRows.rows[0] ?? { n: 0, last_ts: null };
    return {
      predictions: versions.reduce((sum, v) => sum + v.predictions, 0),
      labels: labels.n,
      labeledPredictions: labeledRows.rows[0]?.n ?? 0,
      versions,
      lastPredictionTs: versions.length === 0 ? null : Math.max(...versions.map((v) => v.lastTs)),
      lastLabelTs: labels.last_ts,
    };
  }

  /**
   * One transaction, a model at a time on the (model, ts) indexes. Writers are not blocked
   * meanwhile (they insert other rows; only a re-sent id of a row being deleted waits for it).
   */
  /**
   * Deletes the rows older than `beforeTs`, PRUNE_BATCH rows a statement, each its own
   * transaction: a retention pass over millions of rows never holds one long transaction (its locks,
   * its WAL, a follower's view of the table) nor loses its progress when the connection drops.
   */
  async prune(beforeTs: number): Promise<PruneResult> {
    const s = this.s;
    const out: PruneResult = { predictions: 0, labels: 0 };
    const models = (await this.read<{ name: string }>(`SELECT name FROM ${s}.models ORDER BY name`)).rows.map((m) => m.name);
    const chunks = async (table: 'predictions' | 'labels', model: string): Promise<number> => {
      let n = 0;
      for (;;) {
        const r = await this.q(
          `DELETE FROM ${s}.${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${s}.${table} WHERE model = $1 AND ts < $2 LIMIT $3))`,
          [model, intBound(beforeTs), PRUNE_BATCH],
        );
        n += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < PRUNE_BATCH) return n;
      }
    };
    for (const model of models) {
      out.predictions += await chunks('predictions', model);
      out.labels += await chunks('labels', model);
    }
    return out;
  }

  async saveSilence(x: SilenceRecord): Promise<void> {
    await this.q(
      `INSERT INTO ${this.s}.silences (id, matchers, starts_at, ends_at, created_by, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET matchers = EXCLUDED.matchers, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
         created_by = EXCLUDED.created_by, comment = EXCLUDED.comment`,
      [x.id, JSON.stringify(x.matchers), x.startsAt, x.endsAt, x.createdBy, x.comment, x.createdAt],
    );
  }

  async listSilences(endsAfter?: number): Promise<SilenceRecord[]> {
    type Row = { id: string; matchers: string; starts_at: number; ends_at: number; created_by: string; comment: string; created_at: number };
    const filtered = endsAfter !== undefined && Number.isFinite(endsAfter);
    const r = await this.read<Row>(
      `SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at FROM ${this.s}.silences ${filtered ? 'WHERE ends_at > $1' : ''} ORDER BY created_at, id`,
      filtered ? [Math.floor(endsAfter)] : [], // ends_at > b ⟺ ends_at > ⌊b⌋
    );
    return r.rows.map((x) => ({
      id: x.id,
      matchers: JSON.parse(x.matchers) as string[],
      startsAt: x.starts_at,
      endsAt: x.ends_at,
      createdBy: x.created_by,
      comment: x.comment,
      createdAt: x.created_at,
    }));
  }

  async expireSilence(id: string, now: number): Promise<boolean> {
    const r = await this.q(`UPDATE ${this.s}.silences SET ends_at = least(ends_at, $1), starts_at = least(starts_at, $1) WHERE id = $2`, [now, id]);
    return (r.rowCount ?? 0) > 0;
  }

  async saveOutbox(e: OutboxRecord): Promise<void> {
    await this.q(outboxUpsertSql(this.s), outboxParams(e));
  }

  async deleteOutbox(id: string): Promise<void> {
    await this.q(`DELETE FROM ${this.s}.outbox WHERE id = $1`, [id]);
  }

  async writeOutbox(save: readonly OutboxRecord[], remove: readonly string[]): Promise<void> {
    this.check();
    if (save.length + remove.length === 0) return;
    const s = this.s;
    await this.tx(async (c) => {
      // a statement per entry: an outbox write is a handful of entries, and one id may come twice
      for (const e of save) await c.query(outboxUpsertSql(s), outboxParams(e));
      if (remove.length > 0) await c.query(`DELETE FROM ${s}.outbox WHERE id = ANY($1::text[])`, [remove]);
    });
  }

  async listOutbox(): Promise<OutboxRecord[]> {
    type Row = { id: string; receiver: string; payload: string; attempts: number; next_attempt_at: number; created_at: number };
    const r = await this.read<Row>(`SELECT id, receiver, payload, attempts, next_attempt_at, created_at FROM ${this.s}.outbox ORDER BY created_at, id`);
    return r.rows.map((x) => ({ id: x.id, receiver: x.receiver, payload: x.payload, attempts: x.attempts, nextAttemptAt: x.next_attempt_at, createdAt: x.created_at }));
  }

  async saveIncident(i: IncidentRecord, options: { fence?: Fence } = {}): Promise<void> {
    await this.fenced(options.fence,
      `INSERT INTO ${this.s}.incidents (id, fingerprint, alertname, model, labels, annotations, fired_at, resolved_at, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, alertname = EXCLUDED.alertname, model = EXCLUDED.model,
         labels = EXCLUDED.labels, annotations = EXCLUDED.annotations, fired_at = EXCLUDED.fired_at, resolved_at = EXCLUDED.resolved_at,
         status = EXCLUDED.status, created_at = EXCLUDED.created_at`,
      incidentParams(i),
    );
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    const r = await this.read<IncidentRow>(`SELECT * FROM ${this.s}.incidents WHERE id = $1`, [id]);
    const row = r.rows[0];
    return row === undefined ? undefined : incidentOf(row);
  }

  async listIncidents(f: IncidentFilter): Promise<IncidentRecord[]> {
    const w = new Where();
    if (f.model !== undefined) w.add('i.model = $', f.model);
    if (f.status !== undefined) w.add('i.status = $', f.status);
    if (f.since !== undefined) w.add('i.fired_at >= $', intBound(f.since));
    if (f.until !== undefined) w.add('i.fired_at < $', intBound(f.until));
    if (f.action !== undefined || f.outcome !== undefined) {
      const terms = ['a.incident_id = i.id'];
      if (f.action !== undefined) terms.push(`a.action = ${w.param(f.action)}`);
      if (f.outcome !== undefined) terms.push(`a.status = ${w.param(f.outcome)}`);
      w.addTerm(`EXISTS (SELECT 1 FROM ${this.s}.remediation_actions a WHERE ${terms.join(' AND ')})`);
    }
    const limit = w.param(Math.min(f.limit ?? MAX_LIST, MAX_LIST));
    const r = await this.read<IncidentRow>(`SELECT i.* FROM ${this.s}.incidents i ${w.toString()} ORDER BY i.fired_at DESC, i.id DESC LIMIT ${limit}`, w.values);
    return r.rows.map(incidentOf);
  }

  /**
   * Inserts or replaces by id. The unique idempotency key refuses a second record with another's
   * key inside the database — two replicas cannot both take it — and the refusal is the SQLite
   * store's VIGIL_ERR_STORE_CONFLICT.
   */
  async saveAction(a: ActionRecord, options: { fence?: Fence } = {}): Promise<void> {
    const s = this.s;
    try {
      await this.fenced(options.fence,
        `INSERT INTO ${s}.remediation_actions (id, incident_id, idempotency_key, model, action, type, status, reason, created_at,
           started_at, ended_at, expires_at, attempts, error, details, plan, decided_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (id) DO UPDATE SET incident_id = EXCLUDED.incident_id, idempotency_key = EXCLUDED.idempotency_key, model = EXCLUDED.model,
           action = EXCLUDED.action, type = EXCLUDED.type, status = EXCLUDED.status, reason = EXCLUDED.reason, created_at = EXCLUDED.created_at,
           started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, expires_at = EXCLUDED.expires_at, attempts = EXCLUDED.attempts,
           error = EXCLUDED.error, details = EXCLUDED.details, plan = EXCLUDED.plan, decided_by = EXCLUDED.decided_by,
           updated_at = EXCLUDED.updated_at, save_order = EXCLUDED.save_order`,
        actionParams(a),
      );
    } catch (e) {
      const pgError = e as { code?: unknown; constraint?: unknown };
      if (pgError.code !== '23505' || pgError.constraint !== 'remediation_actions_idempotency_key') throw e;
      const holder = (await this.read<{ id: string }>(`SELECT id FROM ${s}.remediation_actions WHERE idempotency_key = $1`, [a.idempotencyKey])).rows[0]?.id ?? 'another action';
      throw new VigilError('VIGIL_ERR_STORE_CONFLICT', `action ${holder} already holds idempotency key ${a.idempotencyKey}`, { statusCode: 409 });
    }
  }

  async getAction(id: string): Promise<ActionRecord | undefined> {
    const r = await this.read<ActionRow>(`SELECT * FROM ${this.s}.remediation_actions WHERE id = $1`, [id]);
    const row = r.rows[0];
    return row === undefined ? undefined : actionOf(row);
  }

  async listActions(f: ActionFilter): Promise<ActionRecord[]> {
    const w = new Where();
    if (f.incidentId !== undefined) w.add('incident_id = $', f.incidentId);
    if (f.incidentIds !== undefined) w.add('incident_id = ANY($::text[])', f.incidentIds);
    if (f.model !== undefined) w.add('model = $', f.model);
    if (f.action !== undefined) w.add('action = $', f.action);
    if (f.status !== undefined) w.add('status = $', f.status);
    if (f.since !== undefined) w.add('created_at >= $', intBound(f.since));
    if (f.until !== undefined) w.add('created_at < $', intBound(f.until));
    const limit = w.param(Math.min(f.limit ?? MAX_LIST, MAX_LIST));
    const r = await this.read<ActionRow>(`SELECT * FROM ${this.s}.remediation_actions ${w.toString()} ORDER BY created_at DESC, save_order DESC LIMIT ${limit}`, w.values);
    return r.rows.map(actionOf);
  }

  async pruneIncidents(beforeTs: number): Promise<{ incidents: number; actions: number }> {
    const s = this.s;
    return this.tx(async (c) => {
      const actions = await c.query(
        `DELETE FROM ${s}.remediation_actions WHERE incident_id IN (SELECT id FROM ${s}.incidents WHERE status = 'resolved' AND resolved_at < $1)`,
        [intBound(beforeTs)],
      );
      const incidents = await c.query(`DELETE FROM ${s}.incidents WHERE status = 'resolved' AND resolved_at < $1`, [intBound(beforeTs)]);
      return { incidents: incidents.rowCount ?? 0, actions: actions.rowCount ?? 0 };
    });
  }

  async saveCircuit(c: CircuitRecord, options: { fence?: Fence } = {}): Promise<void> {
    await this.fenced(options.fence,
      `INSERT INTO ${this.s}.circuit_breakers (model, state, since, reason, incident_id, probe_until, manual, generation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (model) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since, reason = EXCLUDED.reason, incident_id = EXCLUDED.incident_id,
         probe_until = EXCLUDED.probe_until, manual = EXCLUDED.manual, generation = EXCLUDED.generation`,
      [c.model, c.state, c.since, c.reason, c.incidentId, c.probeUntil, c.manual, c.generation],
    );
  }

  async listCircuits(): Promise<CircuitRecord[]> {
    return (await this.read<CircuitRow>(`SELECT * FROM ${this.s}.circuit_breakers ORDER BY model`)).rows.map(circuitOf);
  }

  async getState(key: string): Promise<string | undefined> {
    return (await this.read<{ value: string }>(`SELECT value FROM ${this.s}.state WHERE key = $1`, [key])).rows[0]?.value;
  }

  async setState(key: string, value: string, now: number): Promise<void> {
    await this.q(
      `INSERT INTO ${this.s}.state (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
      [key, value, now],
    );
  }

  /**
   * One transaction, a statement per kind of change. A write's repeats are merged first (a series
   * given twice: the last wins, as consecutive replaces would; appends of one time: concatenated in
   * order), since one INSERT … ON CONFLICT DO UPDATE may not touch a row twice.
   */
  async writeRuleHistory(w: RuleHistoryWrite): Promise<void> {
    this.check();
    const s = this.s;
    const series = new Map<number, RuleHistorySeries>();
    for (const r of w.series) {
      series.delete(r.id); // re-inserted: in the order of its last occurrence
      series.set(r.id, r);
    }
    const appends = new Map<number, Uint8Array[]>();
    for (const a of w.appends) {
      if (a.data.length === 0) continue;
      const list = appends.get(a.t);
      if (list === undefined) appends.set(a.t, [a.data]);
      else list.push(a.data);
    }
    await this.tx(async (c) => {
      if (series.size > 0) {
        const rows = [...series.values()];
        await c.query(
          `INSERT INTO ${s}.rule_history_series (id, labels, writer) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
           ON CONFLICT (id) DO UPDATE SET labels = EXCLUDED.labels, writer = EXCLUDED.writer`,
          [rows.map((r) => r.id), rows.map((r) => r.labels), rows.map((r) => r.writer)],
        );
      }
      if (w.deletedSeries.length > 0) await c.query(`DELETE FROM ${s}.rule_history_series WHERE id = ANY($1::bigint[])`, [w.deletedSeries]);
      if (appends.size > 0) {
        const ts = [...appends.keys()];
        const data = ts.map((t) => Buffer.concat(appends.get(t) as Uint8Array[]));
        await c.query(
          `INSERT INTO ${s}.rule_history AS h (t, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])
           ON CONFLICT (t) DO UPDATE SET data = h.data || EXCLUDED.data`,
          [ts, data],
        );
      }
      await c.query(`DELETE FROM ${s}.rule_history WHERE t < $1`, [intBound(w.pruneBefore)]);
    });
  }

  /**
   * Read in one snapshot (a read-only repeatable-read transaction: the series and the appends agree
   * even while another replica writes), the appends in pages of HISTORY_PAGE_ROWS in the order of
   * their key (INDEX_ORDER, pg-reads.ts).
   */
  async readRuleHistory(): Promise<{ series: RuleHistorySeries[]; appends: { t: number; data: Uint8Array }[] }> {
    const s = this.s;
    const read = async (c: PoolClient): Promise<{ series: RuleHistorySeries[]; appends: { t: number; data: Uint8Array }[] }> => {
      const series = (await c.query<RuleHistorySeries>(`SELECT id, labels, writer FROM ${s}.rule_history_series ORDER BY id`)).rows;
      const appends: { t: number; data: Uint8Array }[] = [];
      let after: number | null = null;
      for (;;) {
        const rows: { t: number; data: Buffer }[] = (
          await c.query<{ t: number; data: Buffer }>(
            `SELECT t, data FROM ${s}.rule_history ${after === null ? '' : 'WHERE t > $2'} ORDER BY t LIMIT $1`,
            after === null ? [HISTORY_PAGE_ROWS] : [HISTORY_PAGE_ROWS, after],
          )
        ).rows;
        for (const r of rows) appends.push({ t: r.t, data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) });
        const last = rows[rows.length - 1];
        if (rows.length < HISTORY_PAGE_ROWS || last === undefined) break;
        after = last.t;
      }
      return { series, appends };
    };
    return this.tx(read, `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${INDEX_ORDER}`, true);
  }


  /** One statement (atomic): the batch's own repeats of an SLO and minute summed first, then added to the stored counts. */
  async addSloMinutes(rows: readonly SloMinute[]): Promise<void> {
    this.check();
    if (rows.length === 0) return;
    await this.q(
      `INSERT INTO ${this.s}.slo_minutes AS m (slo, minute, good, total)
       SELECT u.slo, u.minute, sum(u.good), sum(u.total) FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[]) AS u (slo, minute, good, total)
       GROUP BY u.slo, u.minute
       ON CONFLICT (slo, minute) DO UPDATE SET good = m.good + EXCLUDED.good, total = m.total + EXCLUDED.total`,
      [rows.map((r) => r.slo), rows.map((r) => r.minute), rows.map((r) => r.good), rows.map((r) => r.total)],
    );
  }

  async readSloMinutes(slo: string, fromMinute: number): Promise<SloMinute[]> {
    return (await this.read<SloMinute>(`SELECT slo, minute, good, total FROM ${this.s}.slo_minutes WHERE slo = $1 AND minute >= $2 ORDER BY minute`, [slo, intBound(fromMinute)])).rows;
  }

  async readSloHours(slo: string, fromMinute: number, beforeMinute: number): Promise<{ hour: number; good: number; total: number }[]> {
    return (
      await this.read<{ hour: number; good: number; total: number }>(
        `SELECT minute / 60 AS hour, sum(good) AS good, sum(total) AS total FROM ${this.s}.slo_minutes
         WHERE slo = $1 AND minute >= $2 AND minute < $3 GROUP BY minute / 60 ORDER BY hour`,
        [slo, intBound(fromMinute), intBound(beforeMinute)],
      )
    ).rows;
  }

  async pruneSloMinutes(beforeMinute: number): Promise<number> {
    return (await this.q(`DELETE FROM ${this.s}.slo_minutes WHERE minute < $1`, [intBound(beforeMinute)])).rowCount ?? 0;
  }

  /**
   * Open and answering, as far as the last statement knows. While it is false each call starts a
   * probe (one at a time), so the store turns healthy again once the server answers even when
   * nothing else queries it.
   */
  healthy(): boolean {
    if (!this.open) return false;
    if (!this.up) this.probe();
    return this.up;
  }

  /** Ends the pool (the calls in flight finish first). */
  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.pool.end();
  }
}
