import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig } from '../config/schema.js';
import { CE_REQUEST_TYPE, CE_RESPONSE_TYPE, KserveJoin, modelForService, pairItems, type JoinedPair, type KserveHalf } from './kserve-join.js';

/*
 * Shapes from KServe's own source and docs (github.com/kserve/kserve):
 * - pkg/logger/handler.go: the request and response events share the id (the inference request's
 *   Ce-Id header or a new UUID); the request's time is its arrival, the response's when it was read.
 * - docs/samples/logger/basic/README.md: V1 `{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}`
 *   → `{"predictions": [1, 1]}`, event id 0009174a-24a8-4603-b098-09c8799950e9.
 * - docs/samples/v1beta1/sklearn/v2/README.md: V2 input `{"name": "input-0", "shape": [2, 4],
 *   "datatype": "FP32", "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}` → output
 *   `{"name": "predict", "shape": [2], "datatype": "FP32", "data": [1, 2]}`, with `model_name`, `model_version`.
 * - docs/predict-api/v2/required_api.md "Tensor Data": row-major, nested or flattened.
 */

const T0 = Date.UTC(2026, 10, 1, 12);
const LIMITS = { joinTimeoutMs: 30_000, maxPending: 100 };
const ID = '0009174a-24a8-4603-b098-09c8799950e9';

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
  - name: iris-canary
    task: multiclass
    features:
      - { name: sepal_length, type: numeric }
    kserve: { inference_service: sklearn-iris, endpoint: canary }
  - name: fraud
    task: binary
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
      - { name: age, type: numeric }
    kserve:
      features: [amount, country]
      prediction: label
      score: probabilities
  - name: fraud-v1
    task: binary
    features:
      - { name: amount, type: numeric }
      - { name: age, type: numeric }
    kserve:
      prediction: 0
      score: 2
  - name: eta
    task: regression
    features:
      - { name: km, type: numeric }
