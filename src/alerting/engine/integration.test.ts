import { describe, expect, it } from 'vitest';
import type { Sample } from '../../metrics/snapshot.js';
import { evaluate, parsePromql, SeriesIndex, type PromqlExpr } from '../promql/index.js';
import { parseRuleFile } from '../rules/load.js';
import { buildAlertsResponse } from './api.js';
import { RuleManager, vectorOf, type RuleEvaluator } from './group.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

const RULES = `groups:
  - name: ml
    rules:
      - alert: AccuracyDrop
        expr: vigil_model_accuracy < 0.8
        for: 2m
        labels:
          severity: '{{ if lt $value 0.5 }}critical{{ else }}warning{{ end }}'
        annotations:
          summary: 'Accuracy of {{ $labels.model }} is {{ $value | humanizePercentage }}'
      - alert: AnyLow
        expr: count(vigil_model_accuracy < 0.8) > 0
`;

describe('integration with the real PromQL parser and evaluator', () => {
  it('loads, evaluates over snapshots stepped in time, fires and resolves', () => {
    const loaded = parseRuleFile(RULES, 'rules/ml.yml', { defaultIntervalMs: MIN });
    expect(loaded.errors).toEqual([]);
    let snapshot: Sample[] = [];
    const parsed = new Map<string, PromqlExpr>();
    const evaluateRule: RuleEvaluator = (rule, ts) => {
      let e = parsed.get(rule.expr);
      if (e === undefined) parsed.set(rule.expr, (e = parsePromql(rule.expr)));
      return vectorOf(evaluate(e, { series: new SeriesIndex(snapshot), timeMs: ts }));
    };
    const m = new RuleManager({ evaluate: evaluateRule, externalURL: 'http://vigil', clock: () => 0 });
    m.update(loaded.groups);
    const acc = (churn: number, fraud: number): Sample[] => [
      { name: 'vigil_model_accuracy', labels: { model: 'churn' }, value: churn },
      { name: 'vigil_model_accuracy', labels: { model: 'fraud' }, value: fraud },
    ];
    const steps = [acc(0.9, 0.95), acc(0.7, 0.95), acc(0.7, 0.95), acc(0.7, 0.95), acc(0.9, 0.95)];
    const log: string[] = [];
    steps.forEach((s, i) => {
      snapshot = s;
      const r = m.evalAll(T0 + i * MIN);
      log.push(r.toSend.map((p) => `${p.labels['alertname']}:${p.endsAt === new Date(T0 + i * MIN).toISOString().replace('.000', '') ? 'resolved' : 'firing'}`).join(',') || '-');
    });
    expect(log).toEqual(['-', 'AnyLow:firing', '-', 'AccuracyDrop:firing,AnyLow:firing', 'AccuracyDrop:resolved,AnyLow:resolved']);
    snapshot = acc(0.4, 0.95);
    m.evalAll(T0 + 5 * MIN);
    const alerts = buildAlertsResponse(m.ruleGroups()).data.alerts;
    expect(alerts).toContainEqual({
      labels: { alertname: 'AccuracyDrop', model: 'churn', severity: 'critical' },
      annotations: { summary: 'Accuracy of churn is 40%' },
      state: 'pending',
      activeAt: '2024-01-01T00:05:00Z',
      value: '4e-01',
    });
    expect(alerts.find((a) => a.labels['alertname'] === 'AnyLow')).toMatchObject({ labels: { alertname: 'AnyLow' }, state: 'firing', value: '1e+00' });
  });
});
