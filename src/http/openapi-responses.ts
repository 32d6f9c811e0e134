/**
 * The answers of the API as the OpenAPI document describes them (GET /openapi.json), by route
 * (`METHOD /url` as registered, `:param` form) and status. They are merged into the document by
 * @fastify/swagger's transform (server.ts) and never given to the routes themselves: a Fastify
 * route's `schema.response` would also serialize its answers, dropping any field it does not list.
 * openapi.test.ts checks that real answers validate against them.
 */

/** Every error answer of the API (docs/http-errors.md). */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', pattern: '^VIGIL_ERR_[A-Z0-9_]+$' },
        message: { type: 'string' },
      },
      additionalProperties: true,
    },
  },
} as const;

export interface DocumentedResponse {
  description: string;
  /** The JSON body's schema (JSON Schema 2020-12, as OpenAPI 3.1 takes it); none: not JSON. */
  schema?: object;
  /** The media type when the body is not JSON (text/plain, text/html, …). Neither this nor `schema`: no body (304). */
  type?: string;
  /** Other media types the same status may answer in (content negotiation): each with its schema, or null when it is not JSON. */
  also?: Record<string, object | null>;
}

export type RouteResponses = Partial<Record<number | 'default', DocumentedResponse>>;

/** An instant as the API writes it: RFC 3339 in UTC with milliseconds (`Date.prototype.toISOString`). */
const TIME = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$', description: 'RFC 3339, UTC, milliseconds' } as const;
const TIME_OR_NULL = { anyOf: [TIME, { type: 'null' }] } as const;
/** An instant as Prometheus's API writes it (Go's RFC 3339 with as many fraction digits as needed; `0001-01-01T00:00:00Z` for never). */
const GO_TIME = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$' } as const;
const COUNT = { type: 'integer', minimum: 0 } as const;
const STRINGS = { type: 'array', items: { type: 'string' } } as const;
const LABELS = { type: 'object', additionalProperties: { type: 'string' } } as const;
/** A class (binary, multiclass) or a value (regression). */
const TARGET = { type: ['string', 'number'] } as const;
const obj = (properties: Record<string, object>, required: string[] = Object.keys(properties), more: object = {}) => ({ type: 'object', required, additionalProperties: false, properties, ...more });

/** `POST /v1/models/:model/predictions` and `…/labels` (src/ingest/ingestor.ts IngestResult). */
const ITEM_REJECTED = obj(
  {
    index: { ...COUNT, description: "The item's position in the request" },
    id: { type: 'string', description: "The item's id, when it had a usable one" },
    field: { type: 'string', description: "Dotted path of the offending field (`features.amount`), '' for the item itself" },
    reason: { type: 'string' },
  },
  ['index', 'field', 'reason'],
);
const INGEST_RESULT = obj({
  accepted: { ...COUNT, description: 'Items stored now' },
  duplicates: {
    type: 'array',
    description: 'Items whose id was already stored: not stored again (the first write wins)',
    items: obj({ index: { ...COUNT, description: "The item's position in the request" }, id: { type: 'string' } }),
  },
  rejected: {
    type: 'array',
    description: 'Items that failed validation: nothing of them stored',
    items: ITEM_REJECTED,
  },
});

const BASELINE_REF = obj({ id: COUNT, version: { type: 'string' }, own: { type: 'boolean', description: "false: the version has no baseline of its own and is compared with the model's latest" } });

