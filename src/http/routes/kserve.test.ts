import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../test/harness.js';
import { parseConfigText } from '../../config/load.js';
import type { VigilConfig } from '../../config/schema.js';
import { createLogger } from '../../core/logger.js';
import { Ingestor } from '../../ingest/ingestor.js';
import { KserveJoin } from '../../ingest/kserve-join.js';
import { createMetrics, MetricsRegistry } from '../../metrics/registry.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { authenticate } from '../auth.js';
import { installBodyHandling } from '../body.js';
import { errorAnswer } from '../errors.js';
import type { ServerDeps } from '../server.js';
import { kserveRoutes } from './kserve.js';

/*
 * Bodies and headers in KServe's documented shapes (github.com/kserve/kserve):
 * - pkg/logger/worker.go: binary content mode; ce-specversion 1.0, ce-id, ce-type
 *   org.kubeflow.serving.inference.request|response, ce-source, ce-time, and the extensions
 *   ce-inferenceservicename, ce-namespace, ce-component, ce-endpoint, ce-metadata, ce-recordedtime;
 *   Content-Type: the inference request's own.
 * - docs/samples/logger/basic/README.md: the sklearn-iris sample (id, source, times, bodies below).
 * CloudEvents HTTP protocol binding 1.0 (cloudevents/spec, cloudevents/bindings/http-protocol-binding.md
 * §3.1 binary, §3.2 structured application/cloudevents+json, §3.3 batched application/cloudevents-batch+json).
 *
 * The plugin is not registered in src/http/server.ts yet, so it is tested on a Fastify instance
 * set up as buildServer sets up its own (body handling, token hook, error handler), with a real
 * Ingestor over an in-memory SQLite store.
 */

const T0 = Date.parse('2021-04-10T00:23:30Z');
const ID = '0009174a-24a8-4603-b098-09c8799950e9';
const INGEST = 'ingest-token-0123456789';
const READ = 'read-token-0123456789ab';

const CONFIG = `
models:
  - name: iris
    task: multiclass
    features:
      - { name: sepal_length, type: numeric }
      - { name: sepal_width, type: numeric }
      - { name: petal_length, type: numeric }
      - { name: petal_width, type: numeric }
    kserve:
      inference_service: sklearn-iris
  - name: fraud
    task: binary
    features:
      - { name: amount, type: numeric }
    kserve: { prediction: label, score: proba }
`;

interface Env {
  app: FastifyInstance;
  store: SqliteStore;
  clock: ManualClock;
  registry: MetricsRegistry;
}

async function build(extra = ''): Promise<Env> {
  const config: VigilConfig = parseConfigText(`${extra}${CONFIG}`, 'vigil.yaml', {});
  const clock = new ManualClock(T0);
  const logger = createLogger({ level: 'silent' });
  const registry = new MetricsRegistry();
  const metrics = createMetrics(registry, { version: 'test' });
  const store = new SqliteStore({ path: ':memory:', now: T0 });
  const ingestor = new Ingestor({ store, metrics, logger, clock, config: () => config });
  const deps = { logger, config: () => config, store, registry, ingestor, clock, bodyLimit: 1 << 20 } as unknown as ServerDeps;
  // as buildServer does (src/http/server.ts)
  const app = Fastify({ bodyLimit: 1 << 20 }) as unknown as FastifyInstance;
  app.addHook('onRequest', authenticate(() => config.server.tokens));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, body } = errorAnswer(err, req);
    return reply.status(status).send(body);
  });
  installBodyHandling(app, 1 << 20);
  await app.register(kserveRoutes, { deps, join: new KserveJoin(), sweepIntervalMs: 0 });
  await app.ready();
  return { app, store, clock, registry };
}

