import type { Logger } from '../core/logger.js';

/**
 * The contract between the remediation runner (guardrails, audit, retries) and one action kind
 * (one file each in ./actions). An action only acts: the runner decides whether it may run, gives
 * it a signal bounded by the action's timeout, retries it when it throws a retryable error, and
 * records the outcome.
 *
 * Idempotency: `execute` may be called again for the same incident after a retry or a restart (the
 * runner resumes a `running` record of an idempotent action). It receives what it saved with
 * `savePlan` on the earlier attempt and must check the external state before changing it, so a
 * repeated call never acts twice (e.g. the rollback reads the alias and does not move it again).
 */

export type ActionType = 'mlflow_rollback' | 'circuit_breaker' | 'feast_materialize' | 'webhook' | 'exec';

/** The alert that triggered the action. */
export interface TriggerAlert {
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly fingerprint: string;
  /** When the alert started firing (ms since the epoch). */
  readonly firedAt: number;
}

export interface ActionContext {
  /** The Vigil model the alert is about (its `model` label; '' when the alert has none). */
  readonly model: string;
  readonly alert: TriggerAlert;
  readonly incidentId: string;
  /** Stable for one (incident, action): sent to receivers as `Idempotency-Key`. */
  readonly idempotencyKey: string;
  /** The configured action name. */
  readonly action: string;
  /** Aborted when the action's timeout passes or Vigil stops. */
  readonly signal: AbortSignal;
  /** The clock (ms since the epoch). */
  now(): number;
  /** What an earlier attempt of this same (incident, action) saved; {} on the first attempt. */
  readonly plan: Readonly<Record<string, unknown>>;
  /** Persists facts before acting (e.g. the rollback's from/to versions), for a resumed attempt. */
  savePlan(plan: Record<string, unknown>): Promise<void>;
  /** Waits (for polling), ending early with the signal's reason when it aborts. */
  sleep(ms: number): Promise<void>;
  readonly logger: Logger;
}

export interface ActionResult {
  /**
   * `succeeded`: done and verified. `refused`: the action decided not to act and changed nothing
   * (e.g. no known-good version to roll back to); `message` says why. Failures are thrown.
   */
  readonly outcome: 'succeeded' | 'refused';
  readonly message: string;
  /** Facts for the audit record (versions, URLs called, exit code, …). */
  readonly details: Record<string, unknown>;
}

export interface RemediationAction {
  readonly type: ActionType;
  /**
   * Safe to execute again after an interruption (restart in the middle): the runner resumes it.
   * When false, an interrupted attempt is recorded as `interrupted` and never repeated.
   */
  readonly idempotent: boolean;
  /** Needs a `model` label on the alert. */
  readonly needsModel: boolean;
  /** What the action would do, computed without calling anything (dry-run and approval records). */
  describe(ctx: Pick<ActionContext, 'model' | 'alert'>): Record<string, unknown>;
  execute(ctx: ActionContext): Promise<ActionResult>;
}
