import { SpanKind, type Tracing } from '../../core/tracing.js';
import { pino } from 'pino';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { AlertPayload } from '../types.js';
import { BasicAuthSchema, httpUrl, int, positiveDuration } from './config.js';
import { fingerprint } from './fingerprint.js';
import { postRequest, safeUrl } from './http.js';
import { noopNotificationMetrics, type NotificationMetrics } from './metrics.js';
import { isNotifyError, isRetryableError } from './notifier.js';
import { OutboxWrites, type OutboxEntry, type OutboxStore } from './outbox.js';
import { realSleep, type Sleep } from './sender.js';

/**
 * Sending to Alertmanager the way Prometheus does (`notifier/manager.go`: `POST <url>/api/v2/alerts`,
 * batches of at most 64, each Alertmanager on its own so a dead one never holds up another), with
 * a persistent outbox so no alert state is lost while an Alertmanager is down, across restarts
 * and `kill -9` included:
 *
 * - every alert state handed over is written to the outbox (the store's `outbox` table, ids
 *   `am:<alertmanager>:<fingerprint>:<firing|resolved>`) before the first attempt, coalesced per
 *   alert: the outbox holds the latest firing and the latest resolved state of each alert per
 *   Alertmanager, not every re-send. A firing state never replaces a resolution of the same or a
 *   later alert instance (`startsAt`), so a restart never re-sends a stale firing after its
 *   resolution;
 * - an entry is deleted when delivered (2xx) or refused for good (4xx other than 408/429;
 *   Alertmanager's 400 has kept the valid alerts of the batch); 5xx, 429, timeouts and
 *   unreachable Alertmanagers are retried with capped exponential backoff (or Retry-After) for as
 *   long as it takes, up to `retry.max_age` per state and `queue_capacity` states (beyond them the
 *   oldest are dropped, counted in `vigil_notifications_total{outcome="dropped"}` and logged);
 * - at start-up `restore()` puts the outbox back and sends it;
 * - when a firing state and its resolution both wait (the alert fired and resolved while the
 *   Alertmanager was unreachable), the firing goes first, kept active (`endsAt` at least
 *   2 × `resolve_after_replay` ahead), and the resolution `resolve_after_replay` later, so
 *   Alertmanager, which notifies nothing for an alert it first sees resolved (`DedupStage`
 *   `needsUpdate`), has notified the firing before the resolution arrives: it flushes a new group
 *   at once for an alert older than `group_wait` (`aggrGroup.insert`), else after `group_wait`.
 */

export const MAX_BATCH_SIZE = 64;

/** Outbox ids of the Alertmanager sender start with this (the direct notifiers' ids are UUIDs). */
export const ALERTMANAGER_OUTBOX_PREFIX = 'am:';
export const isAlertmanagerOutboxId = (id: string): boolean => id.startsWith(ALERTMANAGER_OUTBOX_PREFIX);

export const AlertmanagerRetrySchema = z.strictObject({
  /** First wait after a failed attempt; doubled after each further failure. */
  initial_backoff: positiveDuration().default(1_000),
  /** Longest wait between attempts (a Retry-After asking for more is honoured). */
  max_backoff: positiveDuration().default(60_000),
  /** An alert state not delivered this long after it was handed over is dropped (and counted). */
  max_age: positiveDuration().default(24 * 3_600_000),
});

export const AlertmanagerConfigSchema = z
  .strictObject({
    /** Base URL (with any path prefix): alerts go to `<url>/api/v2/alerts`. */
    url: httpUrl(),
    /** Name in metrics, logs and the outbox; default `alertmanager:<host:port>`. */
    name: z.string().min(1).optional(),
    timeout: positiveDuration().default(10_000),
    bearer_token: z.string().min(1).optional(),
    basic_auth: BasicAuthSchema.optional(),
    /** Alert states waiting for this Alertmanager; when full the oldest are dropped (and counted). */
    queue_capacity: int().pipe(z.number().min(1)).default(10_000),
    retry: AlertmanagerRetrySchema.prefault({}),
    /** After a late firing state whose resolution already waits, the resolution follows this much later. */
    resolve_after_replay: positiveDuration().default(60_000),
    /** Deprecated and ignored (alerts are retried until `retry.max_age`); a warning is logged. */
    max_retries: int().pipe(z.number().min(0)).optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.retry.max_backoff < cfg.retry.initial_backoff) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'max_backoff'], message: 'must not be shorter than retry.initial_backoff', params: { vigil: 'VALUE' } });
    }
  });
