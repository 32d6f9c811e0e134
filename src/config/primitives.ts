import { z } from 'zod';
import { parseDuration } from '../core/duration.js';

/** Schema building blocks shared by every configuration section (no imports from sections). */

/** A number, also accepted as a numeric string (values from `${ENV}` interpolation are strings). */
export const num = () =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : v), z.number());
export const int = () => num().pipe(z.number().int());
/** A boolean, also accepted as the strings "true"/"false". */
export const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

/** A Prometheus duration string (`30s`, `5m`, `1h30m`, `7d`) parsed to milliseconds. */
export const durationMs = () =>
  z.string().transform((s, ctx) => {
    try {
      return parseDuration(s.trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `not a valid duration "${s}" (use e.g. 30s, 5m, 1h30m, 7d)`, params: { vigil: 'DURATION' } });
      return z.NEVER;
    }
  });

export const positiveDuration = () =>
  durationMs().refine((ms) => ms > 0, { message: 'must be longer than 0s' });

/**
 * A plain object, else undefined: cross-key checks that run when other parts of the file failed
 * their schema read the raw input through this.
 */
export const asRecord = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** An http:// or https:// URL. */
export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
