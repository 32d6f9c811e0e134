import { z } from 'zod';
import type { Sample } from '../../metrics/snapshot.js';
import { commonKeys, httpKeys, refineCommon, httpUrl } from './common.js';
import { ExpositionError, parseExposition } from './exposition.js';
import { excerpt, expectShape, httpRequest, parseJsonAnswer, SourceError } from './http.js';
import type { Source, SourceContext, SourceResult } from './source.js';

/**
 * `feast`: feature freshness and completeness from a Feast feature server. Two ways, either or
 * both: read the `feast serve --metrics` exposition (`feast_feature_freshness_seconds{feature_view,
 * project}`), and/or probe online reads (`POST /get-online-features` with configured entity rows)
 * and compute, per feature view, completeness (share of values with status PRESENT) and freshness
 * (now − newest event timestamp of a present value). A probe's figures win over the metrics'.
 */

const ProbeSchema = z
  .strictObject({
    /** Feature references `feature_view:feature`. */
    features: z.array(z.string().regex(/^[^:]+:[^:]+$/, 'must be "feature_view:feature"')).default([]),
    /** Or a feature service name. */
    feature_service: z.string().min(1).optional(),
    /** Entity rows by join key: `{driver_id: [1001, 1002]}` (all lists the same length). */
    entities: z.record(z.string().min(1), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)),
  })
  .superRefine((p, ctx) => {
    if ((p.features.length > 0) === (p.feature_service !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: 'give either features or feature_service', params: { vigil: 'VALUE' } });
    }
    const lengths = new Set(Object.values(p.entities).map((v) => v.length));
    if (Object.keys(p.entities).length === 0) ctx.addIssue({ code: 'custom', path: ['entities'], message: 'needs at least one entity key', params: { vigil: 'REQUIRED' } });
    if (lengths.size > 1) ctx.addIssue({ code: 'custom', path: ['entities'], message: 'every entity key needs the same number of values (one per entity row)', params: { vigil: 'VALUE' } });
  });

export const FeastSourceSchema = z
  .strictObject({
    type: z.literal('feast'),
    ...commonKeys,
    ...httpKeys,
    /** Feature server base URL (`http://feast:6566`), for probes. */
    url: httpUrl().optional(),
    /** The `feast serve --metrics` endpoint (`http://feast:8000/metrics`). */
    metrics_url: httpUrl().optional(),
    /** The `project` label of probe results (and of metrics samples that lack one). */
    project: z.string().min(1).optional(),
    /** Only these feature views (empty: all). */
    feature_views: z.array(z.string().min(1)).default([]),
    probes: z.array(ProbeSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    refineCommon(cfg, ctx);
    if (cfg.metrics_url === undefined && cfg.probes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['metrics_url'], message: 'give metrics_url, probes, or both', params: { vigil: 'REQUIRED' } });
    }
    if (cfg.probes.length > 0 && cfg.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'probes need the feature server url', params: { vigil: 'REQUIRED' } });
    if (cfg.probes.length > 0 && cfg.project === undefined) ctx.addIssue({ code: 'custom', path: ['project'], message: 'probes need the project (for the project label)', params: { vigil: 'REQUIRED' } });
  });

export type FeastSourceConfig = z.output<typeof FeastSourceSchema>;
export type FeastProbeConfig = FeastSourceConfig['probes'][number];

export const FRESHNESS = 'feast_feature_freshness_seconds';
export const COMPLETENESS = 'feast_feature_completeness_ratio';

/**
 * Feast's error bodies: a FeastError answers with a JSON-encoded *string* holding JSON
 * `{"module","class","message"}` (double-encoded); anything else is a JSON string message; FastAPI
 * validation errors are `{"detail": …}` (a string, or a list of `{loc, msg}`).
 */
export function describeFeastError(_status: number, text: string): { message: string } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v === 'string') {
    try {
      const inner = JSON.parse(v) as unknown;
      if (inner !== null && typeof inner === 'object' && typeof (inner as { message?: unknown }).message === 'string') {
        const { class: cls, message } = inner as { class?: unknown; message: string };
        return { message: typeof cls === 'string' && cls !== '' ? `${cls}: ${message}` : message };
      }
    } catch {
      /* a plain message as a JSON string */
    }
    return { message: v };
  }
  if (v !== null && typeof v === 'object' && 'detail' in v) {
    const d = (v as { detail: unknown }).detail;
    if (typeof d === 'string') return { message: d };
    if (Array.isArray(d)) {
      return {
        message: d
          .map((x: unknown) => {
            const o = x as { loc?: unknown; msg?: unknown };
            return `${Array.isArray(o.loc) ? o.loc.join('.') : '?'}: ${typeof o.msg === 'string' ? o.msg : JSON.stringify(x)}`;
          })
          .join('; '),
      };
    }
  }
  return undefined;
}

const OnlineFeatures = z.object({
  metadata: z.object({ feature_names: z.array(z.string()) }),
  results: z.array(
    z.object({
      values: z.array(z.unknown()),
      statuses: z.array(z.string()),
      event_timestamps: z.array(z.union([z.string(), z.number(), z.null()])),
    }),
  ),
});

