import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRuleFileError, loadRuleFiles, parseRuleFile } from './load.js';

const OPTS = { defaultIntervalMs: 60_000 };
const msgs = (text: string) => parseRuleFile(text, 'r.yml', OPTS).errors.map(formatRuleFileError);

const GOOD = `groups:
  - name: ml
    interval: 30s
    limit: 10
    labels:
      team: ml
    rules:
      - alert: HighErrorRate
        expr: vigil_error_rate{model="churn"} > 0.1
        for: 5m
        keep_firing_for: 2m
        labels:
          severity: page
        annotations:
          summary: "Error rate {{ $value | humanizePercentage }} on {{ $labels.model }}"
      - alert: NoTraffic
        expr: |
          sum by (model) (vigil_predictions_total) == 0
  - name: other
    rules: []
`;

describe('parseRuleFile', () => {
  it('reads groups and alerting rules', () => {
    const r = parseRuleFile(GOOD, 'r.yml', OPTS);
    expect(r.errors).toEqual([]);
    expect(r.groups).toEqual([
      {
        name: 'ml',
        file: 'r.yml',
        intervalMs: 30_000,
        limit: 10,
        labels: { team: 'ml' },
        rules: [
          { name: 'HighErrorRate', expr: 'vigil_error_rate{model="churn"} > 0.1', forMs: 300_000, keepFiringForMs: 120_000, labels: { team: 'ml', severity: 'page' }, annotations: { summary: 'Error rate {{ $value | humanizePercentage }} on {{ $labels.model }}' }, file: 'r.yml', line: 8 },
          { name: 'NoTraffic', expr: 'sum by (model) (vigil_predictions_total) == 0\n', forMs: 0, keepFiringForMs: 0, labels: { team: 'ml' }, annotations: {}, file: 'r.yml', line: 16 },
        ],
      },
      { name: 'other', file: 'r.yml', intervalMs: 60_000, limit: 0, labels: {}, rules: [] },
    ]);
  });

  it('an empty file has no groups', () => {
    expect(parseRuleFile('', 'r.yml', OPTS)).toEqual({ groups: [], errors: [] });
  });

  it('loads recording rules in group order beside alerting rules, with the group labels', () => {
    const r = parseRuleFile(
      'groups:\n  - name: g\n    labels:\n      team: ml\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n        labels:\n          tier: "1"\n          team: ""\n      - alert: Down\n        expr: job:up:sum == 0\n',
      'r.yml',
      OPTS,
    );
    expect(r.errors).toEqual([]);
    expect(r.groups[0]!.rules).toEqual([
      { kind: 'record', name: 'job:up:sum', expr: 'sum by (job) (up)', labels: { team: '', tier: '1' }, file: 'r.yml', line: 6 },
      expect.objectContaining({ name: 'Down', expr: 'job:up:sum == 0', labels: { team: 'ml' } }),
    ]);
  });

  it('refuses what Prometheus refuses in a recording rule, and a name Vigil already exports', () => {
    const rule = (extra: string, name = 'job:up:sum') => msgs(`groups:\n  - name: g\n    rules:\n      - record: ${name}\n        expr: sum(up)\n${extra}`);
    expect(rule('        for: 5m\n')).toEqual(["r.yml:4:17: invalid field 'for' in recording rule"]);
    expect(rule('        for: 0s\n')).toEqual([]);
    expect(rule('        keep_firing_for: 1m\n')).toEqual(["r.yml:4:17: invalid field 'keep_firing_for' in recording rule"]);
    expect(rule('        annotations:\n          summary: x\n')).toEqual(["r.yml:4:17: invalid field 'annotations' in recording rule"]);
    expect(rule('', 'bad-name')).toEqual(['r.yml:4:17: invalid recording rule name: bad-name']);
    expect(rule('        labels:\n          __name__: x\n')).toEqual(['r.yml:7:11: invalid label name: __name__']);
    expect(rule('', '"sum(up"')).toEqual(['r.yml:4:17: invalid recording rule name: sum(up']);
    for (const taken of ['ml_model_accuracy', 'ml_prediction_latency_seconds_bucket', 'ml_predictions_created', 'ALERTS', 'process_cpu_seconds_total']) {
      expect(rule('', taken)).toEqual([
        `r.yml:4:17: recording rule "${taken}": Vigil already exports a metric of this name on /metrics; record another name (the convention is level:metric:operations)`,
      ]);
    }
    expect(msgs('groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n        expr: up\n')).toEqual(["r.yml:4:17: only one of 'record' and 'alert' must be set"]);
  });

  it('reports every problem at once with file:line:column', () => {
    const text = `groups:
  - name: g
    rules:
      - alert: bad-name
        expr: up == 0
      - alert: NoExpr
      - alert: BadFor
        expr: up == 0
        for: 5 minutes
        labels:
          __name__: x
          "bad-label": y
        annotations:
          summary: "{{ $labels.x "
  - name: g
    rules:
      - alert: Dup
        expr: up == 0
        extra: 1
`;
    expect(msgs(text)).toEqual([
      'r.yml:4:16: invalid name for alert rule: "bad-name"',
      `r.yml:6:9: field 'expr' must be set in rule "NoExpr"`,
      'r.yml:9:14: for: not a valid duration string: "5 minutes"',
      'r.yml:11:11: invalid label name: __name__',
      'r.yml:12:11: invalid label name: bad-label',
      'r.yml:14:20: annotation "summary": template: __alert_BadFor:1: unclosed action',
      'r.yml:15:11: groupname: "g" is repeated in the same file',
      'r.yml:19:9: field extra not found in type rulefmt.Rule',
    ]);
    expect(parseRuleFile(text, 'r.yml', OPTS).groups).toEqual([]);
  });

  it('expressions go through the PromQL parser; errors point into the expression', () => {
    const text = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate(up[5m] offset 1h)) > \n';
    const e = parseRuleFile(text, 'r.yml', OPTS).errors;
    expect(e).toHaveLength(1);
    expect(e[0]!.line).toBe(5);
    expect(e[0]!.message).toMatch(/^rule "A": (could not parse expression|unsupported PromQL): /);
  });

  it('unsupported constructs are refused at load time with the construct named', () => {
    const text = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          limitk(2, vigil_requests_total) > 1\n';
    const e = parseRuleFile(text, 'r.yml', OPTS).errors;
    expect(e).toHaveLength(1);
    expect(e[0]!.line).toBe(6);
    expect(e[0]!.message).toMatch(/^rule "A": unsupported PromQL: /);
  });

  it('YAML syntax errors and duplicate keys', () => {
    expect(msgs('groups:\n  - name: g\n    name: h\n')[0]).toMatch(/^r\.yml:3:5: yaml: /);
    expect(msgs('groups: [\n')[0]).toMatch(/^r\.yml:\d+:\d+: yaml: /);
  });
});

describe('loadRuleFiles', () => {
  it('expands globs relative to the base dir and collects errors across files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-rules-'));
    await mkdir(path.join(dir, 'rules'));
    await writeFile(path.join(dir, 'rules', 'a.yml'), GOOD);
    await writeFile(path.join(dir, 'rules', 'b.yaml'), 'groups:\n  - name: b\n    rules:\n      - record: x\n        expr: up\n        for: 1m\n');
    const r = await loadRuleFiles(['rules/*.yml', 'rules/*.yaml', 'rules/none-*.yml'], { baseDir: dir, ...OPTS });
    expect(r.groups.map((g) => [path.relative(dir, g.file), g.name])).toEqual([
      ['rules/a.yml', 'ml'],
      ['rules/a.yml', 'other'],
    ]);
    expect(r.errors.map((e) => [path.relative(dir, e.file), e.line])).toEqual([['rules/b.yaml', 4]]);
  });
});
