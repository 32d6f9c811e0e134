import { z } from 'zod';
import { bool, durationMs, int, positiveDuration } from '../config/primitives.js';
import { matcherListSchema } from '../alerting/notifiers/matchers.js';
import { httpKeys, httpUrl } from '../ingest/sources/common.js';
import { checkTemplate } from '../alerting/engine/template.js';

/** Reports every string of a JSON value (or argv) that is not a valid template, at its path. */
function checkTemplates(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (typeof value === 'string') {
    const err = checkTemplate(value);
    if (err !== undefined) ctx.addIssue({ code: 'custom', path, message: `not a valid template: ${err}`, params: { vigil: 'VALUE' } });
  } else if (Array.isArray(value)) value.forEach((v, i) => checkTemplates(v, [...path, i], ctx));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) checkTemplates(v, [...path, k], ctx);
}

/**
 * `remediation:` — named actions, routes from alerts to actions (Alertmanager route semantics),
 * and the guardrails. Every action kind has its own schema below; they share the guardrail keys.
 */

export const ACTION_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Guardrail keys every action has. Defaults are per kind (see `guardrailKeys`). */
const guardrailKeys = (d: { cooldown: number; timeout: number; retries: number; maxRuns: number }) => ({
  /** Decide and record, call nothing (also global: remediation.dry_run). */
  dry_run: bool().default(false),
  /** Wait for POST /v1/actions/:id/approve before acting. */
  require_approval: bool().default(false),
  /** A pending approval expires (is not executed) after this. */
  approval_timeout: positiveDuration().default(3_600_000),
  /** No second execution of this action for the same model within this time. */
  cooldown: durationMs().default(d.cooldown),
  /** At most this many executions of this action (all models) per `max_runs_window`. */
  max_runs: int().pipe(z.number().min(1)).default(d.maxRuns),
  max_runs_window: positiveDuration().default(3_600_000),
  /** Budget of one execution, retries and verification included. */
  timeout: positiveDuration().default(d.timeout),
  /** Retries of retryable failures (network, 429, 5xx), with exponential backoff. */
  retries: int().pipe(z.number().min(0).max(10)).default(d.retries),
  retry_backoff: durationMs().default(1_000),
});

const exclusiveAuth = (cfg: { bearer_token?: string | undefined; basic_auth?: unknown }, ctx: z.RefinementCtx): void => {
  if (cfg.bearer_token !== undefined && cfg.basic_auth !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['bearer_token'], message: 'give either bearer_token or basic_auth, not both', params: { vigil: 'VALUE' } });
  }
};

export const MlflowRollbackSchema = z
  .strictObject({
    type: z.literal('mlflow_rollback'),
    ...guardrailKeys({ cooldown: 1_800_000, timeout: 120_000, retries: 3, maxRuns: 3 }),
    /** MLflow tracking server (`http://mlflow:5000`); the registry API is under /api/2.0/mlflow. */
    url: httpUrl(),
    ...httpKeys,
    /** `alias`: move the serving alias; `stage`: legacy `Production` stage (transition-stage). */
    mode: z.enum(['alias', 'stage']).default('alias'),
    /** The serving alias (mode alias). */
    alias: z.string().min(1).default('champion'),
    /** An alias naming the previous good version, used when Vigil has no record of its own. */
    previous_alias: z.string().min(1).default('previous-champion'),
    /** Vigil model name → registered model name (default: the same name). */
    model_map: z.record(z.string().min(1), z.string().min(1)).default({}),
  })
  .superRefine(exclusiveAuth);

export const CircuitBreakerActionSchema = z.strictObject({
  type: z.literal('circuit_breaker'),
  ...guardrailKeys({ cooldown: 0, timeout: 10_000, retries: 0, maxRuns: 100 }),
});

