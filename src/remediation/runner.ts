import { ACK_ACTION, ackRecord, dueSteps, escalationPolicy, escalationRecord, noteEscalation, type EscalationPolicy, type EscalationState } from './escalation.js';
import { randomUUID } from 'node:crypto';
import { matchesAll, parseMatcherList, type LabelMatcher } from '../alerting/notifiers/matchers.js';
import { unfenced } from '../cluster/fenced-store.js';
import type { Tracing } from '../core/tracing.js';
import { realSleep } from '../alerting/notifiers/sender.js';
import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { errorMessage, isVigilError, VigilError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SourceError } from '../ingest/sources/http.js';
import type { ActionRecord, ActionStatus, IncidentRecord, Store } from '../store/store.js';
import type { ActionContext, RemediationAction } from './action.js';
import { createActions } from './actions/index.js';
import { CircuitBreakers, type CircuitWebhook } from './circuit.js';
import type { ActionConfig, RemediationConfig } from './config.js';
import { KnownGoodHistory } from './known-good.js';

/**
 * The remediation runner. Once per evaluation cycle (`step(now)`, after the rules), it reads the
 * firing alerts, opens an incident for each one a route matches (one open incident per alert
 * fingerprint, persisted, so a restart continues it), and decides each routed action through the
 * guardrails, in this order: the alert has the needed `model` label; no silence or maintenance
 * window matches; remediation is not paused; no rollback loop on the model; the action's cooldown
 * for the model has passed; the action's run budget (`max_runs` per `max_runs_window`) is not
 * spent; no other action runs for the model (it waits, unrecorded); then dry-run, approval, or
 * execution. Every decision is an audit record (skips are recorded once per reason and re-checked
 * every cycle while the alert fires); an execution is one record keyed by its idempotency key
 * (`<incident>/<action>`), which the store keeps unique — an action never executes twice for one
 * incident. Executions run in the background with a timeout and retries; a restart resumes an
 * idempotent action that was running and records any other as `interrupted`, never repeating it.
 * When an incident's alert resolves, the incident closes (MTTR observed when an action ran). A
 * circuit breaker goes half-open once no open incident holds it (their alerts resolved, or a
 * verified rollback replaced the version they are about) and it has been open for `min_open`.
 */

export interface FiringAlert {
  readonly fingerprint: string;
  /** The alert's labels (alertname included) plus the external labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly firedAt: number;
}

/** What holds a serving slot (alias or `Production`) of a Vigil model, from the mlflow sources. */
export interface ServingVersion {
  readonly model: string;
  readonly slot: string;
  readonly version: string;
}

export interface RemediationMetrics {
  action(model: string, action: string, outcome: ActionStatus): void;
  lastFailure(model: string, action: string, tsSeconds: number): void;
  rollbackLoop(model: string, value: 0 | 1): void;
  incidentResolved(model: string, seconds: number): void;
  paused(value: 0 | 1): void;
  circuitState(model: string, value: number): void;
}

export interface RemediatorDeps {
  store: Store;
  logger: Logger;
  /** A span per action execution (with its attempts); none when absent. */
  tracing?: Tracing;
  clock: Clock;
  config: () => VigilConfig;
  metrics: RemediationMetrics;
  firing: () => FiringAlert[];
  silencedBy: (labels: Readonly<Record<string, string>>, now: number) => string[];
  serving: () => ServingVersion[];
  /** feature view → seconds since its last update (feast source). */
  freshness: () => ReadonlyMap<string, number>;
  /** Sends a firing alert to a receiver now (an escalation step), through the notification outbox. */
  escalate?: (receiver: string, alert: FiringAlert, groupKey: string, now: number) => Promise<void>;
}

/** Statuses of an execution record (it holds the idempotency key). */
const EXECUTED: ReadonlySet<ActionStatus> = new Set(['running', 'succeeded', 'failed', 'refused', 'interrupted']);
const FAILURES: ReadonlySet<ActionStatus> = new Set(['failed', 'refused', 'interrupted']);
const PAUSE_KEY = 'remediation.paused';
const LOOP_RESET_KEY = 'remediation.loop_reset';
const HISTORY_KEY = 'remediation.known_good';
/** Actions that only change Vigil's own state: they do not take the per-model lock. */
const LOCAL_TYPES: ReadonlySet<string> = new Set(['circuit_breaker']);

interface OpenIncident {
  rec: IncidentRecord;
  /** Actions with an execution record (final for this incident). */
  executed: Set<string>;
  /** The last skip reason recorded per action (a skip is recorded once per reason). */
  lastSkip: Map<string, string>;
  /** Its circuit_breaker action opened (or kept open) the model's breaker. */
  holdsCircuit: boolean;
  /** Any execution ran (for MTTR). */
  acted: boolean;
  /** Acknowledgement and escalation steps (escalation.ts). */
  escalation: EscalationState;
}

export interface RuntimePause {
  by: string;
  reason: string;
  at: number;
}

export interface RemediationStatus {
  paused: boolean;
  paused_by_config: boolean;
  pause: RuntimePause | null;
  dry_run: boolean;
  running: string[];
  open_incidents: number;
  rollback_loops: string[];
}

interface ResolvedRoute {
  matchers: LabelMatcher[];
  actions: readonly string[];
  continue: boolean;
}

export class Remediator {
  readonly circuits: CircuitBreakers;
  readonly history: KnownGoodHistory;
  private readonly log: Logger;
  private readonly incidents = new Map<string, OpenIncident>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly lockedModels = new Set<string>();
  private readonly aborts = new Set<AbortController>();
  private actions = new Map<string, RemediationAction>();
  private routes: ResolvedRoute[] = [];
  private builtFor: RemediationConfig | null = null;
  private pause: RuntimePause | null = null;
  private loopReset: Record<string, number> = {};
  private loops = new Set<string>();
  /** model → why its breaker was released (for the half-open reason). */
  private readonly released = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private kicked = false;
  private stopping = false;

