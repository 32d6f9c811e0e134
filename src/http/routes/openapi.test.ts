import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, testDaemon, writeConfig, type TestDaemon } from '../../../test/harness.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { endpointsSection, ENDPOINTS_SECTION, type OpenApiDocument } from '../api-docs.js';
import { RESPONSES } from '../openapi-responses.js';
import { listRoutes } from '../server.js';

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Doc = { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[] }>> };

describe('the OpenAPI document (GET /openapi.json, GET /api)', () => {
  it('is a valid OpenAPI 3.1 document describing every route the server has, with its path parameters', async () => {
    t = await testDaemon();
    const r = await t.daemon.app.inject({ url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json() as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Vigil');
    // validated against the OpenAPI 3.1 schema itself (@seriousme/openapi-schema-validator)
    const v = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(v.errors ?? []).toEqual([]);
    expect(v.valid).toBe(true);
    // every route, but the HEAD twins of GET ones Fastify adds: its path (`:p` → `{p}`) and method are in it
    const routes = listRoutes(t.daemon.app).filter((x) => x.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(40);
    const missing = routes.filter((x) => doc.paths[x.url.replace(/:(\w+)/g, '{$1}')]?.[x.method.toLowerCase()] === undefined).map((x) => `${x.method} ${x.url}`);
    expect(missing).toEqual([]);
    const documented = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.length).toBe(new Set(routes.map((x) => `${x.method} ${x.url}`)).size);
    // a path parameter is declared, required, in the path
    const circuit = doc.paths['/v1/models/{model}/circuit']?.get?.parameters ?? [];
    expect(circuit).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'model', in: 'path', required: true })]));
  });

  it("docs/http-api.md's table of endpoints is the document's (npm run docs writes it)", async () => {
    t = await testDaemon();
    const doc = (await t.daemon.app.inject({ url: '/openapi.json' })).json() as OpenApiDocument;
    const text = readFileSync(join(import.meta.dirname, '../../../docs/http-api.md'), 'utf8');
    expect(ENDPOINTS_SECTION.exec(text)?.[0]).toBe(endpointsSection(doc));
    // every operation has a line of what it does
    expect(endpointsSection(doc).split('\n').filter((l) => l.startsWith('| `') && l.split(' | ')[1] === '')).toEqual([]);
  });

  it('GET /api shows it as a page: every operation, nothing loaded from elsewhere', async () => {
    t = await testDaemon();
    const page = await t.daemon.app.inject({ url: '/api' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.body).toContain('<code>POST /v1/models/{model}/predictions</code>');
    expect(page.body).toContain('<code>GET /v1/incidents/{id}</code>');
    expect(page.body).not.toMatch(/<script|https?:\/\//);
  });

  it('needs a read token when tokens are configured, as the other reads', async () => {
    t = await testDaemon(`server:\n  tokens:\n    read: ["read-token-0123456789abcdef"]\n    ingest: ["ingest-token-0123456789abcdef"]\nmodels: []\n`);
    expect((await t.daemon.app.inject({ url: '/openapi.json' })).statusCode).toBe(401);
    expect((await t.daemon.app.inject({ url: '/openapi.json', headers: { authorization: 'Bearer read-token-0123456789abcdef' } })).statusCode).toBe(200);
  });
});

/**
 * Requests that exercise the documented routes on a daemon with data; each answer must be one the
 * document lists for its route (its status, else `default`) and its body must validate against it.
 * They run in order: `setup` first (a cycle, a file), then the request; a `url` or `headers` given
 * as a function is read then (ids made by earlier probes).
 */
type Probe = {
  route: string;
  url: string | ((t: TestDaemon) => Promise<string>);
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  payload?: unknown;
  headers?: Record<string, string> | ((t: TestDaemon) => Promise<Record<string, string>>);
  /** The status this probe is meant to get (checked, so a probe cannot drift into another answer). */
  status?: number;
  setup?: (t: TestDaemon) => Promise<void>;
};

