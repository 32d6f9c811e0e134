import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../test/harness.js';

const T0 = Date.UTC(2026, 11, 5, 12);
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h]
    min_samples: 10
    segments: { max: 2 }
    features: [{ name: amount, type: numeric }]
slos:
  - { name: mobile-errors, model: fraud, segment: mobile, objective: 99, sli: { type: errors } }
  - { name: errors, model: fraud, objective: 99, sli: { type: errors } }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('segments in the daemon', () => {
  it('ingested segments give labelled series and segment SLOs on /metrics; the bundled rules stay per model', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const d = t.daemon;
    const channel = (i: number) => (i % 10 < 5 ? 'web' : i % 10 < 8 ? 'mobile' : i % 10 < 9 ? 'pos' : undefined);
    // 200 predictions: web 100, mobile 60 (every third with a serving error), pos 20, 20 without a segment; web always right, mobile always wrong
    const preds = Array.from({ length: 200 }, (_, i) => ({
      id: `p${i}`,
      ts: T0 - 60_000,
      prediction: 1,
      score: 0.9,
      features: { amount: i },
      ...(channel(i) === undefined ? {} : { segment: channel(i) }),
      ...(channel(i) === 'mobile' && i % 3 === 0 ? { error: 'timeout' } : {}),
    }));
    const post = (url: string, items: unknown[]) => d.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });
    expect((await post('/v1/models/fraud/predictions', preds)).statusCode).toBe(200);
    expect((await post('/v1/models/fraud/labels', preds.map((p, i) => ({ id: p.id, label: channel(i) === 'mobile' ? 0 : 1 })))).statusCode).toBe(200);
    // a segment too long is refused with the field named, the good items beside it kept
    const bad = await post('/v1/models/fraud/predictions', [{ id: 'long', ts: T0, prediction: 1, features: { amount: 1 }, segment: 'x'.repeat(129) }, { id: 'ok', ts: T0 - 60_000, prediction: 1, features: { amount: 1 }, segment: 'web' }]);
    expect(bad.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, field: 'segment' }] });
    await d.cycle.run();
    const metrics = (await d.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('ml_model_accuracy{model="fraud",version="unknown",window="1h"} 0.7\n');
    expect(metrics).toContain('ml_model_accuracy{model="fraud",version="unknown",window="1h",segment="web"} 1\n');
    expect(metrics).toContain('ml_model_accuracy{model="fraud",version="unknown",window="1h",segment="mobile"} 0\n');
    expect(metrics).toContain('ml_window_samples{model="fraud",version="unknown",window="1h",segment="other"} 20\n'); // pos pooled
    expect(metrics).toContain('ml_segment_values{model="fraud"} 3\n');
    expect(metrics).toContain('ml_segment_values_pooled{model="fraud"} 1\n');
    expect(metrics).toMatch(/^ml_feature_completeness_ratio\{model="fraud",feature="amount",window="1h",segment="mobile"\} 1$/m);
    // the segment's SLO counts its own predictions (20 errors of 60), the model's all of them (20 of 201)
    expect(metrics).toContain('slo:sli_error:ratio_rate5m{sloth_id="fraud-mobile-errors",sloth_service="fraud",sloth_slo="mobile-errors",segment="mobile",sloth_window="5m"} 0.3333333333333333\n');
    expect(metrics).toMatch(/^slo:sli_error:ratio_rate5m\{sloth_id="fraud-errors",sloth_service="fraud",sloth_slo="errors",sloth_window="5m"\} 0\.0995/m);
    // the bundled rules read the model's series: mobile's accuracy of 0 fires nothing per segment
    const alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as { labels: Record<string, string> }[];
    expect(alerts.filter((a) => a.labels.segment !== undefined && !a.labels.alertname?.startsWith('MLSLO'))).toEqual([]);
    expect(alerts.some((a) => a.labels.alertname === 'MLSLOErrorBudgetBurn' && a.labels.segment === 'mobile')).toBe(true);
  });
});

describe('segment references over HTTP', () => {
  it("a baseline posted with segments keeps each frequent segment's references: the answer and the listing say which, with their rows", async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const d = t.daemon;
    const rows = Array.from({ length: 60 }, (_, i) => ({ features: { amount: i }, prediction: 1, score: 0.8, label: i % 2, segment: i < 35 ? 'web' : i < 50 ? 'mobile' : 'pos' }));
    const r = await d.app.inject({ method: 'POST', url: '/v1/models/fraud/baselines?version=v1', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rows) });
    expect(r.statusCode).toBe(201);
    // min_samples 10: pos has 10, all three kept
    expect(r.json().segments).toEqual({ web: 35, mobile: 15, pos: 10 });
    expect((await d.app.inject({ url: '/v1/models/fraud/baselines' })).json().baselines[0].segments).toEqual({ web: 35, mobile: 15, pos: 10 });
    // the engine loads them
    await d.cycle.run();
    expect([...(d.engine.baselinesOf('fraud')[0]?.segments?.keys() ?? [])]).toEqual(['web', 'mobile', 'pos']);
    // a segment's drift report: its rows against its own references
    const preds = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, ts: T0 - 1000, prediction: 1, score: 0.8, features: { amount: i + 100 }, segment: i < 30 ? 'web' : 'pos' }));
    expect((await d.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) })).statusCode).toBe(200);
    await d.cycle.run();
    const report = await d.app.inject({ url: '/v1/models/fraud/report?segment=web' });
    expect(report.statusCode, report.body).toBe(200);
    expect(report.body).toContain('<title>Drift report: fraud, segment web, last 1h · Vigil</title>');
    expect(report.body).toContain('30 predictions in the last 1h');
    expect(report.body).toContain('the segment&#39;s own references'); // escaped as every text is
    // a value without series (pos has 10 rows: below min_samples, but it is a series) / unknown
    const unknown = await d.app.inject({ url: '/v1/models/fraud/report?segment=nope' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'VIGIL_ERR_REPORT_SEGMENT', message: expect.stringContaining('(its segments: web, pos)') });
  });
});
