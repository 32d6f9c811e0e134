/**
 * Pure builders of Prometheus's HTTP API answers (web/api/v1/api.go): `GET /api/v1/rules` and
 * `GET /api/v1/alerts`, with the envelope.
 */
import type { AlertState } from '../types.js';
import type { Alert, RuleHealth } from './alerting-rule.js';
import { sortLabels } from './alerting-rule.js';
import { formatFloat, rfc3339 } from './gofmt.js';
import type { Rule, RuleGroup } from './group.js';
import { RecordingRule } from './recording-rule.js';

/** Go's zero time.Time as JSON. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ApiSuccess<T> {
  status: 'success';
  data: T;
}
export interface ApiError {
  status: 'error';
  errorType: 'bad_data' | 'execution' | 'timeout' | 'internal';
  error: string;
}

export function success<T>(data: T): ApiSuccess<T> {
  return { status: 'success', data };
}
export function apiError(errorType: ApiError['errorType'], error: string): ApiError {
  return { status: 'error', errorType, error };
}

export interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

export interface ApiAlertingRule {
  state: AlertState;
  name: string;
  query: string;
  duration: number;
  keepFiringFor: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** null when exclude_alerts=true (Go's nil slice). */
  alerts: ApiAlert[] | null;
  health: RuleHealth;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
  type: 'alerting';
}

/** Prometheus 2.42's RecordingRule (labels omitted when empty). */
export interface ApiRecordingRule {
  name: string;
  query: string;
  labels?: Record<string, string>;
  health: RuleHealth;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
  type: 'recording';
}

export interface ApiRuleGroup {
  name: string;
  file: string;
  rules: (ApiAlertingRule | ApiRecordingRule)[];
  interval: number;
  limit: number;
  evaluationTime: number;
  lastEvaluation: string;
}

/** rulesAlertsToAPIAlerts: value formatted as Go's strconv.FormatFloat(v, 'e', -1, 64). */
export function toApiAlert(a: Alert): ApiAlert {
  const out: ApiAlert = {
    labels: sortLabels(a.labels),
    annotations: sortLabels(a.annotations),
    state: a.state,
    activeAt: rfc3339(a.activeAt),
    value: formatFloat(a.value, 'e', -1),
  };
  if (a.keepFiringSince !== undefined) out.keepFiringSince = rfc3339(a.keepFiringSince);
  return out;
}

function byLabels(a: Alert, b: Alert): number {
  const x = JSON.stringify(a.labels);
  const y = JSON.stringify(b.labels);
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface RulesQuery {
  /** 'alert' | 'record' | undefined; anything else is a bad_data error. */
  readonly type?: string | undefined;
  readonly ruleName?: readonly string[] | undefined;
  readonly ruleGroup?: readonly string[] | undefined;
  readonly file?: readonly string[] | undefined;
  /** 'true' | 'false' | undefined (case-insensitive). */
  readonly excludeAlerts?: string | undefined;
}

/** Parses the query parameters of `GET /api/v1/rules` (`rule_name[]`, `rule_group[]`, `file[]`). */
export function rulesQueryFromParams(params: URLSearchParams): RulesQuery {
  return {
    type: params.get('type') ?? undefined,
    ruleName: params.getAll('rule_name[]'),
    ruleGroup: params.getAll('rule_group[]'),
    file: params.getAll('file[]'),
    excludeAlerts: params.get('exclude_alerts') ?? undefined,
  };
}

/** A rule's health and last evaluation, as both rule kinds report them. */
function evaluation(rule: Rule): { health: RuleHealth; evaluationTime: number; lastEvaluation: string } {
  return {
    health: rule.health,
    evaluationTime: rule.evaluationDurationMs / 1000,
    lastEvaluation: rule.evaluationTimestamp === undefined ? ZERO_TIME : rfc3339(rule.evaluationTimestamp),
  };
}

/** `lastError` only when the rule has one (Go's omitempty). */
function withLastError<T extends { lastError?: string }>(r: T, rule: Rule): T {
  if (rule.lastError !== undefined && rule.lastError !== '') r.lastError = rule.lastError;
  return r;
}

/** `GET /api/v1/rules`. Groups are expected sorted by file, then name (RuleManager.ruleGroups()). */
export function buildRulesResponse(groups: readonly RuleGroup[], q: RulesQuery = {}): ApiSuccess<{ groups: ApiRuleGroup[] }> | ApiError {
  const typ = (q.type ?? '').toLowerCase();
  if (typ !== '' && typ !== 'alert' && typ !== 'record') {
    return apiError('bad_data', `invalid parameter "type": not supported value "${typ}"`);
  }
  let excludeAlerts = false;
  if (q.excludeAlerts !== undefined && q.excludeAlerts !== '') {
    const v = q.excludeAlerts.toLowerCase();
    if (v !== 'true' && v !== 'false') return apiError('bad_data', `invalid parameter "exclude_alerts": exclude_alerts must be 'true' or 'false'`);
    excludeAlerts = v === 'true';
  }
  const returnAlerts = typ === '' || typ === 'alert';
  const returnRecording = typ === '' || typ === 'record';
  const rn = new Set(q.ruleName ?? []);
  const rg = new Set(q.ruleGroup ?? []);
  const fs = new Set(q.file ?? []);
  const out: ApiRuleGroup[] = [];
  for (const g of groups) {
    if (rg.size > 0 && !rg.has(g.def.name)) continue;
    if (fs.size > 0 && !fs.has(g.def.file)) continue;
    const apiGroup: ApiRuleGroup = {
      name: g.def.name,
      file: g.def.file,
      rules: [],
      interval: g.def.intervalMs / 1000,
      limit: g.def.limit,
      evaluationTime: g.evaluationTimeMs / 1000,
      lastEvaluation: g.lastEvaluation === undefined ? ZERO_TIME : rfc3339(g.lastEvaluation),
    };
    for (const rule of g.rules) {
      if (rn.size > 0 && !rn.has(rule.name)) continue;
      if (rule instanceof RecordingRule) {
        if (!returnRecording) continue;
        const r: ApiRecordingRule = {
          name: rule.name,
          query: rule.def.expr,
          ...(Object.keys(rule.def.labels).length > 0 ? { labels: sortLabels(rule.def.labels) } : {}),
          ...evaluation(rule),
          type: 'recording',
        };
        apiGroup.rules.push(withLastError(r, rule));
        continue;
      }
      if (!returnAlerts) continue;
      const r: ApiAlertingRule = {
        state: rule.state(),
        name: rule.name,
        query: rule.def.expr,
        duration: rule.def.forMs / 1000,
        keepFiringFor: rule.def.keepFiringForMs / 1000,
        labels: sortLabels(rule.def.labels),
        annotations: sortLabels(rule.def.annotations),
        alerts: excludeAlerts ? null : rule.activeAlerts().sort(byLabels).map(toApiAlert),
        ...evaluation(rule),
        type: 'alerting',
      };
      apiGroup.rules.push(withLastError(r, rule));
    }
    // A group whose rules were all filtered out is left out.
    if (apiGroup.rules.length > 0) out.push(apiGroup);
  }
  return success({ groups: out });
}

/** `GET /api/v1/alerts`: every unresolved alert (pending, firing, kept firing). */
export function buildAlertsResponse(groups: readonly RuleGroup[]): ApiSuccess<{ alerts: ApiAlert[] }> {
  const alerts: ApiAlert[] = [];
  for (const g of groups) for (const rule of g.alerting) alerts.push(...rule.activeAlerts().sort(byLabels).map(toApiAlert));
  return success({ alerts });
}

