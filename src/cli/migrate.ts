/**
 * `vigil migrate --from sqlite:PATH --to postgres://…`: copies a SQLite store into an empty
 * PostgreSQL one (predictions with their arrival times, labels, baselines with their references,
 * incidents, action records, circuits, silences, the notification outbox, the daemon's state, the
 * rule history and the SLO counts), then checks that both hold the same counts. Stop the daemon
 * first: rows it writes meanwhile would make the counts differ (and the check says so).
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { ModelConfig } from '../config/schema.js';
import { systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { modelLayout, type PackLayout } from '../store/packed.js';
import { openPostgres, redactUrl } from '../store/open.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ActionRecord, IncidentRecord, LabelRecord, PredictionRecord, SloMinute, Store, Target } from '../store/store.js';
import type { CliIo } from './args.js';
import { defineCommand, loadConfigForCli, parseCommand, usageOf } from './args.js';
import { progressOf } from './progress.js';

export const MIGRATE_COMMAND = defineCommand({
  name: 'migrate',
  summary:
    'Copy a SQLite store into an empty PostgreSQL database (storage.backend: postgres), then check that both\n' +
    'hold the same counts: predictions (with their arrival times), labels, baselines and their reference values,\n' +
    'incidents, action records, circuits, silences, the notification outbox, the state, the rule history and the\n' +
    'SLO counts. Stop the daemon first. The password comes from the URL, --password-file or PGPASSWORD.',
  notes: 'Exit codes: 0 copied and verified, 1 the copy failed or the counts differ, 2 bad usage (or the target is not empty).',
  flags: {
    from: { kind: 'string', arg: 'sqlite:PATH', required: true, help: 'the SQLite store to copy (e.g. sqlite:./data/vigil.db)' },
    to: { kind: 'string', arg: 'URL', required: true, help: 'the PostgreSQL database: postgres://USER@HOST:PORT/DATABASE' },
    schema: { kind: 'string', arg: 'NAME', help: "the schema to copy into (storage.schema; default 'vigil')" },
    'password-file': { kind: 'file', arg: 'FILE', help: 'a file holding the password' },
    config: { kind: 'file', short: 'c', arg: 'FILE', help: "Vigil's configuration: predictions of its models are also stored packed, for a fast hot-window rebuild" },
  },
});

/** Rows a batch at most (predictions and labels: consecutive rows of one model that arrived together). */
const BATCH = 2000;

interface Counts {
  [what: string]: number;
}

