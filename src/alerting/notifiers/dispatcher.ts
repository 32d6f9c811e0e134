import type { Tracing } from '../../core/tracing.js';
import { pino } from 'pino';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { AlertPayload } from '../types.js';
import { bool, durationMs, int, positiveDuration } from './config.js';
import { fingerprint } from './fingerprint.js';
import { formatMatchers, matcherListSchema as matcherList, matchesAll, parseMatcherList, quote, type LabelMatcher } from './matchers.js';
import { noopNotificationMetrics, type NotificationMetrics } from './metrics.js';
import type { Notification, NotificationAlert, Notifier } from './notifier.js';
import { parseNotification, type OutboxStore } from './outbox.js';
import { ReceiverConfigSchema } from './registry.js';
import { DEFAULT_RETRY, ReceiverWorker, type RetryPolicy, type Sleep } from './sender.js';

/**
 * Alertmanager's dispatcher, in-process: alerts are routed by label matchers to receivers, grouped
 * by `group_by` labels, and each group is notified after `group_wait`, then re-checked every
 * `group_interval`; an unchanged firing group is re-sent after `repeat_interval`. The decision to
 * notify is Alertmanager's DedupStage (`notify.go` `needsUpdate`). Time is passed in:
 * `process(alerts, now)` after each rule evaluation, `flush(now)` sends what is due.
 */

// ---------------------------------------------------------------------------------------------
// Config

const groupBy = () =>
  z
    .array(z.string().regex(/^([a-zA-Z_][a-zA-Z0-9_]*|\.\.\.)$/, 'must be a label name or "..." (all labels)'))
    .refine((a) => !a.includes('...') || a.length === 1, { message: '"..." must be the only entry' });


export const RouteSchema = z.strictObject({
  /** Alertmanager matchers, all of which must match (`severity="critical"`, `model=~"fraud.*"`). */
  matchers: matcherList().default([]),
  receiver: z.string().min(1),
  /** Default: the top-level `group_by`. */
  group_by: groupBy().optional(),
  group_wait: durationMs().optional(),
  group_interval: positiveDuration().optional(),
  repeat_interval: positiveDuration().optional(),
  /** Keep matching the following routes after this one matched. */
  continue: bool().default(false),
});
export type RouteConfig = z.output<typeof RouteSchema>;

/**
 * Tiered response (seed 001): a firing alert this policy matches (the first that does) and that
 * nobody acknowledges (`POST /v1/incidents/:id/ack`) is sent to each step's receiver once the
 * step's time since it fired has passed — on top of its ordinary route.
 */
export const EscalationSchema = z.strictObject({
  matchers: matcherList().default([]),
  steps: z
    .array(z.strictObject({ after: positiveDuration(), receiver: z.string().min(1) }))
    .min(1)
    .refine((steps) => steps.every((s, i) => i === 0 || s.after > (steps[i - 1] as { after: number }).after), { message: 'steps must come in increasing `after` order' }),
});
export type EscalationConfig = z.output<typeof EscalationSchema>;

export const RetrySchema = z.strictObject({
  initial_backoff: positiveDuration().default(DEFAULT_RETRY.initialBackoffMs),
  max_backoff: positiveDuration().default(DEFAULT_RETRY.maxBackoffMs),
  /** Give up on a notification this long after it was created. */
  deadline: positiveDuration().default(DEFAULT_RETRY.deadlineMs),
});