/** A model's configuration and what the store holds for it (routes/models.ts modelStatus). */
const MODEL_STATUS = obj(
  {
    name: { type: 'string' },
    task: { enum: ['binary', 'multiclass', 'regression'] },
    positive_class: { type: 'string', description: 'Binary models that configure it' },
    classes: { ...STRINGS, description: 'Multiclass models that configure them' },
    labels: { ...LABELS, description: "The model's configured extra series labels" },
    features: { type: 'array', items: obj({ name: { type: 'string' }, type: { enum: ['numeric', 'categorical'] } }) },
    windows: { ...STRINGS, description: 'Durations (`1h`)' },
    min_samples: COUNT,
    predictions: { ...COUNT, description: 'Predictions stored' },
    labels_received: { ...COUNT, description: 'Labels stored' },
    labeled_predictions: { ...COUNT, description: 'Predictions that have a label' },
    label_coverage_ratio: { type: ['number', 'null'], minimum: 0, maximum: 1, description: 'labeled_predictions / predictions; null with no predictions' },
    last_prediction_at: { ...TIME_OR_NULL, description: 'Event time of the latest prediction' },
    last_label_at: TIME_OR_NULL,
    versions: {
      type: 'array',
      items: obj({
        version: { type: 'string' },
        predictions: COUNT,
        first_prediction_at: TIME_OR_NULL,
        last_prediction_at: TIME_OR_NULL,
        baseline: { anyOf: [BASELINE_REF, { type: 'null' }], description: 'The baseline this version is compared with' },
      }),
    },
    latest_baseline: { anyOf: [obj({ id: COUNT, version: { type: 'string' }, source: { type: 'string' }, rows: COUNT, created_at: TIME }), { type: 'null' }] },
  },
  ['name', 'task', 'labels', 'features', 'windows', 'min_samples', 'predictions', 'labels_received', 'labeled_predictions', 'label_coverage_ratio', 'last_prediction_at', 'last_label_at', 'versions', 'latest_baseline'],
);

const PREDICTION = obj({
  id: { type: 'string' },
  ts: { ...TIME, description: 'Event time' },
  model_version: { type: 'string' },
  features: { type: 'object', additionalProperties: { type: ['number', 'string', 'null'] }, description: 'By feature name' },
  prediction: TARGET,
  score: {
    anyOf: [{ type: 'number' }, { type: 'object', additionalProperties: { type: 'number' } }, { type: 'null' }],
    description: "Binary: the positive class's probability; multiclass: `{class: probability}`",
  },
  latency_ms: { type: ['number', 'null'] },
  segment: { type: ['string', 'null'] },
  error: { type: ['string', 'null'], description: 'Serving reported an error for this request' },
  traceparent: { type: ['string', 'null'], description: 'The W3C trace context of the serving request' },
  received_at: TIME,
  label: { anyOf: [obj({ label: TARGET, ts: TIME }), { type: 'null' }], description: 'null until the label arrives' },
});

const CIRCUIT = obj({
  model: { type: 'string' },
  state: { enum: ['closed', 'open', 'half_open'] },
  since: { ...TIME_OR_NULL, description: 'Since when it is in this state; null: never changed' },
  reason: { type: 'string' },
  incident_id: { type: ['string', 'null'] },
  probe_until: { ...TIME_OR_NULL, description: 'Half-open: when the probe period ends' },
  manual: { type: 'boolean', description: 'Set by an admin (PUT): automation leaves it alone' },
});

const ACTION_STATUS = { enum: ['pending_approval', 'running', 'succeeded', 'failed', 'refused', 'skipped', 'dry_run', 'rejected', 'expired', 'interrupted'] } as const;
const ACTION = obj({
  id: { type: 'string' },
  incident_id: { type: 'string' },
  idempotency_key: { type: ['string', 'null'], description: '`<incident id>/<action name>` for executions; null for skips' },
  model: { type: 'string' },
  action: { type: 'string', description: 'The configured action name (`vigil:ack` for an acknowledgement)' },
  type: { type: 'string' },
  status: ACTION_STATUS,
  reason: { type: 'string' },
  created_at: TIME,
  started_at: TIME_OR_NULL,
  ended_at: TIME_OR_NULL,
  expires_at: { ...TIME_OR_NULL, description: 'Pending approvals expire then' },
  attempts: COUNT,
  error: { type: ['string', 'null'] },
  details: { type: 'object', description: 'What the action did or would do (by action type)' },
  decided_by: { type: ['string', 'null'], description: 'Who approved or rejected it' },
});
const INCIDENT = obj({
  id: { type: 'string' },
  status: { enum: ['open', 'resolved'] },
  alertname: { type: 'string' },
  model: { type: 'string', description: "The alert's `model` label ('' when it has none)" },
  fingerprint: { type: 'string', description: 'Of the alert labels: one open incident per fingerprint at a time' },
  labels: LABELS,
  annotations: LABELS,
  fired_at: TIME,
  resolved_at: TIME_OR_NULL,
  duration_seconds: { type: ['integer', 'null'], description: 'null while open' },
  actions: { type: 'array', items: ACTION, description: 'Oldest first' },
});