export async function runMigrate(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(MIGRATE_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(MIGRATE_COMMAND));
    return 0;
  }
  const { values } = parsed;
  const progress = progressOf(io, 'vigil migrate');
  const fail = (code: number, message: string): number => {
    progress.clear();
    io.stderr(`vigil migrate: ${message}\n`);
    return code;
  };
  if (!values.from.startsWith('sqlite:') || values.from.length <= 'sqlite:'.length) return fail(2, `--from must be sqlite:PATH, not "${values.from}"`);
  const path = values.from.slice('sqlite:'.length);
  if (!/^postgres(ql)?:\/\//.test(values.to)) return fail(2, `--to must be a postgres:// URL, not "${redactUrl(values.to)}"`);
  let layouts = new Map<string, PackLayout>();
  if (values.config !== undefined) {
    const loaded = await loadConfigForCli(values.config, io, env, { ruleFiles: false });
    if (loaded === null) return 2;
    layouts = new Map(loaded.config.models.map((m: ModelConfig) => [m.name, modelLayout(m)]));
  }
  let password: string | undefined = env.PGPASSWORD;
  if (values['password-file'] !== undefined) {
    try {
      password = readFileSync(values['password-file'], 'utf8').trim();
    } catch (e) {
      return fail(2, `--password-file: cannot read ${values['password-file']}: ${errorMessage(e)}`);
    }
  }
  const logger = createLogger({ level: 'silent' });
  const now = systemClock.now();
  // opening it brings an older file's schema up to date, as the daemon would
  let source: SqliteStore;
  try {
    source = new SqliteStore({ path, now, pageReader: 'main', writer: 'main' });
  } catch (e) {
    return fail(2, `--from: cannot open ${path}: ${errorMessage(e)}`);
  }
  let target: Store;
  try {
    target = await openPostgres(values.to, { ...(password === undefined || password === '' ? {} : { password }), schema: values.schema ?? 'vigil', logger, now, applicationName: 'vigil migrate' });
  } catch (e) {
    await source.close();
    return fail(1, `--to: cannot open ${redactUrl(values.to)}: ${errorMessage(e)}`);
  }
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    if ((await target.lastPredictionSeq()) > 0 || (await target.baselineGeneration()) > 0 || (await target.listIncidents({ limit: 1 })).length > 0) {
      return fail(2, `${redactUrl(values.to)} (schema ${values.schema ?? 'vigil'}) already holds data: migrate into an empty database or schema`);
    }
    const copied = await copy(db, source, target, layouts, (stage) => progress.stage(stage));
    progress.stage('verifying the counts');
    const [want, got] = [await sourceCounts(db, source), await targetCounts(target, db)];
    progress.done();
    const differ = Object.keys(want).filter((k) => want[k] !== got[k]);
    for (const k of Object.keys(want)) io.stdout(`${k.padEnd(28)} ${String(want[k]).padStart(12)} ${got[k] === want[k] ? 'copied' : `≠ ${got[k]} in PostgreSQL`}\n`);
    if (differ.length > 0) return fail(1, `the counts differ (${differ.join(', ')}): was the daemon still writing? Nothing was deleted from ${path}`);
    io.stdout(`migrated ${path} to ${redactUrl(values.to)} in ${((systemClock.now() - now) / 1000).toFixed(1)} s (${copied.predictions.toLocaleString('en-US')} predictions); set storage.backend: postgres and storage.url to use it\n`);
    return 0;
  } catch (e) {
    return fail(1, `the copy failed: ${errorMessage(e)} (the target may hold part of the data: drop its schema before trying again)`);
  } finally {
    db.close();
    await source.close();
    await target.close();
  }
}

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** Copies everything, table by table, in the order the daemon wrote it. */
async function copy(db: Database.Database, source: SqliteStore, target: Store, layouts: ReadonlyMap<string, PackLayout>, stage: (s: string) => void): Promise<{ predictions: number }> {
  const models = (db.prepare('SELECT DISTINCT model FROM predictions UNION SELECT DISTINCT model FROM labels UNION SELECT DISTINCT model FROM baselines ORDER BY 1').all() as { model: string }[]).map((r) => r.model);
  let predictions = 0;
  for (const model of models) {
    stage(`copying the predictions of ${model}`);
    // in the order they were stored (their sequence), a batch per arrival
    const rows = db
      .prepare(
        `SELECT p.id, p.ts, p.version, coalesce(f.features, p.features) AS features, p.prediction, p.score, p.latency_ms, p.segment, p.error, p.received_at, p.traceparent
         FROM predictions p LEFT JOIN prediction_features f ON f.ref = p.features_ref WHERE p.model = ? ORDER BY p.rowid`,
      )
      .iterate(model) as IterableIterator<{ id: string; ts: number; version: string; features: string; prediction: Target; score: string | null; latency_ms: number | null; segment: string | null; error: string | null; received_at: number; traceparent: string | null }>;
    let batch: PredictionRecord[] = [];
    let at = NaN;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const layout = layouts.get(model);
      const r = await target.insertPredictions(model, batch, at, layout);
      if (r.duplicates.length > 0) throw new Error(`${r.duplicates.length} prediction(s) of ${model} were in PostgreSQL already`);
      predictions += batch.length;
      batch = [];
    };
    for (const r of rows) {
      if (r.received_at !== at || batch.length >= BATCH) {
        await flush();
        at = r.received_at;
      }
      batch.push({
        id: r.id,
        ts: r.ts,
        version: r.version,
        features: JSON.parse(r.features) as PredictionRecord['features'],
        prediction: r.prediction,
        score: parse<PredictionRecord['score']>(r.score),
        latencyMs: r.latency_ms,
        segment: r.segment,
        error: r.error,
        ...(r.traceparent === null ? {} : { traceparent: r.traceparent }),
      });
    }
    await flush();
    stage(`copying the labels of ${model}`);
    let labels: LabelRecord[] = [];
    let labelsAt = NaN;
    const flushLabels = async (): Promise<void> => {
      if (labels.length === 0) return;
      await target.insertLabels(model, labels, labelsAt);
      labels = [];
    };
    for (const r of db.prepare('SELECT id, ts, label, received_at FROM labels WHERE model = ? ORDER BY rowid').iterate(model) as IterableIterator<{ id: string; ts: number; label: Target; received_at: number }>) {
      if (r.received_at !== labelsAt || labels.length >= BATCH) {
        await flushLabels();
        labelsAt = r.received_at;
      }
      labels.push({ id: r.id, ts: r.ts, label: r.label });
    }
    await flushLabels();
  }
  stage('copying the baselines');
  // oldest first: their new ids keep the same order (the newest is each version's current one)
  for (const b of (db.prepare('SELECT id, model FROM baselines ORDER BY id').all() as { id: number; model: string }[])) {
    const record = (await source.listBaselines(b.model)).find((x) => x.id === b.id);
    if (record === undefined) continue;
    const refs: { kind: 'feature' | 'prediction' | 'label' | 'segment'; name: string; sorted: Float64Array }[] = [];
    await source.readBaselineReferences(b.id, (kind, name, values) => refs.push({ kind, name, sorted: Float64Array.from(values) }));
    const { id: _id, ...rest } = record;
    await target.saveBaseline(rest, refs);
  }
  stage('copying the incidents, actions and circuits');
  for (const r of db.prepare('SELECT * FROM incidents ORDER BY created_at, id').all() as Record<string, unknown>[]) {
    await target.saveIncident({
      id: r.id as string,
      fingerprint: r.fingerprint as string,
      alertname: r.alertname as string,
      model: r.model as string,
      labels: JSON.parse(r.labels as string) as IncidentRecord['labels'],
      annotations: JSON.parse(r.annotations as string) as IncidentRecord['annotations'],
      firedAt: r.fired_at as number,
      resolvedAt: r.resolved_at as number | null,
      status: r.status as IncidentRecord['status'],
      createdAt: r.created_at as number,
    });
  }
  for (const r of db.prepare('SELECT * FROM remediation_actions ORDER BY created_at, id').all() as Record<string, unknown>[]) {
    await target.saveAction({
      id: r.id as string,
      incidentId: r.incident_id as string,
      idempotencyKey: r.idempotency_key as string | null,
      model: r.model as string,
      action: r.action as string,
      type: r.type as string,
      status: r.status as ActionRecord['status'],
      reason: r.reason as string,
      createdAt: r.created_at as number,
      startedAt: r.started_at as number | null,
      endedAt: r.ended_at as number | null,
      expiresAt: r.expires_at as number | null,
      attempts: r.attempts as number,
      error: r.error as string | null,
      details: JSON.parse(r.details as string) as ActionRecord['details'],
      plan: JSON.parse(r.plan as string) as ActionRecord['plan'],
      decidedBy: r.decided_by as string | null,
      updatedAt: r.updated_at as number,
    });
  }
  for (const c of await source.listCircuits()) await target.saveCircuit(c);
  stage('copying the silences, the outbox and the state');
  for (const s of await source.listSilences()) await target.saveSilence(s);
  await target.writeOutbox(await source.listOutbox(), []);
  for (const r of db.prepare('SELECT key, value, updated_at FROM state ORDER BY key').all() as { key: string; value: string; updated_at: number }[]) await target.setState(r.key, r.value, r.updated_at);
  stage('copying the rule history and the SLO counts');
  const history = await source.readRuleHistory();
  if (history.series.length > 0 || history.appends.length > 0) await target.writeRuleHistory({ series: history.series, deletedSeries: [], appends: history.appends, pruneBefore: 0 });
  let minutes: SloMinute[] = [];
  for (const r of db.prepare('SELECT slo, minute, good, total FROM slo_minutes ORDER BY slo, minute').iterate() as IterableIterator<SloMinute>) {
    minutes.push({ slo: r.slo, minute: r.minute, good: r.good, total: r.total });
    if (minutes.length >= 5000) {
      await target.addSloMinutes(minutes);
      minutes = [];
    }
  }
  if (minutes.length > 0) await target.addSloMinutes(minutes);
  return { predictions };
}

