import { z } from 'zod';
import type { Sample } from '../../metrics/snapshot.js';
import { commonKeys, dotPath, httpKeys, labelMap, metricName, refineCommon, httpUrl } from './common.js';
import { httpRequest, parseJsonAnswer, SourceError } from './http.js';
import { describeValue, getPath, mapRecord, mappingSchema, recordsAt } from './mapping.js';
import type { Source, SourceContext, SourceResult } from './source.js';
import { ingestAll } from './ingest-batch.js';

/**
 * `http_json`: reads a JSON endpoint. `kind: predictions|labels` maps each record of the answer to
 * a Vigil item (validated by ingest exactly as the HTTP API does); `kind: samples` reads precomputed
 * statistics and exports them as catalog samples.
 */

const SampleMappingSchema = z.strictObject({
  metric: metricName(),
  /** Fixed label values. */
  labels: labelMap().default({}),
  /** Label values read from the record: label → dot path. */
  label_paths: labelMap().default({}),
  /** Dot path of the value in the record (number, or a numeric string, "NaN", "+Inf"). */
  value_path: dotPath(),
});

export const HttpJsonSourceSchema = z
  .strictObject({
    type: z.literal('http_json'),
    ...commonKeys,
    ...httpKeys,
    url: httpUrl(),
    method: z.enum(['GET', 'POST']).default('GET'),
    /** JSON body sent with POST. */
    body: z.unknown().optional(),
    kind: z.enum(['predictions', 'labels', 'samples']),
    /** predictions/labels: the model the items belong to. */
    model: z.string().min(1).optional(),
    /** Dot path of the array of records in the answer ('' = the answer itself). */
    records_path: dotPath().default(''),
    /** predictions/labels: item field → dot path in each record (unmapped fields: same-named key). */
    mapping: mappingSchema().default({}),
    /** predictions: dot path of an object of features in each record. */
    features_path: dotPath().default('features'),
    /** samples: one sample per mapping and record. */
    samples: z.array(SampleMappingSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    refineCommon(cfg, ctx);
    if (cfg.kind === 'samples') {
      if (cfg.samples.length === 0) ctx.addIssue({ code: 'custom', path: ['samples'], message: 'kind samples needs at least one samples entry', params: { vigil: 'REQUIRED' } });
      if (cfg.model !== undefined) ctx.addIssue({ code: 'custom', path: ['model'], message: 'model applies to kind predictions|labels only (give it as a label)', params: { vigil: 'VALUE' } });
    } else {
      if (cfg.model === undefined) ctx.addIssue({ code: 'custom', path: ['model'], message: `kind ${cfg.kind} needs the model the items belong to`, params: { vigil: 'REQUIRED' } });
      if (cfg.samples.length > 0) ctx.addIssue({ code: 'custom', path: ['samples'], message: 'samples applies to kind samples only', params: { vigil: 'VALUE' } });
    }
    if (cfg.body !== undefined && cfg.method !== 'POST') ctx.addIssue({ code: 'custom', path: ['body'], message: 'body is sent with method POST only', params: { vigil: 'VALUE' } });
  });

export type HttpJsonSourceConfig = z.output<typeof HttpJsonSourceSchema>;

/** Parses a sample value: a finite or infinite number, or a numeric string (`"0.5"`, `"NaN"`, `"+Inf"`). */
export function sampleValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

export function createHttpJsonSource(cfg: HttpJsonSourceConfig): Source {
  const what = `http_json ${cfg.name}`;
  return {
    name: cfg.name,
    type: 'http_json',
    async collect(ctx: SourceContext): Promise<SourceResult> {
      const res = await httpRequest({
        method: cfg.method,
        url: cfg.url,
        headers: cfg.headers,
        auth: cfg,
        ...(cfg.method === 'POST' ? { body: cfg.body ?? {} } : {}),
        signal: ctx.signal,
        timeoutMs: cfg.timeout,
        now: ctx.now,
        what,
      });
      const answer = parseJsonAnswer(res, what);
      if (cfg.kind === 'samples') return { samples: toSamples(cfg, answer, what) };
      const records = recordsAt(answer, cfg.records_path, what);
      const items = records.map((r) => mapRecord(cfg.kind as 'predictions' | 'labels', r, { mapping: cfg.mapping, featuresPath: cfg.features_path === '' ? null : cfg.features_path }));
      const ingested = await ingestAll(ctx, cfg.kind as 'predictions' | 'labels', cfg.model as string, items);
      return { samples: [], ingested };
    },
  };
}

function toSamples(cfg: HttpJsonSourceConfig, answer: unknown, what: string): Sample[] {
  const at = getPath(answer, cfg.records_path);
  const records = Array.isArray(at) ? at : at !== undefined && at !== null && typeof at === 'object' ? [at] : undefined;
  if (records === undefined) {
    throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: expected an object or an array at ${cfg.records_path === '' ? 'the answer' : `"${cfg.records_path}"`}, found ${describeValue(at)}`);
  }
  const out: Sample[] = [];
  records.forEach((record, i) => {
    for (const m of cfg.samples) {
      const raw = getPath(record, m.value_path);
      const where = `${Array.isArray(at) ? `record ${i}, ` : ''}"${m.value_path}"`;
      const value = sampleValue(raw);
      if (value === undefined) throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: ${m.metric}: value at ${where} is ${describeValue(raw)}${typeof raw === 'string' ? ` "${raw}"` : ''}, not a number`);
      const labels: Record<string, string> = { ...m.labels };
      for (const [label, path] of Object.entries(m.label_paths)) {
        const v = getPath(record, path);
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: ${m.metric}: label ${label} at ${Array.isArray(at) ? `record ${i}, ` : ''}"${path}" is ${describeValue(v)}, not a string`);
        }
        labels[label] = String(v);
      }
      out.push({ name: m.metric, labels, value });
    }
  });
  return out;
}