/** Remediation's state (GET /v1/remediation, pause, resume). */
const REMEDIATION_STATUS_PROPS = {
  paused: { type: 'boolean' },
  paused_by_config: { type: 'boolean', description: 'remediation.paused in the configuration' },
  pause: { anyOf: [obj({ by: { type: 'string' }, reason: { type: 'string' }, at: TIME }), { type: 'null' }], description: 'The runtime pause (POST /v1/remediation/pause)' },
  dry_run: { type: 'boolean' },
  running: { ...STRINGS, description: 'Idempotency keys of the actions running' },
  open_incidents: COUNT,
  rollback_loops: { ...STRINGS, description: 'Models whose rollbacks loop: remediation leaves them alone until resumed' },
} as const;
const REMEDIATION_STATUS = obj({ ...REMEDIATION_STATUS_PROPS, circuits: { type: 'array', items: CIRCUIT } });

/** Prometheus's error envelope (web/api/v1/api.go). */
const PROM_ERROR = obj({ status: { const: 'error' }, errorType: { enum: ['bad_data', 'execution', 'timeout', 'internal'] }, error: { type: 'string' } });
const PROM_ALERT_PROPS = {
  labels: LABELS,
  annotations: LABELS,
  state: { enum: ['pending', 'firing', 'inactive'] },
  activeAt: GO_TIME,
  keepFiringSince: GO_TIME,
  value: { type: 'string', description: "Go's FormatFloat(v, 'e', -1)" },
} as const;
const PROM_ALERT = obj(PROM_ALERT_PROPS, ['labels', 'annotations', 'state', 'activeAt', 'value']);
const RULE_EVAL = { health: { enum: ['ok', 'err', 'unknown'] }, lastError: { type: 'string' }, evaluationTime: { type: 'number', description: 'Seconds' }, lastEvaluation: GO_TIME } as const;
const ALERTING_RULE = obj(
  {
    state: { enum: ['pending', 'firing', 'inactive'] },
    name: { type: 'string' },
    query: { type: 'string' },
    duration: { type: 'number', description: '`for`, seconds' },
    keepFiringFor: { type: 'number' },
    labels: LABELS,
    annotations: LABELS,
    alerts: { anyOf: [{ type: 'array', items: PROM_ALERT }, { type: 'null' }], description: 'null with exclude_alerts=true' },
    ...RULE_EVAL,
    type: { const: 'alerting' },
  },
  ['state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type'],
);
const RECORDING_RULE = obj({ name: { type: 'string' }, query: { type: 'string' }, labels: LABELS, ...RULE_EVAL, type: { const: 'recording' } }, ['name', 'query', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
/** [Unix seconds, value as Go's FormatFloat(v, 'f', -1)] */
const POINT = { type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }], minItems: 2, maxItems: 2, description: '[Unix seconds, value as a string]' } as const;
const QUERY_DATA = {
  oneOf: [
    obj({ resultType: { const: 'vector' }, result: { type: 'array', items: obj({ metric: LABELS, value: POINT }) } }),
    obj({ resultType: { const: 'matrix' }, result: { type: 'array', items: obj({ metric: LABELS, values: { type: 'array', items: POINT } }) } }),
    obj({ resultType: { enum: ['scalar', 'string'] }, result: POINT }),
  ],
} as const;
const QUERY_ANSWERS: RouteResponses = {
  200: { description: "The query's result (Prometheus's answer shape)", schema: obj({ status: { const: 'success' }, data: QUERY_DATA }) },
  400: { description: 'A bad parameter (`bad_data`), in Prometheus\'s error shape', schema: PROM_ERROR },
  422: { description: 'The query could not be evaluated (`execution`)', schema: PROM_ERROR },
  503: { description: 'The query timed out (`timeout`)', schema: PROM_ERROR },
};

