import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { createDaemon, type Daemon } from '../daemon.js';
import { BASE_CONFIG } from '../../test/harness.js';

/**
 * The transport edge on a real socket (timeouts and connection limits do not exist under
 * `inject`): a started daemon on 127.0.0.1, port 0, with short timeouts, and raw TCP clients that
 * misbehave. Bounds are generous (a slow machine passes); nothing here measures speed.
 */

interface Listening {
  daemon: Daemon;
  port: number;
  logs: string[];
  configFile: string;
  dir: string;
  close: () => Promise<void>;
}

const INGEST = 'ingest-token-0123456789';
const SHORT = 'server:\n  port: 0\n  timeouts: { headers: 1s, body: 2s, idle: 1s }\n';

const configText = (dir: string, server: string): string => `${server}storage:\n  path: ${join(dir, 'vigil.db')}\n${BASE_CONFIG}`;

async function listening(server: string): Promise<Listening> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-edge-'));
  const configFile = join(dir, 'vigil.yaml');
  writeFileSync(configFile, configText(dir, server));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const daemon = createDaemon({ initial: await loadConfigFile(configFile, {}), logger: createLogger({ level: 'info', destination }), clock: systemClock, env: {} });
  const url = await daemon.start();
  return {
    daemon,
    port: Number(new URL(url).port),
    logs,
    configFile,
    dir,
    close: async () => {
      await daemon.stop('test over');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw TCP client: what it received, and when the server closed it (ms after connecting). */
interface Client {
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
}

function client(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = connect({ port, host: '127.0.0.1' });
    let data = '';
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => undefined); // EPIPE/ECONNRESET after the server closed: the close below says it
    const closed = new Promise<number>((r) => socket.on('close', () => r(performance.now() - t0)));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Writes `chunk` every `ms` while the socket is open; returns the stopper. */
function trickle(socket: Socket, chunk: string, ms: number): () => void {
  const t = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(chunk);
  }, ms);
  return () => clearInterval(t);
}

