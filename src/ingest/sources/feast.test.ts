import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeFeast, type FakeFeast } from '../../../test/fakes/fake-feast.js';
import { settings, testContext, testRunner } from '../../../test/fakes/source-harness.js';
import { createFeastSource, describeFeastError, FeastSourceSchema } from './feast.js';

const NOW = Date.UTC(2026, 10, 1, 12);
let fake: FakeFeast;
beforeEach(async () => {
  fake = await startFakeFeast();
  fake.state.now = () => NOW;
  fake.state.project = 'rides';
  fake.state.views.set('driver_stats', {
    joinKey: 'driver_id',
    features: ['conv_rate', 'acc_rate'],
    rows: new Map([
      ['1001', { values: { conv_rate: 0.5, acc_rate: 0.9 }, ts: NOW - 120_000 }],
      ['1002', { values: { conv_rate: 0.4, acc_rate: null }, ts: NOW - 60_000 }],
    ]),
  });
  fake.state.views.set('trips', { joinKey: 'driver_id', features: ['n'], rows: new Map([['1001', { values: { n: 3 }, ts: NOW - 3_600_000 }]]) });
});
afterEach(async () => {
  await fake.close();
});

const cfg = (extra: Record<string, unknown>) => FeastSourceSchema.parse({ type: 'feast', name: 'feast', ...extra });
const s = (name: string, view: string, value: number, project = 'rides') => ({ name, labels: { feature_view: view, project }, value });

