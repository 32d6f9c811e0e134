import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/core/logger.js';
import { openPostgres } from '../src/store/open.js';
import { testDaemon, type TestDaemon } from './harness.js';
import { startFakePrometheus, vector } from './fakes/fake-prometheus.js';
import { startFakeWebhook } from './fakes/fake-receivers.js';
import { freshDatabase, postgresServer } from './postgres.js';
import { waitFor } from './processes.js';

/**
 * Replicas that agree (issue 14): two Vigil daemons on one PostgreSQL database, ingestion spread
 * over both; each follows what the other stores, so both hold the same rows in their windows and
 * export the same ml_ series.
 */
const server = await postgresServer();
const T0 = Date.UTC(2026, 11, 6, 12);
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: "1"
    windows: [1h, 1d]
    min_samples: 20
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
rule_files: []
alerting: { bundled_rules: false }
`;

const daemons: TestDaemon[] = [];
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
  for (const drop of drops.splice(0)) await drop();
});

async function replicas(n: number, config = CONFIG, files?: Readonly<Record<string, string>>): Promise<{ daemons: TestDaemon[]; url: string }> {
  const db = await freshDatabase(server);
  drops.push(db.drop);
  const made = await Promise.all(
    Array.from({ length: n }, async () => {
      const store = await openPostgres(db.url, { schema: 'vigil', logger: createLogger({ level: 'silent' }), now: T0 });
      const t = await testDaemon(config, { now: T0, ...(files === undefined ? {} : { files }), openStore: () => store });
      daemons.push(t);
      return t;
    }),
  );
  return { daemons: made, url: db.url };
}

/** Two replicas of a configuration on one fresh database. */
async function pair(config: string, files?: Readonly<Record<string, string>>): Promise<{ a: TestDaemon; b: TestDaemon; url: string }> {
  const { daemons: [a, b], url } = await replicas(2, config, files);
  return { a: a as TestDaemon, b: b as TestDaemon, url };
}

/** Every ml_ sample line of a daemon's /metrics, sorted. */
async function mlSeries(t: TestDaemon): Promise<string[]> {
  const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
  return text.split('\n').filter((l) => l.startsWith('ml_')).sort();
}

const post = (t: TestDaemon, kind: string, items: unknown[]) =>
  t.daemon.app.inject({ method: 'POST', url: `/v1/models/fraud/${kind}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });

