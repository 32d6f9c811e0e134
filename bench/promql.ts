/**
 * PromQL evaluation benchmark: a 10,080-series snapshot (8 models × 70 features × 15 per-feature
 * metrics + per-model metrics) and 1,000 rule expressions of realistic shapes (selectors with
 * matchers, comparisons, aggregations by, and/or/unless, group_left). Parsing is done once (rule
 * load); the figure is the median time to evaluate all 1,000 over a fresh SeriesIndex (built once
 * per snapshot, included). Target: < 100 ms. Then 1,000 rules with range selectors (rate,
 * increase, *_over_time, deriv, offset, a subquery) over the same series with an hour of history at
 * a 1-minute cycle (60 snapshots): the evaluation of a cycle (append and rules), target < 200 ms,
 * and the history's memory per series. Never used by tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRuleFile } from '../src/alerting/rules/index.js';
import { AlertingService } from '../src/alerting/service.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Sample } from '../src/metrics/snapshot.js';
import { SampleHistory } from '../src/alerting/promql/history.js';
import { evaluate, parsePromql, type PromqlExpr, SeriesIndex } from '../src/alerting/promql/index.js';

const MODELS = Array.from({ length: 8 }, (_, i) => `model_${i}`);
const FEATURES = Array.from({ length: 70 }, (_, i) => `f${i}`);
const FEATURE_METRICS = [
  'vigil_feature_psi',
  'vigil_feature_ks_statistic',
  'vigil_feature_ks_pvalue',
  'vigil_feature_missing_ratio',
  'vigil_feature_mean',
  'vigil_feature_stddev',
  'vigil_feature_baseline_mean',
  'vigil_feature_baseline_stddev',
  'vigil_feature_out_of_range_ratio',
  'vigil_feature_freshness_seconds',
  'vigil_feature_null_count',
  'vigil_feature_cardinality',
  'vigil_feature_drift_score',
  'vigil_feature_js_divergence',
  'vigil_feature_wasserstein',
  'vigil_feature_hellinger',
  'vigil_feature_chi2_pvalue',
  'vigil_feature_p99',
];
const MODEL_METRICS = ['vigil_model_accuracy', 'vigil_model_f1', 'vigil_model_baseline_f1', 'vigil_model_latency_p95_seconds', 'vigil_model_error_ratio', 'vigil_model_requests'];

function snapshot(): Sample[] {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const out: Sample[] = [];
  for (const model of MODELS) {
    for (const feature of FEATURES) for (const name of FEATURE_METRICS) out.push({ name, labels: { model, feature, env: 'prod' }, value: rnd() });
    for (const name of MODEL_METRICS) for (const version of ['1', '2']) out.push({ name, labels: { model, version, env: 'prod' }, value: rnd() });
  }
  for (const model of MODELS) out.push({ name: 'vigil_model_info', labels: { model, team: `team_${model.length % 3}`, owner: 'ml' }, value: 1 });
  return out;
}

function rules(): string[] {
  const out: string[] = [];
  let i = 0;
  while (out.length < 1000) {
    const m = MODELS[i % MODELS.length] as string;
    const f = FEATURES[i % FEATURES.length] as string;
    const fm = FEATURE_METRICS[i % FEATURE_METRICS.length] as string;
    const t = (0.1 + (i % 9) / 10).toFixed(1);
    switch (i % 10) {
      case 0:
        out.push(`${fm}{model="${m}", feature="${f}"} > ${t}`);
        break;
      case 1:
        out.push(`max by (model) (${fm}{env="prod"}) > ${t}`);
        break;
      case 2:
        out.push(`count by (model) (vigil_feature_psi{model=~"${m}|model_1"} > 0.2) >= 3`);
        break;
      case 3:
        out.push(`vigil_model_f1{model="${m}"} < on(model, version) group_left vigil_model_baseline_f1 * 0.9`);
        break;
      case 4:
        out.push(`(vigil_feature_missing_ratio > ${t}) and on(model) (vigil_model_requests > 0.1)`);
        break;
      case 5:
        out.push(`avg by (model) (${fm}) > ${t} unless on(model) vigil_model_error_ratio > 0.99`);
        break;
      case 6:
        out.push(`vigil_model_latency_p95_seconds * on(model) group_left(team, owner) vigil_model_info > ${t}`);
        break;
      case 7:
        out.push(`sum by (model, feature) (${fm}{feature!~"f1.*"}) / on(model, feature) sum by (model, feature) (vigil_feature_baseline_mean) > 2`);
        break;
      case 8:
        out.push(`absent(vigil_model_requests{model="${m}"}) or vigil_model_requests{model="${m}"} == bool 0`);
        break;
      default:
        out.push(`topk(3, ${fm}{model="${m}"}) > ${t} or clamp_max(vigil_feature_freshness_seconds{model="${m}"}, 1) < 0.5`);
    }
    i++;
  }
  return out;
}

/** 1,000 rules that read the history. */
function rangeRules(): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < 1000; i++) {
    const m = MODELS[i % MODELS.length] as string;
    const fm = FEATURE_METRICS[i % FEATURE_METRICS.length] as string;
    const t = (0.1 + (i % 9) / 10).toFixed(1);
    switch (i % 8) {
      case 0:
        out.push(`rate(vigil_model_requests{model="${m}"}[5m]) > ${t}`);
        break;
      case 1:
        out.push(`max by (model) (avg_over_time(${fm}{model="${m}"}[30m])) > ${t}`);
        break;
      case 2:
        out.push(`increase(vigil_model_requests[1h]) > ${t}`);
        break;
      case 3:
        out.push(`abs(deriv(${fm}{model="${m}"}[15m])) > ${t}`);
        break;
      case 4:
        out.push(`${fm}{model="${m}"} - ${fm}{model="${m}"} offset 30m > ${t}`);
        break;
      case 5:
        out.push(`quantile_over_time(0.9, vigil_model_latency_p95_seconds[1h]) > ${t}`);
        break;
      case 6:
        out.push(`count by (model) (max_over_time(vigil_feature_psi{model="${m}"}[10m]) > 0.2) >= 3`);
        break;
      default:
        out.push(`max_over_time(avg by (model) (vigil_model_error_ratio)[30m:5m]) > ${t}`);
    }
  }
  return out;
}

