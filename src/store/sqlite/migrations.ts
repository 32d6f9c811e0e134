import type { Database } from 'better-sqlite3';

/** Versioned schema migrations, applied in order, each in its own transaction. Never edit one
 *  that has shipped: add a new one. */
export interface Migration {
  version: number;
  name: string;
  up: string;
  /** Rewrites existing rows after `up`, in the same transaction (what SQL alone cannot do). */
  data?: (db: Database) => void;
}

type SummaryEntry = { kind?: unknown; sortedBase64?: unknown };

/**
 * Migration 6: a baseline saved before it kept each numeric reference's sorted values inside its
 * summary JSON, as `sortedBase64` (little-endian float64, base64). They move to
 * `baseline_references` as the same bytes, and the JSON loses the field. An entry whose base64 does
 * not decode to whole float64 values is left as it was: that baseline stays unreadable, as it was.
 */
function moveReferencesOutOfSummaries(db: Database): void {
  const ids = (db.prepare(`SELECT id FROM baselines WHERE instr(summary, '"sortedBase64"') > 0 ORDER BY id`).all() as { id: number }[]).map((r) => r.id);
  const read = db.prepare('SELECT summary FROM baselines WHERE id = ?');
  const write = db.prepare('UPDATE baselines SET summary = ? WHERE id = ?');
  const insert = db.prepare('INSERT INTO baseline_references (baseline_id, kind, name, sorted) VALUES (?, ?, ?, ?)');
  for (const id of ids) {
    const summary = JSON.parse((read.get(id) as { summary: string }).summary) as { features?: Record<string, SummaryEntry>; prediction?: SummaryEntry; label?: SummaryEntry };
    let moved = 0;
    const move = (kind: 'feature' | 'prediction' | 'label', name: string, e: SummaryEntry | undefined): void => {
      if (e === undefined || e === null || typeof e !== 'object' || e.kind !== 'numeric' || typeof e.sortedBase64 !== 'string') return;
      const bytes = Buffer.from(e.sortedBase64, 'base64');
      if (bytes.length === 0 || bytes.length % 8 !== 0) return;
      insert.run(id, kind, name, bytes);
      delete e.sortedBase64;
      moved++;
    };
    for (const [name, e] of Object.entries(summary.features ?? {})) move('feature', name, e);
    move('prediction', '', summary.prediction);
    move('label', '', summary.label);
    if (moved > 0) write.run(JSON.stringify(summary), id);
  }
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'predictions and labels',
    up: `
      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE predictions (
        model TEXT NOT NULL,
        id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        version TEXT NOT NULL,
        features TEXT NOT NULL,
        prediction ANY NOT NULL,
        score TEXT,
        latency_ms REAL,
        segment TEXT,
        error TEXT,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (model, id)
      ) STRICT;
      CREATE INDEX predictions_model_ts ON predictions (model, ts);
      CREATE TABLE labels (
        model TEXT NOT NULL,
        id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        label ANY NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (model, id)
      ) STRICT;
      CREATE INDEX labels_model_ts ON labels (model, ts);
    `,
  },
  {
    version: 2,
    name: 'daemon state',
    up: `
      CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'baselines',
    up: `
      CREATE TABLE baselines (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        source TEXT NOT NULL,
        rows INTEGER NOT NULL,
        summary TEXT NOT NULL
      ) STRICT;
      CREATE INDEX baselines_model ON baselines (model, id);
    `,
  },
  {
    version: 4,
    name: 'silences and notification outbox',
    up: `
      CREATE TABLE silences (
        id TEXT PRIMARY KEY,
        matchers TEXT NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        comment TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        receiver TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: 'remediation: incidents, action records, circuit breakers',
    up: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        alertname TEXT NOT NULL,
        model TEXT NOT NULL,
        labels TEXT NOT NULL,
        annotations TEXT NOT NULL,
        fired_at INTEGER NOT NULL,
        resolved_at INTEGER,
        status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX incidents_fired ON incidents (fired_at DESC);
      CREATE INDEX incidents_model ON incidents (model, fired_at DESC);
      CREATE INDEX incidents_open ON incidents (status) WHERE status = 'open';
      CREATE TABLE remediation_actions (
        id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        model TEXT NOT NULL,
        action TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        expires_at INTEGER,
        attempts INTEGER NOT NULL,
        error TEXT,
        details TEXT NOT NULL,
        plan TEXT NOT NULL,
        decided_by TEXT,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX remediation_actions_incident ON remediation_actions (incident_id);
      CREATE INDEX remediation_actions_created ON remediation_actions (created_at DESC);
      CREATE INDEX remediation_actions_model ON remediation_actions (model, action, created_at DESC);
      CREATE TABLE circuit_breakers (
        model TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
        since INTEGER NOT NULL,
        reason TEXT NOT NULL,
        incident_id TEXT,
        probe_until INTEGER,
        manual INTEGER NOT NULL,
        generation INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'baseline reference values as float64 blobs, out of the summary JSON',
    up: `
      CREATE TABLE baseline_references (
        baseline_id INTEGER NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('feature', 'prediction', 'label')),
        name TEXT NOT NULL,
        sorted BLOB NOT NULL CHECK (length(sorted) > 0 AND length(sorted) % 8 = 0),
        PRIMARY KEY (baseline_id, kind, name)
      ) STRICT;
    `,
    data: moveReferencesOutOfSummaries,
  },
  {
    version: 7,
    name: 'packed predictions: the hot windows\' features and score as bytes beside the JSON',
    // NULL for rows stored before: the rebuild reads their JSON (store/packed.ts)
    up: `ALTER TABLE predictions ADD COLUMN packed BLOB;`,
  },
  {
    version: 8,
    name: 'prediction features in their own table: a predictions row holds what the hot windows read',
    // A row of 70 features took a whole 4 KB page with its JSON (~1.7 KB) inline, so the start-up
    // rebuild read every page of the table (800,000 rows: 3.4 GB through the page cache, 4.4 s).
    // Rows stored from now on keep their JSON in prediction_features, linked by an explicit
    // INTEGER PRIMARY KEY (persistent: VACUUM may renumber an implicit rowid), and '' inline; rows
    // stored before keep theirs inline (no rewrite of a large table at upgrade). Readers take
    // coalesce(prediction_features.features, predictions.features). The trigger deletes a row's
    // JSON with it, whatever deletes it (retention, or an operator's SQL).
    up: `
      CREATE TABLE prediction_features (
        ref INTEGER PRIMARY KEY,
        features TEXT NOT NULL
      ) STRICT;
      ALTER TABLE predictions ADD COLUMN features_ref INTEGER;
      CREATE TRIGGER predictions_features_delete AFTER DELETE ON predictions
        WHEN old.features_ref IS NOT NULL
        BEGIN DELETE FROM prediction_features WHERE ref = old.features_ref; END;
    `,
  },
  {
    version: 9,
    name: 'rule history: the samples range selectors read, kept across restarts',
    // One row per evaluation time (12 bytes a sample, alerting/history-store.ts) and a dictionary
    // of the series they name; pruned at alerting.history.retention.
    up: `
      CREATE TABLE rule_history_series (
        id INTEGER PRIMARY KEY,
        labels TEXT NOT NULL,
        writer TEXT NOT NULL
      ) STRICT;
      CREATE TABLE rule_history (
        t INTEGER PRIMARY KEY,
        data BLOB NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 10,
    name: 'SLO counts: good and total events per SLO and minute',
    // What the SLIs read over their burn-rate windows and their 28- or 30-day period (slo/counters.ts):
    // 1,440 rows an SLO a day, kept for the period.
    up: `
      CREATE TABLE slo_minutes (
        slo TEXT NOT NULL,
        minute INTEGER NOT NULL,
        good REAL NOT NULL,
        total REAL NOT NULL,
        PRIMARY KEY (slo, minute)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX slo_minutes_minute ON slo_minutes (minute);
    `,
  },
  {
    version: 11,
    name: 'segment references: a baseline keeps reference values per segment',
    // kind 'segment': name is the JSON of [segment, kind, name] (monitors/baseline.ts). SQLite cannot
    // change a CHECK in place: the table is rebuilt, its rows copied as they are.
    up: `
      CREATE TABLE baseline_references_v11 (
        baseline_id INTEGER NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('feature', 'prediction', 'label', 'segment')),
        name TEXT NOT NULL,
        sorted BLOB NOT NULL CHECK (length(sorted) > 0 AND length(sorted) % 8 = 0),
        PRIMARY KEY (baseline_id, kind, name)
      ) STRICT;
      INSERT INTO baseline_references_v11 (baseline_id, kind, name, sorted) SELECT baseline_id, kind, name, sorted FROM baseline_references;
      DROP TABLE baseline_references;
      ALTER TABLE baseline_references_v11 RENAME TO baseline_references;
    `,
  },
  {
    version: 12,
    name: "a prediction's trace context (the serving request's W3C traceparent)",
    up: `ALTER TABLE predictions ADD COLUMN traceparent TEXT;`,
  },
];

/** Applies every migration newer than the database's version; returns the versions applied. */
export function migrate(db: Database, now: number, upTo: number = Number.POSITIVE_INFINITY): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const current = (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this Vigil (${latest}): upgrade Vigil or use another file`);
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > upTo) continue;
    db.transaction(() => {
      db.exec(m.up);
      m.data?.(db);
      record.run(m.version, m.name, now);
    })();
    applied.push(m.version);
  }
  return applied;
}
