import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VigilError } from '../core/errors.js';

/** node:util parseArgs with usage errors as coded errors (exit code 2). */
export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new VigilError('VIGIL_ERR_CLI_USAGE', (e as Error).message, { statusCode: 2 });
  }
}

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}
