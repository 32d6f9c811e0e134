import { connect } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, testDaemon, type TestDaemon } from '../../test/harness.js';

let t: TestDaemon;
beforeEach(async () => {
  t = await testDaemon();
});
afterEach(async () => {
  await t.close();
});

const inject = (opts: InjectOptions) => t.daemon.app.inject(opts);

/** Every error answer: `{error: {code: VIGIL_ERR_…, message}}` and nothing else at the top. */
function expectErrorShape(body: string): { code: string; message: string; [k: string]: unknown } {
  const parsed = JSON.parse(body) as { error: { code: string; message: string } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(parsed.error.code).toMatch(/^VIGIL_ERR_[A-Z0-9_]+$/);
  expect(parsed.error.message).toBeTypeOf('string');
  expect(parsed.error.message.length).toBeGreaterThan(0);
  return parsed.error;
}

describe("Fastify's own errors, in the documented shape", () => {
  it('a malformed percent-encoding in the URL: 400', async () => {
    const r = await inject({ url: '/v1/models/%E0%A4%A' });
    expect(r.statusCode).toBe(400);
    expect(expectErrorShape(r.body).code).toBe('VIGIL_ERR_HTTP_BAD_URL');
  });

  it('a path segment longer than the router takes: 414', async () => {
    const r = await inject({ url: `/v1/models/${'m'.repeat(500)}` });
    expect(r.statusCode).toBe(414);
    expect(expectErrorShape(r.body).code).toBe('VIGIL_ERR_HTTP_BAD_URL');
  });

  it('an invalid route parameter: 400 naming it', async () => {
    const r = await inject({ url: `/v1/models/${'m'.repeat(65)}` });
    expect(r.statusCode).toBe(400);
    expect(expectErrorShape(r.body)).toMatchObject({ code: 'VIGIL_ERR_HTTP_VALIDATION', message: expect.stringContaining('params/model') });
  });

  it('a known path with another method: 405 with Allow; an unknown path: 404', async () => {
    const r = await inject({ method: 'DELETE', url: '/v1/models' });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect(expectErrorShape(r.body).code).toBe('VIGIL_ERR_HTTP_METHOD_NOT_ALLOWED');
    const p = await inject({ method: 'GET', url: '/v1/models/fraud/predictions' });
    expect(p.statusCode).toBe(405);
    expect(p.headers.allow).toBe('POST');
    const n = await inject({ method: 'GET', url: '/v1/nothing/here' });
    expect(n.statusCode).toBe(404);
    expect(expectErrorShape(n.body).code).toBe('VIGIL_ERR_HTTP_NOT_FOUND');
  });

  it('text/plain and a body without Content-Type: 415 on every endpoint that takes a body', async () => {
    for (const [method, url] of [
      ['POST', '/v1/models/fraud/predictions'],
      ['POST', '/v1/models/fraud/labels'],
      ['POST', '/v1/models/fraud/baselines'],
      ['POST', '/v1/silences'],
      ['PUT', '/v1/models/fraud/circuit'],
      ['POST', '/v1/remediation/pause'],
    ] as const) {
      const plain = await inject({ method, url, headers: { 'content-type': 'text/plain' }, payload: '{"a":1}' });
      expect(plain.statusCode, `${method} ${url}`).toBe(415);
      expect(expectErrorShape(plain.body)).toMatchObject({ code: 'VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('text/plain') });
      const none = await inject({ method, url, payload: Buffer.from('{"a":1}') });
      expect(none.statusCode, `${method} ${url}`).toBe(415);
      expect(expectErrorShape(none.body).message).toContain('needs a Content-Type');
    }
  });

  it('a body over the limit: 413', async () => {
    await t.close();
    t = await testDaemon(`server:\n  max_body_bytes: 2048\n${BASE_CONFIG}`);
    const r = await inject({ method: 'POST', url: '/v1/silences', headers: { 'content-type': 'application/json' }, payload: `{"comment":"${'x'.repeat(4096)}"}` });
    expect(r.statusCode).toBe(413);
    expect(expectErrorShape(r.body).code).toBe('VIGIL_ERR_HTTP_BODY_TOO_LARGE');
  });
});

describe('bad input on the other endpoints', () => {
  const json = { 'content-type': 'application/json' };

  it('malformed or absurdly deep JSON: 400 with line and column', async () => {
    const bad = await inject({ method: 'PUT', url: '/v1/models/fraud/circuit', headers: json, payload: '{\n  "state": "open",\n  "reason": nope\n}' });
    expect(bad.statusCode).toBe(400);
    expect(expectErrorShape(bad.body)).toMatchObject({ code: 'VIGIL_ERR_HTTP_MALFORMED', line: 3, column: 14 });
    for (const payload of [`{"matchers": ${'['.repeat(12_000)}`, `{"matchers": ${'['.repeat(12_000)}${']'.repeat(12_000)}, "endsAt": "x", "createdBy": "a", "comment": "b"}`]) {
      const r = await inject({ method: 'POST', url: '/v1/silences', headers: json, payload });
      expect(r.statusCode).toBe(400);
      expect(expectErrorShape(r.body)).toMatchObject({ code: 'VIGIL_ERR_HTTP_MALFORMED', line: 1 });
    }
    const baseline = await inject({ method: 'POST', url: '/v1/models/fraud/baselines', headers: json, payload: `{"from_window": ${'['.repeat(12_000)}` });
    expect(baseline.statusCode).toBe(400);
    expect(expectErrorShape(baseline.body)).toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', column: 12_017 });
  });

  it('silences: impossible dates and malformed matchers are 400s naming the field', async () => {
    const silence = (over: Record<string, unknown>) =>
      inject({ method: 'POST', url: '/v1/silences', headers: json, payload: { matchers: ['model="fraud"'], endsAt: '2026-11-01T13:00:00Z', createdBy: 'me', comment: 'deploy', ...over } });
    expect((await silence({})).statusCode).toBe(200);
    for (const [over, message] of [
      [{ endsAt: '2026-11-31T13:00:00Z' }, 'endsAt: "2026-11-31T13:00:00Z" has no day 31 in 2026-11'],
      [{ startsAt: '2026-11-01T24:61:00Z' }, 'startsAt: "2026-11-01T24:61:00Z" has no hour 24'],
      [{ endsAt: { $date: 1 } }, 'endsAt: not a valid time (RFC 3339 or epoch ms)'],
      [{ endsAt: [[['2026-11-01T13:00:00Z']]] }, 'endsAt: not a valid time (RFC 3339 or epoch ms)'],
      [{ matchers: [null] }, 'matchers[0]: must be a matcher string or {name, value, isRegex?, isEqual?}'],
      [{ matchers: ['model="fraud"', 42] }, 'matchers[1]: must be a matcher string or {name, value, isRegex?, isEqual?}'],
      [{ matchers: [{ name: 'model' }] }, 'matchers[0]: must be a matcher string or {name, value, isRegex?, isEqual?}'],
    ] as const) {
      const r = await silence(over);
      expect(r.statusCode, JSON.stringify(over)).toBe(400);
      expect(expectErrorShape(r.body)).toMatchObject({ code: 'VIGIL_ERR_SILENCE_INVALID', message });
    }
    // __proto__ in a body is an ordinary (unknown, ignored) key, as everywhere
    const proto = await inject({
      method: 'POST',
      url: '/v1/silences',
      headers: json,
      payload: '{"__proto__": {"comment": "x"}, "matchers": ["model=\\"fraud\\""], "endsAt": "2026-11-01T13:00:00Z", "createdBy": "me", "comment": "deploy"}',
    });
    expect(proto.statusCode).toBe(200);
  });

  it('read endpoints: impossible times and repeated parameters in the query are 400s naming the parameter', async () => {
    expect((await inject({ url: '/v1/incidents?since=2026-10-01T00:00:00Z' })).statusCode).toBe(200);
    expect((await inject({ url: '/v1/incidents?since=2026-10-01' })).statusCode).toBe(200);
    expect((await inject({ url: '/v1/actions?until=1790000000' })).statusCode).toBe(200);
    for (const [url, field, message] of [
      ['/v1/incidents?since=2026-02-30T00:00:00Z', 'since', 'query parameter since: "2026-02-30T00:00:00Z" has no day 30 in 2026-02'],
      ['/v1/actions?until=2026-13-01', 'until', 'query parameter until: "2026-13-01" has no month 13'],
      ['/v1/incidents?since=1e400', 'since', 'query parameter since: "1e400" is not a time (RFC 3339 or Unix seconds)'],
      ['/v1/incidents?model=a&model=b', 'model', 'query parameter model: given more than once'],
      ['/v1/actions?incident_id=a&incident_id=b', 'incident_id', 'query parameter incident_id: given more than once'],
    ] as const) {
      const r = await inject({ url });
      expect(r.statusCode, url).toBe(400);
      expect(expectErrorShape(r.body)).toMatchObject({ code: 'VIGIL_ERR_HTTP_PARAMETER', field, message });
    }
  });
});

describe("Node's HTTP parser errors on a real socket", () => {
  /** Sends raw bytes to a listening Vigil and returns everything it answers before it closes the connection. */
  async function raw(bytes: string | Buffer): Promise<string> {
    if (!t.daemon.app.server.listening) await t.daemon.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.daemon.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return new Promise((resolve, reject) => {
      const socket = connect(address.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (c: Buffer) => (answer += c.toString()));
      socket.on('close', () => resolve(answer));
      // the server closes after answering; a reset after the answer arrived is not a failure
      socket.on('error', (e) => (answer === '' ? reject(e) : resolve(answer)));
      socket.write(bytes); // not end(): a half-closed request is dropped before it is answered
    });
  }
  const split = (answer: string): { status: number; headers: string; body: string } => {
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), headers: head, body };
  };

  it('a malformed request line: 400 in the JSON shape', async () => {
    const a = split(await raw('GARBAGE / NOT-HTTP\r\n\r\n'));
    expect(a.status).toBe(400);
    expect(a.headers).toMatch(/content-type: application\/json/i);
    expect(expectErrorShape(a.body).code).toBe('VIGIL_ERR_HTTP_BAD_REQUEST');
  });

  it('a malformed header and a bad Content-Length: 400', async () => {
    const header = split(await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
    expect(header.status).toBe(400);
    expect(expectErrorShape(header.body).code).toBe('VIGIL_ERR_HTTP_BAD_REQUEST');
    const length = split(await raw('POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n[]'));
    expect(length.status).toBe(400);
    expect(expectErrorShape(length.body).code).toBe('VIGIL_ERR_HTTP_BAD_REQUEST');
  });

  it('headers too large: 431', async () => {
    const a = split(await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`));
    expect(a.status).toBe(431);
    expect(expectErrorShape(a.body).code).toBe('VIGIL_ERR_HTTP_HEADERS_TOO_LARGE');
  });

  it('a compressed body over a real connection, Content-Length being the compressed size', async () => {
    const { gzipSync } = await import('node:zlib');
    const body = gzipSync(Buffer.from(JSON.stringify([{ id: 'sock-1', prediction: 1 }])));
    const a = split(
      await raw(
        Buffer.concat([
          Buffer.from(`POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`),
          body,
        ]),
      ),
    );
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ accepted: 1, duplicates: [], rejected: [] });
  });
});

describe('the other endpoints under arbitrary JSON (property)', () => {
  it('never answer 5xx; refusals are in the error shape', async () => {
    const NAMES = ['__proto__', 'constructor', 'matchers', 'endsAt', 'startsAt', 'createdBy', 'comment', 'state', 'reason', 'by', 'model', 'from_window', 'version', 'features'];
    const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('model="fraud"', 'fraud', 'open', 'closed', '1h', '2026-11-01T13:00:00Z', '2026-02-30T00:00:00Z', 1e308, -1, ''));
    const body = fc.oneof(
      fc.dictionary(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 4 })), value, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
      fc.json({ maxDepth: 4 }),
      fc.string({ maxLength: 40 }),
    );
    const endpoints: [string, string][] = [
      ['POST', '/v1/silences'],
      ['PUT', '/v1/models/fraud/circuit'],
      ['PUT', '/v1/models/nope/circuit'],
      ['POST', '/v1/remediation/pause'],
      ['POST', '/v1/remediation/resume'],
      ['POST', '/v1/actions/nope/approve'],
      ['POST', '/v1/actions/nope/reject'],
      ['POST', '/v1/models/fraud/baselines?version=p'],
      ['POST', '/v1/models/churn/baselines'],
      ['DELETE', '/v1/silences/nope'],
      ['POST', '/-/reload'],
    ];
    const endpoint = fc.constantFrom(...endpoints);
    await fc.assert(
      fc.asyncProperty(endpoint, body, async ([method, url], payload) => {
        const r = await inject({ method: method as 'POST', url, headers: { 'content-type': 'application/json' }, payload });
        expect(r.statusCode, `${method} ${url} ${payload}`).toBeLessThan(500);
        if (r.statusCode >= 400) expectErrorShape(r.body);
      }),
      { numRuns: 300 },
    );
    expect((await inject({ url: '/healthz' })).statusCode).toBe(200);
  }, 60_000);
});
