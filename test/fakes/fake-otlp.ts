import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * An OTLP/HTTP trace receiver, as a collector answers (opentelemetry-proto, docs/specification.md,
 * "OTLP/HTTP"): `POST /v1/traces` with an ExportTraceServiceRequest (here JSON, as
 * @opentelemetry/exporter-trace-otlp-http sends it: Content-Type application/json, ids as hex),
 * answered 200 with an ExportTraceServiceResponse (`{}`: full success). `failNext` answers the next
 * requests 503 with Retry-After (retryable, per the spec); another path is 404.
 */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

export interface FakeOtlp {
  url: string;
  spans: OtlpSpan[];
  requests: number;
  failNext: number;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
const attrs = (list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

export async function startFakeOtlp(): Promise<FakeOtlp> {
  const state = { spans: [] as OtlpSpan[], requests: 0, failNext: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (state.failNext > 0) {
        state.failNext--;
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' }).end(JSON.stringify({ code: 14, message: 'unavailable' }));
        return;
      }
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      type Req = { resourceSpans?: { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans?: { spans?: (Omit<OtlpSpan, 'attributes' | 'resource'> & { attributes?: { key: string; value: AnyValue }[] })[] }[] }[] };
      let body: Req;
      try {
        body = JSON.parse(raw.toString('utf8')) as Req;
      } catch {
        // a body that is not an ExportTraceServiceRequest: 400 with a Status (the spec's bad data answer)
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 3, message: 'invalid JSON' }));
        return;
      }
      for (const rs of body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) state.spans.push({ ...s, attributes: attrs(s.attributes), resource });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    get spans() {
      return state.spans;
    },
    get requests() {
      return state.requests;
    },
    get failNext() {
      return state.failNext;
    },
    set failNext(n: number) {
      state.failNext = n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
