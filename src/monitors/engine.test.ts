import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 as rng } from '../core/random.js';
import { debianTool } from '../../test/debian.js';
import { ManualClock, testDaemon, writeConfig, type TestDaemon } from '../../test/harness.js';
import { ks2samp } from '../stats/ks.js';
import { summarizeNumeric, type NumericReferenceSummary } from '../stats/reference.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';

const CONFIG = `
evaluation_interval: 1m
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h, 24h]
    min_samples: 20
    business: { tp: 10, fp: -2, tn: 0, fn: -20, cost_per_prediction: 0.5 }
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
      - { name: constant, type: numeric }
  - name: eta
    task: regression
    windows: [1h]
    min_samples: 20
    features:
      - { name: km, type: numeric }
  - name: unlabelled
    task: binary
    windows: [1h]
    min_samples: 20
    features:
      - { name: x, type: numeric }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const T0 = Date.UTC(2026, 10, 1, 12);
const H = 3_600_000;

const post = async (d: TestDaemon, url: string, body: unknown) => {
  const r = await d.daemon.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  expect(r.statusCode, r.body).toBeLessThan(300);
  return r.json();
};

const value = (d: TestDaemon, name: string, labels: Record<string, string>) => d.daemon.snapshot().value(name, labels);

/** n predictions of `fraud` at time ts; `shift` moves `amount`; `accuracy` of the predictions. */
function fraudBatch(prefix: string, n: number, ts: number, opts: { shift?: number; accuracy?: number; version?: string; country?: string } = {}) {
  const r = rng(prefix.length * 7919 + n);
  const preds = [];
  const labels = [];
  for (let i = 0; i < n; i++) {
    const truth = r() < 0.4 ? 1 : 0;
    const right = r() < (opts.accuracy ?? 0.9);
    const pred = right ? truth : 1 - truth;
    const score = pred === 1 ? 0.5 + r() * 0.5 : r() * 0.5;
    preds.push({
      id: `${prefix}-${i}`,
      ts,
      model_version: opts.version ?? 'v1',
      features: { amount: 100 + (opts.shift ?? 0) + (r() - 0.5) * 40, country: opts.country && r() < 0.5 ? opts.country : ['PL', 'DE', 'FR'][i % 3], constant: 7 },
      prediction: pred,
      score: Math.round(score * 1000) / 1000,
      latency_ms: 10 + (i % 10),
      ...(i % 50 === 0 ? { error: 'timeout' } : {}),
    });
    labels.push({ id: `${prefix}-${i}`, label: truth, ts: ts + 1000 });
  }
  return { preds, labels };
}

describe('the monitoring cycle', () => {
  it('computes quality, drift, data quality, latency and business value over stepped windows', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const base = fraudBatch('train', 400, T0);
    await post(t, '/v1/models/fraud/baselines?version=v1', base.preds.map((p, i) => ({ features: p.features, prediction: p.prediction, score: p.score, label: base.labels[i]?.label })));

    // Two hours ago: normal traffic (only in the 24h window); now: shifted traffic with a new country.
    const old = fraudBatch('old', 200, T0 - 2 * H);
    const recent = fraudBatch('new', 200, T0 - 60_000, { shift: 30, accuracy: 0.6, country: 'XX' });
    await post(t, '/v1/models/fraud/predictions', [...old.preds, ...recent.preds]);
    // Labels: all of the old ones, half of the recent ones arrive (late); the rest never.
    await post(t, '/v1/models/fraud/labels', [...old.labels, ...recent.labels.slice(0, 100)]);
    await t.daemon.cycle.run();

    const fraud1h = { model: 'fraud', version: 'v1', window: '1h' };
    const fraud24h = { model: 'fraud', version: 'v1', window: '1d' };
    expect(value(t, 'ml_window_samples', fraud1h)).toBe(200);
    expect(value(t, 'ml_window_samples', fraud24h)).toBe(400);
    expect(value(t, 'ml_label_coverage_ratio', fraud1h)).toBe(0.5);
    expect(value(t, 'ml_label_coverage_ratio', fraud24h)).toBe(0.75);
    const acc1h = value(t, 'ml_model_accuracy', fraud1h) as number;
    const acc24h = value(t, 'ml_model_accuracy', fraud24h) as number;
    expect(acc1h).toBeLessThan(0.75);
    expect(acc24h).toBeGreaterThan(acc1h);
    const baselineAcc = value(t, 'ml_model_quality_baseline', { model: 'fraud', version: 'v1', metric: 'accuracy' }) as number;
    expect(baselineAcc).toBeGreaterThan(0.85);
    expect(value(t, 'ml_accuracy_improvement_ratio', fraud1h)).toBeCloseTo((acc1h - baselineAcc) / baselineAcc, 12);
    // The test scores are not calibrated (0.5–1 for every predicted positive): the baseline's
    // isotonic fit calibrates them for the label-free estimate (NannyML's CBPE), which is then
    // trusted on the held-out error after calibration, not on the raw scores' error.
    const ece = value(t, 'ml_model_quality_baseline', { model: 'fraud', version: 'v1', metric: 'calibration_error' }) as number;
    expect(ece).toBeGreaterThan(0.05);
    expect(value(t, 'ml_model_estimate_calibrated', { model: 'fraud', version: 'v1' })).toBe(1);
    expect(value(t, 'ml_model_estimate_reliable', { model: 'fraud', version: 'v1' })).toBe(1);

    // Drift: amount shifted in the last hour; the constant feature never drifts.
    const drift = (feature: string, test: string, window = '1h') => value(t as TestDaemon, 'ml_feature_drift_detected', { model: 'fraud', feature, test, window });
    expect(drift('amount', 'ks')).toBe(1);
    expect(value(t, 'ml_feature_drift_score', { model: 'fraud', feature: 'amount', test: 'ks', window: '1h' })).toBeGreaterThan(0.5);
    expect(drift('constant', 'ks')).toBe(0);
    expect(value(t, 'ml_feature_drift_score', { model: 'fraud', feature: 'constant', test: 'ks', window: '1h' })).toBe(0);
    expect(value(t, 'ml_features_drifted', { model: 'fraud', window: '1h' })).toBeGreaterThanOrEqual(2);

    // Data quality: about half of the recent rows are in a country the baseline never saw.
    const newCat = value(t, 'ml_feature_new_category_ratio', { model: 'fraud', feature: 'country', window: '1h' }) as number;
    expect(newCat).toBeGreaterThan(0.3);
    expect(newCat).toBeLessThan(0.7);
    expect(value(t, 'ml_feature_new_category_ratio', { model: 'fraud', feature: 'country', window: '1d' })).toBeCloseTo(newCat / 2, 12);
    expect(value(t, 'ml_feature_completeness_ratio', { model: 'fraud', feature: 'amount', window: '1h' })).toBe(1);
    expect(value(t, 'ml_feature_out_of_range_ratio', { model: 'fraud', feature: 'amount', window: '1h' })).toBeGreaterThan(0.3);
    expect(value(t, 'ml_prediction_freshness_seconds', { model: 'fraud' })).toBe(60);

    // Latency and errors.
    expect(value(t, 'ml_prediction_latency_p50_seconds', fraud1h)).toBeCloseTo(0.0145, 10);
    expect(value(t, 'ml_prediction_latency_p99_seconds', fraud1h)).toBeCloseTo(0.019, 10);
    expect(value(t, 'ml_prediction_error_ratio', fraud1h)).toBe(4 / 200);

    // Business value from the configured outcome values, and ROI.
    const bv = value(t, 'ml_business_value', fraud1h) as number;
    expect(bv).toBeDefined();
    // the cost of every prediction of the window (200), not only of the labelled ones (100)
    expect(value(t, 'ml_roi_ratio', fraud1h)).toBeCloseTo((bv - 0.5 * 200) / (0.5 * 200), 12);

    // Label-free estimate exists for the binary model.
    expect(value(t, 'ml_model_estimated_accuracy', fraud1h)).toBeGreaterThan(0);
  });

  it('keeps metrics absent below min_samples while ml_window_samples says how many', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const few = fraudBatch('few', 10, T0 - 1000);
    await post(t, '/v1/models/fraud/predictions', few.preds);
    await post(t, '/v1/models/fraud/labels', few.labels);
    await t.daemon.cycle.run();
    const l = { model: 'fraud', version: 'v1', window: '1h' };
    expect(value(t, 'ml_window_samples', l)).toBe(10);
    expect(value(t, 'ml_model_accuracy', l)).toBeUndefined();
    expect(value(t, 'ml_prediction_latency_p95_seconds', l)).toBeUndefined();
    const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('ml_window_samples{model="fraud",version="v1",window="1h"} 10');
    expect(text).not.toMatch(/^ml_model_accuracy\{/m);
  });

  it('a model with no labels at all: coverage 0, no quality, and a label-free estimate', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const preds = Array.from({ length: 50 }, (_, i) => ({ id: `u${i}`, ts: T0 - 5000, features: { x: i }, prediction: i % 2, score: i % 2 ? 0.9 : 0.1 }));
    await post(t, '/v1/models/unlabelled/predictions', preds);
    await t.daemon.cycle.run();
    const l = { model: 'unlabelled', version: 'unknown', window: '1h' };
    expect(value(t, 'ml_label_coverage_ratio', l)).toBe(0);
    expect(value(t, 'ml_model_accuracy', l)).toBeUndefined();
    expect(value(t, 'ml_label_freshness_seconds', { model: 'unlabelled' })).toBeUndefined();
    expect(value(t, 'ml_model_estimated_accuracy', l)).toBeCloseTo(0.9, 12);
    expect(value(t, 'ml_feature_drift_score', { model: 'unlabelled', feature: 'x', test: 'ks', window: '1h' })).toBeUndefined(); // no baseline
  });

  it('windows slide with time: old rows leave the 1h window', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const b = fraudBatch('slide', 30, T0 - 1000);
    await post(t, '/v1/models/fraud/predictions', b.preds);
    await t.daemon.cycle.run();
    expect(value(t, 'ml_window_samples', { model: 'fraud', version: 'v1', window: '1h' })).toBe(30);
    t.clock.advance(H);
    await t.daemon.cycle.run();
    expect(value(t, 'ml_window_samples', { model: 'fraud', version: 'v1', window: '1h' })).toBeUndefined();
    expect(value(t, 'ml_window_samples', { model: 'fraud', version: 'v1', window: '1d' })).toBe(30);
    t.clock.advance(24 * H);
    await t.daemon.cycle.run();
    expect(value(t, 'vigil_hot_window_rows', { model: 'fraud' })).toBe(0);
  });

  it('compares versions serving at once (A/B)', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const a = fraudBatch('a', 300, T0 - 1000, { version: 'v1', accuracy: 0.9 });
    const b = fraudBatch('bb', 200, T0 - 1000, { version: 'v2', accuracy: 0.6 });
    await post(t, '/v1/models/fraud/predictions', [...a.preds, ...b.preds]);
    await post(t, '/v1/models/fraud/labels', [...a.labels, ...b.labels]);
    await t.daemon.cycle.run();
    const l = { model: 'fraud', window: '1h', metric: 'accuracy', control: 'v1', variant: 'v2' };
    expect(value(t, 'ml_ab_test_p_value', l)).toBeLessThan(0.001);
    expect(value(t, 'ml_ab_test_significant', l)).toBe(1);
    expect(value(t, 'ml_ab_test_lift_ratio', l)).toBeLessThan(-0.2);
    for (const metric of ['precision', 'recall']) expect(value(t, 'ml_ab_test_p_value', { ...l, metric })).toBeGreaterThanOrEqual(0);
    // accuracy of v1 vs v2, computed by hand: the z-test's lift is (B − A) / A
    const acc = (b: ReturnType<typeof fraudBatch>) => b.preds.filter((p, i) => p.prediction === b.labels[i]?.label).length / b.preds.length;
    expect(value(t, 'ml_ab_test_lift_ratio', l)).toBeCloseTo((acc(b) - acc(a)) / acc(a), 12);

    // the window's comparisons are one family: Benjamini–Hochberg over the three raw p-values,
    // computed here from them (p_(i) · m / i, the running minimum from the largest), and
    // significant is the corrected p-value at alpha
    const metrics = ['accuracy', 'precision', 'recall'];
    const raw = metrics.map((metric) => value(t as TestDaemon, 'ml_ab_test_p_value', { ...l, metric }) as number);
    const order = raw.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
    const bh = new Array<number>(raw.length);
    let running = 1;
    for (let r = order.length - 1; r >= 0; r--) {
      const [p, i] = order[r] as readonly [number, number];
      running = Math.min(running, (p * raw.length) / (r + 1));
      bh[i] = running;
    }
    metrics.forEach((metric, i) => {
      const adjusted = value(t as TestDaemon, 'ml_ab_test_p_value_adjusted', { ...l, metric }) as number;
      expect(adjusted).toBeCloseTo(bh[i] as number, 14);
      expect(adjusted).toBeGreaterThanOrEqual(raw[i] as number);
      expect(value(t as TestDaemon, 'ml_ab_test_significant', { ...l, metric })).toBe(adjusted <= 0.05 ? 1 : 0);
    });
    expect(metrics.some((_, i) => (bh[i] as number) > (raw[i] as number))).toBe(true);
  });

  it('A/B without correction (experiment.correction: none): the adjusted p-value is the raw one', async () => {
    t = await testDaemon(CONFIG.replace("    business: { tp: 10, fp: -2, tn: 0, fn: -20, cost_per_prediction: 0.5 }", "    business: { tp: 10, fp: -2, tn: 0, fn: -20, cost_per_prediction: 0.5 }\n    experiment: { correction: none }"), { now: T0 });
    const a = fraudBatch('a', 300, T0 - 1000, { version: 'v1', accuracy: 0.9 });
    const b = fraudBatch('bb', 200, T0 - 1000, { version: 'v2', accuracy: 0.85 });
    await post(t, '/v1/models/fraud/predictions', [...a.preds, ...b.preds]);
    await post(t, '/v1/models/fraud/labels', [...a.labels, ...b.labels]);
    await t.daemon.cycle.run();
    for (const metric of ['accuracy', 'precision', 'recall']) {
      const l = { model: 'fraud', window: '1h', metric, control: 'v1', variant: 'v2' };
      const raw = value(t, 'ml_ab_test_p_value', l) as number;
      expect(value(t, 'ml_ab_test_p_value_adjusted', l)).toBe(raw);
      expect(value(t, 'ml_ab_test_significant', l)).toBe(raw <= 0.05 ? 1 : 0);
    }
  });

  it('regression models get error metrics', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const preds = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, ts: T0 - 1000, features: { km: i }, prediction: i + 1 }));
    await post(t, '/v1/models/eta/predictions', preds);
    await post(t, '/v1/models/eta/labels', preds.map((p) => ({ id: p.id, label: p.features.km })));
    await t.daemon.cycle.run();
    const l = { model: 'eta', version: 'unknown', window: '1h' };
    expect(value(t, 'ml_model_mae', l)).toBe(1);
    expect(value(t, 'ml_model_rmse', l)).toBe(1);
    expect(value(t, 'ml_model_mse', l)).toBe(1);
    expect(value(t, 'ml_model_accuracy', l)).toBeUndefined();
  });

  it('regression versions are compared on absolute and squared errors', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const mk = (v: string, err: number) => Array.from({ length: 40 }, (_, i) => ({ id: `${v}-${i}`, ts: T0 - 1000, model_version: v, features: { km: i }, prediction: i + err * (1 + (i % 3)) }));
    const rows = [...mk('v1', 1), ...mk('v2', 3)];
    await post(t, '/v1/models/eta/predictions', rows);
    await post(t, '/v1/models/eta/labels', rows.map((p) => ({ id: p.id, label: p.features.km })));
    await t.daemon.cycle.run();
    for (const metric of ['mae', 'mse']) {
      const l = { model: 'eta', window: '1h', metric, control: 'v1', variant: 'v2' };
      expect(value(t, 'ml_ab_test_significant', l)).toBe(1);
      expect(value(t, 'ml_ab_test_lift_ratio', l)).toBeGreaterThan(1); // errors grew: worse
    }
  });

  it('a restart rebuilds the hot windows from the store and exports the same numbers', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const base = fraudBatch('train', 300, T0);
    await post(t, '/v1/models/fraud/baselines?version=v1', base.preds.map((p, i) => ({ features: p.features, prediction: p.prediction, score: p.score, label: base.labels[i]?.label })));
    const b = fraudBatch('live', 150, T0 - 1000, { shift: 10 });
    await post(t, '/v1/models/fraud/predictions', b.preds);
    await post(t, '/v1/models/fraud/labels', b.labels.slice(0, 120));
    await t.daemon.cycle.run();
    const before = t.daemon.snapshot().samples.filter((s) => s.name.startsWith('ml_')).map((s) => [s.name, s.labels, s.value]);

    const dbPath = `${t.dir}/vigil.db`;
    await t.daemon.stop('restart');
    const again = await testDaemon(CONFIG, { now: T0, openStore: () => new SqliteStore({ path: dbPath, now: T0 }) });
    await again.daemon.engine.load(again.daemon.config(), T0);
    await again.daemon.cycle.run();
    const after = again.daemon.snapshot().samples.filter((s) => s.name.startsWith('ml_')).map((s) => [s.name, s.labels, s.value]);
    expect(after).toEqual(before);
    expect(before.length).toBeGreaterThan(50);
    await again.close();
  });

  it('series of a model removed from the configuration disappear', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    await post(t, '/v1/models/eta/predictions', [{ id: 'x', ts: T0 - 1000, features: { km: 1 }, prediction: 2 }]);
    await t.daemon.cycle.run();
    expect(value(t, 'ml_window_samples', { model: 'eta', version: 'unknown', window: '1h' })).toBe(1);
    writeConfig(t, CONFIG.replace(/  - name: eta[\s\S]*?(?=  - name: unlabelled)/, ''));
    expect((await t.daemon.reload()).ok).toBe(true);
    await t.daemon.cycle.run();
    expect(t.daemon.snapshot().samples.some((s) => s.labels.model === 'eta')).toBe(false);
  });

  const promtool = debianTool('promtool', 'prometheus');
  it.runIf(promtool.available)('/metrics passes promtool check metrics', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const base = fraudBatch('train', 100, T0);
    await post(t, '/v1/models/fraud/baselines?version=v1', base.preds.map((p, i) => ({ features: p.features, prediction: p.prediction, score: p.score, label: base.labels[i]?.label })));
    const b = fraudBatch('p', 100, T0 - 1000);
    await post(t, '/v1/models/fraud/predictions', b.preds);
    await post(t, '/v1/models/fraud/labels', b.labels);
    await t.daemon.cycle.run();
    const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('ml_model_accuracy{');
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(out).toBe('');
  });
});

describe('baselines', () => {
  it('POST rows, GET lists them; a version without its own uses the latest', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const base = fraudBatch('train', 100, T0);
    const r = await post(t, '/v1/models/fraud/baselines?version=v1', [...base.preds.map((p) => ({ features: p.features, prediction: p.prediction, score: p.score })), { features: { nope: 1 } }]);
    expect(r).toMatchObject({ model: 'fraud', version: 'v1', rows: 100, source: 'api', features: ['amount', 'country', 'constant'] });
    expect(r.rejected).toEqual([{ index: 100, field: 'features.nope', reason: 'unknown feature "nope" (not in the model\'s configuration)' }]);
    const list = (await t.daemon.app.inject({ url: '/v1/models/fraud/baselines' })).json();
    expect(list.baselines).toHaveLength(1);
    await post(t, '/v1/models/fraud/predictions', fraudBatch('v9', 30, T0 - 1000, { version: 'v9' }).preds);
    await t.daemon.cycle.run();
    expect(value(t, 'vigil_baseline_info', { model: 'fraud', version: 'v9', baseline_version: 'v1', source: 'api' })).toBe(1);
    const status = (await t.daemon.app.inject({ url: '/v1/models/fraud' })).json();
    expect(status.versions).toMatchObject([{ version: 'v9', baseline: { version: 'v1', own: false } }]);
    expect(status.latest_baseline).toMatchObject({ version: 'v1', source: 'api', rows: 100 });
  });

  it('keeps at most drift.reference_points reference values in memory (a sketch beyond); a new number reloads the baseline', async () => {
    const config = (points: number) => `
