import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { BASE_CONFIG, ndjson, testDaemon, type TestDaemon } from '../../../test/harness.js';

let t: TestDaemon;
beforeEach(async () => {
  t = await testDaemon();
});
afterEach(async () => {
  await t.close();
});

const P = (id: string | number, over: Record<string, unknown> = {}) => ({
  id,
  model_version: 'v1',
  features: { amount: 10.5, country: 'PL' },
  prediction: 1,
  score: 0.9,
  latency_ms: 12,
  ...over,
});

const post = (model: string, body: unknown, opts: { kind?: string; type?: string; token?: string; raw?: string } = {}) =>
  t.daemon.app.inject({
    method: 'POST',
    url: `/v1/models/${model}/${opts.kind ?? 'predictions'}`,
    headers: {
      'content-type': opts.type ?? 'application/json',
      ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
    },
    payload: opts.raw ?? (typeof body === 'string' ? body : JSON.stringify(body)),
  });

const metricValue = async (line: string): Promise<number | undefined> => {
  const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.split(' ')[1]);
};

describe('POST /v1/models/:model/predictions', () => {
  it('stores a JSON array, answers 200 and counts it on /metrics', async () => {
    const r = await post('fraud', [P('a'), P('b', { model_version: 'v2' }), P(3)]);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ accepted: 3, duplicates: [], rejected: [] });
    expect(await metricValue('ml_predictions_total{model="fraud",version="v1"}')).toBe(2);
    expect(await metricValue('ml_predictions_total{model="fraud",version="v2"}')).toBe(1);
    expect(await metricValue('ml_prediction_latency_seconds_count{model="fraud",version="v1"}')).toBe(2);
    const stored = (await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/3' })).json();
    expect(stored).toMatchObject({ id: '3', prediction: '1', score: 0.9, features: { amount: 10.5, country: 'PL' }, label: null });
  });

  it('takes NDJSON, skipping blank lines and CRLF', async () => {
    const r = await post('fraud', `${ndjson([P('a'), P('b')])}\r\n\n${JSON.stringify(P('c'))}\n`, { type: 'application/x-ndjson' });
    expect(r.statusCode).toBe(200);
    expect(r.json().accepted).toBe(3);
  });

  it("reads Python's NaN and Infinity (json.dumps' default) as missing values: the batch is stored, an item without a prediction rejected alone", async () => {
    const raw = `[{"id": "py-1", "model_version": "v1", "prediction": 1, "score": NaN, "features": {"amount": NaN, "country": "PL"}}, {"id": "py-2", "model_version": "v1", "prediction": NaN, "features": {"amount": Infinity}}, {"id": "py-3", "model_version": "v1", "prediction": 0, "features": {"amount": -Infinity, "country": "DE"}}]`;
    const r = await post('fraud', undefined, { raw });
    expect(r.statusCode).toBe(207);
    expect(r.json()).toMatchObject({ accepted: 2, rejected: [{ index: 1, field: 'prediction' }] });
    const stored = (await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/py-1' })).json();
    expect(stored).toMatchObject({ id: 'py-1', score: null, features: { amount: null, country: 'PL' } });
    const ndjsonPost = await post('fraud', undefined, { raw: '{"id": "py-4", "model_version": "v1", "prediction": 1, "features": {"amount": NaN}}\n', type: 'application/x-ndjson' });
    expect(ndjsonPost.json()).toEqual({ accepted: 1, duplicates: [], rejected: [] });
  });

  it("keeps each prediction's trace context: its own traceparent, else the request's header; an exemplar on its latency in OpenMetrics", async () => {
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/fraud/predictions',
      headers: { 'content-type': 'application/json', traceparent: caller },
      payload: JSON.stringify([P('tr-own', { traceparent: own }), P('tr-caller'), P('tr-bad', { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' })]),
    });
    expect(r.statusCode).toBe(207);
    expect(r.json()).toMatchObject({ accepted: 2, rejected: [{ index: 2, field: 'traceparent' }] });
    const get = async (id: string) => (await t.daemon.app.inject({ url: `/v1/models/fraud/predictions/${id}` })).json() as { traceparent: string | null };
    expect((await get('tr-own')).traceparent).toBe(own);
    expect((await get('tr-caller')).traceparent).toBe(caller);
    // OpenMetrics: the latency buckets carry a trace as exemplar; the Prometheus text format none
    const om = (await t.daemon.app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).body;
    const exemplars = om.split('\n').filter((l) => l.startsWith('ml_prediction_latency_seconds_bucket{') && l.includes(' # {'));
    expect(exemplars.length).toBeGreaterThan(0);
    expect(exemplars.join('\n')).toMatch(/ # \{(span_id="(b7ad6b7169203331|00f067aa0ba902b7)",trace_id="(0af7651916cd43dd8448eb211c80319c|4bf92f3577b34da6a3ce929d0e0e4736)"|trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}")\} 0\.012 /);
    const text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    expect(text).not.toContain(' # {');
  });

  it('takes a single object as a batch of one', async () => {
    const r = await post('fraud', P('solo'));
    expect(r.json()).toEqual({ accepted: 1, duplicates: [], rejected: [] });
  });

  it('rejects bad items with their index, field and reason, and keeps the good ones (207)', async () => {
    const items = [
      P('ok-1'),
      P('wrong-type', { features: { amount: 'abc' } }),
      { model_version: 'v1', features: {}, prediction: 1 }, // missing id
      P('nan', { features: { amount: 'NaN' } }),
      P('latency-string', { latency_ms: '12' }),
      P('unknown-feature', { features: { amount: 1, colour: 'red' } }),
      P('score-range', { score: 1.5 }),
      P('ts-seconds', { ts: 1_700_000_000 }),
      P('ts-garbage', { ts: 'yesterday' }),
      P('extra-field', { foo: 1 }),
      'not an object',
      P('ok-2', { features: { amount: null } }),
    ];
    const r = await post('fraud', items);
    expect(r.statusCode).toBe(207);
    const body = r.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([
      { index: 1, id: 'wrong-type', field: 'features.amount', reason: 'must be a finite number or null' },
      { index: 2, field: 'id', reason: 'id is required' },
      { index: 3, id: 'nan', field: 'features.amount', reason: 'must be a finite number or null' },
      { index: 4, id: 'latency-string', field: 'latency_ms', reason: 'must be a finite number' },
      { index: 5, id: 'unknown-feature', field: 'features.colour', reason: 'unknown feature "colour" (not in the model\'s configuration)' },
      { index: 6, id: 'score-range', field: 'score', reason: 'must be <= 1' },
      { index: 7, id: 'ts-seconds', field: 'ts', reason: 'must be epoch milliseconds (this looks like seconds, or is before 2000)' },
      { index: 8, id: 'ts-garbage', field: 'ts', reason: 'must be an RFC 3339 time (2026-01-31T12:00:00Z) or epoch milliseconds' },
      { index: 9, id: 'extra-field', field: 'foo', reason: 'unknown field "foo"' },
      { index: 10, field: '', reason: 'must be an object' },
    ]);
    expect(await metricValue('vigil_ingest_rejected_items_total{model="fraud",kind="predictions"}')).toBe(10);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/ok-2' })).statusCode).toBe(200);
  });

  it('rejects Infinity (a number too large for a double) as not finite', async () => {
    const r = await post('fraud', '', { raw: '[{"id":"big","features":{"amount":1e999},"prediction":1}]' });
    expect(r.statusCode).toBe(422);
    expect(r.json().rejected[0]).toMatchObject({ index: 0, field: 'features.amount' });
  });

  it('answers 422 when every item is rejected, storing nothing', async () => {
    const r = await post('fraud', [P('x', { prediction: null }), P('y', { features: 7 })]);
    expect(r.statusCode).toBe(422);
    expect(r.json().accepted).toBe(0);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).json().predictions).toBe(0);
  });

  it('never duplicates a re-sent id and lists it, within a batch and across batches', async () => {
    await post('fraud', [P('a', { prediction: 1 })]);
    const r = await post('fraud', [P('b'), P('a', { prediction: 0 }), P('b')]);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ accepted: 1, duplicates: [{ index: 1, id: 'a' }, { index: 2, id: 'b' }], rejected: [] });
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/a' })).json().prediction).toBe('1');
    expect(await metricValue('ml_predictions_total{model="fraud",version="v1"}')).toBe(2);
    expect(await metricValue('vigil_ingest_duplicate_items_total{model="fraud",kind="predictions"}')).toBe(2);
  });

  it('stores a 10,000-item NDJSON batch', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => P(`id-${i}`, { features: { amount: i, country: i % 2 ? 'PL' : 'DE' } }));
    const r = await post('fraud', ndjson(items), { type: 'application/x-ndjson' });
    expect(r.statusCode).toBe(200);
    expect(r.json().accepted).toBe(10_000);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).json().predictions).toBe(10_000);
  });

  it('refuses a batch over server.max_batch_items with 413', async () => {
    const items = Array.from({ length: 10_001 }, (_, i) => P(i));
    const r = await post('fraud', items);
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_INGEST_BATCH_TOO_LARGE', message: expect.stringContaining('limit is 10000') });
  });

  it('names the line of an invalid NDJSON line (400) and stores nothing', async () => {
    const body = `${JSON.stringify(P('a'))}\n${JSON.stringify(P('b'))}\n{"id": "c", "prediction": 1,}\n${JSON.stringify(P('d'))}`;
    const r = await post('fraud', body, { type: 'application/x-ndjson' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', line: 3, column: 29 });
    expect(r.json().error.message).toContain('line 3');
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).json().predictions).toBe(0);
  });

  it('names the line and column of malformed JSON (400)', async () => {
    const r = await post('fraud', '', { raw: '[\n  {"id": "a", "prediction": 1},\n  {"id": "b" "prediction": 1}\n]' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', line: 3, column: 14 });
    // a body with NaN (read as null) and another mistake: the first mistake as sent is named
    const nan = await post('fraud', '', { raw: '[{"id":"a","features":{"amount":NaN},"prediction":1,}]' });
    expect(nan.statusCode).toBe(400);
    expect(nan.json().error.message).toContain('line 1, column 33');
  });

  it('refuses a body over server.max_body_bytes with 413', async () => {
    await t.close();
    t = await testDaemon(`server:\n  max_body_bytes: 2048\n${BASE_CONFIG}`);
    const items = Array.from({ length: 40 }, (_, i) => P(`id-${i}`));
    const r = await post('fraud', items);
    expect(r.statusCode).toBe(413);
    expect(r.json().error.code).toBe('VIGIL_ERR_HTTP_BODY_TOO_LARGE');
  });

  it('answers 404 for an unknown model', async () => {
    const r = await post('nope', [P('a')]);
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('VIGIL_ERR_MODEL_UNKNOWN');
  });

  it('answers 415 for an unsupported content type', async () => {
    const r = await post('fraud', 'id,prediction\n1,1', { type: 'text/csv' });
    expect(r.statusCode).toBe(415);
  });

  it('validates multiclass classes and per-class scores', async () => {
    const r = await post('churn', [
      { id: 1, features: { tenure: 3 }, prediction: 'stay', score: { stay: 0.7, churn: 0.2, maybe: 0.1 } },
      { id: 2, features: { tenure: 3 }, prediction: 'gone' },
      { id: 3, features: { tenure: 3 }, prediction: 'churn', score: { churn: 0.5, other: 0.5 } },
      { id: 4, features: { tenure: 3 }, prediction: 'churn', score: 0.4 },
    ]);
    expect(r.statusCode).toBe(207);
    expect(r.json().rejected.map((x: { index: number; field: string }) => [x.index, x.field])).toEqual([
      [1, 'prediction'],
      [2, 'score.other'],
      [3, 'score'],
    ]);
  });

  it('takes numbers for regression and refuses classes', async () => {
    const r = await post('eta', [
      { id: 'a', features: { km: 3.5 }, prediction: 12.25 },
      { id: 'b', features: { km: 3.5 }, prediction: 'fast' },
    ]);
    expect(r.json().rejected).toEqual([{ index: 1, id: 'b', field: 'prediction', reason: 'must be a finite number' }]);
  });

  it('counts serving errors', async () => {
    await post('fraud', [P('e1', { error: 'timeout' }), P('e2', { error: true }), P('e3', { error: false })]);
    expect(await metricValue('ml_prediction_errors_total{model="fraud",version="v1"}')).toBe(2);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/e2' })).json().error).toBe('error');
  });
});

