import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAlertmanager, type FakeAlertmanager } from '../../test/fakes/fake-alertmanager.js';
import { startFakeOtlp, type FakeOtlp, type OtlpSpan } from '../../test/fakes/fake-otlp.js';
import { startFakeWebhook, type FakeWebhook } from '../../test/fakes/fake-receivers.js';
import { testDaemon, type TestDaemon } from '../../test/harness.js';
import { waitFor } from '../../test/processes.js';

const T0 = Date.UTC(2026, 11, 6, 12);
let otlp: FakeOtlp | undefined;
let hook: FakeWebhook | undefined;
let am: FakeAlertmanager | undefined;
let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  await otlp?.close();
  await hook?.close();
  await am?.close();
  t = otlp = hook = am = undefined;
});

const config = (endpoint: string | undefined, hookUrl: string, amUrl?: string) => `
${endpoint === undefined ? '' : `tracing:\n  otlp:\n    endpoint: ${endpoint}\n`}${amUrl === undefined ? '' : `alertmanagers:\n  - url: ${amUrl}\n`}
rule_files: [busy.yml]
alerting: { bundled_rules: false }
notifications:
  default_receiver: team
  group_wait: 0s
  receivers:
    - { name: team, type: webhook, url: "${hookUrl}/hook" }
remediation:
  actions:
    breaker: { type: circuit_breaker }
  routes:
    - matchers: ['alertname="Busy"']
      actions: [breaker]
models:
  - { name: fraud, task: binary, positive_class: "1", windows: [1h], min_samples: 5, features: [{ name: amount, type: numeric }] }
`;
const files = { 'busy.yml': 'groups:\n  - name: g\n    rules:\n      - alert: Busy\n        expr: ml_window_samples{window="1h", segment=""} > 10\n' };
const preds = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, ts: T0 - 1000, prediction: 1, score: 0.9, features: { amount: i } }));
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('tracing (tracing.otlp.endpoint)', () => {
  it("exports a span per ingestion request (the caller's traceparent its parent), per cycle and stage, per remediation action and per notification", async () => {
    otlp = await startFakeOtlp();
    hook = await startFakeWebhook();
    am = await startFakeAlertmanager();
    t = await testDaemon(config(otlp.url, hook.url, am.url), { now: T0, files });
    const posted = await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/fraud/predictions',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
      payload: JSON.stringify(preds),
    });
    expect(posted.statusCode).toBe(200);
    // predictions that carry their own trace contexts: the request's span links to them
    const OWN = ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331'];
    const linked = await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/fraud/predictions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([{ ...preds[0], id: 'own-1', traceparent: `00-${OWN[0]}-${OWN[1]}-01` }, { ...preds[1], id: 'own-2', traceparent: `00-${OWN[0]}-${OWN[1]}-01` }]),
    });
    expect(linked.statusCode).toBe(200);
    await t.daemon.cycle.run();
    await t.daemon.remediation.idle();
    await t.daemon.alerting.flush(T0);
    await waitFor('the notification', async () => (hook?.state.payloads.length ? true : undefined), 5000);
    await waitFor('the alert at Alertmanager', async () => ((am?.state.requests.length ?? 0) > 0 ? true : undefined), 5000);
    await t.close(); // the spans still buffered are exported at shutdown
    t = undefined;
    const spans = otlp.spans;
    const byName = (name: string) => spans.filter((s) => s.name === name);
    // ingestion: a server span in the caller's trace, its parent the caller's span
    const [ingest] = byName('ingest predictions');
    expect(ingest).toMatchObject({ traceId: TRACE, parentSpanId: CALLER_SPAN, kind: 2, attributes: { 'vigil.model': 'fraud', 'vigil.kind': 'predictions', 'vigil.items': 20, 'vigil.accepted': 20, 'vigil.rejected': 0 } });
    expect(ingest?.resource).toMatchObject({ 'service.name': 'vigil' });
    const withLinks = byName('ingest predictions').find((x) => x.traceId !== TRACE) as OtlpSpan & { links?: { traceId: string; spanId: string }[] };
    expect(withLinks.links?.map((l) => [l.traceId, l.spanId])).toEqual([OWN]);
    // the cycle: one root span, a child per stage
    const [cycle] = byName('cycle');
    expect(cycle?.parentSpanId ?? '').toBe('');
    const stages = spans.filter((s) => s.name.startsWith('cycle ') && s.parentSpanId === cycle?.spanId).map((s) => s.name);
    expect(stages).toEqual(expect.arrayContaining(['cycle monitors', 'cycle rules', 'cycle remediation', 'cycle publish']));
    expect(new Set(spans.filter((s) => s.name.startsWith('cycle ')).map((s) => s.traceId))).toEqual(new Set([cycle?.traceId]));
    // the breaker action and the webhook delivery
    expect(byName('remediation circuit_breaker')[0]).toMatchObject({ attributes: { 'vigil.action': 'breaker', 'vigil.model': 'fraud', 'vigil.outcome': 'succeeded' } });
    expect(byName('notify webhook')[0]).toMatchObject({ kind: 3, attributes: { 'vigil.receiver': 'team', 'vigil.attempt': 1 } });
    expect(byName('notify alertmanager')[0]).toMatchObject({ kind: 3, attributes: { 'vigil.alerts': 1, 'vigil.retry_in_ms': 0 } });
  });

  it('off by default: nothing exported, nothing listens for it', async () => {
    otlp = await startFakeOtlp();
    hook = await startFakeWebhook();
    t = await testDaemon(config(undefined, hook.url), { now: T0, files });
    expect((await t.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json', traceparent: `00-${TRACE}-${CALLER_SPAN}-01` }, payload: JSON.stringify(preds) })).statusCode).toBe(200);
    await t.daemon.cycle.run();
    await t.close();
    t = undefined;
    expect(otlp.requests).toBe(0);
  });

  it('a collector that answers 503 with Retry-After: the batch is sent again; Vigil goes on', async () => {
    otlp = await startFakeOtlp();
    hook = await startFakeWebhook();
    otlp.failNext = 1;
    t = await testDaemon(config(otlp.url, hook.url), { now: T0, files });
    expect((await t.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) })).statusCode).toBe(200);
    await t.daemon.cycle.run();
    await waitFor('the export retried after the 503', async () => (otlp !== undefined && otlp.spans.some((s) => s.name === 'ingest predictions') ? true : undefined), 15_000);
    expect(otlp.requests).toBeGreaterThanOrEqual(2);
    // no caller trace: the ingestion span is a root of its own
    expect(otlp.spans.find((s) => s.name === 'ingest predictions')?.parentSpanId ?? '').toBe('');
  });
});
