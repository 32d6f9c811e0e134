import type { FastifyPluginAsync } from 'fastify';
import { VigilError } from '../../core/errors.js';
import { parseRfc3339 } from '../../core/rfc3339.js';
import type { Remediator } from '../../remediation/runner.js';
import type { ActionFilter, ActionRecord, ActionStatus, CircuitRecord, IncidentFilter, IncidentRecord } from '../../store/store.js';
import type { ServerDeps } from '../server.js';

/**
 * Remediation API: the audit trail (`GET /v1/incidents`, `GET /v1/actions`), approvals
 * (`POST /v1/actions/:id/approve|reject`), the kill switch (`POST /v1/remediation/pause|resume`),
 * status (`GET /v1/remediation`), and each model's circuit breaker (`GET /v1/models/:model/circuit`
 * for serving apps — cheap, with ETag — and `PUT` for the admin override). Writes need the admin
 * token.
 */

const STATUSES: readonly ActionStatus[] = ['pending_approval', 'running', 'succeeded', 'failed', 'refused', 'skipped', 'dry_run', 'rejected', 'expired', 'interrupted'];
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function badParam(name: string, message: string): VigilError {
  return new VigilError('VIGIL_ERR_HTTP_PARAMETER', `query parameter ${name}: ${message}`, { statusCode: 400, details: { field: name } });
}

/** The query string as single values: a parameter given twice is a 400, not an array reaching the store. */
function singleQuery(query: unknown): Record<string, string | undefined> {
  const q = (query ?? {}) as Record<string, string | string[] | undefined>;
  for (const [k, v] of Object.entries(q)) if (Array.isArray(v)) throw badParam(k, 'given more than once');
  return q as Record<string, string | undefined>;
}

function timeParam(q: Record<string, string | undefined>, name: string): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const ms = Number(v) * 1000;
    if (!Number.isFinite(ms)) throw badParam(name, `"${v}" is not a time (RFC 3339 or Unix seconds)`);
    return ms;
  }
  // RFC 3339, or a plain date (midnight UTC); both checked against the calendar
  const parsed = parseRfc3339(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if ('error' in parsed) throw badParam(name, parsed.error.startsWith('must') ? `"${v}" is not a time (RFC 3339 or Unix seconds)` : `"${v}" ${parsed.error}`);
  return parsed.ms;
}

function commonFilter(q: Record<string, string | undefined>): { model?: string; action?: string; since?: number; until?: number; limit: number } {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badParam('limit', 'must be an integer from 1 to 1000');
  const since = timeParam(q, 'since');
  const until = timeParam(q, 'until');
  return { limit, ...(q.model ? { model: q.model } : {}), ...(q.action ? { action: q.action } : {}), ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
}

function statusParam(q: Record<string, string | undefined>, name: string): ActionStatus | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (!STATUSES.includes(v as ActionStatus)) throw badParam(name, `must be one of ${STATUSES.join(', ')}`);
  return v as ActionStatus;
}

const actionJson = (a: ActionRecord) => ({
  id: a.id,
  incident_id: a.incidentId,
  idempotency_key: a.idempotencyKey,
  model: a.model,
  action: a.action,
  type: a.type,
  status: a.status,
  reason: a.reason,
  created_at: iso(a.createdAt),
  started_at: iso(a.startedAt),
  ended_at: iso(a.endedAt),
  expires_at: iso(a.expiresAt),
  attempts: a.attempts,
  error: a.error,
  details: a.details,
  decided_by: a.decidedBy,
});

const incidentJson = (i: IncidentRecord, actions: ActionRecord[]) => ({
  id: i.id,
  status: i.status,
  alertname: i.alertname,
  model: i.model,
  fingerprint: i.fingerprint,
  labels: i.labels,
  annotations: i.annotations,
  fired_at: iso(i.firedAt),
  resolved_at: iso(i.resolvedAt),
  duration_seconds: i.resolvedAt === null ? null : Math.round((i.resolvedAt - i.firedAt) / 1000),
  // oldest first: the order things happened
  actions: actions.map(actionJson).reverse(),
});

const circuitJson = (c: CircuitRecord) => ({
  model: c.model,
  state: c.state,
  since: c.since === 0 ? null : iso(c.since),
  reason: c.reason,
  incident_id: c.incidentId,
  probe_until: iso(c.probeUntil),
  manual: c.manual,
});