describe('POST /v1/models/:model/labels', () => {
  it('stores labels, joins them to predictions, and reports coverage', async () => {
    await post('fraud', [P('a'), P('b'), P('c'), P('d')]);
    const r = await post('fraud', [{ id: 'a', label: 1 }, { id: 'b', label: '0' }, { id: 'zz', label: true }], { kind: 'labels' });
    expect(r.json()).toEqual({ accepted: 3, duplicates: [], rejected: [] });
    const m = (await t.daemon.app.inject({ url: '/v1/models/fraud' })).json();
    expect(m).toMatchObject({ predictions: 4, labels_received: 3, labeled_predictions: 2, label_coverage_ratio: 0.5 });
    expect(await metricValue('ml_labels_total{model="fraud"}')).toBe(3);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/a' })).json().label.label).toBe('1');
  });

  it('validates labels per task', async () => {
    const r1 = await post('churn', [{ id: 1, label: 'stay' }, { id: 2, label: 'gone' }, { id: 3 }], { kind: 'labels' });
    expect(r1.json().rejected.map((x: { field: string }) => x.field)).toEqual(['label', 'label']);
    const r2 = await post('eta', [{ id: 1, label: 'x' }, { id: 2, label: 4.5 }], { kind: 'labels' });
    expect(r2.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, field: 'label' }] });
  });
});