export const NotificationsConfigSchema = z
  .strictObject({
    receivers: z.array(ReceiverConfigSchema).default([]),
    /** Receiver of alerts no route matches (Alertmanager's root route). None: such alerts are not sent. */
    default_receiver: z.string().min(1).optional(),
    group_by: groupBy().default(['alertname']),
    group_wait: durationMs().default(30_000),
    group_interval: positiveDuration().default(5 * 60_000),
    repeat_interval: positiveDuration().default(4 * 3_600_000),
    routes: z.array(RouteSchema).default([]),
    /** Pending notifications per receiver; when full the oldest is dropped (and counted). */
    queue_capacity: int().pipe(z.number().min(1)).default(1000),
    retry: RetrySchema.prefault({}),
    /** Escalation policies for unacknowledged firing alerts (tiered response), first match wins. */
    escalation: z.array(EscalationSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const names = new Map<string, number>();
    cfg.receivers.forEach((r, i) => {
      const first = names.get(r.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['receivers', i, 'name'], message: `duplicate receiver name "${r.name}" (first at receivers[${first}])`, params: { vigil: 'DUPLICATE' } });
      } else names.set(r.name, i);
    });
    if (cfg.default_receiver !== undefined && !names.has(cfg.default_receiver)) {
      ctx.addIssue({ code: 'custom', path: ['default_receiver'], message: `unknown receiver "${cfg.default_receiver}"`, params: { vigil: 'REFERENCE' } });
    }
    cfg.routes.forEach((r, i) => {
      if (!names.has(r.receiver)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'receiver'], message: `unknown receiver "${r.receiver}"`, params: { vigil: 'REFERENCE' } });
    });
    cfg.escalation.forEach((e, i) =>
      e.steps.forEach((st, j) => {
        if (!names.has(st.receiver)) ctx.addIssue({ code: 'custom', path: ['escalation', i, 'steps', j, 'receiver'], message: `unknown receiver "${st.receiver}"`, params: { vigil: 'REFERENCE' } });
      }),
    );
    if (cfg.retry.max_backoff < cfg.retry.initial_backoff) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'max_backoff'], message: 'must not be shorter than retry.initial_backoff', params: { vigil: 'VALUE' } });
    }
  });
export type NotificationsConfig = z.output<typeof NotificationsConfigSchema>;

// ---------------------------------------------------------------------------------------------
// Routes

/** A route with defaults applied (read-only). */
export interface ResolvedRoute {
  readonly index: number;
  /** Alertmanager-style route key: `{}` for the default route, `{}/{matchers}` for the others. */
  readonly key: string;
  readonly matchers: readonly LabelMatcher[];
  readonly receiver: string;
  /** `null`: group by all labels (`...`). */
  readonly groupBy: readonly string[] | null;
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly continue: boolean;
}

/** The route an escalation notification is sent under (no grouping: one alert, sent at once). */
const ESCALATION_ROUTE: ResolvedRoute = { index: -1, key: '{}/escalation', matchers: [], receiver: '', groupBy: null, groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 0, continue: false };

export function resolveRoutes(cfg: NotificationsConfig): { routes: ResolvedRoute[]; defaultRoute: ResolvedRoute | undefined } {
  const gb = (g: readonly string[]) => (g.length === 1 && g[0] === '...' ? null : [...g]);
  const routes = cfg.routes.map((r, index): ResolvedRoute => {
    const matchers = parseMatcherList(r.matchers);
    // Alertmanager's Route.Key(): the parent's key, "/", the matchers. Two routes with the same
    // matchers have the same key (their groups stay apart: they are kept by route index).
    const key = `{}/${formatMatchers(matchers)}`;
    return {
      index,
      key,
      matchers,
      receiver: r.receiver,
      groupBy: gb(r.group_by ?? cfg.group_by),
      groupWaitMs: r.group_wait ?? cfg.group_wait,
      groupIntervalMs: r.group_interval ?? cfg.group_interval,
      repeatIntervalMs: r.repeat_interval ?? cfg.repeat_interval,
      continue: r.continue,
    };
  });
  const defaultRoute: ResolvedRoute | undefined =
    cfg.default_receiver === undefined
      ? undefined
      : {
          index: -1,
          key: '{}',
          matchers: [],
          receiver: cfg.default_receiver,
          groupBy: gb(cfg.group_by),
          groupWaitMs: cfg.group_wait,
          groupIntervalMs: cfg.group_interval,
          repeatIntervalMs: cfg.repeat_interval,
          continue: false,
        };
  return { routes, defaultRoute };
}

