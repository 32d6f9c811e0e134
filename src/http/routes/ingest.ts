import { SpanKind, type Link } from '../../core/tracing.js';
import { TRACEPARENT_RE } from '../../ingest/events.js';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { VigilError } from '../../core/errors.js';
import type { IngestKind, IngestResult } from '../../ingest/ingestor.js';
import { addBatchParsers } from '../body.js';
import type { ServerDeps } from '../server.js';

export const MODEL_PARAMS = {
  type: 'object',
  required: ['model'],
  properties: { model: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/**
 * `POST /v1/models/:model/predictions` and `…/labels`: a JSON array (or one object) or NDJSON.
 * Answers: 200 every item stored (re-sent ids are listed under `duplicates` and not stored
 * again); 207 some items rejected, the others stored; 422 every item rejected; 400 malformed
 * body (names the line); 404 unknown model; 421 a model another shard monitors (cluster.shard);
 * 413 body or batch too large; 415 another content type, charset or encoding (gzip, deflate and
 * br bodies are decoded); 401/403 token.
 */
export const ingestRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  // Parsers local to this plugin: the body arrives as text and is parsed by us, so errors name the line.
  addBatchParsers(app);

  const route = (kind: IngestKind) => async (req: { params: unknown; body: unknown; headers: Record<string, string | string[] | undefined> }, reply: FastifyReply) => {
    const { model } = req.params as { model: string };
    deps.ingestor.model(model); // 404 before anything else
    if (!Array.isArray(req.body)) {
      throw new VigilError('VIGIL_ERR_INGEST_MALFORMED', 'the body must be a JSON array or NDJSON (Content-Type application/json or application/x-ndjson)', {
        statusCode: 400,
      });
    }
    const max = deps.config().server.max_batch_items;
    if (req.body.length > max) {
      throw new VigilError('VIGIL_ERR_INGEST_BATCH_TOO_LARGE', `the batch has ${req.body.length} items; the limit is ${max} (server.max_batch_items)`, {
        statusCode: 413,
      });
    }
    // The caller's trace context (a W3C traceparent header) is each prediction's that has none of its own.
    const header = req.headers.traceparent;
    const items = kind === 'predictions' && typeof header === 'string' && TRACEPARENT_RE.test(header) ? withTraceparent(req.body, header) : req.body;
    const ingest = async (): Promise<IngestResult> => deps.ingestor.ingest(kind, model, items);
    // a span per request, a child of the caller's when it sent a W3C traceparent
    const tracing = deps.tracing;
    const result: IngestResult =
      tracing === undefined || !tracing.enabled
        ? await ingest()
        : await tracing.span(
            `ingest ${kind}`,
            { kind: SpanKind.SERVER, parent: tracing.extract(req.headers), attributes: { 'vigil.model': model, 'vigil.kind': kind, 'vigil.items': items.length }, links: itemLinks(items, header) },
            async (span) => {
              const r = await ingest();
              span.setAttributes({ 'vigil.accepted': r.accepted, 'vigil.duplicates': r.duplicates.length, 'vigil.rejected': r.rejected.length });
              return r;
            },
          );
    const status = result.rejected.length === 0 ? 200 : result.accepted + result.duplicates.length > 0 ? 207 : 422;
    return reply.status(status).send(result);
  };

  const opts = { schema: { params: MODEL_PARAMS }, config: { access: 'ingest' as const } };
  // (the helpers below: the request's trace context given to its items, and the items' own as span links)
  app.post('/v1/models/:model/predictions', opts, route('predictions'));
  app.post('/v1/models/:model/labels', opts, route('labels'));
};

/** The items, each object without a `traceparent` of its own given the request's. */
function withTraceparent(items: readonly unknown[], traceparent: string): unknown[] {
  return items.map((it) => (it !== null && typeof it === 'object' && !Array.isArray(it) && !Object.hasOwn(it, 'traceparent') ? { ...it, traceparent } : it));
}

/** At most this many links from an ingestion span to its predictions' own traces. */
const MAX_LINKS = 32;

/** Span links to the distinct trace contexts the items carry (other than the request's own). */
function itemLinks(items: readonly unknown[], header: string | string[] | undefined): Link[] {
  const seen = new Set<string>(typeof header === 'string' ? [header] : []);
  const links: Link[] = [];
  for (const it of items) {
    if (links.length >= MAX_LINKS) break;
    const tp = it !== null && typeof it === 'object' ? (it as { traceparent?: unknown }).traceparent : undefined;
    if (typeof tp !== 'string' || seen.has(tp) || !TRACEPARENT_RE.test(tp)) continue;
    seen.add(tp);
    const [, traceId, spanId, flags] = tp.split('-') as [string, string, string, string];
    links.push({ context: { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 1, isRemote: true } });
  }
  return links;
}
