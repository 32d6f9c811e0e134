import { createLogger } from '../core/logger.js';
import { startDemoRegistry } from '../sim/demo-registry.js';
import type { CliIo } from './args.js';
import { CONFIG_FLAG, defineCommand, loadConfigForCli, parseCommand, usageOf } from './args.js';

export const DEMO_REGISTRY_COMMAND = defineCommand({
  name: 'demo-registry',
  summary: "A FAKE, in-memory MLflow model registry for the demo (never for production), with the configuration's models. Runs until SIGTERM/SIGINT.",
  flags: {
    port: { kind: 'port', arg: 'PORT', default: 9471, help: 'port to listen on (default 9471; 0: any free port)' },
    address: { kind: 'string', arg: 'ADDRESS', default: '127.0.0.1', help: 'address to listen on (default 127.0.0.1)' },
    config: CONFIG_FLAG,
  },
});

/**
 * `vigil demo-registry [--port 9471] [--address 127.0.0.1] [--config FILE]`: the demo registry (a
 * FAKE, in-memory MLflow Model Registry) as its own process, for docker compose. Its models are
 * the configuration's (default: the embedded demo). Runs until SIGTERM/SIGINT.
 */
export async function runDemoRegistry(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(DEMO_REGISTRY_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(DEMO_REGISTRY_COMMAND));
    return 0;
  }
  const { values } = parsed;
  const port = values.port;
  const loaded = await loadConfigForCli(values.config, io, env, { ruleFiles: false }); // it loads no rules
  if (loaded === null) return 2;
  const logger = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format });
  const registry = await startDemoRegistry({ models: loaded.config.models.map((m) => m.name), port, host: values.address, logger });
  io.stdout(`demo registry (a fake MLflow, in memory) on ${values.address}:${registry.port}\n`);
  return new Promise<number>((resolve) => {
    const stop = (): void => void registry.close().then(() => resolve(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