  constructor(private readonly deps: RemediatorDeps) {
    this.log = deps.logger.child({ component: 'remediation' });
    this.circuits = new CircuitBreakers({
      store: deps.store,
      logger: deps.logger,
      exportState: (m, v) => deps.metrics.circuitState(m, v),
      probePeriod: () => deps.config().remediation.circuit_breaker.probe_period,
      webhook: (): CircuitWebhook | undefined => {
        const w = deps.config().remediation.circuit_breaker.webhook;
        return w && { url: w.url, headers: w.headers, auth: w, timeout: w.timeout };
      },
    });
    this.history = new KnownGoodHistory({ load: () => deps.store.getState(HISTORY_KEY), save: (json, now) => deps.store.setState(HISTORY_KEY, json, now) });
  }

  private get cfg(): RemediationConfig {
    return this.deps.config().remediation;
  }

  private models(): string[] {
    return this.deps.config().models.map((m) => m.name);
  }

  /**
   * Loads persisted state (incidents, circuits, pause, history); with `resume` (the default), also
   * resumes (idempotent) or closes (others) the executions a stop interrupted. A replica that does
   * not lead loads without resuming; it resumes when it becomes the leader (a failover: the same as
   * a restart of the one process).
   */
  async start(options: { resume?: boolean } = {}): Promise<void> {
    const { store } = this.deps;
    this.rebuild();
    await this.history.load();
    this.pause = parseJson<RuntimePause>(await store.getState(PAUSE_KEY));
    this.loopReset = parseJson<Record<string, number>>(await store.getState(LOOP_RESET_KEY)) ?? {};
    await this.circuits.load(this.models());
    for (const rec of await store.listIncidents({ status: 'open' })) {
      const inc: OpenIncident = { rec, executed: new Set(), lastSkip: new Map(), holdsCircuit: false, acted: false, escalation: { acked: undefined, escalated: new Set() } };
      for (const a of (await store.listActions({ incidentId: rec.id })).reverse()) this.note(inc, a);
      this.incidents.set(rec.fingerprint, inc);
    }
    const now = this.deps.clock.now();
    const interrupted = options.resume === false ? [] : await store.listActions({ status: 'running' });
    for (const rec of interrupted) {
      const inc = this.incidentById(rec.incidentId);
      const action = this.actions.get(rec.action);
      if (inc !== undefined && action !== undefined && action.idempotent) {
        this.log.warn({ id: rec.id, action: rec.action, model: rec.model }, 'resuming a remediation action interrupted by a stop (it is idempotent)');
        this.launch(rec, inc, action, true);
      } else {
        await this.finish(rec, 'interrupted', now, {
          reason: 'Vigil stopped during the action',
          error: `Vigil stopped while this ${rec.type} action ran; it is not repeated (idempotency key ${rec.idempotencyKey ?? '-'}) — check its target`,
        });
      }
    }
    this.deps.metrics.paused(this.isPaused() ? 1 : 0);
    for (const m of this.models()) this.deps.metrics.rollbackLoop(m, 0);
  }

  /**
   * Re-reads what any replica may have changed in the shared store: the circuits (an admin's PUT
   * on another replica, the leader's breaker), the pause and the rollback loops cleared — so every
   * replica answers the serving apps' circuit reads and exports the same state, and the leader acts
   * on an operator's change made through another replica. Each cycle, on a shared store.
   */
  async refresh(): Promise<void> {
    this.pause = parseJson<RuntimePause>(await this.deps.store.getState(PAUSE_KEY));
    this.loopReset = parseJson<Record<string, number>>(await this.deps.store.getState(LOOP_RESET_KEY)) ?? {};
    await this.circuits.load(this.models());
    this.deps.metrics.paused(this.isPaused() ? 1 : 0);
  }

