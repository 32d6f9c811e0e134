import { describeFeastError } from '../../ingest/sources/feast.js';
import { VigilError } from '../../core/errors.js';
import { httpRequest, safeUrl, SourceError } from '../../ingest/sources/http.js';
import type { ActionContext, RemediationAction, TriggerAlert } from '../action.js';
import type { FeastMaterializeConfig } from '../config.js';
import { outputExcerpt, runProcess, type ProcessResult, type RunProcessOptions } from './run-process.js';

/**
 * `feast_materialize`: incremental materialization of Feast feature views up to now, then (with
 * `verify_freshness`) waiting until their freshness recovers.
 *
 * - Views: `feature_views` from the config, else the alert's `feature_view` label, else all views.
 * - With `url` (the feature server, `feast serve`): `POST /materialize-incremental {end_ts,
 *   feature_views?}`. A 409 (a materialization is already running) is not a failure: it goes on to
 *   verification and says so. FeastErrors (a double-encoded JSON string body) are reported by
 *   their message.
 * - With `command` (the CLI as an argv prefix): `[...command, 'materialize-incremental', END_TS,
 *   '-v', VIEW …]`, no shell, with Vigil's environment (the CLI needs its Python environment and
 *   cloud credentials); stopped when the action's timeout passes.
 * - Verification reads `deps.freshness()` (feature view → seconds since its last update, from the
 *   `feast_feature_freshness_seconds{feature_view}` series) every `poll_interval` until every
 *   requested view (every known view when none was requested) is at most `max_staleness` old.
 *
 * Idempotent: a resumed attempt whose request already went through only verifies.
 */

export interface FeastMaterializeDeps {
  /** feature view → seconds since its last update (feast_feature_freshness_seconds). */
  freshness(): ReadonlyMap<string, number>;
  /** Runs the CLI (default: {@link runProcess}). */
  runCommand?: (opts: RunProcessOptions) => Promise<ProcessResult>;
}

/** The views to materialize; [] means all of them. */
export function requestedViews(cfg: Pick<FeastMaterializeConfig, 'feature_views'>, alert: Pick<TriggerAlert, 'labels'>): string[] {
  if (cfg.feature_views.length > 0) return [...cfg.feature_views];
  const label = alert.labels.feature_view;
  return label !== undefined && label !== '' ? [label] : [];
}

/**
 * END_TS as `feast materialize-incremental` reads it: its CLI parses the argument with Python's
 * `datetime.fromisoformat` (feast/cli.py), which before Python 3.11 takes an offset as `+HH:MM`
 * only, not `Z`: the UTC time with `+00:00`.
 */
export const feastCliTime = (iso: string): string => (iso.endsWith('Z') ? `${iso.slice(0, -1)}+00:00` : iso);

