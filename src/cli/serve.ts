import { existsSync, renameSync } from 'node:fs';
import { systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { createDaemon } from '../daemon.js';
import { describeStore, openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { RuleFilesError } from '../alerting/wiring.js';
import { formatRuleFileError } from '../alerting/rules/index.js';
import { DEFAULT_SIMULATOR, Simulator } from '../sim/simulator.js';
import { DEMO_REGISTRY_PORT, startDemoRegistry } from '../sim/demo-registry.js';
import type { FakeMlflow } from '../sim/fake-mlflow.js';
import type { CliIo } from './args.js';
import { CONFIG_FLAG, defineCommand, envUrl, loadConfigForCli, parseCommand, usageOf } from './args.js';

export const SERVE_COMMAND = defineCommand({
  name: 'serve',
  summary:
    'Run the daemon. Without --config it runs the embedded demo configuration (examples/vigil.yaml).\n' +
    'SIGTERM/SIGINT stop it gracefully (within server.shutdown_timeout); SIGHUP reloads the configuration.',
  notes: 'Exit codes: 0 stopped, 1 failed, 2 bad configuration, rule file or usage.',
  flags: {
    config: CONFIG_FLAG,
    simulate: {
      kind: 'boolean',
      help: 'also play demo traffic (predictions, labels, drift after --drift-after); without VIGIL_REGISTRY_URL it starts the demo registry on 127.0.0.1:9471',
    },
    'drift-after': { kind: 'duration', zero: true, arg: 'DURATION', requires: 'simulate', help: 'with --simulate: inject drift after this long (default 2m)' },
    'sim-rate': { kind: 'number', arg: 'N', requires: 'simulate', help: 'with --simulate: predictions per second per model (default 20)' },
    fresh: {
      kind: 'boolean',
      requires: 'simulate',
      help: 'with --simulate: start on a new store, the previous one kept beside it as <path>.<time> (npm start: every demo run tells the whole story)',
    },
  },
});

/**
 * Moves a store file (and its -wal and -shm) aside as `<path>.<time>`, so the daemon starts on a
 * new one; nothing is deleted. Returns the new name, or null when there was no store.
 */
export function setStoreAside(path: string, now: Date): string | null {
  if (path === ':memory:' || !existsSync(path)) return null;
  const kept = `${path}.${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, kept);
  for (const suffix of ['-wal', '-shm']) if (existsSync(`${path}${suffix}`)) renameSync(`${path}${suffix}`, `${kept}${suffix}`);
  return kept;
}

/**
 * `vigil serve [--config FILE] [--simulate] [--drift-after 2m]`. Without --config it runs the
 * embedded demo configuration (examples/vigil.yaml). With --simulate and no VIGIL_REGISTRY_URL in
 * the environment it also starts the demo registry (a fake, in-memory MLflow) on 127.0.0.1:9471,
 * which the demo configuration's mlflow source and rollback action use. Signals: SIGTERM/SIGINT stop gracefully
 * (in-flight writes finish, the store closes) within server.shutdown_timeout; SIGHUP reloads.
 * Resolves with the exit code once the daemon has stopped.
 */
export async function runServe(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(SERVE_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(SERVE_COMMAND));
    return 0;
  }
  const { values } = parsed;
  const registryFromEnv = values.simulate ? envUrl(env, 'VIGIL_REGISTRY_URL', 'serve') : undefined;
  const loaded = await loadConfigForCli(values.config, io, env);
  if (loaded === null) return 2;
  const logger = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format });
  if (values.fresh && loaded.config.storage.backend !== 'sqlite') {
    io.stderr('vigil serve: --fresh sets a SQLite file aside; this configuration uses storage.backend: postgres\n');
    return 2;
  }
  if (values.fresh) {
    try {
      const kept = setStoreAside(loaded.config.storage.path, new Date());
      if (kept !== null) logger.info({ store: loaded.config.storage.path, previous: kept }, 'demo: a fresh store; the previous one is kept');
    } catch (e) {
      io.stderr(`vigil serve: --fresh: cannot set ${loaded.config.storage.path} aside: ${errorMessage(e)}\n`);
      return 1;
    }
  }
  let store: Store;
  try {
    // PostgreSQL may still be starting with the rest of a stack: keep trying for a while
    store = await openStore(loaded.config, { logger, now: systemClock.now(), retryForMs: loaded.config.storage.startup_retry, env });
  } catch (e) {
    logger.error({ store: describeStore(loaded.config.storage), err: errorMessage(e) }, 'cannot open the store');
    logger.flush();
    io.stderr(`vigil serve: cannot open the store ${describeStore(loaded.config.storage)}: ${errorMessage(e)}\n`);
    return 1;
  }
  const daemon = createDaemon({ initial: loaded, logger, clock: systemClock, env, openStore: () => store });

  // Signals are handled from the start: a SIGTERM while the hot windows load (tens of seconds with
  // large windows) stops gracefully too, and a SIGHUP then is applied once started.
  let sim: Simulator | null = null;
  let registry: FakeMlflow | null = null;
  let exiting = false;
  let started = false;
  let reloadWhenStarted = false;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const shutdown = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    sim?.stop();
    void registry?.close();
    const force = setTimeout(() => {
      logger.error({ signal }, 'shutdown timed out; exiting');
      logger.flush();
      resolveExit(1);
    }, daemon.config().server.shutdown_timeout);
    force.unref();
    daemon
      .stop(signal)
      .then(() => resolveExit(0))
      .catch((e: unknown) => {
        logger.error({ err: errorMessage(e) }, 'error while stopping');
        resolveExit(1);
      })
      .finally(() => {
        clearTimeout(force);
        logger.flush();
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    if (started) void daemon.reload();
    else reloadWhenStarted = true;
  });
  process.on('unhandledRejection', (reason) => logger.error({ err: errorMessage(reason) }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: errorMessage(err), stack: err.stack }, 'uncaught exception; stopping');
    shutdown('uncaughtException');
  });

  let url: string;
  try {
    url = await daemon.start();
  } catch (e) {
    if (exiting) return exited;
    await daemon.stop('start failed');
    if (e instanceof RuleFilesError) {
      for (const r of e.errors) io.stderr(`${formatRuleFileError(r)}\n`);
      logger.flush();
      return 2;
    }
    logger.fatal({ err: errorMessage(e) }, 'cannot start');
    logger.flush();
    return 1;
  }
  if (exiting) return exited;
  started = true;
  if (reloadWhenStarted) void daemon.reload();

  if (values.simulate) {
    let registryUrl = registryFromEnv;
    if (registryUrl === undefined) {
      try {
        registry = await startDemoRegistry({ models: daemon.config().models.map((m) => m.name), port: DEMO_REGISTRY_PORT, logger });
        registryUrl = registry.url;
        if (exiting) {
          await registry.close(); // stopped while it started: shutdown() could not close it
          return exited;
        }
      } catch (e) {
        logger.warn({ port: DEMO_REGISTRY_PORT, err: errorMessage(e) }, 'demo registry not started; the simulator serves v1 and rollbacks have no registry');
      }
    }
    sim = new Simulator(
      {
        ...DEFAULT_SIMULATOR,
        url,
        models: daemon.config().models,
        ...(values['drift-after'] !== undefined ? { driftAfterMs: values['drift-after'] } : {}),
        ...(values['sim-rate'] !== undefined ? { rate: values['sim-rate'] } : {}),
        ...(daemon.config().server.tokens.ingest[0] ? { token: daemon.config().server.tokens.ingest[0] as string } : {}),
        ...(registryUrl ? { registryUrl } : {}),
      },
      { logger, clock: systemClock },
    );
    await sim.postBaselines();
    if (exiting) return exited; // stopped meanwhile (shutdown() closed the registry)
    sim.start();
  }

  return exited;
}
