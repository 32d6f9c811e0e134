/**
 * The metric catalog: every family Vigil exports, as data. It is the contract with dashboards and
 * rules, rendered into the README (`npm run docs:metrics` / `renderCatalogMarkdown`), and a test
 * fails when the daemon exports a family the catalog lacks or the catalog lists one nothing exports.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface CatalogEntry {
  name: string;
  type: MetricType;
  /** Base unit: seconds, bytes, ratio (0–1), or '' for plain counts/scores/states. */
  unit: 'seconds' | 'bytes' | 'ratio' | 'timestamp_seconds' | '';
  labels: readonly string[];
  help: string;
  /** `live`: updated as events happen; `snapshot`: computed by the evaluation cycle. */
  origin: 'live' | 'snapshot';
}

export const CATALOG: readonly CatalogEntry[] = [
  // Traffic and latency (live, from ingested events)
  { name: 'ml_predictions_total', type: 'counter', unit: '', labels: ['model', 'version'], origin: 'live', help: 'Predictions ingested (new ids only; re-sent ids are not counted).' },
  { name: 'ml_labels_total', type: 'counter', unit: '', labels: ['model'], origin: 'live', help: 'Ground-truth labels ingested (new ids only).' },
  { name: 'ml_prediction_errors_total', type: 'counter', unit: '', labels: ['model', 'version'], origin: 'live', help: 'Predictions for which serving reported an error.' },
  { name: 'ml_prediction_latency_seconds', type: 'histogram', unit: 'seconds', labels: ['model', 'version'], origin: 'live', help: 'Serving latency reported in prediction events (latency_ms).' },
  // Vigil's own health
  { name: 'vigil_build_info', type: 'gauge', unit: '', labels: ['version', 'node_version'], origin: 'live', help: 'Always 1; labels carry the Vigil and Node.js versions.' },
  { name: 'vigil_ingest_rejected_items_total', type: 'counter', unit: '', labels: ['model', 'kind'], origin: 'live', help: 'Items rejected by validation, by kind (predictions|labels).' },
  { name: 'vigil_ingest_duplicate_items_total', type: 'counter', unit: '', labels: ['model', 'kind'], origin: 'live', help: 'Items not stored because their id was already stored (first write wins).' },
  { name: 'vigil_cycle_duration_seconds', type: 'histogram', unit: 'seconds', labels: [], origin: 'live', help: 'Duration of evaluation cycles.' },
  { name: 'vigil_cycle_stage_errors_total', type: 'counter', unit: '', labels: ['stage'], origin: 'live', help: 'Evaluation-cycle stages that failed (the cycle goes on with the next stage).' },
  { name: 'vigil_job_runs_total', type: 'counter', unit: '', labels: ['job', 'outcome'], origin: 'live', help: 'Scheduled job runs by outcome (success|error).' },
  { name: 'vigil_job_overruns_total', type: 'counter', unit: '', labels: ['job'], origin: 'live', help: 'Ticks skipped because the previous run of the same job was still running.' },
  { name: 'vigil_job_last_success_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: ['job'], origin: 'live', help: 'When each scheduled job last succeeded.' },
  { name: 'vigil_store_pruned_rows_total', type: 'counter', unit: '', labels: ['table'], origin: 'live', help: 'Rows deleted by the retention job.' },
  { name: 'vigil_config_last_reload_successful', type: 'gauge', unit: '', labels: [], origin: 'live', help: '1 if the last configuration reload succeeded, else 0.' },
  { name: 'vigil_config_last_reload_success_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: [], origin: 'live', help: 'When the configuration was last loaded successfully.' },
];

/** prom-client's default process and Node.js metrics: documented as a group, not one by one. */
export const DEFAULT_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;

export const catalogEntry = (name: string): CatalogEntry => {
  const e = CATALOG.find((c) => c.name === name);
  if (e === undefined) throw new Error(`metric ${name} is not in the catalog`);
  return e;
};

/** The catalog as a Markdown table (for the README). */
export function renderCatalogMarkdown(): string {
  const rows = CATALOG.map(
    (c) => `| \`${c.name}\` | ${c.type} | ${c.labels.length === 0 ? '—' : c.labels.map((l) => `\`${l}\``).join(', ')} | ${c.help} |`,
  );
  return ['| Metric | Type | Labels | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
