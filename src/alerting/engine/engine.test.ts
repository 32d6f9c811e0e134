import { describe, expect, it } from 'vitest';
import type { AlertRuleDef, RuleGroupDef, VectorSample } from '../types.js';
import { AlertingRule, fingerprint, RESOLVED_RETENTION_MS } from './alerting-rule.js';
import { buildAlertsResponse, buildRulesResponse, rulesQueryFromParams, type ApiAlertingRule } from './api.js';
import { RuleManager, type RuleEvaluator } from './group.js';
import type { PersistedAlert } from './restore.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const at = (i: number, intervalMs = MIN) => T0 + i * intervalMs;

function rule(over: Partial<AlertRuleDef> = {}): AlertRuleDef {
  return { name: 'HighErrorRate', expr: 'vigil_error_rate > 0.1', forMs: 0, keepFiringForMs: 0, labels: { severity: 'page' }, annotations: { summary: 'error rate {{ $value | humanizePercentage }} on {{ $labels.model }}' }, file: 'rules/ml.yml', line: 3, ...over };
}
function group(rules: AlertRuleDef[], over: Partial<RuleGroupDef> = {}): RuleGroupDef {
  return { name: 'ml', file: 'rules/ml.yml', intervalMs: MIN, limit: 0, labels: {}, rules, ...over };
}

/** A table evaluator: per step, per expression, the result vector (or an error). Steps map time → index. */
class TableEvaluator {
  step = 0;
  constructor(private readonly table: Record<string, (VectorSample[] | Error | undefined)[]>) {}
  readonly evaluate: RuleEvaluator = (r) => {
    const col = this.table[r.expr];
    const v = col?.[Math.min(this.step, col.length - 1)];
    if (v instanceof Error) throw v;
    return v ?? [];
  };
}
const churn = (value = 0.2): VectorSample[] => [{ labels: { __name__: 'vigil_error_rate', model: 'churn' }, value }];

function setup(rules: AlertRuleDef[], table: Record<string, (VectorSample[] | Error | undefined)[]>, gOver: Partial<RuleGroupDef> = {}, mOver: { externalURL?: string; restore?: PersistedAlert[] } = {}) {
  const ev = new TableEvaluator(table);
  const m = new RuleManager({ evaluate: ev.evaluate, externalURL: mOver.externalURL ?? 'http://vigil:9000', externalLabels: { site: 'eu1' }, clock: () => 0 });
  if (mOver.restore !== undefined) m.setRestoreSource(mOver.restore);
  m.update([group(rules, gOver)]);
  const key = 'rules/ml.yml;ml';
  const run = (i: number, intervalMs = MIN) => {
    ev.step = i;
    return m.evalGroup(key, at(i, intervalMs));
  };
  const r = () => m.alertingRules()[0] as AlertingRule;
  return { m, ev, run, r, key };
}

