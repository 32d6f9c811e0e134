import { systemClock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { createLogger } from '../core/logger.js';
import { DEFAULT_SIMULATOR, Simulator } from '../sim/simulator.js';
import type { CliIo } from './args.js';
import { loadConfigForCli, parseCli } from './args.js';

/**
 * `vigil simulate --url http://127.0.0.1:9470 [--config FILE] [--drift-after 2m] [--rate 20]
 * [--duration 10m] [--token T] [--registry-url URL] [--no-baseline]`: demo traffic against a
 * running Vigil. With a registry (--registry-url or VIGIL_REGISTRY_URL), it serves the version the
 * `champion` alias names and the accuracy drop hits only the version that was champion at the start.
 */
export async function runSimulate(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { values } = parseCli(argv, {
    url: { type: 'string' },
    config: { type: 'string', short: 'c' },
    'drift-after': { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    token: { type: 'string' },
    'registry-url': { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
  });
  if (!values.url) {
    io.stderr('usage: vigil simulate --url http://127.0.0.1:9470 [--config FILE] [--drift-after 2m] [--rate 20] [--duration 10m]\n');
    return 2;
  }
  const loaded = await loadConfigForCli(values.config, io, env);
  if (loaded === null) return 2;
  const logger = createLogger({ level: 'info' });
  const token = values.token ?? env.VIGIL_TOKEN;
  const sim = new Simulator(
    {
      ...DEFAULT_SIMULATOR,
      url: values.url,
      models: loaded.config.models,
      ...(values['drift-after'] ? { driftAfterMs: parseDuration(values['drift-after']) } : {}),
      ...(values.rate ? { rate: Number(values.rate) } : {}),
      ...(token ? { token } : {}),
      ...((values['registry-url'] ?? env.VIGIL_REGISTRY_URL) ? { registryUrl: (values['registry-url'] ?? env.VIGIL_REGISTRY_URL) as string } : {}),
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
    if (values.duration) setTimeout(stop, parseDuration(values.duration));
  });
  sim.stop();
  io.stdout(`simulator sent ${sim.sent.predictions} predictions and ${sim.sent.labels} labels (${sim.sent.failures} failed posts)\n`);
  logger.flush();
  return 0;
}
