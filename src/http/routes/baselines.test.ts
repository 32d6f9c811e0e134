import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ndjson, testDaemon, type TestDaemon } from '../../../test/harness.js';
import { multiclassReport } from '../../stats/classification.js';

let t: TestDaemon;
beforeEach(async () => {
  t = await testDaemon();
});
afterEach(async () => {
  await t.close();
});

const post = (url: string, body: unknown, type = 'application/json') =>
  t.daemon.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
const list = async (model: string) => (await t.daemon.app.inject({ url: `/v1/models/${model}/baselines` })).json().baselines as { id: number; version: string; rows: number; quality: Record<string, number> }[];

/** Fraud rows whose predictions are right for the first `right` of `n`. */
const fraudRows = (n: number, right: number) =>
  Array.from({ length: n }, (_, i) => ({ features: { amount: i, country: i % 2 ? 'PL' : 'DE' }, prediction: i % 2, score: i % 2 ? 0.8 : 0.2, label: i < right ? i % 2 : 1 - (i % 2) }));

describe('POST /v1/models/:model/baselines: the version', () => {
  it.each([
    ['rows, no version', '/v1/models/fraud/baselines', fraudRows(10, 10)],
    ['rows, empty version', '/v1/models/fraud/baselines?version=', fraudRows(10, 10)],
    ['rows, blank version', '/v1/models/fraud/baselines?version=%20%20', fraudRows(10, 10)],
    ['from_window, no version', '/v1/models/fraud/baselines', { from_window: '1h' }],
    ['from_window, empty version', '/v1/models/fraud/baselines', { from_window: '1h', version: '' }],
  ])('%s: 400 naming version, nothing stored', async (_what, url, body) => {
    const r = await post(url, body);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_BASELINE_VERSION', message: expect.stringMatching(/^version is required: .*\?version=v3/) });
    expect(await list('fraud')).toEqual([]);
  });

  it('a version given twice, differently, is 400; a non-string one too', async () => {
    expect((await post('/v1/models/fraud/baselines?version=a', { from_window: '1h', version: 'b' })).json().error.message).toContain('given twice');
    expect((await post('/v1/models/fraud/baselines', { from_window: '1h', version: 3 })).json().error).toMatchObject({ code: 'VIGIL_ERR_BASELINE_VERSION', message: 'version must be a string' });
  });
});

describe('POST /v1/models/:model/baselines: the same version twice', () => {
  it('is 409 with the existing id and how to replace it; ?replace=true replaces it atomically and the engine uses the replacement', async () => {
    const first = await post('/v1/models/fraud/baselines?version=v1', fraudRows(100, 90));
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ version: 'v1', replaced: [], quality: { accuracy: 0.9 } });
    const traffic = await post('/v1/models/fraud/predictions', [{ id: 'p1', model_version: 'v1', prediction: 1, score: 0.9, features: { amount: 3 } }]);
    expect(traffic.json().accepted).toBe(1);
    await t.daemon.cycle.run();
    const baselineAccuracy = () => t.daemon.snapshot().value('ml_model_quality_baseline', { model: 'fraud', version: 'v1', metric: 'accuracy' });
    expect(baselineAccuracy()).toBe(0.9);

    for (const body of [fraudRows(100, 60), ndjson(fraudRows(100, 60))]) {
      const again = await post('/v1/models/fraud/baselines?version=v1', body, typeof body === 'string' ? 'application/x-ndjson' : 'application/json');
      expect(again.statusCode).toBe(409);
      expect(again.json().error).toEqual({
        code: 'VIGIL_ERR_BASELINE_EXISTS',
        message: `model "fraud" has a baseline for version "v1" already (id ${first.json().id}): send ?replace=true to replace it`,
        model: 'fraud',
        version: 'v1',
        ids: [first.json().id],
      });
    }
    const frozen = await post('/v1/models/fraud/baselines', { from_window: '1h', version: 'v1' });
    expect(frozen.statusCode).toBe(409);
    expect((await list('fraud')).map((b) => [b.id, b.version, b.quality.accuracy])).toEqual([[first.json().id, 'v1', 0.9]]);

    const replaced = await post('/v1/models/fraud/baselines?version=v1&replace=true', fraudRows(100, 60));
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ version: 'v1', replaced: [first.json().id], quality: { accuracy: 0.6 } });
    expect((await list('fraud')).map((b) => [b.id, b.version, b.quality.accuracy])).toEqual([[replaced.json().id, 'v1', 0.6]]);
    await t.daemon.cycle.run();
    expect(baselineAccuracy()).toBe(0.6);
    expect(t.daemon.engine.baselinesOf('fraud').map((b) => b.record.id)).toEqual([replaced.json().id]);

    // replace=false is the default; a value that is not a boolean is 400 naming replace
    expect((await post('/v1/models/fraud/baselines?version=v1&replace=false', fraudRows(10, 10))).statusCode).toBe(409);
    const bad = await post('/v1/models/fraud/baselines?version=v1&replace=maybe', fraudRows(10, 10));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('replace');
    // another version is another baseline
    expect((await post('/v1/models/fraud/baselines?version=v2', fraudRows(10, 10))).statusCode).toBe(201);
    expect((await list('fraud')).map((b) => b.version)).toEqual(['v2', 'v1']);
  });
});