export const FeastMaterializeSchema = z
  .strictObject({
    type: z.literal('feast_materialize'),
    ...guardrailKeys({ cooldown: 1_800_000, timeout: 900_000, retries: 3, maxRuns: 6 }),
    /** Feast feature server (`feast serve`): POST /materialize-incremental. */
    url: httpUrl().optional(),
    ...httpKeys,
    /** Instead of url: the `feast` CLI as an argv array (needs remediation.allow_exec). */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** Feature views to materialize; empty: the alert's `feature_view` label, else all views. */
    feature_views: z.array(z.string().min(1)).default([]),
    /** Wait until the views' freshness (feast_feature_freshness_seconds) is at most max_staleness. */
    verify_freshness: bool().default(true),
    max_staleness: positiveDuration().default(900_000),
    poll_interval: positiveDuration().default(15_000),
  })
  .superRefine((cfg, ctx) => {
    exclusiveAuth(cfg, ctx);
    if ((cfg.url === undefined) === (cfg.command === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either url (the feature server) or command (the feast CLI), exactly one', params: { vigil: 'VALUE' } });
    }
  });

export const WebhookActionSchema = z
  .strictObject({
    type: z.literal('webhook'),
    ...guardrailKeys({ cooldown: 600_000, timeout: 30_000, retries: 3, maxRuns: 20 }),
    url: httpUrl(),
    method: z.enum(['POST', 'PUT']).default('POST'),
    ...httpKeys,
    /**
     * JSON body; every string in it is a template with the alert's labels (`{{ $labels.model }}`,
     * `{{ $labels.alertname }}`; Prometheus alert-template semantics, keys are not expanded).
     * Default: the alert, model, action, incident id and idempotency key (also sent as headers).
     */
    body: z.unknown().optional(),
  })
  .superRefine((cfg, ctx) => {
    exclusiveAuth(cfg, ctx);
    checkTemplates(cfg.body, ['body'], ctx);
  });

export const ExecActionSchema = z
  .strictObject({
    type: z.literal('exec'),
    ...guardrailKeys({ cooldown: 600_000, timeout: 60_000, retries: 0, maxRuns: 10 }),
    /** argv: program and arguments, run without a shell; arguments are templates. */
    command: z.array(z.string().min(1)).min(1),
    /**
     * The whole environment of the process (plus VIGIL_* variables about the alert): nothing is
     * inherited, so give PATH here or an absolute program path.
     */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string()).default({}),
    cwd: z.string().min(1).optional(),
  })
  .superRefine((cfg, ctx) => checkTemplates(cfg.command, ['command'], ctx));

export const ActionConfigSchema = z.discriminatedUnion('type', [
  MlflowRollbackSchema,
  CircuitBreakerActionSchema,
  FeastMaterializeSchema,
  WebhookActionSchema,
  ExecActionSchema,
]);

export const RemediationRouteSchema = z.strictObject({
  /** Alertmanager matchers on the alert's labels, all of which must match (none: every alert). */
  matchers: matcherListSchema().default([]),
  /** Action names, run in this order (one action per model at a time). */
  actions: z.array(z.string().min(1)).min(1),
  /** Keep matching the following routes after this one matched. */
  continue: bool().default(false),
});

export const RemediationConfigSchema = z
  .strictObject({
    /** Decide and record every action, call nothing. */
    dry_run: bool().default(false),
    /** Global kill switch (POST /v1/remediation/pause|resume acts at runtime). */
    paused: bool().default(false),
    /** `exec` actions and the feast CLI run programs: refused unless this is true. */
    allow_exec: bool().default(false),
    actions: z.record(z.string().regex(ACTION_NAME_RE, 'must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit'), ActionConfigSchema).default({}),
    routes: z.array(RemediationRouteSchema).default([]),
    /** K successful rollbacks of one model within `window` → stop acting on it, MLRollbackLoop fires. */
    loop_detection: z
      .strictObject({
        max_rollbacks: int().pipe(z.number().min(1)).default(3),
        window: positiveDuration().default(6 * 3_600_000),
      })
      .prefault({}),
    circuit_breaker: z
      .strictObject({
        /** After the alert resolves: half-open this long, then closed if no routed alert fired again. */
        probe_period: positiveDuration().default(600_000),
        /** A breaker stays open at least this long (serving apps polling every few seconds see it). */
        min_open: durationMs().default(60_000),
        /** Notified (POST JSON) on every transition of any model's breaker. */
        webhook: z
          .strictObject({ url: httpUrl(), ...httpKeys, timeout: positiveDuration().default(10_000) })
          .superRefine(exclusiveAuth)
          .optional(),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    cfg.routes.forEach((r, i) => {
      r.actions.forEach((a, j) => {
        if (cfg.actions[a] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'actions', j], message: `unknown action "${a}" (define it under remediation.actions)`, params: { vigil: 'REFERENCE' } });
        }
      });
    });
    for (const [name, a] of Object.entries(cfg.actions)) {
      const runs = a.type === 'exec' || (a.type === 'feast_materialize' && a.command !== undefined);
      if (runs && !cfg.allow_exec) {
        ctx.addIssue({
          code: 'custom',
          path: ['actions', name, a.type === 'exec' ? 'type' : 'command'],
          message: 'runs a program: set remediation.allow_exec: true to allow it',
          params: { vigil: 'VALUE' },
        });
      }
    }
  });

export type RemediationConfig = z.output<typeof RemediationConfigSchema>;
export type ActionConfig = z.output<typeof ActionConfigSchema>;
export type MlflowRollbackConfig = z.output<typeof MlflowRollbackSchema>;
export type CircuitBreakerActionConfig = z.output<typeof CircuitBreakerActionSchema>;
export type FeastMaterializeConfig = z.output<typeof FeastMaterializeSchema>;
export type WebhookActionConfig = z.output<typeof WebhookActionSchema>;
export type ExecActionConfig = z.output<typeof ExecActionSchema>;
