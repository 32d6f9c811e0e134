import type { ModelConfig, ModelKserveConfig, VigilConfig } from '../config/schema.js';

/**
 * KServe inference logger events → prediction items (pure: state in, `now` passed in, no clock,
 * no I/O). The HTTP side is src/http/routes/kserve.ts; the items it produces go through
 * Ingestor.ingest, validated and stored as the HTTP API's are.
 *
 * What KServe sends, from its own source (kserve/kserve, pkg/logger/):
 * - worker.go `sendHttpCloudEvent`: one CloudEvent per request and one per response, in binary
 *   content mode (`cloudevents.WithEncodingBinary`): `ce-specversion 1.0`, `ce-id`, `ce-type`
 *   `org.kubeflow.serving.inference.request` | `org.kubeflow.serving.inference.response`,
 *   `ce-source`, `ce-time` (the occurrence time), and the extensions `ce-inferenceservicename`,
 *   `ce-namespace`, `ce-component`, `ce-endpoint` (`default`/`canary`, may be empty),
 *   `ce-metadata`, `ce-recordedtime`; the body is the inference request's or response's bytes.
 * - handler.go `ServeHTTP`: the request and its response share one id (`getOrCreateID`: the
 *   inference request's own `Ce-Id` header, else a new UUID) — the join key here; the request
 *   event's time is when the request arrived, the response's when the answer was read; a response
 *   is only logged when the predictor answered 200 (so a failed inference leaves a request half
 *   that expires unmatched).
 * - docs/samples/logger/basic/README.md: the V1 sample, `{"instances": [[6.8, 2.8, 4.8, 1.4],
 *   [6.0, 3.4, 4.5, 1.6]]}` → `{"predictions": [1, 1]}`.
 * - docs/predict-api/v2/required_api.md (Open Inference Protocol, "Inference Request JSON Object",
 *   "Tensor Data"): `inputs` / `outputs` are tensors `{name, shape, datatype, data}`, `data` in
 *   row-major order, nested or flattened; the first dimension is the batch.
 */

export const CE_REQUEST_TYPE = 'org.kubeflow.serving.inference.request';
export const CE_RESPONSE_TYPE = 'org.kubeflow.serving.inference.response';

export type Half = 'request' | 'response';

/** One half of an inference, as the route parsed it from a CloudEvent. */
export interface KserveHalf {
  half: Half;
  /** The Vigil model the event was resolved to. */
  model: string;
  /** The CloudEvent `id`: the same on a request and its response. */
  id: string;
  /** The `component` extension (predictor, transformer, …): halves of different components never pair. */
  component: string;
  /** The `endpoint` extension (`default`, `canary`, or ''). */
  endpoint: string;
  /** The CloudEvent `time` (epoch ms), when it had one. */
  time: number | null;
  /** The event's data: the inference request or response body (parsed JSON). */
  data: unknown;
}

/** A half dropped without its other half: after join_timeout (`expired`) or past max_pending (`evicted`). */
export interface Unmatched {
  model: string;
  half: Half;
  id: string;
  reason: 'expired' | 'evicted';
}

export interface JoinedPair {
  model: string;
  id: string;
  request: KserveHalf;
  response: KserveHalf;
}

export interface JoinLimits {
  /** How long a half waits for its other half (ms). */
  joinTimeoutMs: number;
  /** Halves held at most (all models). */
  maxPending: number;
  /** Their bodies' JSON size at most, all together (bytes; default: no bound). */
  maxPendingBytes?: number;
}

/**
 * Where the waiting halves are held: this process's memory (KserveJoin), or a store that replicas
 * share (PostgreSQL: every replica sees every half, so a request and its response that two
 * replicas took are joined all the same).
 */
export interface JoinBackend {
  offer(half: KserveHalf, now: number, limits: JoinLimits): Promise<{ pair: JoinedPair | null; unmatched: Unmatched[] }> | { pair: JoinedPair | null; unmatched: Unmatched[] };
  /** Drops the halves past join_timeout and, beyond max_pending / max_pending_bytes, the oldest. */
  expire(now: number, limits: JoinLimits): Promise<Unmatched[]> | Unmatched[];
  /** Halves waiting. */
  pendingCount(): Promise<number> | number;
}

