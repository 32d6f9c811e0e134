import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { DEFAULT_SIMULATOR, Simulator } from '../sim/simulator.js';
import type { CliIo } from './args.js';
import { CONFIG_FLAG, defineCommand, envUrl, loadConfigForCli, parseCommand, usageOf } from './args.js';

export const SIMULATE_COMMAND = defineCommand({
  name: 'simulate',
  summary:
    "Demo traffic against a running Vigil: the configuration's models get predictions, delayed labels, then drift.\n" +
    'It first stores each model\'s baseline for version v1, replacing the one a previous run stored.',
  flags: {
    url: { kind: 'url', arg: 'URL', required: true, help: "Vigil's URL, e.g. http://127.0.0.1:9470" },
    config: CONFIG_FLAG,
    'drift-after': { kind: 'duration', zero: true, arg: 'DURATION', help: 'inject drift after this long (default 2m)' },
    rate: { kind: 'number', arg: 'N', help: 'predictions per second per model (default 20)' },
    duration: { kind: 'duration', arg: 'DURATION', help: 'stop after this long (default: until SIGINT/SIGTERM)' },
    token: { kind: 'string', arg: 'TOKEN', help: 'ingest bearer token (default: $VIGIL_TOKEN)' },
    'registry-url': { kind: 'url', arg: 'URL', help: "MLflow whose champion alias says which version serves (default: $VIGIL_REGISTRY_URL)" },
    'no-baseline': { kind: 'boolean', help: 'do not post the baselines' },
  },
});

/**
 * `vigil simulate --url http://127.0.0.1:9470 [--config FILE] [--drift-after 2m] [--rate 20]
 * [--duration 10m] [--token T] [--registry-url URL] [--no-baseline]`: demo traffic against a
 * running Vigil. With a registry (--registry-url or VIGIL_REGISTRY_URL), it serves the version the
 * `champion` alias names and the accuracy drop hits only the version that was champion at the start.
 */
export async function runSimulate(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(SIMULATE_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(SIMULATE_COMMAND));
    return 0;
  }
  const { values } = parsed;
  const registryUrl = values['registry-url'] ?? envUrl(env, 'VIGIL_REGISTRY_URL', 'simulate');
  const loaded = await loadConfigForCli(values.config, io, env, { ruleFiles: false }); // it loads no rules
  if (loaded === null) return 2;
  const logger = createLogger({ level: 'info', format: 'auto' });
  const token = values.token ?? env.VIGIL_TOKEN;
  const sim = new Simulator(
    {
      ...DEFAULT_SIMULATOR,
      url: values.url,
      models: loaded.config.models,
      ...(values['drift-after'] !== undefined ? { driftAfterMs: values['drift-after'] } : {}),
      ...(values.rate !== undefined ? { rate: values.rate } : {}),
      ...(token ? { token } : {}),
      ...(registryUrl !== undefined ? { registryUrl } : {}),
    },
    { logger, clock: systemClock },
  );
  if (!values['no-baseline']) await sim.postBaselines();
  sim.start();
  await new Promise<void>((resolve) => {
    // The simulator's own timer is unref'd (it must not keep a daemon alive): this one keeps the
    // `vigil simulate` process running until a signal or --duration.
    const alive = setInterval(() => undefined, 60_000);
    const stop = (): void => {
      clearInterval(alive);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (values.duration !== undefined) setTimeout(stop, values.duration);
  });
  sim.stop();
  io.stdout(`simulator sent ${sim.sent.predictions} predictions and ${sim.sent.labels} labels (${sim.sent.failures} failed posts)\n`);
  logger.flush();
  return 0;
}
