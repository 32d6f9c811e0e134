import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMlflow, type FakeMlflow } from '../sim/fake-mlflow.js';
import { startFakeWebhook, type FakeWebhook } from '../../test/fakes/fake-receivers.js';
import { startFakeFeast, type FakeFeast } from '../../test/fakes/fake-feast.js';
import { testDaemon, type TestDaemon } from '../../test/harness.js';
import { waitFor } from '../../test/processes.js';

/**
 * The whole loop in one daemon: predictions and labels → accuracy drops → the alert fires →
 * the circuit opens and the model is rolled back in a (fake, real-HTTP) MLflow registry → quality
 * recovers → the alert resolves → the incident closes → the circuit goes half-open, then closed.
 * Everything is checked through the HTTP API and /metrics.
 */

const T0 = Date.UTC(2026, 10, 22, 12);
const MIN = 60_000;
const ADMIN = 'admin-token-0123456789abcdef';
const INGEST = 'ingest-token-0123456789abcdef';

let t: TestDaemon | undefined;
let mlflow: FakeMlflow | undefined;
let serving: FakeWebhook | undefined;
let feast: FakeFeast | undefined;
afterEach(async () => {
  await feast?.close();
  feast = undefined;
  await t?.close();
  await mlflow?.close();
  await serving?.close();
  t = mlflow = serving = undefined;
});

const RULES = `groups:
  - name: quality
    rules:
      - alert: MLAccuracyDrop
        expr: ml_model_accuracy{window="1h"} < 0.8
        labels: { severity: critical }
        annotations: { summary: "accuracy of {{ $labels.model }} {{ $labels.version }} is {{ $value }}" }
`;

