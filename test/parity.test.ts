import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/core/clock.js';
import { debianTool } from './debian.js';
import { testDaemon, type TestDaemon } from './harness.js';
import { Processes, freePort, waitFor } from './processes.js';

/**
 * Parity with the real thing: the Debian `prometheus` scrapes a Vigil whose series the test
 * changes; both load the same rule file and must report the same firing alerts (names and
 * labels): instant, range (`max_over_time`, `count_over_time` over Vigil's history and Prometheus's
 * TSDB) and one reading a recording rule's series. A real `prometheus-alertmanager` receives
 * Vigil's alerts, and resolved ones end there.
 */
const prometheus = debianTool('prometheus', 'prometheus');
const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');

const RULES = `groups:
  - name: parity
    interval: 1s
    rules:
      - alert: ManySamples
        expr: ml_window_samples{window="1h"} > 20
        labels: { severity: info }
      - alert: DriftedFeature
        expr: max by (model, feature) (ml_feature_drift_detected{window="1h"}) == 1
        labels: { severity: warning }
      - alert: AccuracyBelowBaseline
        expr: ml_model_accuracy{window="1h"} / on(model, version) ml_model_quality_baseline{metric="accuracy"} < 0.9
        labels: { severity: critical }
      - alert: NoLabels
        expr: ml_label_coverage_ratio{window="1h"} == 0 and on(model, version) ml_window_samples{window="1h"} > 0
      - record: model:predictions:sum
        expr: sum by (model) (ml_predictions_total)
      - alert: TrafficByModel
        expr: model:predictions:sum >= 10
      - alert: SamplesSeenRecently
        expr: max_over_time(ml_window_samples{window="1h"}[1m]) > 20 and count_over_time(ml_window_samples{window="1h"}[1m]) >= 2
`;