/** KServe's binary-mode headers (pkg/logger/worker.go), for the sklearn-iris sample. */
const binaryHeaders = (type: 'request' | 'response', over: Record<string, string> = {}): Record<string, string> => ({
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': ID,
  'ce-type': `org.kubeflow.serving.inference.${type}`,
  'ce-source': 'http://localhost:9081/',
  'ce-time': type === 'request' ? '2021-04-10T00:23:26.0789529Z' : '2021-04-10T00:23:26.080736102Z',
  'ce-inferenceservicename': 'sklearn-iris',
  'ce-namespace': 'default',
  'ce-component': 'predictor',
  'ce-endpoint': '',
  'ce-metadata': '{}',
  'ce-recordedtime': '2021-04-10T00:23:26.1Z',
  'ce-traceparent': '00-90bdf848647d50283394155d2df58f19-84dacdfdf07cadfc-00',
  ...over,
});
const V1_REQUEST = '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}';
const V1_RESPONSE = '{"predictions": [1, 1]}';

const structured = (type: 'request' | 'response', data: unknown, over: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: ID,
  type: `org.kubeflow.serving.inference.${type}`,
  source: 'http://localhost:9081/',
  time: '2021-04-10T00:23:26Z',
  datacontenttype: 'application/json',
  inferenceservicename: 'sklearn-iris',
  endpoint: 'default',
  data,
  ...over,
});

let env: Env;
beforeEach(async () => {
  env = await build();
});
afterEach(async () => {
  await env.app.close();
  await env.store.close();
});

const post = (headers: Record<string, string>, payload: string, url = '/v1/kserve/events') => env.app.inject({ method: 'POST', url, headers, payload });
const unmatched = async (): Promise<string[]> =>
  (await env.registry.text.metrics()).split('\n').filter((l) => l.startsWith('vigil_kserve_unmatched_total{'));

