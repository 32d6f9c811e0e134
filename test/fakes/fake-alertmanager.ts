import { fingerprint } from '../../src/alerting/notifiers/fingerprint.js';
import { newFakeState, startFake, type FakeServer, type FakeState } from '../../src/sim/fake-http.js';

/**
 * A fake Alertmanager API v2: `POST /api/v2/alerts` takes `[{labels, annotations?, startsAt?,
 * endsAt?, generatorURL?}]` and answers 200 with an empty body, or 400 `{code, message}` naming
 * the invalid alerts (the valid ones are kept, as Alertmanager does); `GET /api/v2/alerts` lists
 * what it holds with fingerprints; `GET /api/v2/status` a minimal status. Faults via `state.faults`.
 */

export interface StoredAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
  updatedAt: string;
}

export interface FakeAlertmanagerState extends FakeState {
  /** Current alerts by fingerprint (latest version). */
  alerts: Map<string, StoredAlert>;
  /** Every accepted POST batch, in order (the alerts as received). */
  batches: unknown[][];
}

export type FakeAlertmanager = FakeServer<FakeAlertmanagerState>;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const isRfc3339 = (v: unknown): boolean => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v));

export async function startFakeAlertmanager(port = 0, resolveTimeoutMs = 5 * 60_000): Promise<FakeAlertmanager> {
  const state: FakeAlertmanagerState = { ...newFakeState(), alerts: new Map(), batches: [] };
  return startFake(
    state,
    (req) => {
      if (req.path === '/api/v2/status' && req.method === 'GET') {
        return { status: 200, body: { cluster: { status: 'disabled', peers: [] }, versionInfo: { version: '0.27.0-fake' }, config: { original: '' }, uptime: new Date().toISOString() } };
      }
      if (req.path === '/api/v1/alerts') return { status: 410, body: { status: 'deprecated', error: 'The Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - please use the equivalent route in the v2 API' } };
      if (req.path !== '/api/v2/alerts') return { status: 404, body: '404 page not found\n', raw: true, headers: { 'content-type': 'text/plain' } };
      if (req.method === 'GET') {
        const now = Date.now();
        return {
          status: 200,
          body: [...state.alerts.values()]
            .filter((a) => Date.parse(a.endsAt) > now)
            .map((a) => ({ ...a, receivers: [{ name: 'default' }], status: { state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: [] } })),
        };
      }
      if (req.method !== 'POST') return { status: 405, body: { code: 405, message: 'method not allowed' } };
      if (!Array.isArray(req.json)) return { status: 400, body: { code: 400, message: 'parsing alerts body from "" failed, because json: cannot unmarshal into Go value of type models.PostableAlerts' } };
      const errors: string[] = [];
      const now = new Date();
      req.json.forEach((raw: unknown, i) => {
        const a = raw as Record<string, unknown>;
        const labels = a?.labels as Record<string, unknown> | undefined;
        if (typeof a !== 'object' || a === null || typeof labels !== 'object' || labels === null || Object.keys(labels).length === 0) {
          errors.push(`${i}: at least one label pair required`);
          return;
        }
        if (Object.entries(labels).some(([k, v]) => !LABEL_NAME.test(k) || typeof v !== 'string' || v === '')) {
          errors.push(`${i}: invalid label set`);
          return;
        }
        for (const f of ['startsAt', 'endsAt'] as const) {
          if (a[f] !== undefined && !isRfc3339(a[f])) {
            errors.push(`${i}: ${f} in body must be of type date-time`);
            return;
          }
        }
        const ls = labels as Record<string, string>;
        const startsAt = (a.startsAt as string | undefined) ?? now.toISOString();
        const endsAt = (a.endsAt as string | undefined) ?? new Date(now.getTime() + resolveTimeoutMs).toISOString();
        if (Date.parse(endsAt) < Date.parse(startsAt)) {
          errors.push(`${i}: start time must be before end time`);
          return;
        }
        const fp = fingerprint(ls);
        state.alerts.set(fp, {
          labels: ls,
          annotations: (a.annotations as Record<string, string> | undefined) ?? {},
          startsAt,
          endsAt,
          generatorURL: (a.generatorURL as string | undefined) ?? '',
          fingerprint: fp,
          updatedAt: now.toISOString(),
        });
      });
      state.batches.push(req.json as unknown[]);
      if (errors.length > 0) return { status: 400, body: { code: 400, message: errors.join(';') } };
      return { status: 200 };
    },
    port,
  );
}