  /** Applies a reloaded configuration (actions, routes, exported series). */
  reloaded(): void {
    this.rebuild();
    this.circuits.exportAll(this.models());
    this.deps.metrics.paused(this.isPaused() ? 1 : 0);
  }

  private rebuild(): void {
    const cfg = this.cfg;
    if (this.builtFor === cfg) return;
    this.actions = createActions(cfg.actions, { circuits: this.circuits, knownGood: this.history, freshness: this.deps.freshness });
    this.routes = cfg.routes.map((r) => ({ matchers: parseMatcherList(r.matchers), actions: r.actions, continue: r.continue }));
    this.builtFor = cfg;
  }

  /** One remediation pass (serialized: a pass never overlaps another). */
  step(now: number): Promise<void> {
    const p = this.chain.then(() => this.doStep(now));
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Re-runs a pass soon (after an action finished, an approval, a resume). */
  private kick(): void {
    if (this.kicked || this.stopping) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.step(this.deps.clock.now()).catch((e: unknown) => this.log.error({ err: errorMessage(e) }, 'remediation pass failed'));
    });
  }

  private routedActions(labels: Readonly<Record<string, string>>): string[] {
    const out: string[] = [];
    for (const r of this.routes) {
      if (!matchesAll(r.matchers, labels)) continue;
      for (const a of r.actions) if (!out.includes(a)) out.push(a);
      if (!r.continue) break;
    }
    return out;
  }

  private async doStep(now: number): Promise<void> {
    if (this.stopping) return;
    this.rebuild();
    const firing = this.deps.firing();
    const firingNow = new Set(firing.map((a) => a.fingerprint));
    for (const inc of [...this.incidents.values()]) if (!firingNow.has(inc.rec.fingerprint)) await this.resolve(inc, now);
    for (const alert of firing) {
      const names = this.routedActions(alert.labels);
      const policy = escalationPolicy(this.deps.config().notifications, alert.labels);
      let inc = this.incidents.get(alert.fingerprint);
      if (names.length === 0 && policy === undefined && inc === undefined) continue;
      inc ??= await this.openIncident(alert, now);
      for (const name of names) await this.decide(inc, name, alert, now);
      if (policy !== undefined) await this.escalate(inc, policy, alert, now);
    }
    await this.settleApprovals(now);
    await this.releaseCircuits(now);
    await this.circuits.tick(now);
    await this.updateLoops(now);
    for (const s of this.deps.serving()) if (!this.hasOpenIncident(s.model)) this.history.observe(s.model, s.slot, s.version, now);
    await this.history.flush(now);
  }

  private incidentById(id: string): OpenIncident | undefined {
    for (const i of this.incidents.values()) if (i.rec.id === id) return i;
    return undefined;
  }

  private hasOpenIncident(model: string): boolean {
    for (const i of this.incidents.values()) if (i.rec.model === model) return true;
    return false;
  }

  private async openIncident(alert: FiringAlert, now: number): Promise<OpenIncident> {
    const rec: IncidentRecord = {
      id: randomUUID(),
      fingerprint: alert.fingerprint,
      alertname: alert.labels.alertname ?? '',
      model: alert.labels.model ?? '',
      labels: { ...alert.labels },
      annotations: { ...alert.annotations },
      firedAt: alert.firedAt,
      resolvedAt: null,
      status: 'open',
      createdAt: now,
    };
    await this.deps.store.saveIncident(rec);
    const inc: OpenIncident = { rec, executed: new Set(), lastSkip: new Map(), holdsCircuit: false, acted: false, escalation: { acked: undefined, escalated: new Set() } };
    this.incidents.set(rec.fingerprint, inc);
    this.log.info({ incident: rec.id, alertname: rec.alertname, model: rec.model }, 'incident opened');
    return inc;
  }

  private async resolve(inc: OpenIncident, now: number): Promise<void> {
    this.incidents.delete(inc.rec.fingerprint);
    inc.rec = { ...inc.rec, status: 'resolved', resolvedAt: now };
    await this.deps.store.saveIncident(inc.rec);
    for (const a of await this.deps.store.listActions({ incidentId: inc.rec.id, status: 'pending_approval' })) {
      await this.finish(a, 'expired', now, { reason: 'the alert resolved before an approval' });
    }
    if (inc.acted) this.deps.metrics.incidentResolved(inc.rec.model, Math.max(0, now - inc.rec.firedAt) / 1000);
    this.log.info({ incident: inc.rec.id, alertname: inc.rec.alertname, model: inc.rec.model, duration_s: Math.round((now - inc.rec.firedAt) / 1000) }, 'incident resolved');
    if (inc.holdsCircuit) this.released.set(inc.rec.model, `${inc.rec.alertname} resolved`);
  }

