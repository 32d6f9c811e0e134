import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dispatcher, NotificationsConfigSchema, type DispatchAlert } from '../src/alerting/notifiers/dispatcher.js';
import { CountingNotificationMetrics } from '../src/alerting/notifiers/metrics.js';
import { MemoryOutboxStore } from '../src/alerting/notifiers/outbox.js';
import { createNotifiers } from '../src/alerting/notifiers/registry.js';
import type { WebhookPayload } from '../src/alerting/notifiers/webhook.js';
import { debianTool } from './debian.js';
import { startFakeWebhook, type FakeWebhook } from './fakes/fake-receivers.js';
import { Processes, freePort, waitFor } from './processes.js';

/**
 * Vigil's webhook payload against the real Alertmanager's (Debian `prometheus-alertmanager`): the
 * same alerts, routed by the same tree (a child route with matchers, a default route), reach one
 * webhook receiver from both; a receiver written for Alertmanager must not tell them apart — the
 * group key (route key, then the group's label set as Alertmanager prints it), a firing alert's
 * `endsAt` (Alertmanager hides an end that is not reached yet: the zero time), the fingerprints,
 * the fields.
 */
const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');

const dir = mkdtempSync(join(tmpdir(), 'vigil-webhook-parity-'));
const procs = new Processes();
let hook: FakeWebhook | undefined;
afterAll(async () => {
  await procs.stopAll();
  await hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

const iso = (t: number) => new Date(t).toISOString();

describe.runIf(alertmanager.available)('webhook payloads as the real Alertmanager sends them', () => {
  it('the same group key, endsAt, fingerprints and fields as Alertmanager 0.25 for the same alerts and routes', async () => {
    hook = await startFakeWebhook();
    const amPort = await freePort();
    const am = `http://127.0.0.1:${amPort}`;
    // The same tree in both: a child route for critical alerts, the default route for the rest.
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route:
  receiver: ml
  group_by: [alertname, model]
  group_wait: 1s
  group_interval: 1s
  routes:
    - matchers: ['severity="critical"']
      receiver: oncall
receivers:
  - name: ml
    webhook_configs: [{ url: '${hook.url}/am/ml', send_resolved: true }]
  - name: oncall
    webhook_configs: [{ url: '${hook.url}/am/oncall', send_resolved: true }]
`,
    );
    procs.run('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${mkdtempSync(join(dir, 'am-'))}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);
    await waitFor('alertmanager ready', async () => ((await fetch(`${am}/-/ready`)).ok ? true : undefined));

    // a time whose milliseconds end in zeros (Go writes 120 ms as .12, 0 ms not at all)
    const now = Math.floor(Date.now() / 1000) * 1000 + 120;
    const alerts: DispatchAlert[] = [
      // label values Go quotes (a tab, a quote, a backslash, a non-ASCII letter), names sorting as
      // strings and as label names differently (a, a0)
      { labels: { alertname: 'AccuracyDrop', model: 'fraud\t"v2"\\é', severity: 'critical', a: '1', a0: '2' }, annotations: { summary: 'accuracy down' }, startsAt: iso(now - 60_000), endsAt: iso(now + 3_600_000), generatorURL: 'http://vigil:9470/x' },
      { labels: { alertname: 'DriftDetected', model: 'churn', severity: 'warning' }, annotations: { summary: 'drift' }, startsAt: iso(now - 30_000), endsAt: iso(now + 3_600_000), generatorURL: 'http://vigil:9470/y' },
    ];
    const r = await fetch(`${am}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    expect(r.status).toBe(200);
    const fromAm = await waitFor('Alertmanager\'s two notifications', async () => {
      const ps = hook?.state.payloads as WebhookPayload[];
      return ps.length >= 2 ? [...ps] : undefined;
    });

    // Vigil's dispatcher, configured as the same tree, to the same receiver
    const config = NotificationsConfigSchema.parse({
      receivers: [
        { type: 'webhook', name: 'ml', url: `${hook.url}/vigil/ml` },
        { type: 'webhook', name: 'oncall', url: `${hook.url}/vigil/oncall` },
      ],
      default_receiver: 'ml',
      group_by: ['alertname', 'model'],
      group_wait: '1s',
      group_interval: '1s',
      routes: [{ matchers: ['severity="critical"'], receiver: 'oncall' }],
    });
    const d = new Dispatcher({ config, notifiers: createNotifiers(config.receivers), outbox: new MemoryOutboxStore(), metrics: new CountingNotificationMetrics(), externalURL: am });
    d.process(alerts, now);
    await d.flush(now + 1_000);
    await d.idle();
    const fromVigil = (hook.state.payloads as WebhookPayload[]).slice(fromAm.length);
    expect(fromVigil).toHaveLength(2);

    const byReceiver = (ps: WebhookPayload[]) => new Map(ps.map((p) => [p.receiver, p]));
    const a = byReceiver(fromAm);
    const v = byReceiver(fromVigil);
    for (const receiver of ['oncall', 'ml']) {
      const x = a.get(receiver) as WebhookPayload;
      const y = v.get(receiver) as WebhookPayload;
      expect(Object.keys(y).sort()).toEqual(Object.keys(x).sort());
      expect(y.groupKey).toBe(x.groupKey);
      expect(y.status).toBe(x.status);
      expect(y.groupLabels).toEqual(x.groupLabels);
      expect(y.commonLabels).toEqual(x.commonLabels);
      expect(y.truncatedAlerts).toBe(x.truncatedAlerts);
      expect(y.version).toBe(x.version);
      expect(y.alerts.map((al) => ({ ...al, generatorURL: undefined }))).toEqual(x.alerts.map((al) => ({ ...al, generatorURL: undefined })));
    }
    expect(a.get('oncall')?.groupKey).toMatch(/^\{\}\/\{severity="critical"\}:\{/);
    expect(a.get('ml')?.alerts[0]?.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(a.get('ml')?.alerts[0]?.startsAt).toMatch(/\.12Z$/);

    // resolved: the same alerts, ended in the past. (An end still ahead when Alertmanager gets it
    // does not shorten the hour it had: types.Alert.Merge keeps the later end of an unresolved alert.)
    const end = Date.now();
    const ended = alerts.map((al) => ({ ...al, endsAt: iso(Math.floor((end - 1_500) / 1000) * 1000 + 120) }));
    const seen = hook.state.payloads.length;
    expect((await fetch(`${am}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ended) })).status).toBe(200);
    const resolvedAm = await waitFor('Alertmanager\'s resolved notifications', async () => {
      const ps = (hook?.state.payloads as WebhookPayload[]).slice(seen);
      return ps.length >= 2 ? [...ps] : undefined;
    });
    d.process(ended, end);
    await d.flush(Math.max(end, d.nextFlushAt() ?? end)); // the groups' next flush, group_interval after the first
    await d.idle();
    const resolvedVigil = (hook.state.payloads as WebhookPayload[]).slice(seen + resolvedAm.length);
    expect(resolvedVigil).toHaveLength(2);
    const ra = byReceiver(resolvedAm);
    const rv = byReceiver(resolvedVigil);
    for (const receiver of ['oncall', 'ml']) {
      const x = ra.get(receiver) as WebhookPayload;
      const y = rv.get(receiver) as WebhookPayload;
      expect(x.status).toBe('resolved');
      expect(y.status).toBe('resolved');
      expect(y.groupKey).toBe(x.groupKey);
      expect(y.alerts.map((al) => ({ ...al, generatorURL: undefined }))).toEqual(x.alerts.map((al) => ({ ...al, generatorURL: undefined })));
    }
  }, 60_000);
});
