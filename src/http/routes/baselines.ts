import type { FastifyPluginAsync } from 'fastify';
import { VigilError } from '../../core/errors.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { buildBaseline, storeBaseline, type BaselineRow } from '../../monitors/baseline.js';
import { rowsFromItems, rowsFromStore } from '../../monitors/baseline-input.js';
import { requireRole } from '../auth.js';
import { addBatchParsers, parseBaselineJson } from '../body.js';
import type { ServerDeps } from '../server.js';
import { MODEL_PARAMS } from './ingest.js';

const iso = (ts: number): string => new Date(ts).toISOString();

/**
 * `POST /v1/models/:model/baselines?version=V` with reference rows (a JSON array or NDJSON of
 * `{features, prediction?, score?, label?}`), or `{"from_window": "24h", "version": "V"}` to freeze
 * the last 24 h of stored traffic. `GET /v1/models/:model/baselines` lists them.
 */
export const baselineRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  addBatchParsers(app, parseBaselineJson);

  app.post(
    '/v1/models/:model/baselines',
    {
      preHandler: requireRole(() => deps.config().server.tokens, 'ingest'),
      schema: { params: MODEL_PARAMS, querystring: { type: 'object', additionalProperties: false, properties: { version: { type: 'string', minLength: 1, maxLength: 128 } } } },
    },
    async (req, reply) => {
      const { model: name } = req.params as { model: string };
      const model = deps.ingestor.model(name);
      const now = deps.clock.now();
      let rows: BaselineRow[];
      let source: string;
      let version = (req.query as { version?: string }).version;
      let rejected: unknown[] = [];
      if (Array.isArray(req.body)) {
        const r = rowsFromItems(model, req.body);
        rows = r.rows;
        rejected = r.rejected;
        source = 'api';
      } else {
        const b = req.body as { from_window?: unknown; version?: unknown };
        if (typeof b.from_window !== 'string') throw new VigilError('VIGIL_ERR_BASELINE_INPUT', 'from_window must be a duration such as "24h"', { statusCode: 400 });
        let ms: number;
        try {
          ms = parseDuration(b.from_window);
        } catch {
          throw new VigilError('VIGIL_ERR_BASELINE_INPUT', `from_window: not a valid duration "${b.from_window}"`, { statusCode: 400 });
        }
        if (typeof b.version === 'string') version = b.version;
        rows = await rowsFromStore(deps.store, model, now - ms, now);
        source = `window:${formatDuration(ms)}`;
      }
      if (rows.length === 0) {
        throw new VigilError('VIGIL_ERR_BASELINE_EMPTY', 'no usable rows for a baseline', { statusCode: 422, details: { rejected } });
      }
      version ??= 'unknown';
      const built = buildBaseline(model, rows);
      const summary = built.summary;
      const saved = await storeBaseline(deps.store, { model: model.name, version, createdAt: now, source }, built);
      return reply.status(rejected.length > 0 ? 207 : 201).send({
        id: saved.id,
        model: model.name,
        version,
        source,
        rows: rows.length,
        created_at: iso(now),
        features: Object.keys(summary.features),
        quality: summary.quality,
        rejected,
      });
    },
  );

  app.get('/v1/models/:model/baselines', { schema: { params: MODEL_PARAMS } }, async (req) => {
    const { model } = req.params as { model: string };
    deps.ingestor.model(model);
    const list = await deps.store.listBaselineMeta(model);
    return {
      baselines: list.map((b) => ({ id: b.id, version: b.version, source: b.source, rows: b.rows, created_at: iso(b.createdAt), features: b.features, quality: b.quality })),
    };
  });
};
