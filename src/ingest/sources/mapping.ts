import { z } from 'zod';
import type { IngestKind } from '../ingestor.js';
import { SourceError } from './http.js';

/**
 * Field mapping shared by the http_json and file sources: Vigil item fields (`id`, `ts`,
 * `prediction`, `features.amount`, `score.churn`, …) ← dot paths in a source record.
 */

/** The top-level fields of prediction and label items (see src/ingest/events.ts). */
export const PREDICTION_FIELDS = ['id', 'ts', 'model_version', 'prediction', 'score', 'label', 'latency_ms', 'segment', 'error'] as const;
export const LABEL_FIELDS = ['id', 'ts', 'label'] as const;

const MAPPING_KEY_RE = /^(id|ts|model_version|prediction|score|label|latency_ms|segment|error|features\.[^.]+|score\.[^.]+)$/;

/** `mapping:` — Vigil item field → dot path (http_json) or column name (file). */
export const mappingSchema = () =>
  z.record(
    z.string().regex(MAPPING_KEY_RE, 'must be an item field: id, ts, model_version, prediction, score, label, latency_ms, segment, error, features.<name> or score.<class>'),
    z.string().min(1),
  );

/** Reads a dot path (`a.b.0.c`); '' and '.' are the value itself; undefined when absent. */
export function getPath(value: unknown, path: string): unknown {
  if (path === '' || path === '.') return value;
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) return undefined;
      cur = cur[Number(part)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
  }
  return cur;
}

/** The array at `path` of a JSON answer, or a BAD_RESPONSE error saying what was there. */
export function recordsAt(answer: unknown, path: string, what: string): unknown[] {
  const v = getPath(answer, path);
  if (Array.isArray(v)) return v;
  const where = path === '' || path === '.' ? 'the answer' : `"${path}"`;
  throw new SourceError('VIGIL_ERR_SOURCE_BAD_RESPONSE', `${what}: expected an array at ${where}, found ${describeValue(v)}`);
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export interface ItemMapping {
  /** field → dot path in the record. */
  mapping: Readonly<Record<string, string>>;
  /** Dot path of an object of features in the record (predictions; default `features`); null: none. */
  featuresPath: string | null;
}

/**
 * Builds a Vigil item from a source record: every field taken from its mapped path, or from the
 * same-named key when unmapped; absent values are left out so validation reports them exactly as
 * the HTTP API does.
 */
/** An object for user-named keys: null prototype, so `__proto__` or `constructor` is an ordinary key. */
const dict = (): Record<string, unknown> => Object.create(null) as Record<string, unknown>;

export function mapRecord(kind: IngestKind, record: unknown, m: ItemMapping): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  const fields = kind === 'predictions' ? PREDICTION_FIELDS.filter((f) => f !== 'label') : LABEL_FIELDS;
  for (const f of fields) {
    const v = getPath(record, m.mapping[f] ?? f);
    if (v !== undefined) item[f] = v;
  }
  if (kind === 'predictions') {
    let features: Record<string, unknown> | undefined;
    if (m.featuresPath !== null) {
      const f = getPath(record, m.featuresPath);
      if (f !== null && typeof f === 'object' && !Array.isArray(f)) features = Object.assign(dict(), f);
      else if (f !== undefined) features = dict();
    }
    let score: Record<string, unknown> | undefined;
    for (const [key, path] of Object.entries(m.mapping)) {
      const v = getPath(record, path);
      if (key.startsWith('features.')) {
        features ??= dict();
        if (v !== undefined) features[key.slice('features.'.length)] = v;
      } else if (key.startsWith('score.')) {
        score ??= dict();
        if (v !== undefined) score[key.slice('score.'.length)] = v;
      }
    }
    if (features !== undefined) item.features = features;
    if (score !== undefined) item.score = score;
  }
  return item;
}