export type AlertmanagerConfig = z.output<typeof AlertmanagerConfigSchema>;

export const AlertmanagersConfigSchema = z
  .array(AlertmanagerConfigSchema)
  .superRefine((list, ctx) => {
    // Each Alertmanager has its own outbox entries, metrics and logs: by name.
    const names = new Map<string, number>();
    list.forEach((cfg, i) => {
      const name = alertmanagerName(cfg);
      const first = names.get(name);
      if (first === undefined) names.set(name, i);
      else ctx.addIssue({ code: 'custom', path: [i, cfg.name === undefined ? 'url' : 'name'], message: `duplicate Alertmanager name "${name}" (first at alertmanagers[${first}]); give each a distinct name`, params: { vigil: 'DUPLICATE' } });
    });
  })
  .default([]);

export interface AlertmanagerSenderOptions {
  alertmanagers: readonly AlertmanagerConfig[];
  /** Where pending alert states live (the store's outbox; {@link MemoryOutboxStore} in tests). */
  outbox: OutboxStore;
  metrics?: NotificationMetrics;
  logger?: Logger;
  clock?: Clock;
  sleep?: Sleep;
  /** Default {@link MAX_BATCH_SIZE}. */
  maxBatchSize?: number;
  /** A span per POST of a batch; none when absent. */
  tracing?: Tracing;
}

/** The `name` used in metrics and logs for an Alertmanager. */
export function alertmanagerName(cfg: Pick<AlertmanagerConfig, 'url' | 'name'>): string {
  return cfg.name ?? `alertmanager:${safeUrl(cfg.url).replace(/^https?:\/\//, '')}`;
}

type Status = 'firing' | 'resolved';

/** One pending alert state for one Alertmanager (in memory; mirrored by an outbox row). */
interface Entry {
  readonly id: string;
  readonly fingerprint: string;
  readonly status: Status;
  readonly alert: AlertPayload;
  /** `startsAt` in ms: which instance of the alert this state belongs to. */
  readonly startsAt: number;
  /** Clock time the state was handed over (age bound, order). */
  readonly queuedAt: number;
  /** Not sent before this (a resolution held after a replayed firing). */
  notBefore: number;
  attempts: number;
  /** The outbox write of this state; delivery waits for it. */
  saved: Promise<void>;
}

interface Slot {
  firing?: Entry | undefined;
  resolved?: Entry | undefined;
}

/** What an outbox row's payload holds. */
const PersistedSchema = z.object({
  alertmanager: z.string(),
  fingerprint: z.string(),
  status: z.enum(['firing', 'resolved']),
  queuedAt: z.number(),
  alert: z.object({
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
    startsAt: z.string(),
    endsAt: z.string(),
    generatorURL: z.string(),
  }),
});

const outboxId = (am: string, fp: string, status: Status): string => `${ALERTMANAGER_OUTBOX_PREFIX}${am}:${fp}:${status}`;

class AlertmanagerTarget {
  readonly name: string;
  readonly #cfg: AlertmanagerConfig;
  readonly #url: string;
  readonly #opts: AlertmanagerSenderOptions;
  readonly #outbox: OutboxStore;
  readonly #metrics: NotificationMetrics;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #signal: AbortSignal;
  /** Pending states in hand-over order (a replaced state moves to the end). */
  readonly #entries = new Map<string, Entry>();
  readonly #slots = new Map<string, Slot>();
  #running: Promise<void> | undefined;
  /** Aborted to cut short a wait for a held resolution when new states arrive. */
  #wake: AbortController | undefined;
  #failures = 0;
  readonly #writes: OutboxWrites;

