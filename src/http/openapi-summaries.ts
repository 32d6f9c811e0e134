/**
 * One line per route for the OpenAPI document (`summary`) and, in `description`, what a caller
 * needs to know, ending with the access role the route needs (docs/security.md, "Endpoint × role").
 * Keyed as openapi-responses.ts's RESPONSES: `METHOD /url` as registered, `:param` form. Every
 * route the server registers has an entry (HEAD apart: it is answered wherever GET is, with the
 * same access). The wording follows docs/http-api.md.
 */

/** One line per route for the OpenAPI document (summary) and the access role it needs. */
export const SUMMARIES: Record<string, { summary: string; description?: string }> = {
  // Health and metrics
  'GET /healthz': {
    summary: 'Says whether the process is alive',
    description: 'Always 200 `{"status": "ok"}` while the process runs. Role: public.',
  },
  'GET /readyz': {
    summary: 'Says whether Vigil is ready to serve, and why not',
    description:
      "200 when the configuration and the hot windows are loaded, the store is open and Vigil is not shutting down; else 503 with the `reasons`. Both give the replica's `role` (`leader` or `follower` among replicas sharing a store). Role: public.",
  },
  'GET /metrics': {
    summary: 'Exposes the monitoring metrics in Prometheus text format',
    description: 'Prometheus text format 0.0.4, or OpenMetrics 1.0 when `Accept` asks for `application/openmetrics-text`. Role: read.',
  },

  // Ingestion
  'POST /v1/models/:model/predictions': {
    summary: 'Stores a batch of predictions (JSON array or NDJSON)',
    description:
      'Answers 200 when every item is stored, 207 when some are rejected and the others stored, 422 when every item is rejected (nothing stored). The first write of an id wins: a re-sent id stores nothing and is listed under `duplicates`, so retries are safe. Role: ingest.',
  },
  'POST /v1/models/:model/labels': {
    summary: 'Stores a batch of labels (JSON array or NDJSON), joined to predictions by id',
    description:
      'Answers 200 when every item is stored, 207 when some are rejected and the others stored, 422 when every item is rejected (nothing stored). Labels may arrive before or long after their predictions; a re-sent id stores nothing and is listed under `duplicates`. Role: ingest.',
  },
  'POST /v1/kserve/events': {
    summary: "Takes KServe inference logger CloudEvents (binary, structured or batched) and joins requests with responses into predictions",
    description:
      'The model is found from the events\' `inferenceservicename` and `endpoint`. Answers 202 with what was taken, held or stored (bad events of a batch listed in `rejected`); a re-delivered pair stores nothing new. Role: ingest.',
  },
  'POST /v1/kserve/events/:model': {
    summary: "Takes KServe inference logger CloudEvents for one model, whatever their InferenceService",
    description:
      'As `POST /v1/kserve/events`, the model given by the path: answers 202 with what was taken, held or stored; 404 for a model not in the configuration. Role: ingest.',
  },

  // Models, predictions, baselines, reports
  'GET /v1/models': {
    summary: 'Lists every configured model with what the store holds for it',
    description: 'Role: read.',
  },
  'GET /v1/models/:model': {
    summary: "Gives a model's configuration, counts, label coverage, versions and latest baseline",
    description: "Each version comes with the baseline it is compared with (`own: false`: the model's latest). 404 for a model not in the configuration. Role: read.",
  },
  'GET /v1/models/:model/predictions/:id': {
    summary: 'Gives a stored prediction and its label',
    description: 'The label is `null` until it arrives; 404 for an unknown id. Stored raw data. Role: raw data (a token as soon as any is configured).',
  },
  'GET /v1/models/:model/baselines': {
    summary: "Lists a model's baselines, newest first",
    description: "Each with its version, source, rows, features, reference quality, the label-free estimate's calibration and its segments, as the POST answers them. Role: read.",
  },
  'POST /v1/models/:model/baselines': {
    summary: 'Stores a baseline for a model version, from reference rows (JSON array or NDJSON) or from live traffic (`from_window`)',
    description:
      'The version is required (400 without). Answers 201, or 207 listing the rejected rows; a version that already has a baseline is 409 `VIGIL_ERR_BASELINE_EXISTS` unless `replace=true`, which replaces it atomically (200, `replaced` lists the old ids). Role: ingest.',
  },
  'GET /v1/models/:model/report': {
    summary: "Renders the drift report of one of a model's windows as a self-contained HTML page, or as JSON",
    description:
      "`window` defaults to the model's shortest, `segment` compares that segment's rows with its own references; `Accept: application/json` gets the same as JSON. Its charts name the data's own categories. Role: raw data (a token as soon as any is configured).",
  },
  'GET /v1/overview': {
    summary: "Gives every model's health at a glance, from the last cycle",
    description: 'What the web UI shows: per model its shortest window, predictions, quality, drifted features, data-quality problems, active alerts, circuit and `health` (`ok`, `warning`, `critical`). Role: read.',
  },

  // Alerting (Prometheus-compatible) and silences
  'GET /api/v1/rules': {
    summary: "Lists the rule groups in Prometheus's answer shape",
    description: "Takes Prometheus's filters (`type`, `rule_name[]`, `rule_group[]`, `file[]`, `exclude_alerts`); a bad filter is 400 `bad_data`. Role: read.",
  },
  'GET /api/v1/alerts': {
    summary: "Lists the pending and firing alerts in Prometheus's answer shape",
    description: 'Vigil adds `silencedBy` to each alert: the silences and maintenance windows suppressing its notifications. Role: read.',
  },
  'GET /api/v1/query': {
    summary: "Evaluates a PromQL instant query over Vigil's own history",
    description:
      "Prometheus's parameters (`query`, `time`, `timeout`), answers and errors: 400 `bad_data` for a bad parameter, 422 `execution`, 503 `timeout` (2 s at most). Role: read.",
  },
  'POST /api/v1/query': {
    summary: "Evaluates a PromQL instant query over Vigil's own history (form body, as Grafana sends it)",
    description:
      "Same as `GET /api/v1/query`, the parameters in a form body: 400 `bad_data` for a bad parameter, 422 `execution`, 503 `timeout` (2 s at most). Role: read.",
  },
  'GET /api/v1/query_range': {
    summary: "Evaluates a PromQL range query over Vigil's own history",
    description:
      'Parameters `query`, `start`, `end`, `step` (at most 11,000 points a series) and `timeout`, as Prometheus: 400 `bad_data`, 422 `execution` (over 1,000,000 points), 503 `timeout` (2 s at most). Role: read.',
  },
  'POST /api/v1/query_range': {
    summary: "Evaluates a PromQL range query over Vigil's own history (form body, as Grafana sends it)",
    description:
      'Same as `GET /api/v1/query_range`, the parameters in a form body: 400 `bad_data`, 422 `execution` (over 1,000,000 points), 503 `timeout` (2 s at most). Role: read.',
  },
  'GET /v1/silences': {
    summary: 'Lists the silences and the configured maintenance windows',
    description: 'Each with its `status.state`: `pending`, `active` or `expired`. Role: read.',
  },
  'POST /v1/silences': {
    summary: 'Creates a silence',
    description: 'Body `{matchers, startsAt?, endsAt, createdBy, comment}`; answers `{silenceID}`. A matcher set that matches everything is refused. Role: admin.',
  },
  'DELETE /v1/silences/:id': {
    summary: 'Expires a silence',
    description: 'Answers `{"status": "expired"}`. Role: admin.',
  },
  'GET /runbooks': {
    summary: "Lists the bundled alerts' runbooks with their titles",
    description: 'A page for a browser (`Accept: text/html`), JSON `{runbooks: [{name, title, url}]}` otherwise. Public: alert notifications link to the runbooks from a browser. Role: public.',
  },
  'GET /runbooks/:name': {
    summary: 'Gives the runbook a bundled alert links to',
    description: 'A rendered page for a browser (`Accept: text/html`), the Markdown otherwise or for `/runbooks/<Name>.md`; 404 for an unknown runbook. Role: public.',
  },

  // Remediation
  'GET /v1/incidents': {
    summary: 'Lists incidents with their actions, newest first',
    description: 'Filters: `model`, `action`, `outcome`, `status`, `since`, `until` (an impossible date is a 400) and `limit` (1–1000, default 100). Role: read.',
  },
  'GET /v1/incidents/:id': {
    summary: 'Gives one incident with its actions',
    description: '404 for an unknown incident. Role: read.',
  },
  'POST /v1/incidents/:id/ack': {
    summary: 'Acknowledges an open incident, stopping its escalation',
    description:
      'Body `{"by"?, "comment"?}`; recorded as a `vigil:ack` action in its trail. Acknowledging again answers the first acknowledgement; 404 unknown, 409 resolved. Role: admin.',
  },
  'GET /v1/actions': {
    summary: 'Lists remediation action records, newest first',
    description: 'Filters: `model`, `action`, `status`, `incident_id`, `since`, `until`, `limit`. Role: read.',
  },
  'GET /v1/actions/:id': {
    summary: 'Gives one remediation action record',
    description: '404 for an unknown action. Role: read.',
  },
  'POST /v1/actions/:id/approve': {
    summary: 'Approves a remediation action pending approval',
    description: 'Body `{"by"?}`. 409 when it is not pending, already approved, expired, or remediation is paused. Role: admin.',
  },
  'POST /v1/actions/:id/reject': {
    summary: 'Rejects a remediation action pending approval',
    description: 'Body `{"by"?}`. 409 when it is not pending, already approved or expired (unlike approval, a pause of remediation does not block it). Role: admin.',
  },
  'GET /v1/remediation': {
    summary: "Gives remediation's state and every model's circuit breaker",
    description: 'Whether it is paused (and by whom), dry run, the actions running, open incidents and rollback loops. Role: read.',
  },
  'POST /v1/remediation/pause': {
    summary: 'Pauses all remediation (the global kill switch)',
    description: "Body `{\"reason\"?, \"by\"?}`; the pause is persisted across restarts. Answers remediation's state, as `GET /v1/remediation` does. Role: admin.",
  },
  'POST /v1/remediation/resume': {
    summary: "Lifts the runtime pause of remediation, or clears a model's rollback loop",
    description: 'Body `{"by"?}`, or `{"model": "M"}` to clear that model\'s rollback loop instead (400 for a model not configured). Role: admin.',
  },
  'GET /v1/models/:model/circuit': {
    summary: "Gives a model's circuit breaker state",
    description:
      'With an `ETag` and `Cache-Control: no-cache`: `If-None-Match` with the current ETag answers 304. Serving apps poll it with their ingest token, which is accepted for reads. Role: read.',
  },
  'PUT /v1/models/:model/circuit': {
    summary: "Overrides a model's circuit breaker (open or closed)",
    description: 'Body `{"state": "open" | "closed", "reason"?, "by"?}`; automation leaves a manual state alone. Role: admin.',
  },

  // Lifecycle
  'POST /-/reload': {
    summary: 'Reloads the configuration',
    description: 'Answers 200 (listing changed settings that need a restart), or 400 with every problem, keeping the running configuration. Role: admin.',
  },
  'PUT /-/reload': {
    summary: 'Reloads the configuration',
    description: 'Same as `POST /-/reload`: 200 (listing changed settings that need a restart), or 400 with every problem, keeping the running configuration. Role: admin.',
  },

  // Web UI
  'GET /': {
    summary: "Serves the web UI's overview page",
    description: 'A public shell holding no data: its client reads the JSON API with the token the user gives. Role: public.',
  },
  'GET /alerts': {
    summary: "Serves the web UI's alerts page",
    description: 'A public shell holding no data: its client reads the JSON API with the token the user gives. Role: public.',
  },
  'GET /incidents': {
    summary: "Serves the web UI's incidents page",
    description: 'A public shell holding no data: its client reads the JSON API with the token the user gives. Role: public.',
  },
  'GET /models/:model': {
    summary: "Serves the web UI's page of a model",
    description: 'A public shell holding no data: its client reads the JSON API with the token the user gives. Role: public.',
  },
  'GET /ui/:file': {
    summary: "Serves the web UI's client scripts and stylesheet",
    description: 'gzipped when the client accepts it; 404 for a file the UI does not have. Role: public.',
  },

  // The API's own description
  'GET /openapi.json': {
    summary: 'Describes this API as an OpenAPI 3.1 document',
    description: 'Generated from the routes themselves: paths, methods, parameters, request schemas and answers. Role: read.',
  },
  'GET /api': {
    summary: 'Shows this API as a page to read',
    description: 'The OpenAPI document rendered as HTML, with no script or asset from elsewhere. Role: read.',
  },
};
