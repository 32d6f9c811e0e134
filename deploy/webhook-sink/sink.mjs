#!/usr/bin/env node
// A tiny webhook receiver for the demo stack (no dependencies): Alertmanager's webhook_configs
// (payload version 4) and Vigil's webhook notifier post here. Every alert received is logged as
// one JSON line on stdout and listed, newest first, on GET / (JSON). GET /healthz answers "ok".
//
//   PORT=8080 node sink.mjs        # then: curl -s localhost:8080/ | jq
//
// It keeps the last SINK_MAX_ALERTS (default 500) alerts in memory; nothing is written to disk.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '0.0.0.0';
const max = Number(process.env.SINK_MAX_ALERTS ?? 500);
const maxBody = 4 * 1024 * 1024;

/** Alerts received, newest first: { receivedAt, path, receiver, status, labels, annotations, startsAt, endsAt }. */
const received = [];
let posts = 0;

function record(path, payload) {
  posts += 1;
  // Alertmanager (and Vigil's webhook notifier) send { receiver, status, alerts: [...] };
  // anything else is kept whole as one entry.
  const alerts = Array.isArray(payload?.alerts) ? payload.alerts : [payload];
  for (const a of alerts) {
    const entry = {
      receivedAt: new Date().toISOString(),
      path,
      receiver: payload?.receiver ?? null,
      status: a?.status ?? payload?.status ?? null,
      labels: a?.labels ?? {},
      annotations: a?.annotations ?? {},
      startsAt: a?.startsAt ?? null,
      endsAt: a?.endsAt ?? null,
    };
    received.unshift(entry);
    process.stdout.write(`${JSON.stringify({ msg: 'alert received', ...entry })}\n`);
  }
  received.length = Math.min(received.length, max);
}

const send = (res, status, body, type = 'application/json') => {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8` });
  res.end(type === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : body);
};

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://sink').pathname;
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
  if (req.method === 'GET' && path === '/') return send(res, 200, { posts, alerts: received });
  if (req.method !== 'POST') return send(res, 405, { error: 'use POST to deliver, GET / to list' });
  let size = 0;
  const chunks = [];
  req.on('data', (c) => {
    size += c.length;
    if (size > maxBody) {
      send(res, 413, { error: 'body too large' });
      req.destroy();
    } else chunks.push(c);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    try {
      record(path, JSON.parse(Buffer.concat(chunks).toString('utf8')));
      send(res, 200, { ok: true });
    } catch (e) {
      send(res, 400, { error: `not JSON: ${e instanceof Error ? e.message : String(e)}` });
    }
  });
});

server.listen(port, host, () => {
  const a = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'webhook sink listening', url: `http://${a.address}:${a.port}` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
