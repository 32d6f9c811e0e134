import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import { startFakeMlflow, type FakeMlflow } from '../sim/fake-mlflow.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ActionStatus, Store } from '../store/store.js';
import { startFakeWebhook, type FakeWebhook } from '../../test/fakes/fake-receivers.js';
import { ManualClock } from '../../test/harness.js';
import { waitFor } from '../../test/processes.js';
import { Remediator, type FiringAlert, type ServingVersion } from './runner.js';

const T0 = Date.UTC(2026, 10, 22, 12);
const MIN = 60_000;

interface Recorded {
  actions: { model: string; action: string; outcome: ActionStatus }[];
  lastFailure: Map<string, number>;
  loops: Map<string, number>;
  resolved: { model: string; seconds: number }[];
  paused: number;
  circuit: Map<string, number>;
}

interface Rig {
  r: Remediator;
  store: Store;
  clock: ManualClock;
  rec: Recorded;
  logs: string[];
  firing: FiringAlert[];
  serving: ServingVersion[];
  silenced: (labels: Readonly<Record<string, string>>) => string[];
  config: VigilConfig;
  /** A pass at the current time, then waits for every action it started. */
  pass(): Promise<void>;
  /** Stops this runner and starts a new one on the same SQLite file (a restart). */
  restart(): Promise<void>;
  /** Escalations sent (receiver and alert fingerprint); `escalateFails` makes the next ones throw. */
  escalated: { receiver: string; fingerprint: string }[];
  escalateFails: boolean;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(yaml: string): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-remediation-'));
  const path = join(dir, 'vigil.db');
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => void (logs.push(String(c)), cb()) }) });
  const clock = new ManualClock(T0);
  const rec: Recorded = { actions: [], lastFailure: new Map(), loops: new Map(), resolved: [], paused: 0, circuit: new Map() };
  const config = parseConfigText(`models:\n  - { name: fraud, task: binary }\n  - { name: churn, task: binary }\n${yaml}`, 'vigil.yaml', {});
  const t = {} as Rig;
  const build = (store: Store): Remediator =>
    new Remediator({
      store,
      logger,
      clock,
      config: () => t.config,
      metrics: {
        action: (model, action, outcome) => void rec.actions.push({ model, action, outcome }),
        lastFailure: (model, action, ts) => void rec.lastFailure.set(`${model}/${action}`, ts),
        rollbackLoop: (model, v) => void rec.loops.set(model, v),
        incidentResolved: (model, seconds) => void rec.resolved.push({ model, seconds }),
        paused: (v) => void (rec.paused = v),
        circuitState: (model, v) => void rec.circuit.set(model, v),
      },
      firing: () => t.firing,
      silencedBy: (labels) => t.silenced(labels),
      serving: () => t.serving,
      freshness: () => new Map(),
      escalate: async (receiver, a) => {
        if (t.escalateFails) throw new Error(`receiver ${receiver} is down`);
        t.escalated.push({ receiver, fingerprint: a.fingerprint });
      },
    });
  let store: Store = new SqliteStore({ path, now: T0 });
  Object.assign(t, {
    store,
    clock,
    rec,
    logs,
    config,
    firing: [],
    serving: [],
    silenced: () => [],
    escalated: [],
    escalateFails: false,
    r: build(store),
    async pass() {
      await t.r.step(clock.now());
      await t.r.idle();
    },
    async restart() {
      await t.r.stop(200);
      await store.close();
      store = new SqliteStore({ path, now: clock.now() });
      t.store = store;
      t.r = build(store);
      await t.r.start();
    },
  });
  await t.r.start();
  cleanups.push(async () => {
    await t.r.stop(200);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return t;
}

const alert = (name: string, model: string, firedAt: number, extra: Record<string, string> = {}): FiringAlert => ({
  fingerprint: `${name}/${model}/${Object.values(extra).join(',')}`,
  labels: { alertname: name, model, severity: 'critical', ...extra },
  annotations: { summary: `${name} on ${model}` },
  firedAt,
});

async function registry(): Promise<FakeMlflow> {
  const m = await startFakeMlflow();
  cleanups.push(() => m.close());
  for (let i = 0; i < 3; i++) m.addVersion('fraud');
  (m.state.models.get('fraud') as { aliases: Record<string, string> }).aliases.champion = '3';
  return m;
}

const aliasMoves = (m: FakeMlflow) => m.state.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/registered-models/alias'));
const champion = (m: FakeMlflow) => m.state.models.get('fraud')?.aliases.champion;

const ROLLBACK = (url: string, extra = '') => `
remediation:
  actions:
    rollback:
      type: mlflow_rollback
      url: ${url}
      retry_backoff: 10ms
${extra}
  routes:
    - matchers: ['alertname="MLAccuracyDrop"']
      actions: [rollback]
`;

describe('Remediator: MLflow rollback through the guardrails', () => {
  it('rolls back to the version it saw serving healthy, verifies, tags, and closes the incident when the alert resolves', async () => {
    const m = await registry();
    const t = await rig(ROLLBACK(m.url));
    // Vigil saw version 2, then version 3, hold champion while fraud was healthy.
    t.serving = [{ model: 'fraud', slot: 'champion', version: '2' }];
    await t.pass();
    t.clock.advance(MIN);
    t.serving = [{ model: 'fraud', slot: 'champion', version: '3' }];
    await t.pass();
    // Version 3 degrades: the routed alert fires.
    t.clock.advance(MIN);
    t.firing = [alert('MLAccuracyDrop', 'fraud', t.clock.now())];
    await t.pass();
    expect(champion(m)).toBe('2');
    expect(aliasMoves(m)).toHaveLength(1);
    const tags = m.state.models.get('fraud')?.versions.find((v) => v.version === '3')?.tags;
    expect(tags).toMatchObject({ 'vigil.rolled_back_to': '2' });
    expect(tags?.['vigil.incident']).toMatch(/^[0-9a-f-]{36}$/);
    const [incident] = await t.store.listIncidents({});
    expect(incident).toMatchObject({ status: 'open', alertname: 'MLAccuracyDrop', model: 'fraud' });
    const [action] = await t.store.listActions({ incidentId: incident?.id as string });
    expect(action).toMatchObject({ status: 'succeeded', action: 'rollback', type: 'mlflow_rollback', idempotencyKey: `${incident?.id}/rollback`, attempts: 1 });
    expect(action?.details).toMatchObject({ from: '3', to: '2', verified: true });
    expect(t.rec.actions).toEqual([{ model: 'fraud', action: 'rollback', outcome: 'succeeded' }]);

    // Still firing on the next passes: never a second rollback for the same incident.
    t.clock.advance(MIN);
    await t.pass();
    expect(aliasMoves(m)).toHaveLength(1);

    // Quality recovers, the alert resolves: the incident closes and MTTR is observed.
    t.clock.advance(4 * MIN);
    t.firing = [];
    await t.pass();
    expect(await t.store.getIncident(incident?.id as string)).toMatchObject({ status: 'resolved', resolvedAt: t.clock.now() });
    expect(t.rec.resolved).toEqual([{ model: 'fraud', seconds: 300 }]);
    // The rolled-back version is never offered again.
    expect(t.r.history.candidates('fraud', 'champion')).toEqual(['2']);
  });

  it('refuses, and says why, when there is no known-good version', async () => {
    const m = await registry();
    const t = await rig(ROLLBACK(m.url));
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    const [a] = await t.store.listActions({});
    expect(a?.status).toBe('refused');
    expect(a?.reason).toMatch(/known-good/);
    expect(aliasMoves(m)).toHaveLength(0);
    expect(t.rec.lastFailure.get('fraud/rollback')).toBe(T0 / 1000);
  });

  it('retries MLflow 500 and 429, then records the failure without crashing', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(ROLLBACK(m.url, '      retries: 2'));
    m.state.faults.push({ status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'boom' } }, { status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, headers: { 'retry-after': '0' } }, { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'down' } });
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    const [a] = await t.store.listActions({});
    expect(a).toMatchObject({ status: 'failed', attempts: 3 });
    expect(a?.error).toMatch(/TEMPORARILY_UNAVAILABLE/);
    expect(champion(m)).toBe('3');
    expect(t.rec.lastFailure.get('fraud/rollback')).toBe(T0 / 1000);
    expect(t.logs.join('')).toMatch(/remediation action failed; retrying/);
  });

  it('succeeds after a transient MLflow error (retry)', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(ROLLBACK(m.url));
    m.state.faults.push({ status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'boom' } });
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    expect(await t.store.listActions({})).toMatchObject([{ status: 'succeeded', attempts: 2 }]);
    expect(champion(m)).toBe('2');
  });

  it('dry-run decides and records, and calls nothing', async () => {
    const m = await registry();
    const t = await rig(ROLLBACK(m.url).replace('remediation:\n', 'remediation:\n  dry_run: true\n'));
    t.serving = [{ model: 'fraud', slot: 'champion', version: '2' }];
    await t.pass();
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    await t.pass();
    expect(m.state.requests).toHaveLength(0);
    const actions = await t.store.listActions({});
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ status: 'dry_run', details: { registeredModel: 'fraud' } });
    expect(t.rec.actions).toEqual([{ model: 'fraud', action: 'rollback', outcome: 'dry_run' }]);
  });

  it('a flapping alert: cooldown skips the next incidents (recorded once each), the loop guard stops a rollback loop', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(
      ROLLBACK(m.url, '      cooldown: 10m').replace('  routes:', '  loop_detection: { max_rollbacks: 2, window: 6h }\n  routes:'),
    );
    const flap = async (): Promise<void> => {
      t.firing = [alert('MLAccuracyDrop', 'fraud', t.clock.now())];
      await t.pass();
      await t.pass(); // a second pass while firing records nothing new
      t.clock.advance(MIN);
      t.firing = [];
      await t.pass();
      t.clock.advance(MIN);
    };
    await flap(); // rollback 1 (3 → 2)
    await flap(); // within the cooldown: skipped
    let statuses = (await t.store.listActions({})).map((a) => `${a.status}:${a.reason}`).reverse();
    expect(statuses[0]).toMatch(/^succeeded/);
    expect(statuses[1]).toBe('skipped:cooldown');
    expect(statuses).toHaveLength(2);
    // Put 3 back as champion (someone redeployed it), past the cooldown: rollback 2.
    m.state.models.get('fraud')!.aliases.champion = '3';
    t.clock.advance(10 * MIN);
    await flap();
    expect(champion(m)).toBe('2');
    expect(t.rec.loops.get('fraud')).toBe(1);
    expect(t.r.status().rollback_loops).toEqual(['fraud']);
    // Third incident past the cooldown: the loop guard stops it.
    m.state.models.get('fraud')!.aliases.champion = '3';
    t.clock.advance(10 * MIN);
    await flap();
    statuses = (await t.store.listActions({})).map((a) => `${a.status}:${a.reason}`);
    expect(statuses[0]).toBe('skipped:loop_detected');
    expect(champion(m)).toBe('3');
    expect(aliasMoves(m)).toHaveLength(2);
    // A human clears the loop for the model: automation acts again.
    await t.r.resume('oncall', t.clock.now(), 'fraud');
    expect(t.rec.loops.get('fraud')).toBe(0);
    t.clock.advance(10 * MIN);
    await flap();
    expect(aliasMoves(m)).toHaveLength(3);
  });

  it('approval: a pending action runs once approved; another expires; a third is rejected', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(ROLLBACK(m.url, '      require_approval: true\n      approval_timeout: 30m\n      cooldown: 0s'));
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    const [pending] = await t.store.listActions({});
    expect(pending).toMatchObject({ status: 'pending_approval', expiresAt: T0 + 30 * MIN, details: { registeredModel: 'fraud' } });
    expect(m.state.requests).toHaveLength(0);
    await t.r.approve(pending?.id as string, 'alice', t.clock.now());
    await t.r.idle();
    expect(await t.store.getAction(pending?.id as string)).toMatchObject({ status: 'succeeded', decidedBy: 'alice' });
    expect(champion(m)).toBe('2');
    await expect(t.r.approve(pending?.id as string, 'bob', t.clock.now())).rejects.toMatchObject({ statusCode: 409 });

    // A second incident: nobody approves within 30 minutes.
    t.firing = [];
    await t.pass();
    m.state.models.get('fraud')!.aliases.champion = '3';
    t.firing = [alert('MLAccuracyDrop', 'fraud', t.clock.now())];
    await t.pass();
    const second = (await t.store.listActions({ status: 'pending_approval' }))[0];
    t.clock.advance(31 * MIN);
    await t.pass();
    expect(await t.store.getAction(second?.id as string)).toMatchObject({ status: 'expired', reason: 'no approval before the timeout' });
    await expect(t.r.approve(second?.id as string, 'alice', t.clock.now())).rejects.toMatchObject({ statusCode: 409 });
    expect(champion(m)).toBe('3');

    // A third: rejected.
    t.firing = [];
    await t.pass();
    t.firing = [alert('MLAccuracyDrop', 'fraud', t.clock.now())];
    await t.pass();
    const third = (await t.store.listActions({ status: 'pending_approval' }))[0];
    await t.r.reject(third?.id as string, 'carol', t.clock.now());
    expect(await t.store.getAction(third?.id as string)).toMatchObject({ status: 'rejected', decidedBy: 'carol' });
    expect(champion(m)).toBe('3');
    await expect(t.r.approve('nope', 'x', t.clock.now())).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a silence or maintenance window stops the action (recorded), and it runs once the silence ends', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(ROLLBACK(m.url));
    t.silenced = (l) => (l.model === 'fraud' ? ['maintenance:deploy-fraud'] : []);
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    await t.pass();
    expect(m.state.requests).toHaveLength(0);
    expect(await t.store.listActions({})).toMatchObject([{ status: 'skipped', reason: 'silenced (maintenance:deploy-fraud)' }]);
    t.silenced = () => [];
    t.clock.advance(MIN);
    await t.pass();
    expect(champion(m)).toBe('2');
  });

  it('pause stops every action until resume; a configured pause cannot be resumed over the API', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(ROLLBACK(m.url));
    await t.r.pauseAll('oncall', 'investigating', T0);
    expect(t.rec.paused).toBe(1);
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    expect(await t.store.listActions({})).toMatchObject([{ status: 'skipped', reason: 'paused' }]);
    // The pause survives a restart.
    await t.restart();
    expect(t.r.status()).toMatchObject({ paused: true, pause: { by: 'oncall', reason: 'investigating' } });
    await t.pass();
    expect(champion(m)).toBe('3');
    await t.r.resume('oncall', t.clock.now());
    await t.pass();
    expect(champion(m)).toBe('2');
    t.config = { ...t.config, remediation: { ...t.config.remediation, paused: true } };
    await expect(t.r.resume('oncall', t.clock.now())).rejects.toMatchObject({ code: 'VIGIL_ERR_REMEDIATION_PAUSED' });
  });

  it('a restart in the middle of a rollback resumes it and never moves the alias twice', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(ROLLBACK(m.url, '      timeout: 1m'));
    // The alias moves, then the registry hangs on the tag request: Vigil stops in the middle.
    const original = m.state.faults;
    let seen = 0;
    m.state.faults = new Proxy(original, {
      get(target, prop, recv) {
        if (prop === 'shift') {
          return () => {
            const last = m.state.requests[m.state.requests.length - 1];
            if (last?.path.endsWith('/model-versions/set-tag') && seen++ === 0) return { hang: true };
            return target.shift();
          };
        }
        return Reflect.get(target, prop, recv) as unknown;
      },
    });
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.r.step(t.clock.now());
    await waitFor('the tag request', async () => (m.state.requests.some((q) => q.path.endsWith('/model-versions/set-tag')) ? true : undefined), 5_000);
    expect(champion(m)).toBe('2');
    const [running] = await t.store.listActions({});
    expect(running).toMatchObject({ status: 'running', plan: { from: '3', to: '2' } });
    await t.restart();
    await t.r.idle();
    const [done] = await t.store.listActions({});
    expect(done).toMatchObject({ id: running?.id, status: 'succeeded', details: { resumed: true, from: '3', to: '2' } });
    expect(aliasMoves(m)).toHaveLength(1);
    expect(t.logs.join('')).toMatch(/resuming a remediation action interrupted by a stop/);
  });
});