describe('read API', () => {
  it('GET /v1/models lists every configured model with counts and last event time', async () => {
    t.clock.advance(1000);
    await post('fraud', [P('a', { ts: '2026-11-01T11:00:00Z' }), P('b', { ts: Date.UTC(2026, 10, 1, 11, 30) })]);
    const r = await t.daemon.app.inject({ url: '/v1/models' });
    expect(r.statusCode).toBe(200);
    const models = r.json().models as { name: string; predictions: number; last_prediction_at: string | null }[];
    expect(models.map((m) => m.name)).toEqual(['fraud', 'churn', 'eta']);
    expect(models[0]).toMatchObject({ predictions: 2, last_prediction_at: '2026-11-01T11:30:00.000Z', label_coverage_ratio: 0, windows: ['1h'] });
    expect(models[1]).toMatchObject({ predictions: 0, last_prediction_at: null, label_coverage_ratio: null });
  });

  it('GET /v1/models/:model answers 404 for an unknown model and a missing prediction', async () => {
    expect((await t.daemon.app.inject({ url: '/v1/models/nope' })).statusCode).toBe(404);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/none' })).json().error.code).toBe('VIGIL_ERR_PREDICTION_UNKNOWN');
  });

  it('refuses events too far in the future', async () => {
    const r = await post('fraud', [P('f', { ts: Date.UTC(2026, 10, 1, 14) })]);
    expect(r.json().rejected[0]).toMatchObject({ field: 'ts', reason: 'is in the future (beyond server.max_future_skew)' });
  });
});

