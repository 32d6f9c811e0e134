import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAlertmanager, type FakeAlertmanager } from '../../test/fakes/fake-alertmanager.js';
import { startFakeWebhook, type FakeWebhook } from '../../test/fakes/fake-receivers.js';
import { testDaemon, writeConfig, type TestDaemon } from '../../test/harness.js';

let t: TestDaemon | undefined;
let am: FakeAlertmanager | undefined;
let hook: FakeWebhook | undefined;
afterEach(async () => {
  await t?.close();
  await am?.close();
  await hook?.close();
  t = am = hook = undefined;
});

const T0 = Date.UTC(2026, 10, 1, 12);
const RULES = `groups:
  - name: test
    rules:
      - alert: BusyModel
        expr: ml_window_samples{window="1h"} > 10
        for: 2m
        labels: { severity: critical }
        annotations:
          summary: "{{ $labels.model }} has {{ $value }} samples"
          runbook_url: "{{ $externalURL }}/runbooks/BusyModel"
      - alert: SilencedOne
        expr: ml_window_samples{window="1h"} > 10
        labels: { severity: info }
`;

async function until(check: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('alerting in the daemon', () => {
  it('pending → firing after `for`, ALERTS on /metrics, Alertmanager and webhook receive it, silences suppress, resolution is sent', async () => {
    am = await startFakeAlertmanager();
    hook = await startFakeWebhook();
    const config = (rules: string) => `
server:
  external_url: http://vigil.test:9470
rule_files: [${rules}]
alerting:
  bundled_rules: false
alertmanagers:
  - url: ${am?.url}
notifications:
  default_receiver: hook
  group_wait: 10s
  receivers:
    - { name: hook, type: webhook, url: "${hook?.url}/alerts" }
models:
  - name: fraud
    task: binary
    windows: [1h]
    min_samples: 5
`;
    t = await testDaemon(config('alerts.yml'), { now: T0, files: { 'alerts.yml': RULES } });
    const d = t.daemon;
    const silence = await d.app.inject({
      method: 'POST',
      url: '/v1/silences',
      payload: { matchers: ['alertname="SilencedOne"'], endsAt: new Date(T0 + 86_400_000).toISOString(), createdBy: 'test', comment: 'quiet please' },
    });
    expect(silence.statusCode).toBe(200);
    const silenceId = silence.json().silenceID as string;

    const preds = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, ts: T0 - 1000, prediction: 1, score: 0.9 }));
    await d.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) });

    await d.cycle.run(); // t0: pending
    let alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as { labels: Record<string, string>; state: string; silencedBy: string[] }[];
    const busy = () => alerts.find((a) => a.labels.alertname === 'BusyModel');
    expect(busy()?.state).toBe('pending');
    expect(alerts.find((a) => a.labels.alertname === 'SilencedOne')).toMatchObject({ state: 'firing', silencedBy: [silenceId] });
    let metrics = (await d.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('ALERTS{alertname="BusyModel",alertstate="pending",model="fraud",severity="critical",version="unknown",window="1h"} 1');
    expect(metrics).toContain(`ALERTS_FOR_STATE{alertname="BusyModel",model="fraud",severity="critical",version="unknown",window="1h"} ${T0 / 1000}`);

    t.clock.advance(60_000);
    await d.cycle.run(); // t0+1m: still pending
    alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts;
    expect(busy()?.state).toBe('pending');
    t.clock.advance(60_000);
    await d.cycle.run(); // t0+2m: firing
    alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts;
    expect(busy()?.state).toBe('firing');

    // Alertmanager gets the firing alert (Prometheus payload), never the silenced one.
    await until(() => [...(am as FakeAlertmanager).state.alerts.values()].some((a) => a.labels.alertname === 'BusyModel'), 'Alertmanager');
    const stored = [...am.state.alerts.values()];
    expect(stored.find((a) => a.labels.alertname === 'SilencedOne')).toBeUndefined();
    const sent = stored.find((a) => a.labels.alertname === 'BusyModel');
    expect(sent).toMatchObject({
      labels: { alertname: 'BusyModel', model: 'fraud', severity: 'critical' },
      annotations: { summary: 'fraud has 20 samples', runbook_url: 'http://vigil.test:9470/runbooks/BusyModel' },
    });
    expect(Date.parse(sent?.startsAt ?? '')).toBe(T0 + 120_000); // startsAt = firedAt
    expect(Date.parse(sent?.endsAt ?? '')).toBe(T0 + 120_000 + 4 * 60_000); // validUntil = ts + 4 × max(interval 30s, resend 1m)

    // The webhook receiver gets Alertmanager's payload version 4 after group_wait.
    t.clock.advance(10_000);
    await d.alerting.flush(t.clock.now());
    await until(() => (hook as FakeWebhook).state.payloads.length > 0, 'webhook');
    const payload = hook.state.payloads[0] as { version: string; status: string; receiver: string; alerts: { labels: Record<string, string> }[] };
    expect(payload).toMatchObject({ version: '4', status: 'firing', receiver: 'hook' });
    expect(payload.alerts.map((a) => a.labels.alertname)).toEqual(['BusyModel']);

    // /api/v1/rules in Prometheus's shape.
    const rules = (await d.app.inject({ url: '/api/v1/rules?type=alert' })).json();
    expect(rules.status).toBe('success');
    expect(rules.data.groups[0]).toMatchObject({ name: 'test', interval: 30, rules: [{ type: 'alerting', name: 'BusyModel', duration: 120, health: 'ok', state: 'firing' }, { name: 'SilencedOne' }] });

    // The series goes away → resolved, and the resolution is sent.
    t.clock.advance(2 * 3_600_000);
    await d.cycle.run();
    alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts;
    expect(alerts).toEqual([]);
    await until(() => Date.parse((am as FakeAlertmanager).state.alerts.get(sent?.fingerprint ?? '')?.endsAt ?? '') === t!.clock.now(), 'resolution');
    metrics = (await d.app.inject({ url: '/metrics' })).body;
    expect(metrics).not.toMatch(/^ALERTS\{/m);

    // A bad rule file is refused on reload: file:line, and the old rules stay.
    writeFileSync(join(t.dir, 'alerts.yml'), `${RULES}      - alert: Broken\n        expr: limitk(1, ml_predictions_total) > 1\n`);
    const bad = await d.app.inject({ method: 'POST', url: '/-/reload' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues[0]).toMatchObject({ code: 'VIGIL_ERR_RULES_INVALID', line: 15 });
    expect(bad.json().error.issues[0].message).toContain('limitk()');
    expect((await d.app.inject({ url: '/api/v1/rules' })).json().data.groups[0].rules).toHaveLength(2);
    writeConfig(t, config('alerts.yml'));
  });

  it('serves the runbooks of the bundled rules, and every bundled alert has one', async () => {
    t = await testDaemon();
    const rules = (await t.daemon.app.inject({ url: '/api/v1/rules' })).json().data.groups.flatMap((g: { rules: { name: string; annotations: Record<string, string> }[] }) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(15);
    for (const r of rules) {
      expect(r.annotations.runbook_url, r.name).toContain(`/runbooks/${r.name}`);
      const page = await t.daemon.app.inject({ url: `/runbooks/${r.name}` });
      expect(page.statusCode, r.name).toBe(200);
      expect(page.body).toContain(`# ${r.name}`);
      for (const section of ['## What it means', '## Likely causes', '## What to look at', '## Immediate actions', '## Automated remediation', '## When to escalate']) expect(page.body).toContain(section);
    }
    expect((await t.daemon.app.inject({ url: '/runbooks/../package' })).statusCode).toBe(404);
    // a browser gets the runbook as a page: rendered, self-contained, locked down by its CSP
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const html = await t.daemon.app.inject({ url: '/runbooks/MLFeatureDrift', headers: { accept: browser } });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");
    expect(html.body).toMatch(/^<!doctype html>/);
    expect(html.body).toContain('<title>MLFeatureDrift · Vigil</title>');
    expect(html.body).toContain('<h1>MLFeatureDrift</h1>');
    expect(html.body).toContain('<h2>What it means</h2>');
    expect(html.body).not.toMatch(/<script|<link(?! rel="icon" href="data:,">)|src="http/);
    // the Markdown itself for curl and for an explicit .md
    const md = await t.daemon.app.inject({ url: '/runbooks/MLFeatureDrift.md', headers: { accept: browser } });
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.body).toMatch(/^# MLFeatureDrift/);
    expect((await t.daemon.app.inject({ url: '/runbooks/MLFeatureDrift', headers: { accept: '*/*' } })).headers['content-type']).toBe('text/markdown; charset=utf-8');
    // the index: every runbook (JSON, or a page for a browser), each with its title
    const index = (await t.daemon.app.inject({ url: '/runbooks' })).json().runbooks as { name: string; title: string; url: string }[];
    expect(index.map((r) => r.name)).toEqual(expect.arrayContaining(rules.map((r: { name: string }) => r.name)));
    expect(index.find((r) => r.name === 'MLFeatureDrift')).toEqual({ name: 'MLFeatureDrift', title: 'MLFeatureDrift', url: '/runbooks/MLFeatureDrift' });
    const page = await t.daemon.app.inject({ url: '/runbooks', headers: { accept: browser } });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<a href="/runbooks/MLFeatureDrift">MLFeatureDrift</a>');
  });

  it('renders Markdown with raw HTML off: a script, an event handler or a javascript: link in the source stays text', async () => {
    const { markdownPage } = await import('../http/ui/markdown.js');
    const page = markdownPage('# T <b>x</b>\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) [ok](https://example.com)\n', { title: 'T' });
    expect(page).not.toMatch(/<script>alert|<img src=x|href="javascript:/);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('<a href="https://example.com">ok</a>');
    expect(page).toContain('<title>T &lt;b&gt;x&lt;/b&gt; · Vigil</title>');
  });

  it('silences: validation, listing, expiry; admin token when tokens are configured', async () => {
    t = await testDaemon(`server:\n  tokens:\n    admin: ["admin-token-0123456789ab"]\nmodels:\n  - { name: m, task: binary }\n`);
    const post = (payload: unknown, token?: string) =>
      t!.daemon.app.inject({ method: 'POST', url: '/v1/silences', payload: payload as object, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const ok = { matchers: [{ name: 'model', value: 'm', isRegex: false }], endsAt: Date.now() + 3_600_000, createdBy: 'ops', comment: 'deploy' };
    expect((await post(ok)).statusCode).toBe(401);
    const created = await post(ok, 'admin-token-0123456789ab');
    expect(created.statusCode).toBe(200);
    const everything = await post({ ...ok, matchers: ['model=~".*"'] }, 'admin-token-0123456789ab');
    expect(everything.statusCode).toBe(400);
    expect(everything.json().error.message).toContain('silence everything');
    const badMatcher = await post({ ...ok, matchers: ['model=~"("'] }, 'admin-token-0123456789ab');
    expect(badMatcher.statusCode).toBe(400);
    const list = (await t.daemon.app.inject({ url: '/v1/silences' })).json().silences;
    expect(list).toMatchObject([{ id: created.json().silenceID, matchers: ['model="m"'], status: { state: 'active' } }]);
    const del = await t.daemon.app.inject({ method: 'DELETE', url: `/v1/silences/${created.json().silenceID}`, headers: { authorization: 'Bearer admin-token-0123456789ab' } });
    expect(del.statusCode).toBe(200);
    expect((await t.daemon.app.inject({ url: '/v1/silences' })).json().silences[0].status.state).toBe('expired');
  });
});

describe('alert state across a restart', () => {
  it('restores `for` from the store as Prometheus does (activeAt shifted by the downtime)', async () => {
    const { SqliteStore } = await import('../store/sqlite/sqlite-store.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const shared = mkdtempSync(join(tmpdir(), 'vigil-restore-'));
    writeFileSync(join(shared, 'slow.yml'), 'groups:\n  - name: slow\n    rules:\n      - alert: Slow\n        expr: ml_window_samples{window="1h"} > 10\n        for: 20m\n');
    const cfg = `rule_files: [${join(shared, 'slow.yml')}]\nalerting:\n  bundled_rules: false\nmodels:\n  - { name: fraud, task: binary, windows: [1h], min_samples: 5 }\n`;
    const first = await testDaemon(cfg, { now: T0 });
    const preds = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, ts: T0 - 1000, prediction: 1 }));
    await first.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) });
    for (let i = 0; i <= 10; i++) {
      await first.daemon.cycle.run(); // pending from T0, last evaluation at T0 + 5m
      if (i < 10) first.clock.advance(30_000);
    }
    const dbPath = join(first.dir, 'vigil.db');
    await first.daemon.stop('restart');

    // Up again at T0 + 6m (down for 1 minute) on the same store and rules.
    t = await testDaemon(cfg, { now: T0 + 6 * 60_000, openStore: () => new SqliteStore({ path: dbPath, now: T0 }) });
    await t.daemon.cycle.run();
    t.clock.advance(30_000);
    await t.daemon.cycle.run(); // restore runs after the second evaluation, as in Prometheus
    t.clock.advance(30_000);
    await t.daemon.cycle.run();
    const forState = t.daemon.snapshot().samples.find((s) => s.name === 'ALERTS_FOR_STATE' && s.labels.alertname === 'Slow');
    // Last state written at T0+5m, restored at the second evaluation (T0+6m30s): remaining `for`
    // (20m - 5m) >= grace period (10m), so activeAt T0 is shifted by the 1m30s of downtime.
    expect(forState?.value).toBe((T0 + 90_000) / 1000);
    expect((await t.daemon.app.inject({ url: '/api/v1/alerts' })).json().data.alerts[0]).toMatchObject({ state: 'pending', activeAt: '2026-11-01T12:01:30Z' });
    rmSync(shared, { recursive: true, force: true });
    rmSync(first.dir, { recursive: true, force: true });
  });

  it('a resolution waiting in its notification group (group_interval) is notified after a restart', async () => {
    const { SqliteStore } = await import('../store/sqlite/sqlite-store.js');
    hook = await startFakeWebhook();
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const shared = mkdtempSync(join(tmpdir(), 'vigil-groups-'));
    writeFileSync(join(shared, 'blip.yml'), 'groups:\n  - name: blip\n    rules:\n      - alert: Blip\n        expr: ml_window_samples{window="1h"} == 1\n');
    const cfg = `rule_files: [${join(shared, 'blip.yml')}]\nalerting:\n  bundled_rules: false\nnotifications:\n  default_receiver: hook\n  group_wait: 0s\n  group_interval: 5m\n  receivers:\n    - { name: hook, type: webhook, url: "${hook.url}/alerts" }\nmodels:\n  - { name: fraud, task: binary, windows: [1h] }\n`;
    const first = await testDaemon(cfg, { now: T0 });
    const post = (d: TestDaemon, id: string) =>
      d.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify([{ id, ts: T0 - 1000, prediction: 1 }]) });
    await post(first, 'p1');
    await first.daemon.cycle.run(); // Blip fires; group_wait 0s: notified at once
    await until(() => (hook as FakeWebhook).state.payloads.length === 1, 'the firing notification');
    await post(first, 'p2');
    first.clock.advance(60_000);
    await first.daemon.cycle.run(); // resolved: waits in its group until T0 + 5m
    expect((await first.daemon.app.inject({ url: '/api/v1/alerts' })).json().data.alerts).toEqual([]);
    // firing and resolving are logged at info, once each
    const lines = (d: TestDaemon, msg: string) => d.logs.join('').split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines(first, 'alert firing')).toMatchObject([{ level: 'info', alertname: 'Blip', labels: { alertname: 'Blip', model: 'fraud' }, value: 1 }]);
    expect(lines(first, 'alert resolved')).toMatchObject([{ level: 'info', alertname: 'Blip', firedForSeconds: 60 }]);
    const dbPath = join(first.dir, 'vigil.db');
    await first.daemon.stop('restart');
    expect(hook.state.payloads).toHaveLength(1);

    t = await testDaemon(cfg, { now: T0 + 2 * 60_000, openStore: () => new SqliteStore({ path: dbPath, now: T0 }) });
    t.clock.t = T0 + 5 * 60_000;
    await t.daemon.alerting.flush(t.clock.now());
    await until(() => (hook as FakeWebhook).state.payloads.length === 2, 'the resolved notification');
    const resolved = hook.state.payloads[1] as { status: string; alerts: { status: string; startsAt: string; labels: Record<string, string> }[] };
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts).toMatchObject([{ status: 'resolved', labels: { alertname: 'Blip', model: 'fraud' } }]);
    expect(Date.parse(resolved.alerts[0]?.startsAt ?? '')).toBe(T0);
    await t.daemon.cycle.run();
    expect(lines(t, 'alert firing')).toEqual([]); // nothing fires again after the restart
    rmSync(shared, { recursive: true, force: true });
    rmSync(first.dir, { recursive: true, force: true });
  });
});