  constructor(cfg: AlertmanagerConfig, opts: AlertmanagerSenderOptions, log: Logger, signal: AbortSignal) {
    this.#cfg = cfg;
    this.name = alertmanagerName(cfg);
    this.#url = `${cfg.url.replace(/\/+$/, '')}/api/v2/alerts`;
    this.#opts = opts;
    this.#outbox = opts.outbox;
    this.#metrics = opts.metrics ?? noopNotificationMetrics;
    this.#clock = opts.clock ?? systemClock;
    this.#log = log.child({ alertmanager: this.name });
    this.#writes = new OutboxWrites(this.#log);
    this.#sleep = opts.sleep ?? realSleep;
    this.#signal = signal;
    if (cfg.max_retries !== undefined) {
      this.#log.warn({}, 'alertmanagers[].max_retries is deprecated and ignored: alerts are retried until retry.max_age');
    }
  }

  get pending(): number {
    return this.#entries.size;
  }

  /** Takes over alert states (persisting each before it can be sent); `now` tells firing from resolved. */
  enqueue(alerts: readonly AlertPayload[], now: number): Promise<void> {
    if (this.#signal.aborted || alerts.length === 0) return Promise.resolve();
    const queuedAt = this.#clock.now();
    const taken: Entry[] = [];
    for (const alert of alerts) {
      const ends = Date.parse(alert.endsAt);
      const status: Status = Number.isFinite(ends) && ends <= now ? 'resolved' : 'firing';
      const e = this.#accept({ fingerprint: fingerprint(alert.labels), status, alert, queuedAt, notBefore: queuedAt, attempts: 0 });
      if (e !== undefined) taken.push(e);
    }
    const saved = this.#write(taken, []); // one transaction for the whole evaluation
    for (const e of taken) e.saved = saved;
    this.#bound();
    this.#kick();
    return saved;
  }

  /** Puts a state read back from the outbox in place (unless a newer one is there already). */
  restore(row: OutboxEntry, p: z.output<typeof PersistedSchema>): boolean {
    const e = this.#accept(
      { fingerprint: p.fingerprint, status: p.status, alert: p.alert, queuedAt: p.queuedAt, notBefore: row.nextAttemptAt, attempts: row.attempts },
      true,
    );
    if (e === undefined) {
      // A stale row; unless a state handed over meanwhile owns this id (and the row) now.
      if (!this.#entries.has(row.id)) void this.#writes.track(this.#outbox.delete(row.id));
      return false;
    }
    return true;
  }

  /** Starts delivery of what is pending (after restores). */
  start(): void {
    this.#bound();
    this.#kick();
  }

  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#writes.size > 0) {
      await this.#running;
      await this.#writes.settled();
    }
  }

  /**
   * The coalescing rule. Returns the entry now in the slot (to be persisted), or undefined when
   * the state is stale and was not taken.
   */
  #accept(s: Omit<Entry, 'id' | 'saved' | 'startsAt'>, restoring = false): Entry | undefined {
    const startsAt = Date.parse(s.alert.startsAt);
    const e: Entry = { ...s, id: outboxId(this.name, s.fingerprint, s.status), startsAt: Number.isFinite(startsAt) ? startsAt : 0, saved: Promise.resolve() };
    let slot = this.#slots.get(e.fingerprint);
    if (slot === undefined) {
      slot = {};
      this.#slots.set(e.fingerprint, slot);
    }
    const same = slot[e.status];
    if (same !== undefined && (restoring ? same.queuedAt >= e.queuedAt : false)) return undefined; // a newer state arrived first
    if (!restoring && e.status === 'firing' && slot.resolved !== undefined && e.startsAt <= slot.resolved.startsAt) {
      // An older firing after its resolution: never let it overwrite or follow the resolution.
      if (same === undefined) this.#dropSlotIfEmpty(e.fingerprint);
      return undefined;
    }
    if (e.status === 'resolved' && slot.firing !== undefined && slot.firing.startsAt > e.startsAt) {
      // The resolution of an instance older than the pending firing one: superseded.
      if (same === undefined) this.#dropSlotIfEmpty(e.fingerprint);
      return undefined;
    }
    if (same !== undefined) {
      this.#entries.delete(same.id);
      // A held resolution stays held when refreshed.
      if (e.status === 'resolved') e.notBefore = Math.max(e.notBefore, same.notBefore);
    }
    slot[e.status] = e;
    this.#entries.set(e.id, e);
    return e;
  }

  #dropSlotIfEmpty(fp: string): void {
    const slot = this.#slots.get(fp);
    if (slot !== undefined && slot.firing === undefined && slot.resolved === undefined) this.#slots.delete(fp);
  }

  #row(e: Entry): OutboxEntry {
    const payload = JSON.stringify({ alertmanager: this.name, fingerprint: e.fingerprint, status: e.status, queuedAt: e.queuedAt, alert: e.alert });
    return { id: e.id, receiver: this.name, payload, attempts: e.attempts, nextAttemptAt: e.notBefore, createdAt: e.queuedAt };
  }

  /**
   * Removes a pending state (delivered, refused or dropped) unless a newer one replaced it;
   * returns the outbox id to delete then.
   */
  #remove(e: Entry): string[] {
    if (this.#entries.get(e.id) !== e) return [];
    this.#entries.delete(e.id);
    const slot = this.#slots.get(e.fingerprint);
    if (slot !== undefined && slot[e.status] === e) slot[e.status] = undefined;
    this.#dropSlotIfEmpty(e.fingerprint);
    return [e.id];
  }

  #write(save: readonly Entry[], remove: readonly string[]): Promise<void> {
    if (save.length + remove.length === 0) return Promise.resolve();
    return this.#writes.track(this.#outbox.write(save.map((e) => this.#row(e)), remove));
  }

  /** Drops the oldest states beyond the capacity and those older than `retry.max_age`. */
  #bound(): void {
    const now = this.#clock.now();
    const dropped: { entry: Entry; reason: string }[] = [];
    let over = this.#entries.size - this.#cfg.queue_capacity;
    for (const e of this.#entries.values()) {
      if (over > 0) {
        dropped.push({ entry: e, reason: 'queue full' });
        over--;
      } else if (now - e.queuedAt > this.#cfg.retry.max_age) dropped.push({ entry: e, reason: 'too old' });
    }
    const gone: string[] = [];
    for (const { entry, reason } of dropped) {
      this.#metrics.notification(this.name, 'dropped');
      gone.push(...this.#remove(entry));
      this.#log.warn({ alertname: entry.alert.labels.alertname, fingerprint: entry.fingerprint, status: entry.status, reason, capacity: this.#cfg.queue_capacity, maxAgeMs: this.#cfg.retry.max_age }, 'alert dropped from the Alertmanager outbox');
    }
    void this.#write([], gone);
  }

  #kick(): void {
    this.#wake?.abort();
    if (this.#signal.aborted || this.#entries.size === 0) return;
    this.#running ??= this.#run().then((progress) => {
      this.#running = undefined;
      // States handed over while the loop was finishing.
      if (progress && this.#entries.size > 0 && !this.#signal.aborted) this.#kick();
    });
  }


  /** The states to send now: in hand-over order, one per alert, firing before its resolution. */
  #batch(now: number): { batch: Entry[]; nextAt: number | undefined } {
    const max = this.#opts.maxBatchSize ?? MAX_BATCH_SIZE;
    const batch: Entry[] = [];
    const seen = new Set<string>();
    let nextAt: number | undefined;
    for (const e of this.#entries.values()) {
      if (batch.length >= max) break;
      if (seen.has(e.fingerprint)) continue;
      const slot = this.#slots.get(e.fingerprint) as Slot;
      if (slot.firing !== undefined && slot.resolved !== undefined) {
        // Both wait: a firing state goes before its own resolution, after an older instance's.
        const firingFirst = slot.firing.startsAt <= slot.resolved.startsAt;
        if ((e.status === 'resolved') === firingFirst) continue;
      }
      if (e.notBefore > now) {
        nextAt = nextAt === undefined ? e.notBefore : Math.min(nextAt, e.notBefore);
        continue;
      }
      seen.add(e.fingerprint);
      batch.push(e);
    }
    return { batch, nextAt };
  }

  /** Sends until nothing is pending; false if it stopped with states it cannot send (a bug). */
  async #run(): Promise<boolean> {
    while (this.#entries.size > 0 && !this.#signal.aborted) {
      try {
        this.#bound();
        const now = this.#clock.now();
        const { batch, nextAt } = this.#batch(now);
        if (batch.length === 0) {
          if (nextAt === undefined) {
            this.#log.error({ pending: this.#entries.size }, 'pending alerts that cannot be sent');
            return false;
          }
          // Only held resolutions are left: wait for the first, or for new states.
          this.#wake = new AbortController();
          try {
            await this.#sleep(nextAt - now, AbortSignal.any([this.#signal, this.#wake.signal]));
          } catch {
            // woken up or stopped
          }
          this.#wake = undefined;
          continue;
        }
        const tracing = this.#opts.tracing;
        const delay =
          tracing?.enabled === true
            ? await tracing.span('notify alertmanager', { kind: SpanKind.CLIENT, attributes: { 'vigil.receiver': this.name, 'vigil.alerts': batch.length } }, async (span) => {
                const d = await this.#send(batch);
                // a delay: the POST failed and is tried again after it
                span.setAttribute('vigil.retry_in_ms', d);
                return d;
              })
            : await this.#send(batch);
        if (delay > 0) await this.#sleep(delay, this.#signal);
      } catch (e) {
        if (this.#signal.aborted) return true;
        this.#log.error({ err: errorMessage(e) }, 'alert batch sending crashed');
        await this.#sleep(this.#cfg.retry.max_backoff, this.#signal).catch(() => undefined);
      }
    }
    return true;
  }

  /** One POST of a batch. Returns how long to wait before the next attempt (0: go on). */
  async #send(batch: Entry[]): Promise<number> {
    await Promise.all(batch.map((e) => e.saved)); // persisted before the first attempt
    const now = this.#clock.now();
    const hold = this.#cfg.resolve_after_replay;
    const body = batch.map((e) => {
      const replay = e.status === 'firing' && this.#resolutionWaits(e);
      // A late firing state whose resolution waits: keep it active until the resolution arrives.
      return replay ? { ...e.alert, endsAt: new Date(Math.max(Date.parse(e.alert.endsAt), now + 2 * hold)).toISOString() } : e.alert;
    });
    for (const e of batch) e.attempts++;
    try {
      await postRequest({
        url: this.#url,
        body,
        bearerToken: this.#cfg.bearer_token,
        basicAuth: this.#cfg.basic_auth,
        timeoutMs: this.#cfg.timeout,
        signal: this.#signal,
        what: 'alertmanager',
        now: () => this.#clock.now(),
      });
    } catch (e) {
      if (this.#signal.aborted) return 0;
      const fields = { err: errorMessage(e), alerts: batch.length, ...(isNotifyError(e) && e.status !== undefined ? { status: e.status } : {}) };
      if (!isRetryableError(e)) {
        // Refused for good (Alertmanager's 400 has kept the valid alerts of the batch).
        this.#metrics.notification(this.name, 'failure');
        this.#log.error(fields, 'Alertmanager refused the alerts');
        void this.#write([], batch.flatMap((x) => this.#remove(x)));
        this.#failures = 0;
        return 0;
      }
      this.#failures++;
      const server = isNotifyError(e) ? e.retryAfterMs : undefined;
      const delay = server ?? Math.min(this.#cfg.retry.initial_backoff * 2 ** (this.#failures - 1), this.#cfg.retry.max_backoff);
      this.#metrics.notification(this.name, 'retry');
      this.#log.warn({ ...fields, attempts: this.#failures, delayMs: delay, pending: this.#entries.size }, 'sending alerts to Alertmanager failed, will retry');
      void this.#write(batch.filter((x) => this.#entries.get(x.id) === x), []); // attempts
      return delay;
    }
    this.#failures = 0;
    this.#metrics.notification(this.name, 'success');
    const after = this.#clock.now();
    const delivered: string[] = [];
    const held: Entry[] = [];
    for (const e of batch) {
      delivered.push(...this.#remove(e));
      const resolution = this.#slots.get(e.fingerprint)?.resolved;
      if (e.status === 'firing' && resolution !== undefined && resolution.startsAt >= e.startsAt) {
        // The replayed firing is in; its resolution follows once Alertmanager has notified it.
        resolution.notBefore = Math.max(resolution.notBefore, after + hold);
        held.push(resolution);
        this.#log.info({ alertname: e.alert.labels.alertname, fingerprint: e.fingerprint, resolveAt: new Date(resolution.notBefore).toISOString() }, 'late firing alert delivered; its resolution follows');
      }
    }
    void this.#write(held, delivered);
    return 0;
  }

  #resolutionWaits(e: Entry): boolean {
    const r = this.#slots.get(e.fingerprint)?.resolved;
    return r !== undefined && r.startsAt >= e.startsAt;
  }
}

