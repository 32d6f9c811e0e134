/**
 * Coded errors. Every error Vigil raises on purpose carries a stable code
 * `VIGIL_ERR_<AREA>_<WHAT>`; anything else reaching the HTTP root handler is unexpected,
 * logged, and answered with a generic 500.
 */
export type ErrorCode = `VIGIL_ERR_${string}`;

export class VigilError extends Error {
  readonly code: ErrorCode;
  /** HTTP status when the error reaches a client (4xx for the caller's mistakes). */
  readonly statusCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { statusCode?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.statusCode = options.statusCode ?? 500;
    this.details = options.details;
  }
}

export const isVigilError = (e: unknown): e is VigilError => e instanceof VigilError;

/** A message for logs from any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
