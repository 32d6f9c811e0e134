import type { FastifyPluginAsync } from 'fastify';
import type { ModelConfig } from '../../config/schema.js';
import { formatDuration } from '../../core/duration.js';
import { VigilError } from '../../core/errors.js';
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

/** `GET /v1/models`, `GET /v1/models/:model`, `GET /v1/models/:model/predictions/:id`. */
export const modelRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  app.get('/v1/models', async () => ({
    models: await Promise.all(deps.config().models.map((m) => modelStatus(m, deps.store))),
  }));

  app.get('/v1/models/:model', { schema: { params: MODEL_PARAMS } }, async (req) => {
    const { model } = req.params as { model: string };
    return modelStatus(deps.ingestor.model(model), deps.store);
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
        received_at: iso(p.receivedAt),
        label: p.label === null ? null : { label: p.label.label, ts: iso(p.label.ts) },
      };
    },
  );
};
