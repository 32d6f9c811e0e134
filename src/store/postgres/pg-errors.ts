/**
 * What the PostgreSQL store makes of a failure: the server being unreachable or going away is
 * VIGIL_ERR_STORE_UNAVAILABLE (503, retry in a second: the pool reconnects by itself), anything
 * else is the statement's own error. And nothing it says may carry the password: messages and log
 * lines pass through a redactor that knows it.
 */
import { VigilError } from '../../core/errors.js';

/** Socket-level failures: the server cannot be reached, or the connection to it broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that is going away or not there yet: admin_shutdown (a restart, or
 * pg_terminate_backend), crash_shutdown, cannot_connect_now (starting up or shutting down), and
 * too_many_connections (it answers again when others disconnect). Class 08 (connection exception)
 * is matched by its prefix.
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * node-postgres reports a lost connection and the pool's connect timeout by message only (no
 * code): "Connection terminated unexpectedly", "Connection terminated due to connection timeout",
 * "timeout exceeded when trying to connect", "Client has encountered a connection error and is not
 * queryable".
 */
const MESSAGES = /connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|connection timeout/i;

/** Whether `e` says the server is unreachable or went away (so a retry may well succeed). */
export function isUnavailable(e: unknown): boolean {
  if (e instanceof AggregateError && e.errors.some(isUnavailable)) return true; // several addresses tried (happy eyeballs)
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && MESSAGES.test(message);
}

/**
 * Whether `e` says that a connection which was open went away (the server ended it, or it broke) —
 * as a pooled connection does when the server restarted while it sat idle. A read that meets one
 * is safe to run again on another connection; a refused or timed-out connection attempt is not
 * worth repeating at once.
 */
export function isConnectionLost(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (code === '57P01' || code === '57P02' || code === 'ECONNRESET' || code === 'EPIPE') return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && /connection terminated unexpectedly|connection error and is not queryable/i.test(message);
}

/** A short reason for a failure: its code (when it has one) and message, the secrets removed. */
export function reasonOf(e: unknown, redact: (text: string) => string): string {
  if (e instanceof AggregateError && e.errors.length > 0) return reasonOf(e.errors[0], redact);
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  const text = typeof code === 'string' && code !== '' && !message.includes(code) ? `${code}: ${message}` : message;
  return redact(text === '' ? 'unknown error' : text);
}

/** The error every method rejects with while the server is unreachable (503: retry in a second). */
export const storeUnavailable = (reason: string): VigilError =>
  new VigilError('VIGIL_ERR_STORE_UNAVAILABLE', `the PostgreSQL store is unavailable: ${reason}`, { statusCode: 503, details: { retryAfterSeconds: 1 } });

/**
 * A function that replaces every occurrence of each secret (as given, and as it appears encoded in
 * a URL) with `***`. Empty secrets are ignored; the longest are replaced first, so a secret that
 * contains another is not left half visible.
 */
export function redactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s === undefined || s === '') continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    try {
      forms.add(decodeURIComponent(s));
    } catch {
      // not percent-encoded text: its plain form is there already
    }
  }
  const list = [...forms].filter((f) => f !== '').sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const f of list) out = out.split(f).join('***');
    return out;
  };
}

/** Where a URL points, for messages: `host:port/database`, never its user information. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname === '' ? '(local socket)' : u.hostname;
    return `${host}${u.port === '' ? '' : `:${u.port}`}${u.pathname === '' ? '' : decodeURIComponent(u.pathname)}`;
  } catch {
    return '(an invalid URL)';
  }
}