describe('state machine (stepped as rules/alerting_test.go)', () => {
  it('for 5m at a 1m interval: pending from the 1st evaluation, firing on the 6th', () => {
    const { run, r } = setup([rule({ forMs: 5 * MIN })], { 'vigil_error_rate > 0.1': [churn()] });
    const states: string[] = [];
    const sends: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = run(i);
      states.push(r().state());
      sends.push(res.toSend.length);
    }
    expect(states).toEqual(['pending', 'pending', 'pending', 'pending', 'pending', 'firing', 'firing']);
    expect(sends).toEqual([0, 0, 0, 0, 0, 1, 0]);
    const a = r().activeAlerts()[0]!;
    expect(a.activeAt).toBe(at(0));
    expect(a.firedAt).toBe(at(5));
  });

  it('no for: firing at once; payload startsAt = firedAt, endsAt = validUntil = ts + 4 × max(interval, resendDelay)', () => {
    const { run } = setup([rule()], { 'vigil_error_rate > 0.1': [churn()] });
    const res = run(0);
    expect(res.toSend).toEqual([
      {
        labels: { alertname: 'HighErrorRate', model: 'churn', severity: 'page', site: 'eu1' },
        annotations: { summary: 'error rate 20% on churn' },
        startsAt: '2024-01-01T00:00:00Z',
        endsAt: '2024-01-01T00:04:00Z',
        generatorURL: 'http://vigil:9000/graph?g0.expr=vigil_error_rate+%3E+0.1&g0.tab=1',
      },
    ]);
  });

  it('validUntil uses the group interval when it exceeds the resend delay', () => {
    const { run } = setup([rule()], { 'vigil_error_rate > 0.1': [churn()] }, { intervalMs: 5 * MIN });
    expect(run(0, 5 * MIN).toSend[0]!.endsAt).toBe('2024-01-01T00:20:00Z');
  });

  it('resend delay: re-sent only when lastSentAt + 1m < ts', () => {
    const { run } = setup([rule()], { 'vigil_error_rate > 0.1': [churn()] });
    const sent = [0, 1, 2, 3, 4].map((i) => run(i).toSend.length);
    expect(sent).toEqual([1, 0, 1, 0, 1]);
    // with a 30s interval, every third evaluation re-sends
    const s2 = setup([rule()], { 'vigil_error_rate > 0.1': [churn()] }, { intervalMs: 30_000 });
    expect([0, 1, 2, 3, 4, 5].map((i) => s2.run(i, 30_000).toSend.length)).toEqual([1, 0, 0, 1, 0, 0]);
  });

  it('gone while pending: deleted, never sent', () => {
    const { run, r } = setup([rule({ forMs: 5 * MIN })], { 'vigil_error_rate > 0.1': [churn(), churn(), []] });
    run(0);
    run(1);
    const res = run(2);
    expect(r().active.size).toBe(0);
    expect(res.toSend).toEqual([]);
    expect(r().state()).toBe('inactive');
  });

  it('gone while firing: inactive with resolvedAt, sent at once, re-sent, kept 15m then deleted', () => {
    const col = [churn(), ...Array.from({ length: 20 }, () => [] as VectorSample[])];
    const { run, r } = setup([rule()], { 'vigil_error_rate > 0.1': col });
    run(0);
    const res1 = run(1);
    expect(r().state()).toBe('inactive');
    const a = r().currentAlerts()[0]!;
    expect(a.state).toBe('inactive');
    expect(a.resolvedAt).toBe(at(1));
    expect(res1.toSend).toHaveLength(1);
    expect(res1.toSend[0]!.startsAt).toBe('2024-01-01T00:00:00Z');
    expect(res1.toSend[0]!.endsAt).toBe('2024-01-01T00:01:00Z');
    expect(r().activeAlerts()).toEqual([]);
    const sends: number[] = [];
    for (let i = 2; i <= 17; i++) sends.push(run(i).toSend.length);
    // kept while ts − resolvedAt ≤ 15m (i ≤ 16), re-sent every other minute, deleted at i = 17
    expect(sends).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0]);
    expect(r().active.size).toBe(0);
    expect(16 * MIN - MIN).toBe(RESOLVED_RETENTION_MS);
  });

  it('resolved then true again: a new pending alert with a new activeAt', () => {
    const { run, r } = setup([rule({ forMs: 2 * MIN })], { 'vigil_error_rate > 0.1': [churn(), churn(), churn(), [], churn()] });
    for (let i = 0; i < 5; i++) run(i);
    const a = r().currentAlerts()[0]!;
    expect(a.state).toBe('pending');
    expect(a.activeAt).toBe(at(4));
    expect(a.resolvedAt).toBeUndefined();
  });

  it('keep_firing_for: stays firing until ts − keepFiringSince ≥ keep_firing_for; reset when true again', () => {
    const E: VectorSample[] = [];
    const { run, r } = setup([rule({ keepFiringForMs: 2 * MIN })], { 'vigil_error_rate > 0.1': [churn(), E, E, churn(), E, E, E] });
    const states: string[] = [];
    const kfs: (number | undefined)[] = [];
    for (let i = 0; i < 7; i++) {
      run(i);
      states.push(r().currentAlerts()[0]?.state ?? 'gone');
      kfs.push(r().currentAlerts()[0]?.keepFiringSince);
    }
    expect(states).toEqual(['firing', 'firing', 'firing', 'firing', 'firing', 'firing', 'inactive']);
    expect(kfs).toEqual([undefined, at(1), at(1), undefined, at(4), at(4), at(4)]);
    const api = buildAlertsResponse([]);
    expect(api.data.alerts).toEqual([]);
  });

  it('annotations are re-expanded at each evaluation with the current value', () => {
    const { run, r } = setup([rule()], { 'vigil_error_rate > 0.1': [churn(0.2), churn(0.5)] });
    run(0);
    run(1);
    expect(r().activeAlerts()[0]!.annotations).toEqual({ summary: 'error rate 50% on churn' });
    expect(r().activeAlerts()[0]!.value).toBe(0.5);
  });

  it('label templating collision is an evaluation error; the alerts are kept', () => {
    const two: VectorSample[] = [
      { labels: { model: 'churn', instance: 'a' }, value: 1 },
      { labels: { model: 'churn', instance: 'b' }, value: 1 },
    ];
    const { run, r } = setup([rule({ labels: { instance: 'all' } })], { 'vigil_error_rate > 0.1': [[{ labels: { model: 'churn', instance: 'a' }, value: 1 }], two] });
    run(0);
    const res = run(1);
    expect(r().health).toBe('err');
    expect(r().lastError).toBe('vector contains metrics with the same labelset after applying alert labels');
    expect(r().active.size).toBe(1);
    expect(res.toSend).toEqual([]);
  });

  it('templated labels take part in identity; empty templated labels are dropped', () => {
    const { run, r } = setup([rule({ labels: { severity: '{{ if gt $value 0.5 }}page{{ end }}' } })], { 'vigil_error_rate > 0.1': [churn(0.9), churn(0.3)] });
    run(0);
    expect(r().activeAlerts()[0]!.labels).toEqual({ alertname: 'HighErrorRate', model: 'churn', severity: 'page' });
    run(1);
    // a different label set: the old alert resolves, a new one fires
    const all = r().currentAlerts();
    expect(all.map((a) => [a.state, a.labels['severity'] ?? '-'])).toEqual([
      ['inactive', 'page'],
      ['firing', '-'],
    ]);
  });

  it('an evaluation error keeps the alerts, records health err + lastError, sends nothing', () => {
    const { run, r } = setup([rule()], { 'vigil_error_rate > 0.1': [churn(), new Error('boom'), new Error('boom'), churn()] });
    run(0);
    expect(r().health).toBe('ok');
    const res = run(1);
    run(2);
    expect(r().health).toBe('err');
    expect(r().lastError).toBe('boom');
    expect(r().activeAlerts()).toHaveLength(1);
    expect(res.toSend).toEqual([]);
    expect(res.samples).toEqual([]);
    run(3);
    expect(r().health).toBe('ok');
    expect(r().lastError).toBeUndefined();
  });

  it('group limit: exceeding it drops every alert and errors', () => {
    const three = ['a', 'b', 'c'].map((m) => ({ labels: { model: m }, value: 1 }));
    const { run, r } = setup([rule()], { 'vigil_error_rate > 0.1': [three.slice(0, 2), three] }, { limit: 2 });
    run(0);
    expect(r().active.size).toBe(2);
    run(1);
    expect(r().active.size).toBe(0);
    expect(r().health).toBe('err');
    expect(r().lastError).toBe('exceeded limit of 2 with 3 alerts');
  });

  it('ALERTS and ALERTS_FOR_STATE series, names and labels as Prometheus', () => {
    const { run } = setup([rule({ forMs: 5 * MIN })], { 'vigil_error_rate > 0.1': [churn()] });
    const res = run(2);
    expect(res.samples).toEqual([
      { name: 'ALERTS', labels: { alertname: 'HighErrorRate', alertstate: 'pending', model: 'churn', severity: 'page' }, value: 1 },
      { name: 'ALERTS_FOR_STATE', labels: { alertname: 'HighErrorRate', model: 'churn', severity: 'page' }, value: at(2) / 1000 },
    ]);
  });

  it('reload: state is kept; a lowered `for` fires the pending alert at the next evaluation', () => {
    const { m, run, r, ev } = setup([rule({ forMs: 10 * MIN })], { 'vigil_error_rate > 0.1': [churn()] });
    for (let i = 0; i < 4; i++) run(i);
    expect(r().state()).toBe('pending');
    m.update([group([rule({ forMs: 2 * MIN })])]);
    ev.step = 4;
    m.evalGroup('rules/ml.yml;ml', at(4));
    const a = r().activeAlerts()[0]!;
    expect(a.state).toBe('firing');
    expect(a.activeAt).toBe(at(0));
    expect(a.firedAt).toBe(at(4));
  });

  it('reload: a raised `for` leaves a firing alert firing (Prometheus never goes back to pending)', () => {
    const { m, run, r, ev } = setup([rule({ forMs: 2 * MIN })], { 'vigil_error_rate > 0.1': [churn()] });
    for (let i = 0; i < 3; i++) run(i);
    expect(r().state()).toBe('firing');
    m.update([group([rule({ forMs: 30 * MIN })])]);
    ev.step = 3;
    m.evalGroup('rules/ml.yml;ml', at(3));
    expect(r().state()).toBe('firing');
  });

  it('fingerprint: stable, order-independent', () => {
    expect(fingerprint({ a: '1', b: '2' })).toBe(fingerprint({ b: '2', a: '1' }));
    expect(fingerprint({ a: '1', b: '2' })).not.toBe(fingerprint({ a: '12' }));
    expect(fingerprint({})).toBe('cbf29ce484222325');
  });
});

