import { VigilError } from '../../core/errors.js';

export type PromqlErrorCode = 'VIGIL_ERR_PROMQL_PARSE' | 'VIGIL_ERR_PROMQL_UNSUPPORTED' | 'VIGIL_ERR_PROMQL_EXEC' | 'VIGIL_ERR_PROMQL_TIMEOUT';

/**
 * A PromQL error. `offset` is the character offset (0-based, UTF-16 code units of the expression
 * text) of the offending construct; `construct` names what was refused (UNSUPPORTED only).
 */
export class PromqlError extends VigilError {
  declare readonly code: PromqlErrorCode;
  readonly offset: number;
  readonly construct: string | undefined;

  constructor(code: PromqlErrorCode, message: string, offset: number, construct?: string) {
    super(code, message, { statusCode: 400, details: { offset, ...(construct === undefined ? {} : { construct }) } });
    this.name = 'PromqlError';
    this.offset = offset;
    this.construct = construct;
  }

}

/** Line and column (both 1-based) of a character offset in `text`. */
export function promqlErrorPosition(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
