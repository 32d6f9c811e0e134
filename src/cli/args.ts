import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, embeddedConfigPath, formatIssue, loadConfigFile, type LoadedConfig } from '../config/load.js';
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

/**
 * Loads the configuration a command was given (the embedded demo without --config); on problems,
 * prints every one as file:line:column and returns null (the command exits 2).
 */
export async function loadConfigForCli(file: string | undefined, io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<LoadedConfig | null> {
  try {
    return await loadConfigFile(file ?? embeddedConfigPath(), env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) io.stderr(`${formatIssue(issue)}\n`);
    return null;
  }
}
