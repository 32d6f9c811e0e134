import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cbpeCase, type CbpeCase } from '../../test/fixtures/cbpe-nannyml.js';
import { testDaemon, type TestDaemon } from '../../test/harness.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { buildBaseline, loadBaseline, storeBaseline } from './baseline.js';
import { parseConfigText } from '../config/load.js';

/**
 * The label-free estimate end to end: a baseline posted over HTTP carries NannyML's calibration
 * decision and isotonic fit; the cycle estimates from the calibrated scores and the posted classes.
 * Expected values: NannyML's method on the same rows (test/fixtures/cbpe-nannyml.py).
 */

const T0 = Date.UTC(2026, 11, 4, 12);
const config = (mode?: string): string => `
evaluation_interval: 1m
models:
  - name: m
    task: binary
    positive_class: 1
    windows: [1h]
    min_samples: 1${mode ? `\n    estimate_calibration: ${mode}` : ''}
    features:
      - { name: x, type: numeric }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function run(c: CbpeCase, mode?: string): Promise<{ t: TestDaemon; baseline: Record<string, unknown> }> {
  const d = await testDaemon(config(mode), { now: T0 });
  t = d;
  const rows = c.refScores.map((s, i) => ({ features: { x: i % 7 }, prediction: s >= 0.5 ? 1 : 0, score: s, label: c.refY[i] }));
  const r = await d.daemon.app.inject({ method: 'POST', url: '/v1/models/m/baselines?version=v1', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rows) });
  expect(r.statusCode, r.body).toBe(201);
  const preds = c.curScores.map((s, i) => ({ id: `p${i}`, ts: T0 - 1000, model_version: 'v1', features: { x: i % 7 }, prediction: c.curPred[i], score: s }));
  const p = await d.daemon.app.inject({ method: 'POST', url: '/v1/models/m/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) });
  expect(p.statusCode, p.body).toBeLessThan(300);
  await d.daemon.cycle.run();
  return { t: d, baseline: r.json() as Record<string, unknown> };
}

const value = (d: TestDaemon, name: string, labels: Record<string, string>) => d.daemon.snapshot().value(name, labels);
const W = { model: 'm', version: 'v1', window: '1h' };
const V = { model: 'm', version: 'v1' };

describe('CBPE in the cycle, as NannyML estimates', () => {
  it('an over-confident model: the baseline says calibrate, and the estimate is NannyML’s calibrated one', async () => {
    const c = cbpeCase('overconfident_x3');
    const { t: d, baseline } = await run(c);
    expect(baseline.calibration).toMatchObject({ rows: c.refScores.length, needed: true, ece_after: c.eceAfter });
    // the listing of the model's baselines says it too
    expect((await d.daemon.app.inject({ url: '/v1/models/m/baselines' })).json().baselines[0].calibration).toEqual(baseline.calibration);
    expect(value(d, 'ml_model_estimated_accuracy', W)).toBeCloseTo(c.calibrated!.accuracy, 12);
    expect(value(d, 'ml_model_estimated_f1_score', W)).toBeCloseTo(c.calibrated!.f1, 12);
    expect(value(d, 'ml_model_estimate_calibrated', V)).toBe(1);
    // reliable: the held-out error after calibration (0.035) is under the default 0.05, though the
    // raw scores' is not
    expect(c.eceAfter!).toBeLessThan(0.05);
    expect(value(d, 'ml_model_quality_baseline', { ...V, metric: 'calibration_error' })).toBeGreaterThan(0.05);
    expect(value(d, 'ml_model_estimate_reliable', V)).toBe(1);
  });

  it('estimate_calibration: none reads the scores as posted, and trusts them only as far as their own error', async () => {
    const c = cbpeCase('overconfident_x3');
    const { t: d } = await run(c, 'none');
    expect(value(d, 'ml_model_estimated_accuracy', W)).toBeCloseTo(c.raw.accuracy, 12);
    expect(value(d, 'ml_model_estimate_calibrated', V)).toBe(0);
    expect(value(d, 'ml_model_estimate_reliable', V)).toBe(0);
  });

  it('a separable reference needs no calibration (auto), but isotonic calibrates anyway', async () => {
    const c = cbpeCase('separable');
    const auto = await run(c);
    expect(auto.baseline.calibration).toMatchObject({ needed: false, reason: 'separable' });
    expect(value(auto.t, 'ml_model_estimated_accuracy', W)).toBeCloseTo(c.raw.accuracy, 12);
    expect(value(auto.t, 'ml_model_estimate_calibrated', V)).toBe(0);
    await auto.t.close();
    const forced = await run(c, 'isotonic');
    expect(value(forced.t, 'ml_model_estimate_calibrated', V)).toBe(1);
    // the fit maps ≤ 0.06 to 0 and ≥ 0.6 to 1: scores 0.1 and 0.9 become 1/3-of-the-way and 1
    expect(value(forced.t, 'ml_model_estimated_accuracy', W)).not.toBeCloseTo(c.raw.accuracy, 6);
  });
});

describe('a stored calibration', () => {
  const model = parseConfigText(config(), 'test.yaml').models[0]!;
  it('loads back to the same fit', async () => {
    const c = cbpeCase('calibrated');
    const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'vigil-cal-')), 'v.db'), now: T0 });
    try {
      const built = buildBaseline(
        model,
        c.refScores.map((s, i) => ({ features: { x: 1 }, prediction: s >= 0.5 ? 1 : 0, score: s, label: c.refY[i] ?? null })),
      );
      const saved = await storeBaseline(store, { model: 'm', version: 'v1', createdAt: T0, source: 'test' }, built);
      const record = (await store.listBaselines('m')).find((b) => b.id === saved.id)!;
      const loaded = await loadBaseline(store, record);
      expect(Array.from(loaded.calibration!.fit!.x)).toEqual(built.summary.calibration!.x);
      expect(loaded.calibration!.decision).toEqual(built.summary.calibration!.decision);

      // a summary whose fit is not monotone is a corrupt baseline, named
      const bad = { ...built.summary, calibration: { ...built.summary.calibration!, y: [...built.summary.calibration!.y!].reverse() } };
      await expect(loadBaseline(store, { ...record, summary: JSON.stringify(bad) })).rejects.toThrow(/baseline \d+, calibration: thresholds must be increasing/);
    } finally {
      await store.close();
    }
  });

  it('is absent without labelled, scored rows', () => {
    expect(buildBaseline(model, [{ features: { x: 1 }, prediction: 1, score: 0.7 }]).summary.calibration).toBeUndefined();
  });
});
