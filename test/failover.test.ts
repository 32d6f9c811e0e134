import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { startFakeMlflow, type FakeMlflow } from '../src/sim/fake-mlflow.js';
import type { RecordedRequest } from '../src/sim/fake-http.js';
import { controlledCluster, freshDatabase, pgBin, postgresServer, type ControlledCluster } from './postgres.js';
import { startServe, waitFor, type RunningVigil } from './processes.js';

/**
 * Failover with real processes (issue 14): two `vigil serve` replicas with the same configuration
 * on one fresh PostgreSQL database, real HTTP, no mocks — the leader killed with SIGKILL in the
 * middle of an MLflow rollback, a leader paused (SIGSTOP) past its lease that wakes up mid-action,
 * and the database restarted under ingestion. Predictions go through both replicas the whole time
 * and every acknowledged one is counted and looked for in the database afterwards.
 *
 * The lease is short (3 s) and the cycle 1 s, so a takeover takes a few seconds; every wait is a
 * waitFor with a generous timeout, and the only bound on speed is "within the lease + 10 s".
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
const server = await postgresServer();
const bin = pgBin();
const dir = mkdtempSync(join(tmpdir(), 'vigil-failover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LEASE_MS = 3_000;
/** How long after a kill (or pause) another replica must lead: the lease plus a generous margin for a loaded machine. */
const TAKEOVER_MS = LEASE_MS + 10_000;
const TEST_TIMEOUT = 150_000;
const WAIT = 60_000;
const SCHEMA = 'vigil';

// --- resources, released after each test whatever happened -----------------------------------

/** Cleanups in the order they were registered; run last-first (ingestion, then processes, then fakes and databases). */
const cleanups: (() => Promise<void>)[] = [];
const replicas: Replica[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c().catch((e: unknown) => process.stderr.write(`failover cleanup: ${String(e)}\n`));
  }
  replicas.length = 0;
});

interface Replica extends RunningVigil {
  name: string;
}

const alive = (v: RunningVigil): boolean => v.child.exitCode === null && v.child.signalCode === null;

/** Stops a replica (continued first if it was paused): SIGTERM, then SIGKILL if it has not exited in 15 s. */
async function stopReplica(v: RunningVigil): Promise<void> {
  if (!alive(v)) return;
  v.child.kill('SIGCONT');
  v.child.kill('SIGTERM');
  const done = await Promise.race([v.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  if (!done) {
    v.child.kill('SIGKILL');
    await v.exited;
  }
}

function writeConfig(name: string, dbUrl: string, extra: string, files: Record<string, string> = {}): string {
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `server:\n  port: 0\nstorage:\n  backend: postgres\n  url: ${dbUrl}\n  schema: ${SCHEMA}\nevaluation_interval: 1s\ncompute_workers: 0\ncluster:\n  lease: ${LEASE_MS / 1000}s\n` +
      'models:\n  - name: fraud\n    task: binary\n    positive_class: "1"\n    windows: [1h]\n    features:\n      - { name: x, type: numeric }\n' +
      'alerting: { bundled_rules: false }\n' +
      extra,
  );
  return file;
}

/** Both replicas of one configuration, started together (their logs shown when the test fails). */
async function startReplicas(config: string): Promise<[Replica, Replica]> {
  const started = await Promise.allSettled(['r1', 'r2'].map(async (name) => ({ name, ...(await startServe(MAIN, config, { timeoutMs: 45_000 })) })));
  for (const s of started) {
    if (s.status === 'fulfilled') {
      replicas.push(s.value);
      cleanups.push(() => stopReplica(s.value));
    }
  }
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  return replicas.slice(-2) as [Replica, Replica];
}

/** On a failure, the last lines of each replica's log go to stderr (call it first thing in a test). */
function dumpOnFailure(): void {
  onTestFailed(() => {
    for (const r of replicas) process.stderr.write(`\n----- ${r.name} (${r.url}), last log lines -----\n${r.lines.slice(-60).join('\n')}\n`);
  });
}

const tail = (r: Replica, n = 25) => `${r.name}:\n${r.lines.slice(-n).join('\n')}`;
const tails = (...rs: Replica[]) => () => rs.map((r) => tail(r)).join('\n');

// --- reading a replica and the database ---------------------------------------------------------

async function readyz(v: RunningVigil): Promise<{ status: number; body: { status: string; role?: string; reasons?: string[] } }> {
  const r = await fetch(`${v.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: (await r.json()) as { status: string; role?: string; reasons?: string[] } };
}

const role = async (v: RunningVigil): Promise<string | undefined> => (await readyz(v)).body.role;

async function metrics(v: RunningVigil): Promise<string> {
  return (await fetch(`${v.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}

/** A sample's value on /metrics: `series` is the name with its labels as exported (`vigil_leader`, `ml_x{model="fraud"}`). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function gauge(v: RunningVigil, series: string): Promise<number | undefined> {
  return sample(await metrics(v), series);
}

/** Log records (JSON lines) of a replica whose msg is `msg`. */
function records(v: RunningVigil, msg: string | RegExp): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of v.lines) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (typeof rec.msg === 'string' && (typeof msg === 'string' ? rec.msg === msg : msg.test(rec.msg))) out.push(rec);
    } catch {
      // a partial line
    }
  }
  return out;
}