  /**
   * An open breaker (not forced by an admin) that no open incident holds any more — its alerts
   * resolved, or a verified rollback replaced the version they are about — goes half-open once it
   * has been open for `min_open`.
   */
  private async releaseCircuits(now: number): Promise<void> {
    const minOpen = this.cfg.circuit_breaker.min_open;
    for (const c of this.circuits.list()) {
      if (c.state !== 'open' || c.manual || now - c.since < minOpen) continue;
      if ([...this.incidents.values()].some((i) => i.rec.model === c.model && i.holdsCircuit)) continue;
      await this.circuits.probe(c.model, this.released.get(c.model) ?? 'no open incident holds it', now);
      this.released.delete(c.model);
    }
  }

  /** Why the action may not run now ('busy': wait, unrecorded), or null. */
  private async guard(inc: OpenIncident, name: string, a: ActionConfig, action: RemediationAction, alert: FiringAlert, now: number): Promise<string | null> {
    const model = inc.rec.model;
    if (action.needsModel && model === '') return 'no_model_label';
    const silences = this.deps.silencedBy(alert.labels, now);
    if (silences.length > 0) return `silenced (${silences.join(', ')})`;
    if (this.isPaused()) return 'paused';
    // A rollback loop stops automation on the model; the breaker (the safe direction) still opens.
    if (this.loops.has(model) && a.type !== 'circuit_breaker') return 'loop_detected';
    if (a.cooldown > 0) {
      const recent = await this.deps.store.listActions({ model, action: name, since: now - a.cooldown, limit: 100 });
      if (recent.some((r) => EXECUTED.has(r.status) && r.incidentId !== inc.rec.id)) return 'cooldown';
    }
    const window = await this.deps.store.listActions({ action: name, since: now - a.max_runs_window });
    if (window.filter((r) => EXECUTED.has(r.status)).length >= a.max_runs) return 'rate_limited';
    if (!LOCAL_TYPES.has(a.type) && this.lockedModels.has(model)) return 'busy';
    return null;
  }

  private async decide(inc: OpenIncident, name: string, alert: FiringAlert, now: number): Promise<void> {
    if (inc.executed.has(name)) return;
    const a = this.cfg.actions[name];
    const action = this.actions.get(name);
    if (a === undefined || action === undefined) return;
    const model = inc.rec.model;
    const why = await this.guard(inc, name, a, action, alert, now);
    if (why === 'busy') return;
    const base = this.newRecord(inc, name, a, now);
    if (why !== null) {
      if (inc.lastSkip.get(name) === why) return;
      inc.lastSkip.set(name, why);
      const rec: ActionRecord = { ...base, idempotencyKey: null, status: 'skipped', reason: why, endedAt: now };
      await this.deps.store.saveAction(rec);
      this.deps.metrics.action(model, name, 'skipped');
      this.log.info({ incident: inc.rec.id, action: name, model, reason: why }, 'remediation action skipped');
      return;
    }
    const planned = action.describe({ model, alert: this.trigger(inc) });
    if (this.cfg.dry_run || a.dry_run) {
      inc.executed.add(name);
      await this.deps.store.saveAction({ ...base, status: 'dry_run', reason: 'dry run: decided, nothing called', details: planned, endedAt: now });
      this.deps.metrics.action(model, name, 'dry_run');
      this.log.info({ incident: inc.rec.id, action: name, model, plan: planned }, 'remediation action decided (dry run)');
      return;
    }
    if (a.require_approval) {
      inc.executed.add(name);
      await this.deps.store.saveAction({ ...base, status: 'pending_approval', reason: 'waiting for approval', details: planned, expiresAt: now + a.approval_timeout });
      this.log.warn({ incident: inc.rec.id, action: name, model, id: base.id, expires_at: new Date(now + a.approval_timeout).toISOString() }, 'remediation action awaits approval');
      return;
    }
    await this.start1(base, inc, action, now);
  }

  private newRecord(inc: OpenIncident, name: string, a: ActionConfig, now: number): ActionRecord {
    return {
      id: randomUUID(),
      incidentId: inc.rec.id,
      idempotencyKey: `${inc.rec.id}/${name}`,
      model: inc.rec.model,
      action: name,
      type: a.type,
      status: 'running',
      reason: '',
      createdAt: now,
      startedAt: null,
      endedAt: null,
      expiresAt: null,
      attempts: 0,
      error: null,
      details: {},
      plan: {},
      decidedBy: null,
      updatedAt: now,
    };
  }

