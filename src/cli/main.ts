import { readFile } from 'node:fs/promises';
import { runBaseline } from './baseline.js';
import { runCheckConfig } from './check-config.js';
import { runSimulate } from './simulate.js';
import { runDrift } from './drift.js';
import type { CliIo } from './args.js';
import { runServe } from './serve.js';
import { runDemoRegistry } from './demo-registry.js';
import { isVigilError } from '../core/errors.js';
import { vigilVersion } from '../core/version.js';

const USAGE = `vigil ${'<command>'} [options]

Commands:
  serve [--config FILE] [--simulate] [--drift-after 2m]
                          run the daemon (without --config: the embedded demo, examples/vigil.yaml)
  check-config FILE…      validate configuration files (exit 2 and file:line:column on errors)
  drift --reference REF --current CUR [--tests ks,psi,chi2,jsd,wasserstein] [--format table|json]
        [--categorical a,b] [--numeric c] [--alpha 0.05]
                          compare two CSV/NDJSON files feature by feature (exit 0 no drift, 1 drift, 2 bad input)
  baseline --model M --version V --from train.csv [--config FILE]
                          store a model version's baseline from training data (CSV or NDJSON)
  simulate --url URL [--config FILE] [--drift-after 2m] [--rate 20] [--duration 10m] [--registry-url URL]
                          demo traffic (predictions, delayed labels, then drift) against a running Vigil
  demo-registry [--port 9471] [--address 127.0.0.1] [--config FILE]
                          a FAKE, in-memory MLflow model registry for the demo (never for production)
  version                 print the version

Exit codes: 0 success, 1 failure, 2 bad input (configuration or usage).
`;

/** The composition root of the `vigil` command. Returns the exit code. */
export async function main(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await runServe(rest, io, env);
      case 'check-config':
        return await runCheckConfig(rest, io, env);
      case 'drift':
        return await runDrift(rest, { ...io, readFile: (p) => readFile(p, 'utf8') });
      case 'baseline':
        return await runBaseline(rest, io, env);
      case 'simulate':
        return await runSimulate(rest, io, env);
      case 'demo-registry':
        return await runDemoRegistry(rest, io, env);
      case 'version':
      case '--version':
        io.stdout(`vigil ${vigilVersion()}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (isVigilError(e) && e.code === 'VIGIL_ERR_CLI_USAGE') {
      io.stderr(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`vigil: ${e instanceof Error ? e.message : String(e)}\n`);
    return isVigilError(e) && e.statusCode === 2 ? 2 : 1;
  }
}