describe('tokens', () => {
  const withTokens = `server:\n  tokens:\n    ingest: ["ingest-token-0123456789"]\n    admin: ["admin-token-0123456789ab"]\n${BASE_CONFIG}`;

  it('needs a bearer token for writes once tokens are configured (401 missing, 403 wrong)', async () => {
    await t.close();
    t = await testDaemon(withTokens);
    const missing = await post('fraud', [P('a')]);
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="vigil"');
    expect(missing.json().error.code).toBe('VIGIL_ERR_AUTH_MISSING');
    const wrong = await post('fraud', [P('a')], { token: 'not-the-token-0123456789' });
    expect(wrong.statusCode).toBe(403);
    expect((await post('fraud', [P('a')], { token: 'ingest-token-0123456789' })).statusCode).toBe(200);
    expect((await post('fraud', [P('b')], { token: 'admin-token-0123456789ab' })).statusCode).toBe(200);
    // reads stay open
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).json().predictions).toBe(2);
    // and the token never reaches the log
    expect(t.logs.join('')).not.toContain('ingest-token-0123456789');
  });

  it('admin endpoints take only admin tokens', async () => {
    await t.close();
    t = await testDaemon(withTokens);
    const reload = (token?: string) =>
      t.daemon.app.inject({ method: 'POST', url: '/-/reload', headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await reload()).statusCode).toBe(401);
    expect((await reload('ingest-token-0123456789')).statusCode).toBe(403);
    expect((await reload('admin-token-0123456789ab')).statusCode).toBe(200);
  });
});

describe('unexpected errors', () => {
  it('are logged and answered with a generic 500: no SQL, no stack', async () => {
    await t.close();
    t = await testDaemon(BASE_CONFIG, {
      openStore: (path) => {
        const real = new SqliteStore({ path, now: 0 });
        const broken: Store = Object.assign(Object.create(real) as Store, {
          insertPredictions: async () => {
            throw new Error('SQLITE_CORRUPT: database disk image is malformed (INSERT INTO predictions ...)');
          },
          close: () => real.close(),
        });
        return broken;
      },
    });
    const r = await post('fraud', [P('a')]);
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: { code: 'VIGIL_ERR_INTERNAL', message: 'internal error (see the daemon log)' } });
    expect(r.body).not.toMatch(/SQLITE|INSERT|at /);
    expect(t.logs.join('')).toContain('SQLITE_CORRUPT');
  });

  it('unknown routes get a JSON 404', async () => {
    const r = await t.daemon.app.inject({ url: '/v2/nothing' });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('VIGIL_ERR_HTTP_NOT_FOUND');
  });
});

