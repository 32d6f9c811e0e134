import { afterEach, describe, expect, it } from 'vitest';
import { startFakeWebhook, type FakeWebhook } from '../../test/fakes/fake-receivers.js';
import { testDaemon, type TestDaemon } from '../../test/harness.js';

const T0 = Date.UTC(2026, 11, 1, 12);
const MIN = 60_000;
let t: TestDaemon | undefined;
const hooks: FakeWebhook[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const h of hooks.splice(0)) await h.close();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const RULES = `groups:
  - name: test
    rules:
      - alert: Busy
        expr: ml_window_samples{window="1d"} > 10
        labels: { severity: critical }
        annotations: { summary: "{{ $labels.model }} is busy" }
`;

async function setup(): Promise<{ slack: FakeWebhook; pager: FakeWebhook; manager: FakeWebhook }> {
  const [slack, pager, manager] = [await startFakeWebhook(), await startFakeWebhook(), await startFakeWebhook()];
  hooks.push(slack, pager, manager);
  t = await testDaemon(
    `
rule_files: [rules.yml]
alerting: { bundled_rules: false }
notifications:
  default_receiver: slack
  group_wait: 0s
  receivers:
    - { name: slack, type: webhook, url: "${slack.url}/hook" }
    - { name: pager, type: webhook, url: "${pager.url}/hook" }
    - { name: manager, type: webhook, url: "${manager.url}/hook" }
  escalation:
    - matchers: ['severity="critical"']
      steps:
        - { after: 30m, receiver: pager }
        - { after: 1h, receiver: manager }
models:
  - { name: fraud, task: binary, positive_class: 1, windows: [1d], min_samples: 5, features: [{ name: x, type: numeric }] }
  - { name: churn, task: binary, positive_class: 1, windows: [1d], min_samples: 5, features: [{ name: x, type: numeric }] }
`,
    { now: T0, files: { 'rules.yml': RULES } },
  );
  return { slack, pager, manager };
}

const post = (model: string, n: number) =>
  t!.daemon.app.inject({
    method: 'POST',
    url: `/v1/models/${model}/predictions`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: `${model}-${i}`, ts: T0 - 1000, prediction: 1, score: 0.9, features: { x: i } }))),
  });

async function cycle(advanceMs: number): Promise<void> {
  t!.clock.advance(advanceMs);
  await t!.daemon.cycle.run();
  await t!.daemon.alerting.flush(t!.clock.now());
}

const alertnames = (h: FakeWebhook) => h.state.payloads.flatMap((p) => (p as { alerts: { labels: Record<string, string> }[] }).alerts.map((a) => a.labels.model));

describe('tiered response: escalation of unacknowledged incidents', () => {
  it('escalates after each step unless acknowledged; records every step and the ack in the incident', async () => {
    const { slack, pager, manager } = await setup();
    expect((await post('fraud', 20)).statusCode).toBe(200);
    expect((await post('churn', 20)).statusCode).toBe(200);
    await cycle(0);
    await until(() => slack.state.payloads.length > 0, 'the ordinary notification');
    const incidents = (await t!.daemon.app.inject({ url: '/v1/incidents?status=open' })).json().incidents as { id: string; model: string }[];
    expect(incidents.map((i) => i.model).sort()).toEqual(['churn', 'fraud']);
    const churn = incidents.find((i) => i.model === 'churn')!;

    await cycle(29 * MIN);
    expect(pager.state.payloads).toEqual([]);
    // churn is acknowledged: it never escalates
    const ack = await t!.daemon.app.inject({ method: 'POST', url: `/v1/incidents/${churn.id}/ack`, payload: { by: 'alice', comment: 'on it' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ action: 'vigil:ack', type: 'ack', status: 'succeeded', reason: 'acknowledged by alice: on it' });
    const again = await t!.daemon.app.inject({ method: 'POST', url: `/v1/incidents/${churn.id}/ack`, payload: { by: 'bob' } });
    expect(again.json().id).toBe(ack.json().id); // acknowledging twice returns the first

    await cycle(1 * MIN); // 30m: step 1 for fraud only
    await until(() => pager.state.payloads.length > 0, 'the pager escalation');
    expect(alertnames(pager)).toEqual(['fraud']);
    expect(pager.state.payloads[0]).toMatchObject({ receiver: 'pager', status: 'firing' });
    await cycle(5 * MIN);
    expect(pager.state.payloads).toHaveLength(1); // once
    expect(manager.state.payloads).toEqual([]);
    await cycle(25 * MIN); // 1h: step 2
    await until(() => manager.state.payloads.length > 0, 'the manager escalation');
    expect(alertnames(manager)).toEqual(['fraud']);

    const fraud = (await t!.daemon.app.inject({ url: `/v1/incidents/${incidents.find((i) => i.model === 'fraud')!.id}` })).json() as { actions: { action: string; status: string; reason: string }[] };
    expect(fraud.actions.map((a) => [a.action, a.status, a.reason]).sort()).toEqual([
      ['vigil:escalation', 'succeeded', 'not acknowledged 1h after firing: escalated to manager'],
      ['vigil:escalation', 'succeeded', 'not acknowledged 30m after firing: escalated to pager'],
    ]);
    const churnTrail = (await t!.daemon.app.inject({ url: `/v1/incidents/${churn.id}` })).json() as { actions: { action: string }[] };
    expect(churnTrail.actions.map((a) => a.action)).toEqual(['vigil:ack']);
  });

  it('refuses what cannot be acknowledged, names the field, and checks the policy\'s receivers at load', async () => {
    await setup();
    expect((await t!.daemon.app.inject({ method: 'POST', url: '/v1/incidents/nope/ack', payload: {} })).statusCode).toBe(404);
    expect((await t!.daemon.app.inject({ method: 'POST', url: '/v1/incidents/nope/ack', payload: { comment: 5 } })).json()).toMatchObject({ error: { code: 'VIGIL_ERR_HTTP_VALIDATION' } });
    const { parseConfigText } = await import('../config/load.js');
    expect(() =>
      parseConfigText(
        "models: []\nnotifications:\n  receivers: [{ name: a, type: webhook, url: 'http://x/' }]\n  escalation:\n    - steps: [{ after: 1h, receiver: a }, { after: 30m, receiver: b }]\n",
        'e.yaml',
        {},
      ),
    ).toThrow(/escalation\[0\]\.steps.*increasing|unknown receiver "b"/s);
  });
});