export const remediationRoutes: FastifyPluginAsync<{ deps: ServerDeps & { remediation: Remediator } }> = async (app, { deps }) => {
  const { store, remediation } = deps;
  const admin = { config: { access: 'admin' as const } };
  const byOf = (body: unknown): string => {
    const b = (body ?? {}) as { by?: unknown };
    return typeof b.by === 'string' && b.by.trim() !== '' ? b.by.trim().slice(0, 200) : 'admin';
  };

  app.get('/v1/incidents', async (req) => {
    const q = singleQuery(req.query);
    const f: IncidentFilter = { ...commonFilter(q) };
    const outcome = statusParam(q, 'outcome');
    if (outcome !== undefined) f.outcome = outcome;
    if (q.status !== undefined && q.status !== '') {
      if (q.status !== 'open' && q.status !== 'resolved') throw badParam('status', 'must be open or resolved');
      f.status = q.status;
    }
    const incidents = await store.listIncidents(f);
    // One query for the actions of the whole page, grouped by incident (newest first, as listed).
    const byIncident = new Map<string, ActionRecord[]>();
    if (incidents.length > 0) {
      for (const a of await store.listActions({ incidentIds: incidents.map((i) => i.id) })) {
        const list = byIncident.get(a.incidentId) ?? [];
        list.push(a);
        byIncident.set(a.incidentId, list);
      }
    }
    return { incidents: incidents.map((i) => incidentJson(i, byIncident.get(i.id) ?? [])) };
  });

  app.get('/v1/incidents/:id', async (req) => {
    const { id } = req.params as { id: string };
    const i = await store.getIncident(id);
    if (i === undefined) throw new VigilError('VIGIL_ERR_REMEDIATION_NOT_FOUND', `no incident ${id}`, { statusCode: 404 });
    return incidentJson(i, await store.listActions({ incidentId: id }));
  });

  // Acknowledges an open incident: its escalation (notifications.escalation) stops; recorded in its audit trail.
  app.post('/v1/incidents/:id/ack', admin, async (req) => {
    const b = (req.body ?? {}) as { comment?: unknown };
    if (b.comment !== undefined && typeof b.comment !== 'string') {
      throw new VigilError('VIGIL_ERR_HTTP_VALIDATION', 'body.comment: must be a string', { statusCode: 400, details: { field: 'comment' } });
    }
    return actionJson(await remediation.ack((req.params as { id: string }).id, byOf(req.body), (b.comment ?? '').slice(0, 500), deps.clock.now()));
  });

  app.get('/v1/actions', async (req) => {
    const q = singleQuery(req.query);
    const f: ActionFilter = { ...commonFilter(q) };
    const status = statusParam(q, 'status') ?? statusParam(q, 'outcome');
    if (status !== undefined) f.status = status;
    if (q.incident_id) f.incidentId = q.incident_id;
    return { actions: (await store.listActions(f)).map(actionJson) };
  });

  app.get('/v1/actions/:id', async (req) => {
    const { id } = req.params as { id: string };
    const a = await store.getAction(id);
    if (a === undefined) throw new VigilError('VIGIL_ERR_REMEDIATION_NOT_FOUND', `no action ${id}`, { statusCode: 404 });
    return actionJson(a);
  });

  app.post('/v1/actions/:id/approve', admin, async (req) => {
    return actionJson(await remediation.approve((req.params as { id: string }).id, byOf(req.body), deps.clock.now()));
  });

  app.post('/v1/actions/:id/reject', admin, async (req) => {
    return actionJson(await remediation.reject((req.params as { id: string }).id, byOf(req.body), deps.clock.now()));
  });

  /** Remediation's state as the three routes answer it: the pause's time in RFC 3339, as every time of the API, and every circuit. */
  const stateJson = (st: ReturnType<typeof remediation.status>) => ({
    ...st,
    pause: st.pause === null ? null : { ...st.pause, at: iso(st.pause.at) },
    circuits: remediation.circuits.list().map(circuitJson),
  });

  app.get('/v1/remediation', async () => stateJson(remediation.status()));

  app.post('/v1/remediation/pause', admin, async (req) => {
    const b = (req.body ?? {}) as { reason?: unknown };
    return stateJson(await remediation.pauseAll(byOf(req.body), typeof b.reason === 'string' ? b.reason.slice(0, 500) : '', deps.clock.now()));
  });

  app.post('/v1/remediation/resume', admin, async (req) => {
    const b = (req.body ?? {}) as { model?: unknown };
    if (b.model !== undefined && (typeof b.model !== 'string' || !deps.config().models.some((m) => m.name === b.model))) {
      throw new VigilError('VIGIL_ERR_HTTP_VALIDATION', 'body.model: not a configured model', { statusCode: 400, details: { field: 'model' } });
    }
    return stateJson(await remediation.resume(byOf(req.body), deps.clock.now(), b.model as string | undefined));
  });

  // Serving apps poll this: answered from memory, with an ETag that changes on every transition.
  app.get('/v1/models/:model/circuit', async (req, reply) => {
    const { model } = req.params as { model: string };
    deps.ingestor.model(model); // 404 for a model not in the configuration
    const c = remediation.circuits.get(model);
    const etag = `"${c.generation}-${c.state}"`;
    void reply.header('ETag', etag).header('Cache-Control', 'no-cache');
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    return circuitJson(c);
  });

  app.put('/v1/models/:model/circuit', admin, async (req) => {
    const { model } = req.params as { model: string };
    deps.ingestor.model(model); // 404 for a model not in the configuration
    const b = (req.body ?? {}) as { state?: unknown; reason?: unknown };
    if (b.state !== 'open' && b.state !== 'closed') {
      throw new VigilError('VIGIL_ERR_HTTP_VALIDATION', 'body.state: must be "open" or "closed"', { statusCode: 400, details: { field: 'state' } });
    }
    const reason = `admin ${byOf(req.body)}: ${typeof b.reason === 'string' && b.reason !== '' ? b.reason.slice(0, 500) : `forced ${b.state}`}`;
    await remediation.circuits.force(model, b.state, reason, deps.clock.now());
    return circuitJson(remediation.circuits.get(model));
  });
};
