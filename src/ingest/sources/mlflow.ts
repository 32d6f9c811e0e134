import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import type { Sample } from '../../metrics/snapshot.js';
import { commonKeys, httpKeys, int, refineCommon, httpUrl } from './common.js';
import { expectShape, httpRequest, parseJsonAnswer, type HttpAuth } from './http.js';
import type { Source, SourceContext, SourceResult } from './source.js';

/**
 * `mlflow`: reads the MLflow Model Registry (REST API 2.0) — registered models, their versions
 * (paged search), aliases and legacy stages — and exports `ml_model_info{model,version,stage} 1`
 * for every version that has an alias or a stage other than None. The last registry state read is
 * kept for remediation (`versions()`); {@link MlflowClient} is the reusable REST client.
 */

export const MlflowSourceSchema = z
  .strictObject({
    type: z.literal('mlflow'),
    ...commonKeys,
    ...httpKeys,
    /** Tracking server base URL (`http://mlflow:5000`); the API is under `/api/2.0/mlflow`. */
    url: httpUrl(),
    /** Registered model names to read; empty: every registered model (search, paged). */
    models: z.array(z.string().min(1)).default([]),
    /** With `models` empty: a registered-models search filter (`name LIKE 'fraud%'`). */
    filter: z.string().min(1).optional(),
    /** MLflow name → Vigil model name for the `model` label (default: the MLflow name). */
    model_map: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** max_results of each search page. */
    page_size: int().pipe(z.number().min(1).max(1000)).default(100),
  })
  .superRefine((cfg, ctx) => {
    refineCommon(cfg, ctx);
    if (cfg.filter !== undefined && cfg.models.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['filter'], message: 'filter applies when models is empty (searching all registered models)', params: { vigil: 'VALUE' } });
    }
  });

export type MlflowSourceConfig = z.output<typeof MlflowSourceSchema>;

export const MLFLOW_API = '/api/2.0/mlflow';

/** MLflow's `{error_code, message}` → a coded error (RESOURCE_DOES_NOT_EXIST → VIGIL_ERR_MLFLOW_RESOURCE_DOES_NOT_EXIST …). */
export function describeMlflowError(_status: number, text: string): { message: string; code?: ErrorCode } | undefined {
  try {
    const j = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (typeof j.error_code === 'string') {
      const code = j.error_code.replace(/[^A-Z0-9_]/gi, '_').toUpperCase();
      return { message: `${j.error_code}: ${typeof j.message === 'string' ? j.message : '(no message)'}`, code: `VIGIL_ERR_MLFLOW_${code}` };
    }
  } catch {
    /* not MLflow's error shape */
  }
  return undefined;
}

export interface MlflowClientOptions {
  url: string;
  headers?: Record<string, string>;
  auth?: HttpAuth;
  /** For messages (`mlflow <source name>`). */
  what?: string;
  /** Per-request limit in ms (default 30s); the caller's signal can end a request sooner. */
  timeoutMs?: number;
}

/**
 * A small MLflow REST client: GET with a query string, POST/PATCH/DELETE with a JSON body, answers
 * parsed as JSON, errors as SourceErrors with MLflow's error code (`VIGIL_ERR_MLFLOW_<CODE>`),
 * retryable for 429/5xx. Reusable by the remediation actions.
 */
export class MlflowClient {
  constructor(private readonly opts: MlflowClientOptions) {}

  async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, params: Record<string, unknown>, signal: AbortSignal, now?: number): Promise<unknown> {
    const what = `${this.opts.what ?? 'mlflow'} ${method} ${path}`;
    const query: Record<string, string | number | undefined> = {};
    if (method === 'GET') for (const [k, v] of Object.entries(params)) if (v !== undefined) query[k] = typeof v === 'number' ? v : String(v);
    const res = await httpRequest({
      method,
      url: `${this.opts.url.replace(/\/+$/, '')}${MLFLOW_API}${path}`,
      ...(method === 'GET' ? { query } : { body: params }),
      headers: this.opts.headers ?? {},
      ...(this.opts.auth ? { auth: this.opts.auth } : {}),
      signal,
      timeoutMs: this.opts.timeoutMs ?? 30_000,
      ...(now === undefined ? {} : { now }),
      what,
      describeError: describeMlflowError,
    });
    return parseJsonAnswer(res, what);
  }

  get(path: string, query: Record<string, unknown>, signal: AbortSignal, now?: number): Promise<unknown> {
    return this.call('GET', path, query, signal, now);
  }

  post(path: string, body: Record<string, unknown>, signal: AbortSignal, now?: number): Promise<unknown> {
    return this.call('POST', path, body, signal, now);
  }
}

const Timestamp = z.union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)]);
const Tag = z.object({ key: z.string(), value: z.string().optional() });
const ModelVersionJson = z.object({
  name: z.string(),
  version: z.union([z.string(), z.number().transform(String)]),
  creation_timestamp: Timestamp.optional(),
  last_updated_timestamp: Timestamp.optional(),
  current_stage: z.string().optional(),
  status: z.string().optional(),
  run_id: z.string().optional(),
  source: z.string().optional(),
  tags: z.array(Tag).optional(),
  aliases: z.array(z.string()).optional(),
});
const RegisteredModelJson = z.object({
  name: z.string(),
  aliases: z.array(z.object({ alias: z.string(), version: z.union([z.string(), z.number().transform(String)]) })).optional(),
});
const SearchModels = z.object({ registered_models: z.array(RegisteredModelJson).optional(), next_page_token: z.string().optional() });
const GetModel = z.object({ registered_model: RegisteredModelJson });
const SearchVersions = z.object({ model_versions: z.array(ModelVersionJson).optional(), next_page_token: z.string().optional() });

