import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import { renderSnapshot, SnapshotBuilder, type Sample } from '../metrics/snapshot.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { buildRulesResponse } from './engine/index.js';
import { parseRuleFile } from './rules/index.js';
import { AlertingService } from './service.js';
import type { PromqlValue, RuleGroupDef } from './types.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1);
const logger = createLogger({ level: 'silent' });
const config = parseConfigText('models: []\nalerting:\n  bundled_rules: false\n', 'vigil.yaml', {});

function rules(yaml: string): RuleGroupDef[] {
  const r = parseRuleFile(yaml, 'r.yml', { defaultIntervalMs: MIN });
  expect(r.errors).toEqual([]);
  return r.groups;
}

async function service(groups: RuleGroupDef[]): Promise<AlertingService> {
  const s = new AlertingService({ store: new SqliteStore({ path: ':memory:', now: T0 }), logger, config: () => config });
  await s.start(groups, T0);
  return s;
}

const vec = (v: PromqlValue) => (v.type === 'vector' ? v.samples.map((s) => [{ ...s.labels }, s.value]) : v);
const requests = (i: number, extra: Sample[] = []): Sample[] => [
  { name: 'requests_total', labels: { job: 'a', instance: '1' }, value: 60 * i },
  { name: 'requests_total', labels: { job: 'a', instance: '2' }, value: 120 * i },
  ...extra,
];

describe('recording rules', () => {
  it('record series that later rules of the evaluation read, on /metrics, and in the history for range selectors', async () => {
    const s = await service(
      rules(`groups:
  - name: g
    rules:
      - record: job:requests:rate2m
        expr: sum by (job) (rate(requests_total[2m]))
        labels:
          tier: "1"
      - alert: Busy
        expr: job:requests:rate2m > 2
      - record: job:requests:rate2m:max5m
        expr: max_over_time(job:requests:rate2m[5m])
`),
    );
    let r = await s.evaluate(requests(0), T0);
    expect(r.recorded).toEqual([]); // one sample: no rate yet
    for (let i = 1; i <= 3; i++) r = await s.evaluate(requests(i), T0 + i * MIN);
    expect(r.recorded).toEqual([
      { name: 'job:requests:rate2m', labels: { job: 'a', tier: '1' }, value: 3 },
      { name: 'job:requests:rate2m:max5m', labels: { job: 'a', tier: '1' }, value: 3 },
    ]);
    // the alert read the recorded series in the same evaluation
    expect(s.activeAlerts().map((a) => [a.alert.labels, a.alert.value])).toEqual([[{ alertname: 'Busy', job: 'a', tier: '1' }, 3]]);
    // recorded at every evaluation: a range over them
    expect(vec(s.query('count_over_time(job:requests:rate2m[10m])'))).toEqual([[{ job: 'a', tier: '1' }, 3]]);
    // ALERTS are rule outputs too, queryable as in Prometheus
    expect(vec(s.query('ALERTS'))).toEqual([[{ __name__: 'ALERTS', alertname: 'Busy', alertstate: 'firing', job: 'a', tier: '1' }, 1]]);
    // /metrics: one family per recorded name
    const b = new SnapshotBuilder();
    b.addAll(r.samples.filter((x) => x.name.startsWith('ALERTS')));
    b.addRecorded(r.recorded);
    const text = renderSnapshot(b.build(T0));
    expect(text).toContain('# HELP job:requests:rate2m Recorded by a Vigil recording rule.\n# TYPE job:requests:rate2m gauge\njob:requests:rate2m{job="a",tier="1"} 3\n');
    expect(text).toContain('job:requests:rate2m:max5m{job="a",tier="1"} 3\n');
    const api = buildRulesResponse((s as unknown as { manager: { ruleGroups(): never } }).manager.ruleGroups(), { type: 'record' });
    expect(api).toMatchObject({
      status: 'success',
      data: {
        groups: [
          {
            name: 'g',
            rules: [
              { name: 'job:requests:rate2m', query: 'sum by (job) (rate(requests_total[2m]))', labels: { tier: '1' }, health: 'ok', type: 'recording' },
              { name: 'job:requests:rate2m:max5m', health: 'ok', type: 'recording' },
            ],
          },
        ],
      },
    });
  });

  it('a rule before the recording rule reads its previous evaluation (within the 5m lookback), as in Prometheus', async () => {
    const s = await service(
      rules(`groups:
  - name: alerts
    rules:
      - alert: Seen
        expr: recorded:value
  - name: recordings
    rules:
      - record: recorded:value
        expr: sum(requests_total)
`),
    );
    await s.evaluate(requests(1), T0);
    expect(s.activeAlerts()).toEqual([]); // evaluated before the recording: nothing yet
    await s.evaluate(requests(2), T0 + MIN);
    expect(s.activeAlerts().map((a) => a.alert.value)).toEqual([180]); // the previous evaluation's value
    expect(vec(s.query('recorded:value'))).toEqual([[{ __name__: 'recorded:value' }, 360]]);
  });

  it('marks a series the rule no longer returns stale at once, and a removed rule\'s series at the next evaluation', async () => {
    const g = rules(`groups:
  - name: g
    rules:
      - record: instance:requests:busy
        expr: requests_total > 100
      - alert: Busy
        expr: instance:requests:busy
`);
    const s = await service(g);
    await s.evaluate(requests(1), T0); // 60, 120: instance 2 only
    expect(s.activeAlerts().map((a) => a.alert.labels.instance)).toEqual(['2']);
    await s.evaluate(requests(0), T0 + MIN); // none: stale from now, the alert reads nothing
    expect(s.activeAlerts().filter((a) => a.alert.state !== 'inactive')).toEqual([]);
    expect(vec(s.query('instance:requests:busy'))).toEqual([]);
    expect(vec(s.query('last_over_time(instance:requests:busy[5m])'))).toEqual([[{ __name__: 'instance:requests:busy', instance: '2', job: 'a' }, 120]]);

    await s.evaluate(requests(3), T0 + 2 * MIN);
    expect(vec(s.query('count(instance:requests:busy)'))).toEqual([[{}, 2]]);
    s.apply(rules('groups:\n  - name: g\n    rules:\n      - alert: Other\n        expr: vector(0) > 1\n'));
    await s.evaluate(requests(4), T0 + 3 * MIN);
    expect(vec(s.query('instance:requests:busy'))).toEqual([]);
    expect(vec(s.query('instance:requests:busy', T0 + 3 * MIN - 1))).toHaveLength(2);
  });

  it('a failing recording rule records nothing, reports why, and leaves its last series to the lookback', async () => {
    const s = await service(
      rules(`groups:
  - name: g
    limit: 1
    rules:
      - record: job:requests:total
        expr: requests_total
        labels:
          instance: ""
`),
    );
    const r = await s.evaluate(requests(1), T0);
    expect(r.recorded).toEqual([]);
    const api = buildRulesResponse((s as unknown as { manager: { ruleGroups(): never } }).manager.ruleGroups(), {});
    expect(api).toMatchObject({ data: { groups: [{ rules: [{ health: 'err', lastError: 'vector contains metrics with the same labelset after applying rule labels' }] }] } });
    const limited = await service(rules('groups:\n  - name: g\n    limit: 1\n    rules:\n      - record: x:y:z\n        expr: requests_total\n'));
    await limited.evaluate(requests(1), T0);
    expect(buildRulesResponse((limited as unknown as { manager: { ruleGroups(): never } }).manager.ruleGroups(), {})).toMatchObject({
      data: { groups: [{ rules: [{ health: 'err', lastError: 'exceeded limit of 1 with 2 series' }] }] },
    });
  });
});