export const joinLimits = (cfg: VigilConfig): JoinLimits => ({ joinTimeoutMs: cfg.kserve.join_timeout, maxPending: cfg.kserve.max_pending, maxPendingBytes: cfg.kserve.max_pending_bytes });

interface Held {
  half: KserveHalf;
  /** The half's body as JSON, in bytes (UTF-16 code units: close enough for a bound). */
  bytes: number;
  /** `now` when it was offered: expiry counts from here, not from the event's own time. */
  received: number;
}

/**
 * Request and response halves waiting for each other, keyed by (model, component, id); either may
 * come first. Bounded: at most `maxPending` halves, the oldest dropped first. Runtime state only;
 * the limits are passed in on every call (a reload may change them).
 */
export class KserveJoin implements JoinBackend {
  /** Insertion order is arrival order: the first entry is the oldest. */
  private readonly pending = new Map<string, Held>();
  /** The bodies' size of the halves held. */
  private held = 0;

  get size(): number {
    return this.pending.size;
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /** The bodies' JSON size of the halves held (bytes). */
  get bytes(): number {
    return this.held;
  }

  private drop(key: string, h: Held): void {
    this.pending.delete(key);
    this.held -= h.bytes;
  }

  /**
   * Offers a half: returns the pair when its other half was waiting, and the halves dropped to keep
   * within `maxPending`. A second half of the same kind and key replaces the first (a re-delivery).
   */
  offer(half: KserveHalf, now: number, limits: JoinLimits): { pair: JoinedPair | null; unmatched: Unmatched[] } {
    const key = `${half.model}\u0000${half.component}\u0000${half.id}`;
    const waiting = this.pending.get(key);
    if (waiting !== undefined && waiting.half.half !== half.half) {
      this.drop(key, waiting);
      const [request, response] = half.half === 'request' ? [half, waiting.half] : [waiting.half, half];
      return { pair: { model: half.model, id: half.id, request, response }, unmatched: [] };
    }
    if (waiting !== undefined) this.drop(key, waiting); // re-delivered: the newer one, at the back
    const bytes = JSON.stringify(half.data)?.length ?? 0;
    this.pending.set(key, { half, received: now, bytes });
    this.held += bytes;
    const unmatched: Unmatched[] = [];
    const max = Math.max(1, limits.maxPending);
    const maxBytes = limits.maxPendingBytes ?? Number.POSITIVE_INFINITY;
    for (const [k, held] of this.pending) {
      // the newest half is kept whatever its size: a half alone never evicts itself
      if ((this.pending.size <= max && this.held <= maxBytes) || this.pending.size === 1) break;
      this.drop(k, held);
      unmatched.push({ model: held.half.model, half: held.half.half, id: held.half.id, reason: 'evicted' });
    }
    return { pair: null, unmatched };
  }

  /** Drops the halves that waited `joinTimeoutMs` or longer by `now`. */
  expire(now: number, limits: JoinLimits): Unmatched[] {
    const out: Unmatched[] = [];
    for (const [k, held] of this.pending) {
      // arrival order: the first one still in time ends the sweep (unless the clock stepped back)
      if (now - held.received < limits.joinTimeoutMs) break;
      this.drop(k, held);
      out.push({ model: held.half.model, half: held.half.half, id: held.half.id, reason: 'expired' });
    }
    return out;
  }

  /** Drops everything held (shutdown); returns how many halves there were. */
  clear(): number {
    const n = this.pending.size;
    this.pending.clear();
    this.held = 0;
    return n;
  }
}

// ------------------------------------------------------------------ which model an event is for

/**
 * The model an event of `service` / `endpoint` belongs to: one whose `kserve.inference_service`
 * (default: its name) is the service and whose `kserve.endpoint` is the event's (a model naming
 * the endpoint wins over one that takes any), else undefined.
 */
export function modelForService(models: readonly ModelConfig[], service: string, endpoint: string): ModelConfig | undefined {
  let any: ModelConfig | undefined;
  let byName: ModelConfig | undefined;
  for (const m of models) {
    const k = m.kserve;
    if (k === undefined) {
      if (m.name === service) byName = m;
      continue;
    }
    if ((k.inference_service ?? m.name) !== service) continue;
    if (k.endpoint === undefined) any ??= m;
    else if (k.endpoint === endpoint) return m;
  }
  // a model named like the service with no kserve block is taken unless another one claims the service
  return any ?? byName;
}

// ------------------------------------------------------------------ bodies

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Why the body of a request or response half cannot be mapped, or undefined when its shape is one Vigil maps. */
export function bodyProblem(half: Half, data: unknown): string | undefined {
  if (!isObject(data)) return `the ${half} data must be a JSON object (a V1 or V2 inference ${half} body)`;
  if (half === 'request') {
    if (Array.isArray(data.instances) || Array.isArray(data.inputs)) return undefined;
    return 'the request data has neither "instances" (V1) nor "inputs" (V2)';
  }
  if (Array.isArray(data.predictions) || Array.isArray(data.outputs)) return undefined;
  return 'the response data has neither "predictions" (V1) nor "outputs" (V2)';
}

interface Tensor {
  name: string;
  shape: number[];
  /** Row-major, flattened. */
  data: unknown[];
}

/** A V2 tensor `{name, shape, datatype, data}` checked, its data flattened (row-major, nested or flat). */
function tensor(raw: unknown, where: string): Tensor | string {
  if (!isObject(raw)) return `${where} must be an object {name, shape, datatype, data}`;
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const label = name === undefined ? where : `${where} "${name}"`;
  if (name === undefined || name === '') return `${where} has no name`;
  const shape = raw.shape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return `${label}: shape must be a non-empty array of non-negative integers`;
  }
  if (!Array.isArray(raw.data)) return `${label}: data must be an array (binary tensor data is not supported)`;
  const data = (raw.data as unknown[]).flat(Infinity);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== size) return `${label}: data has ${data.length} elements, shape [${shape.join(', ')}] needs ${size}`;
  return { name, shape: shape as number[], data };
}