/** The routes an alert goes to: in order, stopping at the first match unless it has `continue`. */
export function matchRoutes(routes: readonly ResolvedRoute[], defaultRoute: ResolvedRoute | undefined, labels: Readonly<Record<string, string>>): ResolvedRoute[] {
  const out: ResolvedRoute[] = [];
  for (const r of routes) {
    if (!matchesAll(r.matchers, labels)) continue;
    out.push(r);
    if (!r.continue) break;
  }
  if (out.length === 0 && defaultRoute !== undefined) out.push(defaultRoute);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dispatcher

/** An alert as the rule engine hands it over (firing, or recently resolved with `endsAt` ≤ now). */
export type DispatchAlert = AlertPayload & { fingerprint?: string };

interface GroupAlert {
  alert: DispatchAlert;
  fingerprint: string;
}

/** What was last notified for a group (Alertmanager's notification log entry). */
interface NotifyLog {
  firing: ReadonlySet<string>;
  resolved: ReadonlySet<string>;
  at: number;
}

interface Group {
  readonly route: ResolvedRoute;
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly alerts: Map<string, GroupAlert>;
  nextFlushAt: number;
  log: NotifyLog | undefined;
}

/**
 * Where the dispatcher keeps its groups (the alerts waiting for group_wait / group_interval and
 * what was last notified), so a restart resumes them: a resolution waiting in a group is still
 * notified. The daemon stores it in the store's state table.
 */
export interface DispatcherStateStore {
  load(): Promise<string | undefined>;
  save(json: string): Promise<void>;
}

export interface DispatcherOptions {
  config: NotificationsConfig;
  /** Persisted groups (none: groups live in memory only). */
  state?: DispatcherStateStore;
  /** One notifier per configured receiver (see `createNotifiers`). */
  notifiers: readonly Notifier[];
  outbox: OutboxStore;
  /** `server.external_url`: Vigil's address in notifications. */
  externalURL?: string;
  metrics?: NotificationMetrics;
  logger?: Logger;
  /** Time base of delivery (retry waits, outbox timestamps). Routing uses the `now` passed in. */
  clock?: Clock;
  /** Injected wait (tests step time instead of sleeping). */
  sleep?: Sleep;
  /** A span per delivery attempt. */
  tracing?: Tracing;
}

export interface DispatcherStats {
  groups: number;
  pending: Record<string, number>;
}

/** Go's zero time.Time in JSON: what Alertmanager sends as a firing alert's `endsAt`. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** A UTC RFC 3339 time as Go writes a time.Time in JSON (RFC3339Nano): no trailing zeros in the fraction, none at all when it is zero. */
export const goTime = (iso: string): string => iso.replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));

