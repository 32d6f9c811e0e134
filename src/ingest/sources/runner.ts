import type { Clock } from '../../core/clock.js';
import { errorMessage, VigilError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Sample } from '../../metrics/snapshot.js';
import type { Job, Schedule } from '../../scheduler/scheduler.js';
import type { IngestKind, IngestResult } from '../ingestor.js';
import { catalogSamples, type SampleCatalog } from './common.js';
import { SourceError } from './http.js';
import { withRetries } from './retry.js';
import type { Source, SourceContext, SourceResult } from './source.js';

/** How the runner drives one source (from its config's common keys). */
export interface RunSettings {
  schedule: Schedule;
  /** Budget of one whole collection, retries included (ms). */
  timeoutMs: number;
  retries: number;
  /** First retry delay (ms), doubled each retry. */
  retryBackoffMs: number;
}

export interface RunnableSource {
  source: Source;
  settings: RunSettings;
  /** Identity for replace(): same name and fingerprint = unchanged (e.g. the JSON of its config). */
  fingerprint: string;
}

/** Health metrics the runner reports; the daemon backs them with its registry. */
export interface SourceMetrics {
  /** A collection failed (`vigil_source_scrape_errors_total{source}`). */
  errors(source: string): void;
  /** `vigil_source_up{source}`: 1 after a successful collection, 0 after a failed one. */
  up(source: string, ok: boolean): void;
  /** `vigil_source_last_success_timestamp_seconds{source}` (unix seconds). */
  lastSuccess(source: string, tsSeconds: number): void;
  /** Duration of the last collection, in seconds (e.g. `vigil_source_scrape_duration_seconds{source}`). */
  duration(source: string, seconds: number): void;
  /** The source was removed by a reload: drop its series. */
  forget(source: string): void;
}

/** The part of the Scheduler the runner uses (`remove` is used when present). */
export interface SourceScheduler {
  add(job: Job): void;
  reschedule(name: string, schedule: Schedule): void;
  trigger(name: string): Promise<'ran' | 'overrun'>;
  remove?(name: string): void;
}

export interface SourceStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface SourceRunnerDeps {
  sources: readonly RunnableSource[];
  scheduler: SourceScheduler;
  logger: Logger;
  clock: Clock;
  metrics: SourceMetrics;
  ingest: (kind: IngestKind, model: string, items: readonly unknown[]) => Promise<IngestResult>;
  state: SourceStateStore;
  /** Snapshot families and their labels (default: the catalog's). */
  catalog?: SampleCatalog;
  /**
   * Replicas on a shared store: whether this one leads. Only the leader collects — a source that
   * ingests would otherwise ingest once per replica, and every replica would load the systems it
   * reads — and it shares each source's samples through `state`; a follower's scheduled runs do
   * nothing and it serves the leader's samples (refreshShared), so every replica exports the same.
   */
  leads?: () => boolean;
}

export interface SourceHealth {
  name: string;
  type: string;
  /** true after a successful collection, false after a failed one or before the first. */
  up: boolean;
  /** Why the last collection failed; null after a success. */
  lastError: string | null;
  lastErrorCode: string | null;
  /** ms since the epoch. */
  lastSuccessAt: number | null;
  lastRunAt: number | null;
  lastDurationMs: number | null;
  consecutiveFailures: number;
  /** Samples currently held. */
  samples: number;
}

interface Entry {
  runnable: RunnableSource;
  samples: Sample[];
  health: SourceHealth;
  controller: AbortController | null;
  running: Promise<void> | null;
}

export const jobName = (source: string): string => `source:${source}`;
/** Where the leader shares a source's samples in the source state (a source's own keys are `<name>/<key>`). */
const sharedKey = (source: string): string => `samples:${source}`;

/**
 * Runs the pull sources as scheduler jobs `source:<name>`. Each run gets an AbortController that
 * fires at the source's timeout, retries with exponential backoff within that budget, and ends in a
 * health record: on success the source's samples replace its previous ones; on failure they are
 * dropped (absent = unknown, like Prometheus staleness) and the error is counted and kept. Nothing a
 * source does — throw, hang, ignore the signal, reject late — escapes the runner.
 */
export class SourceRunner {
  private readonly entries = new Map<string, Entry>();
  /** A follower's view of the leader's samples, by source (refreshShared). */
  private readonly shared = new Map<string, Sample[]>();
  /** Whether this replica collected at the last refreshShared (its health series go when it stops). */
  private collecting = false;
  /** Jobs added to the scheduler (a job outlives a removed source when the scheduler cannot remove). */
  private readonly jobs = new Set<string>();
  private readonly log: Logger;
  private readonly catalog: SampleCatalog;
  private stopped = false;

  constructor(private readonly deps: SourceRunnerDeps) {
    this.log = deps.logger.child({ component: 'sources' });
    this.catalog = deps.catalog ?? catalogSamples;
    this.replace(deps.sources);
  }

