import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, writeConfig, type TestDaemon } from '../../test/harness.js';

const T0 = Date.UTC(2026, 11, 1, 12);
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h]
    features: [{ name: amount, type: numeric }]
alerting: { bundled_rules: false }
slos:
  - name: availability
    model: fraud
    objective: 99
    sli: { type: errors }
    alerts: { labels: { team: risk } }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('SLOs in the daemon', () => {
  it('count ingested predictions, export Sloth series on /metrics, page on a fast burn, survive a restart of the tracker', async () => {
    t = await testDaemon(CONFIG, { now: T0 });
    const d = t.daemon;
    // 100 predictions, 20 with a serving error (and 5 sent again: duplicates are not counted twice)
    const preds = Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, ts: T0 - 1000, prediction: 1, score: 0.9, features: { amount: i }, ...(i < 20 ? { error: 'timeout' } : {}) }));
    const post = (items: unknown[]) => d.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });
    expect((await post(preds)).statusCode).toBe(200);
    expect((await post(preds.slice(0, 5))).json()).toMatchObject({ accepted: 0 });
    await d.cycle.run();
    const metrics = (await d.app.inject({ url: '/metrics' })).body;
    const labels = 'sloth_id="fraud-availability",sloth_service="fraud",sloth_slo="availability"';
    expect(metrics).toContain(`slo:sli_error:ratio_rate5m{${labels},sloth_window="5m"} 0.2\n`);
    expect(metrics).toContain(`slo:sli_error:ratio_rate30d{${labels},sloth_window="30d"} 0.2\n`);
    expect(metrics).toMatch(new RegExp(`^slo:current_burn_rate:ratio\\{${labels}\\} 19\\.99`, 'm'));
    expect(metrics).toMatch(new RegExp(`^slo:period_error_budget_remaining:ratio\\{${labels}\\} -18\\.99`, 'm'));
    expect(metrics).toContain(`sloth_slo_info{${labels},sloth_mode="vigil",sloth_objective="99",sloth_sli="errors"} 1\n`);
    // 20× the budget over 5m and 1h (and 2h, 1d): page and ticket fire at once (no for)
    const alerts = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as { labels: Record<string, string>; state: string }[];
    expect(alerts.map((a) => [a.labels.alertname, a.labels.sloth_severity, a.labels.severity, a.labels.team, a.state]).sort()).toEqual([
      ['MLSLOErrorBudgetBurn', 'page', 'critical', 'risk', 'firing'],
      ['MLSLOErrorBudgetBurn', 'ticket', 'warning', 'risk', 'firing'],
    ]);
    const rules = (await d.app.inject({ url: '/api/v1/rules' })).json().data.groups as { name: string; file: string }[];
    expect(rules.map((g) => [g.name, g.file])).toEqual([['vigil-slo-fraud-availability', 'slos (generated: vigil slo rules)']]);

    // the counts are in the store: a tracker applied again (a restart) reads them back
    const before = d.slos.samples(t.clock.now());
    writeConfig(t, CONFIG.replace('objective: 99\n', 'objective: 99\n    period: 28d\n'));
    expect((await d.reload()).ok).toBe(true);
    const after = d.slos.samples(t.clock.now());
    expect(after.find((s) => s.name === 'slo:sli_error:ratio_rate28d')?.value).toBe(0.2);
    expect(after.filter((s) => s.name === 'slo:sli_error:ratio_rate1h')).toEqual(before.filter((s) => s.name === 'slo:sli_error:ratio_rate1h'));

    // an hour later the short windows are empty: the page resolves, the ticket (1d) stays
    t.clock.advance(3_600_000 + 60_000);
    await d.cycle.run();
    const later = (await d.app.inject({ url: '/api/v1/alerts' })).json().data.alerts as { labels: Record<string, string> }[];
    expect(later.map((a) => a.labels.sloth_severity)).toEqual(['ticket']);
  });
});
