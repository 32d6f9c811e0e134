/**
 * The `slos:` section: service level objectives on Vigil's own data, per model. Each SLO counts good
 * and total events per minute (slo/counters.ts) and exports Sloth's series (slo/series.ts).
 */
import { z } from 'zod';
import { CATALOG } from '../metrics/catalog.js';
import { asRecord as rec, durationMs, positiveDuration } from '../config/primitives.js';

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Window-based quality metrics: the ml_model_* gauges labelled by model, version and window. */
export const QUALITY_METRICS = CATALOG.filter((c) => c.name.startsWith('ml_model_') && c.labels.join(',') === 'model,version,window').map((c) =>
  c.name.slice('ml_model_'.length),
);
/** Metrics only regression models have; the others are classification metrics. */
export const REGRESSION_METRICS = new Set(['mae', 'mse', 'rmse', 'mape', 'r2']);

const SliSchema = z.discriminatedUnion('type', [
  /** Share of predictions without a serving error (`error` absent), counted when Vigil stores them. */
  z.strictObject({ type: z.literal('errors') }),
  /** Share of predictions served within `threshold` (of those that report `latency_ms`). */
  z.strictObject({ type: z.literal('latency'), threshold: positiveDuration() }),
  /** Share of labelled predictions whose prediction equals the label (classification), counted when the label arrives. */
  z.strictObject({ type: z.literal('correctness') }),
  /** Share of evaluation cycles in which ml_model_<metric>{window} met its target (one event per version). */
  z
    .strictObject({
      type: z.literal('quality'),
      metric: z.enum(QUALITY_METRICS as [string, ...string[]]),
      window: positiveDuration(),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .refine((q) => (q.min === undefined) !== (q.max === undefined), { message: 'set exactly one of min (higher is better) and max (lower is better)', path: ['min'] }),
  /** Share of time (evaluation cycles, weighted by their length) in which the model's last prediction was at most `max_age` old. */
  z.strictObject({ type: z.literal('freshness'), max_age: positiveDuration() }),
]);

export const SloConfigSchema = z.strictObject({
  /** Lowercase letters, digits and dashes: Sloth's `sloth_slo`. */
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and dashes'),
  /** The model (Sloth's `sloth_service`). */
  model: z.string().min(1),
  /** Only this segment's events (the predictions' `segment`); its series carry `segment`. */
  segment: z.string().min(1).max(128).optional(),
  description: z.string().default(''),
  /** Percent of good events, as Sloth writes it (99.5). */
  objective: z.number().gt(0).lt(100),
  /** The SLO period, over which the error budget is counted. */
  period: z.enum(['28d', '30d']).default('30d'),
  sli: SliSchema,
  alerts: z
    .strictObject({
      /** Generate the multiwindow multi-burn-rate alerts (page and ticket). */
      enabled: z.boolean().default(true),
      /** Extra labels on both alerts (e.g. team). */
      labels: z.record(z.string().regex(LABEL_NAME_RE, 'must be a Prometheus label name'), z.string()).default({}),
      /** How long the alert condition must hold (`for`). */
      for: durationMs().default(0),
    })
    .prefault({}),
});

export type SloConfig = z.infer<typeof SloConfigSchema>;
export type SliConfig = SloConfig['sli'];

/** Sloth's id of an SLO: `<service>-<slo>`. */
export function sloId(slo: Pick<SloConfig, 'model' | 'name'>): string {
  return `${slo.model}-${slo.name}`;
}

export const periodDays = (slo: Pick<SloConfig, 'period'>): number => (slo.period === '28d' ? 28 : 30);

/**
 * Cross checks: the model exists, the SLI fits its task and windows, no two SLOs of a model share a
 * name. Runs even when other parts of the file have problems (so every problem is reported at
 * once): reads the values defensively, an entry that failed its own schema being its raw input.
 */
export function checkSlos(cfg: unknown, ctx: z.RefinementCtx): void {
  const c = rec(cfg);
  if (c === undefined || !Array.isArray(c.slos)) return;
  const models = (Array.isArray(c.models) ? c.models : []).map(rec).filter((m) => m !== undefined);
  const seen = new Map<string, number>();
  (c.slos as unknown[]).forEach((raw, i) => {
    const s = rec(raw);
    if (s === undefined || typeof s.name !== 'string' || typeof s.model !== 'string') return;
    const at = (...p: (string | number)[]) => ['slos', i, ...p];
    const id = sloId({ model: s.model, name: s.name });
    const first = seen.get(id);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate SLO "${s.name}" for model "${s.model}" (first at slos[${first}])`, params: { vigil: 'DUPLICATE' } });
    else seen.set(id, i);
    const model = models.find((m) => m.name === s.model);
    if (model === undefined) {
      ctx.addIssue({ code: 'custom', path: at('model'), message: `unknown model "${s.model}": it is not in models`, params: { vigil: 'VALUE' } });
      return;
    }
    const sli = rec(s.sli);
    if (sli === undefined) return;
    const task = model.task;
    if (s.segment !== undefined && sli.type === 'freshness') {
      ctx.addIssue({ code: 'custom', path: at('segment'), message: 'a freshness SLI is per model (its data is fresh or not); drop segment', params: { vigil: 'VALUE' } });
    }
    if (s.segment !== undefined && sli.type === 'quality' && rec(model.segments) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('segment'),
        message: `a quality SLI per segment reads the segment's series: set models[].segments on model "${s.model}"`,
        params: { vigil: 'VALUE' },
      });
    }
    if (sli.type === 'correctness' && task === 'regression') {
      ctx.addIssue({ code: 'custom', path: at('sli', 'type'), message: 'correctness needs a classification model (binary or multiclass); use a quality SLI on mae or rmse', params: { vigil: 'VALUE' } });
    }
    if (sli.type === 'quality') {
      // windows: parsed durations when the model entry is valid; skipped otherwise (its own issue is reported)
      if (typeof sli.window === 'number' && Array.isArray(model.windows) && model.windows.every((w) => typeof w === 'number') && !model.windows.includes(sli.window)) {
        ctx.addIssue({ code: 'custom', path: at('sli', 'window'), message: `model "${s.model}" has no such window (models[].windows)`, params: { vigil: 'VALUE' } });
      }
      if (typeof sli.metric === 'string' && typeof task === 'string' && REGRESSION_METRICS.has(sli.metric) !== (task === 'regression')) {
        ctx.addIssue({ code: 'custom', path: at('sli', 'metric'), message: `model "${s.model}" (${task}) has no ${sli.metric}`, params: { vigil: 'VALUE' } });
      }
    }
  });
}