describe('POST /v1/kserve/events, binary mode (what KServe sends)', () => {
  it("KServe's V1 sample: the request is held, the response joins it into 2 stored predictions", async () => {
    const a = await post(binaryHeaders('request'), V1_REQUEST);
    expect(a.statusCode).toBe(202);
    expect(a.json()).toEqual({ accepted_events: 1, joined_predictions: 0, stored: 0, duplicates: [], pending: 1, rejected: [] });
    const b = await post(binaryHeaders('response'), V1_RESPONSE);
    expect(b.statusCode).toBe(202);
    expect(b.json()).toEqual({ accepted_events: 1, joined_predictions: 2, stored: 2, duplicates: [], pending: 0, rejected: [] });
    const p0 = await env.store.getPrediction('iris', `${ID}/0`);
    expect(p0).toMatchObject({ prediction: '1', features: { sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 } });
    expect(p0?.ts).toBe(Date.parse('2021-04-10T00:23:26.078Z'));
    expect(await env.store.getPrediction('iris', `${ID}/1`)).toMatchObject({ features: { sepal_length: 6.0, petal_width: 1.6 } });
    // re-sent: the join makes the same ids, which the store already has
    await post(binaryHeaders('response'), V1_RESPONSE);
    const again = await post(binaryHeaders('request'), V1_REQUEST);
    expect(again.json()).toMatchObject({ joined_predictions: 2, stored: 0, duplicates: [`${ID}/0`, `${ID}/1`] });
  });

  it('takes the body whatever Content-Type KServe forwards (the inference request\'s own); header values percent-decoded', async () => {
    await post(binaryHeaders('response', { 'content-type': 'application/x-www-form-urlencoded', 'ce-id': 'a%20b' }), V1_RESPONSE);
    const r = await post(binaryHeaders('request', { 'content-type': 'text/plain', 'ce-id': '"a b"' }), V1_REQUEST);
    expect(r.json()).toMatchObject({ joined_predictions: 2, stored: 2 });
    expect(await env.store.getPrediction('iris', 'a b/0')).toBeDefined();
  });

  it('missing ce-id → 400 naming it; other bad attributes and bodies → 400 naming them', async () => {
    const { 'ce-id': _, ...noId } = binaryHeaders('request');
    const r = await post(noId, V1_REQUEST);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'VIGIL_ERR_KSERVE_BAD_EVENT', message: 'ce-id is missing' } });
    const cases: [Record<string, string>, string, string][] = [
      [binaryHeaders('request', { 'ce-type': 'com.example.other' }), V1_REQUEST, 'ce-type "com.example.other" is not a KServe inference event'],
      [binaryHeaders('request', { 'ce-specversion': '0.3' }), V1_REQUEST, 'ce-specversion "0.3" is not supported'],
      [binaryHeaders('request', { 'ce-time': 'yesterday' }), V1_REQUEST, 'ce-time "yesterday" is not an RFC 3339 time'],
      [binaryHeaders('request', { 'ce-inferenceservicename': '' }), V1_REQUEST, 'ce-inferenceservicename is missing'],
      [binaryHeaders('request'), '{"instances": [1,', 'the body (the event data) is not JSON (line 1, column 18)'],
      [binaryHeaders('request'), '{"foo": 1}', 'the body: the request data has neither "instances" (V1) nor "inputs" (V2)'],
    ];
    for (const [headers, body, message] of cases) {
      const res = await post(headers, body);
      expect(res.statusCode, message).toBe(400);
      expect(res.json().error.code).toBe('VIGIL_ERR_KSERVE_BAD_EVENT');
      expect(res.json().error.message).toContain(message);
    }
  });

  it('an unknown InferenceService → 404 naming it; /v1/kserve/events/:model forces the model; an unknown :model → 404', async () => {
    const r = await post(binaryHeaders('request', { 'ce-inferenceservicename': 'xgb-churn', 'ce-endpoint': 'canary' }), V1_REQUEST);
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toMatchObject({ code: 'VIGIL_ERR_KSERVE_UNKNOWN_SERVICE', inference_service: 'xgb-churn', endpoint: 'canary' });
    expect(r.json().error.message).toContain('InferenceService "xgb-churn" endpoint "canary"');
    const h = (t: 'request' | 'response') => binaryHeaders(t, { 'ce-inferenceservicename': 'xgb-churn' });
    await post(h('request'), V1_REQUEST, '/v1/kserve/events/iris');
    expect((await post(h('response'), V1_RESPONSE, '/v1/kserve/events/iris')).json()).toMatchObject({ stored: 2 });
    const unknown = await post(h('request'), V1_REQUEST, '/v1/kserve/events/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('VIGIL_ERR_MODEL_UNKNOWN');
  });

  it('predictions the validation rejects are listed with their id, field and reason', async () => {
    await post(binaryHeaders('request'), '{"instances": [[6.8, 2.8, 4.8, 1.4], ["x", 3.4, 4.5, 1.6]]}');
    const r = await post(binaryHeaders('response'), V1_RESPONSE);
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ joined_predictions: 2, stored: 1 });
    expect(r.json().rejected).toEqual([
      { event: 0, prediction_id: `${ID}/1`, field: 'features.sepal_length', code: 'VIGIL_ERR_KSERVE_PREDICTION_REJECTED', reason: 'must be a finite number or null' },
    ]);
  });

  it('an unmatched half expires after kserve.join_timeout and is counted in vigil_kserve_unmatched_total{model, half}', async () => {
    await post(binaryHeaders('request', { 'ce-id': 'lonely' }), V1_REQUEST);
    env.clock.advance(30_000);
    const r = await post(binaryHeaders('response', { 'ce-id': 'late' }), V1_RESPONSE);
    expect(r.json().pending).toBe(1); // the request expired on this request's sweep; the response waits
    expect(await unmatched()).toEqual(['vigil_kserve_unmatched_total{model="iris",half="request"} 1']);
  });
});

