import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { createDaemon, type Daemon } from '../daemon.js';
import { BASE_CONFIG } from '../../test/harness.js';
import { checkToken, requiredRole, type Access } from './auth.js';

const READ = 'read-token-0123456789';
const INGEST = 'ingest-token-0123456789';
const ADMIN = 'admin-token-0123456789ab';
const ALL_TOKENS = `server:\n  tokens:\n    read: ["${READ}"]\n    ingest: ["${INGEST}"]\n    admin: ["${ADMIN}"]\n`;
const NO_READ = `server:\n  tokens:\n    ingest: ["${INGEST}"]\n    admin: ["${ADMIN}"]\n`;

/** The endpoint × role matrix of docs/security.md: "METHOD /path" → access. */
function documentedMatrix(): Map<string, Access> {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/security.md'), 'utf8');
  const out = new Map<string, Access>();
  for (const m of doc.matchAll(/^\| `([A-Z]+ \/\S*)` \| (public|read|raw|ingest|admin) \|$/gm)) out.set(m[1] as string, m[2] as Access);
  return out;
}

interface Built {
  daemon: Daemon;
  routes: string[];
  close: () => Promise<void>;
}

/** A daemon (never listening) and every route its server registered, as "METHOD /path". */
async function build(yaml: string): Promise<Built> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
  const config = parseConfigText(`storage:\n  path: ${join(dir, 'vigil.db')}\n${yaml}${BASE_CONFIG}`, join(dir, 'vigil.yaml'));
  const daemon = createDaemon({ initial: { config, file: join(dir, 'vigil.yaml') }, logger: createLogger({ level: 'silent' }), clock: systemClock, env: {} });
  const routes: string[] = [];
  daemon.app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });
  await daemon.alerting.start(join(dir, 'vigil.yaml'));
  await daemon.remediation.start();
  await daemon.app.ready();
  return {
    daemon,
    routes,
    close: async () => {
      await daemon.stop('test over');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PARAMS: Record<string, string> = { model: 'fraud', id: 'x1', name: 'ModelAccuracyDrop' };
const call = (d: Daemon, endpoint: string, token?: string, method?: string) => {
  const [m, path] = endpoint.split(' ') as [string, string];
  const url = path.replace(/:(\w+)/g, (_, p: string) => PARAMS[p] as string);
  return d.app.inject({
    method: (method ?? m) as 'GET',
    url,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(m === 'GET' || m === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
    ...(m === 'GET' || m === 'DELETE' ? {} : { payload: m === 'POST' && path.endsWith('/predictions') ? '[]' : '{}' }),
  });
};
const refused = (status: number): boolean => status === 401 || status === 403;

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

describe('the endpoint × role matrix (docs/security.md)', () => {
  it('names every route the server registers, and only those', async () => {
    built = await build('');
    expect([...documentedMatrix().keys()].sort()).toEqual([...new Set(built.routes)].sort());
  });

  it('with read, ingest and admin tokens: each route takes exactly the roles the matrix gives it', async () => {
    built = await build(ALL_TOKENS);
    const rank: Record<Access, number> = { public: -1, read: 0, raw: 0, ingest: 1, admin: 2 };
    const failures: string[] = [];
    for (const [endpoint, access] of documentedMatrix()) {
      const cases: [string, string | undefined, number][] = [
        ['no token', undefined, access === 'public' ? 200 : 401],
        ['a wrong token', 'not-a-token-0123456789', access === 'public' ? 200 : 403],
        ['read', READ, rank[access] <= 0 ? 200 : 403],
        ['ingest', INGEST, rank[access] <= 1 ? 200 : 403],
        ['admin', ADMIN, 200],
      ];
      for (const [who, token, expected] of cases) {
        const r = await call(built.daemon, endpoint, token);
        const ok = expected === 200 ? !refused(r.statusCode) : r.statusCode === expected;
        if (!ok) failures.push(`${endpoint} with ${who}: ${r.statusCode}, expected ${expected === 200 ? 'not 401/403' : expected}`);
        if (endpoint.startsWith('GET ')) {
          const head = await call(built.daemon, endpoint, token, 'HEAD');
          if ((expected === 200) === refused(head.statusCode)) failures.push(`HEAD of ${endpoint} with ${who}: ${head.statusCode}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('without a read token: reads and /metrics are open, raw stored data is not', async () => {
    built = await build(NO_READ);
    for (const [endpoint, access] of documentedMatrix()) {
      const r = await call(built.daemon, endpoint);
      expect(refused(r.statusCode), `${endpoint}: ${r.statusCode}`).toBe(access === 'raw' || access === 'ingest' || access === 'admin');
    }
    expect((await call(built.daemon, 'GET /v1/models/:model/predictions/:id', INGEST)).statusCode).toBe(404);
  });

  it('without any token everything is open (the demo)', async () => {
    built = await build('');
    for (const endpoint of documentedMatrix().keys()) expect(refused((await call(built.daemon, endpoint)).statusCode), endpoint).toBe(false);
  });
});

describe('authentication before the body', () => {
  it('a malformed body without a token gets 401, not 400; the ingest parser and handler never run', async () => {
    built = await build(ALL_TOKENS);
    const d = built.daemon;
    const post = (payload: string, token?: string) =>
      d.app.inject({ method: 'POST', url: '/v1/models/fraud/predictions', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, payload });
    const malformed = '[{"id": "a", "features": {'.padEnd(100_000, '{');
    const r = await post(malformed);
    expect(r.statusCode).toBe(401);
    expect(r.headers.connection).toBe('close');
    expect(r.headers['www-authenticate']).toBe('Bearer realm="vigil"');
    expect(r.json().error.code).toBe('VIGIL_ERR_AUTH_MISSING');
    expect((await post(malformed, READ)).statusCode).toBe(403);
    // With the token the same body reaches the parser, which refuses it.
    expect((await post(malformed, INGEST)).statusCode).toBe(400);
    // A valid batch without a token is not stored: the handler did not run.
    const valid = JSON.stringify([{ id: 'p1', model_version: 'v1', features: { amount: 1, country: 'PL' }, prediction: 1, score: 0.5 }]);
    expect((await post(valid)).statusCode).toBe(401);
    const status = await d.app.inject({ url: '/v1/models/fraud', headers: { authorization: `Bearer ${READ}` } });
    expect(status.json().predictions).toBe(0);
    expect((await post(valid, INGEST)).statusCode).toBe(200);
  });

  it('unknown paths need a token too: 401 before the 404', async () => {
    built = await build(ALL_TOKENS);
    expect((await built.daemon.app.inject({ url: '/v2/nothing' })).statusCode).toBe(401);
    expect((await built.daemon.app.inject({ url: '/v2/nothing', headers: { authorization: `Bearer ${READ}` } })).statusCode).toBe(404);
    expect((await built.daemon.app.inject({ method: 'POST', url: '/v2/nothing', headers: { authorization: `Bearer ${INGEST}` } })).statusCode).toBe(403);
  });
});

describe('checkToken', () => {
  const tokens = { read: [READ], ingest: [INGEST], admin: [ADMIN] };
  it('orders the roles read < ingest < admin', () => {
    expect(() => checkToken(tokens, 'read', `Bearer ${READ}`)).not.toThrow();
    expect(() => checkToken(tokens, 'read', `bearer ${ADMIN}`)).not.toThrow();
    expect(() => checkToken(tokens, 'ingest', `Bearer ${READ}`)).toThrow(expect.objectContaining({ code: 'VIGIL_ERR_AUTH_FORBIDDEN', statusCode: 403 }));
    expect(() => checkToken(tokens, 'admin', `Bearer ${INGEST}`)).toThrow(expect.objectContaining({ statusCode: 403 }));
    expect(() => checkToken(tokens, 'raw', 'Basic dXNlcjpwYXNz')).toThrow(expect.objectContaining({ code: 'VIGIL_ERR_AUTH_MISSING', statusCode: 401 }));
  });

  it('needs no token for anything when none is configured, and for raw data as soon as one is', () => {
    const none = { read: [], ingest: [], admin: [] };
    for (const a of ['public', 'read', 'raw', 'ingest', 'admin'] as const) expect(requiredRole(none, a)).toBeNull();
    const adminOnly = { read: [], ingest: [], admin: [ADMIN] };
    expect(requiredRole(adminOnly, 'read')).toBeNull();
    expect(requiredRole(adminOnly, 'raw')).toBe('read');
    expect(requiredRole(adminOnly, 'ingest')).toBe('ingest');
    const readOnly = { read: [READ], ingest: [], admin: [] };
    expect(requiredRole(readOnly, 'ingest')).toBe('ingest'); // writes never go unauthenticated once a token exists
    expect(() => checkToken(readOnly, 'ingest', `Bearer ${READ}`)).toThrow(expect.objectContaining({ statusCode: 403 }));
  });
});
