import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';

// Prometheus's query API over Vigil's history: shapes and errors from web/api/v1/api.go
// (queryRange, parseTime, parseDuration, invalidParamError; 400 bad_data, 422 execution).
const T0 = Date.UTC(2026, 11, 6, 12);
const MIN = 60_000;
const CONFIG = `
models:
  - name: m
    task: regression
    windows: [1h]
    min_samples: 5
    features: [{ name: x, type: numeric }]
rule_files: []
alerting: { bundled_rules: false }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Three cycles a minute apart: v1 gets 10 more predictions before each, v2 5 before the last two. */
async function daemonWithHistory(): Promise<TestDaemon> {
  t = await testDaemon(CONFIG, { now: T0 });
  const d = t.daemon;
  for (let c = 0; c < 3; c++) {
    const preds = [
      ...Array.from({ length: 10 }, (_, i) => ({ id: `a${c}-${i}`, ts: t!.clock.now() - 1000, model_version: 'v1', prediction: i, features: { x: i } })),
      ...(c === 0 ? [] : Array.from({ length: 5 }, (_, i) => ({ id: `b${c}-${i}`, ts: t!.clock.now() - 1000, model_version: 'v2', prediction: i, features: { x: i } }))),
    ];
    const r = await d.app.inject({ method: 'POST', url: '/v1/models/m/predictions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(preds) });
    expect(r.statusCode).toBe(200);
    await d.cycle.run();
    if (c < 2) t.clock.advance(MIN);
  }
  return t;
}

const s = (ms: number): number => ms / 1000;

describe('GET|POST /api/v1/query_range and /api/v1/query', () => {
  it('a range query over the history: each series at every step, in label order, values as Go formats them', async () => {
    const d = (await daemonWithHistory()).daemon;
    const r = await d.app.inject({ url: `/api/v1/query_range?query=${encodeURIComponent('ml_window_samples{model="m"}')}&start=${s(T0)}&end=${s(T0 + 2 * MIN)}&step=60` });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { __name__: 'ml_window_samples', model: 'm', version: 'v1', window: '1h' },
            values: [
              [s(T0), '10'],
              [s(T0 + MIN), '20'],
              [s(T0 + 2 * MIN), '30'],
            ],
          },
          // absent before its first predictions: no point there
          { metric: { __name__: 'ml_window_samples', model: 'm', version: 'v2', window: '1h' }, values: [[s(T0 + MIN), '5'], [s(T0 + 2 * MIN), '10']] },
        ],
      },
    });
    // RFC 3339 times and a duration step; a function over the history; a scalar is one series without labels
    const sum = await d.app.inject({ url: `/api/v1/query_range?query=${encodeURIComponent('sum(ml_window_samples)')}&start=${new Date(T0).toISOString()}&end=${new Date(T0 + MIN).toISOString()}&step=30s` });
    expect(sum.json().data.result).toEqual([{ metric: {}, values: [[s(T0), '10'], [s(T0 + 30_000), '10'], [s(T0 + MIN), '25']] }]);
    const scalar = await d.app.inject({ url: `/api/v1/query_range?query=${encodeURIComponent('1/3')}&start=${s(T0)}&end=${s(T0 + MIN)}&step=1m` });
    expect(scalar.json().data).toEqual({ resultType: 'matrix', result: [{ metric: {}, values: [[s(T0), '0.3333333333333333'], [s(T0 + MIN), '0.3333333333333333']] }] });
    // @ start() and @ end() are the range's own
    const at = await d.app.inject({ url: `/api/v1/query_range?query=${encodeURIComponent('sum(ml_window_samples @ start()) + sum(ml_window_samples @ end()) / 1000')}&start=${s(T0)}&end=${s(T0 + 2 * MIN)}&step=2m` });
    expect(at.json().data.result).toEqual([{ metric: {}, values: [[s(T0), '10.04'], [s(T0 + 2 * MIN), '10.04']] }]);
    // POST with a form body, as Grafana sends it
    const post = await d.app.inject({
      method: 'POST',
      url: '/api/v1/query_range',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ query: 'rate(ml_window_samples{version="v1"}[2m])', start: String(s(T0 + 2 * MIN)), end: String(s(T0 + 2 * MIN)), step: '15' }).toString(),
    });
    expect(post.statusCode).toBe(200);
    // 10, 20, 30 at the window's start, middle and end (2.42 selects both ends): 20 over 120 s
    expect(post.json().data.result).toEqual([{ metric: { model: 'm', version: 'v1', window: '1h' }, values: [[s(T0 + 2 * MIN), String(20 / 120)]] }]);
  });

  it('an instant query: now by default, or at a time (the last sample within five minutes); a range selector gives its raw samples', async () => {
    const d = (await daemonWithHistory()).daemon;
    t!.clock.advance(30_000);
    const now = await d.app.inject({ url: `/api/v1/query?query=${encodeURIComponent('ml_window_samples{version="v2"}')}` });
    expect(now.json()).toEqual({ status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'ml_window_samples', model: 'm', version: 'v2', window: '1h' }, value: [s(T0 + 2 * MIN + 30_000), '10'] }] } });
    const then = await d.app.inject({ url: `/api/v1/query?query=${encodeURIComponent('sum(ml_window_samples)')}&time=${s(T0 + MIN + 1)}` });
    expect(then.json().data).toEqual({ resultType: 'vector', result: [{ metric: {}, value: [s(T0 + MIN + 1), '25'] }] });
    const scalar = await d.app.inject({ url: `/api/v1/query?query=${encodeURIComponent('time()')}&time=${s(T0)}` });
    expect(scalar.json().data).toEqual({ resultType: 'scalar', result: [s(T0), String(s(T0))] });
    const str = await d.app.inject({ url: `/api/v1/query?query=${encodeURIComponent('"hi"')}&time=${s(T0)}` });
    expect(str.json().data).toEqual({ resultType: 'string', result: [s(T0), 'hi'] });
    const raw = await d.app.inject({ url: `/api/v1/query?query=${encodeURIComponent('ml_window_samples{version="v2"}[5m]')}&time=${s(T0 + 2 * MIN)}` });
    expect(raw.json().data).toEqual({ resultType: 'matrix', result: [{ metric: { __name__: 'ml_window_samples', model: 'm', version: 'v2', window: '1h' }, values: [[s(T0 + MIN), '5'], [s(T0 + 2 * MIN), '10']] }] });
  });

  it("refuses bad input with Prometheus's own errors: 400 bad_data naming the parameter, 422 when the evaluation fails", async () => {
    const d = (await daemonWithHistory()).daemon;
    const err = async (url: string) => {
      const r = await d.app.inject({ url });
      return [r.statusCode, r.json()];
    };
    const q = encodeURIComponent('ml_window_samples');
    expect(await err(`/api/v1/query_range?query=${q}&start=x&end=1&step=1`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "start": cannot parse "x" to a valid timestamp' }]);
    expect(await err(`/api/v1/query_range?query=${q}&start=10&end=1&step=1`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "end": end timestamp must not be before start time' }]);
    expect(await err(`/api/v1/query_range?query=${q}&start=1&end=2&step=soon`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "step": cannot parse "soon" to a valid duration' }]);
    expect(await err(`/api/v1/query_range?query=${q}&start=1&end=2&step=0`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer' }]);
    expect(await err(`/api/v1/query_range?query=${q}&start=0&end=11001&step=1`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' }]);
    expect(await err(`/api/v1/query_range?query=${encodeURIComponent('ml_window_samples[5m]')}&start=1&end=2&step=1`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid expression type "range vector" for range query, must be Scalar or instant Vector' }]);
    expect(await err(`/api/v1/query?query=${encodeURIComponent('"a"')}&time=nope`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "time": cannot parse "nope" to a valid timestamp' }]);
    const [status, body] = await err(`/api/v1/query?query=${encodeURIComponent('sum(')}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(body.error).toMatch(/^invalid parameter "query": /);
    expect(await err(`/api/v1/query?query=${q}&timeout=soon`)).toEqual([400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "timeout": cannot parse "soon" to a valid duration' }]);
    // a query holds the event loop: past its timeout (Vigil's 2 s, or shorter when asked) it stops, 503 as Prometheus
    const slow = encodeURIComponent('max_over_time(ml_window_samples[1h:1ms])'); // 3.6 million steps
    expect(await err(`/api/v1/query?query=${slow}&timeout=10ms`)).toEqual([503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }]);
    expect(await err(`/api/v1/query_range?query=${slow}&start=${s(T0)}&end=${s(T0 + 2 * MIN)}&step=60&timeout=0.01`)).toEqual([503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }]);
    // v1 and v2 made one: the same label set twice
    const [s422, b422] = await err(`/api/v1/query?query=${encodeURIComponent('label_replace(ml_window_samples, "version", "same", "", "")')}&time=${s(T0 + 2 * MIN)}`);
    expect(s422).toBe(422);
    expect(b422).toMatchObject({ status: 'error', errorType: 'execution' });
    expect(b422.error).toMatch(/same labelset/);
  });
});