/** A group's label set as Alertmanager prints it in a group key (prometheus/common LabelSet.String): sorted by name, `name="value"` (Go-quoted), joined with ", ". */
const labelSetString = (labels: Readonly<Record<string, string>>): string =>
  `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${quote(labels[k] ?? '')}`)
    .join(', ')}}`;

function common(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const first = maps[0];
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (maps.every((m) => m[k] === v)) out[k] = v;
  return out;
}

const subset = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => [...a].every((x) => b.has(x));

/** What identifies a route across runs: its key, receiver and grouping. */
const routeIdentity = (r: ResolvedRoute): string => JSON.stringify([r.key, r.receiver, r.groupBy]);

const labelMap = z.record(z.string(), z.string());
const PersistedGroupsSchema = z.object({
  groups: z.array(
    z.object({
      route: z.string(),
      key: z.string(),
      labels: labelMap,
      nextFlushAt: z.number(),
      alerts: z.array(
        z.object({
          fingerprint: z.string(),
          alert: z.object({ labels: labelMap, annotations: labelMap, startsAt: z.string(), endsAt: z.string(), generatorURL: z.string() }),
        }),
      ),
      log: z.object({ firing: z.array(z.string()), resolved: z.array(z.string()), at: z.number() }).nullable(),
    }),
  ),
});
type PersistedGroup = z.output<typeof PersistedGroupsSchema>['groups'][number];

export class Dispatcher {
  readonly #routes: ResolvedRoute[];
  readonly #defaultRoute: ResolvedRoute | undefined;
  readonly #workers = new Map<string, ReceiverWorker>();
  readonly #groups = new Map<string, Group>();
  readonly #outbox: OutboxStore;
  readonly #state: DispatcherStateStore | undefined;
  /** Groups changed since they were last persisted. */
  #dirty = false;
  readonly #externalURL: string;
  readonly #metrics: NotificationMetrics;
  readonly #log: Logger;

  constructor(opts: DispatcherOptions) {
    const { routes, defaultRoute } = resolveRoutes(opts.config);
    this.#routes = routes;
    this.#defaultRoute = defaultRoute;
    this.#outbox = opts.outbox;
    this.#state = opts.state;
    this.#externalURL = opts.externalURL ?? '';
    this.#metrics = opts.metrics ?? noopNotificationMetrics;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'dispatcher' });
    const policy: RetryPolicy = {
      initialBackoffMs: opts.config.retry.initial_backoff,
      maxBackoffMs: opts.config.retry.max_backoff,
      deadlineMs: opts.config.retry.deadline,
    };
    for (const n of opts.notifiers) {
      if (this.#workers.has(n.name)) throw new Error(`duplicate notifier name "${n.name}"`);
      this.#workers.set(
        n.name,
        new ReceiverWorker(n, opts.config.queue_capacity, policy, {
          outbox: opts.outbox,
          metrics: this.#metrics,
          logger: this.#log,
          clock: opts.clock ?? systemClock,
          ...(opts.sleep === undefined ? {} : { sleep: opts.sleep }),
          ...(opts.tracing === undefined ? {} : { tracing: opts.tracing }),
        }),
      );
    }
    for (const r of [...routes, ...(defaultRoute ? [defaultRoute] : [])]) {
      if (!this.#workers.has(r.receiver)) throw new Error(`route ${r.key} names receiver "${r.receiver}" without a notifier`);
    }
  }

  /** Takes the current alerts (firing and recently resolved) after a rule evaluation. */
  process(alerts: readonly DispatchAlert[], now: number): void {
    if (alerts.length > 0) this.#dirty = true;
    for (const alert of alerts) {
      const fp = alert.fingerprint ?? fingerprint(alert.labels);
      for (const route of matchRoutes(this.#routes, this.#defaultRoute, alert.labels)) {
        const labels: Record<string, string> = {};
        if (route.groupBy === null) Object.assign(labels, alert.labels);
        else for (const name of route.groupBy) {
          const v = alert.labels[name];
          if (v !== undefined) labels[name] = v;
        }
        const groupKey = `${route.key}:${labelSetString(labels)}`;
        const mapKey = `${route.index}|${groupKey}`;
        let group = this.#groups.get(mapKey);
        if (group === undefined) {
          group = { route, key: groupKey, labels, alerts: new Map(), nextFlushAt: now + route.groupWaitMs, log: undefined };
          this.#groups.set(mapKey, group);
          this.#log.debug({ groupKey, receiver: route.receiver }, 'new alert group');
        }
        // As Alertmanager: an alert older than group_wait needs no further waiting.
        const startsAt = Date.parse(alert.startsAt);
        if (!group.alerts.has(fp) && group.log === undefined && Number.isFinite(startsAt) && startsAt + route.groupWaitMs < now) {
          group.nextFlushAt = Math.min(group.nextFlushAt, now);
        }
        group.alerts.set(fp, { alert, fingerprint: fp });
      }
    }
  }

  /**
   * Sends one firing alert to `receiver` now, outside grouping (an escalation step): queued in the
   * outbox and retried as any notification. Throws when the receiver has no notifier.
   */
  async escalate(receiver: string, alert: DispatchAlert, groupKey: string, now: number): Promise<void> {
    const worker = this.#workers.get(receiver);
    if (worker === undefined) throw new Error(`unknown receiver "${receiver}"`);
    const fp = alert.fingerprint ?? fingerprint(alert.labels);
    const a = this.#toNotificationAlert({ alert, fingerprint: fp }, now);
    const route: ResolvedRoute = { ...ESCALATION_ROUTE, receiver };
    await worker.enqueue(this.#notification({ route, key: groupKey, labels: { ...alert.labels }, alerts: new Map(), nextFlushAt: now, log: undefined }, [a]), () => undefined);
  }

  /** When the next group is due (ms since the epoch), or undefined without groups. */
  nextFlushAt(): number | undefined {
    let next: number | undefined;
    for (const g of this.#groups.values()) next = next === undefined ? g.nextFlushAt : Math.min(next, g.nextFlushAt);
    return next;
  }

  /**
   * Flushes every due group: notifies its receiver when Alertmanager would, queues the
   * notification (persisted in the outbox) and schedules the group's next check. Resolves once the
   * notifications are queued (not delivered: see `idle()`); returns how many were queued.
   */
  async flush(now: number): Promise<number> {
    const queued: Promise<void>[] = [];
    for (const [mapKey, group] of this.#groups) {
      if (group.nextFlushAt > now) continue;
      this.#dirty = true;
      const worker = this.#workers.get(group.route.receiver);
      if (worker === undefined) continue;
      const alerts = [...group.alerts.values()].map((ga) => this.#toNotificationAlert(ga, now));
      const firing = new Set(alerts.filter((a) => a.status === 'firing').map((a) => a.fingerprint));
      const resolved = new Set(alerts.filter((a) => a.status === 'resolved').map((a) => a.fingerprint));
      if (this.#needsUpdate(group.log, firing, resolved, worker.notifier.sendResolved, group.route.repeatIntervalMs, now)) {
        const previous = group.log;
        const log: NotifyLog = { firing, resolved, at: now };
        group.log = log;
        const sent = worker.notifier.sendResolved ? alerts : alerts.filter((a) => a.status === 'firing');
        if (sent.length > 0) {
          const n = this.#notification(group, sent);
          queued.push(
            worker.enqueue(n, () => {
              // Delivery failed for good: forget it, so the next group_interval tries again (Alertmanager only logs sent notifications).
              if (group.log === log) {
                group.log = previous;
                this.#dirty = true;
              }
            }),
          );
        }
      }
      for (const a of alerts) if (a.status === 'resolved') group.alerts.delete(a.fingerprint);
      if (group.alerts.size === 0) this.#groups.delete(mapKey);
      else group.nextFlushAt = now + group.route.groupIntervalMs;
    }
    await Promise.all(queued); // the notifications are in the outbox before the groups move on
    await this.persist();
    return queued.length;
  }

  /** Writes the groups to the state store if they changed since the last write. */
  async persist(): Promise<void> {
    if (this.#state === undefined || !this.#dirty) return;
    this.#dirty = false;
    const groups: PersistedGroup[] = [...this.#groups.values()].map((g) => ({
      route: routeIdentity(g.route),
      key: g.key,
      labels: g.labels,
      nextFlushAt: g.nextFlushAt,
      alerts: [...g.alerts.values()].map((ga) => ({ fingerprint: ga.fingerprint, alert: ga.alert })),
      log: g.log === undefined ? null : { firing: [...g.log.firing], resolved: [...g.log.resolved], at: g.log.at },
    }));
    try {
      await this.#state.save(JSON.stringify({ groups }));
    } catch (e) {
      this.#dirty = true;
      this.#log.error({ err: errorMessage(e) }, 'alert groups cannot be persisted');
    }
  }

  /**
   * Puts back the groups persisted by the previous run (after a restart or a reload): alerts
   * waiting for their group's next flush, and what was last notified. A group whose route is
   * gone (changed matchers, receiver or group_by) is dropped and logged; its alerts come back
   * with the next evaluation if still firing. Returns how many groups were restored.
   */
  async restoreGroups(): Promise<number> {
    if (this.#state === undefined) return 0;
    let parsed: z.output<typeof PersistedGroupsSchema>;
    try {
      const raw = await this.#state.load();
      if (raw === undefined) return 0;
      parsed = PersistedGroupsSchema.parse(JSON.parse(raw));
    } catch (e) {
      this.#log.error({ err: errorMessage(e) }, 'persisted alert groups cannot be read; starting without them');
      return 0;
    }
    const routes = new Map([...this.#routes, ...(this.#defaultRoute ? [this.#defaultRoute] : [])].map((r) => [routeIdentity(r), r]));
    let restored = 0;
    for (const g of parsed.groups) {
      const route = routes.get(g.route);
      if (route === undefined) {
        this.#log.warn({ groupKey: g.key, alerts: g.alerts.length }, 'persisted alert group dropped: its route is gone');
        continue;
      }
      const mapKey = `${route.index}|${g.key}`;
      if (this.#groups.has(mapKey)) continue;
      this.#groups.set(mapKey, {
        route,
        key: g.key,
        labels: g.labels,
        alerts: new Map(g.alerts.map((a) => [a.fingerprint, { alert: a.alert, fingerprint: a.fingerprint }])),
        nextFlushAt: g.nextFlushAt,
        log: g.log === null ? undefined : { firing: new Set(g.log.firing), resolved: new Set(g.log.resolved), at: g.log.at },
      });
      restored++;
    }
    return restored;
  }

  /** Re-queues what the outbox holds (after a restart). Returns how many were restored. */
  async restore(): Promise<number> {
    let restored = 0;
    for (const entry of await this.#outbox.list()) {
      const worker = this.#workers.get(entry.receiver);
      const n = parseNotification(entry.payload);
      if (worker === undefined || n === undefined) {
        this.#log.warn({ receiver: entry.receiver, id: entry.id, reason: worker === undefined ? 'unknown receiver' : 'unreadable payload' }, 'outbox entry dropped');
        this.#metrics.notification(entry.receiver, 'dropped');
        await this.#outbox.delete(entry.id);
        continue;
      }
      worker.restore(entry, n);
      restored++;
    }
    return restored;
  }

  /** Resolves once every receiver has delivered or given up on what it holds. */
  async idle(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((w) => w.idle()));
  }

  /**
   * Stops delivery; undelivered notifications stay in the outbox, the groups in the state store
   * (unless `persist` is false: a replica that no longer leads leaves the new leader's groups alone).
   */
  async stop(options: { persist?: boolean } = {}): Promise<void> {
    if (options.persist !== false) await this.persist();
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
  }

  stats(): DispatcherStats {
    return { groups: this.#groups.size, pending: Object.fromEntries([...this.#workers].map(([k, w]) => [k, w.pending])) };
  }

  #toNotificationAlert(ga: GroupAlert, now: number): NotificationAlert {
    const a = ga.alert;
    const ends = Date.parse(a.endsAt);
    const resolved = Number.isFinite(ends) && ends <= now;
    return {
      status: resolved ? 'resolved' : 'firing',
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: goTime(a.startsAt),
      // as Alertmanager (types.Alerts): an end not reached yet is not shown, the zero time instead
      endsAt: resolved ? goTime(a.endsAt) : GO_ZERO_TIME,
      generatorURL: a.generatorURL,
      fingerprint: ga.fingerprint,
    };
  }

  /** Alertmanager's DedupStage.needsUpdate. */
  #needsUpdate(entry: NotifyLog | undefined, firing: ReadonlySet<string>, resolved: ReadonlySet<string>, sendResolved: boolean, repeatMs: number, now: number): boolean {
    if (entry === undefined) return firing.size > 0;
    if (!subset(firing, entry.firing)) return true;
    // All resolved: notify (even without send_resolved, so the log forgets the firing alerts) if the receiver knew of firing ones.
    if (firing.size === 0) return entry.firing.size > 0;
    if (sendResolved && !subset(resolved, entry.resolved)) return true;
    return entry.at <= now - repeatMs;
  }

  #notification(group: Group, alerts: NotificationAlert[]): Notification {
    const sorted = [...alerts].sort((a, b) => (a.startsAt < b.startsAt ? -1 : a.startsAt > b.startsAt ? 1 : a.fingerprint < b.fingerprint ? -1 : 1));
    return {
      receiver: group.route.receiver,
      status: sorted.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      groupKey: group.key,
      groupLabels: { ...group.labels },
      commonLabels: common(sorted.map((a) => a.labels)),
      commonAnnotations: common(sorted.map((a) => a.annotations)),
      externalURL: this.#externalURL,
      alerts: sorted,
    };
  }
}