describe.skipIf(!server.available)('replicas on one PostgreSQL database', () => {
  it('ingestion spread over two replicas: both windows hold every row, and both export the same ml_ series', async () => {
    const [a, b] = ((await replicas(2)).daemons) as [TestDaemon, TestDaemon];
    // the followers' timers are not started (start() does that): here they pass in each cycle only
    const ref = Array.from({ length: 400 }, (_, i) => ({ features: { amount: i % 100, country: ['PL', 'DE'][i % 2] }, prediction: i % 2, score: 0.7, label: i % 2 }));
    expect((await post(a, 'baselines?version=v1', ref)).statusCode).toBe(201);
    // the windows are held from here: rows reach them only through ingestion (here: the follower)
    for (const t of [a, b]) await t.daemon.cycle.run();
    expect(a.daemon.engine.window('fraud')?.n).toBe(0);
    const preds = Array.from({ length: 300 }, (_, i) => ({ id: `p${i}`, ts: T0 - 1000 - i, model_version: 'v1', prediction: i % 2, score: 0.7, latency_ms: 5 + (i % 7), features: { amount: 40 + (i % 100), country: i % 5 === 0 ? 'XX' : 'PL' } }));
    // interleaved over both: a third to a, a third to b, a third to a again
    expect((await post(a, 'predictions', preds.slice(0, 100))).statusCode).toBe(200);
    expect((await post(b, 'predictions', preds.slice(100, 200))).statusCode).toBe(200);
    expect((await post(a, 'predictions', preds.slice(200))).statusCode).toBe(200);
    // a re-sent batch through the other replica: duplicates, stored once
    expect((await post(b, 'predictions', preds.slice(0, 10))).json()).toMatchObject({ accepted: 0 });
    expect((await post(b, 'labels', preds.slice(0, 150).map((p, i) => ({ id: p.id, label: i % 3 === 0 ? 1 - (i % 2) : i % 2 })))).statusCode).toBe(200);
    expect((await post(a, 'labels', preds.slice(150).map((p, i) => ({ id: p.id, label: i % 2 })))).statusCode).toBe(200);
    // nothing reached a window from the request itself: the store's order is the only one
    expect(a.daemon.engine.window('fraud')?.n).toBe(0);
    // each replica's cycle first reads what every replica stored (its follow stage)
    for (const t of [a, b]) await t.daemon.cycle.run();
    expect(a.daemon.engine.window('fraud')?.n).toBe(300);
    expect(b.daemon.engine.window('fraud')?.n).toBe(300);
    const [sa, sb] = [await mlSeries(a), await mlSeries(b)];
    expect(sa.length).toBeGreaterThan(50);
    expect(sa).toEqual(sb);
    // the counters too: every replica counts every stored row once, whichever took it
    expect(sa).toContain('ml_predictions_total{model="fraud",version="v1"} 300');
    expect(sa).toContain('ml_labels_total{model="fraud"} 300');
    // and the quality the labels give, the drift the new country gives
    expect(sa.some((l) => l.startsWith('ml_model_accuracy{model="fraud",version="v1",window="1h"} '))).toBe(true);
    expect(sa.some((l) => /^ml_feature_drift_detected\{.*feature="country".*window="1h".*\} 1$/.test(l))).toBe(true);
    // the rule history stays each replica's own: nothing of it in the shared store
    expect(await a.daemon.store.readRuleHistory()).toEqual({ series: [], appends: [] });
  });

  it('one leader among the replicas: /readyz says each one\'s role, /metrics its vigil_leader and epoch; when the leader stops, another takes over at once', async () => {
    const [a, b] = ((await replicas(2)).daemons) as [TestDaemon, TestDaemon];
    const role = async (t: TestDaemon) => ((await t.daemon.app.inject({ url: '/readyz' })).json() as { role: string }).role;
    const gauge = async (t: TestDaemon, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await t.daemon.app.inject({ url: '/metrics' })).body)?.[1]);
    expect([await role(a), await role(b)]).toEqual(['follower', 'follower']);
    await a.daemon.elector?.tick();
    await b.daemon.elector?.tick();
    expect([await role(a), await role(b)]).toEqual(['leader', 'follower']);
    expect([await gauge(a, 'vigil_leader'), await gauge(b, 'vigil_leader')]).toEqual([1, 0]);
    const epoch = await gauge(a, 'vigil_leader_epoch');
    expect(epoch).toBeGreaterThan(0);
    // the leader stops (as on SIGTERM): it lets its lease go; the other takes over with the next epoch
    await a.daemon.elector?.stop();
    await b.daemon.elector?.tick();
    expect([await role(a), await role(b)]).toEqual(['follower', 'leader']);
    expect([await gauge(a, 'vigil_leader'), await gauge(b, 'vigil_leader'), await gauge(b, 'vigil_leader_epoch')]).toEqual([0, 1, epoch + 1]);
  });

  it('only the leader acts: one incident, one action, one direct notification, though both replicas fire the alert', async () => {
    const hook = await startFakeWebhook();
    drops.push(() => hook.close());
    const config = `
rule_files: [busy.yml]
notifications:
  default_receiver: team
  group_wait: 0s
  receivers:
    - { name: team, type: webhook, url: "${hook.url}/hook" }
remediation:
  actions:
    breaker: { type: circuit_breaker }
  routes:
    - matchers: ['alertname="Busy"']
      actions: [breaker]
${CONFIG.replace('rule_files: []\n', '')}`;
    const files = { 'busy.yml': 'groups:\n  - name: g\n    rules:\n      - alert: Busy\n        expr: ml_window_samples{window="1h", segment=""} > 10\n' };
    const { a, b } = await pair(config, files);
    await a.daemon.elector?.tick();
    await b.daemon.elector?.tick();
    expect([a.daemon.elector?.isLeader(), b.daemon.elector?.isLeader()]).toEqual([true, false]);
    const preds = Array.from({ length: 30 }, (_, i) => ({ id: `b${i}`, ts: T0 - 1000, model_version: 'v1', prediction: 1, score: 0.9, features: { amount: i, country: 'PL' } }));
    expect((await post(b, 'predictions', preds)).statusCode).toBe(200);
    for (const t of [a, b]) {
      await t.daemon.cycle.run();
      await t.daemon.remediation.idle();
      await t.daemon.alerting.flush(T0);
    }
    // both fire the alert; one incident, one breaker action, one circuit opened, by the leader
    for (const t of [a, b]) expect(t.daemon.alerting.service.activeAlerts().map((x) => x.alert.state)).toEqual(['firing']);
    const incidents = (await a.daemon.app.inject({ url: '/v1/incidents' })).json().incidents as { actions: { action: string; status: string }[] }[];
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.actions.map((x) => `${x.action}:${x.status}`)).toEqual(['breaker:succeeded']);
    // the webhook hears the leader only
    await waitFor('the notification', async () => (hook.state.payloads.length > 0 ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.state.payloads).toHaveLength(1);
    // a serving app may ask either replica for its circuit: after its next cycle the follower answers as the leader
    await b.daemon.cycle.run();
    const circuit = async (t: TestDaemon) => {
      const r = await t.daemon.app.inject({ url: '/v1/models/fraud/circuit' });
      return [r.json().state, r.headers.etag];
    };
    expect((await circuit(a))[0]).toBe('open');
    expect(await circuit(b)).toEqual(await circuit(a));
    // an admin closes it through the follower: the leader reads it at its next cycle
    expect((await b.daemon.app.inject({ method: 'PUT', url: '/v1/models/fraud/circuit', headers: { 'content-type': 'application/json' }, payload: '{"state":"closed"}' })).statusCode).toBe(200);
    await a.daemon.cycle.run();
    expect((await circuit(a))[0]).toBe('closed');
    expect(await circuit(a)).toEqual(await circuit(b));
  });

  it('an operator may use any replica, one that led before too: an ack there stops the leader\'s escalation, a circuit forced there is taken', async () => {
    const [slack, pager] = [await startFakeWebhook(), await startFakeWebhook()];
    drops.push(() => slack.close(), () => pager.close());
    const config = `
rule_files: [busy.yml]
notifications:
  default_receiver: slack
  group_wait: 0s
  receivers:
    - { name: slack, type: webhook, url: "${slack.url}/hook" }
    - { name: pager, type: webhook, url: "${pager.url}/hook" }
  escalation:
    - matchers: ['alertname="Busy"']
      steps: [{ after: 30m, receiver: pager }]
models:
  - { name: fraud, task: binary, positive_class: "1", windows: [1d], min_samples: 5, features: [{ name: x, type: numeric }] }
  - { name: churn, task: binary, positive_class: "1", windows: [1d], min_samples: 5, features: [{ name: x, type: numeric }] }
alerting: { bundled_rules: false }
`;
    const files = { 'busy.yml': 'groups:\n  - name: g\n    rules:\n      - alert: Busy\n        expr: ml_window_samples{window="1d", segment=""} > 10\n' };
    const { a, b } = await pair(config, files);
    // b leads first and hands over (as a stop does): b is a replica that led before, its fence is stale
    await b.daemon.elector?.tick();
    await b.daemon.elector?.stop();
    await a.daemon.elector?.tick();
    await b.daemon.elector?.tick();
    expect([a.daemon.elector?.isLeader(), b.daemon.elector?.isLeader(), b.daemon.elector?.fence()?.epoch]).toEqual([true, false, 1]);
    for (const model of ['fraud', 'churn']) {
      const items = Array.from({ length: 20 }, (_, i) => ({ id: `${model}-${i}`, ts: T0 - 1000, prediction: 1, score: 0.9, features: { x: i } }));
      const r = await a.daemon.app.inject({ method: 'POST', url: `/v1/models/${model}/predictions`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });
      expect(r.statusCode).toBe(200);
    }
    const cycle = async (advanceMs: number): Promise<void> => {
      for (const t of [a, b]) {
        t.clock.advance(advanceMs);
        await t.daemon.cycle.run();
        await t.daemon.remediation.idle();
        await t.daemon.alerting.flush(t.clock.now());
      }
    };
    await cycle(0);
    await waitFor('the ordinary notification', async () => (slack.state.payloads.length > 0 ? true : undefined), 5000);
    // the incidents are the leader's, opened after b loaded its state: b acknowledges one of them all the same
    const incidents = (await b.daemon.app.inject({ url: '/v1/incidents?status=open' })).json().incidents as { id: string; model: string }[];
    expect(incidents.map((i) => i.model).sort()).toEqual(['churn', 'fraud']);
    const fraud = incidents.find((i) => i.model === 'fraud') as { id: string };
    const ack = await b.daemon.app.inject({ method: 'POST', url: `/v1/incidents/${fraud.id}/ack`, payload: { by: 'alice', comment: 'on it' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ action: 'vigil:ack', status: 'succeeded' });
    // through the leader too: the first ack is answered
    expect((await a.daemon.app.inject({ method: 'POST', url: `/v1/incidents/${fraud.id}/ack`, payload: { by: 'bob' } })).json().id).toBe(ack.json().id);
    // 30 minutes on: the leader escalates churn (the positive control) and not fraud
    await cycle(31 * 60_000);
    await waitFor('the escalation', async () => (pager.state.payloads.length > 0 ? true : undefined), 5000);
    await cycle(60_000);
    const escalated = pager.state.payloads.flatMap((p) => (p as { alerts: { labels: Record<string, string> }[] }).alerts.map((x) => x.labels.model));
    expect(escalated).toEqual(['churn']);
    // an admin forces a circuit open through b: taken (an operator's write is nobody's fence), and the leader holds it after its cycle
    const put = await b.daemon.app.inject({ method: 'PUT', url: '/v1/models/churn/circuit', headers: { 'content-type': 'application/json' }, payload: '{"state":"open","reason":"maintenance"}' });
    expect(put.statusCode).toBe(200);
    await cycle(0);
    expect((await a.daemon.app.inject({ url: '/v1/models/churn/circuit' })).json()).toMatchObject({ state: 'open', manual: true });
  });

  it("a new leader takes the direct notifications over from the store: it delivers the last leader's undelivered one once and does not notify a still-firing alert again", async () => {
    const hook = await startFakeWebhook();
    drops.push(() => hook.close());
    const config = `
rule_files: [busy.yml]
notifications:
  default_receiver: team
  group_wait: 0s
  repeat_interval: 4h
  receivers:
    - { name: team, type: webhook, url: "${hook.url}/hook" }
${CONFIG.replace('rule_files: []\n', '')}`;
    const files = { 'busy.yml': 'groups:\n  - name: g\n    rules:\n      - alert: Busy\n        expr: ml_window_samples{window="1h", segment=""} > 10\n' };
    const { a, b, url } = await pair(config, files);
    await a.daemon.elector?.tick();
    await b.daemon.elector?.tick();
    const preds = Array.from({ length: 30 }, (_, i) => ({ id: `n${i}`, ts: T0 - 1000, model_version: 'v1', prediction: 1, score: 0.9, features: { amount: i, country: 'PL' } }));
    expect((await post(a, 'predictions', preds)).statusCode).toBe(200);
    // the receiver is down while the leader notifies: the notification stays in the outbox
    await hook.down();
    for (const t of [a, b]) {
      await t.daemon.cycle.run();
      await t.daemon.alerting.flush(T0);
    }
    const check = await openPostgres(url, { schema: 'vigil', logger: createLogger({ level: 'silent' }), now: T0 });
    drops.unshift(() => check.close());
    const outbox = async (): Promise<number> => (await check.listOutbox()).filter((e) => e.receiver === 'team').length;
    expect(await outbox()).toBe(1);
    // the leader stops (and hands over); the receiver is back; the follower takes over
    await a.close();
    daemons.splice(daemons.indexOf(a), 1);
    await hook.up();
    await b.daemon.elector?.tick();
    expect(b.daemon.elector?.isLeader()).toBe(true);
    b.clock.advance(60_000);
    await b.daemon.cycle.run();
    await b.daemon.alerting.flush(b.clock.now());
    await waitFor('the notification delivered by the new leader', async () => (hook.state.payloads.length > 0 ? true : undefined), 10_000);
    // still firing, cycle after cycle: not notified again (the last leader's notify log came with its groups)
    for (let i = 0; i < 3; i++) {
      b.clock.advance(60_000);
      await b.daemon.cycle.run();
      await b.daemon.alerting.flush(b.clock.now());
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.state.payloads).toHaveLength(1);
    expect(hook.state.payloads[0]).toMatchObject({ status: 'firing', alerts: [{ labels: { alertname: 'Busy' } }] });
    await waitFor('the outbox emptied', async () => ((await outbox()) === 0 ? true : undefined), 5000);
  });

  it('only the leader collects the pull sources; a follower exports the samples it shared; a new leader collects at once', async () => {
    const prom = await startFakePrometheus();
    drops.push(() => prom.close());
    const query = 'sum by (model) (rate(http_requests_total[5m]))';
    prom.state.results.set(query, vector([{ model: 'fraud' }, '0.25']));
    const config = `
sources:
  - name: serving
    type: prometheus
    url: ${prom.url}
    interval: 1h
    retries: 0
    queries:
      - query: '${query}'
        metric: ml_prediction_latency_p95_seconds
        labels: { version: all, window: 5m }
${CONFIG}`;
    const { a, b } = await pair(config);
    await a.daemon.elector?.tick();
    await b.daemon.elector?.tick();
    const p95 = (t: TestDaemon): number | undefined => t.daemon.snapshot().value('ml_prediction_latency_p95_seconds', { model: 'fraud', version: 'all', window: '5m' });
    // a scheduled run on each replica: the leader's asks Prometheus, the follower's does nothing
    await a.daemon.scheduler.trigger('source:serving');
    await b.daemon.scheduler.trigger('source:serving');
    expect(prom.state.requests).toHaveLength(1);
    // the leader's first cycle collects too (it became leader: the sources are collected before it acts), the follower's does not
    for (const t of [a, b]) await t.daemon.cycle.run();
    expect(prom.state.requests).toHaveLength(2);
    await b.daemon.cycle.run();
    expect([p95(a), p95(b)]).toEqual([0.25, 0.25]);
    expect((await mlSeries(b)).filter((l) => l.startsWith('ml_prediction_latency_p95_seconds'))).toEqual((await mlSeries(a)).filter((l) => l.startsWith('ml_prediction_latency_p95_seconds')));
    // the source health is the collecting replica's: the follower exports none (no vigil_source_up 0 to alert on)
    expect((await b.daemon.app.inject({ url: '/metrics' })).body).not.toMatch(/^vigil_source_up/m);
    expect((await a.daemon.app.inject({ url: '/metrics' })).body).toContain('vigil_source_up{source="serving"} 1');
    // the leader hands over (as a stop does): at its next cycle it exports no source health, the samples are the store's
    prom.state.results.set(query, vector([{ model: 'fraud' }, '0.5']));
    await a.daemon.elector?.stop();
    await a.daemon.cycle.run();
    expect((await a.daemon.app.inject({ url: '/metrics' })).body).not.toMatch(/^vigil_source_up/m);
    expect(p95(a)).toBe(0.25);
    // b takes over and collects at once, in its next cycle (not an hour later)
    await b.daemon.elector?.tick();
    await b.daemon.cycle.run();
    expect(prom.state.requests).toHaveLength(3);
    await b.daemon.cycle.run();
    expect(p95(b)).toBe(0.5);
  });

  it("a KServe inference's request taken by one replica and its response by the other are joined (the halves wait in the database)", async () => {
    const config = `
models:
  - name: iris
    task: multiclass
    classes: ["0", "1", "2"]
    windows: [1h]
    features:
      - { name: sepal_length, type: numeric }
      - { name: sepal_width, type: numeric }
      - { name: petal_length, type: numeric }
      - { name: petal_width, type: numeric }
    kserve: { inference_service: sklearn-iris }
kserve: { join_timeout: 30s }
rule_files: []
alerting: { bundled_rules: false }
`;
    const { a, b } = await pair(config);
    const headers = (type: 'request' | 'response', id: string): Record<string, string> => ({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${type}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': new Date(T0 - 500).toISOString(),
      'ce-inferenceservicename': 'sklearn-iris',
      'ce-component': 'predictor',
      'ce-endpoint': 'default',
    });
    const send = (t: TestDaemon, type: 'request' | 'response', id: string, body: unknown) => t.daemon.app.inject({ method: 'POST', url: '/v1/kserve/events', headers: headers(type, id), payload: JSON.stringify(body) });
    const request = { instances: [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] };
    const response = { predictions: [1, 1] };
    // the request to a, the response to b; and the other way round for a second inference
    expect((await send(a, 'request', 'one', request)).json()).toMatchObject({ accepted_events: 1, joined_predictions: 0, pending: 1 });
    expect((await send(b, 'response', 'one', response)).json()).toMatchObject({ accepted_events: 1, joined_predictions: 2, stored: 2, pending: 0 });
    expect((await send(b, 'response', 'two', response)).json()).toMatchObject({ joined_predictions: 0, pending: 1 });
    expect((await send(a, 'request', 'two', request)).json()).toMatchObject({ joined_predictions: 2, stored: 2, pending: 0 });
    // both halves at the same moment, one to each replica: joined once (each offer holds the key's lock)
    for (let k = 0; k < 5; k++) {
      const [x, y] = await Promise.all([send(a, 'request', `same-${k}`, request), send(b, 'response', `same-${k}`, response)]);
      expect((x.json() as { joined_predictions: number }).joined_predictions + (y.json() as { joined_predictions: number }).joined_predictions).toBe(2);
    }
    // both hold all four predictions (one took them, the other follows the store)
    for (const t of [a, b]) {
      await t.daemon.follower?.poll();
      const stored = (await t.daemon.app.inject({ url: '/v1/models/iris/predictions/one%2F0' })).json() as { features: Record<string, number> };
      expect(stored.features).toEqual({ sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 });
      expect((await t.daemon.app.inject({ url: '/v1/models/iris/predictions/two%2F1' })).statusCode).toBe(200);
    }
    // a request both replicas would see expire: dropped and counted once, by whichever swept first
    expect((await send(a, 'request', 'lonely', request)).json()).toMatchObject({ pending: 1 });
    const unmatched = async (t: TestDaemon): Promise<number> => Number(/^vigil_kserve_unmatched_total\{[^}]*half="request"[^}]*\} (\S+)$/m.exec((await t.daemon.app.inject({ url: '/metrics' })).body)?.[1] ?? 0);
    await waitFor('the lonely half dropped (the sweep runs every second)', async () => {
      a.clock.advance(31_000);
      b.clock.advance(31_000);
      await new Promise((r) => setTimeout(r, 200));
      return (await unmatched(a)) + (await unmatched(b)) >= 1 ? true : undefined;
    }, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await unmatched(a)) + (await unmatched(b))).toBe(1);
  });
});