describe('bad input never 500s', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  const count = async (model = 'fraud'): Promise<number> => (await t.daemon.app.inject({ url: `/v1/models/${model}` })).json().predictions as number;

  it('malformed JSON nested 12,000 deep and an NDJSON line nested 50,000 deep: 400 with line and column, nothing stored', async () => {
    const json = await post('fraud', '', { raw: `[${JSON.stringify(P('a'))},\n${'['.repeat(12_000)}` });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', line: 2, column: 12_001 });
    const nd = await post('fraud', '', { type: 'application/x-ndjson', raw: `${JSON.stringify(P('a'))}\n${'{"a":'.repeat(50_000)}` });
    expect(nd.statusCode).toBe(400);
    expect(nd.json().error).toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', line: 2, column: 250_001 });
    expect(await count()).toBe(0);
  });

  it('valid items nested 12,000 / 50,000 deep are rejected per item, naming the field; the good ones are stored', async () => {
    const json = await post('fraud', '', {
      raw: `[${JSON.stringify(P('ok-1'))}, ${deep(12_000)}, {"id":"f","prediction":1,"features":{"amount":${deep(12_000)}}}, {"id":"s","prediction":1,"score":${deep(12_000)}}, {"id":${deep(12_000)},"prediction":1}, {"id":"t","prediction":1,"ts":${deep(12_000)}}, {"id":"x","prediction":1,"extra":${deep(12_000)}}]`,
    });
    expect(json.statusCode).toBe(207);
    expect(json.json().accepted).toBe(1);
    expect(json.json().rejected.map((r: { index: number; field: string }) => [r.index, r.field])).toEqual([
      [1, ''],
      [2, 'features.amount'],
      [3, 'score'],
      [4, 'id'],
      [5, 'ts'],
      [6, 'extra'],
    ]);
    const nd = await post('fraud', '', { type: 'application/x-ndjson', raw: `${JSON.stringify(P('ok-2'))}\n{"id":"d","prediction":1,"features":{"country":${deep(50_000)}}}\n${JSON.stringify(P('ok-3'))}` });
    expect(nd.statusCode).toBe(207);
    expect(nd.json()).toMatchObject({ accepted: 2, rejected: [{ index: 1, id: 'd', field: 'features.country' }] });
    const labels = await post('fraud', '', { kind: 'labels', raw: `[{"id":"ok-1","label":1},{"id":"ok-2","label":${deep(12_000)}}]` });
    expect(labels.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, id: 'ok-2', field: 'label' }] });
    expect(await count()).toBe(3);
  });

  it('huge and tiny numbers: non-finite values and ids beyond 2^53 are rejected per item; underflow is 0', async () => {
    const r = await post('fraud', '', {
      raw: `[
        {"id":"amount-inf","prediction":1,"features":{"amount":1e400}},
        {"id":"amount-neg-inf","prediction":1,"features":{"amount":-1e400}},
        {"id":"country-inf","prediction":1,"features":{"country":1e400}},
        {"id":"score-inf","prediction":1,"score":1e400},
        {"id":"latency-inf","prediction":1,"latency_ms":1e400},
        {"id":"latency-neg","prediction":1,"latency_ms":-1e400},
        {"id":"ts-inf","prediction":1,"ts":1e400},
        {"id":"ts-huge","prediction":1,"ts":1e20},
        {"id":"prediction-inf","prediction":1e400},
        {"id":12345678901234567890,"prediction":1},
        {"id":1e400,"prediction":1},
        {"id":"tiny","prediction":1,"score":1e-400,"features":{"amount":-1e-400,"country":1e-400}},
        {"id":9007199254740991,"prediction":1}
      ]`,
    });
    expect(r.statusCode).toBe(207);
    const body = r.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([
      { index: 0, id: 'amount-inf', field: 'features.amount', reason: 'must be a finite number or null' },
      { index: 1, id: 'amount-neg-inf', field: 'features.amount', reason: 'must be a finite number or null' },
      { index: 2, id: 'country-inf', field: 'features.country', reason: 'must be a string or a finite number or a boolean or null' },
      { index: 3, id: 'score-inf', field: 'score', reason: 'must be a finite number or null' },
      { index: 4, id: 'latency-inf', field: 'latency_ms', reason: 'must be a finite number' },
      { index: 5, id: 'latency-neg', field: 'latency_ms', reason: 'must be a finite number' },
      { index: 6, id: 'ts-inf', field: 'ts', reason: 'must be a string or a finite number' },
      { index: 7, id: 'ts-huge', field: 'ts', reason: 'is in the future (beyond server.max_future_skew)' },
      { index: 8, id: 'prediction-inf', field: 'prediction', reason: 'must be a string or a finite number or a boolean' },
      { index: 9, field: 'id', reason: 'an integer id above 2^53 - 1 cannot be kept exactly: send it as a string' },
      { index: 10, field: 'id', reason: 'must be a string of 1-256 characters or a non-negative integer' },
    ]);
    const tiny = (await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/tiny' })).json();
    expect(tiny).toMatchObject({ score: 0, features: { amount: 0, country: 0 } });
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/9007199254740991' })).statusCode).toBe(200);
    const eta = await post('eta', '', { raw: '[{"id":"a","prediction":-1e400},{"id":"b","prediction":123456789012345678901234567890}]' });
    expect(eta.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, field: 'prediction', reason: 'must be a finite number' }] });
    const labels = await post('eta', '', { kind: 'labels', raw: '[{"id":"b","label":1e400},{"id":12345678901234567890,"label":1}]' });
    expect(labels.json().rejected.map((x: { field: string }) => x.field)).toEqual(['label', 'id']);
  });

  it('impossible calendar dates and times are rejected naming ts, for predictions and labels alike', async () => {
    const bad = ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-10-01T24:61:00Z', '2026-10-31T23:59:60Z', '2026-10-01T10:00:00+25:00'];
    const r = await post('fraud', [...bad.map((ts, i) => P(`bad-${i}`, { ts })), P('good', { ts: '2026-10-31T23:59:59.999+01:00' })]);
    expect(r.statusCode).toBe(207);
    expect(r.json().accepted).toBe(1);
    expect(r.json().rejected).toEqual([
      { index: 0, id: 'bad-0', field: 'ts', reason: '"2026-02-30T00:00:00Z" has no day 30 in 2026-02' },
      { index: 1, id: 'bad-1', field: 'ts', reason: '"2026-13-01T00:00:00Z" has no month 13' },
      { index: 2, id: 'bad-2', field: 'ts', reason: '"2026-10-01T24:61:00Z" has no hour 24' },
      { index: 3, id: 'bad-3', field: 'ts', reason: '"2026-10-31T23:59:60Z" has no second 60 (leap seconds are not supported)' },
      { index: 4, id: 'bad-4', field: 'ts', reason: '"2026-10-01T10:00:00+25:00" has no UTC offset +25:00' },
    ]);
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud/predictions/good' })).json().ts).toBe('2026-10-31T22:59:59.999Z');
    const labels = await post('fraud', [{ id: 'good', label: 1, ts: '2026-02-29T10:00:00Z' }, { id: 'good', label: 1, ts: '2026-10-31T12:00:00Z' }], { kind: 'labels' });
    expect(labels.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, field: 'ts', reason: '"2026-02-29T10:00:00Z" has no day 29 in 2026-02' }] });
  });

  it('content types: a non-UTF-8 charset is 415; the NDJSON aliases are NDJSON', async () => {
    const latin = await post('fraud', [P('a')], { type: 'application/json; charset=iso-8859-1' });
    expect(latin.statusCode).toBe(415);
    expect(latin.json().error.code).toBe('VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    expect((await post('fraud', [P('a')], { type: 'application/json; charset=utf-8' })).statusCode).toBe(200);
    expect((await post('fraud', ndjson([P('b'), P('c')]), { type: 'application/jsonl' })).json().accepted).toBe(2);
  });
});