  /** Persists the execution record (the idempotency key is taken here), then runs it in the background. */
  private async start1(rec: ActionRecord, inc: OpenIncident, action: RemediationAction, now: number): Promise<void> {
    const running: ActionRecord = { ...rec, status: 'running', reason: 'running', startedAt: now, updatedAt: now };
    try {
      await this.deps.store.saveAction(running);
    } catch (e) {
      if (isVigilError(e) && e.code === 'VIGIL_ERR_STORE_CONFLICT') {
        inc.executed.add(rec.action); // already executed for this incident: never twice
        return;
      }
      throw e;
    }
    inc.executed.add(rec.action);
    this.log.info({ incident: inc.rec.id, action: rec.action, type: rec.type, model: rec.model, id: rec.id }, 'remediation action started');
    this.launch(running, inc, action, false);
  }

  private launch(rec: ActionRecord, inc: OpenIncident, action: RemediationAction, resumed: boolean): void {
    const local = LOCAL_TYPES.has(rec.type);
    if (!local) this.lockedModels.add(rec.model);
    inc.acted = true;
    const tracing = this.deps.tracing;
    const run = (): Promise<void> =>
      tracing?.enabled === true
        ? tracing.span(`remediation ${rec.type}`, { attributes: { 'vigil.action': rec.action, 'vigil.model': rec.model, 'vigil.incident': rec.incidentId, 'vigil.resumed': resumed } }, async (span) => {
            await this.execute(rec, inc, action, resumed);
            span.setAttributes({ 'vigil.outcome': rec.status, 'vigil.attempts': rec.attempts });
          })
        : this.execute(rec, inc, action, resumed);
    const p = run()
      .catch((e: unknown) => {
        const fields = { id: rec.id, action: rec.action, model: rec.model, status: rec.status, code: isVigilError(e) ? e.code : undefined, err: errorMessage(e) };
        // a replica paused past its lease: the leader that took over decides what the action did
        if (isVigilError(e) && e.code === 'VIGIL_ERR_STORE_FENCED') this.log.warn(fields, "remediation action outcome not recorded: this replica no longer leads (the new leader's record stands)");
        else this.log.error(fields, 'remediation action bookkeeping failed');
      })
      .finally(() => {
        this.running.delete(rec.id);
        if (!local) this.lockedModels.delete(rec.model);
        this.kick();
      });
    this.running.set(rec.id, p);
  }

  private trigger(inc: OpenIncident) {
    return { alertname: inc.rec.alertname, labels: inc.rec.labels, annotations: inc.rec.annotations, fingerprint: inc.rec.fingerprint, firedAt: inc.rec.firedAt };
  }

  private async execute(rec: ActionRecord, inc: OpenIncident, action: RemediationAction, resumed: boolean): Promise<void> {
    const a = this.cfg.actions[rec.action];
    const timeoutMs = a?.timeout ?? 60_000;
    const retries = a?.retries ?? 0;
    const backoff = a?.retry_backoff ?? 1000;
    const stop = new AbortController();
    this.aborts.add(stop);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([stop.signal, timeout]);
    const log = this.log.child({ action: rec.action, type: rec.type, model: rec.model, incident: rec.incidentId, id: rec.id });
    const ctx: ActionContext = {
      model: rec.model,
      alert: this.trigger(inc),
      incidentId: rec.incidentId,
      idempotencyKey: rec.idempotencyKey ?? `${rec.incidentId}/${rec.action}`,
      action: rec.action,
      signal,
      now: () => this.deps.clock.now(),
      get plan() {
        return rec.plan;
      },
      savePlan: async (plan) => {
        rec.plan = { ...rec.plan, ...plan };
        rec.updatedAt = this.deps.clock.now();
        await this.deps.store.saveAction(rec);
      },
      sleep: (ms) => realSleep(ms, signal),
      logger: log,
    };
    if (resumed) rec.details = { ...rec.details, resumed: true };
    try {
      for (let attempt = 0; ; attempt++) {
        rec.attempts += 1;
        try {
          const r = await action.execute(ctx);
          if (r.outcome === 'succeeded' && rec.type === 'circuit_breaker') inc.holdsCircuit = true;
          await this.finish(rec, r.outcome, this.deps.clock.now(), { reason: r.message, details: { ...rec.details, ...r.details } });
          return;
        } catch (e) {
          // the record of the outcome was refused: this replica no longer leads (not a failure of the action)
          if (isVigilError(e) && e.code === 'VIGIL_ERR_STORE_FENCED') throw e;
          // Vigil is stopping: an idempotent action stays `running` and is resumed at the next start.
          const stopped = async (): Promise<void> => {
            if (action.idempotent) return;
            await this.finish(rec, 'interrupted', this.deps.clock.now(), { reason: 'Vigil stopped during the action', error: `stopped while running; not repeated: ${errorMessage(e)}` });
          };
          if (stop.signal.aborted) return await stopped();
          const timedOut = timeout.aborted;
          const retryable = e instanceof SourceError && e.retryable;
          if (retryable && !timedOut && attempt < retries) {
            const delay = Math.min(Math.max((e as SourceError).retryAfterMs ?? 0, backoff * 2 ** attempt), 60_000);
            log.warn({ attempt: attempt + 1, retry_in_ms: delay, err: errorMessage(e) }, 'remediation action failed; retrying');
            try {
              await ctx.sleep(delay);
              continue;
            } catch {
              /* timed out or stopping while waiting: fall through to the failure below */
            }
            if (stop.signal.aborted) return await stopped();
          }
          const message = timedOut || timeout.aborted ? `timed out after ${timeoutMs} ms (${errorMessage(e)})` : errorMessage(e);
          const code = isVigilError(e) ? e.code : 'VIGIL_ERR_REMEDIATION_FAILED';
          await this.finish(rec, 'failed', this.deps.clock.now(), { reason: message, error: `${code}: ${message}` });
          return;
        }
      }
    } finally {
      this.aborts.delete(stop);
    }
  }