async function query<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

interface ActionRow {
  id: string;
  incident_id: string;
  action: string;
  status: string;
  reason: string;
  error: string | null;
  details: string;
  plan: string;
  attempts: number;
}

const actionRows = (url: string) => query<ActionRow>(url, `SELECT id, incident_id, action, status, reason, error, details, plan, attempts FROM ${SCHEMA}.remediation_actions ORDER BY created_at, save_order`);
const incidentRows = (url: string) => query<{ id: string; status: string; resolved_at: string | null }>(url, `SELECT id, status, resolved_at FROM ${SCHEMA}.incidents`);
const leaseRow = async (url: string) => (await query<{ holder: string | null; epoch: string }>(url, `SELECT holder, epoch FROM ${SCHEMA}.leader_lease WHERE name = 'leader'`))[0];
const storedIds = async (url: string) => new Set((await query<{ id: string }>(url, `SELECT id FROM ${SCHEMA}.predictions WHERE model = 'fraud'`)).map((r) => r.id));

/**
 * The replica that holds the lease now, and the other: the lease row names its holder
 * `host:pid:random` (src/daemon.ts), so the pid tells which process acts — whatever /readyz said a
 * moment ago.
 */
async function holderOf(dbUrl: string, rs: [Replica, Replica]): Promise<[Replica, Replica]> {
  const holder = (await leaseRow(dbUrl))?.holder ?? '';
  const pid = Number(/:(\d+):[^:]+$/.exec(holder)?.[1]);
  const i = rs.findIndex((r) => r.child.pid === pid);
  if (i === -1) throw new Error(`the lease holder ${holder} is none of the replicas (${rs.map((r) => r.child.pid).join(', ')})`);
  return (i === 0 ? [rs[0], rs[1]] : [rs[1], rs[0]]) as [Replica, Replica];
}

/** The replica that leads now (one of them says leader on /readyz), and the other. */
async function leaderOf(rs: [Replica, Replica]): Promise<[Replica, Replica]> {
  return waitFor(
    'a leader among the replicas',
    async () => {
      const roles = await Promise.all(rs.map(role));
      if (roles.filter((r) => r === 'leader').length !== 1) return undefined;
      return (roles[0] === 'leader' ? [rs[0], rs[1]] : [rs[1], rs[0]]) as [Replica, Replica];
    },
    WAIT,
    tails(...rs),
  );
}

// --- ingestion through the replicas, every acknowledged id counted -------------------------------

interface Answer {
  lane: number;
  replica: string;
  /** performance.now() when sent and when answered */
  sentAt: number;
  at: number;
  status: number;
  retryAfter: string | null;
  code: string | undefined;
}

interface Failure {
  lane: number;
  replica: string;
  sentAt: number;
  at: number;
  error: string;
}

