import axios, { AxiosError, type AxiosRequestConfig } from 'axios';
import type { z } from 'zod';
import { VigilError, type ErrorCode } from '../../core/errors.js';

/**
 * The HTTP client every pull source uses: axios with the collection's AbortSignal and a timeout,
 * answers read as text, and every failure turned into a {@link SourceError} that says whether a
 * retry may help (network errors, 408, 429, 5xx) and how long the server asked to wait.
 */

export class SourceError extends VigilError {
  /** A retry may succeed (network error, 408, 429, 5xx, per-request timeout). */
  readonly retryable: boolean;
  /** Server-requested delay before a retry (429/503 Retry-After), in ms. */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; retryAfterMs?: number | undefined; status?: number | undefined; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, {
      statusCode: 502,
      ...(opts.details === undefined ? {} : { details: opts.details }),
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
    });
    this.name = 'SourceError';
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}

export const isRetryable = (e: unknown): boolean => e instanceof SourceError && e.retryable;

export interface HttpAuth {
  bearer_token?: string | undefined;
  basic_auth?: { username: string; password: string } | undefined;
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  auth?: HttpAuth;
  /** JSON body (POST, PATCH, DELETE). */
  body?: unknown;
  signal: AbortSignal;
  /** Per-request limit in ms (the signal bounds the whole collection). */
  timeoutMs?: number;
  /** What is being fetched, for messages (`prometheus query`, `mlflow model-versions/search`). */
  what: string;
  /** Largest answer accepted (default 32 MiB). */
  maxBytes?: number;
  /** ms since the epoch (for Retry-After dates); the collection's `now`. */
  now?: number;
  /** Turns an error answer's body into a better message / code (MLflow, Feast and Prometheus error shapes). */
  describeError?: (status: number, text: string) => { message: string; code?: ErrorCode } | undefined;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  text: string;
}

/** The URL without credentials or query string, for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/** A short, single-line excerpt of an answer body for error messages. */
export function excerpt(text: string, max = 160): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNABORTED', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** Sends one request; resolves only with a 2xx answer, else throws a SourceError. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const where = safeUrl(req.url);
  if (req.signal.aborted) throw req.signal.reason;
  const headers: Record<string, string> = { Accept: 'application/json, text/plain;q=0.9, */*;q=0.5', ...req.headers };
  const config: AxiosRequestConfig<unknown> = {
    method: req.method ?? 'GET',
    url: req.url,
    headers,
    signal: req.signal,
    timeout: req.timeoutMs ?? 0,
    responseType: 'text',
    transformResponse: [(d: unknown) => d],
    validateStatus: () => true,
    maxContentLength: req.maxBytes ?? 32 * 1024 * 1024,
    maxRedirects: 5,
  };
  if (req.query !== undefined) {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) if (v !== undefined) params[k] = String(v);
    config.params = params;
  }
  if (req.body !== undefined) {
    config.data = JSON.stringify(req.body);
    headers['Content-Type'] = 'application/json';
  }
  if (req.auth?.bearer_token !== undefined) headers.Authorization = `Bearer ${req.auth.bearer_token}`;
  else if (req.auth?.basic_auth !== undefined) config.auth = req.auth.basic_auth;

  let res;
  try {
    res = await axios.request<string>(config);
  } catch (e) {
    if (req.signal.aborted) throw req.signal.reason;
    const ax = e as AxiosError;
    const code = ax.code ?? '';
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      throw new SourceError('VIGIL_ERR_SOURCE_TIMEOUT', `${req.what}: no answer from ${where} within ${req.timeoutMs ?? 0}ms`, { retryable: true, cause: e });
    }
    if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(ax.message)) {
      throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${req.what}: answer from ${where} is larger than ${config.maxContentLength} bytes`, { cause: e });
    }
    const cause = (ax.cause as { code?: string } | undefined)?.code ?? code;
    throw new SourceError('VIGIL_ERR_SOURCE_UNREACHABLE', `${req.what}: cannot reach ${where}: ${ax.message}${cause && !ax.message.includes(cause) ? ` (${cause})` : ''}`, {
      retryable: NETWORK_CODES.has(cause) || NETWORK_CODES.has(code) || /socket hang up/i.test(ax.message),
      cause: e,
    });
  }
  const text = typeof res.data === 'string' ? res.data : res.data == null ? '' : String(res.data);
  const contentType = String(res.headers['content-type'] ?? '');
  const status = res.status;
  if (status >= 200 && status < 300) return { status, contentType, text };

  const described = req.describeError?.(status, text);
  const detail = described?.message ?? (excerpt(text) || '(empty body)');
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'] as string | undefined, req.now ?? Date.now());
  const base = `${req.what}: HTTP ${status} from ${where}: ${detail}`;
  if (status === 401 || status === 403) {
    throw new SourceError(described?.code ?? 'VIGIL_ERR_SOURCE_AUTH', `${base} (check the source's credentials)`, { status });
  }
  if (status === 429) throw new SourceError(described?.code ?? 'VIGIL_ERR_SOURCE_RATE_LIMITED', base, { status, retryable: true, retryAfterMs });
  if (status === 408 || status >= 500) {
    throw new SourceError(described?.code ?? 'VIGIL_ERR_SOURCE_HTTP', base, { status, retryable: true, retryAfterMs });
  }
  throw new SourceError(described?.code ?? (status === 404 ? 'VIGIL_ERR_SOURCE_NOT_FOUND' : 'VIGIL_ERR_SOURCE_HTTP'), base, { status });
}

/** Parses a JSON answer; HTML pages and invalid JSON become BAD_RESPONSE errors naming what came. */
export function parseJsonAnswer(res: HttpResponse, what: string): unknown {
  const t = res.text.trimStart();
  if (t === '') throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: empty answer, expected JSON`);
  if (t.startsWith('<')) {
    throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: answer is not JSON but ${res.contentType || 'markup'}: ${excerpt(t, 80)}`);
  }
  try {
    return JSON.parse(t) as unknown;
  } catch (e) {
    throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: answer is not valid JSON (${(e as Error).message}): ${excerpt(t, 80)}`);
  }
}

/** Checks a parsed answer against a zod schema; the error names the path and what was wrong. */
export function expectShape<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`);
  throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: unexpected answer shape: ${issues.join('; ')}`);
}
