import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { parseRfc3339, RFC3339_EXAMPLE } from '../../core/rfc3339.js';
import { isVigilError, VigilError } from '../../core/errors.js';
import {
  bodyProblem,
  CE_REQUEST_TYPE,
  CE_RESPONSE_TYPE,
  joinLimits,
  KserveJoin,
  modelForService,
  pairItems,
  type JoinBackend,
  type KserveHalf,
  type Unmatched,
} from '../../ingest/kserve-join.js';
import { jsonErrorOffset, lineColumn, textParser } from '../body.js';
import type { ServerDeps } from '../server.js';
import { MODEL_PARAMS } from './ingest.js';

/**
 * KServe inference logger ingestion: `POST /v1/kserve/events` (the model from the events'
 * `inferenceservicename` / `endpoint` and models[].kserve) and `POST /v1/kserve/events/:model`
 * (that model, whatever the events say). An InferenceService's `spec.predictor.logger.url` points
 * here; request and response events are joined by id (src/ingest/kserve-join.ts) and the
 * predictions they make go through Ingestor.ingest, validated and stored as the HTTP API's.
 *
 * CloudEvents HTTP protocol binding 1.0 (cloudevents/spec cloudevents/bindings/http-protocol-binding.md,
 * §3 "HTTP Message Mapping"): the Content-Type chooses the mode — prefixed
 * `application/cloudevents-batch` → batched (`+json`: a JSON array of structured events, JSON
 * format §4), prefixed `application/cloudevents` → structured (`+json`: attributes and `data` or
 * `data_base64` in one object), anything else → binary (attributes in `ce-*` headers, §3.1.3,
 * percent-encoded, possibly double-quoted; the body is the data). KServe's logger sends binary
 * mode (pkg/logger/worker.go, `cloudevents.WithEncodingBinary`), with the inference request's
 * own Content-Type, so the body is read as JSON whatever the type says.
 *
 * Answers: 202 `{accepted_events, joined_predictions, stored, duplicates, pending, rejected}`;
 * 400 `VIGIL_ERR_KSERVE_BAD_EVENT` (names the attribute: "ce-id is missing") for a bad single
 * event or a batch none of whose events was taken; 404 `VIGIL_ERR_KSERVE_UNKNOWN_SERVICE` for an
 * InferenceService no model is configured for; 404 `VIGIL_ERR_MODEL_UNKNOWN` for an unknown
 * `:model`; 415 `VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE` for a CloudEvents format other than JSON.
 * In a batch, bad events are listed under `rejected` and the others taken.
 */

export interface KserveRouteOptions {
  deps: ServerDeps;
  /** The halves waiting for their other half; default: the store's when replicas share it, else a new join in memory. */
  join?: JoinBackend;
  /** Counts a dropped half; default: `vigil_kserve_unmatched_total` of deps.registry. */
  onUnmatched?: (u: Unmatched) => void;
  /** How often expired halves are swept besides on every request (ms); 0: only on requests. Default 1000. */
  sweepIntervalMs?: number;
}

/** One rejected event, or one prediction of a joined pair that was not stored. */
export interface KserveRejection {
  /** Position of the event in the request (0 in binary and structured mode). */
  event: number;
  /** The CloudEvent id, when it had one. */
  id?: string;
  /** The prediction's id (`<ce id>` or `<ce id>/<row>`), for a prediction the validation rejected. */
  prediction_id?: string;
  /** The prediction item's field, for a prediction the validation rejected. */
  field?: string;
  code: string;
  reason: string;
}

export interface KserveAnswer {
  /** Events taken: held for their other half, or joined with it. */
  accepted_events: number;
  /** Predictions made by the pairs this request completed (one per instance row). */
  joined_predictions: number;
  /** Of those, stored now. */
  stored: number;
  /** Prediction ids already stored (not stored again). */
  duplicates: string[];
  /** Halves waiting for their other half (all models). */
  pending: number;
  rejected: KserveRejection[];
}

const BAD = 'VIGIL_ERR_KSERVE_BAD_EVENT';

