import { createLogger } from '../core/logger.js';
import { VigilError } from '../core/errors.js';
import { startDemoRegistry } from '../sim/demo-registry.js';
import type { CliIo } from './args.js';
import { loadConfigForCli, parseCli } from './args.js';

/**
 * `vigil demo-registry [--port 9471] [--address 127.0.0.1] [--config FILE]`: the demo registry (a
 * FAKE, in-memory MLflow Model Registry) as its own process, for docker compose. Its models are
 * the configuration's (default: the embedded demo). Runs until SIGTERM/SIGINT.
 */
export async function runDemoRegistry(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { values } = parseCli(argv, {
    port: { type: 'string', default: '9471' },
    address: { type: 'string', default: '127.0.0.1' },
    config: { type: 'string', short: 'c' },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new VigilError('VIGIL_ERR_CLI_USAGE', `--port: "${values.port}" is not a port number`);
  const loaded = await loadConfigForCli(values.config, io, env);
  if (loaded === null) return 2;
  const logger = createLogger({ level: loaded.config.log.level });
  const registry = await startDemoRegistry({ models: loaded.config.models.map((m) => m.name), port, host: values.address, logger });
  io.stdout(`demo registry (a fake MLflow, in memory) on ${values.address}:${registry.port}\n`);
  return new Promise<number>((resolve) => {
    const stop = (): void => void registry.close().then(() => resolve(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
