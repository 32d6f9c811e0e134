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
    const nan = await post('fraud', '', { raw: '[{"id":"a","features":{"amount":NaN},"prediction":1}]' });
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
