export {
  ALERT_FOR_STATE_METRIC_NAME,
  ALERT_METRIC_NAME,
  AlertingRule,
  RESOLVED_RETENTION_MS,
  RuleEvalError,
  fingerprint,
  labelsString,
  needsSending,
  sortLabels,
  toAlertPayload,
  type Alert,
  type AlertingRuleOptions,
  type RuleHealth,
} from './alerting-rule.js';
export {
  DEFAULT_FOR_GRACE_PERIOD_MS,
  DEFAULT_OUTAGE_TOLERANCE_MS,
  DEFAULT_RESEND_DELAY_MS,
  RuleGroup,
  RuleManager,
  groupKey,
  vectorOf,
  type EngineOptions,
  type GroupEvalResult,
  type Rule,
  type RuleEvaluator,
} from './group.js';
export { RecordingRule } from './recording-rule.js';
export { restoreForState, type AlertStateStore, type PersistedAlert, type RestoreOptions, type RestoreOutcome } from './restore.js';
export {
  apiError,
  buildAlertsResponse,
  buildRulesResponse,
  rulesQueryFromParams,
  success,
  toApiAlert,
  type ApiAlert,
  type ApiAlertingRule,
  type ApiError,
  type ApiRecordingRule,
  type ApiRuleGroup,
  type ApiSuccess,
  type RulesQuery,
} from './api.js';
export {
  ALERT_TEMPLATE_DEFS,
  TemplateParseError,
  checkTemplate,
  expandAlertTemplate,
  expandTemplate,
  goSprintf,
  parseTemplate,
  type AlertTemplateData,
  type ParsedTemplate,
} from './template.js';
export { formatFloat, goFloatString, parsePromDuration, promDurationString, rfc3339, tableLinkForExpression } from './gofmt.js';