describe('POST /v1/kserve/events, structured and batched modes', () => {
  it('structured (application/cloudevents+json): data inline or data_base64', async () => {
    const req = structured('request', JSON.parse(V1_REQUEST));
    const r1 = await post({ 'content-type': 'application/cloudevents+json; charset=utf-8' }, JSON.stringify(req));
    expect(r1.statusCode).toBe(202);
    const res = structured('response', undefined, { data: undefined, data_base64: Buffer.from(V1_RESPONSE).toString('base64') });
    const r2 = await post({ 'content-type': 'application/cloudevents+json' }, JSON.stringify(res));
    expect(r2.json()).toMatchObject({ accepted_events: 1, joined_predictions: 2, stored: 2, pending: 0 });
    // model_version from the endpoint (version_from: auto, V1 responses carry none)
    expect(await env.store.getPrediction('iris', `${ID}/0`)).toMatchObject({ version: 'default' });
    const bad = await post({ 'content-type': 'application/cloudevents+json' }, JSON.stringify({ ...req, id: undefined }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toEqual({ code: 'VIGIL_ERR_KSERVE_BAD_EVENT', message: 'id is missing' });
    const avro = await post({ 'content-type': 'application/cloudevents+avro' }, 'x');
    expect(avro.statusCode).toBe(415);
  });

  it('batch (application/cloudevents-batch+json): V2 pairs joined inside one batch; a bad event beside good ones is listed, the good ones kept', async () => {
    const v2req = { inputs: [{ name: 'amount', shape: [2], datatype: 'FP32', data: [10, 20] }] };
    const v2res = { model_name: 'fraud', model_version: 'v3', outputs: [{ name: 'label', shape: [2], datatype: 'INT64', data: [1, 0] }, { name: 'proba', shape: [2, 2], datatype: 'FP32', data: [[0.2, 0.8], [0.9, 0.1]] }] };
    const batch = [
      structured('request', v2req, { id: 'b1', inferenceservicename: 'fraud', endpoint: '' }),
      structured('response', v2res, { id: 'b1', inferenceservicename: 'fraud', endpoint: '' }),
      structured('request', v2req, { id: undefined, inferenceservicename: 'fraud' }),
      structured('request', v2req, { id: 'b3', inferenceservicename: 'unknown-svc' }),
      structured('request', JSON.parse(V1_REQUEST), { id: 'b4' }),
    ];
    const r = await post({ 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify(batch));
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ accepted_events: 3, joined_predictions: 2, stored: 2, pending: 1 });
    expect(r.json().rejected).toEqual([
      { event: 2, code: 'VIGIL_ERR_KSERVE_BAD_EVENT', reason: 'id is missing' },
      { event: 3, id: 'b3', code: 'VIGIL_ERR_KSERVE_UNKNOWN_SERVICE', reason: expect.stringContaining('InferenceService "unknown-svc"') },
    ]);
    expect(await env.store.getPrediction('fraud', 'b1/0')).toMatchObject({ prediction: '1', score: 0.8, version: 'v3', features: { amount: 10 } });
    expect(await env.store.getPrediction('fraud', 'b1/1')).toMatchObject({ prediction: '0', score: 0.1 });
    // a batch none of whose events is taken: 400, with every rejection
    const none = await post({ 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify([{ specversion: '1.0' }]));
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({ code: 'VIGIL_ERR_KSERVE_BAD_EVENT', rejected: [{ event: 0, reason: 'id is missing' }] });
    const notArray = await post({ 'content-type': 'application/cloudevents-batch+json' }, '{}');
    expect(notArray.statusCode).toBe(400);
  });
});

describe('auth: the ingest role, as the other ingestion endpoints', () => {
  it('no token → 401, a read token → 403, the ingest token → 202', async () => {
    await env.app.close();
    await env.store.close();
    env = await build(`server:\n  tokens:\n    read: ["${READ}"]\n    ingest: ["${INGEST}"]\n`);
    expect((await post(binaryHeaders('request'), V1_REQUEST)).statusCode).toBe(401);
    expect((await post({ ...binaryHeaders('request'), authorization: `Bearer ${READ}` }, V1_REQUEST)).statusCode).toBe(403);
    expect((await post({ ...binaryHeaders('request'), authorization: `Bearer ${INGEST}` }, V1_REQUEST)).statusCode).toBe(202);
  });
});