describe('Remediator: webhook actions, one action per model, rate limits', () => {
  let hook: FakeWebhook;
  const WEBHOOKS = (url: string, extra = '') => `
remediation:
  actions:
    notify-serving:
      type: webhook
      url: ${url}/hook
      cooldown: 0s
${extra}
    page-owner:
      type: webhook
      url: ${url}/owner
      cooldown: 0s
  routes:
    - matchers: ['severity="critical"']
      actions: [notify-serving, page-owner]
`;

  it('runs the actions of one model one at a time, in route order, with idempotency keys', async () => {
    hook = await startFakeWebhook();
    cleanups.push(() => hook.close());
    hook.state.faults.push({ status: 503, body: 'busy' });
    const t = await rig(WEBHOOKS(hook.url, '      retry_backoff: 20ms'));
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    const paths = hook.state.requests.map((q) => q.path);
    expect(paths).toEqual(['/hook', '/hook', '/owner']); // the retry finished before the second action started
    const keys = hook.state.requests.map((q) => q.headers['idempotency-key']);
    const [incident] = await t.store.listIncidents({});
    expect(keys).toEqual([`${incident?.id}/notify-serving`, `${incident?.id}/notify-serving`, `${incident?.id}/page-owner`]);
    expect((await t.store.listActions({})).map((a) => a.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('a restart in the middle of a non-idempotent action records it as interrupted and never repeats it', async () => {
    hook = await startFakeWebhook();
    cleanups.push(() => hook.close());
    hook.state.faults.push({ hang: true });
    const t = await rig(WEBHOOKS(hook.url));
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.r.step(t.clock.now());
    await waitFor('the webhook request', async () => (hook.state.requests.length === 1 ? true : undefined), 5_000);
    await t.restart();
    await t.pass();
    const byAction = Object.fromEntries((await t.store.listActions({})).map((a) => [a.action, a]));
    expect(byAction['notify-serving']).toMatchObject({ status: 'interrupted' });
    expect(byAction['page-owner']).toMatchObject({ status: 'succeeded' });
    expect(hook.state.requests.filter((q) => q.path === '/hook')).toHaveLength(1);
    expect(t.rec.lastFailure.has('fraud/notify-serving')).toBe(true);
  });

  it('max_runs per window limits an action across models', async () => {
    hook = await startFakeWebhook();
    cleanups.push(() => hook.close());
    const t = await rig(WEBHOOKS(hook.url, '      max_runs: 1\n      max_runs_window: 1h'));
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0), alert('MLAccuracyDrop', 'churn', T0)];
    await t.pass();
    const statuses = (await t.store.listActions({ action: 'notify-serving' })).map((a) => `${a.model}:${a.status}:${a.reason}`).sort();
    expect(statuses).toEqual(['churn:skipped:rate_limited', 'fraud:succeeded:' + (await t.store.listActions({ action: 'notify-serving', model: 'fraud' }))[0]?.reason]);
  });

  it('an alert without a model label still runs model-free actions, and a rollback refuses to run (recorded)', async () => {
    hook = await startFakeWebhook();
    cleanups.push(() => hook.close());
    const t = await rig(`
remediation:
  actions:
    hook: { type: webhook, url: '${hook.url}/hook' }
    rollback: { type: mlflow_rollback, url: '${hook.url}' }
  routes:
    - actions: [hook, rollback]
`);
    t.firing = [{ fingerprint: 'x', labels: { alertname: 'VigilSourceScrapeFailing', source: 'feast' }, annotations: {}, firedAt: T0 }];
    await t.pass();
    const byAction = Object.fromEntries((await t.store.listActions({})).map((a) => [a.action, a]));
    expect(byAction.hook?.status).toBe('succeeded');
    expect(byAction.rollback).toMatchObject({ status: 'skipped', reason: 'no_model_label' });
  });
});

describe('Remediator: circuit breaker', () => {
  const BREAKER = (hookUrl: string) => `
remediation:
  circuit_breaker:
    probe_period: 10m
    webhook: { url: '${hookUrl}/circuit' }
  actions:
    breaker: { type: circuit_breaker }
  routes:
    - matchers: ['alertname=~"MLAccuracyDrop|MLF1Drop"']
      actions: [breaker]
`;

  it('open → half-open → closed, and open → half-open → open when a routed alert fires during the probe', async () => {
    const hook = await startFakeWebhook();
    cleanups.push(() => hook.close());
    const t = await rig(BREAKER(hook.url));
    expect(t.rec.circuit.get('fraud')).toBe(0);
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0), alert('MLF1Drop', 'fraud', T0)];
    await t.pass();
    expect(t.r.circuits.get('fraud')).toMatchObject({ state: 'open', reason: expect.stringMatching(/firing/) as unknown });
    expect(t.rec.circuit.get('fraud')).toBe(1);
    expect(t.logs.join('')).toMatch(/"msg":"Circuit breaker opened"/);
    // One of two alerts resolves: the other still holds the breaker open.
    t.clock.advance(MIN);
    t.firing = [alert('MLF1Drop', 'fraud', T0)];
    await t.pass();
    expect(t.r.circuits.get('fraud').state).toBe('open');
    t.clock.advance(MIN);
    t.firing = [];
    await t.pass();
    expect(t.r.circuits.get('fraud')).toMatchObject({ state: 'half_open', probeUntil: t.clock.now() + 10 * MIN });
    expect(t.rec.circuit.get('fraud')).toBe(2);
    t.clock.advance(10 * MIN);
    await t.pass();
    expect(t.r.circuits.get('fraud').state).toBe('closed');
    expect(t.rec.circuit.get('fraud')).toBe(0);

    // Again: open, half-open, then the alert fires during the probe: open again.
    t.firing = [alert('MLAccuracyDrop', 'fraud', t.clock.now())];
    await t.pass();
    t.clock.advance(MIN);
    t.firing = [];
    await t.pass();
    expect(t.r.circuits.get('fraud').state).toBe('half_open');
    t.clock.advance(2 * MIN);
    t.firing = [alert('MLAccuracyDrop', 'fraud', t.clock.now())];
    await t.pass();
    expect(t.r.circuits.get('fraud').state).toBe('open');
    await t.r.circuits.idle();
    const transitions = (hook.state.payloads as { model: string; from: string; to: string }[]).map((p) => `${p.from}>${p.to}`);
    expect(transitions).toEqual(['closed>open', 'open>half_open', 'half_open>closed', 'closed>open', 'open>half_open', 'half_open>open']);
    // The state survives a restart.
    await t.restart();
    expect(t.r.circuits.get('fraud').state).toBe('open');
    expect(t.rec.circuit.get('fraud')).toBe(1);
  });

  it('a verified rollback releases the breaker: half-open after min_open although the alert (about the old version) still fires', async () => {
    const m = await registry();
    m.state.models.get('fraud')!.aliases['previous-champion'] = '2';
    const t = await rig(`
remediation:
  circuit_breaker: { probe_period: 10m, min_open: 2m }
  actions:
    breaker: { type: circuit_breaker }
    rollback: { type: mlflow_rollback, url: '${m.url}' }
  routes:
    - matchers: ['alertname="MLAccuracyDrop"']
      actions: [breaker, rollback]
`);
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0, { version: '3' })];
    await t.pass();
    expect(champion(m)).toBe('2');
    expect(t.r.circuits.get('fraud').state).toBe('open');
    t.clock.advance(MIN);
    await t.pass();
    expect(t.r.circuits.get('fraud').state).toBe('open'); // min_open: 2m
    t.clock.advance(MIN);
    await t.pass();
    expect(t.r.circuits.get('fraud')).toMatchObject({ state: 'half_open', reason: 'rolled back from version 3 to 2' });
    t.clock.advance(10 * MIN);
    await t.pass();
    expect(t.r.circuits.get('fraud').state).toBe('closed');
    expect((await t.store.listIncidents({}))[0]?.status).toBe('open'); // the alert about version 3 still fires
  });

  it('an admin-forced open breaker stays open through resolutions until an admin closes it', async () => {
    const hook = await startFakeWebhook();
    cleanups.push(() => hook.close());
    const t = await rig(BREAKER(hook.url));
    await t.r.circuits.force('fraud', 'open', 'admin: bad deploy', T0);
    t.firing = [alert('MLAccuracyDrop', 'fraud', T0)];
    await t.pass();
    t.firing = [];
    t.clock.advance(MIN);
    await t.pass();
    t.clock.advance(20 * MIN);
    await t.pass();
    expect(t.r.circuits.get('fraud')).toMatchObject({ state: 'open', manual: true });
    await t.r.circuits.force('fraud', 'closed', 'admin: fixed', t.clock.now());
    expect(t.r.circuits.get('fraud')).toMatchObject({ state: 'closed', manual: false });
  });
});

