import { BASELINE_COMMAND, runBaseline } from './baseline.js';
import { REPORT_COMMAND, runReport } from './report.js';
import { MIGRATE_COMMAND, runMigrate } from './migrate.js';
import { CHECK_CONFIG_COMMAND, runCheckConfig } from './check-config.js';
import { SIMULATE_COMMAND, runSimulate } from './simulate.js';
import { DRIFT_USAGE, runDrift } from './drift.js';
import { parseCommand, usageOf, type CliIo, type CommandSpec, type Flag } from './args.js';
import { SERVE_COMMAND, runServe } from './serve.js';
import { SLO_COMMAND, runSlo } from './slo.js';
import { DEMO_REGISTRY_COMMAND, runDemoRegistry } from './demo-registry.js';
import { isVigilError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { vigilVersion } from '../core/version.js';

const VERSION_COMMAND: CommandSpec<Record<string, never>> = { name: 'version', summary: 'Print the version.', flags: {} };

type Env = Readonly<Record<string, string | undefined>>;

/** Every command: its usage text and how it runs (argv without the command's name). */
const COMMANDS: Record<string, { summary: string; usage: () => string; run: (argv: string[], io: CliIo, env: Env) => Promise<number> }> = {
  serve: { summary: 'run the daemon (without --config: the embedded demo, examples/vigil.yaml)', usage: () => usageOf(SERVE_COMMAND), run: runServe },
  'check-config': { summary: 'validate configuration files (exit 2 and file:line:column on errors)', usage: () => usageOf(CHECK_CONFIG_COMMAND), run: runCheckConfig },
  drift: {
    summary: 'compare two CSV/NDJSON/Parquet files feature by feature (exit 0 no drift, 1 drift, 2 bad input)',
    usage: () => DRIFT_USAGE,
    run: (argv, io) => runDrift(argv, io),
  },
  baseline: { summary: "store a model version's baseline from training data (CSV, NDJSON or Parquet)", usage: () => usageOf(BASELINE_COMMAND), run: runBaseline },
  report: { summary: 'write an HTML drift report of two CSV/NDJSON/Parquet files, with every feature\'s distributions', usage: () => usageOf(REPORT_COMMAND), run: runReport },
  migrate: { summary: 'copy a SQLite store into an empty PostgreSQL database and verify the counts (storage.backend: postgres)', usage: () => usageOf(MIGRATE_COMMAND), run: runMigrate },
  slo: { summary: "print the SLOs' burn-rate alert rules for Prometheus (vigil slo rules > slo.rules.yml)", usage: () => usageOf(SLO_COMMAND), run: runSlo },
  simulate: { summary: 'demo traffic (predictions, delayed labels, then drift) against a running Vigil', usage: () => usageOf(SIMULATE_COMMAND), run: runSimulate },
  'demo-registry': { summary: 'a FAKE, in-memory MLflow model registry for the demo (never for production)', usage: () => usageOf(DEMO_REGISTRY_COMMAND), run: runDemoRegistry },
  version: {
    summary: 'print the version',
    usage: () => usageOf(VERSION_COMMAND as CommandSpec<Record<string, Flag>>),
    run: async (argv, io) => {
      if (parseCommand(VERSION_COMMAND, argv).help) {
        io.stdout(usageOf(VERSION_COMMAND as CommandSpec<Record<string, Flag>>));
        return 0;
      }
      io.stdout(`vigil ${vigilVersion()}\n`);
      return 0;
    },
  },
};

const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
export const USAGE = `Usage: vigil <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`)
  .join('\n')}

Run "vigil <command> --help" (or "vigil help <command>") for a command's options.
Exit codes: 0 success, 1 failure, 2 bad input (configuration or usage).
`;

/** The composition root of the `vigil` command. Returns the exit code. */
export async function main(argv: string[], io: CliIo, env: Env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.stderr(USAGE);
      return 2;
    }
    if (command === 'help' || command === '--help' || command === '-h') {
      const topic = rest[0];
      if (topic === undefined) {
        io.stdout(USAGE);
        return 0;
      }
      const c = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
      if (c === undefined) return unknownCommand(topic, io);
      io.stdout(c.usage());
      return 0;
    }
    if (command === '--version') return await (COMMANDS.version as (typeof COMMANDS)[string]).run([], io, env);
    const c = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (c === undefined) return unknownCommand(command, io);
    return await c.run(rest, io, env);
  } catch (e) {
    if (isVigilError(e) && e.code === 'VIGIL_ERR_CLI_USAGE') {
      io.stderr(`${e.message}\n`);
      return 2;
    }
    io.stderr(`vigil: ${e instanceof Error ? e.message : String(e)}\n`);
    return isVigilError(e) && e.statusCode === 2 ? 2 : 1;
  }
}

function unknownCommand(command: string, io: CliIo): number {
  const guess = closest(command, Object.keys(COMMANDS));
  io.stderr(`vigil: unknown command "${command}"${guess ? `; did you mean "${guess}"?` : ''}\n\n${USAGE}`);
  return 2;
}