/** A tensor's rows: the first dimension is the batch; [N] and [N, 1] give one value a row, [N, K] a vector. */
function tensorRows(t: Tensor, what: string): unknown[] | string {
  const n = t.shape[0] as number;
  if (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)) return t.data;
  if (t.shape.length === 2) {
    const k = t.shape[1] as number;
    return Array.from({ length: n }, (_, i) => t.data.slice(i * k, (i + 1) * k));
  }
  return `${what} "${t.name}" has shape [${t.shape.join(', ')}]: only [N], [N, 1] and [N, K] tensors are mapped`;
}

/** Feature names of positional columns: models[].kserve.features, else models[].features in order. */
export const positionalNames = (model: ModelConfig): readonly string[] => model.kserve?.features ?? model.features.map((f) => f.name);

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  // a column named __proto__ is an ordinary feature name (as in ingest/events.ts)
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The feature rows of a request body (V1 `instances` or V2 `inputs`). */
export function requestRows(model: ModelConfig, data: unknown): Record<string, unknown>[] | string {
  const body = data as Record<string, unknown>;
  const names = positionalNames(model);
  if (Array.isArray(body.instances)) {
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < body.instances.length; i++) {
      const inst: unknown = body.instances[i];
      if (Array.isArray(inst)) {
        if (inst.length > names.length) return `instances[${i}] has ${inst.length} columns but models[].kserve.features names ${names.length}`;
        const row: Record<string, unknown> = {};
        inst.forEach((v, j) => define(row, names[j] as string, v));
        rows.push(row);
      } else if (isObject(inst)) {
        rows.push(inst);
      } else {
        if (names.length === 0) return `instances[${i}] is a single value but the model has no feature name for it (models[].kserve.features)`;
        const row: Record<string, unknown> = {};
        define(row, names[0] as string, inst);
        rows.push(row);
      }
    }
    return rows;
  }
  const inputs = body.inputs as unknown[];
  let n: number | undefined;
  let next = 0; // the next positional name for [N, F] inputs
  const columns: { name: string; values: unknown[] }[] = [];
  for (let j = 0; j < inputs.length; j++) {
    const t = tensor(inputs[j], `inputs[${j}]`);
    if (typeof t === 'string') return t;
    const rows = t.shape[0] as number;
    if (n !== undefined && rows !== n) return `input "${t.name}" has ${rows} rows, input "${columns[0]?.name ?? ''}" ${n}`;
    n = rows;
    if (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)) {
      columns.push({ name: t.name, values: t.data });
    } else if (t.shape.length === 2) {
      const f = t.shape[1] as number;
      if (next + f > names.length) return `input "${t.name}" has ${f} columns but models[].kserve.features names ${names.length - next}${next > 0 ? ' more' : ''}`;
      for (let c = 0; c < f; c++) columns.push({ name: names[next + c] as string, values: Array.from({ length: rows }, (_, r) => t.data[r * f + c]) });
      next += f;
    } else {
      return `input "${t.name}" has shape [${t.shape.join(', ')}]: only [N], [N, 1] and [N, F] inputs map to features`;
    }
  }
  return Array.from({ length: n ?? 0 }, (_, r) => {
    const row: Record<string, unknown> = {};
    for (const c of columns) define(row, c.name, c.values[r]);
    return row;
  });
}

