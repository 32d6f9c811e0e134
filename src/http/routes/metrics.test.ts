import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CATALOG, DEFAULT_METRIC_PREFIXES } from '../../metrics/catalog.js';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';

let t: TestDaemon;
beforeEach(async () => {
  t = await testDaemon();
});
afterEach(async () => {
  await t.close();
});

/** Metric family names present in a Prometheus text exposition. */
const families = (text: string): Set<string> =>
  new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2] as string));

describe('/metrics', () => {
  it('answers the Prometheus text format with the registry content type', async () => {
    const r = await t.daemon.app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toMatch(/^vigil_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="v\d+[^"]*"\} 1$/m);
    expect(r.body).toContain('# TYPE process_cpu_user_seconds_total counter');
  });

  it('answers OpenMetrics when the Accept header asks for it', async () => {
    const r = await t.daemon.app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(r.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(r.body).toContain('# TYPE ml_predictions counter');
  });

  it('an OpenMetrics scrape leaves the Prometheus text format intact (counters keep _total)', async () => {
    await t.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: '[{"id":"a","prediction":1}]' });
    const om = await t.daemon.app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.body).toContain('# TYPE ml_predictions counter');
    expect(om.body).toContain('ml_predictions_total{model="fraud",version="unknown"} 1');
    expect(om.body).not.toContain('_total_total');
    const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('# TYPE ml_predictions_total counter');
    expect(text).toContain('ml_predictions_total{model="fraud",version="unknown"} 1');
    const again = (await t.daemon.app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).body;
    expect(again).toContain('ml_predictions_total{model="fraud",version="unknown"} 1');
  });

  it('exports exactly the catalog (plus the default process metrics)', async () => {
    // Touch every labelled live metric so it shows up.
    await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/fraud/predictions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([{ id: 'a', prediction: 1, latency_ms: 3, error: 'x' }, { id: 'a', prediction: 1 }, { id: 'b' }]),
    });
    await t.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/labels', headers: { 'content-type': 'application/json' }, payload: '[{"id":"a","label":1}]' });
    await t.daemon.cycle.run();
    await t.daemon.scheduler.trigger('retention');
    const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    const exported = [...families(text)].filter((n) => !DEFAULT_METRIC_PREFIXES.some((p) => n.startsWith(p)));
    expect(exported.sort()).toEqual(CATALOG.map((c) => c.name).sort());
    // And the registry's metrics (even those not yet touched) are all in the catalog.
    const registered = t.daemon.registry.names().filter((n) => !DEFAULT_METRIC_PREFIXES.some((p) => n.startsWith(p)));
    expect(registered.sort()).toEqual(CATALOG.map((c) => c.name).sort());
  });
});

describe('/healthz and /readyz', () => {
  it('are up while running; readyz turns 503 when the store is closed', async () => {
    expect((await t.daemon.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.daemon.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await t.daemon.store.close();
    const r = await t.daemon.app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ status: 'not ready', reasons: ['store is not open'], role: 'leader' });
  });
});