describe('rules that read the history', () => {
  it('increase() over the predictions counter fires once traffic grows across cycles; the history is on /metrics', async () => {
    const rules = `groups:
  - name: history
    rules:
      - alert: TrafficGrowing
        expr: increase(ml_predictions_total{model="fraud"}[5m]) > 15
        annotations: { summary: "{{ $value }}" }
      - alert: SamplesWereLow
        expr: ml_window_samples{window="1h"} offset 1m < 15
`;
    t = await testDaemon(`rule_files: [h.yml]\nalerting:\n  bundled_rules: false\nmodels:\n  - { name: fraud, task: binary, windows: [1h], min_samples: 5 }\n`, { now: T0, files: { 'h.yml': rules } });
    const d = t.daemon;
    const send = async (from: number, n: number) => {
      const preds = Array.from({ length: n }, (_, i) => ({ id: `p${from + i}`, ts: t!.clock.now() - 1000, prediction: 1, score: 0.9 }));
      const r = await d.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) });
      expect(r.statusCode).toBeLessThan(300);
    };
    const firing = async () =>
      ((await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as Array<{ labels: Record<string, string>; state: string; annotations: Record<string, string> }>).filter((a) => a.state === 'firing');
    await send(0, 10);
    await d.cycle.run(); // one sample in the history: no increase yet
    expect((await firing()).map((a) => a.labels.alertname)).toEqual([]);
    t.clock.advance(60_000);
    await send(10, 20);
    await d.cycle.run(); // 10 → 30 over one minute, extrapolated over the 5m window's reach
    const now = await firing();
    expect(now.map((a) => a.labels.alertname).sort()).toEqual(['SamplesWereLow', 'TrafficGrowing']);
    // extrapolatedRate: 20 over 60 s sampled, the start 60 s (< 1.1 × 60) from the window start is
    // not reached (durationToZero = 60 × 10/20 = 30 s is shorter): 20 × (60 + 30 + 0) / 60 = 30
    expect(now.find((a) => a.labels.alertname === 'TrafficGrowing')?.annotations.summary).toBe('30');
    const metrics = (await d.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^vigil_rule_history_samples \d+/m);
    expect(metrics).toMatch(/^vigil_rule_history_oldest_timestamp_seconds /m);
  });
});