const badEvent = (message: string): VigilError => new VigilError(BAD, message, { statusCode: 400 });

/** The CloudEvent attributes Vigil reads, as strings. */
interface Attributes {
  specversion?: string;
  id?: string;
  source?: string;
  type?: string;
  time?: string;
  inferenceservicename?: string;
  endpoint?: string;
  component?: string;
}
const ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'time', 'inferenceservicename', 'endpoint', 'component'] as const;
/** Required by CloudEvents 1.0 (spec.md "Required Attributes"). */
const REQUIRED = ['id', 'source', 'specversion', 'type'] as const;

/**
 * An HTTP header value as the binding says to read it (§3.1.3.2): a double-quoted string unquoted
 * (backslash escapes), then one round of percent-decoding; invalid UTF-8 is an error.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  let v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return undefined;
  }
}

function parseData(text: string, what: string): unknown {
  if (text.trim() === '') throw badEvent(`${what} is empty: it must be the JSON inference request or response`);
  try {
    return JSON.parse(text);
  } catch {
    const { line, column } = lineColumn(text, jsonErrorOffset(text));
    throw badEvent(`${what} is not JSON (line ${line}, column ${column}): only JSON inference bodies (V1, V2) are read`);
  }
}

/** The attributes of a binary-mode request, from its `ce-*` headers. */
function binaryAttributes(headers: FastifyRequest['headers']): Attributes {
  const out: Attributes = {};
  for (const name of ATTRIBUTES) {
    const raw = headers[`ce-${name}`];
    if (raw === undefined) continue;
    const value = decodeHeaderValue(Array.isArray(raw) ? raw.join(',') : raw);
    if (value === undefined) throw badEvent(`ce-${name} is not validly percent-encoded UTF-8`);
    out[name] = value;
  }
  return out;
}

/** The attributes and data of a structured event (JSON format). */
function structuredEvent(ev: unknown): { attrs: Attributes; data: unknown } {
  if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) throw badEvent('the event must be a JSON object (CloudEvents JSON format)');
  const o = ev as Record<string, unknown>;
  const attrs: Attributes = {};
  for (const name of ATTRIBUTES) {
    const v = o[name];
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw badEvent(`${name} must be a string`);
    attrs[name] = String(v);
  }
  // the required attributes are named before the data
  for (const name of REQUIRED) if (attrs[name] === undefined || attrs[name] === '') throw badEvent(`${name} is missing`);
  let data: unknown;
  if (Object.hasOwn(o, 'data_base64')) {
    if (typeof o.data_base64 !== 'string') throw badEvent('data_base64 must be a base64 string');
    data = parseData(Buffer.from(o.data_base64, 'base64').toString('utf8'), 'data_base64');
  } else if (Object.hasOwn(o, 'data')) {
    data = o.data;
    // JSON text carried as a string (some producers stringify): read it
    if (typeof data === 'string') data = parseData(data, 'data');
  } else throw badEvent('data is missing: the event carries no inference request or response');
  return { attrs, data };
}

