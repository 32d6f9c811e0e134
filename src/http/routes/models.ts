import type { FastifyPluginAsync } from 'fastify';
import type { ModelConfig } from '../../config/schema.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { errorMessage, VigilError } from '../../core/errors.js';
import { Scratch } from '../../monitors/scratch.js';
import { planSegments, segmentViews } from '../../monitors/segments.js';
import { renderDriftReport } from '../../report/html.js';
import { windowReport, windowReportJson } from '../../report/window-report.js';
import type { Store } from '../../store/store.js';
import type { ServerDeps } from '../server.js';
import { MODEL_PARAMS } from './ingest.js';

const iso = (ts: number | null): string | null => (ts === null ? null : new Date(ts).toISOString());

/** A model's configuration and what the store holds for it. */
export async function modelStatus(m: ModelConfig, store: Store) {
  const [c, baselines] = await Promise.all([store.modelCounts(m.name), store.listBaselineMeta(m.name)]);
  const latest = baselines[0];
  return {
    name: m.name,
    task: m.task,
    ...(m.positive_class === undefined ? {} : { positive_class: m.positive_class }),
    ...(m.classes === undefined ? {} : { classes: m.classes }),
    labels: m.labels,
    features: m.features,
    windows: m.windows.map(formatDuration),
    min_samples: m.min_samples,
    predictions: c.predictions,
    labels_received: c.labels,
    labeled_predictions: c.labeledPredictions,
    label_coverage_ratio: c.predictions === 0 ? null : c.labeledPredictions / c.predictions,
    last_prediction_at: iso(c.lastPredictionTs),
    last_label_at: iso(c.lastLabelTs),
    versions: c.versions.map((v) => {
      // A version without its own baseline is compared with the model's latest one.
      const b = baselines.find((x) => x.version === v.version) ?? latest;
      return {
        version: v.version,
        predictions: v.predictions,
        first_prediction_at: iso(v.firstTs),
        last_prediction_at: iso(v.lastTs),
        baseline: b === undefined ? null : { id: b.id, version: b.version, own: b.version === v.version },
      };
    }),
    latest_baseline: latest === undefined ? null : { id: latest.id, version: latest.version, source: latest.source, rows: latest.rows, created_at: iso(latest.createdAt) },
  };
}

/** The report page loads nothing: its style is inline, its charts inline SVG. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `GET /v1/models`, `GET /v1/models/:model`, `…/report`, `…/predictions/:id`. */
/** Whether a client asks for JSON rather than the page: application/json in Accept, text/html not. */
const wantsJson = (accept: string | undefined): boolean => accept !== undefined && /(^|,)\s*application\/json\s*(;|,|$)/i.test(accept) && !/text\/html/i.test(accept);

