import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';
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
 */
const PROBES: { route: string; url: string; method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; payload?: unknown }[] = [{ route: 'GET /healthz', url: '/healthz' }];

describe('real answers validate against the document', () => {
  it('every documented route is probed, and each probe answers as documented', async () => {
    t = await testDaemon();
    const doc = (await t.daemon.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
    expect(Object.keys(RESPONSES).filter((route) => !PROBES.some((p) => p.route === route))).toEqual([]);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const p of PROBES) {
      const [method, url] = p.route.split(' ') as [string, string];
      const r = await t.daemon.app.inject({ method: p.method ?? 'GET', url: p.url, ...(p.payload === undefined ? {} : { payload: p.payload as object, headers: { 'content-type': 'application/json' } }) });
      const responses = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.responses ?? {};
      const documented = responses[String(r.statusCode)] ?? responses.default;
      expect(documented, `${p.route} answered ${r.statusCode}, not documented`).toBeDefined();
      const schema = documented?.content?.['application/json']?.schema;
      if (schema === undefined) continue; // not JSON: its media type is checked by the route's own tests
      const valid = ajv.validate(schema, r.json());
      expect(valid ? [] : ajv.errors, `${p.method ?? 'GET'} ${p.url} → ${r.statusCode}: ${r.body.slice(0, 300)}`).toEqual([]);
    }
  });
});