export interface ModelVersionState {
  version: string;
  /** Legacy stage as MLflow spells it (`None`, `Staging`, `Production`, `Archived`). */
  stage: string;
  aliases: string[];
  status: string;
  creationTimestamp: number | null;
  lastUpdatedTimestamp: number | null;
  runId: string | null;
  source: string | null;
  tags: Record<string, string>;
}

export interface RegisteredModelState {
  name: string;
  /** alias → version */
  aliases: Record<string, string>;
  /** Newest version first. */
  versions: ModelVersionState[];
}

export interface RegistryState {
  /** When it was read (ms since the epoch). */
  at: number;
  /** The source's model_map: MLflow name → Vigil model name. */
  modelMap: Readonly<Record<string, string>>;
  models: Map<string, RegisteredModelState>;
}

export interface MlflowSource extends Source {
  /** The registry as last read successfully; null before the first success. */
  versions(): RegistryState | null;
}

const MAX_PAGES = 10_000;

export function createMlflowSource(cfg: MlflowSourceConfig): MlflowSource {
  const what = `mlflow ${cfg.name}`;
  const client = new MlflowClient({ url: cfg.url, headers: cfg.headers, auth: cfg, what, timeoutMs: cfg.timeout });
  let last: RegistryState | null = null;

  async function pages<T>(path: string, query: Record<string, unknown>, shape: z.ZodType<T & { next_page_token?: string | undefined }>, ctx: SourceContext): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const answer = expectShape(shape, await client.get(path, { ...query, max_results: cfg.page_size, page_token: token }, ctx.signal, ctx.now), `${what} ${path}`);
      out.push(answer);
      token = answer.next_page_token;
      if (token === undefined || token === '') return out;
    }
    return out;
  }

  async function readModel(name: string, known: z.output<typeof RegisteredModelJson> | undefined, ctx: SourceContext): Promise<RegisteredModelState> {
    const model = known?.aliases !== undefined ? known : expectShape(GetModel, await client.get('/registered-models/get', { name }, ctx.signal, ctx.now), `${what} registered-models/get`).registered_model;
    const quote = name.includes("'") ? `"${name}"` : `'${name}'`;
    const versionPages = await pages('/model-versions/search', { filter: `name=${quote}` }, SearchVersions, ctx);
    const aliases: Record<string, string> = {};
    for (const a of model.aliases ?? []) aliases[a.alias] = a.version;
    const versions = versionPages
      .flatMap((p) => p.model_versions ?? [])
      .filter((v) => v.name === name)
      .map((v): ModelVersionState => {
        const fromModel = Object.entries(aliases).filter(([, ver]) => ver === v.version).map(([a]) => a);
        return {
          version: v.version,
          stage: v.current_stage ?? 'None',
          aliases: [...new Set([...fromModel, ...(v.aliases ?? [])])].sort(),
          status: v.status ?? 'READY',
          creationTimestamp: v.creation_timestamp ?? null,
          lastUpdatedTimestamp: v.last_updated_timestamp ?? null,
          runId: v.run_id ?? null,
          source: v.source ?? null,
          tags: Object.fromEntries((v.tags ?? []).map((t) => [t.key, t.value ?? ''])),
        };
      })
      .sort((a, b) => Number(b.version) - Number(a.version));
    return { name, aliases, versions };
  }

  return {
    name: cfg.name,
    type: 'mlflow',
    versions: () => last,
    async collect(ctx: SourceContext): Promise<SourceResult> {
      const targets: { name: string; known?: z.output<typeof RegisteredModelJson> }[] = [];
      if (cfg.models.length > 0) targets.push(...cfg.models.map((name) => ({ name })));
      else {
        const found = await pages('/registered-models/search', { filter: cfg.filter }, SearchModels, ctx);
        for (const m of found.flatMap((p) => p.registered_models ?? [])) targets.push({ name: m.name, known: m });
      }
      const models = new Map<string, RegisteredModelState>();
      for (const t of targets) models.set(t.name, await readModel(t.name, t.known, ctx));
      last = { at: ctx.now, modelMap: cfg.model_map, models };
      return { samples: modelInfoSamples(models, cfg.model_map) };
    },
  };
}

/** `ml_model_info{model,version,stage} 1` per (version, alias) and (version, stage ≠ None); stage lower-cased. */
export function modelInfoSamples(models: ReadonlyMap<string, RegisteredModelState>, modelMap: Readonly<Record<string, string>> = {}): Sample[] {
  const out: Sample[] = [];
  const seen = new Set<string>();
  for (const m of models.values()) {
    const model = modelMap[m.name] ?? m.name;
    for (const v of m.versions) {
      const stages = [...v.aliases, ...(v.stage.toLowerCase() === 'none' || v.stage === '' ? [] : [v.stage])].map((s) => s.toLowerCase());
      for (const stage of stages) {
        const key = `${model}\u0000${v.version}\u0000${stage}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ name: 'ml_model_info', labels: { model, version: v.version, stage }, value: 1 });
      }
    }
  }
  return out;
}

/** What holds each serving slot — every alias, and the `Production` stage — per Vigil model (model_map applied). */
export function servingSlots(state: RegistryState | null): { model: string; slot: string; version: string }[] {
  const out: { model: string; slot: string; version: string }[] = [];
  if (state === null) return out;
  for (const m of state.models.values()) {
    const model = state.modelMap[m.name] ?? m.name;
    for (const [alias, version] of Object.entries(m.aliases)) out.push({ model, slot: alias, version });
    for (const v of m.versions) if (v.stage.toLowerCase() === 'production') out.push({ model, slot: 'Production', version: v.version });
  }
  return out;
}