const T_NOW = Date.UTC(2026, 10, 1, 12);
const at = (minutesAgo: number): string => new Date(T_NOW - minutesAgo * 60_000).toISOString();
const PROBE_RULES = `groups:
  - name: probe
    rules:
      - record: probe:window_samples
        expr: sum by (model) (ml_window_samples)
      - alert: ProbeAlert
        expr: ml_window_samples{model="fraud"} > 0
        labels: { severity: warning }
        annotations: { summary: "fraud has {{ $value }} predictions" }
`;
// fraud with min_samples 20: its window has quality (accuracy) and drift for the overview
const PROBE_CONFIG = `${BASE_CONFIG.replace('    positive_class: 1\n', '    positive_class: 1\n    min_samples: 20\n')}
rule_files: [rules.yml]
maintenance_windows:
  - { name: upgrade, matchers: ['model="eta"'], starts_at: "2026-11-01T00:00:00Z", ends_at: "2026-11-02T00:00:00Z" }
remediation:
  actions:
    hold: { type: circuit_breaker, require_approval: true }
    hold2: { type: circuit_breaker, require_approval: true }
  routes:
    - matchers: ['alertname="ProbeAlert"']
      actions: [hold, hold2]
`;
const FRAUD = Array.from({ length: 40 }, (_, i) => ({
  id: `f${i}`,
  ts: at(30 - (i % 20)),
  model_version: i < 30 ? 'v1' : 'v2',
  features: { amount: 10 + i * 3.5, country: i === 3 ? null : ['FR', 'DE', 'US'][i % 3] },
  prediction: i % 2,
  score: i % 2 === 0 ? 0.1 + (i % 7) / 20 : 0.6 + (i % 5) / 20,
  latency_ms: 12.5,
  ...(i === 0 ? { traceparent: '00-90bdf848647d50283394155d2df58f19-84dacdfdf07cadfc-01', segment: 'web', error: 'timeout' } : {}),
}));
const CHURN = Array.from({ length: 12 }, (_, i) => ({ id: i, ts: at(10), features: { tenure: i }, prediction: ['stay', 'churn', 'maybe'][i % 3], score: { stay: 0.5, churn: 0.3, maybe: 0.2 } }));
const incidentId = async (t: TestDaemon): Promise<string> => ((await t.daemon.store.listIncidents({})).at(0) as { id: string }).id;
const actionId = async (t: TestDaemon, action: string): Promise<string> => ((await t.daemon.store.listActions({ action })).at(0) as { id: string }).id;
const event = (type: 'request' | 'response', id: string, data: unknown, time: string) => ({
  specversion: '1.0',
  id,
  type: `org.kubeflow.serving.inference.${type}`,
  source: 'http://eta-predictor/',
  time,
  datacontenttype: 'application/json',
  inferenceservicename: 'eta',
  data,
});

