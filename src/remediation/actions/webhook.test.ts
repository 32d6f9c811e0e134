import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeWebhook, type FakeWebhook } from '../../../test/fakes/fake-receivers.js';
import { VigilError } from '../../core/errors.js';
import { SourceError } from '../../ingest/sources/http.js';
import { basicAuth, newFakeState, startFake } from '../../sim/fake-http.js';
import { WebhookActionSchema } from '../config.js';
import { testContext, TEST_NOW } from './test-context.js';
import { createWebhookAction } from './webhook.js';

const cfg = (over: Record<string, unknown>) => WebhookActionSchema.parse({ type: 'webhook', ...over });

describe('webhook action', () => {
  let hook: FakeWebhook;
  beforeEach(async () => {
    hook = await startFakeWebhook();
  });
  afterEach(() => hook.close());

  it('POSTs the default body with Idempotency-Key, X-Vigil-* and the configured headers and auth', async () => {
    const action = createWebhookAction(cfg({ url: `${hook.url}/hooks/vigil?team=ml`, headers: { 'X-Team': 'ml' }, bearer_token: 's3cret' }));
    expect(action).toMatchObject({ type: 'webhook', idempotent: false, needsModel: false });
    const ctx = testContext({ model: 'fraud', incidentId: 'inc-7', idempotencyKey: 'inc-7:notify', action: 'notify', labels: { team: 'risk' } });
    const r = await action.execute(ctx);
    expect(r.outcome).toBe('succeeded');
    expect(r.details).toMatchObject({ status: 200, method: 'POST', url: `${hook.url}/hooks/vigil` });
    expect(hook.state.requests).toHaveLength(1);
    const req = hook.state.requests[0];
    expect(req?.path).toBe('/hooks/vigil');
    expect(req?.query).toEqual({ team: 'ml' });
    expect(req?.headers).toMatchObject({
      'idempotency-key': 'inc-7:notify',
      'x-vigil-incident': 'inc-7',
      'x-vigil-action': 'notify',
      'x-team': 'ml',
      authorization: 'Bearer s3cret',
      'content-type': 'application/json',
    });
    expect(req?.json).toEqual({
      version: '1',
      action: 'notify',
      model: 'fraud',
      incident_id: 'inc-7',
      idempotency_key: 'inc-7:notify',
      alert: {
        alertname: 'ModelAccuracyDrop',
        labels: { alertname: 'ModelAccuracyDrop', model: 'fraud', severity: 'critical', team: 'risk' },
        annotations: { summary: 'accuracy of fraud dropped' },
        fired_at: new Date(TEST_NOW - 60_000).toISOString(),
      },
    });
  });

  it('expands every string leaf of the configured body as a template; keys and other values stay', async () => {
    const body = {
      text: 'Model {{ $labels.model }} is {{ $labels.severity | toUpper }}',
      nested: { list: ['{{ $labels.alertname }}', 3, true, null, { deep: '{{ if eq $labels.model "fraud" }}yes{{ else }}no{{ end }}' }] },
      '{{ $labels.model }}': 'key is not a template',
    };
    const action = createWebhookAction(cfg({ url: hook.url, body, basic_auth: { username: 'u', password: 'p' } }));
    await action.execute(testContext({ model: 'fraud' }));
    expect(hook.state.payloads[0]).toEqual({
      text: 'Model fraud is CRITICAL',
      nested: { list: ['ModelAccuracyDrop', 3, true, null, { deep: 'yes' }] },
      '{{ $labels.model }}': 'key is not a template',
    });
    expect(hook.state.requests[0]?.headers.authorization).toBe(basicAuth('u', 'p'));
    const ctx = testContext({ model: 'churn' });
    expect(action.describe({ model: ctx.model, alert: ctx.alert })).toMatchObject({ body: { text: 'Model churn is CRITICAL' } });
    expect(hook.state.requests).toHaveLength(1);
  });

  it('a template error is refused by the schema, and at run time is non-retryable, names the body path and sends nothing', async () => {
    const bad = { ok: 'fine', items: ['x', { msg: '{{ $labels.model ' }] };
    expect(() => cfg({ url: hook.url, body: bad })).toThrow(/not a valid template/);
    const action = createWebhookAction({ ...cfg({ url: hook.url }), body: bad });
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err).toBeInstanceOf(VigilError);
    expect(err).not.toBeInstanceOf(SourceError);
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_TEMPLATE');
    expect(err.message).toContain('body.items[1].msg');
    expect(hook.state.requests).toHaveLength(0);
  });

  it('500 and 429 are retryable SourceErrors; 400 is not', async () => {
    const action = createWebhookAction(cfg({ url: hook.url }));
    hook.state.faults.push({ status: 500, body: 'upstream broke' }, { status: 429, body: 'slow down', headers: { 'retry-after': '7' } }, { status: 400, body: 'bad payload' });
    const e500 = (await action.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(e500).toBeInstanceOf(SourceError);
    expect(e500).toMatchObject({ retryable: true, status: 500 });
    expect(e500.message).toContain('upstream broke');
    const e429 = (await action.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(e429).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7_000 });
    const e400 = (await action.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(e400).toMatchObject({ retryable: false, status: 400 });
    // The retry carries the same Idempotency-Key.
    await action.execute(testContext());
    expect(new Set(hook.state.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['inc-0001:rollback']));
  });

  it('a receiver that is down is a retryable network error', async () => {
    const action = createWebhookAction(cfg({ url: hook.url }));
    await hook.down();
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.retryable).toBe(true);
    await hook.up();
  });

  it('PUT is sent as PUT', async () => {
    const state = newFakeState();
    const srv = await startFake(state, (req) => (req.method === 'PUT' ? { status: 201, body: { stored: true } } : { status: 405, body: 'no' }));
    try {
      const action = createWebhookAction(cfg({ url: `${srv.url}/state/fraud`, method: 'PUT', body: { model: '{{ $labels.model }}' } }));
      const r = await action.execute(testContext());
      expect(r.details).toMatchObject({ method: 'PUT', status: 201, response: '{"stored":true}' });
      expect(state.requests[0]).toMatchObject({ method: 'PUT', path: '/state/fraud', json: { model: 'fraud' } });
    } finally {
      await srv.close();
    }
  });
});
