import { z } from 'zod';
import { bool, durationMs, httpUrl, int, positiveDuration } from '../../config/primitives.js';

/**
 * Config pieces shared by the notifier schemas. YAML keys are snake_case; durations are Prometheus
 * strings in the file and milliseconds after parsing (as in `src/config/schema.ts`, which these
 * schemas are mounted into).
 */

/** The shared schema primitives, as the notifier schemas import them. */
export { bool, durationMs, httpUrl, int, positiveDuration };

export const BasicAuthSchema = z.strictObject({
  username: z.string().min(1),
  password: z.string(),
});

/** Keys every receiver has. `send_resolved` differs per type (Alertmanager's defaults). */
export const receiverBase = (sendResolvedDefault: boolean) => ({
  /** The receiver's name, referred to by routes (unique). */
  name: z.string().min(1).max(128),
  /** Per-attempt limit. */
  timeout: positiveDuration().default(10_000),
  send_resolved: bool().default(sendResolvedDefault),
});

/** Default per-attempt timeout of every receiver (10s). */
export const DEFAULT_TIMEOUT_MS = 10_000;
