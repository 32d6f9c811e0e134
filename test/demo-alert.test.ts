import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedConfigPath, loadConfigFile } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { packagePath } from '../src/core/paths.js';
import { Simulator } from '../src/sim/simulator.js';
import { debianTool } from './debian.js';
import { startFakeWebhook, type FakeWebhook } from './fakes/fake-receivers.js';
import { testDaemon, type TestDaemon } from './harness.js';
import { Processes, freePort, waitFor } from './processes.js';

/** The demo's injected drift fires an alert that reaches a real Alertmanager and a webhook. */
const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');
const dir = mkdtempSync(join(tmpdir(), 'vigil-demo-alert-'));
const procs = new Processes();
let t: TestDaemon | undefined;
let hook: FakeWebhook | undefined;
afterAll(async () => {
  await procs.stopAll();
  await t?.close();
  await hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(alertmanager.available)('the demo end to end', () => {
  it('simulator drift → DemoFeatureDrift fires → real Alertmanager and a webhook receive it', async () => {
    const amPort = await freePort();
    const amUrl = `http://127.0.0.1:${amPort}`;
    writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
    procs.run('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${mkdtempSync(join(dir, 'am-'))}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);
    hook = await startFakeWebhook();
    const demo = (await loadConfigFile(embeddedConfigPath(), {})).config;
    const models = demo.models
      .map((m) => `  - name: ${m.name}\n    task: ${m.task}\n    ${m.classes ? `classes: [${m.classes.join(', ')}]\n    ` : ''}windows: [5m]\n    min_samples: 50\n    features:\n${m.features.map((f) => `      - { name: ${f.name}, type: ${f.type} }`).join('\n')}`)
      .join('\n');
    t = await testDaemon(
      `rule_files: [${packagePath('examples', 'demo.rules.yml')}]\nalerting:\n  bundled_rules: false\nalertmanagers:\n  - url: ${amUrl}\nnotifications:\n  default_receiver: hook\n  group_wait: 0s\n  receivers:\n    - { name: hook, type: webhook, url: "${hook.url}/vigil" }\nmodels:\n${models}\n`,
      { now: Date.now() },
    );
    const d = t.daemon;
    const url = await d.app.listen({ host: '127.0.0.1', port: 0 });
    await waitFor('alertmanager ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));

    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const sim = new Simulator({ url, models: d.config().models, rate: 100, labelDelayMs: 0, labelShare: 1, driftAfterMs: 20_000, seed: 7, tickMs: 1000 }, { logger, clock: t.clock });
    await sim.postBaselines(2000);
    sim.start();
    sim.stop(); // ticked by hand, with the daemon's clock
    for (let i = 0; i < 40; i++) {
      await sim.tick(); // after 20 s of simulated time: drift
      t.clock.advance(1000);
    }
    await d.cycle.run();
    t.clock.advance(30_000);
    await d.cycle.run(); // `for: 30s` has passed
    const alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as { labels: Record<string, string>; state: string }[];
    const drift = alerts.filter((a) => a.labels.alertname === 'DemoFeatureDrift' && a.state === 'firing');
    expect(drift.length).toBeGreaterThan(0);

    const amHas = async () => {
      const list = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as { labels: Record<string, string> }[];
      return list.some((a) => a.labels.alertname === 'DemoFeatureDrift') ? list : undefined;
    };
    await waitFor('Alertmanager to receive DemoFeatureDrift', amHas);
    await d.alerting.flush(t.clock.now());
    await waitFor('the webhook to receive DemoFeatureDrift', async () =>
      (hook as FakeWebhook).state.payloads.some((p) => (p as { alerts: { labels: Record<string, string> }[] }).alerts.some((a) => a.labels.alertname === 'DemoFeatureDrift')) ? true : undefined,
    );
  }, 90_000);
});