const argmax = (v: readonly unknown[]): number => {
  let best = -1;
  let max = -Infinity;
  v.forEach((x, i) => {
    if (typeof x === 'number' && x > max) {
      max = x;
      best = i;
    }
  });
  return best;
};

/**
 * The prediction in one response row: a scalar as it is; a vector → its element `sel` (a column
 * index), else the class of its largest element (`classes[i]`, or `i`); an object → its key `sel`
 * (default `prediction`).
 */
function predictionOf(model: ModelConfig, value: unknown, sel: string | number | undefined, where: string): unknown {
  if (Array.isArray(value)) {
    if (typeof sel === 'number') {
      if (sel >= value.length) throw new MappingError(`${where} has ${value.length} columns; models[].kserve.prediction is ${sel}`);
      return value[sel];
    }
    const i = argmax(value);
    if (i < 0) throw new MappingError(`${where} is a vector without numbers: set models[].kserve.prediction to its column`);
    return model.classes?.[i] ?? i;
  }
  if (isObject(value)) {
    const key = typeof sel === 'string' ? sel : 'prediction';
    if (!Object.hasOwn(value, key)) throw new MappingError(`${where} has no key "${key}" (models[].kserve.prediction)`);
    return value[key];
  }
  return value;
}

/**
 * The score in one response row: a number (binary) as it is; a vector → its element `sel`, else
 * binary: the last of two columns (the positive class of a 0/1 `predict_proba`), multiclass: the
 * map `{class: probability}` by `classes` (or column index); an object → its key `sel`.
 */
function scoreOf(model: ModelConfig, value: unknown, sel: string | number | undefined, where: string): unknown {
  if (Array.isArray(value)) {
    if (typeof sel === 'number') {
      if (sel >= value.length) throw new MappingError(`${where} has ${value.length} columns; models[].kserve.score is ${sel}`);
      return value[sel];
    }
    if (model.task === 'binary') {
      if (value.length === 1 || value.length === 2) return value[value.length - 1];
      throw new MappingError(`${where} has ${value.length} columns: set models[].kserve.score to the positive class's column`);
    }
    const map: Record<string, unknown> = {};
    value.forEach((p, k) => define(map, String(model.classes?.[k] ?? k), p));
    return map;
  }
  if (isObject(value)) {
    if (typeof sel !== 'string') return model.task === 'multiclass' ? value : undefined;
    if (!Object.hasOwn(value, sel)) throw new MappingError(`${where} has no key "${sel}" (models[].kserve.score)`);
    return value[sel];
  }
  return value;
}

class MappingError extends Error {}

function output(outputs: unknown[], sel: string | number, what: 'prediction' | 'score'): Tensor {
  let raw: unknown;
  if (typeof sel === 'number') {
    raw = outputs[sel];
    if (raw === undefined) throw new MappingError(`the response has ${outputs.length} outputs; models[].kserve.${what} is ${sel}`);
  } else {
    raw = outputs.find((o) => isObject(o) && o.name === sel);
    if (raw === undefined) {
      const names = outputs.map((o) => (isObject(o) && typeof o.name === 'string' ? `"${o.name}"` : '?'));
      throw new MappingError(`the response has no output "${sel}" (models[].kserve.${what}); it has ${names.join(', ') || 'none'}`);
    }
  }
  const t = tensor(raw, `outputs[${typeof sel === 'number' ? sel : outputs.indexOf(raw)}]`);
  if (typeof t === 'string') throw new MappingError(t);
  return t;
}