  /** Ends a record with its outcome: persisted, counted, logged; failures stamp the failure gauge. */
  private async finish(
    rec: ActionRecord,
    status: ActionStatus,
    now: number,
    extra: { reason: string; error?: string; details?: Record<string, unknown>; by?: string; operator?: boolean },
  ): Promise<void> {
    Object.assign(rec, { status, reason: extra.reason, endedAt: now, updatedAt: now });
    if (extra.error !== undefined) rec.error = extra.error;
    if (extra.details !== undefined) rec.details = extra.details;
    if (extra.by !== undefined) rec.decidedBy = extra.by;
    await (extra.operator === true ? unfenced(this.deps.store) : this.deps.store).saveAction(rec);
    this.deps.metrics.action(rec.model, rec.action, status);
    const fields = { id: rec.id, incident: rec.incidentId, action: rec.action, type: rec.type, model: rec.model, reason: rec.reason };
    if (FAILURES.has(status)) {
      this.deps.metrics.lastFailure(rec.model, rec.action, now / 1000);
      this.log.error({ ...fields, status, err: rec.error }, 'remediation action failed');
    } else this.log.info({ ...fields, status, details: rec.details }, `remediation action ${status}`);
    if (status === 'succeeded' && rec.type === 'mlflow_rollback' && typeof rec.details.from === 'string') {
      this.history.markBad(rec.model, rec.details.from);
      await this.history.flush(now);
      // The version the incident is about no longer serves: it stops holding the breaker.
      const inc = this.incidentById(rec.incidentId);
      if (inc?.holdsCircuit === true) {
        inc.holdsCircuit = false;
        this.released.set(rec.model, `rolled back from version ${rec.details.from} to ${String(rec.details.to)}`);
      }
    }
  }

  /** Expires pending approvals; starts approved ones when their model is free. */
  private async settleApprovals(now: number): Promise<void> {
    for (const rec of await this.deps.store.listActions({ status: 'pending_approval' })) {
      if (rec.decidedBy === null) {
        if (rec.expiresAt !== null && now >= rec.expiresAt) await this.finish(rec, 'expired', now, { reason: 'no approval before the timeout' });
        continue;
      }
      const inc = this.incidentById(rec.incidentId);
      const action = this.actions.get(rec.action);
      if (inc === undefined || action === undefined) {
        await this.finish(rec, 'expired', now, { reason: inc === undefined ? 'the alert resolved before the approved action ran' : 'the action is no longer configured' });
        continue;
      }
      if (this.isPaused() || (!LOCAL_TYPES.has(rec.type) && this.lockedModels.has(rec.model))) continue;
      const running: ActionRecord = { ...rec, status: 'running', startedAt: now, updatedAt: now };
      await this.deps.store.saveAction(running);
      this.log.info({ incident: inc.rec.id, action: rec.action, model: rec.model, id: rec.id, approved_by: rec.decidedBy }, 'remediation action started (approved)');
      this.launch(running, inc, action, false);
    }
  }

