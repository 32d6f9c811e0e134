/**
 * The PostgreSQL store's schema: versioned migrations, applied in order, each in its own
 * transaction, under a session-level advisory lock so that several Vigil replicas opening an empty
 * database at the same moment apply each one exactly once. Never edit one that has shipped: add a
 * new one.
 *
 * The tables mirror the SQLite store's (sqlite/migrations.ts at its version 11), with what
 * PostgreSQL does differently:
 * - epoch milliseconds are `bigint` (read back as JS numbers: the store's pool parses int8);
 * - a target (prediction or label: a class name or a regression value) is two columns, text or
 *   double precision, exactly one set, so that it reads back with its JS type as SQLite's ANY
 *   column does;
 * - sequence numbers are a `seq` column assigned from a counter row (`counters`) inside the
 *   writing statement, not a rowid: see pg-writes.ts for why that makes seq order commit order;
 * - keys and the text columns results are ordered by use the "C" collation: byte order, as SQLite
 *   compares, whatever the database's locale (and cheaper to compare);
 * - binary values (packed predictions, reference values, rule history) are `bytea`.
 */
import type { ClientBase } from 'pg';
import { VigilError } from '../../core/errors.js';

export interface PgMigration {
  version: number;
  name: string;
  /** The statements, for the store's schema (a quoted identifier). */
  up: (s: string) => string;
}

/** Schema names the store accepts (as storage.schema does): a lower-case SQL identifier. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** An identifier quoted for SQL. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * The advisory lock the migrations run under: this class and the hash of the schema's name, so
 * that stores of different schemas in one database do not wait for each other.
 */
export const MIGRATION_LOCK_CLASS = 0x5649_4731; // 'VIG1'