describe('restore of the `for` state at start-up (RestoreForState)', () => {
  const FOR = 30 * MIN;
  const persisted = (activeAt: number, evaluatedAt: number, state: 'pending' | 'firing' | 'inactive' = 'pending'): PersistedAlert[] => {
    const labels = { alertname: 'HighErrorRate', model: 'churn', severity: 'page' };
    return [{ ruleKey: { file: 'rules/ml.yml', group: 'ml', rule: 'HighErrorRate' }, fingerprint: fingerprint(labels), labels, annotations: {}, state, activeAt, firedAt: null, resolvedAt: null, lastSentAt: null, validUntil: null, keepFiringSince: null, value: 0.2, evaluatedAt }];
  };
  // Vigil restarts at T0 (evaluations at T0 and T0+1m, restore after the second).
  const restart = (p: PersistedAlert[], forMs = FOR) => {
    const s = setup([rule({ forMs })], { 'vigil_error_rate > 0.1': [churn()] }, {}, { restore: p });
    const r0 = s.run(0);
    expect(r0.samples).toEqual([]); // no ALERTS series before restoration
    s.run(1);
    return s;
  };

  it('remaining ≥ grace: activeAt shifted by the downtime', () => {
    // active 5m before going down 20m before restart: 25m remain
    const s = restart(persisted(T0 - 25 * MIN, T0 - 20 * MIN));
    expect(s.r().activeAlerts()[0]!.activeAt).toBe(T0 - 25 * MIN + (at(1) - (T0 - 20 * MIN)));
    expect(s.r().restored).toBe(true);
    expect(s.run(2).samples).toHaveLength(2);
  });

  it('0 < remaining < grace: fires grace after the restart', () => {
    // active 25m before going down: 5m remain < 10m grace
    const s = restart(persisted(T0 - 30 * MIN, T0 - 5 * MIN));
    const a = s.r().activeAlerts()[0]!;
    expect(a.activeAt).toBe(at(1) + 10 * MIN - FOR);
    s.run(10);
    expect(s.r().state()).toBe('pending');
    s.run(11);
    expect(s.r().state()).toBe('firing'); // at(1) + 10m
  });

  it('remaining ≤ 0 (was firing): activeAt kept, fires at the next true evaluation', () => {
    const s = restart(persisted(T0 - 50 * MIN, T0 - 5 * MIN, 'firing'));
    expect(s.r().activeAlerts()[0]!.activeAt).toBe(T0 - 50 * MIN);
    s.run(2);
    expect(s.r().state()).toBe('firing');
  });

  it('state older than the outage tolerance is ignored', () => {
    const s = restart(persisted(T0 - 70 * MIN, T0 - 61 * MIN - MIN));
    expect(s.r().activeAlerts()[0]!.activeAt).toBe(at(0));
  });

  it('rules with for < grace period are not restored', () => {
    const s = restart(persisted(T0 - 8 * MIN, T0 - 2 * MIN), 9 * MIN);
    expect(s.r().activeAlerts()[0]!.activeAt).toBe(at(0));
  });

  it('a resolved (stale) alert is not restored', () => {
    const s = restart(persisted(T0 - 25 * MIN, T0 - 20 * MIN, 'inactive'));
    expect(s.r().activeAlerts()[0]!.activeAt).toBe(at(0));
  });

  it('persistedState round-trips and carries the loaded state until restoration', () => {
    const p = persisted(T0 - 25 * MIN, T0 - 20 * MIN);
    const s = setup([rule({ forMs: FOR })], { 'vigil_error_rate > 0.1': [churn()] }, {}, { restore: p });
    s.run(0);
    expect(s.m.persistedState()).toEqual(p);
    s.run(1);
    const saved = s.m.persistedState();
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ ruleKey: { file: 'rules/ml.yml', group: 'ml', rule: 'HighErrorRate' }, state: 'pending', evaluatedAt: at(1), firedAt: null, value: 0.2 });
  });
});

