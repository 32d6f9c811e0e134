import { afterEach, describe, expect, it } from 'vitest';
import { startFakeWebhook, type FakeWebhook } from '../../../test/fakes/fake-receivers.js';
import { basicAuth } from '../../sim/fake-http.js';
import { alert, deliverOnce, notification, notifierContract, steppedTime, T0 } from './notifier.contract.js';
import { buildPayload, createWebhookNotifier, WebhookConfigSchema } from './webhook.js';

const cfg = (url: string, extra: Record<string, unknown> = {}) => WebhookConfigSchema.parse({ type: 'webhook', name: 'team', url, ...extra });

describe('webhook buildPayload (Alertmanager webhook payload version 4)', () => {
  it('has exactly the fields of Alertmanager\'s webhook message, field by field', () => {
    const n = notification();
    const p = buildPayload(n);
    expect(Object.keys(p).sort()).toEqual(['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version'].sort());
    expect(p.version).toBe('4');
    expect(p.receiver).toBe('team');
    expect(p.status).toBe('firing');
    expect(p.groupKey).toBe('{}/{severity="critical"}:{alertname="AccuracyDrop"}');
    expect(p.groupLabels).toEqual({ alertname: 'AccuracyDrop' });
    expect(p.commonLabels).toEqual({ alertname: 'AccuracyDrop', model: 'fraud-v2', severity: 'critical' });
    expect(p.commonAnnotations).toEqual({});
    expect(p.externalURL).toBe('http://vigil.example:9470');
    expect(p.truncatedAlerts).toBe(0);
    expect(p.alerts).toHaveLength(2);
    const a = p.alerts[0];
    expect(Object.keys(a ?? {}).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
    expect(a).toEqual({
      status: 'firing',
      labels: { alertname: 'AccuracyDrop', model: 'fraud-v2', severity: 'critical', window: '1h' },
      annotations: { summary: 'AccuracyDrop on fraud-v2' },
      startsAt: '2025-03-01T11:55:00.000Z',
      endsAt: '2025-03-01T12:04:00.000Z',
      generatorURL: 'http://vigil.example:9470/api/v1/rules?rule_name=AccuracyDrop',
      fingerprint: '1111111111111111',
    });
  });

  it('marks a group with only resolved alerts as resolved', () => {
    const n = notification({ alerts: [alert({ alertname: 'X' }, { status: 'resolved' })] });
    const p = buildPayload(n);
    expect(p.status).toBe('resolved');
    expect(p.alerts[0]?.status).toBe('resolved');
  });

  it('cuts to max_alerts and counts the rest in truncatedAlerts', () => {
    const p = buildPayload(notification(), 1);
    expect(p.alerts).toHaveLength(1);
    expect(p.truncatedAlerts).toBe(1);
  });

  it('config: send_resolved defaults to true (Alertmanager webhook_configs), timeout 10s', () => {
    const c = cfg('http://127.0.0.1:1/hook');
    expect(c.send_resolved).toBe(true);
    expect(c.timeout).toBe(10_000);
    expect(c.max_alerts).toBe(0);
    expect(WebhookConfigSchema.safeParse({ type: 'webhook', name: 'x', url: 'ftp://x' }).success).toBe(false);
  });
});

notifierContract({
  type: 'webhook',
  start: startFakeWebhook,
  create: (fake, o) => createWebhookNotifier(cfg(`${fake.url}/alerts`, { name: o.name, timeout: `${o.timeoutMs}ms` }), { now: o.now }),
  delivered: (fake) => fake.state.payloads.length,
  clientError: { fault: { status: 400, body: 'invalid alert payload: missing field' }, status: 400, excerpt: 'invalid alert payload' },
  serverError: { status: 503, body: 'upstream unavailable' },
  rateLimit: { fault: { status: 429, body: 'slow down', headers: { 'retry-after': '7' } }, delayMs: 7000 },
});


describe('webhook notifier extras', () => {
  let fake: FakeWebhook | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it('posts JSON with the bearer token', async () => {
    fake = await startFakeWebhook();
    fake.state.authorization = 'Bearer s3cret-token-for-hooks';
    const n = createWebhookNotifier(cfg(`${fake.url}/alerts`, { bearer_token: 's3cret-token-for-hooks' }));
    await n.send(notification(), new AbortController().signal);
    const req = fake.state.requests[0];
    expect(req?.path).toBe('/alerts');
    expect(req?.headers['content-type']).toMatch(/^application\/json/);
    expect(fake.state.payloads[0]).toEqual(buildPayload(notification()));
  });

  it('sends basic auth; wrong credentials are a non-retryable 401', async () => {
    fake = await startFakeWebhook();
    fake.state.authorization = basicAuth('vigil', 'pw');
    await createWebhookNotifier(cfg(fake.url, { basic_auth: { username: 'vigil', password: 'pw' } })).send(notification(), new AbortController().signal);
    expect(fake.state.payloads).toHaveLength(1);
    const err = await createWebhookNotifier(cfg(fake.url, { basic_auth: { username: 'vigil', password: 'nope' } }))
      .send(notification(), new AbortController().signal)
      .catch((e: unknown) => e as { status: number; retryable: boolean; code: string });
    expect(err).toMatchObject({ status: 401, retryable: false, code: 'VIGIL_ERR_NOTIFY_WEBHOOK_AUTH' });
  });

  it('honours a Retry-After HTTP date', async () => {
    fake = await startFakeWebhook();
    const time = steppedTime();
    fake.state.faults.push({ status: 503, body: 'maintenance', headers: { 'retry-after': new Date(T0 + 90_000).toUTCString() } });
    const { metrics } = await deliverOnce(createWebhookNotifier(cfg(fake.url), { now: time.clock.now }), time);
    expect(time.delays).toEqual([90_000]);
    expect(metrics.get('team', 'success')).toBe(1);
  });

  it('gives up at the retry deadline and counts a failure', async () => {
    fake = await startFakeWebhook();
    const time = steppedTime();
    for (let i = 0; i < 30; i++) fake.state.faults.push({ status: 500, body: 'boom' });
    const { metrics, outbox } = await deliverOnce(createWebhookNotifier(cfg(fake.url)), time);
    // 1+2+4+8+16+32+60+60+… seconds until 10 minutes are used up
    expect(time.delays.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    expect(time.delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(600_000);
    expect(metrics.get('team', 'failure')).toBe(1);
    expect(metrics.get('team', 'success')).toBe(0);
    expect(outbox.size).toBe(0);
  });
});
