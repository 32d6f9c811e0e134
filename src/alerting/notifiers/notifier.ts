import { VigilError, type ErrorCode } from '../../core/errors.js';

/**
 * The notifier interface. A {@link Notification} is Alertmanager's template data for one group of
 * alerts and one receiver; every notifier turns it into its own wire payload (`buildPayload`, pure)
 * and sends it. Notifiers hold no runtime state beyond their read-only config and their client.
 */

export type NotificationStatus = 'firing' | 'resolved';

/** One alert of a notification, as in Alertmanager's template data and webhook payload. */
export interface NotificationAlert {
  readonly status: NotificationStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339 */
  readonly startsAt: string;
  /** RFC 3339 */
  readonly endsAt: string;
  readonly generatorURL: string;
  /** 16 hex digits, Prometheus' label-set fingerprint. */
  readonly fingerprint: string;
}

/** Alertmanager's template data (`.Receiver`, `.Status`, `.GroupLabels`, …) plus the group key. */
export interface Notification {
  readonly receiver: string;
  readonly status: NotificationStatus;
  /** Stable identity of the aggregation group (`{}/{severity="critical"}:{alertname="X"}`). */
  readonly groupKey: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly alerts: readonly NotificationAlert[];
}

export interface Notifier {
  /** The receiver name from the config (unique). */
  readonly name: string;
  /** `webhook`, `slack`, `telegram`, `pagerduty`, `email`. */
  readonly type: string;
  /** Whether resolved alerts / all-resolved groups are sent to this receiver. */
  readonly sendResolved: boolean;
  /** Resolves when the receiver accepted the notification; otherwise throws a {@link NotifyError}. */
  send(n: Notification, signal: AbortSignal): Promise<void>;
  /** Releases clients (SMTP pools). Optional. */
  close?(): Promise<void>;
  /**
   * The backoff after a rate-limit answer (429) that names no delay (no Retry-After): from
   * `initialMs`, doubled after each such answer, at most `maxMs`. Absent: the receiver's retry
   * policy, as for any retryable failure.
   */
  readonly rateLimitBackoff?: { readonly initialMs: number; readonly maxMs: number };
}

/** A failed delivery. `retryable` says whether another attempt may succeed. */
export class NotifyError extends VigilError {
  readonly retryable: boolean;
  /** Server-requested delay before the next attempt (Retry-After, Telegram `retry_after`), in ms. */
  readonly retryAfterMs: number | undefined;
  /** HTTP status (or SMTP reply code for e-mail). */
  readonly status: number | undefined;
  /** A short, single-line excerpt of the answer body. */
  readonly bodyExcerpt: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; retryAfterMs?: number | undefined; status?: number | undefined; bodyExcerpt?: string | undefined; cause?: unknown } = {},
  ) {
    super(code, message, {
      statusCode: 502,
      details: {
        ...(opts.status === undefined ? {} : { status: opts.status }),
        ...(opts.bodyExcerpt === undefined ? {} : { body: opts.bodyExcerpt }),
      },
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
    });
    this.name = 'NotifyError';
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
    this.bodyExcerpt = opts.bodyExcerpt;
  }
}

export const isNotifyError = (e: unknown): e is NotifyError => e instanceof NotifyError;

/** Unknown failures (bugs, aborted sends) are treated as retryable: losing a page is worse than a duplicate. */
export const isRetryableError = (e: unknown): boolean => (e instanceof NotifyError ? e.retryable : true);

/** The alerts of a notification that are firing / resolved. */
export const firingAlerts = (n: Notification): NotificationAlert[] => n.alerts.filter((a) => a.status === 'firing');
export const resolvedAlerts = (n: Notification): NotificationAlert[] => n.alerts.filter((a) => a.status === 'resolved');

/** What a notifier factory may need besides its config. */
export interface NotifierDeps {
  /** Wall clock, for Retry-After HTTP dates. Default: Date.now. */
  now?: () => number;
}
