import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isVigilError } from '../core/errors.js';

/**
 * Every error answer of the API has one shape, `{"error": {"code": "VIGIL_ERR_…", "message": …}}`:
 * ours (VigilError), Fastify's own (validation, body parsing, bad URLs, unknown routes and
 * methods) and Node's HTTP parser errors on the socket. Unexpected errors are logged and answered
 * with a generic 500 that leaks nothing.
 */

export interface ErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

/** Fastify's client-error codes we name ourselves (the others become VIGIL_ERR_HTTP_<code>). */
const FASTIFY_CODES: Record<string, { code: string; message?: (err: FastifyError, req: FastifyRequest) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'VIGIL_ERR_HTTP_BODY_TOO_LARGE',
    message: (_e, req) => `the request body is larger than server.max_body_bytes (${req.routeOptions?.bodyLimit ?? '?'} bytes; the limit applies after decompression)`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
    message: (_e, req) => {
      const type = req.headers['content-type'];
      return type === undefined
        ? 'a request body needs a Content-Type header: application/json (or application/x-ndjson on the ingestion endpoints)'
        : `Content-Type "${type}" is not supported here: send application/json (or application/x-ndjson on the ingestion endpoints)`;
    },
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'VIGIL_ERR_HTTP_BAD_CONTENT_LENGTH', message: () => 'the body length differs from the Content-Length header' },
  FST_ERR_BAD_URL: { code: 'VIGIL_ERR_HTTP_BAD_URL', message: (e) => `the URL is not valid (${e.message})` },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'VIGIL_ERR_HTTP_BAD_URL', message: () => 'a path segment of the URL is too long' },
};

/** The answer to an error thrown by a route, a hook or Fastify itself. */
export function errorAnswer(err: FastifyError, req: FastifyRequest): { status: number; body: ErrorBody; unexpected: boolean } {
  if (isVigilError(err)) {
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message, ...(err.details ?? {}) } }, unexpected: err.statusCode >= 500 && err.code !== 'VIGIL_ERR_HTTP_CLOSING' };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode <= 599 ? err.statusCode : 500;
  if (status >= 500) {
    return { status: 500, body: { error: { code: 'VIGIL_ERR_INTERNAL', message: 'internal error (see the daemon log)' } }, unexpected: true };
  }
  if (err.validation) {
    return { status, body: { error: { code: 'VIGIL_ERR_HTTP_VALIDATION', message: err.message } }, unexpected: false };
  }
  const known = err.code === undefined ? undefined : FASTIFY_CODES[err.code];
  const code = known?.code ?? `VIGIL_ERR_HTTP_${(err.code ?? 'BAD_REQUEST').replace(/^FST_ERR_/, '').replace(/[^A-Z0-9_]/gi, '_').toUpperCase()}`;
  const message = known?.message?.(err, req) ?? err.message;
  return { status, body: { error: { code, message } }, unexpected: false };
}

/** Fastify's `frameworkErrors`: errors found before routing (a malformed URL, a path segment too long). */
export function frameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorAnswer(err, req);
  void reply.status(status).send(body);
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (malformed request line or
 * headers, headers too large, request timeout), so there is no request object: the answer is
 * written on the socket, in the same JSON shape, and the connection is closed.
 */
export function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'VIGIL_ERR_HTTP_HEADERS_TOO_LARGE', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'VIGIL_ERR_HTTP_REQUEST_TIMEOUT', 'the request took too long to arrive']
        : [400, 'VIGIL_ERR_HTTP_BAD_REQUEST', `the HTTP request is malformed${err.code?.startsWith('HPE_') ? ` (${err.code})` : ''}`];
  const body = JSON.stringify({ error: { code, message } });
  if (!socket.writable) return void socket.destroy();
  // end, then destroy once written: a destroy right after write may drop the answer. A write that
  // never completes (a TLS socket whose handshake never finished: its data waits for the
  // handshake) must not keep the socket: it is destroyed a second later whatever happened.
  const force = setTimeout(() => socket.destroy(), 1000);
  force.unref();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => {
      clearTimeout(force);
      socket.destroy();
    },
  );
}

interface RouteShape {
  re: RegExp;
  methods: Set<string>;
}

/**
 * Remembers every route's path and methods (an `onRoute` hook on the root, added before the
 * routes), so that a request for a known path with another method is a 405 naming the allowed
 * ones rather than a 404.
 */
export function routeMethods(app: FastifyInstance): (path: string) => string[] {
  const shapes = new Map<string, RouteShape>();
  app.addHook('onRoute', (opts) => {
    const url = opts.url ?? opts.path;
    if (url === undefined || url === '') return;
    let shape = shapes.get(url);
    if (shape === undefined) {
      const pattern = url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      shape = { re: new RegExp(`^${pattern}/?$`), methods: new Set() };
      shapes.set(url, shape);
    }
    for (const m of Array.isArray(opts.method) ? opts.method : [opts.method]) shape.methods.add(String(m));
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const s of shapes.values()) if (s.re.test(path)) for (const m of s.methods) allowed.add(m);
    return [...allowed].sort();
  };
}

/** Unknown routes: 405 with `Allow` for a known path, else 404. */
export function notFound(allowedMethods: (path: string) => string[]) {
  return (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      return reply
        .status(405)
        .header('Allow', allowed.join(', '))
        .send({ error: { code: 'VIGIL_ERR_HTTP_METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})` } });
    }
    return reply.status(404).send({ error: { code: 'VIGIL_ERR_HTTP_NOT_FOUND', message: `no route for ${req.method} ${path}` } });
  };
}