describe('HTTP API builders', () => {
  it('/api/v1/rules and /api/v1/alerts shapes', () => {
    const { m, run } = setup([rule({ forMs: 5 * MIN, keepFiringForMs: MIN }), rule({ name: 'Other', expr: 'up == 0' })], { 'vigil_error_rate > 0.1': [churn()] });
    run(0);
    const res = buildRulesResponse(m.ruleGroups());
    expect(res).toEqual({
      status: 'success',
      data: {
        groups: [
          {
            name: 'ml',
            file: 'rules/ml.yml',
            interval: 60,
            limit: 0,
            evaluationTime: 0,
            lastEvaluation: '2024-01-01T00:00:00Z',
            rules: [
              {
                state: 'pending',
                name: 'HighErrorRate',
                query: 'vigil_error_rate > 0.1',
                duration: 300,
                keepFiringFor: 60,
                labels: { severity: 'page' },
                annotations: { summary: 'error rate {{ $value | humanizePercentage }} on {{ $labels.model }}' },
                alerts: [{ labels: { alertname: 'HighErrorRate', model: 'churn', severity: 'page' }, annotations: { summary: 'error rate 20% on churn' }, state: 'pending', activeAt: '2024-01-01T00:00:00Z', value: '2e-01' }],
                health: 'ok',
                evaluationTime: 0,
                lastEvaluation: '2024-01-01T00:00:00Z',
                type: 'alerting',
              },
              {
                state: 'inactive',
                name: 'Other',
                query: 'up == 0',
                duration: 0,
                keepFiringFor: 0,
                labels: { severity: 'page' },
                annotations: { summary: 'error rate {{ $value | humanizePercentage }} on {{ $labels.model }}' },
                alerts: [],
                health: 'ok',
                evaluationTime: 0,
                lastEvaluation: '2024-01-01T00:00:00Z',
                type: 'alerting',
              },
            ],
          },
        ],
      },
    });
    expect(buildAlertsResponse(m.ruleGroups())).toEqual({
      status: 'success',
      data: { alerts: [{ labels: { alertname: 'HighErrorRate', model: 'churn', severity: 'page' }, annotations: { summary: 'error rate 20% on churn' }, state: 'pending', activeAt: '2024-01-01T00:00:00Z', value: '2e-01' }] },
    });
  });

  it('filters: type, rule_name[], rule_group[], file[], exclude_alerts', () => {
    const { m, run } = setup([rule(), rule({ name: 'Other', expr: 'up == 0' })], { 'vigil_error_rate > 0.1': [churn()] });
    run(0);
    const q = (s: string) => buildRulesResponse(m.ruleGroups(), rulesQueryFromParams(new URLSearchParams(s)));
    const names = (s: string) => {
      const r = q(s);
      return r.status === 'success' ? r.data.groups.flatMap((g) => g.rules.map((x) => x.name)) : r.error;
    };
    expect(names('type=alert')).toEqual(['HighErrorRate', 'Other']);
    expect(names('type=record')).toEqual([]);
    expect(names('type=bogus')).toBe('invalid parameter "type": not supported value "bogus"');
    expect(names('rule_name[]=Other')).toEqual(['Other']);
    expect(names('rule_group[]=nope')).toEqual([]);
    expect(names('file[]=rules/ml.yml&rule_group[]=ml')).toEqual(['HighErrorRate', 'Other']);
    const ex = q('exclude_alerts=true');
    expect(ex.status === 'success' && (ex.data.groups[0]!.rules[0] as ApiAlertingRule).alerts).toBeNull();
    expect(q('exclude_alerts=maybe')).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });

  it('keepFiringSince and lastError appear only when set', () => {
    const { m, run } = setup([rule({ keepFiringForMs: 5 * MIN })], { 'vigil_error_rate > 0.1': [churn(1), [], new Error('bad expr')] });
    run(0);
    run(1);
    expect(buildAlertsResponse(m.ruleGroups()).data.alerts[0]).toMatchObject({ state: 'firing', keepFiringSince: '2024-01-01T00:01:00Z', value: '1e+00' });
    run(2);
    const r = buildRulesResponse(m.ruleGroups());
    expect(r.status === 'success' && r.data.groups[0]!.rules[0]).toMatchObject({ health: 'err', lastError: 'bad expr' });
  });
});
