import type { Tracing } from '../core/tracing.js';
import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { VigilMetrics } from '../metrics/registry.js';
import type { Sample } from '../metrics/snapshot.js';
import type { Store } from '../store/store.js';
import { AlertmanagerSender, Dispatcher, createNotifiers, isAlertmanagerOutboxId, type NotificationMetrics, type OutboxStore } from './notifiers/index.js';
import { AlertingService, loadConfiguredRules } from './service.js';
import { Silences } from './silences.js';
import type { AlertPayload } from './types.js';
import { formatRuleFileError, type RuleFileError } from './rules/index.js';

/**
 * The alerting subsystem as the daemon uses it: rules (service), silences and maintenance windows,
 * and delivery (Alertmanagers the Prometheus way, direct notifiers through the dispatcher with its
 * persisted outbox). Silenced firing alerts are neither sent nor remediated; resolutions always go.
 */
export class Alerting {
  readonly service: AlertingService;
  readonly silences: Silences;
  private dispatcher: Dispatcher;
  private sender: AlertmanagerSender;
  private deliveryKey: string;
  /**
   * Whether the dispatcher is this replica's to run (replicas on a shared store: the leader's); as
   * last seen, undefined before the first look. It follows leads(): see followLeadership.
   */
  private leading: boolean | undefined;
  private readonly log: Logger;
  /** The outbox, split: the direct notifiers' entries and the Alertmanager sender's (ids `am:…`). */
  private readonly outbox: OutboxStore;
  private readonly amOutbox: OutboxStore;
  private readonly notificationMetrics: NotificationMetrics;
  /** Listeners of every evaluation's alerts to send (remediation). */
  private readonly listeners: ((alerts: readonly AlertPayload[], now: number) => void | Promise<void>)[] = [];

  constructor(
    private readonly deps: {
      store: Store;
      logger: Logger;
      clock: Clock;
      config: () => VigilConfig;
      metrics: VigilMetrics;
      /** Whether this replica leads (replicas on a shared store): only the leader notifies directly. */
      leads?: () => boolean;
      /** Spans of the direct notifications' deliveries. */
      tracing?: Tracing;
    },
  ) {
    this.log = deps.logger.child({ component: 'alerting' });
    this.service = new AlertingService({
      store: deps.store,
      logger: deps.logger,
      config: deps.config,
      onRuleFailure: (group) => deps.metrics.ruleFailures.inc({ rule_group: group }),
    });
    this.silences = new Silences({ store: deps.store, clock: deps.clock, windows: () => deps.config().maintenance_windows });
    const outbox = (keep: (id: string) => boolean): OutboxStore => ({
      save: (e) => deps.store.saveOutbox(e),
      delete: (id) => deps.store.deleteOutbox(id),
      write: (save, remove) => deps.store.writeOutbox(save, remove),
      list: async () => (await deps.store.listOutbox()).filter((e) => keep(e.id)),
    });
    this.outbox = outbox((id) => !isAlertmanagerOutboxId(id));
    this.amOutbox = outbox(isAlertmanagerOutboxId);
    this.notificationMetrics = {
      notification: (receiver, outcome) => {
        deps.metrics.notifications.inc({ receiver, outcome });
        if (outcome === 'dropped') deps.metrics.notificationsDropped.inc({ receiver });
      },
    };
    ({ dispatcher: this.dispatcher, sender: this.sender } = this.delivery(deps.config()));
    this.deliveryKey = deliveryKeyOf(deps.config());
  }

  private delivery(cfg: VigilConfig): { dispatcher: Dispatcher; sender: AlertmanagerSender } {
    return { dispatcher: this.newDispatcher(cfg), sender: new AlertmanagerSender({ alertmanagers: cfg.alertmanagers, outbox: this.amOutbox, ...this.common() }) };
  }

  /** What the dispatcher and the Alertmanager sender share: metrics, logger, clock, tracing. */
  private common() {
    return { metrics: this.notificationMetrics, logger: this.deps.logger, clock: this.deps.clock, ...(this.deps.tracing === undefined ? {} : { tracing: this.deps.tracing }) };
  }

  /** The direct notifiers' dispatcher of a configuration (its groups persisted in the state table). */
  private newDispatcher(cfg: VigilConfig): Dispatcher {
    return new Dispatcher({
      config: cfg.notifications,
      notifiers: createNotifiers(cfg.notifications.receivers),
      outbox: this.outbox,
      state: {
        load: () => this.deps.store.getState(GROUPS_KEY),
        save: (json) => this.deps.store.setState(GROUPS_KEY, json, this.deps.clock.now()),
      },
      ...(cfg.server.external_url ? { externalURL: cfg.server.external_url } : {}),
      ...this.common(),
    });
  }

  /** Sends a firing alert to a receiver now (an escalation step), through the outbox. */
  async escalate(receiver: string, alert: AlertPayload & { fingerprint: string }, groupKey: string, now: number): Promise<void> {
    await this.dispatcher.escalate(receiver, alert, groupKey, now);
  }

