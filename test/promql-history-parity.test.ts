import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SampleHistory } from '../src/alerting/promql/history.js';
import { evaluate, parsePromql, SeriesIndex } from '../src/alerting/promql/index.js';
import type { Sample } from '../src/metrics/snapshot.js';
import { debianTool } from './debian.js';

/**
 * Parity of Vigil's range selectors, offset, @, subqueries, timestamp() and histogram_quantile()
 * with the real Prometheus 2.42 engine. The same series are fed to Vigil's history and, as
 * `input_series`, to `promtool test rules`; Vigil evaluates every expression at every time and
 * writes what it got as `exp_samples`; promtool evaluates the same and compares exactly
 * (reflect.DeepEqual of labels and float64 values, cmd/promtool/unittest.go). A missing sample is
 * a stale marker on both sides (Vigil marks a series stale when it leaves a snapshot, as a scrape
 * does). Expressions whose result holds a NaN are checked by count only (DeepEqual: NaN ≠ NaN).
 */
const promtool = debianTool('promtool', 'prometheus');

const STEP = 60_000;
const STEPS = 31; // 0m … 30m

interface Input {
  name: string;
  labels: Record<string, string>;
  /** a value per step; undefined: no sample (stale) */
  values: Array<number | undefined>;
}

const range = (f: (i: number) => number | undefined): Array<number | undefined> => Array.from({ length: STEPS }, (_, i) => f(i));
const INPUTS: Input[] = [
  // a counter with a reset at 15m
  { name: 'http_requests_total', labels: { job: 'a', instance: '1' }, values: range((i) => (i < 15 ? 10 * i : 7 * (i - 15))) },
  { name: 'http_requests_total', labels: { job: 'a', instance: '2' }, values: range((i) => 5 + 3 * i + (i % 4 === 0 ? 0.5 : 0)) },
  // absent from 13m to 19m (stale), back at 20m
  { name: 'http_requests_total', labels: { job: 'b', instance: '1' }, values: range((i) => (i >= 13 && i < 20 ? undefined : 2 * i * i)) },
  { name: 'gauge', labels: { g: 'x' }, values: range((i) => Math.round(100 * Math.sin(i / 3)) / 10) },
  { name: 'gauge', labels: { g: 'y' }, values: range((i) => (i % 7) * 1.25 - 3) },
  ...['0.1', '0.5', '1', '+Inf'].map((le, k) => ({ name: 'latency_seconds_bucket', labels: { le }, values: range((i) => i * (3 + 4 * k) + (k === 3 ? i % 3 : 0)) })),
];

const EXPRESSIONS = [
  'rate(http_requests_total[5m])',
  'rate(http_requests_total[90s])',
  'irate(http_requests_total[5m])',
  'increase(http_requests_total[10m])',
  'delta(gauge[5m])',
  'idelta(gauge[5m])',
  'deriv(gauge[10m])',
  'changes(gauge[10m])',
  'resets(http_requests_total[30m])',
  'avg_over_time(gauge[7m])',
  'min_over_time(gauge[10m])',
  'max_over_time(gauge[10m])',
  'sum_over_time(gauge[10m])',
  'count_over_time(http_requests_total[10m])',
  'last_over_time(http_requests_total[10m])',
  'quantile_over_time(0.9, gauge[10m])',
  'stddev_over_time(gauge[10m])',
  'stdvar_over_time(gauge[10m])',
  'present_over_time(http_requests_total[3m])',
  'absent_over_time(nonexistent{job="z"}[5m])',
  'absent_over_time(http_requests_total{job="b"}[2m])',
  'predict_linear(gauge[10m], 600)',
  'holt_winters(gauge[10m], 0.5, 0.3)',
  'histogram_quantile(0.9, rate(latency_seconds_bucket[5m]))',
  'histogram_quantile(0.5, sum by (le) (latency_seconds_bucket))',
  'http_requests_total offset 5m',
  'gauge - gauge offset 5m',
  'http_requests_total - http_requests_total @ 300 > 10',
  'http_requests_total{job="b"}',
  'http_requests_total @ 300',
  'sum(http_requests_total @ start())',
  'rate(http_requests_total[5m] offset 3m)',
  'rate(http_requests_total[5m] @ 600)',
  'max_over_time(rate(http_requests_total[2m])[10m:1m])',
  'max_over_time(rate(http_requests_total[2m])[10m:])',
  'avg_over_time(gauge[10m:2m] offset 1m)',
  'min_over_time(sum by (job) (http_requests_total)[6m:90s])',
  'timestamp(http_requests_total)',
  'timestamp(http_requests_total offset 2m)',
  'timestamp(sum(gauge))',
  'sum by (job) (rate(http_requests_total[5m])) > 0.1',
  'rate(http_requests_total{job="b"}[5m])',
];
// on the 1m grid (the snapshot path) and between samples (history only)
const TIMES = [0, 60_000, 5 * STEP, 12 * STEP + 30_000, 14 * STEP, 17 * STEP, 21 * STEP, 25 * STEP + 15_000, 30 * STEP];