describe('compressed bodies', () => {
  const send = (payload: Buffer, encoding: string, type = 'application/json', url = '/v1/models/fraud/predictions') =>
    t.daemon.app.inject({ method: 'POST', url, headers: { 'content-type': type, 'content-encoding': encoding }, payload });
  const items = (prefix: string) => Array.from({ length: 50 }, (_, i) => P(`${prefix}-${i}`));

  it('takes gzip, deflate, br and identity, on predictions and labels', async () => {
    expect((await send(gzipSync(JSON.stringify(items('gz'))), 'gzip')).json().accepted).toBe(50);
    expect((await send(deflateSync(ndjson(items('df'))), 'deflate', 'application/x-ndjson')).json().accepted).toBe(50);
    expect((await send(brotliCompressSync(JSON.stringify(items('br'))), 'br')).json().accepted).toBe(50);
    expect((await send(Buffer.from(JSON.stringify(items('id'))), 'identity')).json().accepted).toBe(50);
    const labels = await send(gzipSync(JSON.stringify([{ id: 'gz-1', label: 1 }])), 'GZIP', 'application/json', '/v1/models/fraud/labels');
    expect(labels.json()).toEqual({ accepted: 1, duplicates: [], rejected: [] });
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).json().predictions).toBe(200);
  });

  it('corrupt data is a 400, an unknown encoding a 415; nothing is stored', async () => {
    const corrupt = await send(Buffer.from('this is not gzip'), 'gzip');
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json().error.code).toBe('VIGIL_ERR_HTTP_BAD_ENCODING');
    const truncated = gzipSync(JSON.stringify(items('tr')));
    expect((await send(truncated.subarray(0, truncated.length - 20), 'gzip')).statusCode).toBe(400);
    const unknown = await send(Buffer.from(JSON.stringify(items('x'))), 'compress');
    expect(unknown.statusCode).toBe(415);
    expect(unknown.json().error).toMatchObject({ code: 'VIGIL_ERR_HTTP_UNSUPPORTED_ENCODING', message: expect.stringContaining('compress') });
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).json().predictions).toBe(0);
  });

  it('server.max_body_bytes applies to the decoded body: a zip bomb is a 413', async () => {
    await t.close();
    t = await testDaemon(`server:\n  max_body_bytes: 65536\n${BASE_CONFIG}`);
    // 16 MiB of JSON whitespace around an empty array: valid JSON, ~16 KiB compressed
    const bomb = gzipSync(Buffer.concat([Buffer.from('['), Buffer.alloc(16 << 20, ' '), Buffer.from(']')]));
    expect(bomb.length).toBeLessThan(65536);
    for (const [payload, enc] of [
      [bomb, 'gzip'],
      [brotliCompressSync(Buffer.alloc(16 << 20, ' ')), 'br'],
      [deflateSync(Buffer.alloc(16 << 20, ' ')), 'deflate'],
    ] as const) {
      const r = await send(payload, enc);
      expect(r.statusCode, enc).toBe(413);
      expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_HTTP_BODY_TOO_LARGE', message: expect.stringContaining('after decompression') });
    }
    // under the limit once decoded: fine
    expect((await send(gzipSync(JSON.stringify(items('ok').slice(0, 20))), 'gzip')).json().accepted).toBe(20);
    expect((await t.daemon.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('__proto__, constructor and toString are ordinary names, from the request to the store, the window and the monitors', () => {
  const ODD = `
models:
  - name: odd
    task: multiclass
    classes: [__proto__, constructor, toString]
    windows: [1h]
    min_samples: 1
    features:
      - { name: __proto__, type: numeric }
      - { name: constructor, type: categorical }
      - { name: toString, type: categorical }
  - name: open
    task: binary
    positive_class: 1
    allow_unknown_features: true
    windows: [1h]
    features:
      - { name: amount, type: numeric }
`;
  const item = (id: string, features: string, prediction: string, score: string) =>
    `{"id":"${id}","ts":"2026-11-01T11:30:00Z","features":${features},"prediction":"${prediction}","score":${score}}`;

  it('as feature names, classes, score keys and labels: stored, read back, windowed and measured', async () => {
    await t.close();
    t = await testDaemon(ODD);
    const r = await post('odd', '', {
      raw: `[${[
        item('a', '{"__proto__":1.5,"constructor":"c1","toString":"t1"}', '__proto__', '{"__proto__":0.6,"constructor":0.3,"toString":0.1}'),
        item('b', '{}', 'constructor', '{"toString":1}'),
        item('bad-feature', '{"__proto__":"not a number"}', 'toString', 'null'),
        item('bad-class', '{}', 'hasOwnProperty', 'null'),
        item('bad-score', '{}', 'toString', '{"valueOf":1}'),
      ].join(',')}]`,
    });
    expect(r.statusCode).toBe(207);
    expect(r.json()).toMatchObject({ accepted: 2 });
    expect(r.json().rejected.map((x: { id: string; field: string }) => `${x.id}:${x.field}`)).toEqual(['bad-feature:features.__proto__', 'bad-class:prediction', 'bad-score:score.valueOf']);

    // the store round trip keeps them as own keys
    const a = (await t.daemon.app.inject({ url: '/v1/models/odd/predictions/a' })).json();
    expect(Object.entries(a.features)).toEqual([
      ['__proto__', 1.5],
      ['constructor', 'c1'],
      ['toString', 't1'],
    ]);
    expect(Object.entries(a.score)).toEqual([
      ['__proto__', 0.6],
      ['constructor', 0.3],
      ['toString', 0.1],
    ]);
    expect(a.prediction).toBe('__proto__');
    expect(Object.entries((await t.daemon.app.inject({ url: '/v1/models/odd/predictions/b' })).json().features)).toEqual([]);

    const labels = await post('odd', [{ id: 'a', label: '__proto__' }, { id: 'b', label: 'toString' }], { kind: 'labels' });
    expect(labels.json()).toEqual({ accepted: 2, duplicates: [], rejected: [] });

    // the window and the monitors: "b" has no features at all, so each is half complete (a feature
    // named constructor must not be found on Object.prototype), and one prediction of two is right
    await t.daemon.cycle.run();
    const metrics = (await t.daemon.app.inject({ url: '/metrics' })).body;
    for (const f of ['__proto__', 'constructor', 'toString']) {
      expect(metrics, f).toContain(`ml_feature_completeness_ratio{model="odd",feature="${f}",window="1h"} 0.5`);
    }
    expect(metrics).toMatch(/ml_model_accuracy\{model="odd",version="unknown",window="1h"\} 0\.5\n/);

    // a baseline frozen from that traffic names the three features
    const baseline = await t.daemon.app.inject({ method: 'POST', url: '/v1/models/odd/baselines?version=v1', payload: { from_window: '1h', version: 'v1' } });
    expect(baseline.statusCode).toBe(201);
    expect([...baseline.json().features].sort()).toEqual(['__proto__', 'constructor', 'toString']);
    const rows = await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/odd/baselines?version=v2',
      headers: { 'content-type': 'application/json' },
      payload: '[{"features":{"__proto__":2,"constructor":"c1","toString":"t2"}},{"features":{"__proto__":3}}]',
    });
    expect(rows.statusCode).toBe(201);
    expect([...rows.json().features].sort()).toEqual(['__proto__', 'constructor', 'toString']);
  });

  it('as unknown feature names (allow_unknown_features): stored like any other', async () => {
    await t.close();
    t = await testDaemon(ODD);
    const r = await post('open', '', { raw: '[{"id":"u","prediction":1,"features":{"amount":1,"__proto__":"x","constructor":2,"toString":true}}]' });
    expect(r.json()).toEqual({ accepted: 1, duplicates: [], rejected: [] });
    const u = (await t.daemon.app.inject({ url: '/v1/models/open/predictions/u' })).json();
    expect(Object.entries(u.features)).toEqual([
      ['amount', 1],
      ['__proto__', 'x'],
      ['constructor', 2],
      ['toString', 'true'],
    ]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('rejected the same way as any unknown name where names are checked', async () => {
    const r = await post('fraud', '', { raw: '[{"id":"p","prediction":1,"features":{"__proto__":1}},{"id":"q","prediction":1,"__proto__":{"id":"r"}},{"id":"s","prediction":1,"constructor":1}]' });
    expect(r.statusCode).toBe(422);
    expect(r.json().rejected).toEqual([
      { index: 0, id: 'p', field: 'features.__proto__', reason: 'unknown feature "__proto__" (not in the model\'s configuration)' },
      { index: 1, id: 'q', field: '__proto__', reason: 'unknown field "__proto__"' },
      { index: 2, id: 's', field: 'constructor', reason: 'unknown field "constructor"' },
    ]);
  });
});

describe('a store that does not answer (its database restarting)', () => {
  it('answers 503 with Retry-After, not 500; the same batch is stored once the store answers again', async () => {
    const { failingStore } = await import('../../../test/failing-store.js');
    const { VigilError } = await import('../../core/errors.js');
    let down = true;
    // as the PostgreSQL store rejects while its server is away (src/store/postgres/pg-errors.ts)
    const unavailable = () => new VigilError('VIGIL_ERR_STORE_UNAVAILABLE', 'the PostgreSQL store is unavailable: connection refused', { statusCode: 503, details: { retryAfterSeconds: 1 } });
    const u = await testDaemon(BASE_CONFIG, { openStore: (path) => failingStore(new SqliteStore({ path, now: Date.now() }), 'insertPredictions', unavailable, () => down) });
    try {
      const send = () => u.daemon.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify([P('r1')]) });
      const r = await send();
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE', retryAfterSeconds: 1 });
      down = false;
      const again = await send();
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ accepted: 1 });
    } finally {
      await u.close();
    }
  });
});