`;
const cfg = parseConfigText(CONFIG, 'kserve.yaml', {});
const model = (name: string): ModelConfig => cfg.models.find((m) => m.name === name) as ModelConfig;

const half = (kind: 'request' | 'response', data: unknown, over: Partial<KserveHalf> = {}): KserveHalf => ({
  half: kind,
  model: 'iris',
  id: ID,
  component: 'predictor',
  endpoint: 'default',
  time: null,
  data,
  ...over,
});
const V1_REQ = { instances: [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] };
const V1_RES = { predictions: [1, 1] };

const pair = (req: unknown, res: unknown, over: Partial<KserveHalf> = {}): JoinedPair => ({
  model: over.model ?? 'iris',
  id: over.id ?? ID,
  request: half('request', req, over),
  response: half('response', res, over),
});

describe('KserveJoin: request and response halves joined by (model, component, id)', () => {
  it('request first, then response: one pair, nothing left pending', () => {
    const j = new KserveJoin();
    const first = j.offer(half('request', V1_REQ), T0, LIMITS);
    expect(first).toEqual({ pair: null, unmatched: [] });
    expect(j.size).toBe(1);
    const second = j.offer(half('response', V1_RES), T0 + 5, LIMITS);
    expect(second.pair?.request.data).toBe(V1_REQ);
    expect(second.pair?.response.data).toBe(V1_RES);
    expect(second.pair).toMatchObject({ model: 'iris', id: ID });
    expect(j.size).toBe(0);
  });

  it('response first, then request: the same pair (request and response in their places)', () => {
    const j = new KserveJoin();
    expect(j.offer(half('response', V1_RES), T0, LIMITS).pair).toBeNull();
    const { pair: p } = j.offer(half('request', V1_REQ), T0 + 1, LIMITS);
    expect(p?.request.half).toBe('request');
    expect(p?.response.half).toBe('response');
    expect(p?.request.data).toBe(V1_REQ);
    expect(j.size).toBe(0);
  });

  it('halves of other ids, models or components do not pair; a re-delivered half replaces the first', () => {
    const j = new KserveJoin();
    j.offer(half('request', V1_REQ), T0, LIMITS);
    expect(j.offer(half('response', V1_RES, { id: 'other' }), T0, LIMITS).pair).toBeNull();
    expect(j.offer(half('response', V1_RES, { model: 'fraud' }), T0, LIMITS).pair).toBeNull();
    expect(j.offer(half('response', V1_RES, { component: 'transformer' }), T0, LIMITS).pair).toBeNull();
    expect(j.size).toBe(4);
    const again = { instances: [[1, 2, 3, 4]] };
    expect(j.offer(half('request', again), T0 + 1, LIMITS)).toEqual({ pair: null, unmatched: [] });
    expect(j.size).toBe(4);
    expect(j.offer(half('response', V1_RES), T0 + 2, LIMITS).pair?.request.data).toBe(again);
  });

  it('a half unmatched after join_timeout expires, and is reported with its model and half', () => {
    const j = new KserveJoin();
    j.offer(half('request', V1_REQ), T0, LIMITS);
    j.offer(half('response', V1_RES, { id: 'b', model: 'fraud' }), T0 + 10_000, LIMITS);
    expect(j.expire(T0 + 29_999, LIMITS)).toEqual([]);
    expect(j.expire(T0 + 30_000, LIMITS)).toEqual([{ model: 'iris', half: 'request', id: ID, reason: 'expired' }]);
    expect(j.size).toBe(1);
    // a response arriving after its request expired waits on its own
    expect(j.offer(half('response', V1_RES), T0 + 30_001, LIMITS).pair).toBeNull();
    expect(j.expire(T0 + 40_000, LIMITS)).toEqual([{ model: 'fraud', half: 'response', id: 'b', reason: 'expired' }]);
    expect(j.expire(T0 + 60_001, LIMITS)).toEqual([{ model: 'iris', half: 'response', id: ID, reason: 'expired' }]);
    expect(j.size).toBe(0);
  });

  it('holds at most max_pending halves: the oldest is dropped and reported', () => {
    const j = new KserveJoin();
    const limits = { joinTimeoutMs: 30_000, maxPending: 3 };
    for (let i = 0; i < 3; i++) expect(j.offer(half('request', V1_REQ, { id: `r${i}` }), T0 + i, limits).unmatched).toEqual([]);
    expect(j.offer(half('response', V1_RES, { id: 'r9' }), T0 + 3, limits).unmatched).toEqual([{ model: 'iris', half: 'request', id: 'r0', reason: 'evicted' }]);
    expect(j.size).toBe(3);
    // a lower limit after a reload trims to it at the next offer
    const after = j.offer(half('request', V1_REQ, { id: 'x' }), T0 + 4, { joinTimeoutMs: 30_000, maxPending: 1 });
    expect(after.unmatched.map((u) => u.id)).toEqual(['r1', 'r2', 'r9']);
    expect(j.size).toBe(1);
    // r1 was dropped: its response now waits alone
    expect(j.offer(half('response', V1_RES, { id: 'r1' }), T0 + 5, limits).pair).toBeNull();
  });

  it('holds at most max_pending_bytes of bodies: the oldest go first, a lone half stays whatever its size', () => {
    const j = new KserveJoin();
    const size = JSON.stringify(V1_REQ).length;
    const limits = { joinTimeoutMs: 30_000, maxPending: 100, maxPendingBytes: 2 * size };
    expect(j.offer(half('request', V1_REQ, { id: 'a' }), T0, limits).unmatched).toEqual([]);
    expect(j.offer(half('request', V1_REQ, { id: 'b' }), T0 + 1, limits).unmatched).toEqual([]);
    expect(j.bytes).toBe(2 * size);
    expect(j.offer(half('request', V1_REQ, { id: 'c' }), T0 + 2, limits).unmatched).toEqual([{ model: 'iris', half: 'request', id: 'a', reason: 'evicted' }]);
    expect(j.bytes).toBe(2 * size);
    // joined and expired halves give their bytes back
    expect(j.offer(half('response', V1_RES, { id: 'b' }), T0 + 3, limits).pair).not.toBeNull();
    expect(j.bytes).toBe(size);
    expect(j.expire(T0 + 40_000, limits).map((u) => u.id)).toEqual(['c']);
    expect(j.bytes).toBe(0);
    // a body larger than the bound alone is held (and joined when its other half comes)
    const big = { instances: Array.from({ length: 100 }, () => [1, 2, 3, 4]) };
    expect(j.offer(half('request', big, { id: 'big' }), T0 + 50_000, limits).unmatched).toEqual([]);
    expect(j.offer(half('response', { predictions: Array.from({ length: 100 }, () => 1) }, { id: 'big' }), T0 + 50_001, limits).pair).not.toBeNull();
  });
});

describe('modelForService: the model of an InferenceService and endpoint', () => {
  it('the endpoint-specific model wins; any other endpoint goes to the one without endpoint; a model named like the service', () => {
    expect(modelForService(cfg.models, 'sklearn-iris', 'canary')?.name).toBe('iris-canary');
    expect(modelForService(cfg.models, 'sklearn-iris', 'default')?.name).toBe('iris');
    expect(modelForService(cfg.models, 'sklearn-iris', '')?.name).toBe('iris');
    expect(modelForService(cfg.models, 'fraud', '')?.name).toBe('fraud');
    expect(modelForService(cfg.models, 'eta', 'default')?.name).toBe('eta');
    expect(modelForService(cfg.models, 'iris', '')).toBeUndefined(); // iris maps sklearn-iris, not its own name
    expect(modelForService(cfg.models, 'nope', '')).toBeUndefined();
  });
});

describe('pairItems: a pair → one prediction item per row', () => {
  it("KServe's V1 sample: positional rows named by models[].features, ids <ce id>/<i>, class predictions", () => {
    const out = pairItems(model('iris'), pair(V1_REQ, V1_RES));
    expect(out).toEqual({
      items: [
        { id: `${ID}/0`, features: { sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 }, prediction: 1, model_version: 'default' },
        { id: `${ID}/1`, features: { sepal_length: 6.0, sepal_width: 3.4, petal_length: 4.5, petal_width: 1.6 }, prediction: 1, model_version: 'default' },
      ],
    });
  });

  it('a single row keeps the CloudEvent id; ts is the request event time, latency_ms the two times apart', () => {
    const req = half('request', { instances: [[6.8, 2.8, 4.8, 1.4]] }, { time: T0, endpoint: '' });
    const res = half('response', { predictions: [2] }, { time: T0 + 42, endpoint: '' });
    const out = pairItems(model('iris'), { model: 'iris', id: ID, request: req, response: res });
    expect(out).toEqual({ items: [{ id: ID, ts: T0, latency_ms: 42, features: { sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 }, prediction: 2 }] });
  });

  it('V1 object rows are taken as they are; V1 object predictions by key (prediction / score from kserve config)', () => {
    const out = pairItems(
      model('fraud'),
      pair({ instances: [{ amount: 10, country: 'PL' }, { amount: 3, country: 'DE', age: 40 }] }, { predictions: [{ label: 1, probabilities: 0.9 }, { label: 0, probabilities: 0.2 }] }, { model: 'fraud', endpoint: '' }),
    );
    expect(out).toEqual({
      items: [
        { id: `${ID}/0`, features: { amount: 10, country: 'PL' }, prediction: 1, score: 0.9 },
        { id: `${ID}/1`, features: { amount: 3, country: 'DE', age: 40 }, prediction: 0, score: 0.2 },
      ],
    });
  });

  it('V1 positional rows with kserve.features (a subset, in column order); V1 vector predictions by column index', () => {
    const f = pairItems(model('fraud'), pair({ instances: [[12.5, 'PL']] }, { predictions: [{ label: 1, probabilities: 0.7 }] }, { model: 'fraud' }));
    expect(f).toMatchObject({ items: [{ features: { amount: 12.5, country: 'PL' }, prediction: 1, score: 0.7 }] });
    const v = pairItems(model('fraud-v1'), pair({ instances: [[1, 30], [2, 40]] }, { predictions: [[1, 0.1, 0.9], [0, 0.8, 0.2]] }, { model: 'fraud-v1' }));
    expect(v).toMatchObject({ items: [{ features: { amount: 1, age: 30 }, prediction: 1, score: 0.9 }, { features: { amount: 2, age: 40 }, prediction: 0, score: 0.2 }] });
  });

  it("KServe's V2 sample: a [2, 4] input → positional names, output 0 → the prediction, model_version from the response", () => {
    const req = { inputs: [{ name: 'input-0', shape: [2, 4], datatype: 'FP32', data: [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] }] };
    const res = { id: '823248cc-d770-4a51-9606-16803395569c', model_name: 'iris-classifier', model_version: 'v1.0.0', outputs: [{ data: [1, 2], datatype: 'FP32', name: 'predict', parameters: null, shape: [2] }] };
    expect(pairItems(model('iris'), pair(req, res))).toEqual({
      items: [
        { id: `${ID}/0`, features: { sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 }, prediction: 1, model_version: 'v1.0.0' },
        { id: `${ID}/1`, features: { sepal_length: 6.0, sepal_width: 3.4, petal_length: 4.5, petal_width: 1.6 }, prediction: 2, model_version: 'v1.0.0' },
      ],
    });
    // the same data flattened (row-major) maps the same
    const flat = { inputs: [{ name: 'input-0', shape: [2, 4], datatype: 'FP32', data: [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6] }] };
    expect(pairItems(model('iris'), pair(flat, res))).toEqual(pairItems(model('iris'), pair(req, res)));
  });

  it('V2 1-D inputs are columns by input name; named outputs give the prediction and the score ([N, 2] → the positive column)', () => {
    const req = {
      inputs: [
        { name: 'amount', shape: [3], datatype: 'FP32', data: [10, 20, 30] },
        { name: 'country', shape: [3, 1], datatype: 'BYTES', data: [['PL'], ['DE'], ['FR']] },
      ],
    };
    const res = {
      model_name: 'fraud',
      outputs: [
        { name: 'probabilities', shape: [3, 2], datatype: 'FP32', data: [0.1, 0.9, 0.7, 0.3, 0.5, 0.5] },
        { name: 'label', shape: [3], datatype: 'INT64', data: [1, 0, 1] },
      ],
    };
    expect(pairItems(model('fraud'), pair(req, res, { model: 'fraud', endpoint: '' }))).toEqual({
      items: [
        { id: `${ID}/0`, features: { amount: 10, country: 'PL' }, prediction: 1, score: 0.9 },
        { id: `${ID}/1`, features: { amount: 20, country: 'DE' }, prediction: 0, score: 0.3 },
        { id: `${ID}/2`, features: { amount: 30, country: 'FR' }, prediction: 1, score: 0.5 },
      ],
    });
  });

  it('a batch of N rows gives N predictions, in order', () => {
    const n = 25;
    const req = { instances: Array.from({ length: n }, (_, i) => [i, 1, 2, 3]) };
    const res = { predictions: Array.from({ length: n }, (_, i) => i % 3) };
    const out = pairItems(model('iris'), pair(req, res));
    if (!('items' in out)) throw new Error(out.error);
    expect(out.items).toHaveLength(n);
    expect(out.items.map((it) => it.id)).toEqual(Array.from({ length: n }, (_, i) => `${ID}/${i}`));
    expect(out.items.map((it) => (it.features as { sepal_length: number }).sepal_length)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(out.items.map((it) => it.prediction)).toEqual(res.predictions);
  });

  it('bodies that do not map: the reason names the rows, columns, tensor or config key', () => {
    const iris = model('iris');
    expect(pairItems(iris, pair({ instances: [[1, 2]] }, { predictions: [1, 2] }))).toEqual({ error: 'the request has 1 rows but the response 2' });
    expect(pairItems(iris, pair({ instances: [[1, 2, 3, 4, 5]] }, { predictions: [1] }))).toEqual({ error: 'instances[0] has 5 columns but models[].kserve.features names 4' });
    expect(pairItems(iris, pair({ inputs: [{ name: 'img', shape: [1, 2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] }, { predictions: [1] }))).toEqual({
      error: 'input "img" has shape [1, 2, 2]: only [N], [N, 1] and [N, F] inputs map to features',
    });
    expect(pairItems(iris, pair({ inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1] }] }, { predictions: [1] }))).toEqual({
      error: 'inputs[0] "x": data has 1 elements, shape [2] needs 2',
    });
    expect(pairItems(model('fraud'), pair({ instances: [{ amount: 1 }] }, { outputs: [{ name: 'predict', shape: [1], datatype: 'FP32', data: [1] }] }, { model: 'fraud' }))).toEqual({
      error: 'the response has no output "label" (models[].kserve.prediction); it has "predict"',
    });
    expect(pairItems(iris, pair({ instances: [[1]] }, { error: 'boom' }))).toEqual({ error: 'the response data has neither "predictions" (V1) nor "outputs" (V2)' });
  });

  it('request and response types are the two KServe CloudEvent types', () => {
    expect([CE_REQUEST_TYPE, CE_RESPONSE_TYPE]).toEqual(['org.kubeflow.serving.inference.request', 'org.kubeflow.serving.inference.response']);
  });
});