const SILENCE_STATE = obj({ state: { enum: ['pending', 'active', 'expired'] } });

const CALIBRATION = obj(
  {
    rows: { ...COUNT, description: 'Labelled, scored rows it was computed from' },
    needed: { type: 'boolean', description: 'Whether the label-free estimate calibrates the scores' },
    ece_before: { type: 'number' },
    ece_after: { type: 'number' },
    reason: { enum: ['single_class', 'separable', 'too_few'], description: 'Why it was not computed' },
    detail: { type: 'string' },
  },
  ['rows', 'needed'],
);
const BASELINE_PROPS = {
  id: COUNT,
  version: { type: 'string' },
  source: { type: 'string', description: '`api`, `window:24h`, `file:train.csv`, …' },
  rows: COUNT,
  created_at: TIME,
  features: STRINGS,
  quality: { type: 'object', additionalProperties: { type: 'number' }, description: 'Reference quality by metric, when the rows carry labels and predictions' },
  calibration: { ...CALIBRATION, description: "Binary: the label-free estimate's calibration" },
  class_calibrations: { type: 'object', additionalProperties: CALIBRATION, description: 'Multiclass: the same per class (one-vs-rest)' },
  segments: { type: 'object', additionalProperties: COUNT, description: 'Rows per segment that got its own references' },
} as const;
const BASELINE_STORED = obj(
  { ...BASELINE_PROPS, model: { type: 'string' }, replaced: { type: 'array', items: COUNT, description: 'Ids of the baselines replaced (replace=true)' }, rejected: { type: 'array', items: ITEM_REJECTED, description: 'Rows not used, each with the field and the reason' } },
  ['id', 'model', 'version', 'source', 'rows', 'created_at', 'features', 'quality', 'replaced', 'rejected'],
);

const RELOAD_ANSWERS: RouteResponses = {
  200: { description: 'Reloaded', schema: obj({ status: { const: 'success' }, file: { type: 'string' }, restart_required: { ...STRINGS, description: 'Changed settings that only take effect after a restart' } }) },
  400: {
    description: 'The configuration is invalid: the running one is kept (not the usual error shape: a `status` beside `error`)',
    schema: obj({
      status: { const: 'error' },
      error: obj({
        code: { const: 'VIGIL_ERR_CONFIG_INVALID' },
        message: { type: 'string' },
        issues: { type: 'array', items: obj({ file: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } }) },
      }),
    }),
  },
};

/** `POST /v1/kserve/events[/:model]` (routes/kserve.ts KserveAnswer). */
const KSERVE_ANSWER: RouteResponses = {
  202: {
    description: 'The event(s) taken: held for their other half, or joined and ingested',
    schema: obj({
      accepted_events: { ...COUNT, description: 'Events taken' },
      joined_predictions: { ...COUNT, description: 'Predictions made by the pairs this request completed' },
      stored: { ...COUNT, description: 'Of those, stored now' },
      duplicates: { ...STRINGS, description: 'Prediction ids already stored' },
      pending: { ...COUNT, description: 'Halves waiting for their other half (all models)' },
      rejected: {
        type: 'array',
        items: obj(
          {
            event: { ...COUNT, description: 'Position of the event in the request' },
            id: { type: 'string', description: 'The CloudEvent id' },
            prediction_id: { type: 'string' },
            field: { type: 'string' },
            code: { type: 'string', pattern: '^VIGIL_ERR_[A-Z0-9_]+$' },
            reason: { type: 'string' },
          },
          ['event', 'code', 'reason'],
        ),
      },
    }),
  },
};

