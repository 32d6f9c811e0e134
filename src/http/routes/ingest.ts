import { SpanKind } from '../../core/tracing.js';
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
    const items = req.body;
    const ingest = async (): Promise<IngestResult> => deps.ingestor.ingest(kind, model, items);
    // a span per request, a child of the caller's when it sent a W3C traceparent
    const tracing = deps.tracing;
    const result: IngestResult =
      tracing === undefined || !tracing.enabled
        ? await ingest()
        : await tracing.span(`ingest ${kind}`, { kind: SpanKind.SERVER, parent: tracing.extract(req.headers), attributes: { 'vigil.model': model, 'vigil.kind': kind, 'vigil.items': items.length } }, async (span) => {
            const r = await ingest();
            span.setAttributes({ 'vigil.accepted': r.accepted, 'vigil.duplicates': r.duplicates.length, 'vigil.rejected': r.rejected.length });
            return r;
          });
    const status = result.rejected.length === 0 ? 200 : result.accepted + result.duplicates.length > 0 ? 207 : 422;
    return reply.status(status).send(result);
  };

  const opts = { schema: { params: MODEL_PARAMS }, config: { access: 'ingest' as const } };
  app.post('/v1/models/:model/predictions', opts, route('predictions'));
  app.post('/v1/models/:model/labels', opts, route('labels'));
};