describe('feast source', () => {
  it('reads feast_feature_freshness_seconds from the --metrics exposition (filtered by feature_views)', async () => {
    const src = createFeastSource(cfg({ metrics_url: `${fake.url}/metrics` }));
    const { ctx } = testContext({ now: NOW });
    expect((await src.collect(ctx)).samples).toEqual([s('feast_feature_freshness_seconds', 'driver_stats', 60), s('feast_feature_freshness_seconds', 'trips', 3600)]);
    const only = createFeastSource(cfg({ metrics_url: `${fake.url}/metrics`, feature_views: ['trips'] }));
    expect((await only.collect(ctx)).samples).toEqual([s('feast_feature_freshness_seconds', 'trips', 3600)]);
  });

  it('probes online reads: completeness = share PRESENT, freshness = now − newest present event time', async () => {
    const src = createFeastSource(
      cfg({
        url: fake.url,
        project: 'rides',
        probes: [{ features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'trips:n'], entities: { driver_id: [1001, 1002, 9999] } }],
      }),
    );
    const { ctx } = testContext({ now: NOW + 10_000 });
    const r = await src.collect(ctx);
    // driver_stats: 6 values, PRESENT: 1001×2, 1002 conv_rate → 3/6; newest present: 1002 at NOW−60s
    // trips: 3 values, PRESENT: 1001 → 1/3; newest NOW−1h
    expect(r.samples).toEqual([
      s('feast_feature_completeness_ratio', 'driver_stats', 0.5),
      s('feast_feature_freshness_seconds', 'driver_stats', 70),
      s('feast_feature_completeness_ratio', 'trips', 1 / 3),
      s('feast_feature_freshness_seconds', 'trips', 3610),
    ]);
    expect(fake.state.requests[0]?.json).toEqual({ entities: { driver_id: [1001, 1002, 9999] }, features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'trips:n'], full_feature_names: true });
  });

  it('a view with nothing present has completeness 0 and no freshness (unknown); feature services work; probes win over metrics', async () => {
    fake.state.services.set('svc', ['trips:n']);
    const src = createFeastSource(
      cfg({
        url: fake.url,
        metrics_url: `${fake.url}/metrics`,
        project: 'rides',
        probes: [{ feature_service: 'svc', entities: { driver_id: [1001] } }, { features: ['driver_stats:conv_rate'], entities: { driver_id: [5, 6] } }],
      }),
    );
    const r = await src.collect(testContext({ now: NOW }).ctx);
    expect(r.samples).toEqual([
      s('feast_feature_freshness_seconds', 'driver_stats', 60), // from the metrics: no probe value present
      s('feast_feature_freshness_seconds', 'trips', 3600),
      s('feast_feature_completeness_ratio', 'trips', 1),
      s('feast_feature_completeness_ratio', 'driver_stats', 0),
    ]);
  });

  it('decodes Feast double-encoded errors into the message', async () => {
    const src = createFeastSource(cfg({ url: fake.url, project: 'rides', probes: [{ features: ['nope:x'], entities: { driver_id: [1] } }] }));
    await expect(src.collect(testContext().ctx)).rejects.toThrow(/feast feast probes\[0\]: HTTP 404 from .*\/get-online-features: FeatureViewNotFoundException: Feature view nope does not exist in project rides/);
    expect(describeFeastError(500, JSON.stringify('plain failure'))).toEqual({ message: 'plain failure' });
    expect(describeFeastError(422, JSON.stringify({ detail: [{ msg: 'Field required' }] }))?.message).toContain('Field required');
    expect(describeFeastError(500, 'not json')).toBeUndefined();
  });

  it('garbage: HTML or JSON where the exposition should be, a broken exposition line, a wrong online-features shape', async () => {
    const metrics = createFeastSource(cfg({ metrics_url: `${fake.url}/metrics` }));
    const probe = createFeastSource(cfg({ url: fake.url, project: 'rides', probes: [{ features: ['trips:n'], entities: { driver_id: [1001] } }] }));
    const { ctx } = testContext();
    fake.state.faults.push({ garbage: 'html' });
    await expect(metrics.collect(ctx)).rejects.toThrow('metrics: answer is not the Prometheus text format but text/html');
    fake.state.metricsText = 'feast_feature_freshness_seconds{feature_view="a",project="p"} twelve\n';
    await expect(metrics.collect(ctx)).rejects.toThrow('not valid Prometheus text format: line 1: invalid value "twelve"');
    fake.state.metricsText = 'feast_feature_freshness_seconds{project="p"} 1\n';
    await expect(metrics.collect(ctx)).rejects.toThrow('sample without feature_view label');
    fake.state.faults.push({ garbage: 'json', body: { metadata: {}, results: 'x' } });
    await expect(probe.collect(ctx)).rejects.toThrow(/unexpected answer shape: metadata\.feature_names: .*; results: /);
    fake.state.faults.push({ garbage: 'json', body: { metadata: { feature_names: ['a', 'b'] }, results: [] } });
    await expect(probe.collect(ctx)).rejects.toThrow('2 feature names but 0 results');
  });

  it('through the runner: 500 then success; a hang times out', async () => {
    const src = createFeastSource(cfg({ metrics_url: `${fake.url}/metrics` }));
    const t = testRunner([{ source: src, settings: settings({ timeoutMs: 1_000, retries: 1, retryBackoffMs: 5 }), fingerprint: '1' }]);
    fake.state.faults.push({ status: 500, body: 'Internal Server Error' });
    await t.runner.trigger('feast');
    expect(t.runner.samples()).toHaveLength(2);
    fake.state.faults.push({ hang: true });
    await t.runner.trigger('feast');
    expect(t.runner.samples()).toEqual([]);
    expect(t.runner.health()[0]?.lastErrorCode).toBe('VIGIL_ERR_SOURCE_TIMEOUT');
  });

  it('the fake materializes and refreshes timestamps (for remediation tests)', async () => {
    fake.state.now = () => NOW + 1_000;
    const res = await fetch(`${fake.url}/materialize-incremental`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ end_ts: '2026-11-01T12:00:01Z', feature_views: ['trips'] }) });
    expect(res.status).toBe(200);
    expect(fake.state.materializations).toEqual([{ path: '/materialize-incremental', body: { end_ts: '2026-11-01T12:00:01Z', feature_views: ['trips'] }, async: false }]);
    expect(fake.state.views.get('trips')?.rows.get('1001')?.ts).toBe(NOW + 1_000);
    fake.state.materializeRunning = true;
    expect((await fetch(`${fake.url}/materialize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(409);
  });

  it('config: needs metrics_url or probes; probes need url and project; entity lists of equal length', () => {
    const issues = (o: Record<string, unknown>) => FeastSourceSchema.safeParse({ type: 'feast', name: 'f', ...o }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({})).toEqual(['metrics_url: give metrics_url, probes, or both']);
    expect(issues({ probes: [{ features: ['a:b'], entities: { k: [1] } }] })).toEqual(['url: probes need the feature server url', 'project: probes need the project (for the project label)']);
    expect(issues({ url: 'http://f', project: 'p', probes: [{ features: ['a:b'], entities: { k: [1], j: [1, 2] } }] })).toEqual([
      'probes.0.entities: every entity key needs the same number of values (one per entity row)',
    ]);
    expect(issues({ url: 'http://f', project: 'p', probes: [{ features: ['ab'], entities: { k: [1] } }] })).toEqual(['probes.0.features.0: must be "feature_view:feature"']);
  });
});