  onAlerts(listener: (alerts: readonly AlertPayload[], now: number) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  /** Start-up: rules (a bad rule file fails the start), silences, persisted state, the outbox. */
  async start(configFile: string): Promise<void> {
    const { groups, errors } = await loadConfiguredRules(this.deps.config(), configFile);
    if (errors.length > 0) throw new RuleFilesError(errors);
    await this.silences.load();
    await this.service.start(groups, this.deps.clock.now());
    if (this.deps.leads === undefined) this.leading = true;
    await this.restoreOutbox();
  }

  /**
   * Replicas on a shared store: the direct notifications (the dispatcher's groups, what they last
   * notified, its outbox) are the leader's. A replica that becomes leader starts a dispatcher from
   * what the last leader persisted — its groups and notify log, so a still-firing alert is not
   * notified again as new, and its undelivered notifications, which it delivers; one that stops
   * leading stops its own without persisting it (the new leader's state is left alone), and a
   * follower never flushes. Before the next evaluation and flush.
   */
  private async followLeadership(): Promise<void> {
    if (this.deps.leads === undefined) return;
    const leads = this.deps.leads();
    if (leads === this.leading) return;
    const first = this.leading === undefined;
    this.leading = leads;
    if (first && !leads) return; // a follower from the start: its dispatcher holds nothing
    const old = this.dispatcher;
    this.dispatcher = this.newDispatcher(this.deps.config());
    await old.stop({ persist: false });
    if (leads) {
      const groups = await this.dispatcher.restoreGroups();
      const notifications = await this.dispatcher.restore();
      this.log.info({ groups, notifications }, 'leading: the direct notifications taken over from the store');
    } else this.log.info('no longer leading: the direct notifications are left to the leader');
  }

  /** Reload: rules (kept on error), delivery (rebuilt when its configuration changed). */
  async reload(next: VigilConfig, configFile: string): Promise<RuleFileError[]> {
    const { groups, errors } = await loadConfiguredRules(next, configFile);
    if (errors.length > 0) return errors;
    this.service.apply(groups);
    const key = deliveryKeyOf(next);
    if (key !== this.deliveryKey) {
      const old = { dispatcher: this.dispatcher, sender: this.sender };
      ({ dispatcher: this.dispatcher, sender: this.sender } = this.delivery(next));
      this.deliveryKey = key;
      await Promise.all([old.dispatcher.stop({ persist: this.leading === true }), old.sender.stop()]);
      await this.restoreOutbox();
    }
    return [];
  }

  /** Evaluates the rules over the cycle's samples, delivers, and returns the ALERTS series and the recorded ones. */
  async evaluate(samples: readonly Sample[], now: number): Promise<{ alerts: Sample[]; recorded: Sample[] }> {
    await this.followLeadership();
    const unsilenced = (toSend: readonly AlertPayload[]) => toSend.filter((a) => Date.parse(a.endsAt) <= now || this.silences.silencedBy(a.labels, now).length === 0);
    // The alerts to send are persisted (the Alertmanagers' outbox, the dispatcher's groups)
    // before the rule state is, so a crash in between re-sends them rather than loses them.
    const r = await this.service.evaluate(samples, now, async (toSend) => {
      const deliver = unsilenced(toSend);
      await this.sender.send(deliver, now);
      // Alertmanager gets every replica's alerts (it deduplicates them); the direct notifiers only the leader's
      if (this.leading === true) {
        this.dispatcher.process(deliver, now);
        await this.dispatcher.persist();
      }
    });
    const deliver = unsilenced(r.toSend);
    if (deliver.length > 0) {
      for (const l of this.listeners) {
        try {
          await l(deliver, now);
        } catch (e) {
          this.log.error({ err: errorMessage(e) }, 'alert listener failed');
        }
      }
    }
    await this.flush(now);
    return { alerts: r.samples, recorded: r.recorded };
  }

  /** What the outbox holds for this process: the Alertmanager alerts; the direct notifications when it leads. */
  private async restoreOutbox(): Promise<void> {
    const mine = this.leading === true;
    const groups = mine ? await this.dispatcher.restoreGroups() : 0;
    const notifications = mine ? await this.dispatcher.restore() : 0;
    const alerts = await this.sender.restore();
    if (notifications + alerts + groups > 0) this.log.info({ notifications, alerts, groups }, 'pending notifications restored from the outbox');
  }

  /** Sends the notifications that are due (group_wait / group_interval / repeat_interval). */
  async flush(now: number): Promise<void> {
    await this.followLeadership();
    if (this.leading === true) await this.dispatcher.flush(now);
  }

  async stop(): Promise<void> {
    await Promise.all([this.dispatcher.stop({ persist: this.leading === true }), this.sender.stop()]);
  }
}

/** The dispatcher's groups in the store's state table. */
const GROUPS_KEY = 'notifications.groups';

const deliveryKeyOf = (c: VigilConfig): string => JSON.stringify([c.notifications, c.alertmanagers, c.server.external_url ?? null]);

export class RuleFilesError extends Error {
  constructor(readonly errors: RuleFileError[]) {
    super(`invalid rule files:\n${errors.map(formatRuleFileError).join('\n')}`);
  }
}