export class AlertmanagerSender {
  readonly #targets: AlertmanagerTarget[];
  readonly #abort = new AbortController();
  readonly #outbox: OutboxStore;
  readonly #metrics: NotificationMetrics;
  readonly #log: Logger;

  constructor(opts: AlertmanagerSenderOptions) {
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'alertmanager-sender' });
    this.#outbox = opts.outbox;
    this.#metrics = opts.metrics ?? noopNotificationMetrics;
    this.#targets = opts.alertmanagers.map((cfg) => new AlertmanagerTarget(cfg, opts, this.#log, this.#abort.signal));
    const names = new Set<string>();
    for (const t of this.#targets) {
      if (names.has(t.name)) throw new Error(`two Alertmanagers named "${t.name}": give them distinct names`);
      names.add(t.name);
    }
  }

  /**
   * Hands the alerts of an evaluation at `now` to every Alertmanager. Resolves once they are in
   * the outbox; delivery runs in the background.
   */
  async send(alerts: readonly AlertPayload[], now: number): Promise<void> {
    await Promise.all(this.#targets.map((t) => t.enqueue(alerts, now)));
  }

  /**
   * Puts back what the outbox holds for the Alertmanagers (after a restart or a reload) and
   * starts sending it. Entries of an Alertmanager no longer configured, or unreadable, are
   * dropped (counted). Returns how many were restored.
   */
  async restore(): Promise<number> {
    const byName = new Map(this.#targets.map((t) => [t.name, t]));
    let restored = 0;
    const rows = (await this.#outbox.list()).filter((r) => isAlertmanagerOutboxId(r.id));
    const parsed = rows.map((row) => ({ row, p: parsePersisted(row.payload) })).sort((a, b) => (a.p?.queuedAt ?? 0) - (b.p?.queuedAt ?? 0));
    for (const { row, p } of parsed) {
      const target = byName.get(row.receiver);
      if (target === undefined || p === undefined || p.alertmanager !== row.receiver) {
        this.#log.warn({ alertmanager: row.receiver, id: row.id, reason: target === undefined ? 'unknown Alertmanager' : 'unreadable payload' }, 'outbox entry dropped');
        this.#metrics.notification(row.receiver, 'dropped');
        await this.#outbox.delete(row.id);
        continue;
      }
      if (target.restore(row, p)) restored++;
    }
    for (const t of this.#targets) t.start();
    return restored;
  }

  /** Alert states waiting per Alertmanager name. */
  queueLengths(): Record<string, number> {
    return Object.fromEntries(this.#targets.map((t) => [t.name, t.pending]));
  }

  /** Resolves once every Alertmanager has delivered (or dropped) what it holds. */
  async idle(): Promise<void> {
    await Promise.all(this.#targets.map((t) => t.idle()));
  }

  /** Stops sending (in-flight requests are aborted); what is not delivered stays in the outbox. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('alertmanager sender stopped'));
    await this.idle();
  }
}

function parsePersisted(payload: string): z.output<typeof PersistedSchema> | undefined {
  try {
    const r = PersistedSchema.safeParse(JSON.parse(payload));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