  /**
   * Applies a new set of sources (config reload): removed and changed ones are aborted and their
   * samples dropped; new and changed ones are (re)scheduled; unchanged ones keep running undisturbed.
   */
  replace(sources: readonly RunnableSource[]): void {
    const names = new Set<string>();
    for (const r of sources) {
      if (names.has(r.source.name)) throw new VigilError('VIGIL_ERR_SOURCE_DUPLICATE', `duplicate source name "${r.source.name}"`);
      names.add(r.source.name);
    }
    for (const [name, e] of this.entries) {
      if (!names.has(name)) {
        e.controller?.abort(new SourceError('VIGIL_ERR_SOURCE_REMOVED', `source ${name} was removed`));
        this.entries.delete(name);
        this.deps.metrics.forget(name);
        if (this.deps.scheduler.remove !== undefined) {
          this.deps.scheduler.remove(jobName(name));
          this.jobs.delete(jobName(name));
        }
        this.log.info({ source: name }, 'source removed');
      }
    }
    for (const r of sources) {
      const name = r.source.name;
      const old = this.entries.get(name);
      if (old !== undefined && old.runnable.fingerprint === r.fingerprint) continue;
      if (old !== undefined) {
        old.controller?.abort(new SourceError('VIGIL_ERR_SOURCE_REMOVED', `source ${name} was reconfigured`));
        this.log.info({ source: name }, 'source reconfigured');
      }
      this.entries.set(name, {
        runnable: r,
        samples: [],
        controller: null,
        running: null,
        health: {
          name,
          type: r.source.type,
          up: false,
          lastError: null,
          lastErrorCode: null,
          lastSuccessAt: null,
          lastRunAt: null,
          lastDurationMs: null,
          consecutiveFailures: 0,
          samples: 0,
        },
      });
      const job = jobName(name);
      if (this.jobs.has(job)) this.deps.scheduler.reschedule(job, r.settings.schedule);
      else {
        this.deps.scheduler.add({ name: job, schedule: r.settings.schedule, run: () => this.run(name) });
        this.jobs.add(job);
      }
    }
  }

  /** Runs one source now (as its schedule would) and resolves when that run ends. */
  async trigger(name: string): Promise<'ran' | 'overrun'> {
    if (!this.entries.has(name)) throw new VigilError('VIGIL_ERR_SOURCE_UNKNOWN', `no source named "${name}"`, { statusCode: 404 });
    if (!this.leads()) throw new VigilError('VIGIL_ERR_SOURCE_NOT_LEADER', `source "${name}" is collected by the leader, not by this replica`, { statusCode: 409 });
    return this.deps.scheduler.trigger(jobName(name));
  }

