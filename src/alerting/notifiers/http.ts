import axios, { type AxiosError, type AxiosRequestConfig } from 'axios';
import type { ErrorCode } from '../../core/errors.js';
import { NotifyError } from './notifier.js';

/**
 * The HTTP client of the notifiers: one POST with a per-attempt timeout and the caller's signal;
 * every non-2xx answer becomes a {@link NotifyError} carrying the status and a body excerpt
 * (429 / 408 / 5xx retryable with the server's Retry-After; other 4xx not retryable); network
 * errors and timeouts are retryable.
 */

export interface PostRequest {
  url: string;
  /** JSON-encoded unless a string (sent as is with `contentType`). */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  bearerToken?: string | undefined;
  basicAuth?: { username: string; password: string } | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  /** Receiver kind for messages and codes (`webhook`, `slack`, …). */
  what: string;
  /** ms since the epoch, for Retry-After HTTP dates. */
  now?: () => number;
  /**
   * Turns an error answer into a better message, a server-given retry delay (Telegram's
   * `parameters.retry_after`) or a different retry decision.
   */
  describeError?: (status: number, text: string) => { message?: string; retryAfterMs?: number; retryable?: boolean } | undefined;
}

export interface PostResponse {
  status: number;
  text: string;
  headers: Record<string, string>;
}

/** The URL without credentials, path secrets (Slack / Telegram tokens) or query, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<invalid url>';
  }
}

/** A short, single-line excerpt of an answer body. */
export function excerpt(text: string, max = 200): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** Parses a Retry-After header (delay-seconds or an HTTP-date) into ms from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}


const codeFor = (what: string, suffix: string): ErrorCode => `VIGIL_ERR_NOTIFY_${what.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${suffix}`;

/** Sends one POST; resolves with a 2xx answer, else throws a NotifyError. */
export async function postRequest(req: PostRequest): Promise<PostResponse> {
  const where = safeUrl(req.url);
  if (req.signal.aborted) throw abortError(req, where);
  const headers: Record<string, string> = { 'User-Agent': 'Vigil', ...req.headers };
  const config: AxiosRequestConfig<unknown> = {
    method: 'POST',
    url: req.url,
    headers,
    signal: req.signal,
    timeout: req.timeoutMs,
    responseType: 'text',
    transformResponse: [(d: unknown) => d],
    validateStatus: () => true,
    maxContentLength: 1024 * 1024,
    maxRedirects: 0,
    // Never pick up HTTP(S)_PROXY implicitly for alert delivery to 127.0.0.1 in tests; proxies go in the URL's network.
    proxy: false,
  };
  if (typeof req.body === 'string') {
    config.data = req.body;
    headers['Content-Type'] = req.contentType ?? 'text/plain; charset=utf-8';
  } else {
    config.data = JSON.stringify(req.body);
    headers['Content-Type'] = req.contentType ?? 'application/json';
  }
  if (req.bearerToken !== undefined) headers.Authorization = `Bearer ${req.bearerToken}`;
  else if (req.basicAuth !== undefined) config.auth = req.basicAuth;

  let res;
  try {
    res = await axios.request<string>(config);
  } catch (e) {
    if (req.signal.aborted) throw abortError(req, where, e);
    const ax = e as AxiosError;
    const code = ax.code ?? '';
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      throw new NotifyError(codeFor(req.what, 'TIMEOUT'), `${req.what}: no answer from ${where} within ${req.timeoutMs}ms`, { retryable: true, cause: e });
    }
    const cause = (ax.cause as { code?: string } | undefined)?.code ?? code;
    throw new NotifyError(codeFor(req.what, 'UNREACHABLE'), `${req.what}: cannot reach ${where}: ${ax.message}${cause && !ax.message.includes(cause) ? ` (${cause})` : ''}`, {
      // Network errors (and any failure before an answer) are retried: the deadline bounds them.
      retryable: true,
      cause: e,
    });
  }
  const text = typeof res.data === 'string' ? res.data : res.data == null ? '' : String(res.data);
  const resHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && v !== null) resHeaders[k.toLowerCase()] = String(v);
  const status = res.status;
  if (status >= 200 && status < 300) return { status, text, headers: resHeaders };

  const body = excerpt(text);
  const described = req.describeError?.(status, text);
  const retryAfterMs = described?.retryAfterMs ?? parseRetryAfter(resHeaders['retry-after'], req.now?.() ?? Date.now());
  const retryable = described?.retryable ?? (status === 429 || status === 408 || status >= 500);
  const detail = described?.message ?? (body || '(empty body)');
  const suffix = status === 429 ? 'RATE_LIMITED' : status === 401 || status === 403 ? 'AUTH' : 'HTTP';
  throw new NotifyError(codeFor(req.what, suffix), `${req.what}: HTTP ${status} from ${where}: ${detail}`, {
    status,
    bodyExcerpt: body,
    retryable,
    retryAfterMs: retryable ? retryAfterMs : undefined,
  });
}

function abortError(req: PostRequest, where: string, cause?: unknown): NotifyError {
  return new NotifyError(codeFor(req.what, 'ABORTED'), `${req.what}: sending to ${where} was cancelled`, { retryable: true, cause });
}