const PROBES: Probe[] = [
  { route: 'GET /healthz', url: '/healthz' },
  { route: 'GET /readyz', url: '/readyz', status: 200 },
  { route: 'GET /metrics', url: '/metrics', status: 200 },
  // ingestion: all stored; some rejected (with and without an id) or duplicates; all rejected
  { route: 'POST /v1/models/:model/predictions', url: '/v1/models/fraud/predictions', method: 'POST', payload: FRAUD, status: 200 },
  { route: 'POST /v1/models/:model/predictions', url: '/v1/models/fraud/predictions', method: 'POST', payload: [FRAUD[0], { id: 'x1', prediction: 1, features: { amount: 'lots' } }, { prediction: 1 }, { id: 'x2', prediction: 0, score: 0.2 }], status: 207 },
  { route: 'POST /v1/models/:model/predictions', url: '/v1/models/fraud/predictions', method: 'POST', payload: [{ id: 'x3', prediction: 1, features: { colour: 'red' } }, 42], status: 422 },
  { route: 'POST /v1/models/:model/predictions', url: '/v1/models/churn/predictions', method: 'POST', payload: CHURN, status: 200 },
  { route: 'POST /v1/models/:model/predictions', url: '/v1/models/eta/predictions', method: 'POST', payload: [{ id: 'e1', ts: at(5), features: { km: 3 }, prediction: 7.5 }], status: 200 },
  { route: 'POST /v1/models/:model/predictions', url: '/v1/models/nope/predictions', method: 'POST', payload: [], status: 404 },
  { route: 'POST /v1/models/:model/labels', url: '/v1/models/fraud/labels', method: 'POST', payload: FRAUD.slice(0, 30).map((p, i) => ({ id: p.id, label: i % 5 === 0 ? 1 - p.prediction : p.prediction })), status: 200 },
  { route: 'POST /v1/models/:model/labels', url: '/v1/models/fraud/labels', method: 'POST', payload: [{ id: 'f0', label: 0 }, { id: 'f31', label: 1 }, { id: 'f32', label: [1] }], status: 207 },
  { route: 'POST /v1/models/:model/labels', url: '/v1/models/fraud/labels', method: 'POST', payload: [{ label: 1 }], status: 422 },
  { route: 'POST /v1/models/:model/labels', url: '/v1/models/churn/labels', method: 'POST', payload: CHURN.map((p) => ({ id: p.id, label: 'stay' })), status: 200 },
  // baselines: binary (calibration), multiclass (class_calibrations), replaced, with rejected rows
  { route: 'POST /v1/models/:model/baselines', url: '/v1/models/fraud/baselines?version=v1', method: 'POST', payload: FRAUD.map((p, i) => ({ features: p.features, prediction: p.prediction, score: p.score, label: i % 4 === 0 ? 1 - p.prediction : p.prediction })), status: 201 },
  { route: 'POST /v1/models/:model/baselines', url: '/v1/models/fraud/baselines?version=v1&replace=true', method: 'POST', payload: FRAUD.map((p) => ({ features: p.features, prediction: p.prediction, score: p.score, label: p.prediction })), status: 200 },
  { route: 'POST /v1/models/:model/baselines', url: '/v1/models/churn/baselines?version=v0', method: 'POST', payload: [...CHURN.map((p, i) => ({ features: p.features, prediction: p.prediction, score: p.score, label: i % 2 === 0 ? 'stay' : 'churn' })), { features: { tenure: 'long' } }], status: 207 },
  { route: 'POST /v1/models/:model/baselines', url: '/v1/models/fraud/baselines?version=v1', method: 'POST', payload: [{ features: { amount: 1 } }], status: 409 },
  { route: 'GET /v1/models/:model/baselines', url: '/v1/models/fraud/baselines', status: 200 },
  { route: 'GET /v1/models/:model/baselines', url: '/v1/models/churn/baselines', status: 200 },
  // the drift report of fraud's window against that baseline, after a cycle: a page, and JSON
  { route: 'GET /v1/models/:model/report', url: '/v1/models/fraud/report', headers: { accept: 'text/html' }, status: 200, setup: async (t) => void (await t.daemon.cycle.run()) },
  { route: 'GET /v1/models/:model/report', url: '/v1/models/fraud/report', headers: { accept: 'application/json' }, status: 200 },
  { route: 'GET /v1/models/:model/report', url: '/v1/models/fraud/report?window=7d', headers: { accept: 'application/json' }, status: 400 },
  // the runbooks (public): the index and a runbook, for a browser and otherwise; the UI's files
  { route: 'GET /runbooks', url: '/runbooks', headers: { accept: 'text/html' }, status: 200 },
  { route: 'GET /runbooks', url: '/runbooks', headers: { accept: 'application/json' }, status: 200 },
  { route: 'GET /runbooks/:name', url: '/runbooks/MLFeatureDrift', headers: { accept: 'text/html' }, status: 200 },
  { route: 'GET /runbooks/:name', url: '/runbooks/MLFeatureDrift.md', status: 200 },
  { route: 'GET /runbooks/:name', url: '/runbooks/NoSuchAlert', status: 404 },
  { route: 'GET /ui/:file', url: '/ui/app.js', status: 200 },
  { route: 'GET /ui/:file', url: '/ui/uplot.min.css', status: 200 },
  // a cycle: status, overview, rules and alerts have numbers; ProbeAlert fires and opens an incident
  {
    route: 'GET /v1/models',
    url: '/v1/models',
    status: 200,
    setup: async (t) => {
      await t.daemon.cycle.run();
      await t.daemon.remediation.idle();
    },
  },
  { route: 'GET /v1/models/:model', url: '/v1/models/fraud', status: 200 },
  { route: 'GET /v1/models/:model', url: '/v1/models/eta', status: 200 },
  { route: 'GET /v1/models/:model', url: '/v1/models/nope', status: 404 },
  { route: 'GET /v1/models/:model/predictions/:id', url: '/v1/models/fraud/predictions/f0', status: 200 },
  { route: 'GET /v1/models/:model/predictions/:id', url: '/v1/models/fraud/predictions/f35', status: 200 },
  { route: 'GET /v1/models/:model/predictions/:id', url: '/v1/models/churn/predictions/1', status: 200 },
  { route: 'GET /v1/models/:model/predictions/:id', url: '/v1/models/fraud/predictions/none', status: 404 },
  { route: 'GET /v1/overview', url: '/v1/overview', status: 200 },
  { route: 'GET /api/v1/rules', url: '/api/v1/rules', status: 200 },
  { route: 'GET /api/v1/rules', url: '/api/v1/rules?type=alert&exclude_alerts=true', status: 200 },
  { route: 'GET /api/v1/rules', url: '/api/v1/rules?type=nope', status: 400 },
  { route: 'GET /api/v1/alerts', url: '/api/v1/alerts', status: 200 },
  { route: 'GET /api/v1/query', url: '/api/v1/query?query=ml_window_samples', status: 200 },
  { route: 'GET /api/v1/query', url: '/api/v1/query?query=ml_window_samples%5B1h%5D', status: 200 },
  { route: 'GET /api/v1/query', url: '/api/v1/query?query=1%2B1', status: 200 },
  { route: 'GET /api/v1/query', url: '/api/v1/query?query=%22text%22', status: 200 },
  { route: 'GET /api/v1/query', url: '/api/v1/query?query=sum(', status: 400 },
  { route: 'POST /api/v1/query', url: '/api/v1/query', method: 'POST', payload: 'query=count(ml_window_samples)', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 200 },
  { route: 'GET /api/v1/query_range', url: `/api/v1/query_range?query=ml_window_samples&start=${T_NOW / 1000 - 600}&end=${T_NOW / 1000}&step=60`, status: 200 },
  { route: 'GET /api/v1/query_range', url: '/api/v1/query_range?query=ml_window_samples', status: 400 },
  { route: 'POST /api/v1/query_range', url: '/api/v1/query_range', method: 'POST', payload: `query=ml_window_samples&start=${T_NOW / 1000 - 600}&end=${T_NOW / 1000}&step=5m`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 200 },
  // silences
  { route: 'POST /v1/silences', url: '/v1/silences', method: 'POST', payload: { matchers: ['model="fraud"', { name: 'severity', value: 'warn.*', isRegex: true }], endsAt: at(-60), createdBy: 'ops', comment: 'probe' }, status: 200 },
  { route: 'POST /v1/silences', url: '/v1/silences', method: 'POST', payload: { matchers: ['model="churn"'], startsAt: at(-30), endsAt: at(-60), createdBy: 'ops', comment: 'later' }, status: 200 },
  { route: 'POST /v1/silences', url: '/v1/silences', method: 'POST', payload: { matchers: ['model=~".*"'], endsAt: at(-60), createdBy: 'ops', comment: 'everything' }, status: 400 },
  { route: 'GET /api/v1/alerts', url: '/api/v1/alerts', status: 200 },
  {
    route: 'DELETE /v1/silences/:id',
    url: async (t) => `/v1/silences/${((await t.daemon.store.listSilences()).find((s) => s.comment === 'later') as { id: string }).id}`,
    method: 'DELETE',
    status: 200,
  },
  { route: 'DELETE /v1/silences/:id', url: '/v1/silences/none', method: 'DELETE', status: 404 },
  { route: 'GET /v1/silences', url: '/v1/silences', status: 200 },
  // remediation: the incident ProbeAlert opened, its two pending approvals
  { route: 'GET /v1/incidents', url: '/v1/incidents', status: 200 },
  { route: 'GET /v1/incidents', url: '/v1/incidents?limit=0', status: 400 },
  { route: 'GET /v1/incidents/:id', url: async (t) => `/v1/incidents/${await incidentId(t)}`, status: 200 },
  { route: 'GET /v1/incidents/:id', url: '/v1/incidents/none', status: 404 },
  { route: 'POST /v1/incidents/:id/ack', url: async (t) => `/v1/incidents/${await incidentId(t)}/ack`, method: 'POST', payload: { by: 'ops', comment: 'looking' }, status: 200 },
  { route: 'POST /v1/incidents/:id/ack', url: async (t) => `/v1/incidents/${await incidentId(t)}/ack`, method: 'POST', payload: {}, status: 200 },
  { route: 'GET /v1/actions', url: '/v1/actions', status: 200 },
  { route: 'GET /v1/actions/:id', url: async (t) => `/v1/actions/${await actionId(t, 'hold')}`, status: 200 },
  { route: 'GET /v1/actions/:id', url: '/v1/actions/none', status: 404 },
  { route: 'POST /v1/actions/:id/reject', url: async (t) => `/v1/actions/${await actionId(t, 'hold2')}/reject`, method: 'POST', payload: { by: 'ops' }, status: 200 },
  { route: 'POST /v1/actions/:id/approve', url: async (t) => `/v1/actions/${await actionId(t, 'hold')}/approve`, method: 'POST', payload: { by: 'ops' }, status: 200 },
  { route: 'POST /v1/actions/:id/approve', url: async (t) => `/v1/actions/${await actionId(t, 'hold2')}/approve`, method: 'POST', payload: {}, status: 409 },
  { route: 'GET /v1/incidents/:id', url: async (t) => `/v1/incidents/${await incidentId(t)}`, status: 200, setup: async (t) => t.daemon.remediation.idle() },
  { route: 'GET /v1/models/:model/circuit', url: '/v1/models/fraud/circuit', status: 200 },
  { route: 'GET /v1/models/:model/circuit', url: '/v1/models/fraud/circuit', headers: async (t) => ({ 'if-none-match': String((await t.daemon.app.inject({ url: '/v1/models/fraud/circuit' })).headers.etag) }), status: 304 },
  { route: 'GET /v1/models/:model/circuit', url: '/v1/models/nope/circuit', status: 404 },
  { route: 'GET /v1/remediation', url: '/v1/remediation', status: 200 },
  { route: 'POST /v1/remediation/pause', url: '/v1/remediation/pause', method: 'POST', payload: { reason: 'probe', by: 'ops' }, status: 200 },
  { route: 'GET /v1/remediation', url: '/v1/remediation', status: 200 },
  { route: 'POST /v1/remediation/resume', url: '/v1/remediation/resume', method: 'POST', payload: {}, status: 200 },
  { route: 'POST /v1/remediation/resume', url: '/v1/remediation/resume', method: 'POST', payload: { model: 'fraud' }, status: 200 },
  { route: 'POST /v1/remediation/resume', url: '/v1/remediation/resume', method: 'POST', payload: { model: 'nope' }, status: 400 },
  { route: 'PUT /v1/models/:model/circuit', url: '/v1/models/churn/circuit', method: 'PUT', payload: { state: 'open', reason: 'probe', by: 'ops' }, status: 200 },
  { route: 'PUT /v1/models/:model/circuit', url: '/v1/models/fraud/circuit', method: 'PUT', payload: { state: 'closed' }, status: 200 },
  { route: 'PUT /v1/models/:model/circuit', url: '/v1/models/fraud/circuit', method: 'PUT', payload: { state: 'ajar' }, status: 400 },
  { route: 'GET /v1/overview', url: '/v1/overview', status: 200, setup: async (t) => void (await t.daemon.cycle.run()) },
  // KServe: a request and its response joined (2 rows), a half waiting, an event rejected
  {
    route: 'POST /v1/kserve/events',
    url: '/v1/kserve/events',
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify([
      event('request', 'k1', { instances: [[4.2], [9.9]] }, at(3)),
      event('response', 'k1', { predictions: [11.5, 20.1] }, at(3)),
      event('request', 'k2', { instances: [[1]] }, at(2)),
      { ...event('response', 'k3', { predictions: [1] }, at(2)), specversion: '0.3' },
    ]),
    status: 202,
  },
  {
    route: 'POST /v1/kserve/events/:model',
    url: '/v1/kserve/events/eta',
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({ ...event('response', 'k1', { predictions: [11.5, 20.1] }, at(3)), inferenceservicename: 'other' }),
    status: 202,
    setup: async (t) => {
      // the pair again: its predictions are duplicates
      await t.daemon.app.inject({ method: 'POST', url: '/v1/kserve/events/eta', headers: { 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify(event('request', 'k1', { instances: [[4.2], [9.9]] }, at(3))) });
    },
  },
  // pages and the document itself
  { route: 'GET /', url: '/', status: 200 },
  { route: 'GET /alerts', url: '/alerts', status: 200 },
  { route: 'GET /incidents', url: '/incidents', status: 200 },
  { route: 'GET /models/:model', url: '/models/fraud', status: 200 },
  { route: 'GET /api', url: '/api', status: 200 },
  { route: 'GET /openapi.json', url: '/openapi.json', status: 200 },
  // reloads: the same configuration, then a broken one (kept out)
  { route: 'POST /-/reload', url: '/-/reload', method: 'POST', status: 200 },
  {
    route: 'PUT /-/reload',
    url: '/-/reload',
    method: 'PUT',
    status: 400,
    setup: async (t) => writeConfig(t, `${PROBE_CONFIG}\nserver:\n  port: "eighty"\n`),
  },
];

describe('real answers validate against the document', () => {
  it('every documented route is probed, and each probe answers as documented', async () => {
    t = await testDaemon(PROBE_CONFIG, { now: T_NOW, files: { 'rules.yml': PROBE_RULES } });
    const daemon = t;
    const doc = (await t.daemon.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
    expect(Object.keys(RESPONSES).filter((route) => !PROBES.some((p) => p.route === route))).toEqual([]);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const p of PROBES) {
      await p.setup?.(daemon);
      const [method, url] = p.route.split(' ') as [string, string];
      const target = typeof p.url === 'string' ? p.url : await p.url(daemon);
      const headers = typeof p.headers === 'function' ? await p.headers(daemon) : (p.headers ?? (p.payload === undefined ? {} : { 'content-type': 'application/json' }));
      const body = p.payload === undefined ? {} : { payload: typeof p.payload === 'string' ? p.payload : JSON.stringify(p.payload) };
      const r = await daemon.daemon.app.inject({ method: p.method ?? 'GET', url: target, headers, ...body });
      const what = `${p.method ?? 'GET'} ${target} → ${r.statusCode}: ${r.body.slice(0, 300)}`;
      if (p.status !== undefined) expect(r.statusCode, what).toBe(p.status);
      const responses = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.responses ?? {};
      const documented = responses[String(r.statusCode)] ?? responses.default;
      expect(documented, `${p.route} answered ${r.statusCode}, not documented`).toBeDefined();
      const content = documented?.content;
      if (content === undefined) {
        expect(r.body, `${what}: documented without a body`).toBe('');
        continue;
      }
      // the answer's media type is the documented one (parameters such as charset aside)
      const base = (type: string | undefined): string => (type ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      expect(Object.keys(content).map(base), what).toContain(base(r.headers['content-type'] as string | undefined));
      const schema = content['application/json']?.schema;
      if (schema === undefined || base(r.headers['content-type'] as string | undefined) !== 'application/json') continue; // not JSON
      const valid = ajv.validate(schema, r.json());
      expect(valid ? [] : ajv.errors, what).toEqual([]);
    }
  });
});