describe('remediation in the daemon', () => {
  it('accuracy drop → circuit open + rollback verified → recovery → alert resolved → incident closed → circuit closed', async () => {
    mlflow = await startFakeMlflow();
    serving = await startFakeWebhook();
    for (let i = 0; i < 3; i++) mlflow.addVersion('fraud');
    const reg = mlflow.state.models.get('fraud');
    if (reg === undefined) throw new Error('no model');
    reg.aliases.champion = '2';
    t = await testDaemon(
      `
server:
  tokens: { admin: ['${ADMIN}'], ingest: ['${INGEST}'] }
rule_files: [rules.yml]
alerting:
  bundled_rules: false
models:
  - name: fraud
    task: binary
    windows: [1h]
    min_samples: 20
sources:
  - { name: registry, type: mlflow, url: '${mlflow.url}', models: [fraud], interval: 1h }
remediation:
  circuit_breaker:
    probe_period: 10m
    webhook: { url: '${serving.url}/circuit' }
  actions:
    breaker: { type: circuit_breaker }
    rollback: { type: mlflow_rollback, url: '${mlflow.url}' }
  routes:
    - matchers: ['alertname="MLAccuracyDrop"']
      actions: [breaker, rollback]
`,
      { now: T0, files: { 'rules.yml': RULES } },
    );
    const d = t.daemon;
    const clock = t.clock;
    const admin = { authorization: `Bearer ${ADMIN}` };
    const post = async (kind: 'predictions' | 'labels', items: unknown[]) => {
      const r = await d.app.inject({ method: 'POST', url: `/v1/models/fraud/${kind}`, headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST}` }, payload: JSON.stringify(items) });
      expect(r.statusCode, r.body).toBe(200);
    };
    const traffic = async (version: string, correct: number, n: number, prefix: string) => {
      await post('predictions', Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, ts: clock.now() - 1000, model_version: version, prediction: 1, score: 0.9 })));
      await post('labels', Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, label: i < correct ? 1 : 0 })));
    };
    const metrics = async () => (await d.app.inject({ url: '/metrics' })).body;

    // Vigil sees version 2 serve healthy, then version 3 takes over.
    await d.sources.trigger('registry');
    await traffic('2', 30, 30, 'a');
    await d.cycle.run();
    reg.aliases.champion = '3';
    clock.advance(MIN);
    await d.sources.trigger('registry');
    await d.cycle.run();

    // Version 3 is bad: accuracy 0.4.
    clock.advance(MIN);
    await traffic('3', 12, 30, 'b');
    clock.advance(2 * 3_600_000 - 3 * MIN); // version 2's traffic leaves the 1h window; version 3's does too…
    await traffic('3', 12, 30, 'c'); // … so post version 3's again, fresh
    await d.cycle.run();
    await d.remediation.idle();

    expect(reg.aliases.champion).toBe('2');
    const circuit = await d.app.inject({ url: '/v1/models/fraud/circuit' });
    expect(circuit.statusCode).toBe(200);
    expect(circuit.json()).toMatchObject({ model: 'fraud', state: 'open', manual: false });
    expect(circuit.headers['cache-control']).toBe('no-cache');
    const etag = circuit.headers.etag as string;
    expect((await d.app.inject({ url: '/v1/models/fraud/circuit', headers: { 'if-none-match': etag } })).statusCode).toBe(304);

    let incidents = (await d.app.inject({ url: '/v1/incidents?model=fraud' })).json().incidents as { id: string; status: string; labels: Record<string, string>; actions: { action: string; status: string; details: Record<string, unknown> }[] }[];
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ status: 'open', labels: { alertname: 'MLAccuracyDrop', version: '3' } });
    expect(incidents[0]?.actions.map((a) => `${a.action}:${a.status}`)).toEqual(['breaker:succeeded', 'rollback:succeeded']);
    expect(incidents[0]?.actions[1]?.details).toMatchObject({ from: '3', to: '2', verified: true });
    let text = await metrics();
    expect(text).toContain('ml_remediation_actions_total{model="fraud",action="rollback",outcome="succeeded"} 1');
    expect(text).toContain('ml_remediation_actions_total{model="fraud",action="breaker",outcome="succeeded"} 1');
    expect(text).toContain('ml_circuit_breaker_state{model="fraud"} 1');
    expect(t.logs.join('')).toMatch(/"model":"fraud".*"msg":"Circuit breaker opened"/);
    const byOutcome = (await d.app.inject({ url: '/v1/incidents?outcome=failed' })).json().incidents;
    expect(byOutcome).toEqual([]);

    // Serving runs version 2 again and quality recovers; version 3's rows age out: resolved.
    clock.advance(61 * MIN);
    await traffic('2', 29, 30, 'd');
    await d.cycle.run();
    await d.remediation.idle();
    incidents = (await d.app.inject({ url: '/v1/incidents' })).json().incidents;
    expect(incidents[0]).toMatchObject({ status: 'resolved', duration_seconds: 61 * 60 });
    expect((await d.app.inject({ url: '/v1/models/fraud/circuit' })).json()).toMatchObject({ state: 'half_open' });
    text = await metrics();
    expect(text).toContain('ml_circuit_breaker_state{model="fraud"} 2');
    expect(text).toContain('ml_incident_resolution_seconds_count{model="fraud"} 1');

    clock.advance(11 * MIN);
    await d.cycle.run();
    expect((await d.app.inject({ url: '/v1/models/fraud/circuit' })).json()).toMatchObject({ state: 'closed' });
    await d.remediation.idle();
    expect((serving.state.payloads as { to: string }[]).map((p) => p.to)).toEqual(['open', 'half_open', 'closed']);

    // The audit trail: actions filtered by status, one by id.
    const actions = (await d.app.inject({ url: '/v1/actions?status=succeeded&action=rollback' })).json().actions as { id: string }[];
    expect(actions).toHaveLength(1);
    expect((await d.app.inject({ url: `/v1/actions/${actions[0]?.id}` })).json()).toMatchObject({ action: 'rollback', status: 'succeeded' });
    expect((await d.app.inject({ url: '/v1/actions?status=bogus' })).json().error.message).toMatch(/status: must be one of/);
    expect((await d.app.inject({ url: '/v1/incidents?since=yesterday' })).statusCode).toBe(400);
  });

  it('MLflow down: retries, the failure is recorded, MLRemediationFailed (bundled rule) fires, nothing crashes', async () => {
    mlflow = await startFakeMlflow();
    const deadUrl = mlflow.url;
    await mlflow.close(); // nothing listens there any more
    mlflow = undefined;
    t = await testDaemon(
      `
rule_files: [rules.yml]
models:
  - { name: fraud, task: binary, windows: [1h], min_samples: 20 }
remediation:
  actions:
    rollback: { type: mlflow_rollback, url: '${deadUrl}', retries: 2, retry_backoff: 10ms }
  routes:
    - matchers: ['alertname="MLAccuracyDrop"']
      actions: [rollback]
`,
      { now: T0, files: { 'rules.yml': RULES } },
    );
    const d = t.daemon;
    const post = (kind: string, items: unknown[]) => d.app.inject({ method: 'POST', url: `/v1/models/fraud/${kind}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });
    await post('predictions', Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, ts: T0 - 1000, prediction: 1, score: 0.9 })));
    await post('labels', Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, label: i < 10 ? 1 : 0 })));
    await d.cycle.run();
    await d.remediation.idle();
    const [action] = (await d.app.inject({ url: '/v1/actions?action=rollback' })).json().actions as { status: string; attempts: number; error: string }[];
    expect(action).toMatchObject({ status: 'failed', attempts: 3 });
    expect(action?.error).toMatch(/cannot reach/);
    t.clock.advance(30_000);
    await d.cycle.run();
    const alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as { labels: Record<string, string>; state: string }[];
    expect(alerts.find((a) => a.labels.alertname === 'MLRemediationFailed')).toMatchObject({ state: 'firing', labels: { model: 'fraud', action: 'rollback', severity: 'critical' } });
    expect((await d.app.inject({ url: '/metrics' })).body).toContain('ml_remediation_actions_total{model="fraud",action="rollback",outcome="failed"} 1');
  });

  it('stale Feast features: the alert re-materializes the view, and the action waits for the feast source to see it fresh', async () => {
    feast = await startFakeFeast();
    t = await testDaemon(
      `
rule_files: [feast.yml]
alerting: { bundled_rules: false }
models:
  - { name: fraud, task: binary }
sources:
  - { name: features, type: feast, metrics_url: '${feast.url}/metrics', interval: 1h }
remediation:
  actions:
    refresh: { type: feast_materialize, url: '${feast.url}', max_staleness: 10m, poll_interval: 20ms, timeout: 20s }
  routes:
    - matchers: ['alertname="FeastStale"']
      actions: [refresh]
`,
      { now: T0, files: { 'feast.yml': 'groups:\n  - name: feast\n    rules:\n      - alert: FeastStale\n        expr: feast_feature_freshness_seconds > 3600\n' } },
    );
    const d = t.daemon;
    const clock = t.clock;
    feast.state.now = () => clock.now();
    feast.state.views.set('customer_stats', { joinKey: 'customer_id', features: ['spend'], rows: new Map([['1', { values: { spend: 3 }, ts: T0 - 2 * 3_600_000 }]]) });
    await d.sources.trigger('features');
    await d.cycle.run(); // FeastStale fires for feature_view="customer_stats"; the action starts
    const f = feast;
    await waitFor('the materialization', async () => (f.state.materializations.length === 1 ? true : undefined), 5_000);
    expect(f.state.materializations[0]?.body).toMatchObject({ end_ts: new Date(T0).toISOString(), feature_views: ['customer_stats'] });
    // Still stale as far as Vigil knows: the action keeps waiting…
    await new Promise((r) => setTimeout(r, 100));
    expect((await d.app.inject({ url: '/v1/actions' })).json().actions[0]).toMatchObject({ action: 'refresh', status: 'running' });
    // …until the feast source collects again and sees the fresh view.
    await d.sources.trigger('features');
    await d.remediation.idle();
    const [action] = (await d.app.inject({ url: '/v1/actions' })).json().actions as { status: string; details: Record<string, unknown> }[];
    expect(action?.status).toBe('succeeded');
    expect(JSON.stringify(action?.details)).toContain('customer_stats');
  });

  it('the retention job deletes resolved incidents older than storage.audit_retention, with their records', async () => {
    // The harness starts the file with `storage:\n  path: …`: this line continues that mapping.
    t = await testDaemon(`  audit_retention: 30d\nmodels:\n  - { name: fraud, task: binary }\n`, { now: T0 });
    const d = t.daemon;
    const day = 86_400_000;
    const base = { fingerprint: 'f', alertname: 'MLAccuracyDrop', model: 'fraud', labels: {}, annotations: {}, createdAt: T0 - 40 * day };
    await d.store.saveIncident({ ...base, id: 'old', firedAt: T0 - 40 * day, resolvedAt: T0 - 39 * day, status: 'resolved' });
    await d.store.saveIncident({ ...base, id: 'open', fingerprint: 'g', firedAt: T0 - 40 * day, resolvedAt: null, status: 'open' });
    await d.scheduler.trigger('retention');
    expect((await d.app.inject({ url: '/v1/incidents' })).json().incidents.map((i: { id: string }) => i.id)).toEqual(['open']);
    expect((await d.app.inject({ url: '/metrics' })).body).toContain('vigil_store_pruned_rows_total{table="incidents"} 1');
  });

  it('admin API: circuit override, pause/resume and approvals need the admin token and validate input', async () => {
    t = await testDaemon(`
server:
  tokens: { admin: ['${ADMIN}'] }
models:
  - { name: fraud, task: binary }
remediation:
  actions:
    breaker: { type: circuit_breaker }
`);
    const d = t.daemon;
    const admin = { authorization: `Bearer ${ADMIN}` };
    expect((await d.app.inject({ method: 'PUT', url: '/v1/models/fraud/circuit', payload: { state: 'open' } })).statusCode).toBe(401);
    expect((await d.app.inject({ method: 'PUT', url: '/v1/models/fraud/circuit', headers: admin, payload: { state: 'ajar' } })).json().error).toMatchObject({ message: 'body.state: must be "open" or "closed"', field: 'state' });
    expect((await d.app.inject({ method: 'PUT', url: '/v1/models/nope/circuit', headers: admin, payload: { state: 'open' } })).statusCode).toBe(404);
    const forced = await d.app.inject({ method: 'PUT', url: '/v1/models/fraud/circuit', headers: admin, payload: { state: 'open', reason: 'bad deploy', by: 'alice' } });
    expect(forced.json()).toMatchObject({ state: 'open', manual: true, reason: 'admin alice: bad deploy' });
    expect((await d.app.inject({ url: '/metrics' })).body).toContain('ml_circuit_breaker_state{model="fraud"} 1');

    expect((await d.app.inject({ method: 'POST', url: '/v1/remediation/pause', payload: {} })).statusCode).toBe(401);
    const paused = await d.app.inject({ method: 'POST', url: '/v1/remediation/pause', headers: admin, payload: { reason: 'incident review', by: 'bob' } });
    expect(paused.json()).toMatchObject({ paused: true, pause: { by: 'bob', reason: 'incident review' } });
    expect((await d.app.inject({ url: '/metrics' })).body).toContain('vigil_remediation_paused 1');
    expect((await d.app.inject({ url: '/v1/remediation' })).json()).toMatchObject({ paused: true, circuits: [{ model: 'fraud', state: 'open' }] });
    expect((await d.app.inject({ method: 'POST', url: '/v1/remediation/resume', headers: admin, payload: { model: 'nope' } })).statusCode).toBe(400);
    expect((await d.app.inject({ method: 'POST', url: '/v1/remediation/resume', headers: admin, payload: {} })).json()).toMatchObject({ paused: false });
    expect((await d.app.inject({ method: 'POST', url: '/v1/actions/nope/approve', headers: admin, payload: {} })).statusCode).toBe(404);
    expect((await d.app.inject({ method: 'POST', url: '/v1/actions/nope/approve', payload: {} })).statusCode).toBe(401);
  });
});
