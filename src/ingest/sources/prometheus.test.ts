import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakePrometheus, vector, type FakePrometheus } from '../../../test/fakes/fake-prometheus.js';
import { basicAuth } from '../../sim/fake-http.js';
import { settings, TEST_CATALOG, testContext, testRunner } from '../../../test/fakes/source-harness.js';
import { createPrometheusSource, PrometheusSourceSchema } from './prometheus.js';

let fake: FakePrometheus;
beforeEach(async () => {
  fake = await startFakePrometheus();
});
afterEach(async () => {
  await fake.close();
});

const P95 = 'histogram_quantile(0.95, sum by (le, model) (rate(http_request_duration_seconds_bucket[5m])))';
const cfg = (extra: Record<string, unknown> = {}) =>
  PrometheusSourceSchema.parse({ type: 'prometheus', name: 'prom', url: fake.url, queries: [{ query: P95, metric: 'ml_prediction_latency_p95_seconds' }], ...extra });
const source = (extra: Record<string, unknown> = {}) => createPrometheusSource(cfg(extra), { catalog: TEST_CATALOG });

describe('prometheus source', () => {
  it('runs an instant query at the collection time and re-exports the vector under the catalog metric', async () => {
    fake.state.results.set(P95, vector([{ model: 'fraud' }, '0.120'], [{ model: 'churn' }, '+Inf'], [{ model: 'eta' }, 'NaN']));
    const { ctx } = testContext({ now: 1_793_530_800_123 });
    const r = await source().collect(ctx);
    expect(r.samples).toEqual([
      { name: 'ml_prediction_latency_p95_seconds', labels: { model: 'fraud' }, value: 0.12 },
      { name: 'ml_prediction_latency_p95_seconds', labels: { model: 'churn' }, value: Infinity },
      { name: 'ml_prediction_latency_p95_seconds', labels: { model: 'eta' }, value: NaN },
    ]);
    const req = fake.state.requests[0];
    expect(req?.path).toBe('/api/v1/query');
    expect(req?.query).toEqual({ query: P95, time: '1793530800.123' });
  });

  it('maps labels (label_map, fixed labels), handles scalars, sends basic or bearer auth', async () => {
    fake.state.authorization = basicAuth('prom', 'pw');
    fake.state.results.set('q1', vector([{ job: 'fraud-api', instance: 'a:1' }, '0.3']));
    fake.state.results.set('scalar(q2)', { resultType: 'scalar', result: [1, '0.25'] });
    const src = source({
      basic_auth: { username: 'prom', password: 'pw' },
      queries: [
        { query: 'q1', metric: 'ml_prediction_latency_p95_seconds', label_map: { model: 'job' } },
        { query: 'scalar(q2)', metric: 'ml_prediction_latency_p95_seconds', labels: { model: 'eta' } },
      ],
    });
    const { ctx } = testContext();
    expect((await src.collect(ctx)).samples).toEqual([
      { name: 'ml_prediction_latency_p95_seconds', labels: { model: 'fraud-api' }, value: 0.3 },
      { name: 'ml_prediction_latency_p95_seconds', labels: { model: 'eta' }, value: 0.25 },
    ]);
    fake.state.authorization = 'Bearer tok';
    fake.state.requests.length = 0;
    await expect(src.collect(ctx)).rejects.toMatchObject({ code: 'VIGIL_ERR_SOURCE_AUTH' });
    const bearer = source({ bearer_token: 'tok', queries: [{ query: 'q1', metric: 'ml_prediction_latency_p95_seconds', label_map: { model: 'job' } }] });
    expect((await bearer.collect(ctx)).samples).toHaveLength(1);
  });

  it('a path prefix in the URL is kept', async () => {
    fake.state.results.set(P95, vector([{ model: 'fraud' }, '1']));
    await expect(createPrometheusSource(cfg({ url: `${fake.url}/prom/` }), { catalog: TEST_CATALOG }).collect(testContext().ctx)).rejects.toThrow('HTTP 404');
    expect(fake.state.requests[0]?.path).toBe('/prom/api/v1/query');
  });

  it('the error envelope, a matrix, a missing label and ambiguous series are errors that say why', async () => {
    const { ctx } = testContext();
    await expect(source({ queries: [{ query: 'unknown_q', metric: 'ml_prediction_latency_p95_seconds' }] }).collect(ctx)).rejects.toThrow(
      /HTTP 400 from .*: bad_data: invalid parameter "query": 1:1: parse error/,
    );
    fake.state.faults.push({ status: 200, body: { status: 'error', errorType: 'execution', error: 'query timed out in expression evaluation' } });
    await expect(source().collect(ctx)).rejects.toThrow('execution: query timed out in expression evaluation');
    fake.state.results.set('m', { resultType: 'matrix', result: [] });
    await expect(source({ queries: [{ query: 'm', metric: 'ml_prediction_latency_p95_seconds' }] }).collect(ctx)).rejects.toThrow('the query returned a matrix');
    fake.state.results.set(P95, vector([{ job: 'x' }, '1']));
    await expect(source().collect(ctx)).rejects.toThrow(`has no label "model" for ml_prediction_latency_p95_seconds's label "model"`);
    fake.state.results.set(P95, vector([{ model: 'a', pod: '1' }, '1'], [{ model: 'a', pod: '2' }, '2']));
    await expect(source().collect(ctx)).rejects.toThrow('several result series map to the same labels');
    await expect(createPrometheusSource(cfg({ queries: [{ query: P95, metric: 'not_a_family' }] }), { catalog: TEST_CATALOG }).collect(ctx)).rejects.toThrow(
      'not_a_family is not a snapshot metric of the catalog',
    );
  });

  it('garbage answers name what was wrong', async () => {
    const { ctx } = testContext();
    fake.state.faults.push({ garbage: 'html' }, { garbage: 'truncated' }, { garbage: 'json', body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: 'x' }] } } }, { garbage: 'json', body: [1, 2] });
    await expect(source().collect(ctx)).rejects.toThrow('answer is not JSON but text/html');
    await expect(source().collect(ctx)).rejects.toThrow('answer is not valid JSON');
    await expect(source().collect(ctx)).rejects.toThrow(/data: unexpected answer shape: result\.0\.value: /);
    await expect(source().collect(ctx)).rejects.toThrow(/unexpected answer shape: \(root\): /);
  });

  it('through the runner: 503 then success; a hung server times out; the failure drops the samples', async () => {
    fake.state.results.set(P95, vector([{ model: 'fraud' }, '0.1']));
    const t = testRunner([{ source: source(), settings: settings({ timeoutMs: 1_000, retries: 2, retryBackoffMs: 5 }), fingerprint: '1' }]);
    fake.state.faults.push({ status: 503, body: { status: 'error', errorType: 'timeout', error: 'query timed out' } });
    await t.runner.trigger('prom');
    expect(t.runner.samples()).toHaveLength(1);
    expect(t.logs.join('')).toContain('timeout: query timed out');
    fake.state.faults.push({ hang: true });
    await t.runner.trigger('prom');
    expect(t.runner.samples()).toEqual([]);
    expect(t.runner.health()[0]).toMatchObject({ up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_TIMEOUT' });
    expect(t.m.up.get('prom')).toBe(0);
    await t.runner.trigger('prom');
    expect(t.runner.health()[0]?.up).toBe(true);
    expect(t.m.up.get('prom')).toBe(1);
  });

  it('config needs at least one query', () => {
    expect(PrometheusSourceSchema.safeParse({ type: 'prometheus', name: 'p', url: 'http://x', queries: [] }).success).toBe(false);
  });
});
