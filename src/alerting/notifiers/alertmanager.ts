import { pino } from 'pino';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { AlertPayload } from '../types.js';
import { BasicAuthSchema, httpUrl, int, positiveDuration } from './config.js';
import { postRequest, safeUrl } from './http.js';
import { noopNotificationMetrics, type NotificationMetrics } from './metrics.js';
import { isRetryableError } from './notifier.js';
import { BoundedQueue } from './queue.js';
import { realSleep, type Sleep } from './sender.js';

/**
 * Sending to Alertmanager the way Prometheus does (`notifier/manager.go`): the rule engine hands
 * over the alerts to send after each group evaluation; each configured Alertmanager has its own
 * bounded queue (full → oldest alerts dropped and counted) and its own loop that POSTs batches of
 * at most 64 alerts to `<url>/api/v2/alerts`, so a slow or failing Alertmanager never holds up the
 * others. 5xx, 429 and timeouts are retried a few times with backoff; the batch is then given up
 * (the engine re-sends firing alerts every resend delay anyway).
 */

export const MAX_BATCH_SIZE = 64;

export const AlertmanagerConfigSchema = z.strictObject({
  /** Base URL (with any path prefix): alerts go to `<url>/api/v2/alerts`. */
  url: httpUrl(),
  /** Name in metrics and logs; default `alertmanager:<host:port>`. */
  name: z.string().min(1).optional(),
  timeout: positiveDuration().default(10_000),
  bearer_token: z.string().min(1).optional(),
  basic_auth: BasicAuthSchema.optional(),
  /** Alerts waiting for this Alertmanager; when full the oldest are dropped (and counted). */
  queue_capacity: int().pipe(z.number().min(1)).default(10_000),
  /** Retries of a batch after a retryable failure (5xx, 429, timeout, connection error). */
  max_retries: int().pipe(z.number().min(0).max(10)).default(3),
});
export type AlertmanagerConfig = z.output<typeof AlertmanagerConfigSchema>;

export const AlertmanagersConfigSchema = z.array(AlertmanagerConfigSchema).default([]);

export interface AlertmanagerSenderOptions {
  alertmanagers: readonly AlertmanagerConfig[];
  metrics?: NotificationMetrics;
  logger?: Logger;
  clock?: Clock;
  sleep?: Sleep;
  /** First retry delay (doubled per retry, capped at 30s). Default 1s. */
  initialBackoffMs?: number;
  /** Default {@link MAX_BATCH_SIZE}. */
  maxBatchSize?: number;
}

/** The `name` used in metrics and logs for an Alertmanager. */
export function alertmanagerName(cfg: Pick<AlertmanagerConfig, 'url' | 'name'>): string {
  return cfg.name ?? `alertmanager:${safeUrl(cfg.url).replace(/^https?:\/\//, '')}`;
}

class AlertmanagerTarget {
  readonly name: string;
  readonly #cfg: AlertmanagerConfig;
  readonly #queue: BoundedQueue<AlertPayload>;
  readonly #url: string;
  readonly #opts: AlertmanagerSenderOptions;
  readonly #metrics: NotificationMetrics;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #signal: AbortSignal;
  #running: Promise<void> | undefined;

  constructor(cfg: AlertmanagerConfig, opts: AlertmanagerSenderOptions, log: Logger, signal: AbortSignal) {
    this.#cfg = cfg;
    this.name = alertmanagerName(cfg);
    this.#queue = new BoundedQueue(cfg.queue_capacity);
    this.#url = `${cfg.url.replace(/\/+$/, '')}/api/v2/alerts`;
    this.#opts = opts;
    this.#metrics = opts.metrics ?? noopNotificationMetrics;
    this.#log = log.child({ alertmanager: this.name });
    this.#sleep = opts.sleep ?? realSleep;
    this.#signal = signal;
  }

  get queued(): number {
    return this.#queue.length;
  }

  enqueue(alerts: readonly AlertPayload[]): void {
    if (this.#signal.aborted || alerts.length === 0) return;
    const dropped = this.#queue.push(...alerts);
    if (dropped.length > 0) {
      for (let i = 0; i < dropped.length; i++) this.#metrics.notification(this.name, 'dropped');
      this.#log.warn({ dropped: dropped.length, capacity: this.#queue.capacity }, 'alert queue full, oldest alerts dropped');
    }
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
  }

  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #run(): Promise<void> {
    const max = this.#opts.maxBatchSize ?? MAX_BATCH_SIZE;
    while (this.#queue.length > 0 && !this.#signal.aborted) {
      const batch = this.#queue.take(max);
      try {
        await this.#sendBatch(batch);
      } catch (e) {
        if (!this.#signal.aborted) this.#log.error({ err: errorMessage(e) }, 'alert batch sending crashed');
      }
    }
  }

  async #sendBatch(batch: AlertPayload[]): Promise<void> {
    const now = this.#opts.clock ?? systemClock;
    for (let attempt = 0; ; attempt++) {
      try {
        await postRequest({
          url: this.#url,
          body: batch,
          bearerToken: this.#cfg.bearer_token,
          basicAuth: this.#cfg.basic_auth,
          timeoutMs: this.#cfg.timeout,
          signal: this.#signal,
          what: 'alertmanager',
          now: () => now.now(),
        });
        this.#metrics.notification(this.name, 'success');
        return;
      } catch (e) {
        if (this.#signal.aborted) return;
        if (!isRetryableError(e) || attempt >= this.#cfg.max_retries) {
          this.#metrics.notification(this.name, 'failure');
          this.#log.error({ err: errorMessage(e), alerts: batch.length, attempts: attempt + 1 }, 'sending alerts to Alertmanager failed');
          return;
        }
        const server = (e as { retryAfterMs?: number }).retryAfterMs;
        const delay = server ?? Math.min((this.#opts.initialBackoffMs ?? 1000) * 2 ** attempt, 30_000);
        this.#metrics.notification(this.name, 'retry');
        this.#log.warn({ err: errorMessage(e), delayMs: delay }, 'sending alerts to Alertmanager failed, will retry');
        try {
          await this.#sleep(delay, this.#signal);
        } catch {
          return;
        }
      }
    }
  }
}

export class AlertmanagerSender {
  readonly #targets: AlertmanagerTarget[];
  readonly #abort = new AbortController();

  constructor(opts: AlertmanagerSenderOptions) {
    const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'alertmanager-sender' });
    this.#targets = opts.alertmanagers.map((cfg) => new AlertmanagerTarget(cfg, opts, log, this.#abort.signal));
  }

  /** Queues the alerts for every Alertmanager; returns at once (delivery runs in the background). */
  send(alerts: readonly AlertPayload[]): void {
    for (const t of this.#targets) t.enqueue(alerts);
  }

  /** Alerts waiting per Alertmanager name. */
  queueLengths(): Record<string, number> {
    return Object.fromEntries(this.#targets.map((t) => [t.name, t.queued]));
  }

  /** Resolves once every queue is empty and no batch is in flight. */
  async idle(): Promise<void> {
    await Promise.all(this.#targets.map((t) => t.idle()));
  }

  /** Stops sending (in-flight requests are aborted; queued alerts are discarded). */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('alertmanager sender stopped'));
    await this.idle();
  }
}
