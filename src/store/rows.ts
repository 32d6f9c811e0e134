/**
 * Incident and action rows as both backends store them (the same columns, JSON as text): the
 * records they make, and a record's values in the column order of both backends' statements.
 */
import type { ActionRecord, IncidentRecord } from './store.js';

export interface IncidentRow {
  id: string;
  fingerprint: string;
  alertname: string;
  model: string;
  labels: string;
  annotations: string;
  fired_at: number;
  resolved_at: number | null;
  status: 'open' | 'resolved';
  created_at: number;
}

export interface ActionRow {
  id: string;
  incident_id: string;
  idempotency_key: string | null;
  model: string;
  action: string;
  type: string;
  status: ActionRecord['status'];
  reason: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  expires_at: number | null;
  attempts: number;
  error: string | null;
  details: string;
  plan: string;
  decided_by: string | null;
  updated_at: number;
}

export const incidentOf = (r: IncidentRow): IncidentRecord => ({
  id: r.id,
  fingerprint: r.fingerprint,
  alertname: r.alertname,
  model: r.model,
  labels: JSON.parse(r.labels) as Record<string, string>,
  annotations: JSON.parse(r.annotations) as Record<string, string>,
  firedAt: r.fired_at,
  resolvedAt: r.resolved_at,
  status: r.status,
  createdAt: r.created_at,
});

export const actionOf = (r: ActionRow): ActionRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  idempotencyKey: r.idempotency_key,
  model: r.model,
  action: r.action,
  type: r.type,
  status: r.status,
  reason: r.reason,
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  expiresAt: r.expires_at,
  attempts: r.attempts,
  error: r.error,
  details: JSON.parse(r.details) as Record<string, unknown>,
  plan: JSON.parse(r.plan) as Record<string, unknown>,
  decidedBy: r.decided_by,
  updatedAt: r.updated_at,
});

/** An incident's values: id, fingerprint, alertname, model, labels, annotations, fired_at, resolved_at, status, created_at. */
export const incidentParams = (i: IncidentRecord): unknown[] => [i.id, i.fingerprint, i.alertname, i.model, JSON.stringify(i.labels), JSON.stringify(i.annotations), i.firedAt, i.resolvedAt, i.status, i.createdAt];

/**
 * An action record's values: id, incident_id, idempotency_key, model, action, type, status,
 * reason, created_at, started_at, ended_at, expires_at, attempts, error, details, plan,
 * decided_by, updated_at.
 */
export const actionParams = (a: ActionRecord): unknown[] => [
  a.id,
  a.incidentId,
  a.idempotencyKey,
  a.model,
  a.action,
  a.type,
  a.status,
  a.reason,
  a.createdAt,
  a.startedAt,
  a.endedAt,
  a.expiresAt,
  a.attempts,
  a.error,
  JSON.stringify(a.details),
  JSON.stringify(a.plan),
  a.decidedBy,
  a.updatedAt,
];
