import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, embeddedConfigPath, formatIssue, loadConfigFile, type LoadedConfig } from '../config/load.js';
import { parseDuration } from '../core/duration.js';
import { VigilError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import type { ProgressMode } from './progress.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /**
   * How long-running work (reading a large file) reports its progress on stderr: 'bar' when stderr is a
   * terminal (one line redrawn in place), 'lines' when it is not (a line per stage); absent or
   * 'off': not at all (tests, embedding). src/main.ts sets it.
   */
  progress?: ProgressMode;
  /** The terminal's width, for the bar. */
  columns?: number;
}

/**
 * What a flag's value must be; each is checked before the command does anything:
 *  - `duration`: a Prometheus duration (`30s`, `2m`, `1h30m`), longer than 0s unless `zero` is allowed;
 *  - `number`: a finite number greater than 0;
 *  - `port`: an integer 0–65535 (0: any free port);
 *  - `url`: an http:// or https:// URL;
 *  - `file`: a file that exists;
 *  - `string`: any non-empty text; `boolean`: a switch without a value.
 */
export type FlagKind = 'boolean' | 'string' | 'duration' | 'number' | 'port' | 'url' | 'file';

type ValueOf<K extends FlagKind> = K extends 'boolean' ? boolean : K extends 'duration' | 'number' | 'port' ? number : string;

export interface Flag<K extends FlagKind = FlagKind> {
  kind: K;
  short?: string;
  /** The value's name in the help (`FILE`, `URL`, …). */
  arg?: string;
  help: string;
  /** duration: 0s is allowed. */
  zero?: boolean;
  required?: boolean;
  /** The value used when the flag is absent (already parsed: milliseconds for a duration). */
  default?: ValueOf<K>;
  /** Only meaningful together with this (boolean) flag: given without it, it is an error. */
  requires?: string;
}

export interface CommandSpec<F extends Record<string, Flag>> {
  name: string;
  /** Positional arguments in the synopsis (`FILE…`), when the command takes any. */
  positionals?: { name: string; min: number };
  summary: string;
  /** More text after the options (exit codes, notes). */
  notes?: string;
  flags: F;
}

export type FlagValues<F extends Record<string, Flag>> = {
  [N in keyof F]: F[N] extends { default: unknown } | { required: true } | { kind: 'boolean' } ? ValueOf<F[N]['kind']> : ValueOf<F[N]['kind']> | undefined;
};

/** The parsed command line, or `help` when `--help`/`-h` was asked for (the usage is printed: exit 0). */
export type Parsed<F extends Record<string, Flag>> = { help: true } | { help: false; values: FlagValues<F>; positionals: string[] };

const HELP: Flag<'boolean'> = { kind: 'boolean', short: 'h', help: 'show this help' };

/** A command's specification, with its flags' kinds kept for the types of their values. */
export const defineCommand = <const F extends Record<string, Flag>>(spec: CommandSpec<F>): CommandSpec<F> => spec;

/** The usage text of a command, from its specification. */
export function usageOf<F extends Record<string, Flag>>(spec: CommandSpec<F>): string {
  const flags = { ...spec.flags, help: HELP };
  const rows = Object.entries(flags).map(([name, f]: [string, Flag]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.kind === 'boolean' ? '' : ` ${f.arg ?? f.kind.toUpperCase()}`}`;
    return [left, `${f.help}${f.required ? ' (required)' : ''}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const synopsis = `vigil ${spec.name}${spec.positionals ? ` ${spec.positionals.name}` : ''} [options]`;
  return (
    `Usage: ${synopsis}\n\n${spec.summary}\n\nOptions:\n` +
    rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n') +
    `\n${spec.notes ? `\n${spec.notes}\n` : ''}`
  );
}

const usageError = (spec: CommandSpec<Record<string, Flag>>, message: string): VigilError =>
  new VigilError('VIGIL_ERR_CLI_USAGE', `vigil ${spec.name}: ${message}\nRun "vigil ${spec.name} --help" for its options.`, { statusCode: 2 });

/** A flag's value checked and converted; throws a message naming the flag. */
function convert(name: string, f: Flag, raw: string): string | number {
  const flag = `--${name}`;
  switch (f.kind) {
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(raw.trim());
      } catch {
        throw new Error(`${flag}: "${raw}" is not a duration (use e.g. 30s, 2m, 1h30m)`);
      }
      if (ms === 0 && !f.zero) throw new Error(`${flag}: must be longer than 0s`);
      return ms;
    }
    case 'number': {
      const x = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(x)) throw new Error(`${flag}: "${raw}" is not a number`);
      if (x <= 0) throw new Error(`${flag}: must be greater than 0 (got ${raw})`);
      return x;
    }
    case 'port': {
      const x = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isInteger(x) || x > 65535) throw new Error(`${flag}: "${raw}" is not a port number (0-65535)`);
      return x;
    }
    case 'url': {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new Error(`${flag}: "${raw}" is not a URL (use e.g. http://127.0.0.1:9470)`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${flag}: "${raw}" must be an http:// or https:// URL`);
      return raw;
    }
    case 'file': {
      let isFile = false;
      try {
        isFile = statSync(raw).isFile();
      } catch (e) {
        throw new Error(`${flag}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}: ${raw}`);
      }
      if (!isFile) throw new Error(`${flag}: not a file: ${raw}`);
      return raw;
    }
    default:
      if (raw === '') throw new Error(`${flag}: must not be empty`);
      return raw;
  }
}

