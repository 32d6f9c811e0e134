import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedConfigPath, loadConfigFile } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { packagePath } from '../src/core/paths.js';
import { Simulator } from '../src/sim/simulator.js';
import { startDemoRegistry } from '../src/sim/demo-registry.js';
import type { FakeMlflow } from '../src/sim/fake-mlflow.js';
import { debianTool } from './debian.js';
import { startFakeWebhook, type FakeWebhook } from './fakes/fake-receivers.js';
import { testDaemon, type TestDaemon } from './harness.js';
import { Processes, freePort, waitFor } from './processes.js';

/**
 * The demo's injected drift fires an alert that reaches a real Alertmanager and a webhook; its
 * accuracy drop makes Vigil open the circuit breakers and roll the models back in the demo
 * registry; quality recovers, the incidents close and the breakers close.
 */
const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');
const dir = mkdtempSync(join(tmpdir(), 'vigil-demo-alert-'));
const procs = new Processes();
let t: TestDaemon | undefined;
let hook: FakeWebhook | undefined;
let registry: FakeMlflow | undefined;
afterAll(async () => {
  await registry?.close();
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
    registry = await startDemoRegistry({ models: demo.models.map((m) => m.name), port: 0 });
    const remediation = `sources:\n  - { name: registry, type: mlflow, url: '${registry.url}', interval: 1h }\nremediation:\n  circuit_breaker: { probe_period: 1m }\n  actions:\n    open-circuit: { type: circuit_breaker }\n    rollback: { type: mlflow_rollback, url: '${registry.url}' }\n  routes:\n    - matchers: ['alertname="DemoAccuracyDrop"']\n      actions: [open-circuit, rollback]\n`;
    const models = demo.models
      .map((m) => `  - name: ${m.name}\n    task: ${m.task}\n    ${m.classes ? `classes: [${m.classes.join(', ')}]\n    ` : ''}windows: [5m]\n    min_samples: 50\n    features:\n${m.features.map((f) => `      - { name: ${f.name}, type: ${f.type} }`).join('\n')}`)
      .join('\n');
    t = await testDaemon(
      `rule_files: [${packagePath('examples', 'demo.rules.yml')}]\nalerting:\n  bundled_rules: false\nalertmanagers:\n  - url: ${amUrl}\nnotifications:\n  default_receiver: hook\n  group_wait: 0s\n  receivers:\n    - { name: hook, type: webhook, url: "${hook.url}/vigil" }\n${remediation}models:\n${models}\n`,
      { now: Date.now() },
    );
    const d = t.daemon;
    const url = await d.app.listen({ host: '127.0.0.1', port: 0 });
    await waitFor('alertmanager ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));

    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const sim = new Simulator({ url, models: d.config().models, rate: 100, labelDelayMs: 0, labelShare: 1, driftAfterMs: 20_000, seed: 7, tickMs: 1000, registryUrl: registry.url }, { logger, clock: t.clock });
    await d.sources.trigger('registry');
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

    // The accuracy drop of the freshly deployed version 2: circuit open and rollback to version 1.
    const accuracy = alerts.filter((a) => a.labels.alertname === 'DemoAccuracyDrop' && a.state === 'firing');
    expect(accuracy.map((a) => a.labels.model).sort()).toEqual(['churn-risk', 'delivery-eta', 'fraud-detector']);
    await d.remediation.idle();
    const reg = registry as FakeMlflow;
    const rolledBack = accuracy.map((a) => a.labels.model as string);
    for (const model of rolledBack) {
      expect(reg.state.models.get(model)?.aliases.champion).toBe('1');
      expect((await d.app.inject({ url: `/v1/models/${model}/circuit` })).json().state).toBe('open');
    }
    let incidents = (await d.app.inject({ url: '/v1/incidents?model=fraud-detector' })).json().incidents as { status: string; actions: { action: string; status: string }[] }[];
    expect(incidents[0]?.actions.map((a) => `${a.action}:${a.status}`)).toEqual(['open-circuit:succeeded', 'rollback:succeeded']);
    expect((await d.app.inject({ url: '/metrics' })).body).toContain('ml_remediation_actions_total{model="fraud-detector",action="rollback",outcome="succeeded"} 1');

    // Serving follows the alias (version 1, healthy); version 2's rows leave the 5m window.
    for (let i = 0; i < 40; i++) {
      t.clock.advance(10_000);
      await sim.tick();
      if (i % 3 === 0) await d.cycle.run();
    }
    await d.cycle.run();
    await d.remediation.idle();
    incidents = (await d.app.inject({ url: '/v1/incidents?model=fraud-detector' })).json().incidents;
    expect(incidents[0]?.status).toBe('resolved');
    expect((await d.app.inject({ url: '/v1/models/fraud-detector/circuit' })).json().state).toBe('closed');
    expect(sim.serving.get('fraud-detector')).toBe('1');
  }, 90_000);
});