const count = (db: Database.Database, sql: string): number => (db.prepare(sql).get() as { n: number }).n;

/** What the SQLite file holds, counted in SQL. */
async function sourceCounts(db: Database.Database, source: SqliteStore): Promise<Counts> {
  const out: Counts = {};
  for (const { model } of db.prepare('SELECT DISTINCT model FROM predictions UNION SELECT DISTINCT model FROM labels ORDER BY 1').all() as { model: string }[]) {
    const c = await source.modelCounts(model);
    out[`${model}: predictions`] = c.predictions;
    out[`${model}: labels`] = c.labels;
    out[`${model}: labelled predictions`] = c.labeledPredictions;
  }
  out.baselines = count(db, 'SELECT count(*) AS n FROM baselines');
  out['baseline reference values'] = count(db, 'SELECT coalesce(sum(length(sorted) / 8), 0) AS n FROM baseline_references');
  out.incidents = count(db, 'SELECT count(*) AS n FROM incidents');
  out['action records'] = count(db, 'SELECT count(*) AS n FROM remediation_actions');
  out.circuits = count(db, 'SELECT count(*) AS n FROM circuit_breakers');
  out.silences = count(db, 'SELECT count(*) AS n FROM silences');
  out['outbox entries'] = count(db, 'SELECT count(*) AS n FROM outbox');
  out['rule history samples'] = count(db, 'SELECT coalesce(sum(length(data) / 12), 0) AS n FROM rule_history');
  out['SLO minutes'] = count(db, 'SELECT count(*) AS n FROM slo_minutes');
  out['state keys'] = count(db, 'SELECT count(*) AS n FROM state');
  return out;
}