function samplesAt(i: number): Sample[] {
  const out: Sample[] = [];
  for (const s of INPUTS) {
    const v = s.values[i];
    if (v !== undefined) out.push({ name: s.name, labels: s.labels, value: v });
  }
  return out;
}

/** Vigil's answer at `t`: a history fed step by step up to t; at a step, the snapshot is that step's. */
function vigil(expr: string, t: number): Array<{ labels: Record<string, string>; value: number }> {
  const history = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 1_000_000 });
  const last = Math.floor(t / STEP);
  for (let i = 0; i < last; i++) new SeriesIndex(samplesAt(i)).recordIn(history, i * STEP);
  let index: SeriesIndex;
  if (t === last * STEP) index = new SeriesIndex(samplesAt(last)).recordIn(history, t);
  else {
    new SeriesIndex(samplesAt(last)).recordIn(history, last * STEP);
    index = new SeriesIndex([]).readFrom(history);
  }
  const v = evaluate(parsePromql(expr), { series: index, timeMs: t, defaultStepMs: STEP });
  if (v.type === 'scalar') return [{ labels: {}, value: v.value }];
  if (v.type !== 'vector') throw new Error('not a vector');
  return v.samples.map((s) => ({ labels: { ...s.labels }, value: s.value }));
}

const goValue = (v: number): string => (v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : String(v));
const metric = (l: Record<string, string>): string => {
  const { __name__: name, ...rest } = l;
  const parts = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return `${name ?? ''}{${parts.join(', ')}}`;
};
const seriesValues = (vs: Array<number | undefined>): string => vs.map((v) => (v === undefined ? 'stale' : String(v))).join(' ');
const duration = (ms: number): string => `${ms / 1000}s`;

const dir = mkdtempSync(join(tmpdir(), 'vigil-promql-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('history, range functions, offset, @ and subqueries: the same values as Prometheus 2.42', () => {
  it('Vigil evaluates every expression at every time (none fails)', () => {
    for (const e of EXPRESSIONS) for (const t of TIMES) expect(() => vigil(e, t), `${e} at ${t}`).not.toThrow();
  });

  it.runIf(promtool.available)('promtool test rules agrees with every value Vigil computes', () => {
    let checked = 0;
    let nanOnly = 0;
    const tests: string[] = [];
    for (const expr of EXPRESSIONS) {
      // `@` a time after the evaluation reads the future: promtool has it, a live Vigil never does
      const at = /@ (\d+)/.exec(expr);
      for (const t of TIMES.filter((x) => at === null || Number(at[1]) * 1000 <= x)) {
        const got = vigil(expr, t);
        if (got.some((s) => Number.isNaN(s.value))) {
          nanOnly++;
          continue;
        }
        checked += got.length;
        const exp = got.map((s) => `          - labels: '${metric(s.labels)}'\n            value: ${goValue(s.value)}`).join('\n');
        tests.push(`      - expr: '${expr.replace(/'/g, "''")}'\n        eval_time: ${duration(t)}\n        exp_samples:${got.length === 0 ? ' []' : `\n${exp}`}`);
      }
    }
    writeFileSync(join(dir, 'empty.rules.yml'), 'groups: []\n');
    const file = [
      'rule_files: [empty.rules.yml]',
      'evaluation_interval: 1m',
      'tests:',
      '  - interval: 1m',
      '    input_series:',
      ...INPUTS.map((s) => `      - series: '${metric({ __name__: s.name, ...s.labels })}'\n        values: '${seriesValues(s.values)}'`),
      '    promql_expr_test:',
      ...tests,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'parity.test.yml'), file);
    let out: string;
    try {
      out = execFileSync('promtool', ['test', 'rules', 'parity.test.yml'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`promtool disagrees:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    expect(out).toContain('SUCCESS');
    expect(checked).toBeGreaterThan(300);
    expect(nanOnly).toBeLessThan(EXPRESSIONS.length);
  });
});