export const kserveRoutes: FastifyPluginAsync<KserveRouteOptions> = async (app, opts) => {
  const { deps } = opts;
  const log = deps.logger.child({ component: 'kserve' });
  // replicas sharing a store hold the halves there: the two halves of an inference may reach two replicas
  const join: JoinBackend = opts.join ?? (deps.store.shared ? (deps.store as { kserveJoin?: () => JoinBackend }).kserveJoin?.() : undefined) ?? new KserveJoin();
  const inMemory = join instanceof KserveJoin;
  const counter = deps.registry.text.getSingleMetric('vigil_kserve_unmatched_total') as Counter<'model' | 'half'> | undefined;
  const onUnmatched = opts.onUnmatched ?? ((u: Unmatched) => counter?.inc({ model: u.model, half: u.half }));
  const count = (list: readonly Unmatched[]): void => {
    for (const u of list) onUnmatched(u);
    if (list.length > 0) log.debug({ dropped: list.length, first: list[0] }, 'unmatched halves dropped');
  };

  /** Drops the halves past join_timeout; never throws (it runs on a timer too). */
  const sweep = async (now: number): Promise<void> => {
    try {
      count(await join.expire(now, joinLimits(deps.config())));
    } catch (e) {
      log.error({ err: (e as Error).message }, 'kserve join sweep failed');
    }
  };
  const every = opts.sweepIntervalMs ?? 1000;
  if (every > 0) {
    const timer = setInterval(() => void sweep(deps.clock.now()), every);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  // The body as text whatever its type (KServe forwards the inference request's own Content-Type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, textParser((text) => text));

  /** A half from attributes and data; throws the coded error naming what is wrong. */
  const toHalf = (attrs: Attributes, data: unknown, prefix: string, forced: string | undefined): KserveHalf => {
    for (const name of REQUIRED) {
      if (attrs[name] === undefined || attrs[name] === '') throw badEvent(`${prefix}${name} is missing`);
    }
    if (attrs.specversion !== '1.0') throw badEvent(`${prefix}specversion "${attrs.specversion}" is not supported: send CloudEvents 1.0`);
    if ((attrs.id as string).length > 200) throw badEvent(`${prefix}id is longer than 200 characters`);
    const half = attrs.type === CE_REQUEST_TYPE ? 'request' : attrs.type === CE_RESPONSE_TYPE ? 'response' : undefined;
    if (half === undefined) throw badEvent(`${prefix}type "${attrs.type}" is not a KServe inference event (${CE_REQUEST_TYPE} or ${CE_RESPONSE_TYPE})`);
    let time: number | null = null;
    if (attrs.time !== undefined && attrs.time !== '') {
      const t = parseRfc3339(attrs.time);
      if ('error' in t) throw badEvent(`${prefix}time "${attrs.time}" is not an RFC 3339 time (${RFC3339_EXAMPLE})`);
      time = t.ms;
    }
    const problem = bodyProblem(half, data);
    if (problem !== undefined) throw badEvent(`${prefix === 'ce-' ? 'the body' : `${prefix}data`}: ${problem}`);
    const endpoint = attrs.endpoint ?? '';
    let model: string;
    if (forced !== undefined) model = forced;
    else {
      const service = attrs.inferenceservicename;
      if (service === undefined || service === '') {
        throw badEvent(`${prefix}inferenceservicename is missing: KServe's logger sends it; otherwise post to /v1/kserve/events/:model`);
      }
      const m = modelForService(deps.config().models, service, endpoint);
      if (m === undefined) {
        throw new VigilError(
          'VIGIL_ERR_KSERVE_UNKNOWN_SERVICE',
          `no model is configured for InferenceService "${service}"${endpoint === '' ? '' : ` endpoint "${endpoint}"`}: set models[].kserve.inference_service (or name a model after it)`,
          { statusCode: 404, details: { inference_service: service, endpoint } },
        );
      }
      model = m.name;
    }
    deps.ingestor.model(model); // a model of another shard: 421, as the ingestion endpoints answer
    return { half, model, id: attrs.id as string, component: attrs.component ?? '', endpoint, time, data };
  };

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const now = deps.clock.now();
    if (inMemory) await sweep(now); // a shared store's halves are swept by the timer only (a statement a request otherwise)
    const forced = (req.params as { model?: string }).model;
    if (forced !== undefined) deps.ingestor.model(forced); // 404 before anything else
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    const text = typeof req.body === 'string' ? req.body : '';

    // Each event: a thunk giving its half (throws its coded error).
    let events: (() => KserveHalf)[];
    let batch = false;
    let parsedBatch: unknown[] = [];
    if (type.startsWith('application/cloudevents-batch')) {
      if (!type.startsWith('application/cloudevents-batch+json')) throw unsupported(type);
      batch = true;
      const parsed = parseData(text, 'the batch');
      if (!Array.isArray(parsed)) throw badEvent('a batch (application/cloudevents-batch+json) must be a JSON array of events');
      parsedBatch = parsed;
      // an empty batch is answered 202 with nothing taken
      events = parsed.map((ev) => () => {
        const { attrs, data } = structuredEvent(ev);
        return toHalf(attrs, data, '', forced);
      });
    } else if (type.startsWith('application/cloudevents')) {
      if (!type.startsWith('application/cloudevents+json')) throw unsupported(type);
      const { attrs, data } = structuredEvent(parseData(text, 'the event'));
      events = [() => toHalf(attrs, data, '', forced)];
    } else {
      const attrs = binaryAttributes(req.headers);
      // the attributes first: a request without ce-id is named as such, whatever its body
      for (const name of REQUIRED) if (attrs[name] === undefined || attrs[name] === '') throw badEvent(`ce-${name} is missing`);
      const data = parseData(text, 'the body (the event data)');
      events = [() => toHalf(attrs, data, 'ce-', forced)];
    }

    const answer: KserveAnswer = { accepted_events: 0, joined_predictions: 0, stored: 0, duplicates: [], pending: 0, rejected: [] };
    /** Items per model, with where each came from. */
    const byModel = new Map<string, { items: Record<string, unknown>[]; from: number[] }>();
    for (let i = 0; i < events.length; i++) {
      let half: KserveHalf;
      try {
        half = (events[i] as () => KserveHalf)();
      } catch (e) {
        if (!batch || !isVigilError(e) || e.statusCode >= 500) throw e;
        const raw = parsedBatch[i] as { id?: unknown } | null;
        const id = raw !== null && typeof raw === 'object' && typeof raw.id === 'string' ? raw.id : undefined;
        answer.rejected.push({ event: i, ...(id === undefined ? {} : { id }), code: e.code, reason: e.message });
        continue;
      }
      answer.accepted_events++;
      const { pair, unmatched } = await join.offer(half, now, joinLimits(deps.config()));
      count(unmatched);
      if (pair === null) continue;
      const model = deps.ingestor.model(pair.model);
      const made = pairItems(model, pair);
      if ('error' in made) {
        answer.rejected.push({ event: i, id: pair.id, code: 'VIGIL_ERR_KSERVE_UNMAPPED', reason: made.error });
        log.debug({ model: pair.model, id: pair.id, reason: made.error }, 'kserve pair not mapped');
        continue;
      }
      let group = byModel.get(pair.model);
      if (group === undefined) byModel.set(pair.model, (group = { items: [], from: [] }));
      for (const it of made.items) {
        group.items.push(it);
        group.from.push(i);
      }
    }

    const max = deps.config().server.max_batch_items;
    for (const [model, { items, from }] of byModel) {
      answer.joined_predictions += items.length;
      for (let start = 0; start < items.length; start += max) {
        const chunk = items.slice(start, start + max);
        const r = await deps.ingestor.ingest('predictions', model, chunk);
        answer.stored += r.accepted;
        for (const d of r.duplicates) answer.duplicates.push(d.id);
        for (const rej of r.rejected) {
          const item = chunk[rej.index] as { id: string };
          answer.rejected.push({ event: from[start + rej.index] as number, prediction_id: item.id, field: rej.field, code: 'VIGIL_ERR_KSERVE_PREDICTION_REJECTED', reason: rej.reason });
        }
      }
    }
    answer.pending = await join.pendingCount();
    if (batch && events.length > 0 && answer.accepted_events === 0) {
      throw new VigilError(BAD, `none of the ${events.length} events of the batch was taken (first: ${answer.rejected[0]?.reason ?? ''})`, {
        statusCode: 400,
        details: { rejected: answer.rejected },
      });
    }
    return reply.status(202).send(answer);
  };

  const base = { config: { access: 'ingest' as const } };
  app.post('/v1/kserve/events', base, handle);
  app.post('/v1/kserve/events/:model', { ...base, schema: { params: MODEL_PARAMS } }, handle);
};

const unsupported = (type: string): VigilError =>
  new VigilError('VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', `"${type.split(';')[0] ?? type}" is not supported: send CloudEvents in JSON (application/cloudevents+json, application/cloudevents-batch+json) or binary mode`, {
    statusCode: 415,
  });