  private async updateLoops(now: number): Promise<void> {
    const ld = this.cfg.loop_detection;
    // One query per pass: the successful rollbacks of the window, counted per model after its reset.
    const counts = new Map<string, number>();
    for (const r of await this.deps.store.listActions({ status: 'succeeded', since: now - ld.window })) {
      if (r.type !== 'mlflow_rollback' || r.createdAt < (this.loopReset[r.model] ?? Number.NEGATIVE_INFINITY)) continue;
      counts.set(r.model, (counts.get(r.model) ?? 0) + 1);
    }
    const next = new Set<string>();
    for (const [model, n] of counts) if (n >= ld.max_rollbacks) next.add(model);
    for (const m of next) {
      if (!this.loops.has(m)) this.log.error({ model: m, max_rollbacks: ld.max_rollbacks, window_ms: ld.window }, 'rollback loop detected: remediation stops acting on the model');
    }
    for (const m of this.models()) this.deps.metrics.rollbackLoop(m, next.has(m) ? 1 : 0);
    this.loops = next;
  }

  private isPaused(): boolean {
    return this.cfg.paused || this.pause !== null;
  }

  // --- the API -----------------------------------------------------------------------------

  async approve(id: string, by: string, now: number): Promise<ActionRecord> {
    const rec = await this.pendingRecord(id, now);
    if (rec.decidedBy !== null) throw new VigilError('VIGIL_ERR_REMEDIATION_CONFLICT', `action ${id} was already approved by ${rec.decidedBy}`, { statusCode: 409 });
    if (this.isPaused()) throw new VigilError('VIGIL_ERR_REMEDIATION_PAUSED', 'remediation is paused: resume it before approving', { statusCode: 409 });
    Object.assign(rec, { decidedBy: by, reason: `approved by ${by}`, updatedAt: now });
    // an operator's decision, taken by any replica: the leader starts the action at its next pass (settleApprovals)
    await unfenced(this.deps.store).saveAction(rec);
    this.log.info({ id, action: rec.action, model: rec.model, by }, 'remediation action approved');
    this.kick();
    return rec;
  }

  async reject(id: string, by: string, now: number): Promise<ActionRecord> {
    const rec = await this.pendingRecord(id, now);
    if (rec.decidedBy !== null) throw new VigilError('VIGIL_ERR_REMEDIATION_CONFLICT', `action ${id} was already approved by ${rec.decidedBy}`, { statusCode: 409 });
    await this.finish(rec, 'rejected', now, { reason: `rejected by ${by}`, by, operator: true });
    return rec;
  }

  private async pendingRecord(id: string, now: number): Promise<ActionRecord> {
    const rec = await this.deps.store.getAction(id);
    if (rec === undefined) throw new VigilError('VIGIL_ERR_REMEDIATION_NOT_FOUND', `no action ${id}`, { statusCode: 404 });
    if (rec.status !== 'pending_approval') throw new VigilError('VIGIL_ERR_REMEDIATION_CONFLICT', `action ${id} is ${rec.status}, not pending approval`, { statusCode: 409 });
    if (rec.decidedBy === null && rec.expiresAt !== null && now >= rec.expiresAt) {
      await this.finish(rec, 'expired', now, { reason: 'no approval before the timeout', operator: true });
      throw new VigilError('VIGIL_ERR_REMEDIATION_CONFLICT', `action ${id} expired at ${new Date(rec.expiresAt).toISOString()}`, { statusCode: 409 });
    }
    return rec;
  }

  async pauseAll(by: string, reason: string, now: number): Promise<RemediationStatus> {
    this.pause = { by, reason, at: now };
    await this.deps.store.setState(PAUSE_KEY, JSON.stringify(this.pause), now);
    this.deps.metrics.paused(1);
    this.log.warn({ by, reason }, 'remediation paused');
    return this.status();
  }

  /** Resumes everything (no model), or clears one model's rollback loop (`model`). */
  async resume(by: string, now: number, model?: string): Promise<RemediationStatus> {
    if (model !== undefined) {
      this.loopReset[model] = now;
      await this.deps.store.setState(LOOP_RESET_KEY, JSON.stringify(this.loopReset), now);
      this.loops.delete(model);
      this.deps.metrics.rollbackLoop(model, 0);
      this.log.warn({ by, model }, 'rollback loop cleared: remediation acts on the model again');
    } else {
      if (this.cfg.paused) throw new VigilError('VIGIL_ERR_REMEDIATION_PAUSED', 'remediation.paused is true in the configuration: change it there and reload', { statusCode: 409 });
      this.pause = null;
      await this.deps.store.setState(PAUSE_KEY, 'null', now);
      this.deps.metrics.paused(0);
      this.log.warn({ by }, 'remediation resumed');
    }
    this.kick();
    return this.status();
  }

  status(): RemediationStatus {
    return {
      paused: this.isPaused(),
      paused_by_config: this.cfg.paused,
      pause: this.pause,
      dry_run: this.cfg.dry_run,
      running: [...this.running.keys()],
      open_incidents: this.incidents.size,
      rollback_loops: [...this.loops].sort(),
    };
  }

