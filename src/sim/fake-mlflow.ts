import { newFakeState, startFake, type FakeReply, type FakeServer, type FakeState, type RecordedRequest } from './fake-http.js';

/**
 * A fake MLflow tracking server's Model Registry REST API (`/api/2.0/mlflow`), with the documented
 * request and answer shapes (see REFERENCE.md §1): registered models with aliases, model versions
 * with stages and tags, search with `page_token` paging, stage transitions, tags and aliases. Errors
 * are `{error_code, message}` with MLflow's statuses. Reusable by remediation tests: inspect and
 * set `state.models` directly.
 */

export interface FakeModelVersion {
  version: string;
  current_stage: string;
  status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  creation_timestamp: number;
  last_updated_timestamp: number;
  run_id: string;
  source: string;
  description: string;
  tags: Record<string, string>;
}

export interface FakeRegisteredModel {
  name: string;
  description: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  tags: Record<string, string>;
  /** alias → version */
  aliases: Record<string, string>;
  versions: FakeModelVersion[];
}

export interface FakeMlflowState extends FakeState {
  models: Map<string, FakeRegisteredModel>;
  /** Send int64 timestamps as strings (as some proxies / protobuf JSON do). */
  timestampsAsStrings: boolean;
  /** The clock used for last_updated_timestamp on writes. */
  now: () => number;
  /**
   * Called before each request is handled (after auth and `faults`): a reply answers it instead of
   * the registry, undefined lets the registry answer (the hook may change `models` first — e.g.
   * another deployer moving an alias between a write and its read-back). null: none.
   */
  intercept: ((req: RecordedRequest) => FakeReply | undefined) | null;
  /**
   * Holds requests open (the failover tests: a leader killed or paused in the middle of an action).
   * Called for each request after auth and `faults`, before `intercept`: a promise it returns keeps
   * the request unanswered until the promise resolves, and only then is it handled (`intercept`,
   * then the registry — a held write is applied when it is let go, as a real server applies a
   * request whose client has gone away; a rejected promise answers 500); undefined answers it at
   * once. null (the default): nothing is held.
   */
  hold: ((req: RecordedRequest) => Promise<void> | undefined) | null;
}

export type FakeMlflow = FakeServer<FakeMlflowState> & {
  addModel(name: string, opts?: Partial<Omit<FakeRegisteredModel, 'name' | 'versions'>>): FakeRegisteredModel;
  addVersion(model: string, opts?: Partial<FakeModelVersion>): FakeModelVersion;
};

const BASE = '/api/2.0/mlflow';
const STAGES = ['None', 'Staging', 'Production', 'Archived'];

const err = (status: number, error_code: string, message: string): FakeReply => ({ status, body: { error_code, message } });
const notFound = (what: string) => err(404, 'RESOURCE_DOES_NOT_EXIST', what);
const invalid = (message: string) => err(400, 'INVALID_PARAMETER_VALUE', message);

