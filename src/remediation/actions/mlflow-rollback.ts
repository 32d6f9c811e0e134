import { z } from 'zod';
import { VigilError } from '../../core/errors.js';
import { expectShape, SourceError } from '../../ingest/sources/http.js';
import { MlflowClient } from '../../ingest/sources/mlflow.js';
import type { ActionContext, ActionResult, RemediationAction } from '../action.js';
import type { MlflowRollbackConfig } from '../config.js';
import type { KnownGoodVersions } from '../known-good.js';

/**
 * `mlflow_rollback`: moves a model's serving alias (mode `alias`, default `champion`) — or, in the
 * legacy mode `stage`, the `Production` stage — back to the last known-good version, tags the
 * rolled-back version and reads the registry back to verify (REFERENCE.md §1).
 *
 * Target: the first version of Vigil's own record ({@link KnownGoodVersions}, most recently
 * healthy first) that is not the current one, exists and is READY; else the `previous_alias`
 * (alias mode) or the newest `Archived` version (stage mode); else the action refuses and changes
 * nothing. The chosen from/to are saved with `savePlan` before anything moves: a resumed attempt
 * (after a retryable failure or a restart) uses them as they are — after the move the current
 * version IS the target, so recomputing would pick yet another — and moves only what has not moved
 * yet. HTTP failures are the client's SourceErrors (retryable for 429/5xx/network); 401/403 are not
 * retryable and say to check the action's credentials.
 */

export interface MlflowRollbackDeps {
  readonly knownGood: KnownGoodVersions;
}

export type RollbackTargetSource = 'history' | 'previous_alias' | 'archived';

/** What a first attempt decides and saves before acting. */
export interface RollbackPlan {
  registeredModel: string;
  mode: 'alias' | 'stage';
  /** The alias (mode alias) or the stage (`Production`, mode stage) being moved. */
  slot: string;
  from: string;
  to: string;
  source: RollbackTargetSource;
  reason: string;
  /** When the rollback was decided (ISO): the `vigil.rolled_back_at` tag, the same on every attempt. */
  at: string;
}

const PRODUCTION = 'Production';

const Version = z.union([z.string(), z.number().transform(String)]);
const Timestamp = z.union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)]);
const ModelVersionJson = z.object({
  name: z.string().optional(),
  version: Version,
  current_stage: z.string().optional(),
  status: z.string().optional(),
  last_updated_timestamp: Timestamp.optional(),
});
type ModelVersion = z.output<typeof ModelVersionJson>;
const OneVersion = z.object({ model_version: ModelVersionJson });
const VersionList = z.object({ model_versions: z.array(ModelVersionJson).optional(), next_page_token: z.string().optional() });

const MAX_SEARCH_PAGES = 100;

const isMissing = (e: unknown): e is SourceError => e instanceof SourceError && e.status === 404 && e.code === 'VIGIL_ERR_MLFLOW_RESOURCE_DOES_NOT_EXIST';
/**
 * An alias that is not set. MLflow answers `400 INVALID_PARAMETER_VALUE` "Registered model alias X
 * not found." — its SQL and file stores alike (mlflow/store/model_registry/sqlalchemy_store.py and
 * file_store.py, get_model_version_by_alias), also when the registered model does not exist; other
 * registries implementing the API answer 404 RESOURCE_DOES_NOT_EXIST. Any other 400 (an invalid
 * alias name, …) is an error, not a missing alias.
 */
const isAliasMissing = (e: unknown, alias: string): e is SourceError =>
  isMissing(e) || (e instanceof SourceError && e.status === 400 && e.code === 'VIGIL_ERR_MLFLOW_INVALID_PARAMETER_VALUE' && e.message.includes(`Registered model alias ${alias} not found`));
const isStage = (v: ModelVersion | undefined, stage: string) => (v?.current_stage ?? '').toLowerCase() === stage.toLowerCase();
const isReady = (v: ModelVersion) => (v.status ?? 'READY') === 'READY';

