import { newFakeState, startFake, type FakeServer, type FakeState } from '../../src/sim/fake-http.js';

/**
 * A fake Prometheus HTTP API: `GET|POST /api/v1/query?query=&time=` answers the envelope
 * `{status, data: {resultType, result}}` from `state.results` (keyed by the exact query text);
 * an unknown query gets 400 `bad_data`, like a parse error.
 */

export type PromResult =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: [number, string] }[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] };

export interface FakePrometheusState extends FakeState {
  results: Map<string, PromResult>;
}

export type FakePrometheus = FakeServer<FakePrometheusState>;

/** A vector result from (labels, value) pairs. */
export const vector = (...series: [Record<string, string>, number | string][]): PromResult => ({
  resultType: 'vector',
  result: series.map(([metric, v]) => ({ metric, value: [1_700_000_000, String(v)] })),
});

export async function startFakePrometheus(port = 0): Promise<FakePrometheus> {
  const state: FakePrometheusState = { ...newFakeState(), results: new Map() };
  return startFake(
    state,
    (req) => {
      if (req.path !== '/api/v1/query') return { status: 404, body: '404 page not found\n', raw: true, headers: { 'content-type': 'text/plain' } };
      const params = req.method === 'POST' ? Object.fromEntries(new URLSearchParams(req.body)) : req.query;
      const query = params.query;
      if (query === undefined || query === '') return { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": unknown position: parse error: no expression found in input' } };
      if (params.time !== undefined && !/^\d+(\.\d+)?$/.test(params.time)) return { status: 400, body: { status: 'error', errorType: 'bad_data', error: `invalid parameter "time": cannot parse "${params.time}" to a valid timestamp` } };
      const data = state.results.get(query);
      if (data === undefined) return { status: 400, body: { status: 'error', errorType: 'bad_data', error: `invalid parameter "query": 1:1: parse error: unexpected query ${JSON.stringify(query)}` } };
      return { status: 200, body: { status: 'success', data } };
    },
    port,
  );
}