export const modelRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  app.get('/v1/models', async () => ({
    models: await Promise.all(deps.config().models.map((m) => modelStatus(m, deps.store))),
  }));

  app.get('/v1/models/:model', { schema: { params: MODEL_PARAMS } }, async (req) => {
    const { model } = req.params as { model: string };
    return modelStatus(deps.ingestor.model(model), deps.store);
  });

  // The drift report of a window of the model, as one HTML page (src/report): what its drift
  // monitor decides now against the cycle's baseline, with every feature's distributions; as
  // JSON when the client asks for it (Accept: application/json; the web UI's model page).
  // Raw data in aggregate: the categories' values are the data's own (a token as soon as any is configured).
  app.get('/v1/models/:model/report', { config: { access: 'raw' }, schema: { params: MODEL_PARAMS, querystring: { type: 'object', properties: { window: { type: 'string', maxLength: 32 }, segment: { type: 'string', minLength: 1, maxLength: 128 } }, additionalProperties: false } } }, async (req, reply) => {
    const { model } = req.params as { model: string };
    const m = deps.ingestor.model(model);
    const { window: asked, segment } = req.query as { window?: string; segment?: string };
    let dur = Math.min(...m.windows);
    if (asked !== undefined) {
      let ms: number | undefined;
      try {
        ms = parseDuration(asked);
      } catch {
        ms = undefined;
      }
      if (ms === undefined || !m.windows.includes(ms)) {
        throw new VigilError('VIGIL_ERR_REPORT_WINDOW', `window: "${asked}" is not one of model "${model}"'s windows (${m.windows.map(formatDuration).join(', ')})`, { statusCode: 400 });
      }
      dur = ms;
    }
    const now = deps.clock.now();
    const scratch = new Scratch();
    try {
      const whole = deps.engine.viewOf(m, dur, now, scratch);
      let view = whole;
      if (whole !== undefined && segment !== undefined) {
        // a segment's rows, against its own references when the baseline has them (as its series)
        const plan = planSegments(m, whole.w);
        if (plan === null) throw new VigilError('VIGIL_ERR_REPORT_SEGMENT', `segment: model "${model}" has no segments (models[].segments)`, { statusCode: 400 });
        view = segmentViews(whole, plan).find((s) => s.segment === segment)?.view;
        if (view === undefined) {
          throw new VigilError('VIGIL_ERR_REPORT_SEGMENT', `segment: "${segment}" has no series of model "${model}" in the last ${formatDuration(dur)} (its segments: ${plan.names.join(', ') || 'none'})`, { statusCode: 400 });
        }
      }
      if (view === undefined) {
        void reply.header('Retry-After', '5');
        throw new VigilError('VIGIL_ERR_REPORT_NOT_READY', `model "${model}"'s window is not loaded yet: retry after the first cycle`, { statusCode: 503 });
      }
      if (view.baseline === undefined) {
        throw new VigilError('VIGIL_ERR_REPORT_NO_BASELINE', `model "${model}" has no baseline to compare with: store one (POST /v1/models/${model}/baselines or vigil baseline)`, { statusCode: 409 });
      }
      let r: ReturnType<typeof windowReport>;
      try {
        r = windowReport(view);
      } catch (e) {
        // a baseline stored since the last cycle: the window is coded against it at the next one
        void reply.header('Retry-After', '5');
        throw new VigilError('VIGIL_ERR_REPORT_NOT_READY', `model "${model}": ${errorMessage(e)}; retry after the next cycle`, { statusCode: 503 });
      }
      if (r === null) {
        throw new VigilError('VIGIL_ERR_REPORT_TOO_FEW', `model "${model}" has ${view.rows.length} predictions in the last ${formatDuration(dur)}, fewer than min_samples (${m.min_samples})`, { statusCode: 409 });
      }
      const b = view.baseline;
      if (wantsJson(req.headers.accept)) {
        return {
          model,
          window: formatDuration(dur),
          segment: segment ?? null,
          at: new Date(now).toISOString(),
          predictions: view.rows.length,
          baseline: { id: b.record.id, version: b.record.version, rows: b.record.rows, source: b.record.source, segment_references: view.segmentRef !== undefined },
          alpha: m.drift.alpha,
          ...windowReportJson(r),
        };
      }
      const html = renderDriftReport({
        title: `Drift report: ${model}${segment === undefined ? '' : `, segment ${segment}`}, last ${formatDuration(dur)}`,
        about: [
          `model ${model}: ${view.rows.length.toLocaleString('en-US')} predictions in the last ${formatDuration(dur)} (to ${new Date(now).toISOString()})`,
          `baseline ${b.record.id}: version ${b.record.version}, ${b.record.rows.toLocaleString('en-US')} rows (${b.record.source})${view.segmentRef === undefined ? '' : `; the segment's own references`}`,
          `alpha ${m.drift.alpha} (Benjamini-Hochberg)`,
        ],
        report: r.report,
        distributions: r.distributions,
        generatedAt: new Date(now),
      });
      return reply.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', REPORT_CSP).header('X-Content-Type-Options', 'nosniff').send(html);
    } finally {
      scratch.drop();
    }
  });

  app.get(
    '/v1/models/:model/predictions/:id',
    // Raw stored data: a token is needed as soon as any token is configured (src/http/auth.ts).
    { config: { access: 'raw' }, schema: { params: { ...MODEL_PARAMS, required: ['model', 'id'], properties: { ...MODEL_PARAMS.properties, id: { type: 'string', minLength: 1, maxLength: 256 } } } } },
    async (req) => {
      const { model, id } = req.params as { model: string; id: string };
      deps.ingestor.model(model);
      const p = await deps.store.getPrediction(model, id);
      if (p === undefined) throw new VigilError('VIGIL_ERR_PREDICTION_UNKNOWN', `no prediction "${id}" for model "${model}"`, { statusCode: 404 });
      return {
        id: p.id,
        ts: iso(p.ts),
        model_version: p.version,
        features: p.features,
        prediction: p.prediction,
        score: p.score,
        latency_ms: p.latencyMs,
        segment: p.segment,
        error: p.error,
        traceparent: p.traceparent ?? null,
        received_at: iso(p.receivedAt),
        label: p.label === null ? null : { label: p.label.label, ts: iso(p.label.ts) },
      };
    },
  );
};