describe('multiclass baselines', () => {
  // churn: classes [stay, churn, maybe]. y_true / y_pred by hand:
  const pairs: [string, string][] = [
    ['stay', 'stay'], ['stay', 'stay'], ['stay', 'churn'], ['churn', 'churn'],
    ['churn', 'maybe'], ['maybe', 'maybe'], ['maybe', 'stay'], ['churn', 'churn'],
  ];
  const score = (pred: string): Record<string, number> => ({ stay: pred === 'stay' ? 0.7 : 0.15, churn: pred === 'churn' ? 0.7 : 0.15, maybe: pred === 'maybe' ? 0.7 : 0.15 });
  const rows = pairs.map(([label, prediction], i) => ({ features: { tenure: i }, prediction, score: score(prediction), label }));

  it('accepts {class: probability} scores as the predictions endpoint does, with the reference quality scikit-learn gives', async () => {
    const r = await post('/v1/models/churn/baselines?version=v1', rows);
    expect(r.statusCode).toBe(201);
    const q = r.json().quality as Record<string, number>;
    // accuracy 5/8; per class P = R = F1: stay 2/3, churn 2/3, maybe 1/2 → macro 11/18;
    // MCC (Gorodkin, as sklearn): (c·s − Σ t_k p_k) / √((s² − Σ p_k²)(s² − Σ t_k²)) = (5·8 − 22) / (64 − 22) = 3/7
    expect(q.accuracy).toBeCloseTo(5 / 8, 12);
    expect(q.precision).toBeCloseTo(11 / 18, 12);
    expect(q.recall).toBeCloseTo(11 / 18, 12);
    expect(q.f1_score).toBeCloseTo(11 / 18, 12);
    expect(q.balanced_accuracy).toBeCloseTo(11 / 18, 12);
    expect(q.mcc).toBeCloseTo(3 / 7, 12);
    // log_loss(y_true, proba): 5 rows right at 0.7, 3 wrong at 0.15 (the rows sum to 1)
    expect(q.log_loss).toBeCloseTo((5 * -Math.log(0.7) + 3 * -Math.log(0.15)) / 8, 12);
    // NannyML's calibration per class, one-vs-rest (8 rows: too few for its ten splits)
    expect(Object.keys(r.json().class_calibrations as object).sort()).toEqual(['churn', 'maybe', 'stay']);
    expect(r.json().class_calibrations.stay).toMatchObject({ rows: 8, needed: false });
    // and the listing says the same
    const listed = (await t.daemon.app.inject({ url: '/v1/models/churn/baselines' })).json().baselines[0];
    expect(listed.class_calibrations).toEqual(r.json().class_calibrations);
    expect(listed.calibration).toBeUndefined();
    // and the same as the scikit-learn-checked report over these codes
    const code = (c: string) => ['stay', 'churn', 'maybe'].indexOf(c);
    const report = multiclassReport({ yTrue: Float64Array.from(pairs, ([y]) => code(y)), yPred: Float64Array.from(pairs, ([, p]) => code(p)) });
    expect(report.f1Macro).toMatchObject({ defined: true });
    expect(q.f1_score).toBeCloseTo((report.f1Macro as { value: number }).value, 12);

    // the prediction reference (multiclass prediction drift): the predicted classes
    await t.daemon.cycle.run();
    const b = t.daemon.engine.baselinesOf('churn')[0];
    expect(b?.prediction).toMatchObject({ kind: 'categorical', count: 8, counts: { stay: 3, churn: 3, maybe: 2 } });
    expect(b?.label).toMatchObject({ kind: 'categorical', count: 8, counts: { stay: 3, churn: 3, maybe: 2 } });
  });

  it('from the stored traffic (from_window): the class probabilities as posted, so the same quality and calibrations as from the rows', async () => {
    const items = rows.map((r, i) => ({ id: `c${i}`, ts: t.clock.now() - 1000, features: r.features, prediction: r.prediction, score: r.score }));
    expect((await post('/v1/models/churn/predictions', items)).statusCode).toBe(200);
    expect((await post('/v1/models/churn/labels', rows.map((r, i) => ({ id: `c${i}`, label: r.label })))).statusCode).toBe(200);
    const fromWindow = await post('/v1/models/churn/baselines?version=live', { from_window: '1h' });
    expect(fromWindow.statusCode).toBe(201);
    const fromRows = await post('/v1/models/churn/baselines?version=rows', rows);
    expect(fromWindow.json().quality.log_loss).toBeCloseTo((5 * -Math.log(0.7) + 3 * -Math.log(0.15)) / 8, 12);
    expect(fromWindow.json().quality).toEqual(fromRows.json().quality);
    expect(fromWindow.json().class_calibrations).toEqual(fromRows.json().class_calibrations);
  });

  it('rejects the rows the predictions endpoint would reject, naming the field, and keeps the others (207)', async () => {
    const bad = [
      { features: { tenure: 1 }, prediction: 'stay', score: { stay: 1.5 } },
      { features: { tenure: 1 }, prediction: 'stay', score: { stay: 0.5, gone: 0.5 } },
      { features: { tenure: 1 }, prediction: 'stay', score: 0.5 },
      { features: { tenure: 1 }, prediction: 'left' },
      { features: { tenure: 1 }, label: 'left' },
      { features: { tenure: 'long' } },
      { features: { tenure: 1 }, lable: 'stay' },
    ];
    const r = await post('/v1/models/churn/baselines?version=v1', [...rows, ...bad]);
    expect(r.statusCode).toBe(207);
    expect(r.json().rows).toBe(8);
    expect(r.json().rejected).toEqual([
      { index: 8, field: 'score.stay', reason: 'must be <= 1' },
      { index: 9, field: 'score.gone', reason: '"gone" is not one of the model\'s classes' },
      { index: 10, field: 'score', reason: 'must be an object or null' },
      { index: 11, field: 'prediction', reason: 'prediction "left" is not one of the model\'s classes (stay, churn, maybe)' },
      { index: 12, field: 'label', reason: 'label "left" is not one of the model\'s classes (stay, churn, maybe)' },
      { index: 13, field: 'features.tenure', reason: 'must be a finite number or null' },
      { index: 14, field: 'lable', reason: 'unknown field "lable"' },
    ]);
    // the same checks the predictions endpoint makes (one validation path)
    const p = await post('/v1/models/churn/predictions', [{ id: 'a', prediction: 'stay', score: { stay: 1.5 } }, { id: 'b', prediction: 'stay', score: { stay: 0.5, gone: 0.5 } }]);
    expect(p.json().rejected.map((x: { field: string; reason: string }) => [x.field, x.reason])).toEqual([
      ['score.stay', 'must be <= 1'],
      ['score.gone', '"gone" is not one of the model\'s classes'],
    ]);
  });

  it('binary scores are probabilities, regression has none', async () => {
    const r = await post('/v1/models/fraud/baselines?version=v1', [...fraudRows(5, 5), { features: { amount: 1 }, prediction: 1, score: 1.5 }]);
    expect(r.json().rejected).toEqual([{ index: 5, field: 'score', reason: 'must be <= 1' }]);
    const e = await post('/v1/models/eta/baselines?version=v1', [{ features: { km: 1 }, prediction: 2, label: 2 }, { features: { km: 1 }, prediction: 2, score: 0.5 }]);
    expect(e.json().rejected).toEqual([{ index: 1, field: 'score', reason: 'must be null' }]);
  });
});
