import { z } from 'zod';
import type { Sample } from '../../metrics/snapshot.js';
import { catalogSamples, commonKeys, httpKeys, labelMap, metricName, refineCommon, httpUrl, type SampleCatalog } from './common.js';
import { expectShape, httpRequest, parseJsonAnswer, SourceError } from './http.js';
import { sampleValue } from './http-json.js';
import type { Source, SourceContext, SourceResult } from './source.js';

/**
 * `prometheus`: instant queries against a Prometheus server (`GET /api/v1/query`), each result
 * re-exported under a catalog metric, e.g. the serving app's latency p95 as
 * `ml_prediction_latency_p95_seconds{model}`.
 */

const QuerySchema = z.strictObject({
  /** PromQL; must return a vector or a scalar. */
  query: z.string().min(1),
  /** The catalog metric the results are exported as. */
  metric: metricName(),
  /** Fixed label values. */
  labels: labelMap().default({}),
  /** Catalog label → label of the query result (unmapped labels: the same-named result label). */
  label_map: labelMap().default({}),
});

export const PrometheusSourceSchema = z
  .strictObject({
    type: z.literal('prometheus'),
    ...commonKeys,
    ...httpKeys,
    /** Base URL of the Prometheus server (`http://prometheus:9090`; a path prefix is kept). */
    url: httpUrl(),
    queries: z.array(QuerySchema).min(1),
  })
  .superRefine(refineCommon);

export type PrometheusSourceConfig = z.output<typeof PrometheusSourceSchema>;
export type PrometheusQueryConfig = PrometheusSourceConfig['queries'][number];

const SampleValue = z.tuple([z.number(), z.string()]);
const Envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});
const Data = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: SampleValue })) }),
  z.object({ resultType: z.literal('scalar'), result: SampleValue }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
  z.object({ resultType: z.literal('string'), result: z.unknown() }),
]);

/** `{status:"error", errorType, error}` answers (400 bad_data, 422 execution, 503 timeout). */
function describePromError(_status: number, text: string): { message: string } | undefined {
  try {
    const j = JSON.parse(text) as { status?: unknown; errorType?: unknown; error?: unknown };
    if (j.status === 'error' && typeof j.error === 'string') return { message: `${String(j.errorType ?? 'error')}: ${j.error}` };
  } catch {
    /* not the Prometheus envelope */
  }
  return undefined;
}

export function apiUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

export function createPrometheusSource(cfg: PrometheusSourceConfig, deps: { catalog?: SampleCatalog } = {}): Source {
  const catalog = deps.catalog ?? catalogSamples;
  return {
    name: cfg.name,
    type: 'prometheus',
    async collect(ctx: SourceContext): Promise<SourceResult> {
      const samples: Sample[] = [];
      for (const [i, q] of cfg.queries.entries()) {
        const what = `prometheus ${cfg.name} queries[${i}] (${q.metric})`;
        const labelNames = catalog(q.metric);
        if (labelNames === undefined) throw new SourceError('VIGIL_ERR_SOURCE_CONFIG', `${what}: ${q.metric} is not a snapshot metric of the catalog`);
        samples.push(...(await runQuery(cfg, q, labelNames, ctx, what)));
      }
      return { samples };
    },
  };
}

async function runQuery(cfg: PrometheusSourceConfig, q: PrometheusQueryConfig, labelNames: readonly string[], ctx: SourceContext, what: string): Promise<Sample[]> {
  const res = await httpRequest({
    url: apiUrl(cfg.url, '/api/v1/query'),
    query: { query: q.query, time: (ctx.now / 1000).toFixed(3) },
    headers: cfg.headers,
    auth: cfg,
    signal: ctx.signal,
    timeoutMs: cfg.timeout,
    now: ctx.now,
    what,
    describeError: describePromError,
  });
  const env = expectShape(Envelope, parseJsonAnswer(res, what), what);
  if (env.status === 'error') {
    throw new SourceError('VIGIL_ERR_SOURCE_QUERY', `${what}: ${env.errorType ?? 'error'}: ${env.error ?? '(no message)'}`);
  }
  const data = expectShape(Data, env.data, `${what} data`);
  if (data.resultType === 'scalar') return [sample(q, labelNames, {}, data.result[1], what)];
  if (data.resultType !== 'vector') {
    throw new SourceError('VIGIL_ERR_SOURCE_QUERY', `${what}: the query returned a ${data.resultType}; only instant vectors and scalars can be exported`);
  }
  const out: Sample[] = [];
  const seen = new Set<string>();
  for (const r of data.result) {
    const s = sample(q, labelNames, r.metric, r.value[1], what);
    const key = JSON.stringify(Object.entries(s.labels).sort());
    if (seen.has(key)) {
      throw new SourceError('VIGIL_ERR_SOURCE_QUERY', `${what}: several result series map to the same labels ${key}: aggregate the query (e.g. sum by (…)) or map more labels`);
    }
    seen.add(key);
    out.push(s);
  }
  return out;
}

/**
 * One result → sample with exactly the catalog's labels: each from the fixed `labels`, else from
 * the result label named by `label_map` (default: the same name). A result lacking one is an error.
 */
function sample(q: PrometheusQueryConfig, labelNames: readonly string[], metric: Record<string, string>, raw: string, what: string): Sample {
  const value = sampleValue(raw);
  if (value === undefined) throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: value "${raw}" is not a number`);
  const labels: Record<string, string> = {};
  for (const label of labelNames) {
    const fixed = q.labels[label];
    if (fixed !== undefined) {
      labels[label] = fixed;
      continue;
    }
    const from = q.label_map[label] ?? label;
    const v = metric[from];
    if (v === undefined) {
      throw new SourceError('VIGIL_ERR_SOURCE_QUERY', `${what}: result series ${JSON.stringify(metric)} has no label "${from}" for ${q.metric}'s label "${label}" (aggregate by it, map it with label_map, or fix it with labels)`);
    }
    labels[label] = v;
  }
  return { name: q.metric, labels, value };
}