describe('escalation of unacknowledged incidents', () => {
  const ESCALATION = `
notifications:
  receivers: [{ name: pager, type: webhook, url: 'http://127.0.0.1:9/' }, { name: boss, type: webhook, url: 'http://127.0.0.1:9/' }]
  escalation:
    - matchers: ['severity="critical"']
      steps: [{ after: 10m, receiver: pager }, { after: 20m, receiver: boss }]
`;

  it('never repeats a step across a restart, goes on with the next, stops when silenced, records a failure', async () => {
    const t = await rig(ESCALATION);
    t.firing = [alert('Busy', 'fraud', T0)];
    await t.pass();
    expect(t.escalated).toEqual([]);
    t.clock.advance(10 * 60_000);
    await t.pass();
    expect(t.escalated.map((e) => e.receiver)).toEqual(['pager']);
    await t.restart();
    t.clock.advance(5 * 60_000);
    await t.pass();
    expect(t.escalated.map((e) => e.receiver)).toEqual(['pager']); // not again after the restart
    t.silenced = () => ['s1'];
    t.clock.advance(5 * 60_000);
    await t.pass();
    expect(t.escalated.map((e) => e.receiver)).toEqual(['pager']); // silenced: nothing
    t.silenced = () => [];
    t.escalateFails = true;
    await t.pass();
    const actions = await t.store.listActions({ action: 'vigil:escalation' });
    expect(actions.map((a) => [a.details.receiver, a.status, a.error]).sort()).toEqual([
      ['boss', 'failed', 'receiver boss is down'],
      ['pager', 'succeeded', null],
    ]);
    // a step that failed is not retried by the next pass (the outbox retries deliveries; this could not be queued)
    t.escalateFails = false;
    await t.pass();
    expect(t.escalated.map((e) => e.receiver)).toEqual(['pager']);
  });

  it('an acknowledged incident does not escalate, across a restart too; a resolved one cannot be acknowledged', async () => {
    const t = await rig(ESCALATION);
    t.firing = [alert('Busy', 'fraud', T0)];
    await t.pass();
    const [inc] = await t.store.listIncidents({ status: 'open' });
    const ack = await t.r.ack(inc!.id, 'alice', '', t.clock.now());
    expect(ack).toMatchObject({ action: 'vigil:ack', decidedBy: 'alice', reason: 'acknowledged by alice' });
    await t.restart();
    t.clock.advance(30 * 60_000);
    await t.pass();
    expect(t.escalated).toEqual([]);
    expect((await t.r.ack(inc!.id, 'bob', '', t.clock.now())).id).toBe(ack.id);
    t.firing = [];
    await t.pass();
    await expect(t.r.ack(inc!.id, 'bob', '', t.clock.now())).rejects.toMatchObject({ code: 'VIGIL_ERR_REMEDIATION_CONFLICT' });
  });
});

