import { SpanKind, type Tracing } from '../../core/tracing.js';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { NotificationMetrics } from './metrics.js';
import { isNotifyError, isRetryableError, type Notification, type Notifier } from './notifier.js';
import { OutboxWrites, type OutboxEntry, type OutboxStore } from './outbox.js';
import { BoundedQueue } from './queue.js';

/**
 * Delivery to one receiver: a bounded queue (full → the oldest pending notification is dropped and
 * counted), one notification at a time, retries with exponential backoff (or the server's
 * Retry-After) until the retry deadline, every pending notification mirrored in the outbox.
 */

export interface RetryPolicy {
  /** First backoff; doubled after each failed attempt. */
  initialBackoffMs: number;
  /** Longest backoff (a server's Retry-After may ask for more and is honoured). */
  maxBackoffMs: number;
  /** Give up this long after the notification was created (after a restart: after the restore). */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialBackoffMs: 1_000, maxBackoffMs: 60_000, deadlineMs: 10 * 60_000 };

/** Waits `ms`, rejecting when the signal aborts. Injected so tests step time instead of sleeping. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });

export interface DeliveryDeps {
  outbox: OutboxStore;
  metrics: NotificationMetrics;
  logger?: Logger;
  clock: Clock;
  sleep?: Sleep;
  /** A span per delivery attempt; none when absent. */
  tracing?: Tracing;
}

interface Job {
  entry: OutboxEntry;
  notification: Notification;
  deadlineAt: number;
  /** Called when the notification is given up on (not retryable, deadline) or dropped. */
  onFailed?: (() => void) | undefined;
}

/** Backoff before attempt `attempts + 1` after `attempts` failures (1-based). */
export function backoffMs(policy: RetryPolicy, attempts: number): number {
  return Math.min(policy.initialBackoffMs * 2 ** Math.max(0, attempts - 1), policy.maxBackoffMs);
}

export class ReceiverWorker {
  readonly notifier: Notifier;
  readonly #queue: BoundedQueue<Job>;
  readonly #policy: RetryPolicy;
  readonly #deps: DeliveryDeps;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  /** Outbox writes in flight (so `idle()` waits for them too). */
  readonly #writes: OutboxWrites;

  constructor(notifier: Notifier, capacity: number, policy: RetryPolicy, deps: DeliveryDeps) {
    this.notifier = notifier;
    this.#queue = new BoundedQueue<Job>(capacity);
    this.#policy = policy;
    this.#deps = deps;
    this.#log = (deps.logger ?? pino({ level: 'silent' })).child({ receiver: notifier.name, receiverType: notifier.type });
    this.#writes = new OutboxWrites(this.#log);
    this.#sleep = deps.sleep ?? realSleep;
  }