export const MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'predictions and labels, with their sequence counters',
    // The counters are rows, not sequences: a writer updates its counter's row in the statement
    // that stores the batch, so the row lock orders writers until they commit (pg-writes.ts).
    // Features JSON in a table of its own (as SQLite's migration 8): the predictions rows hold what
    // the hot windows read, so the rebuild's pages touch fewer heap pages. It goes with its
    // prediction whatever deletes it (retention, or an operator's SQL): ON DELETE CASCADE.
    up: (s) => `
      CREATE TABLE ${s}.counters (
        name text COLLATE "C" PRIMARY KEY,
        value bigint NOT NULL
      );
      INSERT INTO ${s}.counters (name, value) VALUES ('prediction_seq', 0), ('label_seq', 0);
      CREATE TABLE ${s}.models (
        name text COLLATE "C" PRIMARY KEY,
        first_seen bigint NOT NULL
      );
      CREATE TABLE ${s}.predictions (
        model text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        ts bigint NOT NULL,
        version text COLLATE "C" NOT NULL,
        prediction_text text,
        prediction_number double precision,
        score text,
        latency_ms double precision,
        segment text,
        error text,
        received_at bigint NOT NULL,
        packed bytea,
        PRIMARY KEY (model, id),
        CONSTRAINT predictions_one_target CHECK ((prediction_text IS NULL) <> (prediction_number IS NULL))
      );
      CREATE UNIQUE INDEX predictions_seq ON ${s}.predictions (seq);
      CREATE INDEX predictions_model_ts ON ${s}.predictions (model, ts, seq);
      CREATE TABLE ${s}.prediction_features (
        seq bigint PRIMARY KEY REFERENCES ${s}.predictions (seq) ON DELETE CASCADE,
        features text NOT NULL
      );
      CREATE TABLE ${s}.labels (
        model text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        ts bigint NOT NULL,
        label_text text,
        label_number double precision,
        received_at bigint NOT NULL,
        PRIMARY KEY (model, id),
        CONSTRAINT labels_one_target CHECK ((label_text IS NULL) <> (label_number IS NULL))
      );
      CREATE UNIQUE INDEX labels_seq ON ${s}.labels (seq);
      CREATE INDEX labels_model_ts ON ${s}.labels (model, ts);
    `,
  },
  {
    version: 2,
    name: 'daemon state',
    up: (s) => `
      CREATE TABLE ${s}.state (
        key text COLLATE "C" PRIMARY KEY,
        value text NOT NULL,
        updated_at bigint NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'baselines and their reference values',
    // One baseline per (model, version): the unique key holds it whatever writes. Reference values
    // are little-endian float64 bytes stored uncompressed out of line (EXTERNAL): sorted doubles
    // do not compress, and substring() of an EXTERNAL value reads only the chunks it needs.
    up: (s) => `
      CREATE TABLE ${s}.baselines (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model text COLLATE "C" NOT NULL,
        version text COLLATE "C" NOT NULL,
        created_at bigint NOT NULL,
        source text NOT NULL,
        rows bigint NOT NULL,
        summary text NOT NULL,
        CONSTRAINT baselines_model_version UNIQUE (model, version)
      );
      CREATE INDEX baselines_model ON ${s}.baselines (model, id);
      CREATE TABLE ${s}.baseline_references (
        baseline_id bigint NOT NULL REFERENCES ${s}.baselines (id) ON DELETE CASCADE,
        kind text COLLATE "C" NOT NULL CHECK (kind IN ('feature', 'prediction', 'label', 'segment')),
        name text COLLATE "C" NOT NULL,
        sorted bytea NOT NULL CHECK (octet_length(sorted) > 0 AND octet_length(sorted) % 8 = 0),
        PRIMARY KEY (baseline_id, kind, name)
      );
      ALTER TABLE ${s}.baseline_references ALTER COLUMN sorted SET STORAGE EXTERNAL;
    `,
  },
  {
    version: 4,
    name: 'silences and notification outbox',
    up: (s) => `
      CREATE TABLE ${s}.silences (
        id text COLLATE "C" PRIMARY KEY,
        matchers text NOT NULL,
        starts_at bigint NOT NULL,
        ends_at bigint NOT NULL,
        created_by text NOT NULL,
        comment text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE ${s}.outbox (
        id text COLLATE "C" PRIMARY KEY,
        receiver text NOT NULL,
        payload text NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at bigint NOT NULL,
        created_at bigint NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'remediation: incidents, action records, circuit breakers',
    // save_order: renewed on every save, as SQLite's INSERT OR REPLACE renews a rowid; action
    // records of the same creation time list the one saved last first, as they do there.
    up: (s) => `
      CREATE TABLE ${s}.incidents (
        id text COLLATE "C" PRIMARY KEY,
        fingerprint text NOT NULL,
        alertname text NOT NULL,
        model text COLLATE "C" NOT NULL,
        labels text NOT NULL,
        annotations text NOT NULL,
        fired_at bigint NOT NULL,
        resolved_at bigint,
        status text NOT NULL CHECK (status IN ('open', 'resolved')),
        created_at bigint NOT NULL
      );
      CREATE INDEX incidents_fired ON ${s}.incidents (fired_at DESC);
      CREATE INDEX incidents_model ON ${s}.incidents (model, fired_at DESC);
      CREATE INDEX incidents_open ON ${s}.incidents (status) WHERE status = 'open';
      CREATE TABLE ${s}.remediation_actions (
        id text COLLATE "C" PRIMARY KEY,
        incident_id text COLLATE "C" NOT NULL,
        idempotency_key text COLLATE "C",
        model text COLLATE "C" NOT NULL,
        action text NOT NULL,
        type text NOT NULL,
        status text NOT NULL,
        reason text NOT NULL,
        created_at bigint NOT NULL,
        started_at bigint,
        ended_at bigint,
        expires_at bigint,
        attempts integer NOT NULL,
        error text,
        details text NOT NULL,
        plan text NOT NULL,
        decided_by text,
        updated_at bigint NOT NULL,
        save_order bigint GENERATED BY DEFAULT AS IDENTITY,
        CONSTRAINT remediation_actions_idempotency_key UNIQUE (idempotency_key)
      );
      CREATE INDEX remediation_actions_incident ON ${s}.remediation_actions (incident_id);
      CREATE INDEX remediation_actions_created ON ${s}.remediation_actions (created_at DESC, save_order DESC);
      CREATE INDEX remediation_actions_model ON ${s}.remediation_actions (model, action, created_at DESC);
      CREATE TABLE ${s}.circuit_breakers (
        model text COLLATE "C" PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
        since bigint NOT NULL,
        reason text NOT NULL,
        incident_id text,
        probe_until bigint,
        manual boolean NOT NULL,
        generation bigint NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'rule history: the samples range selectors read, kept across restarts',
    // One row per evaluation time (12 bytes a sample, alerting/history-store.ts) and a dictionary
    // of the series they name; pruned at alerting.history.retention.
    up: (s) => `
      CREATE TABLE ${s}.rule_history_series (
        id bigint PRIMARY KEY,
        labels text NOT NULL,
        writer text NOT NULL
      );
      CREATE TABLE ${s}.rule_history (
        t bigint PRIMARY KEY,
        data bytea NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'SLO counts: good and total events per SLO and minute',
    up: (s) => `
      CREATE TABLE ${s}.slo_minutes (
        slo text COLLATE "C" NOT NULL,
        minute bigint NOT NULL,
        good double precision NOT NULL,
        total double precision NOT NULL,
        PRIMARY KEY (slo, minute)
      );
      CREATE INDEX slo_minutes_minute ON ${s}.slo_minutes (minute);
    `,
  },
  {
    version: 8,
    name: 'the leader lease: one replica acts, its epoch fences the others',
    // One row. `expires_at` is the database's own time in ms (clock_timestamp()), so the replicas'
    // clocks never matter; `epoch` goes up each time the lease changes hands (or lapses).
    up: (s) => `
      CREATE TABLE ${s}.leader_lease (
        name text COLLATE "C" PRIMARY KEY,
        holder text,
        epoch bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      INSERT INTO ${s}.leader_lease (name, holder, epoch, expires_at) VALUES ('leader', NULL, 0, 0);
    `,
  },
  {
    version: 9,
    name: 'packed layouts: a row packed exactly keeps no features JSON',
    // A layout's definition (its features' names and types in order, and whether it holds class
    // scores) under its key, the u32 every row packed with it starts with (packed.ts). A row whose
    // packed form holds its features exactly has no prediction_features row: a reader rebuilds the
    // features from the packed bytes with the layout found here (pg-layouts.ts).
    up: (s) => `
      CREATE TABLE ${s}.pack_layouts (
        key bigint PRIMARY KEY,
        definition text NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: "a prediction's trace context (the serving request's W3C traceparent)",
    up: (s) => `ALTER TABLE ${s}.predictions ADD COLUMN traceparent text;`,
  },
  {
    version: 11,
    name: "KServe halves waiting for their other half, shared by the replicas",
    // One row per half (src/ingest/kserve-join.ts): a request and its response that two replicas
    // took meet here. `data` is the event's JSON body; `received_at` the time it came (expiry).
    up: (s) => `
      CREATE TABLE ${s}.kserve_pending (
        model text COLLATE "C" NOT NULL,
        component text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        half text NOT NULL CHECK (half IN ('request', 'response')),
        endpoint text NOT NULL,
        time bigint,
        data text NOT NULL,
        bytes integer NOT NULL,
        received_at bigint NOT NULL,
        PRIMARY KEY (model, component, id, half)
      );
      CREATE INDEX kserve_pending_received ON ${s}.kserve_pending (received_at);
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Brings `schema` up to date on `client` (a connection of its own: the advisory lock is the
 * session's): takes the lock — a second process opening the same database waits here until the
 * first is done, then finds nothing left to do — creates the schema when missing, reads the
 * versions applied, applies each missing one in its own transaction, and lets the lock go (the
 * server drops it anyway if the connection is lost). Returns the versions applied.
 */
export async function migrate(client: ClientBase, schema: string, now: number, upTo: number = Number.POSITIVE_INFINITY): Promise<number[]> {
  if (!SCHEMA_NAME.test(schema)) throw new VigilError('VIGIL_ERR_STORE_OPEN', `the schema name "${schema}" is not a lower-case SQL identifier (letters, digits, _)`);
  const s = quoteIdent(schema);
  await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
  try {
    // Created only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the
    // database even when the schema exists, which a least-privilege role may not have.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    )`);
    const current = Number((await client.query<{ v: number }>(`SELECT coalesce(max(version), 0) AS v FROM ${s}.schema_migrations`)).rows[0]?.v ?? 0);
    if (current > LATEST_VERSION) {
      throw new VigilError('VIGIL_ERR_STORE_OPEN', `the database schema "${schema}" is at version ${current}, newer than this Vigil (${LATEST_VERSION}): upgrade Vigil or use another schema`);
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current || m.version > upTo) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.up(s));
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, now]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined); // the connection may be gone: its transaction with it
        throw e;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]).catch(() => undefined);
  }
}