models:
  - name: eta
    task: regression
    windows: [1h]
    min_samples: 20
    drift: { reference_points: ${points} }
    features:
      - { name: km, type: numeric }
`;
    t = await testDaemon(config(100), { now: T0 });
    const r = rng(11);
    const ref = Array.from({ length: 1000 }, () => Math.round(r() * 100_000) / 1000);
    await post(t, '/v1/models/eta/baselines?version=v1', ref.map((km) => ({ features: { km }, prediction: km / 2, label: km / 2 })));
    const live = Array.from({ length: 300 }, () => Math.round((r() * 100 + 3) * 1000) / 1000);
    await post(t, '/v1/models/eta/predictions', live.map((km, i) => ({ id: `p${i}`, ts: T0 - 1000, features: { km }, prediction: km / 2 })));
    const ks = () => ({
      d: value(t as TestDaemon, 'ml_feature_drift_score', { model: 'eta', feature: 'km', test: 'ks', window: '1h' }),
      p: value(t as TestDaemon, 'ml_feature_drift_p_value', { model: 'eta', feature: 'km', test: 'ks', window: '1h' }),
    });
    const held = () => t?.daemon.engine.baselinesOf('eta')[0]?.features.get('km') as NumericReferenceSummary;

    await t.daemon.cycle.run();
    // 100 points in memory: the quantile sketch summarizeNumeric makes with maxExact 100, and KS against it
    const sketch = summarizeNumeric(ref, { maxExact: 100 });
    expect(held()).toMatchObject({ exact: false, count: 1000 });
    expect(Array.from(held().sorted)).toEqual(Array.from(sketch.sorted));
    const vsSketch = ks2samp(sketch.sorted, live);
    expect(ks()).toEqual({ d: vsSketch.statistic, p: vsSketch.pvalue });

    // more points than the baseline has: every value, and KS exactly as SciPy computes it on the full data
    writeConfig(t, config(5000));
    expect((await t.daemon.reload()).ok).toBe(true);
    await t.daemon.cycle.run();
    expect(held()).toMatchObject({ exact: true, count: 1000 });
    expect(Array.from(held().sorted)).toEqual([...ref].sort((a, b) => a - b));
    const vsFull = ks2samp(ref, live);
    expect(ks()).toEqual({ d: vsFull.statistic, p: vsFull.pvalue });
    expect(Math.abs(vsFull.statistic - vsSketch.statistic)).toBeLessThanOrEqual(1 / 200 + 1e-12);
    expect(vsSketch.pvalue).not.toBe(vsFull.pvalue);
  });

  it('freezes a baseline from a stored window', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    await post(t, '/v1/models/fraud/predictions', fraudBatch('w', 60, T0 - 1000).preds);
    const r = await post(t, '/v1/models/fraud/baselines', { from_window: '1h', version: 'v1' });
    expect(r).toMatchObject({ rows: 60, source: 'window:1h', version: 'v1' });
    const bad = await t.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/baselines', headers: { 'content-type': 'application/json' }, payload: '{"from_window":"soon","version":"v2"}' });
    expect(bad.statusCode).toBe(400);
    const empty = await t.daemon.app.inject({ method: 'POST', url: '/v1/models/eta/baselines', headers: { 'content-type': 'application/json' }, payload: '{"from_window":"1h","version":"v1"}' });
    expect(empty.statusCode).toBe(422);
  });
});

export { ManualClock };
