import { z } from 'zod';
import type { Schedule } from '../../scheduler/scheduler.js';
import { catalogSamples, SOURCE_DEFAULTS, type SampleCatalog } from './common.js';
import { createFeastSource, FeastSourceSchema } from './feast.js';
import { createFileSource, FileSourceSchema } from './file.js';
import { createHttpJsonSource, HttpJsonSourceSchema } from './http-json.js';
import { createMlflowSource, MlflowSourceSchema, type MlflowSource } from './mlflow.js';
import { createPrometheusSource, PrometheusSourceSchema } from './prometheus.js';
import type { RunnableSource, RunSettings } from './runner.js';
import type { Source } from './source.js';

/**
 * The `sources:` configuration: one discriminated union on `type`, each member the strictObject
 * schema living in its source's file, plus the factory that turns a parsed config into a Source
 * (a typed map: a source type without a factory is a compile error).
 */

export const SOURCE_TYPES = ['http_json', 'file', 'prometheus', 'feast', 'mlflow'] as const;

export const SourceConfigSchema = z.discriminatedUnion('type', [HttpJsonSourceSchema, FileSourceSchema, PrometheusSourceSchema, FeastSourceSchema, MlflowSourceSchema], {
  error: (iss) => (iss.code === 'invalid_union' ? `unknown source type: must be one of ${SOURCE_TYPES.join(', ')}` : undefined),
});

export type SourceConfig = z.output<typeof SourceConfigSchema>;
export type SourceType = SourceConfig['type'];
export type { HttpJsonSourceConfig } from './http-json.js';
export type { FileSourceConfig } from './file.js';
export type { PrometheusSourceConfig } from './prometheus.js';
export type { FeastSourceConfig } from './feast.js';
export type { MlflowSourceConfig } from './mlflow.js';

export interface SourceDeps {
  /** Snapshot families and their labels (default: the catalog's). */
  catalog?: SampleCatalog;
}

type Factories = { [K in SourceType]: (cfg: Extract<SourceConfig, { type: K }>, deps: SourceDeps) => Source };

const FACTORIES: Factories = {
  http_json: (cfg) => createHttpJsonSource(cfg),
  file: (cfg) => createFileSource(cfg),
  prometheus: (cfg, deps) => createPrometheusSource(cfg, deps),
  feast: (cfg) => createFeastSource(cfg),
  mlflow: (cfg) => createMlflowSource(cfg),
};

export function createSource(cfg: SourceConfig, deps: SourceDeps = {}): Source {
  const factory = FACTORIES[cfg.type] as (cfg: SourceConfig, deps: SourceDeps) => Source;
  return factory(cfg, deps);
}

/** The mlflow source exposes the registry state it last read (`versions()`). */
export const isMlflowSource = (s: Source): s is MlflowSource => s.type === 'mlflow' && typeof (s as Partial<MlflowSource>).versions === 'function';

/** `cron` when given, else `interval` (default 30s). */
export function sourceSchedule(cfg: Pick<SourceConfig, 'interval' | 'cron'>): Schedule {
  return cfg.cron !== undefined ? { cron: cfg.cron } : { everyMs: cfg.interval ?? SOURCE_DEFAULTS.interval };
}

export function runSettings(cfg: SourceConfig): RunSettings {
  return { schedule: sourceSchedule(cfg), timeoutMs: cfg.timeout, retries: cfg.retries, retryBackoffMs: cfg.retry_backoff };
}

/** Sources for the runner; the fingerprint (the config's JSON) tells replace() what changed. */
export function createRunnableSources(cfgs: readonly SourceConfig[], deps: SourceDeps = {}): RunnableSource[] {
  return cfgs.map((cfg) => ({ source: createSource(cfg, deps), settings: runSettings(cfg), fingerprint: JSON.stringify(cfg) }));
}

type Path = (string | number)[];

/** superRefine helper: source names are unique. */
export function checkSourceNames(sources: readonly { name: string }[], ctx: z.RefinementCtx, path: Path = ['sources']): void {
  const seen = new Map<string, number>();
  sources.forEach((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [...path, i, 'name'], message: `duplicate source name "${s.name}" (first at ${path.join('.')}[${first}])`, params: { vigil: 'DUPLICATE' } });
    } else seen.set(s.name, i);
  });
}

/**
 * superRefine helper: the metrics sources export are snapshot families of the catalog with labels
 * that fit, and the models they ingest for are configured (pass `models` to check that).
 */
export function checkSources(
  sources: readonly SourceConfig[],
  ctx: z.RefinementCtx,
  opts: { models?: readonly string[]; catalog?: SampleCatalog; path?: Path } = {},
): void {
  const path = opts.path ?? ['sources'];
  const catalog = opts.catalog ?? catalogSamples;
  checkSourceNames(sources, ctx, path);
  const issue = (at: Path, message: string, vigil = 'VALUE') => ctx.addIssue({ code: 'custom', path: [...path, ...at], message, params: { vigil } });
  const metric = (at: Path, name: string): readonly string[] | undefined => {
    const labels = catalog(name);
    if (labels === undefined) issue(at, `${name} is not a metric sources can export (not a snapshot family of the metric catalog)`);
    return labels;
  };
  sources.forEach((s, i) => {
    if ((s.type === 'http_json' && s.kind !== 'samples') || s.type === 'file') {
      const model = s.model as string;
      if (opts.models !== undefined && !opts.models.includes(model)) issue([i, 'model'], `unknown model "${model}": it is not in models`, 'UNKNOWN_MODEL');
    }
    if (s.type === 'http_json') {
      s.samples.forEach((m, j) => {
        const labels = metric([i, 'samples', j, 'metric'], m.metric);
        if (labels === undefined) return;
        const given = [...Object.keys(m.labels), ...Object.keys(m.label_paths)];
        const missing = labels.filter((l) => !given.includes(l));
        const extra = given.filter((l) => !labels.includes(l));
        if (missing.length > 0 || extra.length > 0) {
          issue([i, 'samples', j, 'labels'], `${m.metric} takes labels {${labels.join(',')}}: ${missing.length > 0 ? `missing ${missing.join(', ')}` : ''}${missing.length > 0 && extra.length > 0 ? '; ' : ''}${extra.length > 0 ? `not allowed ${extra.join(', ')}` : ''} (give each in labels or label_paths)`);
        }
      });
    }
    if (s.type === 'prometheus') {
      s.queries.forEach((q, j) => {
        const labels = metric([i, 'queries', j, 'metric'], q.metric);
        if (labels === undefined) return;
        for (const key of ['labels', 'label_map'] as const) {
          const extra = Object.keys(q[key]).filter((l) => !labels.includes(l));
          if (extra.length > 0) issue([i, 'queries', j, key], `${q.metric} takes labels {${labels.join(',')}}: not allowed ${extra.join(', ')}`);
        }
      });
    }
  });
}
