/**
 * Tiered response (seed 001's severity matrix): a firing alert that an escalation policy
 * (`notifications.escalation`, first match wins) covers opens an incident; while nobody
 * acknowledges it (`POST /v1/incidents/:id/ack`) and no silence covers it, each step's receiver gets
 * the alert once the step's time since it fired has passed. Acknowledgements and escalations are
 * action records of the incident (its audit trail), keyed so that none is ever made twice, even
 * across a restart.
 */
import { randomUUID } from 'node:crypto';
import type { EscalationConfig, NotificationsConfig } from '../alerting/notifiers/dispatcher.js';
import { matchesAll, parseMatcherList, type LabelMatcher } from '../alerting/notifiers/matchers.js';
import { formatDuration } from '../core/duration.js';
import type { ActionRecord, IncidentRecord } from '../store/store.js';

/** Action names of the audit records (a colon: never a configured action's name). */
export const ACK_ACTION = 'vigil:ack';
export const ESCALATION_ACTION = 'vigil:escalation';

export interface EscalationPolicy {
  readonly matchers: readonly LabelMatcher[];
  readonly steps: EscalationConfig['steps'];
  readonly index: number;
}

const compiled = new WeakMap<NotificationsConfig, EscalationPolicy[]>();

/** The policy covering these labels (the first whose matchers all match), if any. */
export function escalationPolicy(cfg: NotificationsConfig, labels: Readonly<Record<string, string>>): EscalationPolicy | undefined {
  let policies = compiled.get(cfg);
  if (policies === undefined) {
    policies = cfg.escalation.map((e, index) => ({ matchers: parseMatcherList(e.matchers), steps: e.steps, index }));
    compiled.set(cfg, policies);
  }
  return policies.find((p) => matchesAll(p.matchers, labels));
}

/** An incident's acknowledgement and the steps already escalated, rebuilt from its records. */
export interface EscalationState {
  acked: { by: string; at: number } | undefined;
  escalated: Set<number>;
}

/** Folds an audit record into the state; false for a record that is not about escalation. */
export function noteEscalation(state: EscalationState, a: ActionRecord): boolean {
  if (a.action === ACK_ACTION) {
    state.acked = { by: a.decidedBy ?? 'admin', at: a.createdAt };
    return true;
  }
  if (a.action === ESCALATION_ACTION) {
    const step = a.details.step;
    if (typeof step === 'number') state.escalated.add(step);
    return true;
  }
  return false;
}

const record = (inc: IncidentRecord, now: number, over: Partial<ActionRecord> & Pick<ActionRecord, 'action' | 'type' | 'status' | 'reason' | 'idempotencyKey'>): ActionRecord => ({
  id: randomUUID(),
  incidentId: inc.id,
  model: inc.model,
  createdAt: now,
  startedAt: now,
  endedAt: now,
  expiresAt: null,
  attempts: 1,
  error: null,
  details: {},
  plan: {},
  decidedBy: null,
  updatedAt: now,
  ...over,
});

/** The acknowledgement record. */
export function ackRecord(inc: IncidentRecord, by: string, comment: string, now: number): ActionRecord {
  return record(inc, now, {
    action: ACK_ACTION,
    type: 'ack',
    status: 'succeeded',
    idempotencyKey: `${inc.id}/${ACK_ACTION}`,
    reason: comment === '' ? `acknowledged by ${by}` : `acknowledged by ${by}: ${comment}`,
    decidedBy: by,
    details: { by, comment },
  });
}

/** The steps due now (in order) that are not escalated yet. */
export function dueSteps(policy: EscalationPolicy, state: EscalationState, firedAt: number, now: number): number[] {
  const out: number[] = [];
  policy.steps.forEach((s, i) => {
    if (!state.escalated.has(i) && now - firedAt >= s.after) out.push(i);
  });
  return out;
}

/** The record of one escalation step, before it is sent (status running). */
export function escalationRecord(inc: IncidentRecord, policy: EscalationPolicy, step: number, now: number): ActionRecord {
  const s = policy.steps[step] as EscalationConfig['steps'][number];
  return record(inc, now, {
    action: ESCALATION_ACTION,
    type: 'escalation',
    status: 'running',
    idempotencyKey: `${inc.id}/${ESCALATION_ACTION}/${step}`,
    reason: `not acknowledged ${formatDuration(s.after)} after firing: escalated to ${s.receiver}`,
    endedAt: null,
    details: { step, receiver: s.receiver, after: formatDuration(s.after), policy: policy.index },
  });
}