const waitUntil = async (what: string, ok: () => boolean, ms = 15_000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

let running: Listening | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('slow clients', () => {
  it('a client trickling its headers gets 408 and is closed after server.timeouts.headers', async () => {
    running = await listening(SHORT);
    const c = await client(running.port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: vigil\r\n');
    const stop = trickle(c.socket, 'X-Slow: 1\r\n', 200); // a header line every 200 ms, never the end
    const closedAfter = await c.closed;
    stop();
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(closedAfter).toBeGreaterThan(900); // the 1 s headers timeout, not something else
    expect(closedAfter).toBeLessThan(15_000);
  });

  it('a client sending one body byte at a time gets 408 and is closed after server.timeouts.body', async () => {
    running = await listening(SHORT);
    const c = await client(running.port);
    c.socket.write(`POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[`);
    const stop = trickle(c.socket, ' ', 200);
    const closedAfter = await c.closed;
    stop();
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(closedAfter).toBeGreaterThan(1900); // the 2 s body timeout
    expect(closedAfter).toBeLessThan(15_000);
    // The daemon still serves.
    const ok = await client(running.port);
    ok.socket.write('GET /healthz HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n');
    await ok.closed;
    expect(ok.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('an idle keep-alive connection is closed after server.timeouts.idle', async () => {
    running = await listening(SHORT);
    const c = await client(running.port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: vigil\r\n\r\n');
    await waitUntil('the answer', () => c.received().includes('{"status":"ok"}'));
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.received()).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    expect(await c.closed).toBeLessThan(15_000); // 1 s idle (+ Node's 1 s grace)
  });

  it('timeouts changed by a reload apply to new requests', async () => {
    running = await listening(SHORT);
    writeFileSync(running.configFile, configText(running.dir, 'server:\n  port: 0\n  timeouts: { headers: 3s, body: 3s, idle: 1s }\n'));
    const r = await running.daemon.reload();
    expect(r).toMatchObject({ ok: true, restartRequired: [] });
    const c = await client(running.port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: vigil\r\n');
    const stop = trickle(c.socket, 'X-Slow: 1\r\n', 200);
    const closedAfter = await c.closed;
    stop();
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfter).toBeGreaterThan(2900); // the new 3 s, not the 1 s it started with
  });
});

describe('server.max_connections', () => {
  it('closes connections beyond the limit as they arrive, logs it, and takes a new limit on reload', async () => {
    running = await listening('server:\n  port: 0\n  max_connections: 2\n');
    const held = [await client(running.port), await client(running.port)];
    const refused = await client(running.port);
    expect(await refused.closed).toBeLessThan(15_000);
    expect(refused.received()).toBe('');
    await waitUntil('the warning', () => running?.logs.some((l) => l.includes('connections refused: server.max_connections reached')) ?? false);
    expect(running.logs.find((l) => l.includes('max_connections reached'))).toContain('"limit":2');

    writeFileSync(running.configFile, configText(running.dir, 'server:\n  port: 0\n  max_connections: 3\n'));
    expect(await running.daemon.reload()).toMatchObject({ ok: true, restartRequired: [] });
    const third = await client(running.port);
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n');
    await third.closed;
    expect(third.received()).toMatch(/^HTTP\/1\.1 200 /);
    for (const h of held) h.socket.destroy();
  });
});

describe('a request refused before its body', () => {
  const TOKENS = `server:\n  port: 0\n  tokens:\n    ingest: ["${INGEST}"]\n`;
  const LENGTH = 67_000_000;

  it('gets its 401 with only its headers and a first chunk sent, and the connection is closed', async () => {
    running = await listening(TOKENS);
    const c = await client(running.port);
    c.socket.write(`POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: ${LENGTH}\r\n\r\n`);
    c.socket.write(`[${'{"id":"x","features":{"amount":1},'.repeat(30_000)}`); // ~1 MB of a 67 MB body, and malformed
    // No more is sent: the answer cannot have waited for the body.
    await waitUntil('the 401', () => /\r\n\r\n\{.*\}$/.test(c.received()));
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(c.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(c.received()).toContain('VIGIL_ERR_AUTH_MISSING');
    expect(await c.closed).toBeLessThan(15_000); // the server closed it; the client never finished
    const stored = await running.daemon.app.inject({ url: '/v1/models/fraud' });
    expect(stored.json().predictions).toBe(0);
  });

  it('a chunked body is refused the same way: 401 after the first chunk, the connection closed', async () => {
    running = await listening(TOKENS);
    const c = await client(running.port);
    c.socket.write('POST /v1/models/fraud/labels HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"id"\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(c.received()).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('a client flooding its 67 MB body still reads its 401, and Vigil reads no more of the body after answering', async () => {
    running = await listening(TOKENS);
    const serverSockets: Socket[] = [];
    running.daemon.app.server.on('connection', (s: Socket) => serverSockets.push(s));
    const c = await client(running.port);
    c.socket.write(`POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: ${LENGTH}\r\n\r\n`);
    c.socket.write(Buffer.alloc(LENGTH, 0x20)); // all of it at once, as fast as the socket takes it
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    const read = serverSockets[0]?.bytesRead ?? Infinity;
    expect(read).toBeLessThan(16 * 1024 * 1024); // a few hundred KB here: what arrived before the answer
  });

  it('Expect: 100-continue: no token → 401 without "100 Continue"; a valid token → 100, then the body is read', async () => {
    running = await listening(TOKENS);
    const body = JSON.stringify([{ id: 'c1', model_version: 'v1', features: { amount: 1, country: 'PL' }, prediction: 1, score: 0.5 }]);
    const head = (token?: string) =>
      `POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;

    const refused = await client(running.port);
    refused.socket.write(head());
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused.received()).not.toContain('100 Continue');

    const accepted = await client(running.port);
    accepted.socket.write(head(INGEST));
    await waitUntil('100 Continue', () => accepted.received().length > 0);
    expect(accepted.received()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    accepted.socket.write(body);
    await waitUntil('the answer', () => accepted.received().includes('"accepted"'));
    expect(accepted.received()).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    accepted.socket.destroy();
  });
});
