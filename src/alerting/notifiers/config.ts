import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';

/**
 * Config pieces shared by the notifier schemas. YAML keys are snake_case; durations are Prometheus
 * strings in the file and milliseconds after parsing (as in `src/config/schema.ts`, which these
 * schemas are mounted into).
 */

/** A Prometheus duration string parsed to milliseconds. */
export const durationMs = () =>
  z.string().transform((s, ctx) => {
    try {
      return parseDuration(s.trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `not a valid duration "${s}" (use e.g. 30s, 5m, 1h30m, 7d)`, params: { vigil: 'DURATION' } });
      return z.NEVER;
    }
  });

export const positiveDurationMs = () => durationMs().refine((ms) => ms > 0, { message: 'must be longer than 0s' });

/** A boolean, also accepted as the strings "true"/"false" (values from `${ENV}` interpolation). */
export const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

/** An integer, also accepted as a numeric string. */
export const int = () =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.number().int());

export const httpUrl = () =>
  z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const BasicAuthSchema = z.strictObject({
  username: z.string().min(1),
  password: z.string(),
});

/** Keys every receiver has. `send_resolved` differs per type (Alertmanager's defaults). */
export const receiverBase = (sendResolvedDefault: boolean) => ({
  /** The receiver's name, referred to by routes (unique). */
  name: z.string().min(1).max(128),
  /** Per-attempt limit. */
  timeout: positiveDurationMs().default(10_000),
  send_resolved: bool().default(sendResolvedDefault),
});

/** Default per-attempt timeout of every receiver (10s). */
export const DEFAULT_TIMEOUT_MS = 10_000;
