import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';

const T0 = Date.UTC(2026, 11, 5, 12);
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h, 1d]
    min_samples: 20
    segments: { max: 1 }
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
  - name: quiet
    task: regression
    windows: [1h]
    features: [{ name: x, type: numeric }]
rule_files: []
alerting: { bundled_rules: false }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('GET /v1/overview', () => {
  it("every model's health at a glance: traffic, quality against the baseline, drifted features, data-quality problems, alerts, circuit", async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const d = t.daemon;
    const post = (url: string, items: unknown) => d.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });
    const ref = Array.from({ length: 400 }, (_, i) => ({ features: { amount: i % 100, country: ['PL', 'DE'][i % 2] }, prediction: i % 2, score: 0.7, label: i % 2 }));
    expect((await post('/v1/models/fraud/baselines?version=v1', ref)).statusCode).toBe(201);
    // 100 predictions: amounts shifted, a new country in a third, 20% without a country, 80% right
    const preds = Array.from({ length: 100 }, (_, i) => ({
      id: `p${i}`,
      ts: T0 - 1000,
      model_version: 'v1',
      prediction: i % 2,
      score: 0.7,
      segment: 'web',
      features: { amount: 60 + (i % 100), ...(i % 5 === 0 ? {} : { country: i % 3 === 0 ? 'XX' : 'PL' }) },
    }));
    expect((await post('/v1/models/fraud/predictions', preds)).statusCode).toBe(200);
    expect((await post('/v1/models/fraud/labels', preds.map((p, i) => ({ id: p.id, label: i % 5 === 0 ? 1 - (i % 2) : i % 2 })))).statusCode).toBe(200);
    await d.cycle.run();
    const body = (await d.app.inject({ url: '/v1/overview' })).json() as { generated_at: string; models: Record<string, unknown>[] };
    expect(body.generated_at).toBe(new Date(T0).toISOString());
    const [fraud, quiet] = body.models;
    expect(fraud).toMatchObject({
      model: 'fraud',
      task: 'binary',
      window: '1h',
      windows: ['1h', '1d'],
      predictions: 100, // the model's, not its segment's as well
      last_prediction_age_seconds: 1,
      quality: { metric: 'accuracy', version: 'v1', value: 0.8, baseline: 1 },
      drifted_features: ['amount', 'country'],
      alerts: [],
      circuit: 'closed',
      health: 'warning',
    });
    expect(fraud?.data_quality).toEqual([
      { feature: 'amount', problem: 'out_of_range', value: 0.6 }, // 100 … 159 above the reference's 99
      { feature: 'country', problem: 'incomplete', value: 0.8 },
      { feature: 'country', problem: 'new_categories', value: expect.closeTo(27 / 80, 12) },
    ]);
    // an admin opens the fraud model's circuit: critical
    expect((await d.app.inject({ method: 'PUT', url: '/v1/models/fraud/circuit', headers: { 'content-type': 'application/json' }, payload: '{"state":"open"}' })).statusCode).toBe(200);
    expect((await d.app.inject({ url: '/v1/overview' })).json().models[0]).toMatchObject({ circuit: 'open', health: 'critical' });
    // a model with no data yet: nothing measured, nothing wrong
    expect(quiet).toEqual({
      model: 'quiet',
      task: 'regression',
      window: '1h',
      windows: ['1h'],
      predictions: null,
      last_prediction_age_seconds: null,
      quality: null,
      drifted_features: [],
      data_quality: [],
      alerts: [],
      circuit: 'closed',
      health: 'ok',
    });
  });
});
