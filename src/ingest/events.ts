import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { ModelConfig } from '../config/schema.js';
import { parseRfc3339, RFC3339_EXAMPLE } from '../core/rfc3339.js';
import type { FeatureValue, LabelRecord, PredictionRecord, Target } from '../store/store.js';

const Ajv = AjvModule.default ?? AjvModule;

/** Why one item of a batch was not taken. */
export interface ItemRejection {
  index: number;
  /** The item's id when it had a usable one. */
  id?: string;
  /** Dotted path of the offending field (`features.amount`), or '' for the item itself. */
  field: string;
  reason: string;
}

export interface ValidatedBatch<T> {
  records: T[];
  /** `indexes[i]` is the position in the request of `records[i]`. */
  indexes: number[];
  rejected: ItemRejection[];
}

export interface ValidationContext {
  now: number;
  /** How far in the future an event time may be (clock skew). */
  maxFutureSkewMs: number;
}

const ID_SCHEMA = { anyOf: [{ type: 'string', minLength: 1, maxLength: 256 }, { type: 'integer', minimum: 0 }] };
const TS_SCHEMA = { type: ['string', 'number'] };
/**
 * A W3C trace context `traceparent` (w3.org/TR/trace-context, "traceparent Header"): version,
 * trace id, parent (span) id and flags in lower-case hex; version ff and all-zero ids are invalid.
 */
export const TRACEPARENT_RE = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const TRACEPARENT_SCHEMA = { type: 'string', pattern: TRACEPARENT_RE.source };
const CLASS_SCHEMA = { type: ['string', 'number', 'boolean'] };

/** Earliest accepted event time (2000-01-01): smaller epoch values are almost surely seconds. */
const MIN_TS = 946_684_800_000;

/** A `score`: binary, the positive class's probability; multiclass, `{class: probability}`; regression, none. */
function scoreSchema(model: ModelConfig): object {
  return model.task === 'binary'
    ? { type: ['number', 'null'], minimum: 0, maximum: 1 }
    : model.task === 'multiclass'
      ? { type: ['object', 'null'], additionalProperties: { type: 'number', minimum: 0, maximum: 1 } }
      : { type: 'null' };
}

/** A prediction or label: a class for classifiers, a number for regression. */
const targetSchema = (model: ModelConfig): object => (model.task === 'regression' ? { type: 'number' } : CLASS_SCHEMA);

const nullableTarget = (model: ModelConfig): object => ({ type: model.task === 'regression' ? ['number', 'null'] : ['string', 'number', 'boolean', 'null'] });

/**
 * The JSON Schema of one prediction item for a model. `features` is only required to be an object
 * here: its keys are user-chosen names, which a schema's `properties` cannot all express (Ajv drops
 * a property named `__proto__`), so {@link ModelValidator} checks them against the configuration
 * itself, by own keys.
 */
export function predictionItemSchema(model: ModelConfig): object {
  return {
    type: 'object',
    required: ['id', 'prediction'],
    additionalProperties: false,
    properties: {
      id: ID_SCHEMA,
      ts: TS_SCHEMA,
      model_version: { type: 'string', minLength: 1, maxLength: 128 },
      features: { type: 'object' },
      prediction: targetSchema(model),
      score: scoreSchema(model),
      latency_ms: { type: 'number', minimum: 0 },
      segment: { type: 'string', maxLength: 128 },
      error: { type: ['string', 'boolean', 'null'], maxLength: 1024 },
      traceparent: TRACEPARENT_SCHEMA,
    },
  };
}

/**
 * The JSON Schema of one reference (baseline) row: what a prediction item has, every part optional,
 * plus its `label` — so a row is checked exactly as a prediction and a label are. The prediction
 * item's other fields (id, ts, …) are allowed and ignored (rows exported from traffic carry them).
 */
export function referenceItemSchema(model: ModelConfig): object {
  const item = predictionItemSchema(model) as { properties: Record<string, object> };
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...item.properties,
      id: {},
      ts: {},
      traceparent: {},
      prediction: nullableTarget(model),
      label: nullableTarget(model),
    },
  };
}

/** The fields of a reference row besides its features. */
export type ReferenceField = 'prediction' | 'label' | 'score' | 'segment';

/** One validated reference row (a baseline's input): what drift and reference quality read. */
export interface ReferenceRecord {
  features: Record<string, FeatureValue>;
  prediction: Target | null;
  /** Binary: probability of the positive class; multiclass: `{class: probability}`. */
  score: number | Readonly<Record<string, number>> | null;
  label: Target | null;
  /** The row's segment (a baseline's segment references). */
  segment: string | null;
}