export async function startFakeMlflow(port = 0, host = '127.0.0.1'): Promise<FakeMlflow> {
  const state: FakeMlflowState = { ...newFakeState(), models: new Map(), timestampsAsStrings: false, now: () => Date.now(), intercept: null, hold: null };
  const ts = (n: number) => (state.timestampsAsStrings ? String(n) : n);

  const aliasesOf = (m: FakeRegisteredModel, version: string) =>
    Object.entries(m.aliases)
      .filter(([, v]) => v === version)
      .map(([a]) => a)
      .sort();
  const versionJson = (m: FakeRegisteredModel, v: FakeModelVersion) => ({
    name: m.name,
    version: v.version,
    creation_timestamp: ts(v.creation_timestamp),
    last_updated_timestamp: ts(v.last_updated_timestamp),
    current_stage: v.current_stage,
    description: v.description,
    source: v.source,
    run_id: v.run_id,
    status: v.status,
    tags: Object.entries(v.tags).map(([key, value]) => ({ key, value })),
    aliases: aliasesOf(m, v.version),
  });
  const modelJson = (m: FakeRegisteredModel) => {
    const latest = new Map<string, FakeModelVersion>();
    for (const v of m.versions) {
      const cur = latest.get(v.current_stage);
      if (cur === undefined || Number(v.version) > Number(cur.version)) latest.set(v.current_stage, v);
    }
    return {
      name: m.name,
      creation_timestamp: ts(m.creation_timestamp),
      last_updated_timestamp: ts(m.last_updated_timestamp),
      description: m.description,
      latest_versions: [...latest.values()].map((v) => versionJson(m, v)),
      tags: Object.entries(m.tags).map(([key, value]) => ({ key, value })),
      aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version })),
    };
  };
  /** Offset-based page tokens (opaque to the client). */
  function page<T>(all: T[], req: RecordedRequest, max: number): { items: T[]; next?: string } {
    const size = Number(req.query.max_results ?? max);
    const start = req.query.page_token ? Number(Buffer.from(req.query.page_token, 'base64').toString('utf8')) : 0;
    const items = all.slice(start, start + size);
    return start + size < all.length ? { items, next: Buffer.from(String(start + size)).toString('base64') } : { items };
  }
  const params = (req: RecordedRequest): Record<string, unknown> => (req.method === 'GET' ? req.query : ((req.json ?? {}) as Record<string, unknown>));

  function handle(req: RecordedRequest): FakeReply | Promise<FakeReply> {
    const held = state.hold?.(req);
    return held === undefined ? answer(req) : held.then(() => answer(req));
  }

  function answer(req: RecordedRequest): FakeReply {
    const intercepted = state.intercept?.(req);
    if (intercepted !== undefined) return intercepted;
    if (!req.path.startsWith(BASE)) return { status: 404, body: '<html><body>Not Found</body></html>', raw: true, headers: { 'content-type': 'text/html' } };
    const route = `${req.method} ${req.path.slice(BASE.length)}`;
    if (req.method !== 'GET' && !String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return err(400, 'BAD_REQUEST', 'Bad Request. Content-Type must be "application/json"');
    }
    const p = params(req);
    const model = (name: unknown) => (typeof name === 'string' ? state.models.get(name) : undefined);
    const version = (m: FakeRegisteredModel, v: unknown) => m.versions.find((x) => x.version === String(v));
    switch (route) {
      case 'GET /registered-models/get': {
        const m = model(p.name);
        return m ? { status: 200, body: { registered_model: modelJson(m) } } : notFound(`Registered Model with name=${String(p.name)} not found`);
      }
      case 'GET /registered-models/search': {
        let all = [...state.models.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
        const f = typeof p.filter === 'string' ? /^name\s*(=|LIKE)\s*'(.*)'$/i.exec(p.filter.trim()) : null;
        if (typeof p.filter === 'string' && p.filter !== '' && f === null) return invalid(`Invalid filter '${p.filter}'`);
        if (f) {
          const re = new RegExp(`^${(f[2] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`);
          all = all.filter((m) => (f[1] === '=' ? m.name === f[2] : re.test(m.name)));
        }
        const pg = page(all, req, 100);
        return { status: 200, body: { registered_models: pg.items.map(modelJson), ...(pg.next ? { next_page_token: pg.next } : {}) } };
      }
      case 'GET /model-versions/search': {
        const f = typeof p.filter === 'string' ? /^name\s*=\s*(['"])(.*)\1$/.exec(p.filter.trim()) : null;
        if (typeof p.filter === 'string' && p.filter !== '' && f === null) return invalid(`Invalid filter '${p.filter}'`);
        const models = f ? [model(f[2])].filter((m): m is FakeRegisteredModel => m !== undefined) : [...state.models.values()];
        const all = models.flatMap((m) => [...m.versions].sort((a, b) => Number(b.version) - Number(a.version)).map((v) => versionJson(m, v)));
        const pg = page(all, req, 10_000);
        return { status: 200, body: { model_versions: pg.items, ...(pg.next ? { next_page_token: pg.next } : {}) } };
      }
      case 'GET /model-versions/get': {
        const m = model(p.name);
        const v = m && version(m, p.version);
        return m && v ? { status: 200, body: { model_version: versionJson(m, v) } } : notFound(`Model Version (name=${String(p.name)}, version=${String(p.version)}) not found`);
      }
      case 'GET /registered-models/get-latest-versions':
      case 'POST /registered-models/get-latest-versions': {
        const m = model(p.name);
        if (!m) return notFound(`Registered Model with name=${String(p.name)} not found`);
        const stages = Array.isArray(p.stages) ? (p.stages as string[]).map((s) => s.toLowerCase()) : null;
        const latest = modelJson(m).latest_versions.filter((v) => stages === null || stages.includes(v.current_stage.toLowerCase()));
        return { status: 200, body: { model_versions: latest } };
      }
      case 'POST /model-versions/transition-stage': {
        const m = model(p.name);
        const v = m && version(m, p.version);
        if (!m || !v) return notFound(`Model Version (name=${String(p.name)}, version=${String(p.version)}) not found`);
        const stage = STAGES.find((s) => s.toLowerCase() === String(p.stage).toLowerCase());
        if (stage === undefined) return invalid(`Invalid Model Version stage: ${String(p.stage)}. Value must be one of ${STAGES.join(', ')}.`);
        if (typeof p.archive_existing_versions !== 'boolean') return invalid("Missing value for required parameter 'archive_existing_versions'.");
        const now = state.now();
        if (p.archive_existing_versions && (stage === 'Production' || stage === 'Staging')) {
          for (const o of m.versions) if (o !== v && o.current_stage === stage) Object.assign(o, { current_stage: 'Archived', last_updated_timestamp: now });
        }
        Object.assign(v, { current_stage: stage, last_updated_timestamp: now });
        return { status: 200, body: { model_version: versionJson(m, v) } };
      }
      case 'POST /model-versions/set-tag': {
        const m = model(p.name);
        const v = m && version(m, p.version);
        if (!m || !v) return notFound(`Model Version (name=${String(p.name)}, version=${String(p.version)}) not found`);
        if (typeof p.key !== 'string' || p.key === '') return invalid("Missing value for required parameter 'key'.");
        v.tags[p.key] = String(p.value ?? '');
        return { status: 200, body: {} };
      }
      case 'POST /registered-models/alias': {
        const m = model(p.name);
        if (!m) return notFound(`Registered Model with name=${String(p.name)} not found`);
        const alias = String(p.alias ?? '');
        if (alias === '' || alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) return invalid(`Invalid alias name: '${alias}'.`);
        if (!version(m, p.version)) return notFound(`Model Version (name=${m.name}, version=${String(p.version)}) not found`);
        m.aliases[alias] = String(p.version);
        return { status: 200, body: {} };
      }
      case 'GET /registered-models/alias': {
        const m = model(p.name);
        const v = m?.aliases[String(p.alias)];
        const mv = m && v !== undefined ? version(m, v) : undefined;
        // as MLflow's SQL and file stores answer an alias that is not set (also on an unknown model):
        // mlflow/store/model_registry/{sqlalchemy,file}_store.py, get_model_version_by_alias
        return m && mv ? { status: 200, body: { model_version: versionJson(m, mv) } } : invalid(`Registered model alias ${String(p.alias)} not found.`);
      }
      case 'DELETE /registered-models/alias': {
        const m = model(p.name);
        if (!m) return notFound(`Registered Model with name=${String(p.name)} not found`);
        delete m.aliases[String(p.alias)];
        return { status: 200, body: {} };
      }
      default:
        return err(404, 'ENDPOINT_NOT_FOUND', `No API endpoint for ${route}`);
    }
  }

  const server = await startFake(state, handle, port, host);
  const addModel: FakeMlflow['addModel'] = (name, opts = {}) => {
    const now = state.now();
    const m: FakeRegisteredModel = { name, description: '', creation_timestamp: now, last_updated_timestamp: now, tags: {}, aliases: {}, ...opts, versions: [] };
    state.models.set(name, m);
    return m;
  };
  return {
    ...server,
    addModel,
    addVersion(model, opts = {}) {
      const m = state.models.get(model) ?? addModel(model);
      const now = state.now();
      const v: FakeModelVersion = {
        version: String(m.versions.length + 1),
        current_stage: 'None',
        status: 'READY',
        creation_timestamp: now,
        last_updated_timestamp: now,
        run_id: `run${m.versions.length + 1}`,
        source: `models:/${model}/${m.versions.length + 1}`,
        description: '',
        tags: {},
        ...opts,
      };
      m.versions.push(v);
      return v;
    },
  };
}
