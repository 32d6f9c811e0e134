import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { budgetSamples } from './monitors/budgets.js';
import { SloTracker } from './slo/tracker.js';
import type { FastifyInstance } from 'fastify';
import { Alerting } from './alerting/wiring.js';
import { ConfigError, loadConfigFile, type ConfigIssue, type LoadedConfig } from './config/load.js';
import type { VigilConfig } from './config/schema.js';
import type { Clock } from './core/clock.js';
import { errorMessage, type VigilError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import { createTracing } from './core/tracing.js';
import { vigilVersion } from './core/version.js';
import { Cycle, type CycleStage } from './cycle/cycle.js';
import { buildServer } from './http/server.js';
import { applyListener, logDroppedConnections, readTls } from './http/transport.js';
import type { ReloadOutcome } from './http/routes/lifecycle.js';
import { fencedStore } from './cluster/fenced-store.js';
import { LeaderElector } from './cluster/leader.js';
import { ModelShard } from './cluster/shard.js';
import { Follower } from './ingest/follower.js';
import { Ingestor } from './ingest/ingestor.js';
import { createRunnableSources } from './ingest/sources/config.js';
import { SourceRunner } from './ingest/sources/runner.js';
import { MetricsRegistry, createMetrics, type VigilMetrics } from './metrics/registry.js';
import { liveSamples } from './metrics/live.js';
import { CATALOG } from './metrics/catalog.js';
import { Snapshot, SnapshotBuilder, registerSnapshotFamilies, type Sample } from './metrics/snapshot.js';
import { MonitorEngine } from './monitors/engine.js';
import { servingSlots, type MlflowSource } from './ingest/sources/mlflow.js';
import { Remediator } from './remediation/runner.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface DaemonDeps {
  initial: LoadedConfig;
  logger: Logger;
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
  /** Defaults to opening the SQLite file named in the configuration. */
  openStore?: (config: VigilConfig) => Store;
}

export interface Daemon {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly metrics: VigilMetrics;
  readonly registry: MetricsRegistry;
  readonly scheduler: Scheduler;
  readonly cycle: Cycle;
  readonly engine: MonitorEngine;
  readonly sources: SourceRunner;
  readonly alerting: Alerting;
  readonly remediation: Remediator;
  readonly slos: SloTracker;
  /** With a shared store: what reads every replica's rows into this one (tests make it pass now). */
  readonly follower: Follower | undefined;
  /** With a shared store: the leader election (undefined: one process, it leads). */
  readonly elector: LeaderElector | undefined;
  config(): VigilConfig;
  /** The snapshot `/metrics` serves and rules evaluate. */
  snapshot(): Snapshot;
  /** Listens on the configured address; returns the URL. */
  start(): Promise<string>;
  reload(): Promise<ReloadOutcome>;
  /** Stops accepting, finishes in-flight requests and jobs, closes the store. */
  stop(reason: string): Promise<void>;
}

/** Settings that only take effect at start-up. */
const RESTART_ONLY: readonly [string, (c: VigilConfig) => unknown][] = [
  ['server.address', (c) => c.server.address],
  ['server.port', (c) => c.server.port],
  ['server.max_body_bytes', (c) => c.server.max_body_bytes],
  // Switching HTTPS on or off; a new certificate (or new file paths) applies on reload.
  ['server.tls', (c) => c.server.tls !== undefined],
  ['storage.backend', (c) => c.storage.backend],
  ['storage.url', (c) => c.storage.url],
  ['storage.password_file', (c) => c.storage.password_file],
  ['storage.schema', (c) => c.storage.schema],
  ['storage.pool_size', (c) => c.storage.pool_size],
  ['storage.startup_retry', (c) => c.storage.startup_retry],
  ['storage.path', (c) => c.storage.path],
  ['cluster.lease', (c) => c.cluster.lease],
  ['cluster.shard', (c) => c.cluster.shard],
  ['tracing', (c) => c.tracing],
  ['storage.synchronous', (c) => c.storage.synchronous],
  ['storage.cache_mb', (c) => c.storage.cache_mb],
  ['compute_workers', (c) => c.compute_workers],
];