/** The same counts, read back from PostgreSQL through the Store contract. */
async function targetCounts(target: Store, db: Database.Database): Promise<Counts> {
  const out: Counts = {};
  for (const { model } of db.prepare('SELECT DISTINCT model FROM predictions UNION SELECT DISTINCT model FROM labels ORDER BY 1').all() as { model: string }[]) {
    const c = await target.modelCounts(model);
    out[`${model}: predictions`] = c.predictions;
    out[`${model}: labels`] = c.labels;
    out[`${model}: labelled predictions`] = c.labeledPredictions;
  }
  const models = (db.prepare('SELECT DISTINCT model FROM baselines').all() as { model: string }[]).map((r) => r.model);
  let baselines = 0;
  let values = 0;
  for (const m of models) {
    for (const b of await target.listBaselineMeta(m)) {
      baselines++;
      await target.readBaselineReferences(b.id, (_k, _n, v) => (values += v.length));
    }
  }
  out.baselines = baselines;
  out['baseline reference values'] = values;
  // one by one (the lists are capped): each source record found again
  let incidents = 0;
  for (const { id } of db.prepare('SELECT id FROM incidents').all() as { id: string }[]) if ((await target.getIncident(id)) !== undefined) incidents++;
  out.incidents = incidents;
  let actions = 0;
  for (const { id } of db.prepare('SELECT id FROM remediation_actions').all() as { id: string }[]) if ((await target.getAction(id)) !== undefined) actions++;
  out['action records'] = actions;
  out.circuits = (await target.listCircuits()).length;
  out.silences = (await target.listSilences()).length;
  out['outbox entries'] = (await target.listOutbox()).length;
  out['rule history samples'] = (await target.readRuleHistory()).appends.reduce((n, a) => n + a.data.length / 12, 0);
  let minutes = 0;
  for (const { slo } of db.prepare('SELECT DISTINCT slo FROM slo_minutes').all() as { slo: string }[]) minutes += (await target.readSloMinutes(slo, 0)).length;
  out['SLO minutes'] = minutes;
  let state = 0;
  for (const r of db.prepare('SELECT key, value FROM state').all() as { key: string; value: string }[]) if ((await target.getState(r.key)) === r.value) state++;
  out['state keys'] = state;
  return out;
}