/** An event timestamp (RFC 3339 string, or epoch seconds/ms) → ms; undefined when unusable. */
export function eventTimeMs(v: string | number | null): number | undefined {
  if (v === null) return undefined;
  if (typeof v === 'number') return v > 1e12 ? v : v * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

interface ViewStats {
  present: number;
  total: number;
  newest: number | undefined;
}

/** Per feature view: counts of PRESENT values and the newest event time of a present value. */
export function probeStats(answer: z.output<typeof OnlineFeatures>, probe: FeastProbeConfig, what: string): Map<string, ViewStats> {
  if (answer.metadata.feature_names.length !== answer.results.length) {
    throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: ${answer.metadata.feature_names.length} feature names but ${answer.results.length} results`);
  }
  const viewOf = new Map<string, string>();
  for (const ref of probe.features) {
    const [view, feat] = ref.split(':') as [string, string];
    viewOf.set(`${view}__${feat}`, view);
    viewOf.set(ref, view);
  }
  const entityKeys = new Set(Object.keys(probe.entities));
  const out = new Map<string, ViewStats>();
  answer.metadata.feature_names.forEach((name, i) => {
    if (entityKeys.has(name)) return;
    const view = viewOf.get(name) ?? (name.includes('__') ? name.slice(0, name.indexOf('__')) : name.includes(':') ? name.slice(0, name.indexOf(':')) : undefined);
    if (view === undefined) throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: cannot tell the feature view of result "${name}"`);
    const r = answer.results[i] as z.output<typeof OnlineFeatures>['results'][number];
    const s = out.get(view) ?? { present: 0, total: 0, newest: undefined };
    r.statuses.forEach((status, k) => {
      s.total++;
      if (status !== 'PRESENT') return;
      s.present++;
      const t = eventTimeMs(r.event_timestamps[k] ?? null);
      if (t !== undefined && t > 0 && (s.newest === undefined || t > s.newest)) s.newest = t;
    });
    out.set(view, s);
  });
  return out;
}

export function createFeastSource(cfg: FeastSourceConfig): Source {
  const what = `feast ${cfg.name}`;
  const wanted = (view: string) => cfg.feature_views.length === 0 || cfg.feature_views.includes(view);

  async function fromMetrics(ctx: SourceContext): Promise<Sample[]> {
    const w = `${what} metrics`;
    const res = await httpRequest({ url: cfg.metrics_url as string, headers: { Accept: 'text/plain;version=0.0.4;q=1, */*;q=0.1', ...cfg.headers }, auth: cfg, signal: ctx.signal, timeoutMs: cfg.timeout, now: ctx.now, what: w });
    if (res.text.trimStart().startsWith('<') || res.text.trimStart().startsWith('{')) {
      throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${w}: answer is not the Prometheus text format but ${res.contentType || 'something else'}: ${excerpt(res.text, 80)}`);
    }
    let parsed;
    try {
      parsed = parseExposition(res.text);
    } catch (e) {
      if (e instanceof ExpositionError) throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${w}: not valid Prometheus text format: ${e.message}`);
      throw e;
    }
    const out: Sample[] = [];
    for (const s of parsed.samples) {
      if (s.name !== FRESHNESS) continue;
      const view = s.labels.feature_view;
      const project = s.labels.project ?? cfg.project;
      if (view === undefined || project === undefined) {
        throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${w}: ${FRESHNESS} sample without ${view === undefined ? 'feature_view' : 'project'} label (set project: in the source config)`);
      }
      if (wanted(view)) out.push({ name: FRESHNESS, labels: { feature_view: view, project }, value: s.value });
    }
    return out;
  }

  async function fromProbes(ctx: SourceContext): Promise<Sample[]> {
    const totals = new Map<string, ViewStats>();
    for (const [i, probe] of cfg.probes.entries()) {
      const w = `${what} probes[${i}]`;
      const res = await httpRequest({
        method: 'POST',
        url: `${(cfg.url as string).replace(/\/+$/, '')}/get-online-features`,
        body: {
          entities: probe.entities,
          ...(probe.feature_service !== undefined ? { feature_service: probe.feature_service } : { features: probe.features }),
          full_feature_names: true,
        },
        headers: cfg.headers,
        auth: cfg,
        signal: ctx.signal,
        timeoutMs: cfg.timeout,
        now: ctx.now,
        what: w,
        describeError: describeFeastError,
      });
      const answer = expectShape(OnlineFeatures, parseJsonAnswer(res, w), w);
      for (const [view, s] of probeStats(answer, probe, w)) {
        const t = totals.get(view) ?? { present: 0, total: 0, newest: undefined };
        t.present += s.present;
        t.total += s.total;
        if (s.newest !== undefined && (t.newest === undefined || s.newest > t.newest)) t.newest = s.newest;
        totals.set(view, t);
      }
    }
    const out: Sample[] = [];
    const project = cfg.project as string;
    for (const [view, t] of totals) {
      if (!wanted(view)) continue;
      if (t.total > 0) out.push({ name: COMPLETENESS, labels: { feature_view: view, project }, value: t.present / t.total });
      if (t.newest !== undefined) out.push({ name: FRESHNESS, labels: { feature_view: view, project }, value: Math.max(0, (ctx.now - t.newest) / 1000) });
    }
    return out;
  }

  return {
    name: cfg.name,
    type: 'feast',
    async collect(ctx: SourceContext): Promise<SourceResult> {
      const series = new Map<string, Sample>();
      const add = (s: Sample) => series.set(`${s.name}\u0000${s.labels.feature_view}\u0000${s.labels.project}`, s);
      if (cfg.metrics_url !== undefined) (await fromMetrics(ctx)).forEach(add);
      if (cfg.probes.length > 0) (await fromProbes(ctx)).forEach(add);
      return { samples: [...series.values()] };
    },
  };
}