/** Documented routes, by `METHOD /url`. A route missing here is described without its answers. */
export const RESPONSES: Record<string, RouteResponses> = {
  'GET /runbooks': {
    200: {
      description: "The runbooks' index: a page for a browser (Accept: text/html), else JSON",
      type: 'text/html',
      also: {
        'application/json': {
          type: 'object',
          required: ['runbooks'],
          additionalProperties: false,
          properties: {
            runbooks: {
              type: 'array',
              items: { type: 'object', required: ['name', 'title', 'url'], additionalProperties: false, properties: { name: { type: 'string' }, title: { type: 'string' }, url: { type: 'string' } } },
            },
          },
        },
      },
    },
  },
  'GET /runbooks/:name': {
    200: { description: 'A runbook: the rendered page for a browser, else (or as `<Name>.md`) its Markdown', type: 'text/html', also: { 'text/markdown': null } },
  },
  'GET /ui/:file': {
    200: { description: "A file of the web UI's client (gzipped when the client accepts it)", type: 'text/javascript', also: { 'text/css': null } },
  },
  'GET /v1/models/:model/report': {
    200: {
      description: 'The drift report of a window against the baseline: a page, or JSON with Accept: application/json',
      type: 'text/html',
      also: {
        'application/json': {
          type: 'object',
          required: ['model', 'window', 'segment', 'at', 'predictions', 'baseline', 'alpha', 'summary', 'features'],
          additionalProperties: true,
          properties: {
            model: { type: 'string' },
            window: { type: 'string', description: 'the window, as configured (e.g. 1h)' },
            segment: { type: ['string', 'null'] },
            at: { type: 'string', format: 'date-time' },
            predictions: { type: 'integer', minimum: 0, description: 'predictions in the window' },
            baseline: {
              type: 'object',
              required: ['id', 'version', 'rows', 'source', 'segment_references'],
              additionalProperties: false,
              properties: { id: { type: 'integer' }, version: { type: 'string' }, rows: { type: 'integer' }, source: { type: 'string' }, segment_references: { type: 'boolean' } },
            },
            alpha: { type: 'number' },
            summary: {
              type: 'object',
              required: ['features_tested', 'features_drifted', 'drift_detected'],
              additionalProperties: true,
              properties: { features_tested: { type: 'integer' }, features_drifted: { type: 'integer' }, drift_detected: { type: 'boolean' }, drifted_features: { type: 'array', items: { type: 'string' } } },
            },
            features: {
              type: 'array',
              description: 'the features, most drifted first; each with every test (statistic, p-value, adjusted p, decision) and its distributions',
              items: { type: 'object', required: ['feature', 'status', 'tests'], additionalProperties: true, properties: { feature: { type: 'string' }, status: { type: 'string' }, tests: { type: 'array', items: { type: 'object', required: ['test', 'status'], additionalProperties: true } } } },
            },
          },
        },
      },
    },
  },
  'GET /healthz': { 200: { description: 'The process is alive', schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } }, additionalProperties: false } } },
  'GET /readyz': {
    200: { description: 'Ready', schema: obj({ status: { const: 'ready' }, role: { enum: ['leader', 'follower'], description: 'Among replicas sharing a store (a single process leads)' } }, ['status']) },
    503: { description: 'Not ready, and why', schema: obj({ status: { const: 'not ready' }, reasons: STRINGS, role: { enum: ['leader', 'follower'] } }, ['status', 'reasons']) },
  },
  'GET /metrics': { 200: { description: 'Prometheus text format 0.0.4 (charset utf-8); OpenMetrics 1.0 (application/openmetrics-text) when Accept asks for it', type: 'text/plain; version=0.0.4' } },
  'POST /v1/models/:model/predictions': {
    200: { description: 'Every item stored (re-sent ids listed under `duplicates`)', schema: INGEST_RESULT },
    207: { description: 'Some items rejected, the others stored', schema: INGEST_RESULT },
    422: { description: 'Every item rejected: nothing stored', schema: INGEST_RESULT },
  },
  'POST /v1/models/:model/labels': {
    200: { description: 'Every item stored (re-sent ids listed under `duplicates`)', schema: INGEST_RESULT },
    207: { description: 'Some items rejected, the others stored', schema: INGEST_RESULT },
    422: { description: 'Every item rejected: nothing stored', schema: INGEST_RESULT },
  },
  'GET /v1/models': { 200: { description: 'Every configured model', schema: obj({ models: { type: 'array', items: MODEL_STATUS } }) } },
  'GET /v1/models/:model': { 200: { description: "The model's configuration and what the store holds for it", schema: MODEL_STATUS } },
  'GET /v1/models/:model/predictions/:id': { 200: { description: 'The stored prediction and its label', schema: PREDICTION } },
  'GET /v1/models/:model/circuit': {
    200: { description: "The model's circuit breaker (with ETag)", schema: CIRCUIT },
    304: { description: 'Unchanged since the If-None-Match ETag' },
  },
  'PUT /v1/models/:model/circuit': { 200: { description: 'The circuit after the override', schema: CIRCUIT } },
  'GET /v1/overview': {
    200: {
      description: "Every model's health at a glance, from the last cycle",
      schema: obj({
        generated_at: { ...TIME_OR_NULL, description: "The last cycle's time; null before the first" },
        models: {
          type: 'array',
          items: obj({
            model: { type: 'string' },
            task: { enum: ['binary', 'multiclass', 'regression'] },
            window: { type: 'string', description: "The model's shortest window, which the rest reads" },
            windows: { ...STRINGS, description: 'Shortest first' },
            predictions: { type: ['number', 'null'], description: 'In the window; null before a cycle saw the model' },
            last_prediction_age_seconds: { type: ['number', 'null'] },
            quality: {
              anyOf: [obj({ metric: { enum: ['accuracy', 'r2'] }, version: { type: 'string', description: 'The busiest version' }, value: { type: 'number' }, baseline: { type: ['number', 'null'] } }), { type: 'null' }],
            },
            drifted_features: STRINGS,
            data_quality: { type: 'array', items: obj({ feature: { type: 'string' }, problem: { enum: ['incomplete', 'new_categories', 'out_of_range'] }, value: { type: 'number' } }) },
            alerts: { type: 'array', items: obj({ alertname: { type: 'string' }, state: { enum: ['pending', 'firing', 'inactive'] }, severity: { type: ['string', 'null'] } }) },
            circuit: { enum: ['closed', 'open', 'half_open'] },
            health: { enum: ['ok', 'warning', 'critical'] },
          }),
        },
      }),
    },
  },
  'GET /v1/silences': {
    200: {
      description: 'The silences and the configured maintenance windows',
      schema: obj({
        silences: { type: 'array', items: obj({ id: { type: 'string' }, matchers: STRINGS, startsAt: TIME, endsAt: TIME, createdBy: { type: 'string' }, comment: { type: 'string' }, status: SILENCE_STATE }) },
        maintenance_windows: { type: 'array', items: obj({ name: { type: 'string' }, matchers: STRINGS, startsAt: TIME, endsAt: TIME, status: SILENCE_STATE }) },
      }),
    },
  },
  'POST /v1/silences': { 200: { description: 'The silence created', schema: obj({ silenceID: { type: 'string' } }) } },
  'DELETE /v1/silences/:id': { 200: { description: 'The silence expired', schema: obj({ status: { const: 'expired' } }) } },
  'GET /v1/incidents': { 200: { description: 'Incidents, newest first', schema: obj({ incidents: { type: 'array', items: INCIDENT } }) } },
  'GET /v1/incidents/:id': { 200: { description: 'One incident with its actions', schema: INCIDENT } },
  'POST /v1/incidents/:id/ack': { 200: { description: 'The acknowledgement (a `vigil:ack` action; the first one when acknowledged again)', schema: ACTION } },
  'GET /v1/actions': { 200: { description: 'Action records, newest first', schema: obj({ actions: { type: 'array', items: ACTION } }) } },
  'GET /v1/actions/:id': { 200: { description: 'One action record', schema: ACTION } },
  'POST /v1/actions/:id/approve': { 200: { description: 'The action, approved', schema: ACTION } },
  'POST /v1/actions/:id/reject': { 200: { description: 'The action, rejected', schema: ACTION } },
  'GET /v1/remediation': { 200: { description: "Remediation's state and every circuit", schema: REMEDIATION_STATUS } },
  'POST /v1/remediation/pause': { 200: { description: "Remediation's state and every circuit", schema: REMEDIATION_STATUS } },
  'POST /v1/remediation/resume': { 200: { description: "Remediation's state and every circuit", schema: REMEDIATION_STATUS } },
  'GET /api/v1/alerts': {
    200: {
      description: "Pending and firing alerts (Prometheus's answer shape; `silencedBy` is Vigil's)",
      schema: obj({
        status: { const: 'success' },
        data: obj({ alerts: { type: 'array', items: obj({ ...PROM_ALERT_PROPS, silencedBy: { ...STRINGS, description: 'Silence ids and `maintenance:<name>` windows suppressing its notifications' } }, ['labels', 'annotations', 'state', 'activeAt', 'value', 'silencedBy']) } }),
      }),
    },
  },
  'GET /api/v1/rules': {
    200: {
      description: "The rule groups (Prometheus's answer shape and filters)",
      schema: obj({
        status: { const: 'success' },
        data: obj({
          groups: {
            type: 'array',
            items: obj({
              name: { type: 'string' },
              file: { type: 'string' },
              rules: { type: 'array', items: { oneOf: [ALERTING_RULE, RECORDING_RULE] } },
              interval: { type: 'number', description: 'Seconds' },
              limit: { type: 'integer' },
              evaluationTime: { type: 'number' },
              lastEvaluation: GO_TIME,
            }),
          },
        }),
      }),
    },
    400: { description: "A bad filter (`bad_data`), in Prometheus's error shape", schema: PROM_ERROR },
  },
  'GET /api/v1/query': QUERY_ANSWERS,
  'POST /api/v1/query': QUERY_ANSWERS,
  'GET /api/v1/query_range': QUERY_ANSWERS,
  'POST /api/v1/query_range': QUERY_ANSWERS,
  'POST /v1/kserve/events': KSERVE_ANSWER,
  'POST /-/reload': RELOAD_ANSWERS,
  'PUT /-/reload': RELOAD_ANSWERS,
  'POST /v1/kserve/events/:model': KSERVE_ANSWER,
  'GET /': { 200: { description: "The web UI's overview page (a public shell: its client reads the JSON API)", type: 'text/html' } },
  'GET /alerts': { 200: { description: "The web UI's alerts page", type: 'text/html' } },
  'GET /incidents': { 200: { description: "The web UI's incidents page", type: 'text/html' } },
  'GET /models/:model': { 200: { description: "The web UI's page of a model", type: 'text/html' } },
  'GET /api': { 200: { description: 'This API as a page to read', type: 'text/html' } },
  'GET /openapi.json': {
    200: { description: 'This API as an OpenAPI 3.1 document', schema: { type: 'object', required: ['openapi', 'info', 'paths'], properties: { openapi: { const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } } } },
  },
  'GET /v1/models/:model/baselines': { 200: { description: "The model's baselines, newest first", schema: obj({ baselines: { type: 'array', items: obj(BASELINE_PROPS, ['id', 'version', 'source', 'rows', 'created_at', 'features', 'quality']) } }) } },
  'POST /v1/models/:model/baselines': {
    200: { description: 'Stored, replacing the version\'s baseline (replace=true)', schema: BASELINE_STORED },
    201: { description: 'Stored', schema: BASELINE_STORED },
    207: { description: 'Stored from the valid rows; the others listed in `rejected`', schema: BASELINE_STORED },
  },
};

/** A route's answers in OpenAPI's form (the error shape for every 4xx/5xx as `default`). */
export function responsesOf(method: string, url: string): Record<string, unknown> | undefined {
  const documented = RESPONSES[`${method} ${url}`];
  if (documented === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(documented)) {
    if (r === undefined) continue;
    // neither a schema nor a media type: an answer without a body (304), which @fastify/swagger
    // writes without `content` when its schema is `type: 'null'`
    const also = Object.fromEntries(Object.entries(r.also ?? {}).map(([type, schema]) => [type, { schema: schema ?? { type: 'string' } }]));
    out[status] =
      r.schema === undefined && r.type === undefined
        ? { type: 'null', description: r.description }
        : { description: r.description, content: { [r.type ?? 'application/json']: { schema: r.schema ?? { type: 'string' } }, ...also } };
  }
  out.default ??= { description: 'An error (docs/http-errors.md)', content: { 'application/json': { schema: ERROR_SCHEMA } } };
  return out;
}
