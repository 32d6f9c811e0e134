/**
 * Shared types of the alerting subsystem. Definitions (from rule files and config) are read-only;
 * runtime state lives in the engine; the wire payloads are their own types.
 */

export type Labels = Readonly<Record<string, string>>;

/** One element of an instant vector (PromQL). `labels` carries `__name__` where Prometheus keeps it. */
export interface VectorSample {
  readonly labels: Labels;
  readonly value: number;
}

/** An instant-query result. */
export type PromqlValue =
  | { readonly type: 'vector'; readonly samples: readonly VectorSample[] }
  | { readonly type: 'scalar'; readonly value: number }
  | { readonly type: 'string'; readonly value: string };

/** An alerting rule as loaded from a rule file (read-only definition). */
export interface AlertRuleDef {
  readonly kind?: 'alert';
  readonly name: string;
  readonly expr: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Labels;
  readonly annotations: Labels;
  /** Where it is defined (file:line), for errors and the API. */
  readonly file: string;
  readonly line: number;
}

/** A recording rule (`record:`): its result is stored as series named `name`, with `labels` set. */
export interface RecordRuleDef {
  readonly kind: 'record';
  readonly name: string;
  readonly expr: string;
  readonly labels: Labels;
  readonly file: string;
  readonly line: number;
}

export type RuleDef = AlertRuleDef | RecordRuleDef;

export function isRecordRule(r: RuleDef): r is RecordRuleDef {
  return r.kind === 'record';
}

export interface RuleGroupDef {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
  /** Prometheus `limit`: 0 = none. */
  readonly limit: number;
  readonly labels: Labels;
  /** In evaluation order. */
  readonly rules: readonly RuleDef[];
}

export type AlertState = 'pending' | 'firing' | 'inactive';

/** An alert as Vigil and Prometheus send it to Alertmanager (`POST /api/v2/alerts`). */
export interface AlertPayload {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339 */
  startsAt: string;
  /** RFC 3339 */
  endsAt: string;
  generatorURL: string;
}
