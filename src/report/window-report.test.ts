import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../test/harness.js';
import { ks2samp } from '../stats/ks.js';

const T0 = Date.UTC(2026, 11, 5, 12);
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h, 1d]
    min_samples: 50
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const post = (d: TestDaemon, url: string, items: unknown) => d.daemon.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });

describe('GET /v1/models/:model/report', () => {
  it("a window's drift as a page: the monitor's decisions, the reference's quantile bins counted from the window, new categories marked", async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const d = t.daemon;
    const get = (q = '') => d.app.inject({ url: `/v1/models/fraud/report${q}` });
    // before any baseline: 409 naming what to do
    await d.cycle.run();
    expect((await get()).json().error).toMatchObject({ code: 'VIGIL_ERR_REPORT_NO_BASELINE' });
    const ref = Array.from({ length: 1000 }, (_, i) => ({ features: { amount: i % 100, country: ['PL', 'DE'][i % 2] }, prediction: 1, score: 0.9, label: 1 }));
    expect((await post(t, '/v1/models/fraud/baselines?version=v1', ref)).statusCode).toBe(201);
    // too few predictions: 409; then 300 shifted ones with a new country
    await post(t, '/v1/models/fraud/predictions', [{ id: 'x', ts: T0 - 1000, model_version: 'v1', prediction: 1, features: { amount: 1, country: 'PL' } }]);
    await d.cycle.run();
    expect((await get()).json().error).toMatchObject({ code: 'VIGIL_ERR_REPORT_TOO_FEW', message: expect.stringContaining('fewer than min_samples (50)') });
    const amounts = Array.from({ length: 300 }, (_, i) => 30 + (i % 100));
    await post(
      t,
      '/v1/models/fraud/predictions',
      amounts.map((amount, i) => ({ id: `p${i}`, ts: T0 - 1000, model_version: 'v1', prediction: 1, features: { amount, country: i % 3 === 0 ? 'XX' : 'PL' } })),
    );
    await d.cycle.run();
    const r = await get('?window=1h');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    const html = r.body;
    expect(html).toContain('<title>Drift report: fraud, last 1h · Vigil</title>');
    expect(html).toContain('301 predictions in the last 1h');
    // the statistic is the monitor's (the same as /metrics), to the last digit shown
    const ks = ks2samp(
      Array.from({ length: 1000 }, (_, i) => i % 100),
      [1, ...amounts],
    ).statistic;
    const onMetrics = d.snapshot().value('ml_feature_drift_score', { model: 'fraud', feature: 'amount', test: 'ks', window: '1h' });
    expect(onMetrics).toBeCloseTo(ks, 12);
    expect(html).toContain(`<td class="n">${String(Number((onMetrics as number).toPrecision(4)))}</td>`);
    // amount on the reference's 10 quantile bins (10% each), country per category with XX new
    const amountChart = /<svg role="img" aria-label="amount: [^"]*"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(amountChart.match(/class="ref"/g)).toHaveLength(10);
    expect(amountChart).toContain('10.0% → ');
    expect(html).toContain('XX (new)');
    // the same as JSON (the UI's model page): features most drifted first, the monitor's numbers, the bins
    const j = await d.app.inject({ url: '/v1/models/fraud/report?window=1h', headers: { accept: 'application/json' } });
    expect(j.headers['content-type']).toMatch(/^application\/json/);
    const body = j.json();
    expect(body).toMatchObject({ model: 'fraud', window: '1h', segment: null, predictions: 301, baseline: { version: 'v1', rows: 1000, segment_references: false }, alpha: expect.any(Number) });
    expect(body.summary).toMatchObject({ features_tested: 2, drift_detected: true });
    expect(body.features.map((f: { feature: string }) => f.feature).sort()).toEqual(['amount', 'country']);
    const amount = body.features.find((f: { feature: string }) => f.feature === 'amount');
    expect(amount).toMatchObject({ type: 'numeric', status: 'drift', distribution: { kind: 'numeric', binning: 'quantile', n_reference: 1000, n_current: 301 } });
    expect(amount.tests.find((x: { test: string }) => x.test === 'ks').statistic).toBe(onMetrics);
    expect(amount.distribution.bins).toHaveLength(10);
    for (const b of amount.distribution.bins) expect(b.reference).toBeCloseTo(0.1, 12);
    const country = body.features.find((f: { feature: string }) => f.feature === 'country');
    expect(country.distribution.bins).toContainEqual({ label: 'XX', reference: 0, current: 100 / 301, outside: true });
    // sorted by drift: a drifted feature never after a stable one
    const rank = { drift: 0, moderate: 1, stable: 2, insufficient_data: 3 } as Record<string, number>;
    const ranks = body.features.map((f: { status: string }) => rank[f.status]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // the window must be one of the model's; the model must exist
    expect((await get('?window=2h')).json().error).toMatchObject({ code: 'VIGIL_ERR_REPORT_WINDOW', message: expect.stringContaining('(1h, 1d)') });
    expect((await d.app.inject({ url: '/v1/models/nope/report' })).statusCode).toBe(404);
  });
});