const dir = mkdtempSync(join(tmpdir(), 'vigil-parity-'));
const procs = new Processes();
let t: TestDaemon | undefined;
afterAll(async () => {
  await procs.stopAll();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Alert = { labels: Record<string, string>; state: string };
const key = (a: Alert): string => JSON.stringify(Object.entries(a.labels).sort());
const firing = (alerts: Alert[]): string[] => alerts.filter((a) => a.state === 'firing').map(key).sort();

describe.runIf(prometheus.available && alertmanager.available)('parity with Prometheus and Alertmanager', () => {
  it('the same rule file fires the same alerts in Vigil and in Prometheus; Alertmanager receives Vigil\'s', async () => {
    const [promPort, amPort] = [await freePort(), await freePort()];
    const amUrl = `http://127.0.0.1:${amPort}`;
    writeFileSync(join(dir, 'parity.rules.yml'), RULES);
    t = await testDaemon(
      `rule_files: [${join(dir, 'parity.rules.yml')}]\nalerting:\n  bundled_rules: false\nalertmanagers:\n  - url: ${amUrl}\nmodels:\n  - { name: good, task: binary, windows: [1h], min_samples: 20, features: [{ name: x, type: numeric }] }\n  - { name: bad, task: binary, windows: [1h], min_samples: 20, features: [{ name: x, type: numeric }] }\n`,
      { clock: systemClock },
    );
    const d = t.daemon;
    const vigilUrl = await d.app.listen({ host: '127.0.0.1', port: 0 });
    const vigilHost = vigilUrl.replace('http://', '');

    writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
    procs.run('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${mkdtempSync(join(dir, 'am-'))}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [${join(dir, 'parity.rules.yml')}]\nscrape_configs:\n  - job_name: vigil\n    static_configs: [{ targets: ['${vigilHost}'] }]\n    metric_relabel_configs:\n      # compare series as Vigil sees them: without the target labels\n      - { action: labeldrop, regex: 'job|instance' }\n      # Prometheus records the rule file's series itself: drop Vigil's copies (docs/monitoring.md)\n      - { source_labels: [__name__], regex: '.*:.*', action: drop }\n`,
    );
    procs.run('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${mkdtempSync(join(dir, 'tsdb-'))}`, `--web.listen-address=127.0.0.1:${promPort}`]);
    const promApi = `http://127.0.0.1:${promPort}`;
    await waitFor('prometheus ready', async () => ((await fetch(`${promApi}/-/ready`)).ok ? true : undefined));
    await waitFor('alertmanager ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));

    // The script: a baseline for both models, then traffic; "bad" drifts and loses accuracy and has no labels.
    const post = async (url: string, body: unknown) => {
      const r = await fetch(`${vigilUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, await r.clone().text()).toBeLessThan(300);
    };
    const rows = (n: number, shift: number, accurate: boolean) =>
      Array.from({ length: n }, (_, i) => ({ features: { x: (i % 50) + shift }, prediction: i % 2, score: i % 2 ? 0.8 : 0.2, label: accurate ? i % 2 : (i + (i % 3 === 0 ? 1 : 0)) % 2 }));
    for (const m of ['good', 'bad']) await post(`/v1/models/${m}/baselines?version=v1`, rows(200, 0, true));
    const now = Date.now();
    const preds = (m: string, shift: number) => rows(100, shift, true).map((r, i) => ({ id: `${m}-${i}`, ts: now - 1000, model_version: 'v1', features: r.features, prediction: r.prediction, score: r.score }));
    await post('/v1/models/good/predictions', preds('good', 0));
    await post('/v1/models/bad/predictions', preds('bad', 40));
    await post('/v1/models/good/labels', rows(100, 0, true).map((r, i) => ({ id: `good-${i}`, label: r.label })));

    const vigilAlerts = async (): Promise<Alert[]> => (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts;
    const promAlerts = async (): Promise<Alert[]> => ((await (await fetch(`${promApi}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } }).data.alerts;
    let lastSeen = '';
    const agree = async (): Promise<string[] | undefined> => {
      await d.cycle.run();
      const v = firing(await vigilAlerts());
      const p = firing(await promAlerts());
      lastSeen = `vigil ${JSON.stringify(v)}\nprometheus ${JSON.stringify(p)}`;
      return v.length > 0 && JSON.stringify(v) === JSON.stringify(p) ? v : undefined;
    };

    const first = await waitFor('Vigil and Prometheus to agree', agree, 30_000, () => lastSeen);
    const names = first.map((k) => (JSON.parse(k) as [string, string][]).find(([n]) => n === 'alertname')?.[1]);
    expect(new Set(names)).toEqual(new Set(['ManySamples', 'DriftedFeature', 'NoLabels', 'TrafficByModel', 'SamplesSeenRecently']));
    // the recorded series is on Vigil's /metrics
    expect((await d.app.inject({ url: '/metrics' })).body).toMatch(/^model:predictions:sum\{model="bad"\} 100$/m);
    expect(first.some((k) => k.includes('"bad"') && k.includes('NoLabels'))).toBe(true);
    expect(first.some((k) => k.includes('"good"') && k.includes('NoLabels'))).toBe(false);

    // Vigil's alerts reach the real Alertmanager.
    const amAlerts = async () => (await (await fetch(`${amUrl}/api/v2/alerts?active=true`)).json()) as { labels: Record<string, string> }[];
    await waitFor('Alertmanager to hold Vigil\'s NoLabels alert', async () => ((await amAlerts()).some((a) => a.labels.alertname === 'NoLabels' && a.labels.model === 'bad') ? true : undefined));

    // The script changes the series: labels arrive for "bad" (worse than its baseline).
    await post('/v1/models/bad/labels', rows(100, 40, false).map((r, i) => ({ id: `bad-${i}`, label: r.label })));
    const second = await waitFor(
      'agreement after the change',
      async () => {
        const v = await agree();
        return v !== undefined && !v.some((k) => k.includes('NoLabels')) && v.some((k) => k.includes('AccuracyBelowBaseline')) ? v : undefined;
      },
      30_000,
      () => lastSeen,
    );
    expect(second.filter((k) => k.includes('AccuracyBelowBaseline')).every((k) => k.includes('"bad"'))).toBe(true);

    // The resolved alert ends in Alertmanager too.
    await waitFor('Alertmanager to end the resolved NoLabels alert', async () => ((await amAlerts()).some((a) => a.labels.alertname === 'NoLabels') ? undefined : true));
  }, 120_000);
});
