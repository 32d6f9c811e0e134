import { createLogger } from '../../core/logger.js';
import type { ActionContext, TriggerAlert } from '../action.js';

/**
 * ActionContext objects for the action tests: a hand-stepped clock, a real AbortController, a
 * recorded `savePlan`, and a `sleep` that advances the clock instead of waiting (calling `onSleep`
 * so a test can change the world between polls, and aborting like the runner's timeout once the
 * clock passes `timeoutMs`).
 */

export interface TestContextOptions {
  model?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  alertname?: string;
  incidentId?: string;
  idempotencyKey?: string;
  action?: string;
  /** Clock start (ms since the epoch). */
  now?: number;
  /** A plan saved by an earlier attempt (a resumed attempt). */
  plan?: Record<string, unknown>;
  /** The budget: `sleep` aborts the signal once the clock has moved this far from the start. */
  timeoutMs?: number;
  /** Called after every `sleep` advanced the clock (polls see the changes). */
  onSleep?: (ms: number, ctx: TestContext) => void | Promise<void>;
}

export interface TestContext extends ActionContext {
  readonly controller: AbortController;
  /** The clock: `ctx.clock.t` is what `now()` answers. */
  readonly clock: { t: number };
  /** Every plan passed to savePlan, in order. */
  readonly saved: Record<string, unknown>[];
  /** Every sleep asked for (ms), in order. */
  readonly sleeps: number[];
}

export const TEST_NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

export function testContext(opts: TestContextOptions = {}): TestContext {
  const controller = new AbortController();
  const clock = { t: opts.now ?? TEST_NOW };
  const start = clock.t;
  const saved: Record<string, unknown>[] = [];
  const sleeps: number[] = [];
  const model = opts.model ?? 'fraud';
  const alertname = opts.alertname ?? 'ModelAccuracyDrop';
  const alert: TriggerAlert = {
    alertname,
    labels: { alertname, ...(model === '' ? {} : { model }), severity: 'critical', ...opts.labels },
    annotations: { summary: `accuracy of ${model} dropped`, ...opts.annotations },
    fingerprint: 'f1e2d3c4b5a69788',
    firedAt: start - 60_000,
  };
  const ctx: TestContext = {
    model,
    alert,
    incidentId: opts.incidentId ?? 'inc-0001',
    idempotencyKey: opts.idempotencyKey ?? 'inc-0001:rollback',
    action: opts.action ?? 'rollback',
    signal: controller.signal,
    now: () => clock.t,
    plan: opts.plan ?? {},
    savePlan(plan) {
      saved.push(structuredClone(plan));
      return Promise.resolve();
    },
    async sleep(ms) {
      if (controller.signal.aborted) throw controller.signal.reason;
      sleeps.push(ms);
      clock.t += ms;
      if (opts.timeoutMs !== undefined && clock.t - start >= opts.timeoutMs) {
        controller.abort(new Error(`action timed out after ${opts.timeoutMs}ms`));
        throw controller.signal.reason;
      }
      await opts.onSleep?.(ms, ctx);
      if (controller.signal.aborted) throw controller.signal.reason;
    },
    logger: createLogger({ level: 'silent' }),
    controller,
    clock,
    saved,
    sleeps,
  };
  return ctx;
}
