import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { httpRequest, type HttpAuth } from '../ingest/sources/http.js';
import { unfenced } from '../cluster/fenced-store.js';
import type { CircuitRecord, Store } from '../store/store.js';
import type { ActionContext, ActionResult, RemediationAction } from './action.js';

/**
 * Per-model circuit breakers: `closed` (serve the model), `open` (serve the deterministic
 * fallback), `half_open` (probe: serve the model again while Vigil watches). The `circuit_breaker`
 * action opens a model's breaker when a routed alert fires; when the last incident that holds it
 * open resolves, it goes half-open for `probe_period`, then closes unless a routed alert fired
 * again (that re-opens it). An admin can force it open (sticky: automation leaves it alone) or
 * closed. State is persisted; every change bumps `generation` (the ETag of the circuit endpoint)
 * and is logged, exported (`ml_circuit_breaker_state`: 0 closed, 1 open, 2 half-open) and,
 * optionally, POSTed to a webhook.
 */

export type CircuitState = CircuitRecord['state'];
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, open: 1, half_open: 2 };

export interface CircuitTransition {
  model: string;
  from: CircuitState;
  to: CircuitState;
  reason: string;
  incidentId: string | null;
  manual: boolean;
  at: number;
}

export interface CircuitWebhook {
  url: string;
  headers: Record<string, string>;
  auth: HttpAuth;
  timeout: number;
}

export interface CircuitBreakersDeps {
  store: Store;
  logger: Logger;
  /** ml_circuit_breaker_state */
  exportState(model: string, value: number): void;
  webhook(): CircuitWebhook | undefined;
  probePeriod(): number;
}

const closedRecord = (model: string): CircuitRecord => ({ model, state: 'closed', since: 0, reason: '', incidentId: null, probeUntil: null, manual: false, generation: 0 });

export class CircuitBreakers {
  private readonly byModel = new Map<string, CircuitRecord>();
  private readonly log: Logger;
  /** Webhook deliveries in flight (awaited by `idle()`). */
  private readonly deliveries = new Set<Promise<void>>();

  constructor(private readonly deps: CircuitBreakersDeps) {
    this.log = deps.logger.child({ component: 'circuit-breaker' });
  }

  async load(models: readonly string[]): Promise<void> {
    for (const c of await this.deps.store.listCircuits()) this.byModel.set(c.model, c);
    this.exportAll(models);
  }

  /** Exports every configured model's state (closed when it never changed); forgets removed models' series. */
  exportAll(models: readonly string[]): void {
    for (const m of models) this.deps.exportState(m, CIRCUIT_STATE_VALUE[this.get(m).state]);
  }

  get(model: string): CircuitRecord {
    return this.byModel.get(model) ?? closedRecord(model);
  }

  list(): CircuitRecord[] {
    return [...this.byModel.values()];
  }

  /** Opens the breaker for an incident (no change when already open). */
  async open(model: string, reason: string, incidentId: string, now: number): Promise<CircuitTransition | null> {
    const cur = this.get(model);
    if (cur.state === 'open') return null;
    return this.set({ ...cur, state: 'open', since: now, reason, incidentId, probeUntil: null, manual: false }, now);
  }

  /** The incidents holding the breaker open resolved: half-open for the probe period. */
  async probe(model: string, reason: string, now: number): Promise<CircuitTransition | null> {
    const cur = this.get(model);
    if (cur.state !== 'open' || cur.manual) return null;
    return this.set({ ...cur, state: 'half_open', since: now, reason, probeUntil: now + this.deps.probePeriod() }, now);
  }

  /** Closes half-open breakers whose probe period passed. */
  async tick(now: number): Promise<CircuitTransition[]> {
    const out: CircuitTransition[] = [];
    for (const c of [...this.byModel.values()]) {
      if (c.state === 'half_open' && c.probeUntil !== null && now >= c.probeUntil) {
        const t = await this.set({ ...c, state: 'closed', since: now, reason: 'probe period passed without a routed alert', incidentId: null, probeUntil: null }, now);
        if (t) out.push(t);
      }
    }
    return out;
  }

  /** Admin override: `open` stays open until an admin closes it; `closed` closes now. */
  async force(model: string, state: 'open' | 'closed', reason: string, now: number): Promise<CircuitTransition | null> {
    const cur = this.get(model);
    if (cur.state === state && cur.manual === (state === 'open')) return null;
    return this.set({ ...cur, state, since: now, reason, incidentId: null, probeUntil: null, manual: state === 'open' }, now, true);
  }

  async idle(): Promise<void> {
    await Promise.all([...this.deliveries]);
  }

  private async set(next: Omit<CircuitRecord, 'generation'>, now: number, manual = false): Promise<CircuitTransition | null> {
    const cur = this.get(next.model);
    const rec: CircuitRecord = { ...next, generation: cur.generation + 1 };
    // an admin's change is taken by any replica; the automation's is the leader's (fenced)
    await (manual ? unfenced(this.deps.store) : this.deps.store).saveCircuit(rec);
    this.byModel.set(rec.model, rec);
    this.deps.exportState(rec.model, CIRCUIT_STATE_VALUE[rec.state]);
    const t: CircuitTransition = { model: rec.model, from: cur.state, to: rec.state, reason: rec.reason, incidentId: rec.incidentId, manual, at: now };
    const fields = { model: t.model, from: t.from, to: t.to, reason: t.reason, incident: t.incidentId, manual };
    if (t.to === 'open') this.log.warn(fields, 'Circuit breaker opened');
    else if (t.to === 'half_open') this.log.info(fields, 'Circuit breaker half-open');
    else this.log.info(fields, 'Circuit breaker closed');
    this.notify(t);
    return t;
  }

  /** Best effort, 3 attempts; a failing webhook never blocks or fails a transition. */
  private notify(t: CircuitTransition): void {
    const hook = this.deps.webhook();
    if (hook === undefined) return;
    const body = { model: t.model, from: t.from, to: t.to, reason: t.reason, incident_id: t.incidentId, manual: t.manual, at: new Date(t.at).toISOString() };
    const p = (async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          await httpRequest({ method: 'POST', url: hook.url, headers: hook.headers, auth: hook.auth, body, signal: AbortSignal.timeout(hook.timeout), timeoutMs: hook.timeout, what: 'circuit breaker webhook' });
          return;
        } catch (e) {
          if (attempt === 3) this.log.error({ model: t.model, to: t.to, err: errorMessage(e) }, 'circuit breaker webhook failed');
          else await new Promise((r) => setTimeout(r, 250 * attempt));
        }
      }
    })();
    this.deliveries.add(p);
    void p.finally(() => this.deliveries.delete(p));
  }
}

/** The `circuit_breaker` action: opens the model's breaker (a local state change, instant). */
export function createCircuitBreakerAction(circuits: CircuitBreakers): RemediationAction {
  return {
    type: 'circuit_breaker',
    idempotent: true,
    needsModel: true,
    describe: ({ model }) => ({ model, from: circuits.get(model).state, to: 'open' }),
    async execute(ctx: ActionContext): Promise<ActionResult> {
      const before = circuits.get(ctx.model);
      const t = await circuits.open(ctx.model, `${ctx.alert.alertname} firing`, ctx.incidentId, ctx.now());
      return {
        outcome: 'succeeded',
        message: t ? `circuit breaker of ${ctx.model} opened` : `circuit breaker of ${ctx.model} was already open`,
        details: { from: before.state, to: 'open', changed: t !== null, manual: before.manual },
      };
    },
  };
}