export function feastCommand(command: readonly string[], endTs: string, views: readonly string[]): string[] {
  return [...command, 'materialize-incremental', feastCliTime(endTs), ...views.flatMap((v) => ['-v', v])];
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

export function createFeastMaterialize(cfg: FeastMaterializeConfig, deps: FeastMaterializeDeps): RemediationAction {
  const run = deps.runCommand ?? runProcess;
  const mode = cfg.url !== undefined ? 'server' : 'command';

  async function materialize(ctx: ActionContext, views: string[], endTs: string): Promise<{ alreadyRunning: boolean; details: Record<string, unknown> }> {
    const what = `feast_materialize ${ctx.action}`;
    if (cfg.url !== undefined) {
      const url = `${cfg.url.replace(/\/+$/, '')}/materialize-incremental`;
      try {
        const res = await httpRequest({
          method: 'POST',
          url,
          headers: cfg.headers,
          auth: cfg,
          body: { end_ts: endTs, ...(views.length > 0 ? { feature_views: views } : {}) },
          signal: ctx.signal,
          timeoutMs: cfg.timeout,
          now: ctx.now(),
          what,
          describeError: describeFeastError,
        });
        return { alreadyRunning: false, details: { url: safeUrl(url), status: res.status } };
      } catch (e) {
        if (e instanceof SourceError && e.status === 409) {
          ctx.logger.info({ action: ctx.action, url: safeUrl(url) }, 'Feast materialization already running; verifying freshness');
          return { alreadyRunning: true, details: { url: safeUrl(url), status: 409 } };
        }
        throw e;
      }
    }
    const argv = feastCommand(cfg.command ?? [], endTs, views);
    const res = await run({ argv, signal: ctx.signal, what });
    const details = { command: argv, exit_code: res.exitCode, stdout: outputExcerpt(res.stdout, 1_000), stderr: outputExcerpt(res.stderr, 1_000) };
    if (res.exitCode !== 0) {
      const how = res.exitCode === null ? `was ended by signal ${res.exitSignal ?? '?'}` : `exited with code ${res.exitCode}`;
      const err = outputExcerpt(res.stderr);
      throw new VigilError('VIGIL_ERR_REMEDIATION_FEAST_FAILED', `${what}: ${argv[0] ?? 'feast'} materialize-incremental ${how}${err === '' ? '' : `: ${err}`}`, { details });
    }
    return { alreadyRunning: false, details };
  }

  /** Polls freshness until every view is fresh; throws when a view has no reading or the signal aborts. */
  async function verify(ctx: ActionContext, views: string[]): Promise<{ readings: Record<string, number>; polls: number }> {
    const maxS = cfg.max_staleness / 1000;
    let stale: [string, number][] = [];
    for (let polls = 1; ; polls++) {
      const all = deps.freshness();
      const targets = views.length > 0 ? views : [...all.keys()].sort();
      if (targets.length === 0) {
        throw new VigilError(
          'VIGIL_ERR_REMEDIATION_NO_FRESHNESS',
          'no freshness reading for any feature view: configure a feast source (see README) or set verify_freshness: false',
        );
      }
      const readings: Record<string, number> = {};
      for (const v of targets) {
        const s = all.get(v);
        if (s === undefined || !Number.isFinite(s)) {
          throw new VigilError(
            'VIGIL_ERR_REMEDIATION_NO_FRESHNESS',
            `no freshness reading for feature view ${v}: configure a feast source (see README) or set verify_freshness: false`,
            { details: { feature_view: v, known_views: [...all.keys()].sort() } },
          );
        }
        readings[v] = s;
      }
      stale = Object.entries(readings).filter(([, s]) => s > maxS);
      if (stale.length === 0) return { readings, polls };
      ctx.logger.debug({ action: ctx.action, stale: Object.fromEntries(stale) }, 'Feast feature views still stale');
      try {
        await ctx.sleep(cfg.poll_interval);
      } catch (e) {
        if (!ctx.signal.aborted) throw e;
        const list = stale.map(([v, s]) => `feature view ${v} still ${Math.round(s)} s stale after materialization`).join('; ');
        throw new VigilError('VIGIL_ERR_REMEDIATION_VERIFY_FAILED', `${list} (max_staleness ${secs(cfg.max_staleness)} s, ${polls} readings)`, {
          details: { stale: Object.fromEntries(stale), freshness: readings, max_staleness_s: maxS, polls },
          cause: e,
        });
      }
    }
  }

  return {
    type: 'feast_materialize',
    idempotent: true,
    needsModel: false,

    describe(ctx) {
      const views = requestedViews(cfg, ctx.alert);
      return {
        mode,
        ...(cfg.url !== undefined ? { url: `${safeUrl(cfg.url).replace(/\/+$/, '')}/materialize-incremental` } : { command: feastCommand(cfg.command ?? [], '<now>', views) }),
        feature_views: views.length > 0 ? views : 'all',
        verify_freshness: cfg.verify_freshness,
        max_staleness_s: secs(cfg.max_staleness),
      };
    },

    async execute(ctx) {
      const views = requestedViews(cfg, ctx.alert);
      const resumed = ctx.plan.materialized === true && typeof ctx.plan.end_ts === 'string';
      let endTs: string;
      let alreadyRunning = false;
      let call: Record<string, unknown> = {};
      if (resumed) {
        endTs = ctx.plan.end_ts as string;
      } else {
        endTs = new Date(ctx.now()).toISOString();
        const r = await materialize(ctx, views, endTs);
        alreadyRunning = r.alreadyRunning;
        call = r.details;
        await ctx.savePlan({ mode, feature_views: views, end_ts: endTs, materialized: true, already_running: alreadyRunning });
      }
      const details: Record<string, unknown> = {
        mode,
        feature_views: views.length > 0 ? views : 'all',
        end_ts: endTs,
        ...call,
        already_running: alreadyRunning || ctx.plan.already_running === true,
        ...(resumed ? { resumed: true } : {}),
      };
      const started = alreadyRunning ? 'a materialization was already running' : resumed ? 'materialization requested by an earlier attempt' : 'materialized';
      const what = views.length > 0 ? views.join(', ') : 'all feature views';
      if (!cfg.verify_freshness) {
        return { outcome: 'succeeded', message: `${what}: ${started} up to ${endTs} (freshness not verified)`, details: { ...details, verified: false } };
      }
      const v = await verify(ctx, views);
      return {
        outcome: 'succeeded',
        message: `${what}: ${started} up to ${endTs}; fresh within ${secs(cfg.max_staleness)} s`,
        details: { ...details, verified: true, freshness: v.readings, polls: v.polls },
      };
    },
  };
}
