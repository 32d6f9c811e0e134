import { z } from 'zod';
import cron from 'node-cron';
import { bool, durationMs, httpUrl, int, num, positiveDuration } from '../../config/primitives.js';
import { CATALOG } from '../../metrics/catalog.js';

/**
 * Schema pieces shared by every source kind: the common keys (name, schedule, timeout, retries),
 * HTTP client keys (headers, auth) and the metric-name checks. Each source file builds its own
 * strictObject from these; config.ts joins them in one discriminated union.
 */

/** The shared schema primitives, as the source schemas import them. */
export { bool, httpUrl, int, num };

export const SOURCE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Defaults of the common keys (milliseconds). */
export const SOURCE_DEFAULTS = { interval: 30_000, timeout: 10_000, retries: 2, retry_backoff: 1_000 } as const;

/** Keys every source has. `interval` and `cron` are exclusive; neither means every 30s. */
export const commonKeys = {
  name: z.string().regex(SOURCE_NAME_RE, 'must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit'),
  interval: positiveDuration().optional(),
  cron: z
    .string()
    .refine((s) => cron.validate(s), { message: 'not a valid node-cron expression (e.g. "*/5 * * * *", seconds optional)', params: { vigil: 'CRON' } })
    .optional(),
  /** Budget of one whole collection, retries included. */
  timeout: positiveDuration().default(SOURCE_DEFAULTS.timeout),
  retries: int().pipe(z.number().min(0).max(10)).default(SOURCE_DEFAULTS.retries),
  /** First retry delay; doubled on each retry, capped at 30s, always within `timeout`. */
  retry_backoff: durationMs().default(SOURCE_DEFAULTS.retry_backoff),
};

/** Keys of sources that talk HTTP. Secrets are plain strings (the loader interpolates ${ENV}). */
export const httpKeys = {
  headers: z.record(z.string().min(1), z.string()).default({}),
  bearer_token: z.string().min(1).optional(),
  basic_auth: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
};


/** A dot path into a JSON value (`data.items`, `a.0.b`); '' or '.' is the value itself. */
export const dotPath = () => z.string().regex(/^(\.|[^.]+(\.[^.]+)*)?$/, 'must be a dot path like "data.items" (or "" for the root)');

export const metricName = () => z.string().regex(METRIC_NAME_RE, 'must be a Prometheus metric name');
export const labelMap = () => z.record(z.string().regex(LABEL_NAME_RE, 'must be a Prometheus label name'), z.string());

interface CommonRefinable {
  interval?: number | undefined;
  cron?: string | undefined;
  bearer_token?: string | undefined;
  basic_auth?: unknown;
}

/** Checks shared by every source object: `interval` xor `cron`, one auth method. */
export function refineCommon(cfg: CommonRefinable, ctx: z.RefinementCtx): void {
  if (cfg.interval !== undefined && cfg.cron !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give either interval or cron, not both', params: { vigil: 'VALUE' } });
  }
  if (cfg.bearer_token !== undefined && cfg.basic_auth !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['bearer_token'], message: 'give either bearer_token or basic_auth, not both', params: { vigil: 'VALUE' } });
  }
}

/**
 * Which snapshot families exist and their label names: the runner and the config check use it to
 * refuse samples the snapshot would reject. Default: the catalog's `snapshot` families.
 */
export type SampleCatalog = (name: string) => readonly string[] | undefined;

export const catalogSamples: SampleCatalog = (name) => CATALOG.find((c) => c.name === name && c.origin === 'snapshot')?.labels;