/** The prediction and score of each response row (V1 `predictions` or V2 `outputs`). */
export function responseRows(model: ModelConfig, data: unknown): { prediction: unknown; score: unknown }[] | string {
  const body = data as Record<string, unknown>;
  const k: Partial<ModelKserveConfig> = model.kserve ?? {};
  try {
    if (Array.isArray(body.predictions)) {
      return body.predictions.map((p: unknown, i) => ({
        prediction: predictionOf(model, p, k.prediction, `predictions[${i}]`),
        score: k.score === undefined ? undefined : scoreOf(model, p, k.score, `predictions[${i}]`),
      }));
    }
    const outputs = body.outputs as unknown[];
    const pt = output(outputs, k.prediction ?? 0, 'prediction');
    const preds = tensorRows(pt, 'output');
    if (typeof preds === 'string') throw new MappingError(preds);
    let scores: unknown[] | undefined;
    if (k.score !== undefined) {
      const st = output(outputs, k.score, 'score');
      if (st.shape[0] !== pt.shape[0]) throw new MappingError(`output "${st.name}" has ${st.shape[0]} rows, output "${pt.name}" ${pt.shape[0]}`);
      const s = tensorRows(st, 'output');
      if (typeof s === 'string') throw new MappingError(s);
      scores = s;
    }
    return preds.map((p, i) => ({
      prediction: predictionOf(model, p, undefined, `output "${pt.name}" row ${i}`),
      score: scores === undefined ? undefined : scoreOf(model, scores[i], undefined, `output row ${i}`),
    }));
  } catch (e) {
    if (e instanceof MappingError) return e.message;
    throw e;
  }
}

/** The model_version of a pair's predictions, per models[].kserve.version_from. */
function versionOf(model: ModelConfig, pair: JoinedPair): string | undefined {
  const from = model.kserve?.version_from ?? 'auto';
  const mv = isObject(pair.response.data) && typeof pair.response.data.model_version === 'string' && pair.response.data.model_version !== '' ? pair.response.data.model_version : undefined;
  const endpoint = pair.request.endpoint === '' ? undefined : pair.request.endpoint;
  const component = pair.request.component === '' ? undefined : pair.request.component;
  const v = from === 'auto' ? (mv ?? endpoint) : from === 'model_version' ? mv : from === 'endpoint' ? endpoint : from === 'component' ? component : undefined;
  return v?.slice(0, 128);
}

/**
 * The prediction items of a joined pair, in the HTTP API's item format (src/ingest/events.ts):
 * one per row, ids `<ce id>` for a single row and `<ce id>/<i>` for a batch of rows; features from
 * the request row, prediction and score from the response row; `ts` the request event's time (else
 * the response's; else none: the receipt time); `latency_ms` from the two events' times. A pair
 * whose bodies do not map gives the reason instead.
 */
export function pairItems(model: ModelConfig, pair: JoinedPair): { items: Record<string, unknown>[] } | { error: string } {
  const reqProblem = bodyProblem('request', pair.request.data);
  if (reqProblem !== undefined) return { error: reqProblem };
  const resProblem = bodyProblem('response', pair.response.data);
  if (resProblem !== undefined) return { error: resProblem };
  const features = requestRows(model, pair.request.data);
  if (typeof features === 'string') return { error: features };
  const outputs = responseRows(model, pair.response.data);
  if (typeof outputs === 'string') return { error: outputs };
  if (features.length !== outputs.length) return { error: `the request has ${features.length} rows but the response ${outputs.length}` };
  const ts = pair.request.time ?? pair.response.time;
  const latency = pair.request.time !== null && pair.response.time !== null && pair.response.time >= pair.request.time ? pair.response.time - pair.request.time : undefined;
  const version = versionOf(model, pair);
  const single = features.length === 1;
  const items = features.map((f, i) => {
    const item: Record<string, unknown> = { id: single ? pair.id : `${pair.id}/${i}`, features: f, prediction: (outputs[i] as { prediction: unknown }).prediction };
    const score = (outputs[i] as { score: unknown }).score;
    if (score !== undefined) item.score = score;
    if (ts !== null) item.ts = ts;
    if (version !== undefined) item.model_version = version;
    if (latency !== undefined) item.latency_ms = latency;
    return item;
  });
  return { items };
}