interface Ingestion {
  /** Every id some replica answered 200 for. */
  acked: Set<string>;
  answers: Answer[];
  /** Requests that got no HTTP answer (connection refused or reset, timed out). */
  failures: Failure[];
  /** Ids of a batch still unacknowledged when stop() gave up on it (none, normally). */
  abandoned: string[];
  /** Stops after each lane's current batch is acknowledged (it is retried until then, for at most `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * One lane a replica: each sends batches of `batch` predictions with fresh ids, one after another
 * (`paceMs` apart), and retries a batch until a replica answers 200 — as a client following
 * Retry-After does — so that in the end every id sent is acknowledged. A 503 is retried on the
 * same replica after its Retry-After; a request with no answer (the replica is dead) goes to the
 * next live replica when `failover`, else to the same one after a second.
 */
function ingest(targets: Replica[], opts: { batch?: number; paceMs?: number; failover: boolean }): Ingestion {
  const size = opts.batch ?? 20;
  const pace = opts.paceMs ?? 100;
  const out: Ingestion = { acked: new Set(), answers: [], failures: [], abandoned: [], stop: async () => undefined };
  let stopping = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  let next = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const lane = async (n: number): Promise<void> => {
    let target = targets[n] as Replica;
    while (!stopping) {
      const ids = Array.from({ length: size }, () => `p${next++}`);
      const body = JSON.stringify(ids.map((id, i) => ({ id, ts: Date.now() - 1000, model_version: 'v1', prediction: i % 2, score: 0.7, features: { x: i } })));
      for (;;) {
        if (performance.now() > giveUpAt) {
          out.abandoned.push(...ids);
          return;
        }
        const sentAt = performance.now();
        try {
          const r = await fetch(`${target.url}/v1/models/fraud/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(20_000) });
          const text = await r.text();
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          out.answers.push({ lane: n, replica: target.name, sentAt, at: performance.now(), status: r.status, retryAfter: r.headers.get('retry-after'), code });
          if (r.status === 200) {
            for (const id of ids) out.acked.add(id);
            break;
          }
          const retryAfter = Number(r.headers.get('retry-after'));
          await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 5) * 1000 : 1000);
        } catch (e) {
          out.failures.push({ lane: n, replica: target.name, sentAt, at: performance.now(), error: `${String(e)}${(e as { cause?: unknown }).cause ? ` (${String((e as { cause?: unknown }).cause)})` : ''}` });
          if (opts.failover) target = targets.find((t) => t !== target && alive(t)) ?? target;
          await sleep(opts.failover ? 100 : 1000);
        }
      }
      await sleep(pace);
    }
  };
  const lanes = targets.map((_, n) => lane(n));
  out.stop = async (graceMs = 60_000) => {
    stopping = true;
    giveUpAt = performance.now() + graceMs;
    await Promise.all(lanes);
  };
  cleanups.push(() => out.stop(5_000));
  return out;
}

/** ml_predictions_total of model fraud (every replica counts every stored row once, whichever took it). */
const predictionsTotal = async (v: RunningVigil) => (await gauge(v, 'ml_predictions_total{model="fraud",version="v1"}')) ?? 0;

/** Every acknowledged id is in the database, and nothing else is (every id sent was retried until acknowledged). */
async function expectExactlyAcknowledged(dbUrl: string, ing: Ingestion): Promise<void> {
  expect(ing.abandoned).toEqual([]);
  const stored = await storedIds(dbUrl);
  const lost = [...ing.acked].filter((id) => !stored.has(id));
  const unacknowledged = [...stored].filter((id) => !ing.acked.has(id));
  expect({ lost, unacknowledged }).toEqual({ lost: [], unacknowledged: [] });
  expect(stored.size).toBe(ing.acked.size);
}

// --- a webhook receiver that holds its first delivery -------------------------------------------

interface HoldingHook {
  url: string;
  requests: { at: number; headers: IncomingMessage['headers']; body: string }[];
  /** Resolves when the first delivery arrives (it is held: not answered until release()). */
  firstHeld: Promise<void>;
  /** Answers the held delivery 200. */
  release(): void;
  close(): Promise<void>;
}

async function startHoldingHook(): Promise<HoldingHook> {
  const requests: HoldingHook['requests'] = [];
  let held: ServerResponse | undefined;
  let released = false;
  let caught!: () => void;
  const firstHeld = new Promise<void>((r) => (caught = r));
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += String(d)));
    req.on('end', () => {
      requests.push({ at: performance.now(), headers: req.headers, body });
      if (requests.length === 1 && !released) {
        held = res;
        caught();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    requests,
    firstHeld,
    release() {
      released = true;
      held?.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      held = undefined;
    },
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string, detail: () => string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${detail()}`)), ms))]);

// --- the tests -----------------------------------------------------------------------------------

describe.skipIf(!server.available)('failover between real vigil serve replicas on PostgreSQL', () => {
  it(
    'kill -9 of the leader in the middle of a rollback: the follower takes over within the lease, the alias moves exactly once, the incident closes once, no acknowledged write is lost',
    async () => {
      dumpOnFailure();
      const db = await freshDatabase(server);
      cleanups.push(db.drop);

      // The registry: version 2 serves as champion (and is the previous champion), version 3 exists.
      const mlflow: FakeMlflow = await startFakeMlflow();
      cleanups.push(() => mlflow.close());
      for (let i = 0; i < 3; i++) mlflow.addVersion('fraud');
      const reg = mlflow.state.models.get('fraud');
      if (reg === undefined) throw new Error('no registered model');
      reg.aliases.champion = '2';
      reg.aliases['previous-champion'] = '2';
      const ALIAS_PATH = '/api/2.0/mlflow/registered-models/alias';
      // Every champion move the registry applies, in order (intercept runs just before it applies one).
      const applied: string[] = [];
      mlflow.state.intercept = (req: RecordedRequest) => {
        const p = req.json as { alias?: string; version?: string } | undefined;
        if (req.method === 'POST' && req.path === ALIAS_PATH && p?.alias === 'champion') applied.push(String(p.version));
        return undefined;
      };
      // The first attempt's alias write is held open until the test lets it go (after the kill).
      let release!: () => void;
      const releasing = new Promise<void>((r) => (release = r));
      let caught!: (req: RecordedRequest) => void;
      const firstWrite = new Promise<RecordedRequest>((r) => (caught = r));
      let holding = false;
      mlflow.state.hold = (req) => {
        if (holding || req.method !== 'POST' || req.path !== ALIAS_PATH) return undefined;
        holding = true;
        caught(req);
        return releasing;
      };
      cleanups.push(async () => release()); // never leave a request of the fake hanging

      const config = writeConfig(
        'rollback',
        db.url,
        `rule_files: [rollback-rules.yml]
sources:
  - { name: registry, type: mlflow, url: '${mlflow.url}', models: [fraud], interval: 1s }
remediation:
  actions:
    rollback: { type: mlflow_rollback, url: '${mlflow.url}' }
  routes:
    - matchers: ['alertname="BadChampion"']
      actions: [rollback]
`,
        {
          'rollback-rules.yml': 'groups:\n  - name: registry\n    rules:\n      - alert: BadChampion\n        expr: ml_model_info{model="fraud", stage="champion", version="3"}\n        labels: { severity: critical }\n',
        },
      );
      const both = await startReplicas(config);
      const detail = tails(...both);
      await leaderOf(both);

      // Ingestion through both replicas for the whole test.
      const ing = ingest(both, { failover: true });
      await waitFor('ingestion acknowledged through both replicas', async () => (new Set(ing.answers.filter((x) => x.status === 200).map((x) => x.replica)).size === 2 ? true : undefined), WAIT, detail);

      // Version 3 becomes champion: BadChampion fires, the leader opens an incident and rolls back;
      // its alias write is held.
      reg.aliases.champion = '3';
      const held = await within(firstWrite, WAIT, 'the leader\'s alias write', detail);
      expect(held.json).toMatchObject({ name: 'fraud', alias: 'champion', version: '2' });
      // the leader (A) sent it — it still leads — from a saved plan, with its record running
      const [a, b] = await holderOf(db.url, both);
      expect(await role(a)).toBe('leader');
      const [running] = await actionRows(db.url);
      expect(running).toMatchObject({ action: 'rollback', status: 'running' });
      expect(JSON.parse(running?.plan ?? '{}')).toMatchObject({ registeredModel: 'fraud', mode: 'alias', slot: 'champion', from: '3', to: '2' });
      expect(records(a, 'remediation action started')).toHaveLength(1);
      const oldEpoch = Number((await leaseRow(db.url))?.epoch);
      expect(await gauge(a, 'vigil_leader_epoch')).toBe(oldEpoch);
      expect(await gauge(b, 'vigil_leader')).toBe(0);

      // kill -9 of the leader mid-rollback; then the registry applies the write it had received
      a.child.kill('SIGKILL');
      const killedAt = performance.now();
      expect((await a.exited).signal).toBe('SIGKILL');
      release();
      const ackedAtKill = ing.acked.size;

      // The follower takes over within the lease (+ margin), with the next epoch.
      await waitFor(
        'the follower to lead',
        async () => ((await role(b)) === 'leader' && (await gauge(b, 'vigil_leader')) === 1 ? true : undefined),
        TAKEOVER_MS,
        detail,
      );
      const takeoverMs = performance.now() - killedAt;
      expect(takeoverMs).toBeLessThan(TAKEOVER_MS);
      expect(await gauge(b, 'vigil_leader_epoch')).toBe(oldEpoch + 1);
      expect(Number((await leaseRow(db.url))?.epoch)).toBe(oldEpoch + 1);
      // ingestion went on through the survivor across the takeover
      expect(ing.answers.some((x) => x.replica === b.name && x.status === 200 && x.sentAt > killedAt)).toBe(true);

      // The new leader resumes the rollback from its saved plan and it succeeds.
      type ActionJson = { id: string; status: string; attempts: number; details: Record<string, unknown> };
      const done = await waitFor(
        'the resumed rollback to end',
        async () => {
          const list = ((await (await fetch(`${b.url}/v1/actions?action=rollback`)).json()) as { actions: ActionJson[] }).actions;
          return list.length !== 1 || list[0]?.status !== 'running' ? list : undefined;
        },
        WAIT,
        detail,
      );
      expect(done.map((x) => `${x.id}:${x.status}`)).toEqual([`${running?.id}:succeeded`]);
      expect(done[0]?.status, JSON.stringify(done[0])).toBe('succeeded');
      expect(done[0]?.details).toMatchObject({ registeredModel: 'fraud', alias: 'champion', from: '3', to: '2', verified: true, resumed: true });
      expect(records(b, /^resuming a remediation action interrupted/)).toHaveLength(1);
      expect(records(b, 'remediation action started')).toHaveLength(0); // resumed, never started anew

      // The incident closes (the champion is version 2 again: the alert resolves), by the new leader.
      const incidentId = await waitFor(
        'the incident to close',
        async () => {
          const list = ((await (await fetch(`${b.url}/v1/incidents`)).json()) as { incidents: { id: string; status: string }[] }).incidents;
          if (list.length > 1) throw new Error(`${list.length} incidents: ${JSON.stringify(list)}`);
          return list[0]?.status === 'resolved' ? list[0].id : undefined;
        },
        WAIT,
        detail,
      );
      // a few more cycles of the new leader: nothing reopens, nothing moves again
      const cycles = (await gauge(b, 'vigil_cycle_duration_seconds_count')) ?? 0;
      await waitFor('three more cycles of the new leader', async () => (((await gauge(b, 'vigil_cycle_duration_seconds_count')) ?? 0) >= cycles + 3 ? true : undefined), WAIT, detail);

      // The registry: the champion ends on version 2, moved there exactly once (a re-set of the
      // same value would not count as a move; a second, different move would).
      expect(reg.aliases.champion).toBe('2');
      let current = '3';
      const moves: string[] = [];
      for (const v of applied) {
        if (v !== current) moves.push(`${current}→${v}`);
        current = v;
      }
      expect(moves).toEqual(['3→2']);
      expect(reg.versions[2]?.tags).toMatchObject({ 'vigil.rolled_back_to': '2', 'vigil.incident': incidentId });

      // One incident, closed once (one close, by the new leader); one action record.
      expect(await incidentRows(db.url)).toMatchObject([{ id: incidentId, status: 'resolved' }]);
      expect(records(b, 'incident resolved')).toHaveLength(1);
      expect(records(a, 'incident resolved')).toHaveLength(0);
      const text = await metrics(b);
      expect(sample(text, 'ml_incident_resolution_seconds_count{model="fraud"}')).toBe(1);
      expect(sample(text, 'ml_remediation_actions_total{model="fraud",action="rollback",outcome="succeeded"}')).toBe(1);
      expect((await actionRows(db.url)).map((r) => `${r.id}:${r.status}`)).toEqual([`${running?.id}:succeeded`]);

      // No acknowledged write is lost: the database holds exactly the acknowledged ids, and the
      // survivor counts them all.
      await ing.stop();
      expect(ing.acked.size).toBeGreaterThan(ackedAtKill);
      expect(ing.answers.filter((x) => x.status !== 200)).toEqual([]);
      // requests without an answer went to the killed leader only, from the kill on
      expect(ing.failures.filter((f) => f.replica !== a.name || f.at < killedAt)).toEqual([]);
      await expectExactlyAcknowledged(db.url, ing);
      const total = await waitFor('the survivor to count every acknowledged prediction', async () => ((await predictionsTotal(b)) === ing.acked.size ? true : undefined), WAIT, () => `acknowledged ${ing.acked.size}\n${detail()}`);
      expect(total).toBe(true);
      process.stderr.write(`failover (kill -9): takeover ${Math.round(takeoverMs)} ms after the kill; ${ing.acked.size} predictions acknowledged, ${ing.failures.length} requests to the dead leader retried on the survivor\n`);
    },
    TEST_TIMEOUT,
  );

  it(
    'a stale leader (SIGSTOP for longer than the lease, then SIGCONT) attempts an action and is refused by its epoch',
    async () => {
      dumpOnFailure();
      const db = await freshDatabase(server);
      cleanups.push(db.drop);
      const hook = await startHoldingHook();
      cleanups.push(() => hook.close());
      cleanups.push(async () => hook.release());
      const config = writeConfig(
        'stale',
        db.url,
        `rule_files: [stale-rules.yml]
remediation:
  actions:
    hook: { type: webhook, url: '${hook.url}/act', timeout: 90s, retries: 0 }
  routes:
    - matchers: ['alertname="Busy"']
      actions: [hook]
`,
        { 'stale-rules.yml': 'groups:\n  - name: g\n    rules:\n      - alert: Busy\n        expr: ml_window_samples{model="fraud", window="1h"} > 10\n' },
      );
      const both = await startReplicas(config);
      const detail = tails(...both);
      const [, follower] = await leaderOf(both);

      // 30 predictions through the follower: Busy fires on both, the leader (A) delivers the webhook; held.
      const preds = Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, ts: Date.now() - 1000, model_version: 'v1', prediction: 1, score: 0.9, features: { x: i } }));
      const posted = await fetch(`${follower.url}/v1/models/fraud/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(preds) });
      expect(posted.status).toBe(200);
      await within(hook.firstHeld, WAIT, 'the leader\'s webhook delivery', detail);
      const [a, b] = await holderOf(db.url, both);
      expect(await role(a)).toBe('leader');
      const [running] = await actionRows(db.url);
      expect(running).toMatchObject({ action: 'hook', status: 'running' });
      expect(hook.requests[0]?.headers['x-vigil-incident']).toBe(running?.incident_id);
      const oldEpoch = Number((await leaseRow(db.url))?.epoch);
      expect(await gauge(a, 'vigil_leader_epoch')).toBe(oldEpoch);

      // A is paused with its delivery in flight; B takes over when the lease lapses.
      a.child.kill('SIGSTOP');
      const pausedAt = performance.now();
      await waitFor(
        'the follower to lead while the leader is paused',
        async () => ((await role(b)) === 'leader' && (await gauge(b, 'vigil_leader')) === 1 ? true : undefined),
        TAKEOVER_MS,
        detail,
      );
      expect(performance.now() - pausedAt).toBeLessThan(TAKEOVER_MS);
      expect(await gauge(b, 'vigil_leader_epoch')).toBe(oldEpoch + 1);
      expect(Number((await leaseRow(db.url))?.epoch)).toBe(oldEpoch + 1);
      // the new leader closes the delivery it cannot know the outcome of (a webhook is not
      // idempotent: not repeated) — B's outcome
      const ended = await waitFor(
        'the new leader to close the interrupted delivery',
        async () => {
          const rows = await actionRows(db.url);
          return rows.length !== 1 || rows[0]?.status !== 'running' ? rows : undefined;
        },
        WAIT,
        detail,
      );
      expect(ended.map((r) => `${r.id}:${r.status}`)).toEqual([`${running?.id}:interrupted`]);
      const closed = ended[0] as ActionRow;
      expect(closed).toMatchObject({ id: running?.id, reason: 'Vigil stopped during the action' });
      expect(closed.error).toMatch(/not repeated/);
      // held past the lease: A's lease has lapsed for sure
      await waitFor('the pause to outlast the lease', async () => (performance.now() - pausedAt > LEASE_MS + 500 ? true : undefined), WAIT);

      // The receiver answers A's delivery now; A wakes up and records its outcome: refused.
      hook.release();
      const linesBefore = a.lines.length;
      a.child.kill('SIGCONT');
      // (its outcome logged as recorded would mean it was not refused)
      const NOT_RECORDED = "remediation action outcome not recorded: this replica no longer leads (the new leader's record stands)";
      const late = await waitFor(
        "A's late write of the delivery's outcome",
        async () => {
          const out = [...records(a, NOT_RECORDED), ...records(a, 'remediation action bookkeeping failed'), ...records(a, /^remediation action (succeeded|failed)$/)];
          return out.length > 0 ? out : undefined;
        },
        WAIT,
        detail,
      );
      expect(late.map((r) => r.msg)).toEqual([NOT_RECORDED]);
      const refusal = late[0] as Record<string, unknown>;
      // the outcome A got (succeeded) is in the log, refused by its epoch; it did not try to record a failure after
      expect(refusal).toMatchObject({ id: running?.id, status: 'succeeded', code: 'VIGIL_ERR_STORE_FENCED' });
      expect(String(refusal.err)).toMatch(new RegExp(`^refused: \\S+ no longer holds the leader lease \\(epoch ${oldEpoch}\\); another replica leads$`));
      // A steps down (by its own clock, and the lease it reads), and stays a follower
      await waitFor(
        'A to step down',
        async () => ((await role(a)) === 'follower' && (await gauge(a, 'vigil_leader')) === 0 ? true : undefined),
        WAIT,
        detail,
      );
      expect(records(a, 'this replica no longer leads').length).toBeGreaterThanOrEqual(1);
      const cycles = (await gauge(a, 'vigil_cycle_duration_seconds_count')) ?? 0;
      await waitFor('three more cycles of A', async () => (((await gauge(a, 'vigil_cycle_duration_seconds_count')) ?? 0) >= cycles + 3 ? true : undefined), WAIT, detail);

      // The database keeps B's outcome, not A's; nobody acted again.
      const rows = await actionRows(db.url);
      expect(rows.map((r) => `${r.id}:${r.status}`)).toEqual([`${running?.id}:interrupted`]);
      expect(rows[0]?.error).toBe(closed.error);
      expect(await incidentRows(db.url)).toMatchObject([{ id: running?.incident_id, status: 'open' }]);
      expect(hook.requests).toHaveLength(1);
      const after = a.lines.slice(linesBefore);
      expect(after.filter((l) => /"msg":"(remediation action started|incident opened|this replica leads)"/.test(l))).toEqual([]);
      expect(records(b, 'remediation action started')).toHaveLength(0);
      expect([await role(a), await role(b)]).toEqual(['follower', 'leader']);
      expect(await gauge(b, 'vigil_leader_epoch')).toBe(oldEpoch + 1);
      expect(sample(await metrics(b), 'ml_remediation_actions_total{model="fraud",action="hook",outcome="interrupted"}')).toBe(1);
      // A counted no outcome of its own for the delivery
      expect(sample(await metrics(a), 'ml_remediation_actions_total{model="fraud",action="hook",outcome="succeeded"}')).toBeUndefined();
    },
    TEST_TIMEOUT,
  );

  it.skipIf(bin === undefined)(
    'database restart during ingestion: clients get 503 with Retry-After (not 500), nothing acknowledged is lost, the replicas reconnect by themselves',
    async () => {
      dumpOnFailure();
      // a private cluster: the machine's server is other tests' too
      const cluster: ControlledCluster = await controlledCluster(bin as string);
      cleanups.push(() => cluster.destroy());
      const db = await freshDatabase({ available: true, reason: '', url: cluster.url });
      const config = writeConfig('restart', db.url, 'rule_files: []\n');
      const both = await startReplicas(config);
      const [r1, r2] = both;
      const detail = tails(...both);
      await leaderOf(both);

      // two lanes a replica: more statements in flight when the database goes down
      const ing = ingest([r1, r2, r1, r2], { failover: false, paceMs: 50 });
      const acked200 = (name: string, after: number) => ing.answers.filter((x) => x.replica === name && x.status === 200 && x.sentAt > after).length;
      await waitFor('ingestion acknowledged through both replicas', async () => (acked200(r1.name, 0) >= 5 && acked200(r2.name, 0) >= 5 ? true : undefined), WAIT, detail);

      // The database goes down (fast shutdown: its sessions are ended) in the middle of ingestion.
      const epochBefore = Number((await leaseRow(db.url))?.epoch);
      const stopping = performance.now();
      await cluster.stop('fast');
      const down = performance.now();
      const ackedBefore = ing.acked.size;
      // while it is down: 503s, the processes up and live, not ready
      const unexpected = () => [...ing.answers.filter((x) => x.status !== 200 && x.status !== 503), ...ing.failures];
      await waitFor(
        'three 503s from each replica while the database is down',
        async () => (unexpected().length > 0 || both.every((r) => ing.answers.filter((x) => x.replica === r.name && x.sentAt > down && x.status === 503).length >= 3) ? true : undefined),
        WAIT,
        detail,
      );
      expect(unexpected()).toEqual([]);
      // down for longer than the lease: the leader steps down by its own clock, nobody leads
      await waitFor(
        'no replica to lead while the database is down',
        async () => {
          const leaders = await Promise.all(both.map((r) => gauge(r, 'vigil_leader')));
          return performance.now() - down > LEASE_MS && leaders.every((l) => l === 0) ? true : undefined;
        },
        WAIT,
        detail,
      );
      for (const r of both) expect(await role(r)).toBe('follower');
      for (const r of both) {
        expect(alive(r)).toBe(true);
        const h = await fetch(`${r.url}/healthz`);
        expect(h.status).toBe(200);
        const ready = await waitFor(`${r.name} to say it is not ready`, async () => {
          const x = await readyz(r);
          return x.status === 503 ? x : undefined;
        }, WAIT, detail);
        expect(ready.body.reasons).toContain('store is not open');
      }
      // The database comes back on the same port; Vigil is not restarted.
      const restarting = performance.now();
      await cluster.start();
      const up = performance.now();
      const reconnect = await Promise.all(
        both.map((r) =>
          waitFor(`${r.name} to acknowledge again`, async () => {
            const first = ing.answers.find((x) => x.replica === r.name && x.status === 200 && x.sentAt > up);
            return first === undefined ? undefined : first.at - up;
          }, WAIT, detail),
        ),
      );
      for (const r of both) await waitFor(`${r.name} ready again`, async () => ((await readyz(r)).status === 200 ? true : undefined), WAIT, detail);
      await leaderOf(both); // one leader again, elected anew
      expect(Number((await leaseRow(db.url))?.epoch)).toBeGreaterThan(epochBefore);
      // a little more ingestion after the restart, then stop
      const moreFrom = performance.now();
      await waitFor('more acknowledged after the restart', async () => (acked200(r1.name, moreFrom) >= 5 && acked200(r2.name, moreFrom) >= 5 ? true : undefined), WAIT, detail);
      await ing.stop();

      // Every answer was a 200 or a 503 with Retry-After (never a 500, never a dropped connection) …
      expect(ing.failures).toEqual([]);
      expect(ing.answers.filter((x) => x.status !== 200 && x.status !== 503)).toEqual([]);
      const unavailable = ing.answers.filter((x) => x.status === 503);
      expect(unavailable.filter((x) => x.retryAfter === null || !/^\d+$/.test(x.retryAfter) || x.code !== 'VIGIL_ERR_STORE_UNAVAILABLE')).toEqual([]);
      // … and while the database was down (sent after it stopped, answered before it was started again), 503 only
      expect(ing.answers.filter((x) => x.sentAt > down && x.at < restarting && x.status !== 503)).toEqual([]);
      // 503s only from when it was being stopped until it was up again (and a few requests racing its return)
      expect(unavailable.filter((x) => x.at < stopping)).toEqual([]);
      expect(both.every(alive)).toBe(true);

      // Nothing acknowledged is lost, nothing unacknowledged is there; both replicas count them all.
      expect(ing.acked.size).toBeGreaterThan(ackedBefore);
      await expectExactlyAcknowledged(db.url, ing);
      await waitFor(
        "both replicas' ml_predictions_total to reach the acknowledged count",
        async () => {
          const totals = await Promise.all(both.map(predictionsTotal));
          return totals.every((t) => t === ing.acked.size) ? totals : undefined;
        },
        WAIT,
        () => `acknowledged ${ing.acked.size}\n${detail()}`,
      );
      process.stderr.write(
        `failover (database restart): down ${Math.round(restarting - down)} ms (stop took ${Math.round(down - stopping)} ms, start ${Math.round(up - restarting)} ms); ` +
          `${unavailable.length} answers 503; acknowledged again ${reconnect.map((ms) => `${Math.round(ms)} ms`).join(' and ')} after the start; ${ing.acked.size} predictions acknowledged\n`,
      );
    },
    TEST_TIMEOUT,
  );
});
