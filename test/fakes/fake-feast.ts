import { newFakeState, startFake, type FakeReply, type FakeServer, type FakeState, type RecordedRequest } from '../../src/sim/fake-http.js';

/**
 * A fake Feast Python feature server (`feast serve`, REFERENCE.md §2): `POST /get-online-features`
 * (one result per feature, entity columns included, statuses and event timestamps),
 * `POST /materialize` and `/materialize-incremental` (recorded; they refresh event timestamps),
 * `GET /health`, and the `--metrics` exposition on `GET /metrics`. FeastErrors answer with a
 * double-encoded JSON string, as Feast does. Reusable by remediation tests through `state`.
 */

export interface FakeFeatureRow {
  values: Record<string, unknown>;
  /** Event time, ms since the epoch. */
  ts: number;
}

export interface FakeFeatureView {
  /** The join key of the view's entity (`driver_id`). */
  joinKey: string;
  features: string[];
  /** entity value (as a string) → row */
  rows: Map<string, FakeFeatureRow>;
  /** Values older than this (ms) answer OUTSIDE_MAX_AGE; undefined: no TTL. */
  ttlMs?: number;
}

export interface FakeMaterialization {
  path: '/materialize' | '/materialize-incremental';
  body: Record<string, unknown>;
  async: boolean;
}

export interface FakeFeastState extends FakeState {
  project: string;
  views: Map<string, FakeFeatureView>;
  /** Feature services: name → feature refs (`view:feature`). */
  services: Map<string, string[]>;
  materializations: FakeMaterialization[];
  /** When true, materialize answers 409 (one already running). */
  materializeRunning: boolean;
  /** Healthy: /health answers 200, else 503. */
  healthy: boolean;
  /** Overrides the /metrics text (else generated from the views' newest event times). */
  metricsText: string | null;
  now: () => number;
}

export type FakeFeast = FakeServer<FakeFeastState>;

const EPOCH = '1970-01-01T00:00:00Z';
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A FeastError answer: the JSON is encoded twice (the body is a JSON string). */
export function feastError(status: number, cls: string, message: string): FakeReply {
  return { status, raw: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify(JSON.stringify({ module: 'feast.errors', class: cls, message })) };
}

export async function startFakeFeast(port = 0): Promise<FakeFeast> {
  const state: FakeFeastState = {
    ...newFakeState(),
    project: 'demo',
    views: new Map(),
    services: new Map(),
    materializations: [],
    materializeRunning: false,
    healthy: true,
    metricsText: null,
    now: () => Date.now(),
  };

  function onlineFeatures(req: RecordedRequest): FakeReply {
    const body = req.json as { entities?: Record<string, unknown[]>; features?: string[]; feature_service?: string; full_feature_names?: boolean } | undefined;
    if (body === undefined || body.entities === undefined || typeof body.entities !== 'object') {
      return { status: 422, body: { detail: [{ type: 'missing', loc: ['body', 'entities'], msg: 'Field required' }] } };
    }
    let refs: string[];
    if (body.feature_service !== undefined) {
      const s = state.services.get(body.feature_service);
      if (s === undefined) return feastError(404, 'FeatureServiceNotFoundException', `Feature service ${body.feature_service} does not exist in project ${state.project}`);
      refs = s;
    } else refs = body.features ?? [];
    const entityNames = Object.keys(body.entities);
    const n = (body.entities[entityNames[0] as string] ?? []).length;
    const names: string[] = [...entityNames];
    const results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[] = entityNames.map((k) => ({
      values: body.entities?.[k] ?? [],
      statuses: Array.from({ length: n }, () => 'PRESENT'),
      event_timestamps: Array.from({ length: n }, () => EPOCH),
    }));
    const now = state.now();
    for (const ref of refs) {
      const [viewName, feat] = ref.split(':') as [string, string | undefined];
      const view = state.views.get(viewName);
      if (view === undefined) return feastError(404, 'FeatureViewNotFoundException', `Feature view ${viewName} does not exist in project ${state.project}`);
      if (feat === undefined || !view.features.includes(feat)) return feastError(400, 'FeatureNameCollisionError', `Feature ${ref} is not defined`);
      const keys = body.entities[view.joinKey];
      if (keys === undefined) return { status: 500, raw: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify(`Missing join key ${view.joinKey} for feature view ${viewName}`) };
      names.push(body.full_feature_names ? `${viewName}__${feat}` : feat);
      const r = { values: [] as unknown[], statuses: [] as string[], event_timestamps: [] as string[] };
      for (const k of keys) {
        const row = view.rows.get(String(k));
        if (row === undefined) {
          r.values.push(null);
          r.statuses.push('NOT_FOUND');
          r.event_timestamps.push(EPOCH);
          continue;
        }
        const v = row.values[feat] ?? null;
        r.values.push(v);
        r.statuses.push(v === null ? 'NULL_VALUE' : view.ttlMs !== undefined && now - row.ts > view.ttlMs ? 'OUTSIDE_MAX_AGE' : 'PRESENT');
        r.event_timestamps.push(iso(row.ts));
      }
      results.push(r);
    }
    return { status: 200, body: { metadata: { feature_names: names }, results } };
  }

  function materialize(req: RecordedRequest, path: FakeMaterialization['path']): FakeReply {
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (path === '/materialize-incremental' && typeof body.end_ts !== 'string') return { status: 422, body: { detail: [{ type: 'missing', loc: ['body', 'end_ts'], msg: 'Field required' }] } };
    if (state.materializeRunning) return feastError(409, 'FeastError', 'A materialization is already running');
    const views = Array.isArray(body.feature_views) ? (body.feature_views as string[]) : [...state.views.keys()];
    for (const v of views) if (!state.views.has(v)) return feastError(404, 'FeatureViewNotFoundException', `Feature view ${v} does not exist in project ${state.project}`);
    const async = req.query.async === 'true';
    state.materializations.push({ path, body, async });
    const now = state.now();
    for (const v of views) for (const row of state.views.get(v)?.rows.values() ?? []) row.ts = now;
    return async ? { status: 202, body: { status: 'accepted' } } : { status: 200, body: null };
  }

  function metrics(): FakeReply {
    if (state.metricsText !== null) return { status: 200, raw: true, body: state.metricsText, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } };
    const now = state.now();
    const lines = ['# HELP feast_feature_freshness_seconds Seconds since the most recent event timestamp of a feature view.', '# TYPE feast_feature_freshness_seconds gauge'];
    for (const [name, v] of state.views) {
      const newest = Math.max(...[...v.rows.values()].map((r) => r.ts));
      if (Number.isFinite(newest)) lines.push(`feast_feature_freshness_seconds{feature_view="${name}",project="${state.project}"} ${(now - newest) / 1000}`);
    }
    lines.push('# HELP feast_materialization_result_total Materialization runs by result.', '# TYPE feast_materialization_result_total counter');
    lines.push(`feast_materialization_result_total{feature_view="all",status="success"} ${state.materializations.length}`);
    return { status: 200, raw: true, body: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } };
  }

  return startFake(
    state,
    (req) => {
      const route = `${req.method} ${req.path}`;
      if (route === 'POST /get-online-features') return onlineFeatures(req);
      if (route === 'POST /materialize') return materialize(req, '/materialize');
      if (route === 'POST /materialize-incremental') return materialize(req, '/materialize-incremental');
      if (route === 'GET /health') return state.healthy ? { status: 200, body: null } : { status: 503, body: null };
      if (route === 'GET /metrics') return metrics();
      return { status: 404, body: { detail: 'Not Found' } };
    },
    port,
  );
}