/**
 * Parses and checks a command line against the command's flags, all before anything starts:
 * `--help`/`-h` anywhere asks for the usage; an unknown flag (with the nearest known one), a
 * missing value, a bad value, a missing required flag or a stray argument is a usage error
 * (VIGIL_ERR_CLI_USAGE, exit code 2) whose message names the flag.
 */
export function parseCommand<F extends Record<string, Flag>>(spec: CommandSpec<F>, argv: readonly string[]): Parsed<F> {
  const end = argv.indexOf('--');
  const before = end === -1 ? argv : argv.slice(0, end);
  if (before.includes('--help') || before.includes('-h')) return { help: true };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.kind === 'boolean' ? 'boolean' : 'string', ...(f.short ? { short: f.short } : {}) };
  const fail = (message: string): never => {
    throw usageError(spec as unknown as CommandSpec<Record<string, Flag>>, message);
  };
  // Unknown flags first, with a suggestion (a lenient parse only to find them).
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name in options) continue;
    const guess = t.rawName.startsWith('--') ? closest(t.name, Object.keys(options)) : undefined;
    fail(`unknown option ${t.rawName}${guess ? `; did you mean --${guess}?` : ''}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: spec.positionals !== undefined });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') fail(`unexpected argument ${JSON.stringify(tokens.find((t) => t.kind === 'positional')?.value ?? '')} (flags start with --)`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const t = tokens.find((x) => x.kind === 'option' && options[x.name]?.type === 'string' && x.value === undefined);
      const b = tokens.find((x) => x.kind === 'option' && options[x.name]?.type === 'boolean' && x.inlineValue === true);
      if (t?.kind === 'option') fail(`--${t.name} needs a value`);
      const dash = tokens.find((x) => x.kind === 'option' && options[x.name]?.type === 'string' && x.inlineValue === false && x.value?.startsWith('-'));
      if (dash?.kind === 'option') fail(`--${dash.name}: "${dash.value}" looks like a flag; to give it as the value, write --${dash.name}=${dash.value}`);
      if (b?.kind === 'option') fail(`--${b.name} is a switch and takes no value`);
    }
    fail(err.message.split('\n')[0] ?? err.message);
  }
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const v = (parsed!.values as Record<string, string | boolean | (string | boolean)[] | undefined>)[name];
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one === undefined) {
      if (f.required) fail(`--${name} is required`);
      values[name] = f.kind === 'boolean' ? false : f.default;
      continue;
    }
    if (typeof one === 'boolean') {
      values[name] = one;
      continue;
    }
    try {
      values[name] = convert(name, f, one);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (f.requires !== undefined && (parsed!.values as Record<string, unknown>)[name] !== undefined && values[f.requires] !== true) {
      fail(`--${name} applies only with --${f.requires}`);
    }
  }
  const positionals = parsed!.positionals;
  if (spec.positionals && positionals.length < spec.positionals.min) fail(`expected ${spec.positionals.name}`);
  return { help: false, values: values as FlagValues<F>, positionals };
}

/** Checks an environment variable the way a `url` flag is checked (a usage error naming it). */
export function envUrl(env: Readonly<Record<string, string | undefined>>, name: string, command: string): string | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  try {
    convert(name, { kind: 'url', help: '' }, v);
  } catch (e) {
    throw new VigilError('VIGIL_ERR_CLI_USAGE', `vigil ${command}: environment variable ${(e as Error).message.replace(/^--/, '')}`, { statusCode: 2 });
  }
  return v;
}

/**
 * Loads the configuration a command was given (the embedded demo without --config); on problems,
 * prints every one as file:line:column and returns null (the command exits 2). `ruleFiles: false`
 * for commands that never load rules (their rule_files need not exist where they run).
 */
export async function loadConfigForCli(
  file: string | undefined,
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
  options: { ruleFiles?: boolean } = {},
): Promise<LoadedConfig | null> {
  try {
    return await loadConfigFile(file ?? embeddedConfigPath(), env, options);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) io.stderr(`${formatIssue(issue)}\n`);
    return null;
  }
}

/** The --config flag every command that reads the configuration has. */
export const CONFIG_FLAG = { kind: 'file', short: 'c', arg: 'FILE', help: 'configuration file (default: the embedded demo, examples/vigil.yaml)' } as const satisfies Flag<'file'>;