export function createMlflowRollback(cfg: MlflowRollbackConfig, deps: MlflowRollbackDeps): RemediationAction {
  const client = new MlflowClient({ url: cfg.url, headers: cfg.headers, auth: cfg, what: 'mlflow_rollback', timeoutMs: Math.min(30_000, cfg.timeout) });
  const registeredModelOf = (model: string) => cfg.model_map[model] ?? model;
  const slot = cfg.mode === 'alias' ? cfg.alias : PRODUCTION;

  async function call(ctx: ActionContext, method: 'GET' | 'POST', path: string, params: Record<string, unknown>): Promise<unknown> {
    try {
      return await client.call(method, path, params, ctx.signal, ctx.now());
    } catch (e) {
      if (e instanceof SourceError && (e.status === 401 || e.status === 403)) {
        throw new SourceError(e.code, `${e.message.replace(/ \(check the source's credentials\)$/, '')} (check the action's bearer_token / basic_auth: the registry refused them)`, {
          status: e.status,
          retryable: false,
          cause: e,
        });
      }
      throw e;
    }
  }

  /** The version an alias points at; undefined when the alias is not set. */
  async function readAlias(ctx: ActionContext, name: string, alias: string, onMissing?: (registrySays: string) => void): Promise<ModelVersion | undefined> {
    try {
      return expectShape(OneVersion, await call(ctx, 'GET', '/registered-models/alias', { name, alias }), 'mlflow_rollback registered-models/alias').model_version;
    } catch (e) {
      if (isAliasMissing(e, alias)) {
        onMissing?.(e.message);
        return undefined;
      }
      throw e;
    }
  }

  async function getVersion(ctx: ActionContext, name: string, version: string): Promise<ModelVersion | undefined> {
    try {
      return expectShape(OneVersion, await call(ctx, 'GET', '/model-versions/get', { name, version }), 'mlflow_rollback model-versions/get').model_version;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async function searchVersions(ctx: ActionContext, name: string): Promise<ModelVersion[]> {
    const quote = name.includes("'") ? `"${name}"` : `'${name}'`;
    const out: ModelVersion[] = [];
    let token: string | undefined;
    for (let i = 0; i < MAX_SEARCH_PAGES; i++) {
      const page = expectShape(VersionList, await call(ctx, 'GET', '/model-versions/search', { filter: `name=${quote}`, max_results: 1000, page_token: token }), 'mlflow_rollback model-versions/search');
      out.push(...(page.model_versions ?? []).filter((v) => v.name === undefined || v.name === name));
      token = page.next_page_token;
      if (token === undefined || token === '') break;
    }
    return out;
  }

  /** The first known-good candidate that is not `from`, exists and is READY. */
  async function fromHistory(ctx: ActionContext, name: string, from: string, skipped: string[]): Promise<string | undefined> {
    for (const c of deps.knownGood.candidates(ctx.model, slot)) {
      if (c === from) continue;
      const v = await getVersion(ctx, name, c);
      if (v === undefined) skipped.push(`${c} (no longer in the registry)`);
      else if (!isReady(v)) skipped.push(`${c} (status ${v.status ?? '?'})`);
      else return c;
    }
    return undefined;
  }

  function refuse(message: string, details: Record<string, unknown>): ActionResult {
    return { outcome: 'refused', message, details: { ...details, verified: false } };
  }

  function historyWhy(from: string, skipped: readonly string[]): string {
    const what = cfg.mode === 'alias' ? `as alias ${cfg.alias}` : `in stage ${PRODUCTION}`;
    return skipped.length === 0
      ? `Vigil has no record of another version serving healthy ${what} (known-good history: none besides ${from})`
      : `no usable known-good version (skipped: ${skipped.join(', ')})`;
  }

  async function tagRolledBack(ctx: ActionContext, plan: RollbackPlan): Promise<void> {
    const tags: [string, string][] = [
      ['vigil.rolled_back_at', plan.at],
      ['vigil.rolled_back_to', plan.to],
      ['vigil.incident', ctx.incidentId],
    ];
    for (const [key, value] of tags) await call(ctx, 'POST', '/model-versions/set-tag', { name: plan.registeredModel, version: plan.from, key, value });
  }

  /** The plan an earlier attempt saved, or undefined on a first attempt. */
  function savedPlan(ctx: ActionContext, registeredModel: string): RollbackPlan | undefined {
    const p = ctx.plan;
    if (typeof p.from !== 'string' || typeof p.to !== 'string') return undefined;
    if (p.registeredModel !== registeredModel || p.mode !== cfg.mode || p.slot !== slot) {
      throw new VigilError(
        'VIGIL_ERR_REMEDIATION_PLAN_MISMATCH',
        `mlflow_rollback: an earlier attempt planned ${String(p.mode)} ${String(p.slot)} of ${String(p.registeredModel)} ${p.from} → ${p.to}, but the configuration now says ${cfg.mode} ${slot} of ${registeredModel}: check the registry by hand`,
        { details: { plan: p } },
      );
    }
    const source: RollbackTargetSource = p.source === 'previous_alias' || p.source === 'archived' ? p.source : 'history';
    return {
      registeredModel,
      mode: cfg.mode,
      slot,
      from: p.from,
      to: p.to,
      source,
      reason: typeof p.reason === 'string' ? p.reason : '',
      at: typeof p.at === 'string' ? p.at : new Date(ctx.now()).toISOString(),
    };
  }

  function newPlan(ctx: ActionContext, registeredModel: string, from: string, to: string, source: RollbackTargetSource): RollbackPlan {
    const why = source === 'history' ? "Vigil's known-good history" : source === 'previous_alias' ? `alias ${cfg.previous_alias}` : `the newest ${'Archived'} version`;
    return {
      registeredModel,
      mode: cfg.mode,
      slot,
      from,
      to,
      source,
      reason: `${ctx.alert.alertname} fired for ${ctx.model} (incident ${ctx.incidentId}): ${slot} ${from} → ${to}, from ${why}`,
      at: new Date(ctx.now()).toISOString(),
    };
  }

  function result(plan: RollbackPlan, moved: boolean, resumed: boolean, skipped: readonly string[]): ActionResult {
    const where = cfg.mode === 'alias' ? `alias ${cfg.alias}` : `stage ${PRODUCTION}`;
    return {
      outcome: 'succeeded',
      message: `${plan.registeredModel}: ${where} rolled back from version ${plan.from} to ${plan.to} (${plan.source}), verified${moved ? '' : ' (it had already moved)'}`,
      details: {
        registeredModel: plan.registeredModel,
        mode: cfg.mode,
        ...(cfg.mode === 'alias' ? { alias: cfg.alias } : { stage: PRODUCTION }),
        from: plan.from,
        to: plan.to,
        verified: true,
        source: plan.source,
        moved,
        ...(resumed ? { resumed: true } : {}),
        ...(skipped.length > 0 ? { skipped } : {}),
      },
    };
  }

  async function executeAlias(ctx: ActionContext, name: string): Promise<ActionResult> {
    const base = { registeredModel: name, mode: cfg.mode, alias: cfg.alias };
    let plan = savedPlan(ctx, name);
    const resumed = plan !== undefined;
    const skipped: string[] = [];
    let current: string | undefined;
    if (plan === undefined) {
      let registrySays = '';
      const cur = await readAlias(ctx, name, cfg.alias, (m) => (registrySays = m));
      if (cur === undefined) return refuse(`alias ${cfg.alias} is not set on model ${name}: nothing to roll back`, { ...base, registry_says: registrySays });
      current = cur.version;
      let to = await fromHistory(ctx, name, current, skipped);
      let source: RollbackTargetSource = 'history';
      let prevWhy = '';
      if (to === undefined) {
        const prev = cfg.previous_alias === cfg.alias ? undefined : await readAlias(ctx, name, cfg.previous_alias);
        if (prev === undefined) prevWhy = `alias ${cfg.previous_alias} is not set`;
        else if (prev.version === current) prevWhy = `alias ${cfg.previous_alias} points at the current version ${current}`;
        else if (!isReady(prev)) prevWhy = `alias ${cfg.previous_alias} points at version ${prev.version} with status ${prev.status ?? '?'}`;
        else {
          to = prev.version;
          source = 'previous_alias';
        }
      }
      if (to === undefined) {
        return refuse(`no known-good version of ${name} to roll back to from version ${current}: ${historyWhy(current, skipped)}, and no previous alias (${prevWhy})`, {
          ...base,
          from: current,
          ...(skipped.length > 0 ? { skipped } : {}),
        });
      }
      plan = newPlan(ctx, name, current, to, source);
      await ctx.savePlan({ ...plan });
      ctx.logger.info({ action: ctx.action, model: ctx.model, registeredModel: name, alias: cfg.alias, from: plan.from, to: plan.to, source }, 'MLflow rollback planned');
    } else {
      current = (await readAlias(ctx, name, cfg.alias))?.version;
    }

    const moved = current !== plan.to;
    if (moved) await call(ctx, 'POST', '/registered-models/alias', { name, alias: cfg.alias, version: plan.to });
    await tagRolledBack(ctx, plan);

    const after = await readAlias(ctx, name, cfg.alias);
    if (after?.version !== plan.to) {
      throw new VigilError(
        'VIGIL_ERR_REMEDIATION_VERIFY_FAILED',
        `mlflow_rollback: alias ${cfg.alias} of ${name} reads back as ${after === undefined ? 'not set' : `version ${after.version}`} instead of ${plan.to} after the rollback (did something else move it?)`,
        { details: { ...base, from: plan.from, to: plan.to, read_back: after?.version ?? null } },
      );
    }
    return result(plan, moved, resumed, skipped);
  }

  async function executeStage(ctx: ActionContext, name: string): Promise<ActionResult> {
    const base = { registeredModel: name, mode: cfg.mode, stage: PRODUCTION };
    let plan = savedPlan(ctx, name);
    const resumed = plan !== undefined;
    const skipped: string[] = [];
    if (plan === undefined) {
      let latest: ModelVersion[];
      try {
        latest = expectShape(VersionList, await call(ctx, 'POST', '/registered-models/get-latest-versions', { name, stages: [PRODUCTION] }), 'mlflow_rollback get-latest-versions').model_versions ?? [];
      } catch (e) {
        if (isMissing(e)) return refuse(`registered model ${name} does not exist: nothing to roll back`, base);
        throw e;
      }
      const current = latest.filter((v) => isStage(v, PRODUCTION)).sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (current === undefined) return refuse(`no version of model ${name} is in stage ${PRODUCTION}: nothing to roll back`, base);
      let to = await fromHistory(ctx, name, current.version, skipped);
      let source: RollbackTargetSource = 'history';
      if (to === undefined) {
        const archived = (await searchVersions(ctx, name))
          .filter((v) => isStage(v, 'Archived') && isReady(v) && v.version !== current.version)
          .sort((a, b) => (b.last_updated_timestamp ?? 0) - (a.last_updated_timestamp ?? 0) || Number(b.version) - Number(a.version))[0];
        if (archived !== undefined) {
          to = archived.version;
          source = 'archived';
        }
      }
      if (to === undefined) {
        return refuse(`no known-good version of ${name} to roll back to from version ${current.version}: ${historyWhy(current.version, skipped)}, and no READY Archived version`, {
          ...base,
          from: current.version,
          ...(skipped.length > 0 ? { skipped } : {}),
        });
      }
      plan = newPlan(ctx, name, current.version, to, source);
      await ctx.savePlan({ ...plan });
      ctx.logger.info({ action: ctx.action, model: ctx.model, registeredModel: name, stage: PRODUCTION, from: plan.from, to: plan.to, source }, 'MLflow rollback planned');
    }

    const target = await getVersion(ctx, name, plan.to);
    if (target === undefined) {
      throw new VigilError('VIGIL_ERR_REMEDIATION_TARGET_GONE', `mlflow_rollback: version ${plan.to} of ${name} no longer exists`, { details: { ...base, from: plan.from, to: plan.to } });
    }
    const moved = !isStage(target, PRODUCTION);
    if (moved) await call(ctx, 'POST', '/model-versions/transition-stage', { name, version: plan.to, stage: PRODUCTION, archive_existing_versions: true });
    await tagRolledBack(ctx, plan);

    const [to, from] = [await getVersion(ctx, name, plan.to), await getVersion(ctx, name, plan.from)];
    if (!isStage(to, PRODUCTION) || isStage(from, PRODUCTION)) {
      throw new VigilError(
        'VIGIL_ERR_REMEDIATION_VERIFY_FAILED',
        `mlflow_rollback: after the rollback of ${name}, version ${plan.to} is in stage ${to?.current_stage ?? '(gone)'} and version ${plan.from} in ${from?.current_stage ?? '(gone)'}: expected ${plan.to} alone in ${PRODUCTION}`,
        { details: { ...base, from: plan.from, to: plan.to, to_stage: to?.current_stage ?? null, from_stage: from?.current_stage ?? null } },
      );
    }
    return result(plan, moved, resumed, skipped);
  }

  return {
    type: 'mlflow_rollback',
    idempotent: true,
    needsModel: true,

    describe(ctx) {
      return {
        registeredModel: registeredModelOf(ctx.model),
        mode: cfg.mode,
        ...(cfg.mode === 'alias' ? { alias: cfg.alias, previous_alias: cfg.previous_alias } : { stage: PRODUCTION }),
        candidates: [...deps.knownGood.candidates(ctx.model, slot)],
      };
    },

    async execute(ctx) {
      if (ctx.model === '') throw new VigilError('VIGIL_ERR_REMEDIATION_NO_MODEL', 'mlflow_rollback: the alert has no model label');
      const name = registeredModelOf(ctx.model);
      return cfg.mode === 'alias' ? executeAlias(ctx, name) : executeStage(ctx, name);
    },
  };
}