function benchHistory(print: (line: string) => void): void {
  const base = snapshot();
  const at = (k: number): Sample[] => base.map((s, i) => ({ ...s, value: s.name === 'vigil_model_requests' ? 100 * k + (i % 7) : s.value + 0.01 * Math.sin(k + i) }));
  const exprs = rangeRules().map((r) => parsePromql(r));
  const history = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 5_000_000 });
  const t0 = Date.UTC(2026, 11, 1);
  for (let k = 0; k < 60; k++) new SeriesIndex(at(k)).recordIn(history, t0 + k * 60_000);
  const runs: number[] = [];
  let results = 0;
  for (let k = 60; k < 67; k++) {
    const now = t0 + k * 60_000;
    const samples = at(k);
    const start = performance.now();
    const series = new SeriesIndex(samples).recordIn(history, now);
    results = 0;
    for (const e of exprs) {
      const v = evaluate(e, { series, timeMs: now, defaultStepMs: 60_000 });
      if (v.type === 'vector') results += v.samples.length;
    }
    runs.push(performance.now() - start);
  }
  runs.sort((a, b) => a - b);
  const st = history.stats();
  print(
    `promql: ${exprs.length} range rules over ${base.length} series with 1h of history — median ${(runs[3] as number).toFixed(1)} ms a cycle (min ${(runs[0] as number).toFixed(1)}, ${results} result samples); target < 200 ms`,
  );
  print(`promql: history ${st.series} series, ${st.samples} samples, ~${(st.bytes / 1048576).toFixed(1)} MB (${Math.round(st.bytes / st.series)} bytes a series at 61 samples)`);
}

export async function benchPromql(print: (line: string) => void): Promise<void> {
  const samples = snapshot();
  const exprs: PromqlExpr[] = rules().map((r) => parsePromql(r));
  const runs: number[] = [];
  let results = 0;
  for (let run = 0; run < 7; run++) {
    const t0 = performance.now();
    const series = new SeriesIndex(samples);
    const timeMs = Date.now(); // one evaluation timestamp for the whole rule set, as a group evaluation has
    results = 0;
    for (const e of exprs) {
      const v = evaluate(e, { series, timeMs });
      if (v.type === 'vector') results += v.samples.length;
    }
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)] as number;
  print(`promql: ${exprs.length} rules over ${samples.length} series — median ${median.toFixed(1)} ms (min ${(runs[0] as number).toFixed(1)}, ${results} result samples); target < 100 ms`);

  // The same without sharing subexpression results between rules (a distinct time per rule defeats the memo).
  const solo: number[] = [];
  for (let run = 0; run < 5; run++) {
    const t0 = performance.now();
    const series = new SeriesIndex(samples);
    let t = Date.now();
    for (const e of exprs) evaluate(e, { series, timeMs: t++ });
    solo.push(performance.now() - t0);
  }
  solo.sort((a, b) => a - b);
  print(`promql: same, no subexpression sharing between rules — median ${(solo[2] as number).toFixed(1)} ms`);
  benchHistory(print);
  await benchService(print, samples, rules());
}

/**
 * The daemon's path: the same 1,000 expressions as alerting rules of one group in AlertingService
 * (rule outputs — ALERTS, ALERTS_FOR_STATE — written to the index and the history after each rule,
 * the history persisted to a SQLite file), a cycle a minute for 10 minutes; the median cycle.
 */
async function benchService(print: (line: string) => void, samples: Sample[], exprs: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-rules-'));
  try {
    const yaml = ['groups:', '  - name: bench', '    rules:', ...exprs.map((e, i) => `      - alert: R${i}\n        expr: ${JSON.stringify(e)}`)].join('\n');
    const { groups, errors } = parseRuleFile(yaml, 'bench.rules.yml', { defaultIntervalMs: 60_000 });
    if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('; '));
    const config = parseConfigText('models: []\nalerting: { bundled_rules: false }\n', 'bench.yaml', {});
    const t0 = Date.UTC(2026, 11, 1);
    const store = new SqliteStore({ path: join(dir, 'bench.db'), now: t0 });
    const service = new AlertingService({ store, logger: createLogger({ level: 'silent' }), config: () => config });
    await service.start(groups, t0);
    const times: number[] = [];
    let firing = 0;
    for (let i = 0; i < 10; i++) {
      const c0 = performance.now();
      await service.evaluate(samples, t0 + i * 60_000);
      times.push(performance.now() - c0);
      firing = service.activeAlerts().length;
    }
    times.sort((a, b) => a - b);
    print(`promql: the same as 1,000 alerting rules through AlertingService (${firing} alerts active, outputs into the index and the persisted history) — median cycle ${(times[5] as number).toFixed(1)} ms`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
