import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRuleFile } from '../src/alerting/rules/index.js';
import { AlertingService } from '../src/alerting/service.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import type { Sample } from '../src/metrics/snapshot.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { debianTool } from './debian.js';

/**
 * Recording rules, and rule outputs read by later rules, as Prometheus 2.42 evaluates them. One rule
 * file runs in Vigil's AlertingService (the daemon's path: snapshot, history, rule writers) and in
 * `promtool test rules` over the same series: recorded series read in the same group, by a group
 * evaluated before the recording (the previous evaluation, within the lookback), through range
 * selectors (stale markers when a rule stops returning a series), ALERTS and ALERTS_FOR_STATE as
 * series. Vigil's values at every minute are written as promtool's expectations, which it checks
 * exactly; its firing alerts as alert_rule_test cases.
 */
const promtool = debianTool('promtool', 'prometheus');
const STEP = 60_000;
const STEPS = 31;

const range = (f: (i: number) => number | undefined) => Array.from({ length: STEPS }, (_, i) => f(i));
const INPUTS = [
  { name: 'http_requests_total', labels: { job: 'a', instance: '1' }, values: range((i) => (i < 15 ? 10 * i : 7 * (i - 15))) },
  { name: 'http_requests_total', labels: { job: 'a', instance: '2' }, values: range((i) => 5 + 3 * i) },
  { name: 'http_requests_total', labels: { job: 'b', instance: '1' }, values: range((i) => (i >= 13 && i < 20 ? undefined : 2 * i * i)) },
  { name: 'gauge', labels: { g: 'x' }, values: range((i) => Math.round(100 * Math.sin(i / 3)) / 10) },
  { name: 'gauge', labels: { g: 'y' }, values: range((i) => (i % 7) * 1.25 - 3) },
];

const RULES = `groups:
  - name: early
    rules:
      - record: early:rate:previous
        expr: job:http_requests:rate5m
  - name: recordings
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - record: job:http_requests:rate5m_max10m
        expr: max_over_time(job:http_requests:rate5m[10m])
      - record: gauge:positive
        expr: gauge > 0
        labels:
          source: rec
      - record: gauge:positive:changes
        expr: changes(gauge:positive[10m])
      - alert: HighRate
        expr: job:http_requests:rate5m > 1
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} at {{ $value }}"
  - name: after
    rules:
      - record: alerts:count
        expr: count by (alertstate) (ALERTS)
      - record: alerts:for_state
        expr: ALERTS_FOR_STATE
      - record: job:http_requests:share
        expr: job:http_requests:rate5m / ignoring(job) group_left sum(job:http_requests:rate5m)
      - record: gauge:positive:present3m
        expr: present_over_time(gauge:positive[3m])
`;
const QUERIES = [
  'early:rate:previous',
  'job:http_requests:rate5m',
  'job:http_requests:rate5m_max10m',
  'gauge:positive',
  'gauge:positive:changes',
  'alerts:count',
  'alerts:for_state',
  'job:http_requests:share',
  'gauge:positive:present3m',
  'ALERTS',
  'rate(job:http_requests:rate5m[5m])',
];

const samplesAt = (i: number): Sample[] =>
  INPUTS.flatMap((s) => (s.values[i] === undefined ? [] : [{ name: s.name, labels: s.labels, value: s.values[i] as number }]));
const metric = (l: Record<string, string>): string => {
  const { __name__: name, ...rest } = l;
  return `${name ?? ''}{${Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`)
    .join(', ')}}`;
};
const goValue = (v: number): string => (v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : String(v));
const yamlMap = (m: Record<string, string>, indent: string) =>
  Object.keys(m)
    .sort()
    .map((k) => `${indent}${k}: ${JSON.stringify(m[k])}`)
    .join('\n');

const dir = mkdtempSync(join(tmpdir(), 'vigil-recording-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recording rules: the same series and alerts as Prometheus 2.42', () => {
  it('Vigil records them and promtool test rules agrees with every value and firing alert', async () => {
    const { groups, errors } = parseRuleFile(RULES, join(dir, 'vigil.rules.yml'), { defaultIntervalMs: STEP });
    expect(errors).toEqual([]);
    const config = parseConfigText('models: []\nalerting:\n  bundled_rules: false\n', 'vigil.yaml', {});
    const store = new SqliteStore({ path: ':memory:', now: 0 });
    const service = new AlertingService({ store, logger: createLogger({ level: 'silent' }), config: () => config });
    await service.start(groups, 0);
    const exprTests: string[] = [];
    const alertTests: string[] = [];
    let checked = 0;
    for (let i = 0; i < STEPS; i++) {
      const t = i * STEP;
      await service.evaluate(samplesAt(i), t);
      for (const q of QUERIES) {
        const v = service.query(q);
        if (v.type !== 'vector') throw new Error(`${q}: not a vector`);
        if (v.samples.some((s) => Number.isNaN(s.value))) continue; // DeepEqual: NaN ≠ NaN
        checked += v.samples.length;
        const exp = v.samples.map((s) => `          - labels: '${metric({ ...s.labels })}'\n            value: ${goValue(s.value)}`).join('\n');
        exprTests.push(`      - expr: '${q}'\n        eval_time: ${t / 1000}s\n        exp_samples:${v.samples.length === 0 ? ' []' : `\n${exp}`}`);
      }
      const firing = service.activeAlerts().filter((a) => a.alert.state === 'firing');
      const exp = firing
        .map((a) => {
          const { alertname: _, ...labels } = a.alert.labels;
          return `          - exp_labels:\n${yamlMap(labels, '              ')}\n            exp_annotations:\n${yamlMap(a.alert.annotations, '              ')}`;
        })
        .join('\n');
      alertTests.push(`      - eval_time: ${t / 1000}s\n        alertname: HighRate\n        exp_alerts:${firing.length === 0 ? ' []' : `\n${exp}`}`);
    }
    expect(checked).toBeGreaterThan(150);
    expect(alertTests.some((a) => a.includes('exp_labels'))).toBe(true);
    await store.close();
    if (!promtool.available) return;

    writeFileSync(join(dir, 'vigil.rules.yml'), RULES);
    const file = [
      'rule_files: [vigil.rules.yml]',
      'evaluation_interval: 1m',
      'group_eval_order: [early, recordings, after]',
      'tests:',
      '  - interval: 1m',
      '    input_series:',
      ...INPUTS.map((s) => `      - series: '${metric({ __name__: s.name, ...s.labels })}'\n        values: '${s.values.map((v) => (v === undefined ? 'stale' : String(v))).join(' ')}'`),
      '    promql_expr_test:',
      ...exprTests,
      '    alert_rule_test:',
      ...alertTests,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'parity.test.yml'), file);
    try {
      const out = execFileSync('promtool', ['test', 'rules', 'parity.test.yml'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      expect(out).toContain('SUCCESS');
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`promtool disagrees:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
  });
});