/** The JSON Schema of one label item. */
export function labelItemSchema(model: ModelConfig): object {
  return {
    type: 'object',
    required: ['id', 'label'],
    additionalProperties: false,
    properties: {
      id: ID_SCHEMA,
      ts: TS_SCHEMA,
      label: model.task === 'regression' ? { type: 'number' } : CLASS_SCHEMA,
    },
  };
}

function describe(err: ErrorObject): { field: string; reason: string } {
  const base = err.instancePath.replace(/^\//, '').split('/').filter(Boolean).map(unescapePointer);
  // the anyOf of ID_SCHEMA reports its first branch ("must be a string"): say what an id may be
  if (err.instancePath === '/id') return { field: 'id', reason: 'must be a string of 1-256 characters or a non-negative integer' };
  switch (err.keyword) {
    case 'required': {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      return { field: [...base, missing].join('.'), reason: `${missing} is required` };
    }
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      const field = [...base, extra].join('.');
      return base[0] === 'features'
        ? { field, reason: `unknown feature "${extra}" (not in the model's configuration)` }
        : { field, reason: `unknown field "${extra}"` };
    }
    case 'type': {
      const types = String((err.params as { type: string | string[] }).type).split(',');
      const wanted = types.map((t) => (t === 'number' ? 'a finite number' : t === 'integer' ? 'an integer' : t === 'null' ? 'null' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`));
      return { field: base.join('.'), reason: `must be ${wanted.join(' or ')}` };
    }
    default:
      return { field: base.join('.'), reason: err.message ?? 'invalid' };
  }
}

const unescapePointer = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

function parseTs(v: unknown, ctx: ValidationContext): number | string {
  if (v === undefined) return ctx.now;
  let ts: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'must be a finite number';
    ts = Math.round(v);
    if (ts < MIN_TS) return 'must be epoch milliseconds (this looks like seconds, or is before 2000)';
  } else {
    const parsed = parseRfc3339(String(v));
    if ('error' in parsed) return parsed.error.startsWith('must') ? `must be an RFC 3339 time (${RFC3339_EXAMPLE}) or epoch milliseconds` : `"${String(v)}" ${parsed.error}`;
    ts = parsed.ms;
    if (ts < MIN_TS) return 'is before 2000-01-01';
  }
  if (ts > ctx.now + ctx.maxFutureSkewMs) return 'is in the future (beyond server.max_future_skew)';
  return ts;
}

const classOf = (v: unknown): string => String(v);

/** Compiled validators for one model's items. Rebuilt when the configuration changes. */
export class ModelValidator {
  private readonly prediction: ValidateFunction;
  private readonly label: ValidateFunction;
  private readonly classes: ReadonlySet<string> | undefined;
  private readonly ajv: InstanceType<typeof Ajv>;
  /** Compiled on first use (baselines are rare next to predictions). */
  private reference: ValidateFunction | undefined;
  /** The reference item's field schemas, compiled on first use (referenceFieldValid). */
  private readonly referenceFields: Partial<Record<ReferenceField, ValidateFunction>> = {};
  /** Configured feature types by name; read by own property only (a plain object: faster than a Map here). */
  private readonly featureTypes: Readonly<Record<string, 'numeric' | 'categorical'>>;

  constructor(readonly model: ModelConfig) {
    // The schemas name only fixed fields, none of which Object.prototype has; user-named keys
    // (features) are checked by own property in features() below.
    this.ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
    this.prediction = this.ajv.compile(predictionItemSchema(model));
    this.label = this.ajv.compile(labelItemSchema(model));
    this.classes = model.classes ? new Set(model.classes) : undefined;
    this.featureTypes = Object.fromEntries(model.features.map((f) => [f.name, f.type]));
  }

  /**
   * The item's features, or the first bad one. A feature named `__proto__`, `constructor` or
   * `toString` is an ordinary name: `__proto__` is defined as an own property (an assignment would
   * set the prototype), and readers look features up by own property (as they must for the plain
   * objects JSON.parse gives back from the store). A plain object, not a null-prototype one:
   * JSON.stringify is 2-3 times slower on those.
   */
  private features(raw: Record<string, unknown>, reject: (field: string, reason: string) => void): Record<string, FeatureValue> | undefined {
    const types = this.featureTypes;
    let copy = false;
    // for-in: JSON.parse gives own enumerable keys only, and Object.prototype has none enumerable
    for (const k in raw) {
      const v = raw[k];
      if (!Object.hasOwn(raw, k)) copy = true; // an object not from JSON.parse (a source's): made own in a copy
      const type = Object.hasOwn(types, k) ? types[k] : undefined;
      if (type === undefined && !this.model.allow_unknown_features) {
        reject(`features.${k}`, `unknown feature "${k}" (not in the model's configuration)`);
        return undefined;
      }
      if (v === null || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string') {
        if (typeof v === 'string' && type === 'numeric') {
          reject(`features.${k}`, 'must be a finite number or null');
          return undefined;
        }
      } else if (type === 'numeric' || typeof v !== 'boolean') {
        reject(`features.${k}`, type === 'numeric' ? 'must be a finite number or null' : 'must be a string or a finite number or a boolean or null');
        return undefined;
      } else copy = true; // a boolean category: kept as its string
    }
    // Every value as it is stored: the parsed object itself (JSON.parse made `__proto__` an own
    // property already), not a copy of it — ingestion's garbage per row is its parsed item alone.
    if (!copy) return raw as Record<string, FeatureValue>;
    const features: Record<string, FeatureValue> = {};
    for (const k in raw) {
      const v = raw[k] as FeatureValue | boolean;
      const value = typeof v === 'boolean' ? String(v) : v;
      if (k === '__proto__') Object.defineProperty(features, k, { value, enumerable: true, writable: true, configurable: true });
      else features[k] = value;
    }
    return features;
  }

  /** A multiclass score's classes must be the model's (when it lists them), as a prediction's are. */
  private checkScoreClasses(score: unknown): { field: string; reason: string } | undefined {
    if (this.model.task !== 'multiclass' || score === null || typeof score !== 'object') return undefined;
    const badKey = Object.keys(score).find((k) => this.classes !== undefined && !this.classes.has(k));
    return badKey === undefined ? undefined : { field: `score.${badKey}`, reason: `"${badKey}" is not one of the model's classes` };
  }

  /**
   * Reference (baseline) rows: each checked as a prediction item and a label are — the same
   * schemas for features, prediction, score and label, the same class checks — but every part is
   * optional and there is no id or time. Bad rows are listed, the others kept.
   */
  referenceRows(items: readonly unknown[]): { records: ReferenceRecord[]; indexes: number[]; rejected: ItemRejection[] } {
    this.reference ??= this.ajv.compile(referenceItemSchema(this.model));
    const validate = this.reference;
    const out: { records: ReferenceRecord[]; indexes: number[]; rejected: ItemRejection[] } = { records: [], indexes: [], rejected: [] };
    const regression = this.model.task === 'regression';
    const target = (v: unknown): Target | null => (v === undefined || v === null ? null : regression ? (v as number) : classOf(v));
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const reject = (field: string, reason: string): void => void out.rejected.push({ index: i, field, reason });
      if (!validate(item)) {
        const d = describe((validate.errors as ErrorObject[])[0] as ErrorObject);
        reject(d.field, d.reason);
        continue;
      }
      const it = item as Record<string, unknown>;
      const prediction = target(it.prediction);
      const label = target(it.label);
      const bad =
        this.model.task === 'multiclass'
          ? ((prediction === null ? undefined : this.checkClass(prediction, 'prediction')) ?? (label === null ? undefined : this.checkClass(label, 'label')))
          : undefined;
      if (bad !== undefined) {
        reject(bad.startsWith('prediction') ? 'prediction' : 'label', bad);
        continue;
      }
      const badScore = this.checkScoreClasses(it.score);
      if (badScore !== undefined) {
        reject(badScore.field, badScore.reason);
        continue;
      }
      const checked = this.features((it.features ?? {}) as Record<string, unknown>, reject);
      if (checked === undefined) continue;
      // Known features only (allow_unknown_features: accepted, not kept); categories as strings.
      const features: Record<string, FeatureValue> = {};
      const types = this.featureTypes;
      for (const k in checked) {
        if (!Object.hasOwn(types, k)) continue;
        const v = checked[k] as FeatureValue;
        const value = v === null || types[k] === 'numeric' ? v : String(v);
        if (k === '__proto__') Object.defineProperty(features, k, { value, enumerable: true, writable: true, configurable: true });
        else features[k] = value;
      }
      out.records.push({ features, prediction, score: (it.score as ReferenceRecord['score'] | undefined) ?? null, label, segment: (it.segment as string | undefined) ?? null });
      out.indexes.push(i);
    }
    return out;
  }

  /**
   * Whether a reference row whose `field` is `value` passes {@link referenceRows} as far as that
   * field goes: its schema, then its class checks. The fields of a row are checked independently of
   * each other, so a row passes when each of its fields does — which lets a file's column be
   * checked once per distinct value instead of once per row.
   */
  referenceFieldValid(field: ReferenceField, value: unknown): boolean {
    let validate = this.referenceFields[field];
    if (validate === undefined) {
      const schema = (referenceItemSchema(this.model) as { properties: Record<ReferenceField, object> }).properties[field];
      validate = this.referenceFields[field] = this.ajv.compile(schema);
    }
    if (!validate(value)) return false;
    if (field === 'score') return this.checkScoreClasses(value) === undefined;
    if ((field === 'prediction' || field === 'label') && this.model.task === 'multiclass' && value !== null && value !== undefined) return this.checkClass(value, field) === undefined;
    return true;
  }

  private checkClass(value: unknown, field: string): string | undefined {
    if (this.classes !== undefined && !this.classes.has(classOf(value))) {
      return `${field} "${classOf(value)}" is not one of the model's classes (${[...this.classes].join(', ')})`;
    }
    return undefined;
  }

  predictions(items: readonly unknown[], ctx: ValidationContext): ValidatedBatch<PredictionRecord> {
    const out: ValidatedBatch<PredictionRecord> = { records: [], indexes: [], rejected: [] };
    const task = this.model.task;
    for (let i = 0; i < items.length; i++) {
      const checked = check(this.prediction, items[i], i, ctx, out.rejected);
      if (checked === null) continue;
      const { it, ts, reject } = checked;
      const features = this.features((it.features ?? {}) as Record<string, unknown>, reject);
      if (features === undefined) continue;
      const prediction: Target = task === 'regression' ? (it.prediction as number) : classOf(it.prediction);
      if (task === 'multiclass') {
        const bad = this.checkClass(prediction, 'prediction');
        if (bad !== undefined) {
          reject('prediction', bad);
          continue;
        }
        const badScore = this.checkScoreClasses(it.score);
        if (badScore !== undefined) {
          reject(badScore.field, badScore.reason);
          continue;
        }
      }
      const err = it.error;
      out.records.push({
        id: String(it.id),
        ts,
        version: (it.model_version as string | undefined) ?? 'unknown',
        features,
        prediction,
        score: (it.score as PredictionRecord['score'] | undefined) ?? null,
        latencyMs: (it.latency_ms as number | undefined) ?? null,
        segment: (it.segment as string | undefined) ?? null,
        error: err === undefined || err === null || err === false ? null : err === true ? 'error' : String(err),
        ...(typeof it.traceparent === 'string' ? { traceparent: it.traceparent } : {}),
      });
      out.indexes.push(i);
    }
    return out;
  }

  labels(items: readonly unknown[], ctx: ValidationContext): ValidatedBatch<LabelRecord> {
    const out: ValidatedBatch<LabelRecord> = { records: [], indexes: [], rejected: [] };
    for (let i = 0; i < items.length; i++) {
      const checked = check(this.label, items[i], i, ctx, out.rejected);
      if (checked === null) continue;
      const { it, ts, reject } = checked;
      const label: Target = this.model.task === 'regression' ? (it.label as number) : classOf(it.label);
      const bad = this.model.task === 'multiclass' ? this.checkClass(label, 'label') : undefined;
      if (bad !== undefined) {
        reject('label', bad);
        continue;
      }
      out.records.push({ id: String(it.id), ts, label });
      out.indexes.push(i);
    }
    return out;
  }
}

/**
 * The checks every item gets: its JSON Schema, then its event time. Returns the item with its
 * time and a `reject` for later checks, or null when it was rejected (and recorded).
 */
function check(
  validate: ValidateFunction,
  item: unknown,
  index: number,
  ctx: ValidationContext,
  rejected: ItemRejection[],
): { it: Record<string, unknown>; ts: number; reject: (field: string, reason: string) => void } | null {
  const reject = (field: string, reason: string): void => {
    const id = idOf(item);
    rejected.push(id === undefined ? { index, field, reason } : { index, id, field, reason });
  };
  if (!validate(item)) {
    const d = describe((validate.errors as ErrorObject[])[0] as ErrorObject);
    reject(d.field, d.reason);
    return null;
  }
  const it = item as Record<string, unknown>;
  if (typeof it.id === 'number' && it.id > Number.MAX_SAFE_INTEGER) {
    reject('id', 'an integer id above 2^53 - 1 cannot be kept exactly: send it as a string');
    return null;
  }
  const ts = parseTs(it.ts, ctx);
  if (typeof ts === 'string') {
    reject('ts', ts);
    return null;
  }
  return { it, ts, reject };
}

function idOf(item: unknown): string | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const id = (item as { id?: unknown }).id;
  return (typeof id === 'string' && id.length > 0 && id.length <= 256) || (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)
    ? String(id)
    : undefined;
}
