import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeJson, type FakeJson } from '../../../test/fakes/fake-json.js';
import { basicAuth } from '../../sim/fake-http.js';
import { settings, testContext, testRunner, validatingIngest } from '../../../test/fakes/source-harness.js';
import { createHttpJsonSource, HttpJsonSourceSchema, sampleValue } from './http-json.js';

let fake: FakeJson;
beforeEach(async () => {
  fake = await startFakeJson();
});
afterEach(async () => {
  await fake.close();
});

const cfg = (extra: Record<string, unknown>) => HttpJsonSourceSchema.parse({ type: 'http_json', name: 'preds', url: `${fake.url}/preds`, ...extra });

describe('http_json source', () => {
  it('maps records at records_path to prediction items and ingests them', async () => {
    fake.state.authorization = 'Bearer s3cret-token';
    fake.state.routes.set('/preds', {
      status: 200,
      body: {
        data: {
          rows: [
            { request_id: 'r1', at: '2026-11-01T11:00:00Z', out: { cls: 1, p: 0.91 }, inputs: { amount: 12.5, country: 'DE' }, v: 'v3', ms: 12 },
            { request_id: 'r2', at: 1_793_530_800_000, out: { cls: 0, p: 0.2 }, inputs: { amount: null }, extra: 'ignored' },
          ],
        },
      },
    });
    const src = createHttpJsonSource(
      cfg({
        kind: 'predictions',
        model: 'fraud',
        bearer_token: 's3cret-token',
        records_path: 'data.rows',
        mapping: { id: 'request_id', ts: 'at', prediction: 'out.cls', score: 'out.p', model_version: 'v', latency_ms: 'ms', 'features.hour': 'out.p' },
        features_path: 'inputs',
      }),
    );
    const { ctx, rec } = testContext();
    const r = await src.collect(ctx);
    expect(r).toEqual({ samples: [], ingested: { predictions: 2, labels: 0, rejected: 0 } });
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]).toMatchObject({ kind: 'predictions', model: 'fraud' });
    expect(rec.items()).toEqual([
      { id: 'r1', ts: '2026-11-01T11:00:00Z', model_version: 'v3', prediction: 1, score: 0.91, latency_ms: 12, features: { amount: 12.5, country: 'DE', hour: 0.91 } },
      { id: 'r2', ts: 1_793_530_800_000, prediction: 0, score: 0.2, features: { amount: null, hour: 0.2 } },
    ]);
    expect(fake.state.requests[0]?.headers.authorization).toBe('Bearer s3cret-token');
  });

  it('mapped items pass the real validation (ModelValidator, as the HTTP API)', async () => {
    const v = validatingIngest([{ name: 'churn', task: 'multiclass', classes: ['stay', 'churn'], features: [{ name: 'tenure', type: 'numeric' }] }]);
    fake.state.routes.set('/preds', { status: 200, body: { items: [{ rid: 7, cls: 'churn', probs: { churn: 0.8, stay: 0.2 }, x: { tenure: 4 } }, { rid: 8, cls: 'gone', x: {} }] } });
    const src = createHttpJsonSource(cfg({ kind: 'predictions', model: 'churn', records_path: 'items', mapping: { id: 'rid', prediction: 'cls', score: 'probs' }, features_path: 'x' }));
    const r = await src.collect(testContext({ ingest: v.ingest }).ctx);
    expect(r.ingested).toEqual({ predictions: 1, labels: 0, rejected: 1 });
    expect(v.rejected).toEqual([{ index: 1, id: '8', field: 'prediction', reason: expect.stringContaining('not one of the model') as unknown }]);
  });

  it('takes records as they are without a mapping (labels, answer is the array), POST with a body and basic auth', async () => {
    fake.state.authorization = basicAuth('vigil', 'pw');
    fake.state.routes.set('/preds', { status: 200, body: [{ id: 'a', label: 1, ts: '2026-11-01T11:00:00Z' }, { id: 'b', label: 0, junk: true }] });
    const src = createHttpJsonSource(cfg({ kind: 'labels', model: 'fraud', method: 'POST', body: { since: '1h' }, basic_auth: { username: 'vigil', password: 'pw' }, headers: { 'X-Team': 'ml' } }));
    const { ctx, rec } = testContext();
    await src.collect(ctx);
    expect(rec.items()).toEqual([{ id: 'a', label: 1, ts: '2026-11-01T11:00:00Z' }, { id: 'b', label: 0 }]);
    const req = fake.state.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.json).toEqual({ since: '1h' });
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['x-team']).toBe('ml');
  });

  it('counts rejected items without failing', async () => {
    fake.state.routes.set('/preds', { status: 200, body: [{ id: 'a', label: 1 }, { id: 'b' }] });
    const src = createHttpJsonSource(cfg({ kind: 'labels', model: 'fraud' }));
    const { ctx } = testContext({
      ingest: async (_k, _m, items) => ({ accepted: 1, duplicates: [], rejected: [{ index: 1, field: 'label', reason: 'required' }] }) as never,
    });
    expect((await src.collect(ctx)).ingested).toEqual({ predictions: 0, labels: 1, rejected: 1 });
  });

  it('kind samples: exports precomputed stats per record with fixed and read labels', async () => {
    fake.state.routes.set('/preds', {
      status: 200,
      body: { stats: [{ f: 'amount', age: 12 }, { f: 'country', age: '+Inf' }, { f: 'tenure', age: 'NaN' }], value: '1234.5' },
    });
    const src = createHttpJsonSource(
      cfg({
        kind: 'samples',
        records_path: 'stats',
        samples: [{ metric: 'ml_feature_freshness_seconds', labels: { model: 'fraud' }, label_paths: { feature: 'f' }, value_path: 'age' }],
      }),
    );
    const { ctx } = testContext();
    const r = await src.collect(ctx);
    expect(r.samples).toEqual([
      { name: 'ml_feature_freshness_seconds', labels: { model: 'fraud', feature: 'amount' }, value: 12 },
      { name: 'ml_feature_freshness_seconds', labels: { model: 'fraud', feature: 'country' }, value: Infinity },
      { name: 'ml_feature_freshness_seconds', labels: { model: 'fraud', feature: 'tenure' }, value: NaN },
    ]);
    const one = createHttpJsonSource(cfg({ kind: 'samples', samples: [{ metric: 'ml_business_value', labels: { model: 'fraud' }, value_path: 'value' }] }));
    expect((await one.collect(ctx)).samples).toEqual([{ name: 'ml_business_value', labels: { model: 'fraud' }, value: 1234.5 }]);
  });

  it('garbage: HTML, truncated JSON, the wrong shape, a non-numeric value — each an error naming what was wrong', async () => {
    const src = createHttpJsonSource(cfg({ kind: 'predictions', model: 'fraud', records_path: 'data.rows' }));
    const samples = createHttpJsonSource(cfg({ kind: 'samples', samples: [{ metric: 'ml_business_value', labels: { model: 'm' }, value_path: 'v' }] }));
    const { ctx } = testContext();
    fake.state.faults.push({ garbage: 'html' }, { garbage: 'truncated' }, { garbage: 'json', body: { data: { rows: { not: 'an array' } } } }, { garbage: 'json', body: { v: 'lots' } }, { status: 200, body: '' });
    await expect(src.collect(ctx)).rejects.toThrow(/answer is not JSON but text\/html: <!DOCTYPE html>/);
    await expect(src.collect(ctx)).rejects.toThrow(/answer is not valid JSON/);
    await expect(src.collect(ctx)).rejects.toThrow('http_json preds: expected an array at "data.rows", found an object');
    await expect(samples.collect(ctx)).rejects.toThrow('ml_business_value: value at "v" is a string "lots", not a number');
    await expect(src.collect(ctx)).rejects.toThrow('empty answer, expected JSON');
  });

  it('through the runner: 500 is retried then succeeds; 404 fails at once; a hang is cut by the timeout', async () => {
    fake.state.routes.set('/preds', { status: 200, body: [{ id: 'a', label: 1 }] });
    fake.state.faults.push({ status: 500, body: 'upstream exploded' }, { status: 502, body: { error: 'bad gateway' } });
    const src = createHttpJsonSource(cfg({ kind: 'labels', model: 'fraud' }));
    const t = testRunner([{ source: src, settings: settings({ timeoutMs: 2_000, retries: 2, retryBackoffMs: 10 }), fingerprint: '1' }]);
    await t.runner.trigger('preds');
    expect(fake.state.requests).toHaveLength(3);
    expect(t.runner.health()[0]).toMatchObject({ up: true, lastError: null });
    expect(t.rec.items()).toEqual([{ id: 'a', label: 1 }]);
    expect(t.logs.join('')).toContain('HTTP 500');

    fake.state.faults.push({ status: 404, body: { error: 'nope' } });
    await t.runner.trigger('preds');
    expect(fake.state.requests).toHaveLength(4);
    expect(t.runner.health()[0]).toMatchObject({ up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_NOT_FOUND' });
    expect(t.runner.health()[0]?.lastError).toBe(`http_json preds: HTTP 404 from ${fake.url}/preds: {"error":"nope"}`);

    fake.state.hangAll = true;
    const hang = createHttpJsonSource(cfg({ name: 'hang', kind: 'labels', model: 'fraud' }));
    t.runner.replace([{ source: hang, settings: settings({ timeoutMs: 200, retries: 2 }), fingerprint: '1' }]);
    const t0 = performance.now();
    await t.runner.trigger('hang');
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(t.runner.health()[0]).toMatchObject({ name: 'hang', up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_TIMEOUT' });
    expect(t.m.errors.get('hang')).toBe(1);
  });

  it('429 honours Retry-After when it fits in the timeout, and gives up when it does not', async () => {
    fake.state.routes.set('/preds', { status: 200, body: [] });
    fake.state.faults.push({ status: 429, body: { error: 'slow down' }, headers: { 'Retry-After': '0' } });
    const src = createHttpJsonSource(cfg({ kind: 'labels', model: 'fraud' }));
    const t = testRunner([{ source: src, settings: settings({ timeoutMs: 1_000, retries: 1, retryBackoffMs: 5_000 }), fingerprint: '1' }]);
    await t.runner.trigger('preds');
    expect(fake.state.requests).toHaveLength(2);
    expect(t.runner.health()[0]?.up).toBe(true);

    fake.state.faults.push({ status: 429, body: { error: 'slow down' }, headers: { 'Retry-After': '120' } });
    await t.runner.trigger('preds');
    expect(fake.state.requests).toHaveLength(3);
    expect(t.runner.health()[0]).toMatchObject({ up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_RATE_LIMITED' });
    expect(t.runner.health()[0]?.lastError).toContain('not retried: the server asked to retry after 120000ms');
  });

  it('without the runner, the per-request timeout (the source timeout) still ends a hang', async () => {
    fake.state.hangAll = true;
    const src = createHttpJsonSource(cfg({ kind: 'labels', model: 'fraud', timeout: '200ms' }));
    const { ctx } = testContext({ timeoutMs: 10_000 });
    await expect(src.collect(ctx)).rejects.toMatchObject({ code: 'VIGIL_ERR_SOURCE_TIMEOUT', retryable: true, message: expect.stringMatching(/no answer from .* within 200ms/) as unknown });
  });

  it('a refused connection is an error naming the address', async () => {
    const url = fake.url;
    await fake.close();
    const src = createHttpJsonSource(HttpJsonSourceSchema.parse({ type: 'http_json', name: 'x', url: `${url}/p`, kind: 'labels', model: 'm' }));
    const { ctx } = testContext();
    await expect(src.collect(ctx)).rejects.toMatchObject({ code: 'VIGIL_ERR_SOURCE_UNREACHABLE', retryable: true });
    fake = await startFakeJson();
  });

  it('config: defaults, and the checks that name the key', () => {
    const c = HttpJsonSourceSchema.parse({ type: 'http_json', name: 'x', url: 'http://h/p', kind: 'labels', model: 'm' });
    expect(c).toMatchObject({ timeout: 10_000, retries: 2, retry_backoff: 1_000, method: 'GET', records_path: '', features_path: 'features', mapping: {}, headers: {} });
    const bad = (o: Record<string, unknown>) => HttpJsonSourceSchema.safeParse({ type: 'http_json', name: 'x', url: 'http://h/p', ...o }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(bad({ kind: 'labels' })).toEqual(['model: kind labels needs the model the items belong to']);
    expect(bad({ kind: 'samples' })).toEqual(['samples: kind samples needs at least one samples entry']);
    const key = HttpJsonSourceSchema.safeParse({ type: 'http_json', name: 'x', url: 'http://h/p', kind: 'labels', model: 'm', mapping: { nope: 'x' } }).error?.issues[0];
    expect(key?.code === 'invalid_key' && key.path.join('.') === 'mapping.nope' && key.issues[0]?.message).toMatch(/^must be an item field/);
    expect(bad({ kind: 'labels', model: 'm', interval: '1m', cron: '* * * * *' })).toEqual(['cron: give either interval or cron, not both']);
    expect(bad({ kind: 'labels', model: 'm', cron: 'every minute' })?.[0]).toMatch(/^cron: not a valid node-cron expression/);
    expect(bad({ kind: 'labels', model: 'm', url: 'ftp://h' })).toEqual(['url: must be an http:// or https:// URL']);
    expect(bad({ kind: 'labels', model: 'm', body: {} })).toEqual(['body: body is sent with method POST only']);
  });

  it('sampleValue parses numbers, numeric strings and the special values', () => {
    expect(sampleValue(3)).toBe(3);
    expect(sampleValue('1e3')).toBe(1000);
    expect(sampleValue('-Inf')).toBe(-Infinity);
    expect(sampleValue('NaN')).toBeNaN();
    expect(sampleValue(true)).toBe(1);
    expect(sampleValue('12abc')).toBeUndefined();
    expect(sampleValue(null)).toBeUndefined();
  });
});
