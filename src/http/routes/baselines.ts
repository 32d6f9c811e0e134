import type { FastifyPluginAsync } from 'fastify';
import { isVigilError, VigilError } from '../../core/errors.js';
import { baselineExists } from '../../store/store.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { buildBaseline, calibrationReport, classCalibrationsReport, segmentRows, storeBaseline, type BaselineRow, type BaselineSummary } from '../../monitors/baseline.js';
import { rowsFromItems, rowsFromStore } from '../../monitors/baseline-input.js';
import { addBatchParsers, parseBaselineJson } from '../body.js';
import type { ServerDeps } from '../server.js';
import { MODEL_PARAMS } from './ingest.js';

const iso = (ts: number): string => new Date(ts).toISOString();

/**
 * `POST /v1/models/:model/baselines?version=V` with reference rows (a JSON array or NDJSON of
 * `{features, prediction?, score?, label?}`, each checked as the predictions endpoint checks an item:
 * a multiclass score is `{class: probability}`), or `{"from_window": "24h", "version": "V"}` to freeze
 * the last 24 h of stored traffic. The version is required (400). A version has one baseline: a
 * second is 409 VIGIL_ERR_BASELINE_EXISTS unless `?replace=true`, which replaces it in one
 * transaction (the engine loads the replacement at its next cycle, as it does a new baseline).
 * `GET /v1/models/:model/baselines` lists them.
 */
export const baselineRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  addBatchParsers(app, parseBaselineJson);

  app.post(
    '/v1/models/:model/baselines',
    {
      config: { access: 'ingest' },
      schema: {
        params: MODEL_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { version: { type: 'string', maxLength: 128 }, replace: { type: 'boolean' } } },
      },
    },
    async (req, reply) => {
      const { model: name } = req.params as { model: string };
      const model = deps.ingestor.model(name);
      const now = deps.clock.now();
      const query = req.query as { version?: string; replace?: boolean };
      const replace = query.replace === true;
      const fromWindow = !Array.isArray(req.body);
      const b = (fromWindow && req.body !== null && typeof req.body === 'object' ? req.body : {}) as { from_window?: unknown; version?: unknown };
      if (b.version !== undefined && typeof b.version !== 'string') throw new VigilError('VIGIL_ERR_BASELINE_VERSION', 'version must be a string', { statusCode: 400 });
      if (typeof b.version === 'string' && query.version !== undefined && b.version !== query.version) {
        throw new VigilError('VIGIL_ERR_BASELINE_VERSION', `version is given twice, differently ("${query.version}" in the query, "${b.version}" in the body)`, { statusCode: 400 });
      }
      const version = (b.version as string | undefined) ?? query.version;
      if (version === undefined || version.trim() === '') {
        throw new VigilError(
          'VIGIL_ERR_BASELINE_VERSION',
          `version is required: the model version this baseline is for, e.g. ?version=v3${fromWindow ? ' (or "version" in the from_window body)' : ''}`,
          { statusCode: 400 },
        );
      }
      if (version.length > 128) throw new VigilError('VIGIL_ERR_BASELINE_VERSION', 'version must be at most 128 characters', { statusCode: 400 });
      const exists = async (): Promise<VigilError | undefined> => {
        const ids = (await deps.store.listBaselineMeta(model.name)).filter((m) => m.version === version).map((m) => m.id);
        return ids.length > 0 ? withReplaceHint(baselineExists(model.name, version, ids)) : undefined;
      };
      // Said before the rows are summarized (the store checks again, atomically, when it saves).
      if (!replace) {
        const e = await exists();
        if (e !== undefined) throw e;
      }
      let rows: BaselineRow[];
      let source: string;
      let rejected: unknown[] = [];
      if (!fromWindow) {
        const r = rowsFromItems(model, req.body as unknown[]);
        rows = r.rows;
        rejected = r.rejected;
        source = 'api';
      } else {
        if (typeof b.from_window !== 'string') throw new VigilError('VIGIL_ERR_BASELINE_INPUT', 'from_window must be a duration such as "24h"', { statusCode: 400 });
        let ms: number;
        try {
          ms = parseDuration(b.from_window);
        } catch {
          throw new VigilError('VIGIL_ERR_BASELINE_INPUT', `from_window: not a valid duration "${b.from_window}"`, { statusCode: 400 });
        }
        rows = await rowsFromStore(deps.store, model, now - ms, now);
        source = `window:${formatDuration(ms)}`;
      }
      if (rows.length === 0) {
        throw new VigilError('VIGIL_ERR_BASELINE_EMPTY', 'no usable rows for a baseline', { statusCode: 422, details: { rejected } });
      }
      const built = buildBaseline(model, rows);
      const summary = built.summary;
      let saved;
      try {
        saved = await storeBaseline(deps.store, { model: model.name, version, createdAt: now, source }, built, { replace });
      } catch (e) {
        if (isVigilError(e) && e.code === 'VIGIL_ERR_BASELINE_EXISTS') throw withReplaceHint(e); // stored meanwhile by another writer
        throw e;
      }
      return reply.status(rejected.length > 0 ? 207 : saved.replaced.length > 0 ? 200 : 201).send({
        id: saved.id,
        model: model.name,
        version,
        source,
        rows: rows.length,
        created_at: iso(now),
        features: Object.keys(summary.features),
        quality: summary.quality,
        ...(summary.calibration ? { calibration: calibrationReport(summary.calibration) } : {}),
        ...(summary.classCalibrations ? { class_calibrations: classCalibrationsReport(summary.classCalibrations) } : {}),
        ...(summary.segments ? { segments: segmentRows(summary.segments) } : {}),
        replaced: saved.replaced,
        rejected,
      });
    },
  );

  app.get('/v1/models/:model/baselines', { schema: { params: MODEL_PARAMS } }, async (req) => {
    const { model } = req.params as { model: string };
    deps.ingestor.model(model);
    const list = await deps.store.listBaselineMeta(model);
    // the label-free estimate's calibration, from the summaries (read only for this listing)
    const calibrations = new Map<number, Pick<BaselineSummary, 'calibration' | 'classCalibrations' | 'segments'>>();
    for (const r of await deps.store.listBaselines(model)) {
      try {
        const { calibration, classCalibrations, segments } = JSON.parse(r.summary) as BaselineSummary;
        calibrations.set(r.id, { ...(calibration ? { calibration } : {}), ...(classCalibrations ? { classCalibrations } : {}), ...(segments ? { segments } : {}) });
      } catch {
        // a summary that does not parse: listed without (the engine reports the corrupt baseline)
      }
    }
    return {
      baselines: list.map((b) => {
        const c = calibrations.get(b.id);
        return {
          id: b.id,
          version: b.version,
          source: b.source,
          rows: b.rows,
          created_at: iso(b.createdAt),
          features: b.features,
          quality: b.quality,
          ...(c?.calibration ? { calibration: calibrationReport(c.calibration) } : {}),
          ...(c?.classCalibrations ? { class_calibrations: classCalibrationsReport(c.classCalibrations) } : {}),
          ...(c?.segments ? { segments: segmentRows(c.segments) } : {}),
        };
      }),
    };
  });
};

/** The store's "version has a baseline" error, with how to replace it over HTTP. */
const withReplaceHint = (e: VigilError): VigilError =>
  new VigilError(e.code, `${e.message}: send ?replace=true to replace it`, { statusCode: e.statusCode, ...(e.details ? { details: e.details } : {}) });