  /** Collects every source now and waits for them (a new leader, before it acts on what they read). */
  async collectAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((name) => this.deps.scheduler.trigger(jobName(name))));
  }

  private leads(): boolean {
    return this.deps.leads?.() ?? true;
  }

  /** All current samples of all sources (merged into each cycle's snapshot): a follower's are the leader's. */
  samples(): Sample[] {
    const out: Sample[] = [];
    if (this.leads()) for (const e of this.entries.values()) out.push(...e.samples);
    else for (const name of this.entries.keys()) out.push(...(this.shared.get(name) ?? []));
    return out;
  }

  /**
   * A follower reads the samples the leader shared for each source (each cycle). A source whose
   * shared samples cannot be read or are not valid samples has none here (absent = unknown).
   */
  async refreshShared(): Promise<void> {
    if (this.deps.leads === undefined) return;
    const leads = this.leads();
    // a replica that stopped leading exports no health of sources it no longer collects (the leader's are the truth)
    if (this.collecting && !leads) for (const name of this.entries.keys()) this.deps.metrics.forget(name);
    this.collecting = leads;
    if (leads) return;
    for (const name of this.entries.keys()) {
      try {
        const raw = await this.deps.state.get(sharedKey(name));
        const result = raw === undefined ? { samples: [] } : (JSON.parse(raw) as SourceResult);
        this.checkSamples(result);
        this.shared.set(name, result.samples);
      } catch (e) {
        this.shared.delete(name);
        this.log.warn({ source: name, err: errorMessage(e) }, "the leader's samples of the source cannot be read");
      }
    }
  }

  /** The leader shares a source's samples (its last collection's; none after a failure). Never throws. */
  private async share(name: string, samples: Sample[]): Promise<void> {
    if (this.deps.leads === undefined) return;
    try {
      await this.deps.state.set(sharedKey(name), JSON.stringify({ samples }));
    } catch (e) {
      this.log.warn({ source: name, err: errorMessage(e) }, 'the samples of the source cannot be shared with the other replicas');
    }
  }

  /** The current sources (e.g. the mlflow sources' registry state, for remediation). */
  list(): RunnableSource['source'][] {
    return [...this.entries.values()].map((e) => e.runnable.source);
  }

  health(): SourceHealth[] {
    return [...this.entries.values()].map((e) => ({ ...e.health, samples: e.samples.length }));
  }

  /** Aborts the runs in progress and waits for them; later ticks do nothing. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const [name, e] of this.entries) {
      e.controller?.abort(new SourceError('VIGIL_ERR_SOURCE_STOPPED', `source ${name}: Vigil is stopping`));
      if (e.running !== null) running.push(e.running);
    }
    await Promise.all(running);
  }

  /** One scheduled run of a source. Never rejects. */
  private async run(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (entry === undefined || this.stopped || !this.leads()) return;
    const p = this.collect(entry).catch((e: unknown) => {
      this.log.error({ source: name, err: errorMessage(e) }, 'source runner failure');
    });
    entry.running = p;
    try {
      await p;
    } finally {
      entry.running = null;
    }
  }

  private async collect(entry: Entry): Promise<void> {
    const { source, settings } = entry.runnable;
    const name = source.name;
    const log = this.log.child({ source: name, type: source.type });
    const controller = new AbortController();
    entry.controller = controller;
    const startedAt = this.deps.clock.now();
    const t0 = performance.now();
    const deadline = t0 + settings.timeoutMs;
    const timer = setTimeout(
      () => controller.abort(new SourceError('VIGIL_ERR_SOURCE_TIMEOUT', `timed out after ${settings.timeoutMs}ms (the source's timeout)`)),
      settings.timeoutMs,
    );
    const signal = controller.signal;
    const ctx: SourceContext = {
      now: startedAt,
      signal,
      logger: log,
      ingest: async (kind, model, items) => {
        if (signal.aborted) throw signal.reason;
        return this.deps.ingest(kind, model, items);
      },
      getState: (key) => this.deps.state.get(`${name}/${key}`),
      setState: async (key, value) => {
        if (signal.aborted) throw signal.reason;
        await this.deps.state.set(`${name}/${key}`, value);
      },
    };
    let result: SourceResult | undefined;
    let failure: unknown;
    try {
      result = await withRetries(() => source.collect(ctx), {
        retries: settings.retries,
        backoffMs: settings.retryBackoffMs,
        signal,
        deadline,
        onRetry: (attempt, delayMs, e) => log.warn({ attempt, delayMs, err: errorMessage(e) }, 'source collection failed, retrying'),
      });
      this.checkSamples(result);
    } catch (e) {
      failure = e;
    } finally {
      clearTimeout(timer);
      if (entry.controller === controller) entry.controller = null;
    }
    // A reload replaced or removed this source while it ran: its outcome no longer matters.
    if (this.entries.get(name) !== entry) return;
    const ms = performance.now() - t0;
    const h = entry.health;
    h.lastRunAt = startedAt;
    h.lastDurationMs = Math.round(ms * 1000) / 1000;
    this.deps.metrics.duration(name, ms / 1000);
    if (failure === undefined && result !== undefined) {
      entry.samples = result.samples;
      h.up = true;
      h.lastError = null;
      h.lastErrorCode = null;
      h.consecutiveFailures = 0;
      h.lastSuccessAt = this.deps.clock.now();
      this.deps.metrics.up(name, true);
      this.deps.metrics.lastSuccess(name, h.lastSuccessAt / 1000);
      log.debug({ samples: result.samples.length, ingested: result.ingested, ms: h.lastDurationMs }, 'source collected');
      await this.share(name, result.samples);
      return;
    }
    entry.samples = [];
    await this.share(name, []);
    h.up = false;
    h.lastError = errorMessage(failure);
    h.lastErrorCode = failure instanceof VigilError ? failure.code : 'VIGIL_ERR_SOURCE_FAILED';
    h.consecutiveFailures++;
    this.deps.metrics.errors(name);
    this.deps.metrics.up(name, false);
    log.warn({ err: h.lastError, code: h.lastErrorCode, failures: h.consecutiveFailures, ms: h.lastDurationMs }, 'source collection failed');
  }

  /** Refuses samples the snapshot would reject (unknown family, wrong labels, non-numbers). */
  private checkSamples(result: SourceResult): void {
    if (result === null || typeof result !== 'object' || !Array.isArray(result.samples)) {
      throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESULT', 'source returned no samples array');
    }
    for (const s of result.samples) {
      const labels = this.catalog(s.name);
      if (labels === undefined) throw new SourceError('VIGIL_ERR_SOURCE_BAD_SAMPLE', `${s.name} is not a snapshot metric of the catalog`);
      const keys = Object.keys(s.labels);
      if (keys.length !== labels.length || !labels.every((l) => typeof s.labels[l] === 'string')) {
        throw new SourceError('VIGIL_ERR_SOURCE_BAD_SAMPLE', `${s.name} takes labels {${labels.join(',')}}, the source gave {${keys.join(',')}}`);
      }
      if (typeof s.value !== 'number') throw new SourceError('VIGIL_ERR_SOURCE_BAD_SAMPLE', `${s.name}: value is not a number`);
    }
  }
}
