import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The plumbing shared by the fake servers: a real HTTP server on 127.0.0.1, a log of every request,
 * an expected credential, and faults injected per request (status + body, garbage, hang).
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body text. */
  body: string;
  /** Parsed JSON body, when it was JSON. */
  json: unknown;
}

export type Fault =
  /** Answer with this status, body (JSON-encoded unless a string) and headers. */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answer (the socket stays open until the client gives up or the server closes). */
  | { hang: true }
  /** Answer 200 with an HTML page. */
  | { garbage: 'html' }
  /** Answer 200 with JSON of the wrong shape. */
  | { garbage: 'json'; body?: unknown }
  /** Answer 200 with a truncated JSON text. */
  | { garbage: 'truncated' };

export interface FakeState {
  requests: RecordedRequest[];
  /** Faults consumed one per request, before the normal handler. */
  faults: Fault[];
  /** When set, every request hangs. */
  hangAll: boolean;
  /** Expected Authorization header value; requests without it get 401. null: no auth. */
  authorization: string | null;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send `body` as is (a string), not JSON-encoded. */
  raw?: boolean;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServer<S extends FakeState> {
  url: string;
  port: number;
  state: S;
  close(): Promise<void>;
}

export const basicAuth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export function newFakeState(): FakeState {
  return { requests: [], faults: [], hangAll: false, authorization: null };
}

function send(res: ServerResponse, reply: FakeReply): void {
  const headers = { ...reply.headers };
  let text: string;
  if (reply.body === undefined) text = '';
  else if (reply.raw === true && typeof reply.body === 'string') text = reply.body;
  else {
    text = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(text);
}

function faultReply(f: Exclude<Fault, { hang: true }>): FakeReply {
  if ('status' in f) {
    return typeof f.body === 'string'
      ? { status: f.status, body: f.body, raw: true, headers: { 'content-type': 'text/plain', ...f.headers } }
      : { status: f.status, body: f.body, ...(f.headers ? { headers: f.headers } : {}) };
  }
  if (f.garbage === 'html') return { status: 200, raw: true, body: '<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>', headers: { 'content-type': 'text/html' } };
  if (f.garbage === 'truncated') return { status: 200, raw: true, body: '{"status":"success","data":{"resu', headers: { 'content-type': 'application/json' } };
  return { status: 200, body: f.body ?? { unexpected: true } };
}

/** Starts a fake on 127.0.0.1 (port 0 = any free port; another host for the demo registry in a container). */
export async function startFake<S extends FakeState>(state: S, handler: FakeHandler, port = 0, host = '127.0.0.1'): Promise<FakeServer<S>> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = body === '' ? undefined : JSON.parse(body);
        } catch {
          json = undefined;
        }
        const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, json };
        state.requests.push(rec);
        if (state.hangAll) return;
        const fault = state.faults.shift();
        if (fault !== undefined) {
          if ('hang' in fault) return;
          send(res, faultReply(fault));
          return;
        }
        if (state.authorization !== null && req.headers.authorization !== state.authorization) {
          send(res, { status: 401, body: { error_code: 'UNAUTHENTICATED', message: 'missing or wrong credentials' } });
          return;
        }
        try {
          send(res, await handler(rec));
        } catch (e) {
          send(res, { status: 500, body: { error: String(e) } });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${addr.port}`,
    port: addr.port,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
