import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { ServerConfig } from '../config/schema.js';
import type { TlsMaterial } from '../config/tls.js';
import type { Logger } from '../core/logger.js';

export { readTls, type TlsMaterial } from '../config/tls.js';

/**
 * The socket side of the HTTP server: slow-client timeouts, the connection limit and TLS
 * (`server.timeouts`, `server.max_connections`, `server.tls`). Everything here but switching TLS
 * on or off (and the listen address, port and body limit, elsewhere) applies on reload.
 */

/** How often Node checks the header and body timeouts: fixed when the server is built. */
export const checkingInterval = (t: ServerConfig['timeouts']): number => Math.min(1000, Math.max(100, Math.floor(Math.min(t.headers, t.body) / 4)));

/** The Fastify options of the listener (timeouts as they are at start; TLS if configured). */
export function listenerOptions(server: ServerConfig, tls: TlsMaterial | null): {
  http?: HttpServerOptions;
  https?: HttpServerOptions & TlsMaterial & { handshakeTimeout: number };
  requestTimeout: number;
  keepAliveTimeout: number;
} {
  const t = server.timeouts;
  const node: HttpServerOptions = {
    headersTimeout: t.headers,
    requestTimeout: t.body,
    keepAliveTimeout: t.idle,
    connectionsCheckingInterval: checkingInterval(t),
  };
  // Fastify sets requestTimeout and keepAliveTimeout on the server itself from its own options.
  const common = { requestTimeout: t.body, keepAliveTimeout: t.idle };
  // The HTTP timeouts start once the TLS handshake is done: the handshake gets the headers
  // timeout of its own (Node's default is 120 s; fixed at construction).
  return tls === null ? { ...common, http: node } : { ...common, https: { ...node, ...tls, handshakeTimeout: t.headers } };
}

/**
 * Applies the reloadable settings to the listening server: timeouts and the connection limit,
 * and a new certificate (new TLS connections get it; open ones keep theirs).
 */
export function applyListener(srv: HttpServer | HttpsServer, server: ServerConfig, tls: TlsMaterial | null): void {
  srv.headersTimeout = server.timeouts.headers;
  srv.requestTimeout = server.timeouts.body;
  srv.keepAliveTimeout = server.timeouts.idle;
  srv.maxConnections = server.max_connections === 0 ? Infinity : server.max_connections;
  if (tls !== null && 'setSecureContext' in srv) srv.setSecureContext(tls);
}

/**
 * Logs the connections refused at `server.max_connections`: one warning at most every
 * `everyMs`, with how many were refused since the last one.
 */
export function logDroppedConnections(srv: HttpServer | HttpsServer, logger: Logger, limit: () => number, now: () => number, everyMs = 10_000): void {
  const log = logger.child({ component: 'http' });
  let dropped = 0;
  let lastLog = -Infinity;
  srv.on('drop', () => {
    dropped++;
    const t = now();
    if (t - lastLog < everyMs) return;
    log.warn({ dropped, limit: limit() }, 'connections refused: server.max_connections reached');
    dropped = 0;
    lastLog = t;
  });
}

/** How long a connection refused before its body stays half-open for the client to read the answer. */
export const LINGER_MS = 2000;

/**
 * Makes the end of this connection's `Connection: close` answer stop reading instead of reading
 * on: once the answer is flushed, the write side is closed (FIN), reading stops — the rest of the
 * body stays unread in the kernel, then unsent — and the socket is destroyed after `lingerMs`.
 * Node's own close (`destroySoon`: end, then destroy as soon as the answer is flushed) reads
 * nothing more either, but the reset that destroy sends over unread data reaches a client still
 * writing its body before it has read the answer: it sees ECONNRESET/EPIPE instead of the 401
 * (the "lingering close" problem nginx's `lingering_close` and Apache handle the same way).
 */
export function closeWithoutReading(socket: Socket, lingerMs = LINGER_MS): void {
  socket.destroySoon = function (this: Socket): void {
    this.end();
    // Node's HTTP server has no public way to stop its parser reading a socket; `_paused` is the
    // flag it checks itself before resuming one (lib/_http_server.js, lib/_http_incoming.js).
    (this as Socket & { _paused: boolean })._paused = true;
    this.pause();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    this.once('close', () => clearTimeout(timer));
  };
}