  /** Settles when no action runs and no pass is queued (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      await this.chain;
      if (this.running.size === 0 && !this.kicked) break;
      await Promise.all([...this.running.values()]);
      await new Promise((r) => setImmediate(r));
    }
    await this.circuits.idle();
  }

  /** Stops: running actions are aborted (idempotent ones resume at the next start). */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    for (const a of this.aborts) a.abort(new VigilError('VIGIL_ERR_REMEDIATION_STOPPED', 'Vigil is stopping'));
    await Promise.race([Promise.all([...this.running.values()]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.circuits.idle();
  }

  /**
   * Escalates an unacknowledged, unsilenced incident to the receivers of the steps that are due.
   * Each step's record is saved (running) before it is sent, so a stop in between never sends it
   * twice (the restart closes the record as interrupted).
   */
  private async escalate(inc: OpenIncident, policy: EscalationPolicy, alert: FiringAlert, now: number): Promise<void> {
    if (inc.escalation.acked !== undefined || this.deps.escalate === undefined) return;
    if (this.deps.silencedBy(alert.labels, now).length > 0) return;
    const due = dueSteps(policy, inc.escalation, inc.rec.firedAt, now);
    if (due.length > 0 && this.deps.store.shared) {
      // acknowledged through another replica (its record is in the store, not in this one's memory)?
      const ack = (await this.deps.store.listActions({ incidentId: inc.rec.id, action: ACK_ACTION })).at(-1);
      if (ack !== undefined) {
        this.note(inc, ack);
        return;
      }
    }
    for (const step of due) {
      inc.escalation.escalated.add(step);
      const rec = escalationRecord(inc.rec, policy, step, now);
      await this.deps.store.saveAction(rec);
      const receiver = rec.details.receiver as string;
      try {
        await this.deps.escalate(receiver, alert, `{}/escalation:{incident="${inc.rec.id}",step="${step}"}`, now);
        await this.deps.store.saveAction({ ...rec, status: 'succeeded', endedAt: now, updatedAt: now });
        this.log.warn({ incident: inc.rec.id, alertname: inc.rec.alertname, model: inc.rec.model, receiver, step }, 'incident not acknowledged: escalated');
      } catch (e) {
        await this.deps.store.saveAction({ ...rec, status: 'failed', endedAt: now, updatedAt: now, error: errorMessage(e) });
        this.log.error({ incident: inc.rec.id, receiver, step, err: errorMessage(e) }, 'escalation failed');
      }
    }
  }

  /** `POST /v1/incidents/:id/ack`: stops the incident's escalation. Acknowledging twice returns the first. */
  async ack(id: string, by: string, comment: string, now: number): Promise<ActionRecord> {
    const store = this.deps.store;
    const inc = this.incidentById(id);
    // on a shared store the incident may be the leader's, opened after this replica loaded its own
    const stored = inc === undefined ? await store.getIncident(id) : inc.rec;
    if (stored === undefined) throw new VigilError('VIGIL_ERR_REMEDIATION_NOT_FOUND', `no incident ${id}`, { statusCode: 404 });
    if (inc === undefined && !(store.shared && stored.status === 'open')) {
      throw new VigilError('VIGIL_ERR_REMEDIATION_CONFLICT', `incident ${id} is resolved: nothing to acknowledge`, { statusCode: 409 });
    }
    if (inc?.escalation.acked !== undefined || store.shared) {
      const first = (await store.listActions({ incidentId: id, action: ACK_ACTION })).at(-1);
      if (first !== undefined) return first;
    }
    const rec = ackRecord(stored, by, comment, now);
    if (inc !== undefined) inc.escalation.acked = { by, at: now };
    // an operator's write, taken by any replica; the leader reads it before it escalates (escalate)
    await unfenced(store).saveAction(rec);
    this.log.info({ incident: id, alertname: stored.alertname, model: stored.model, by }, 'incident acknowledged');
    return rec;
  }

  private note(inc: OpenIncident, a: ActionRecord): void {
    if (noteEscalation(inc.escalation, a)) return;
    if (a.idempotencyKey !== null) inc.executed.add(a.action);
    else inc.lastSkip.set(a.action, a.reason);
    if (EXECUTED.has(a.status)) inc.acted = true;
    if (a.type === 'circuit_breaker' && a.status === 'succeeded') inc.holdsCircuit = true;
    if (a.type === 'mlflow_rollback' && a.status === 'succeeded') inc.holdsCircuit = false;
  }
}

function parseJson<T>(text: string | undefined): T | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as T | null;
  } catch {
    return null;
  }
}