  /** Pending (not yet in flight) notifications. */
  get pending(): number {
    return this.#queue.length;
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Persists a new notification, queues it and starts delivery. */
  async enqueue(notification: Notification, onFailed?: () => void): Promise<void> {
    const now = this.#deps.clock.now();
    const entry: OutboxEntry = { id: randomUUID(), receiver: this.notifier.name, payload: JSON.stringify(notification), attempts: 0, nextAttemptAt: now, createdAt: now };
    await this.#writes.track(this.#deps.outbox.save(entry));
    this.#push({ entry, notification, deadlineAt: now + this.#policy.deadlineMs, onFailed });
  }

  /**
   * Queues a notification restored from the outbox: attempted at once (a restart is a natural
   * moment to retry) with a full retry deadline from now.
   */
  restore(entry: OutboxEntry, notification: Notification): void {
    const now = this.#deps.clock.now();
    this.#push({ entry: { ...entry, nextAttemptAt: Math.min(entry.nextAttemptAt, now) }, notification, deadlineAt: now + this.#policy.deadlineMs });
  }

  #push(job: Job): void {
    if (this.stopped) return;
    for (const dropped of this.#queue.push(job)) {
      this.#deps.metrics.notification(this.notifier.name, 'dropped');
      this.#log.warn({ groupKey: dropped.notification.groupKey, capacity: this.#queue.capacity }, 'notification queue full, oldest notification dropped');
      dropped.onFailed?.();
      void this.#writes.track(this.#deps.outbox.delete(dropped.entry.id));
    }
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once nothing is queued, in flight or being written to the outbox. */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#writes.size > 0) {
      await this.#running;
      await this.#writes.settled();
    }
  }

  /** Stops delivery; whatever is not delivered stays in the outbox for `restore()`. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('receiver worker stopped'));
    this.#queue.clear();
    await this.#running?.catch(() => undefined);
    await this.#writes.settled();
    await this.notifier.close?.();
  }


  async #run(): Promise<void> {
    for (let job = this.#queue.shift(); job !== undefined && !this.stopped; job = this.#queue.shift()) {
      try {
        await this.#deliver(job);
      } catch (e) {
        if (!this.stopped) this.#log.error({ err: errorMessage(e) }, 'notification delivery crashed');
      }
    }
  }

  async #deliver(job: Job): Promise<void> {
    const { entry } = job;
    const signal = this.#abort.signal;
    const name = this.notifier.name;
    for (;;) {
      const wait = entry.nextAttemptAt - this.#deps.clock.now();
      if (wait > 0) await this.#sleep(wait, signal);
      if (signal.aborted) return;
      entry.attempts++;
      try {
        const tracing = this.#deps.tracing;
        if (tracing?.enabled === true) {
          const attributes = { 'vigil.receiver': name, 'vigil.receiver_type': this.notifier.type, 'vigil.attempt': entry.attempts, 'vigil.group_key': job.notification.groupKey };
          await tracing.span(`notify ${this.notifier.type}`, { kind: SpanKind.CLIENT, attributes }, () => this.notifier.send(job.notification, signal));
        } else await this.notifier.send(job.notification, signal);
        this.#deps.metrics.notification(name, 'success');
        this.#log.debug({ groupKey: job.notification.groupKey, attempts: entry.attempts }, 'notification sent');
        await this.#writes.track(this.#deps.outbox.delete(entry.id));
        return;
      } catch (e) {
        if (signal.aborted) return;
        const now = this.#deps.clock.now();
        const fields = {
          groupKey: job.notification.groupKey,
          attempts: entry.attempts,
          err: errorMessage(e),
          ...(isNotifyError(e) ? { status: e.status, code: e.code } : {}),
        };
        if (!isRetryableError(e)) {
          this.#deps.metrics.notification(name, 'failure');
          this.#log.error(fields, 'notification failed, not retryable');
          job.onFailed?.();
          await this.#writes.track(this.#deps.outbox.delete(entry.id));
          return;
        }
        const serverDelay = isNotifyError(e) ? e.retryAfterMs : undefined;
        const rateLimit = this.notifier.rateLimitBackoff;
        const delay =
          serverDelay ??
          (rateLimit !== undefined && isNotifyError(e) && e.status === 429
            ? backoffMs({ initialBackoffMs: rateLimit.initialMs, maxBackoffMs: rateLimit.maxMs, deadlineMs: this.#policy.deadlineMs }, entry.attempts)
            : backoffMs(this.#policy, entry.attempts));
        if (now + delay > job.deadlineAt) {
          this.#deps.metrics.notification(name, 'failure');
          this.#log.error({ ...fields, delayMs: delay }, 'notification failed, retry deadline reached');
          job.onFailed?.();
          await this.#writes.track(this.#deps.outbox.delete(entry.id));
          return;
        }
        this.#deps.metrics.notification(name, 'retry');
        this.#log.warn({ ...fields, delayMs: delay }, 'notification failed, will retry');
        entry.nextAttemptAt = now + delay;
        await this.#writes.track(this.#deps.outbox.save({ ...entry }));
      }
    }
  }
}