/** readTls for a reload (the schema checked the files; this catches a change since). */
function readTlsForReload(next: VigilConfig, file: string): ReturnType<typeof readTls> {
  try {
    return readTls(next.server.tls);
  } catch (e) {
    const err = e as VigilError;
    throw new ConfigError([{ file, line: 0, column: 0, path: `server.tls.${String(err.details?.field)}`, code: err.code, message: err.message }]);
  }
}

export const JOB_CYCLE = 'evaluation';
export const JOB_RETENTION = 'retention';

/** Builds every component from a loaded configuration; nothing listens until `start()`. */
export function createDaemon(deps: DaemonDeps): Daemon {
  const { logger, clock } = deps;
  const log = logger.child({ component: 'daemon' });
  // cluster.shard: this process monitors its shard of the models, split as at start-up (restart-only)
  const shard = new ModelShard(deps.initial.config.cluster.shard);
  let current: LoadedConfig = shard.apply(deps.initial);
  let stopping = false;
  /** The start-up load of the hot windows (settled when none is running). */
  let loadingDone: Promise<void> = Promise.resolve();
  /** start() is rebuilding the hot windows (the server already listens). */
  let loading = false;
  const config = (): VigilConfig => current.config;

  const registry = new MetricsRegistry();
  const metrics = createMetrics(registry, { version: vigilVersion() });
  /** This process among replicas (the leader lease's holder) and in traces (service.instance.id). */
  const instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const tracing = createTracing(config().tracing, { version: vigilVersion(), instanceId, logger });
  const store =
    deps.openStore?.(config()) ??
    new SqliteStore({ path: config().storage.path, synchronous: config().storage.synchronous, cacheMb: config().storage.cache_mb, logger, now: clock.now() });
  // A shared store (PostgreSQL, several replicas): every replica's rows reach this one's windows
  // through the follower, in the store's order, its own included.
  const ingestor = new Ingestor({ store, metrics, logger, clock, config, follow: store.shared, shard });
  const follower = store.shared
    ? new Follower({ store, ingestor, logger, lag: (s) => metrics.followerLag.observe(s), now: () => clock.now() })
    : undefined;
  // Replicas sharing the store elect one leader (src/cluster/leader.ts); a SQLite store has one process: it leads.
  const elector = store.shared
    ? new LeaderElector({
        store,
        id: instanceId,
        leaseMs: config().cluster.lease,
        logger,
        onChange: (leader, epoch) => {
          metrics.leader.set(leader ? 1 : 0);
          metrics.leaderEpoch.set(epoch);
          // a new leader takes over remediation as a restart does, in its next cycle's remediation stage
          if (leader) takeOver = true;
        },
      })
    : undefined;
  /** Became leader since the last remediation stage: reload open incidents, resume interrupted actions. */
  let takeOver = false;
  /** This process may act: the leader among replicas, or the one process of a SQLite store. */
  const leads = (): boolean => elector === undefined || elector.isLeader();
  metrics.leader.set(elector === undefined ? 1 : 0);
  metrics.leaderEpoch.set(elector === undefined ? 1 : 0);
  const workers = config().compute_workers;
  const engine = new MonitorEngine({
    store,
    logger,
    onMonitorError: (m) => metrics.cycleStageErrors.inc({ stage: `monitor:${m}` }),
    compute: workers === 0 ? false : workers === 'auto' ? {} : { size: workers },
  });
  ingestor.subscribe(engine);
  const slos = new SloTracker({ store, logger, clock, config });
  ingestor.subscribe(slos);
  let snapshot = Snapshot.EMPTY;
  registerSnapshotFamilies(registry, () => snapshot);
  const alerting = new Alerting({ store, logger, clock, config, metrics, tracing, ...(elector === undefined ? {} : { leads: () => leads() }) });
  const snapshotFamilies = new Set(CATALOG.filter((c) => c.origin === 'snapshot').map((c) => c.name));
  // What the current cycle computed, and the ALERTS series of its rule evaluation.
  let computed: Sample[] = [];
  let alertSamples: Sample[] = [];
  let recordedSamples: Sample[] = [];

  const remediation = new Remediator({
    tracing,
    // a leader's incident and action records carry its fence: a former leader's late write is refused
    store: elector === undefined ? store : fencedStore(store, () => elector.fence()),
    logger,
    clock,
    config,
    metrics: {
      action: (model, action, outcome) => metrics.remediationActions.inc({ model, action, outcome }),
      lastFailure: (model, action, ts) => metrics.remediationLastFailure.set({ model, action }, ts),
      rollbackLoop: (model, v) => metrics.rollbackLoop.set({ model }, v),
      incidentResolved: (model, sec) => metrics.incidentResolution.observe({ model }, sec),
      paused: (v) => metrics.remediationPaused.set(v),
      circuitState: (model, v) => metrics.circuitState.set({ model }, v),
    },
    firing: () => {
      const external = config().alerting.external_labels;
      return alerting.service
        .activeAlerts()
        .filter(({ alert }) => alert.state === 'firing')
        .map(({ alert }) => ({ fingerprint: alert.fingerprint, labels: { ...external, ...alert.labels }, annotations: alert.annotations, firedAt: alert.firedAt ?? alert.activeAt }));
    },
    silencedBy: (labels, now) => alerting.silences.silencedBy(labels, now),
    escalate: (receiver, alert, groupKey, now) =>
      alerting.escalate(
        receiver,
        { fingerprint: alert.fingerprint, labels: { ...alert.labels }, annotations: { ...alert.annotations }, startsAt: new Date(alert.firedAt).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), generatorURL: '' },
        groupKey,
        now,
      ),
    serving: () => sources.list().flatMap((src) => (src.type === 'mlflow' ? servingSlots((src as MlflowSource).versions()) : [])),
    freshness: () => {
      const out = new Map<string, number>();
      for (const s of sources.samples()) if (s.name === 'feast_feature_freshness_seconds' && s.labels.feature_view !== undefined) out.set(s.labels.feature_view, s.value);
      return out;
    },
  });

  const stages: CycleStage[] = [
    // a shared store: every row any replica stored up to now is in the windows before they are read
    ...(follower === undefined
      ? []
      : [
          {
            name: 'follow',
            run: async () => {
              await follower.poll();
              await sources.refreshShared(); // a follower exports the samples the leader's sources shared
            },
          },
        ]),
    {
      name: 'monitors',
      run: async (ctx) => {
        const samples = await engine.compute(ctx.config, ctx.now);
        samples.push(...sources.samples()); // pulled by the sources on their own schedules
        samples.push(...budgetSamples(ctx.config.models, samples)); // performance budgets read what the monitors measured
        computed = samples;
      },
    },
    {
      // SLOs: the cycle's window-based events, then every SLO's series (before the rules read them).
      name: 'slos',
      run: async (ctx) => {
        slos.observeCycle(computed, ctx.now);
        computed.push(...slos.samples(ctx.now));
        await slos.flush(ctx.now, leads()); // every replica counts the same rows: only the leader's go to the store
      },
    },
    {
      // Rules see exactly what /metrics will show: the computed samples and the live metrics.
      name: 'rules',
      run: async (ctx) => {
        const live = await liveSamples(registry, snapshotFamilies);
        ({ alerts: alertSamples, recorded: recordedSamples } = await alerting.evaluate([...computed, ...live], ctx.now));
      },
    },
    {
      // Decides and starts actions for the firing alerts (they run in the background).
      name: 'remediation',
      // only the leader acts (replicas on a shared store); a new leader first takes over as a
      // restart does: open incidents from the store, idempotent actions interrupted resumed, the
      // others closed as interrupted
      run: async (ctx) => {
        // every replica answers circuit reads and exports the state the shared store holds
        if (elector !== undefined) await remediation.refresh();
        if (!leads()) return;
        if (takeOver) {
          takeOver = false;
          // the sources were the last leader's: collected now, so that what remediation reads of
          // them (the registry's versions) is this leader's own before it acts
          await sources.collectAll();
          await remediation.start({ resume: true });
        }
        await remediation.step(ctx.now);
      },
    },
    {
      // One immutable snapshot per cycle: /metrics serves it, a scrape never computes.
      name: 'publish',
      run: async (ctx) => {
        const b = new SnapshotBuilder();
        b.addAll(computed);
        b.addAll(alertSamples);
        b.addRecorded(recordedSamples);
        snapshot = b.build(ctx.now);
      },
    },
    {
      name: 'heartbeat',
      // Persisted so a restart knows how long Vigil was down (alert-state restore needs it).
      run: async (ctx) => store.setState('daemon.last_seen', String(ctx.now), ctx.now),
    },
  ];
  const cycle = new Cycle({ stages, logger, metrics, clock, config, tracing });
  const scheduler = new Scheduler({ logger, metrics, clock });
  const sources = new SourceRunner({
    sources: createRunnableSources(config().sources),
    scheduler,
    logger,
    clock,
    metrics: {
      errors: (s) => metrics.sourceErrors.inc({ source: s }),
      up: (s, ok) => metrics.sourceUp.set({ source: s }, ok ? 1 : 0),
      lastSuccess: (s, ts) => metrics.sourceLastSuccess.set({ source: s }, ts),
      duration: (s, sec) => metrics.sourceDuration.set({ source: s }, sec),
      forget: (s) => {
        for (const g of [metrics.sourceErrors, metrics.sourceUp, metrics.sourceLastSuccess, metrics.sourceDuration]) g.remove({ source: s });
      },
    },
    ingest: (kind, model, items) => ingestor.ingest(kind, model, items),
    state: { get: (k) => store.getState(`source:${k}`), set: (k, v) => store.setState(`source:${k}`, v, clock.now()) },
    ...(elector === undefined ? {} : { leads }),
  });
  scheduler.add({ name: JOB_CYCLE, schedule: { everyMs: config().evaluation_interval }, run: async () => void (await cycle.run()) });
  scheduler.add({
    name: JOB_RETENTION,
    schedule: { everyMs: config().storage.prune_interval },
    run: async () => {
      if (!leads()) return; // one replica prunes the shared store
      const now = clock.now();
      const r = await store.prune(now - config().storage.retention);
      metrics.pruned.inc({ table: 'predictions' }, r.predictions);
      metrics.pruned.inc({ table: 'labels' }, r.labels);
      const audit = await store.pruneIncidents(now - config().storage.audit_retention);
      metrics.pruned.inc({ table: 'incidents' }, audit.incidents);
      metrics.pruned.inc({ table: 'remediation_actions' }, audit.actions);
      if (audit.incidents > 0) log.info({ ...audit, before: new Date(now - config().storage.audit_retention).toISOString() }, 'audit retention pruned resolved incidents');
      if (r.predictions + r.labels > 0) log.info({ ...r, before: new Date(now - config().storage.retention).toISOString() }, 'retention pruned rows');
    },
  });

  scheduler.add({ name: 'notifications', schedule: { everyMs: 1000 }, run: async () => alerting.flush(clock.now()) });

  const markLoaded = (): void => {
    metrics.reloadSuccessful.set(1);
    metrics.reloadTimestamp.set(clock.now() / 1000);
  };
  markLoaded();

  let reloading: Promise<ReloadOutcome> | null = null;
  const reload = async (): Promise<ReloadOutcome> => {
    // Two reloads at once (SIGHUP + HTTP) share one attempt.
    reloading ??= (async (): Promise<ReloadOutcome> => {
      const file = current.file;
      try {
        const next = shard.apply(await loadConfigFile(file, deps.env));
        const ruleErrors = await alerting.reload(next.config, file);
        if (ruleErrors.length > 0) {
          throw new ConfigError(
            ruleErrors.map((e): ConfigIssue => ({ file: e.file, line: e.line, column: e.column, path: '', code: 'VIGIL_ERR_RULES_INVALID', message: e.message })),
          );
        }
        // A certificate that cannot be read or does not match its key keeps the running config.
        const nextTls = readTlsForReload(next.config, file);
        const restartRequired = RESTART_ONLY.filter(([, get]) => JSON.stringify(get(next.config)) !== JSON.stringify(get(current.config))).map(([k]) => k);
        sources.replace(createRunnableSources(next.config.sources));
        current = next;
        await slos.apply(clock.now());
        if (tls !== null && nextTls !== null) tls = nextTls; // TLS switched on or off needs a restart
        applyListener(app.server, next.config.server, tls);
        metrics.circuitState.reset();
        metrics.rollbackLoop.reset();
        remediation.reloaded();
        scheduler.reschedule(JOB_CYCLE, { everyMs: next.config.evaluation_interval });
        scheduler.reschedule(JOB_RETENTION, { everyMs: next.config.storage.prune_interval });
        markLoaded();
        if (restartRequired.length > 0) log.warn({ file, keys: restartRequired }, 'configuration reloaded; some changes take effect only after a restart');
        else log.info({ file, models: next.config.models.length }, 'configuration reloaded');
        return { ok: true, file, restartRequired };
      } catch (e) {
        metrics.reloadSuccessful.set(0);
        const issues = e instanceof ConfigError ? e.issues : [];
        const message = e instanceof ConfigError ? `${issues.length} problem(s) in ${file}` : errorMessage(e);
        log.error({ file, issues: issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}`), err: message }, 'configuration reload failed; keeping the running configuration');
        return { ok: false, file, issues, message };
      } finally {
        reloading = null;
      }
    })();
    return reloading;
  };

  // The certificate HTTPS starts with (the schema checked the files when the configuration loaded).
  let tls = readTls(config().server.tls);
  const app = buildServer({
    tracing,
    logger,
    config,
    store,
    registry,
    ingestor,
    engine,
    alerting: alerting.service,
    silences: alerting.silences,
    remediation,
    snapshot: () => snapshot,
    clock,
    reload,
    bodyLimit: config().server.max_body_bytes,
    tls,
    readiness: () => {
      const reasons: string[] = [];
      if (stopping) reasons.push('shutting down');
      if (loading) reasons.push('loading the hot windows');
      if (!store.healthy()) reasons.push('store is not open');
      return { ready: reasons.length === 0, reasons, role: elector === undefined || elector.isLeader() ? 'leader' : 'follower' };
    },
  });

  let stopped: Promise<void> | null = null;
  return {
    app,
    store,
    metrics,
    registry,
    scheduler,
    cycle,
    engine,
    sources,
    alerting,
    remediation,
    slos,
    config,
    follower,
    elector,
    snapshot: () => snapshot,
    reload,
    async start() {
      await shard.claimStore(store, config(), clock.now(), logger); // a store of another shard group is refused
      await alerting.start(current.file);
      await slos.apply(clock.now());
      // on a shared store a replica resumes interrupted actions only once it leads (elector's onChange)
      await remediation.start({ resume: elector === undefined });
      // Listening first: while the hot windows are rebuilt from the store (tens of seconds with
      // large windows), ingestion is accepted — a model whose window is not built yet finds its
      // new rows in the store when it is — and /readyz says what is still loading.
      loading = true;
      applyListener(app.server, config().server, null);
      logDroppedConnections(app.server, logger, () => config().server.max_connections, () => clock.now());
      const url = await app.listen({ host: config().server.address, port: config().server.port });
      log.info({ url }, 'vigil listening; loading the hot windows');
      const t0 = performance.now();
      // Following from before the load: a row stored meanwhile is either in a window's scan or
      // reaches it from the follower (the engine keeps exactly one of the two, as for ingestion).
      if (follower !== undefined) follower.start(await store.lastPredictionSeq(), await store.lastLabelSeq());
      elector?.start();
      // A stop meanwhile (a signal) ends the load after the page being read; stop() waits for it.
      loadingDone = engine.load(config(), clock.now(), () => stopping);
      try {
        await loadingDone;
      } catch (e) {
        if (!stopping) throw e;
      }
      loading = false;
      if (stopping) {
        log.info({ url, loadMs: Math.round(performance.now() - t0) }, 'start-up interrupted: vigil is stopping');
        return url;
      }
      scheduler.start();
      log.info({ url, config: current.file, models: config().models.map((m) => m.name), version: vigilVersion(), loadMs: Math.round(performance.now() - t0) }, 'vigil started');
      return url;
    },
    stop(reason: string) {
      stopped ??= (async () => {
        stopping = true;
        log.info({ reason }, 'vigil stopping');
        await app.close(); // stops accepting; in-flight requests (and their writes) finish
        await loadingDone.catch(() => undefined); // a start-up load stops after its current page
        await follower?.stop();
        await elector?.stop(); // a leader lets its lease go: another replica takes over at once
        await sources.stop();
        await scheduler.stop(); // waits for running jobs
        await remediation.stop(); // idempotent actions in flight resume at the next start
        await engine.close(); // terminates the drift worker
        await alerting.stop(); // undelivered notifications stay in the outbox
        await slos.flush(clock.now()); // the SLO counts since the last cycle
        await store.setState('daemon.stopped_at', String(clock.now()), clock.now()).catch(() => undefined);
        await store.close();
        await tracing.shutdown(); // the spans still buffered are exported
        log.info({ reason }, 'vigil stopped');
      })();
      return stopped;
    },
  };
}
