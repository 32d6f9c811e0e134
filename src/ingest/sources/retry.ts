import { VigilError } from '../../core/errors.js';
import { isRetryable, SourceError } from './http.js';

/** Longest wait between two attempts, whatever the backoff doubling says. */
export const MAX_BACKOFF_MS = 30_000;

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** First delay; doubled after each retry, capped at {@link MAX_BACKOFF_MS}. */
  backoffMs: number;
  /** Aborted at the collection's deadline: stops attempts and waits at once. */
  signal: AbortSignal;
  /** When the signal will fire (performance.now() time base), so no wait is started that cannot end in time. */
  deadline: number;
  /** Called before each retry (for logs). */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles with `p`, or rejects with the signal's reason as soon as it aborts (p is then ignored). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  // A promise we stop waiting for must never become an unhandled rejection.
  p.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, the retries are used up, or
 * the deadline leaves no time for the next wait. The delay is the server's Retry-After when it gave
 * one, else `backoffMs · 2^n` (capped). An attempt that ignores the signal is abandoned at the
 * deadline all the same.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await raceAbort(Promise.resolve().then(() => attempt(n)), opts.signal);
    } catch (e) {
      if (opts.signal.aborted) throw opts.signal.reason;
      if (!isRetryable(e) || n >= opts.retries) throw e;
      const retryAfter = e instanceof SourceError ? e.retryAfterMs : undefined;
      const delay = retryAfter ?? Math.min(opts.backoffMs * 2 ** n, MAX_BACKOFF_MS);
      const left = opts.deadline - performance.now();
      if (delay >= left) {
        const why = retryAfter !== undefined ? `the server asked to retry after ${retryAfter}ms` : `the next retry would start in ${delay}ms`;
        throw new SourceError((e as VigilError).code, `${(e as Error).message} (not retried: ${why}, beyond the source's timeout)`, {
          status: (e as SourceError).status,
          cause: e,
        });
      }
      opts.onRetry?.(n + 1, delay, e);
      await sleep(delay, opts.signal);
    }
  }
}
