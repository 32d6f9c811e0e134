import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric, type OpenMetricsContentType, type RegistryContentType } from 'prom-client';
import { CATALOG, catalogEntry } from './catalog.js';
import { renderSnapshot, type Snapshot } from './snapshot.js';

/**
 * Vigil's own metrics registries — never prom-client's global one. The same metric objects are
 * registered twice: once in a Prometheus-text registry and once in an OpenMetrics registry, so
 * `/metrics` can answer either format with the registry's own Content-Type.
 */
export class MetricsRegistry {
  readonly text = new Registry();
  readonly openMetrics = new Registry<OpenMetricsContentType>();

  private snapshotSource: (() => Snapshot) | null = null;
  private rendered: { snapshot: Snapshot; text: string } | null = null;

  constructor() {
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  }

  /** Where the computed (snapshot) families come from; they are rendered once per snapshot. */
  setSnapshotSource(current: () => Snapshot): void {
    this.snapshotSource = current;
  }

  /** Renders the snapshot now (the cycle calls this at publish, so no scrape pays for it). */
  snapshotText(): string {
    if (this.snapshotSource === null) return '';
    const snap = this.snapshotSource();
    if (this.rendered?.snapshot !== snap) this.rendered = { snapshot: snap, text: renderSnapshot(snap) };
    return this.rendered.text;
  }

  /** The `/metrics` answer for an Accept header: live metrics from prom-client + the snapshot text. */
  async exposition(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const reg = this.forAccept(accept);
    const live = await reg.metrics();
    const snap = this.snapshotText();
    if (reg === (this.openMetrics as unknown)) {
      // OpenMetrics ends with "# EOF": the snapshot families go before it (their gauges read the same).
      return { contentType: reg.contentType, body: `${live.replace(/# EOF\n?$/, '')}${snap}# EOF\n` };
    }
    return { contentType: reg.contentType, body: `${live}\n${snap}` };
  }
  register(metric: Metric): void {
    this.text.registerMetric(metric);
    this.openMetrics.registerMetric(forOpenMetrics(metric));
  }

  /** The registry for an HTTP `Accept` header. */
  forAccept(accept: string | undefined): Registry<RegistryContentType> {
    return accept !== undefined && accept.includes('application/openmetrics-text') ? this.openMetrics : this.text;
  }

  /** Every family this registry exports: live ones and, with a snapshot source, the snapshot ones. */
  names(): string[] {
    const live = this.text.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name);
    return this.snapshotSource === null ? live : [...live, ...CATALOG.filter((c) => c.origin === 'snapshot').map((c) => c.name)];
  }
}

/**
 * prom-client's OpenMetrics rendering renames a counter object in place (`x_total` → `x`), which
 * would then break the Prometheus-text registry sharing it. The OpenMetrics registry therefore gets
 * a thin view of each counter with the OpenMetrics family name; the values are the counter's own.
 */
function forOpenMetrics(metric: Metric): Metric {
  const m = metric as unknown as { name: string; help: string; type?: string; aggregator?: string; get: () => Promise<{ name: string }> };
  if (m.type !== 'counter') return metric;
  const family = m.name.replace(/_total$/, '');
  const view = {
    name: family,
    help: m.help,
    type: 'counter',
    aggregator: m.aggregator ?? 'sum',
    get: async () => ({ ...(await m.get()), name: family }),
    reset: () => undefined,
  };
  return view as unknown as Metric;
}

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const INCIDENT_BUCKETS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
const FOLLOWER_LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const CYCLE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function counter<L extends string>(reg: MetricsRegistry, name: string): Counter<L> {
  const e = catalogEntry(name);
  const m = new Counter<L>({ name, help: e.help, labelNames: e.labels as L[], registers: [] });
  reg.register(m);
  return m;
}
function gauge<L extends string>(reg: MetricsRegistry, name: string): Gauge<L> {
  const e = catalogEntry(name);
  const m = new Gauge<L>({ name, help: e.help, labelNames: e.labels as L[], registers: [] });
  reg.register(m);
  return m;
}
function histogram<L extends string>(reg: MetricsRegistry, name: string, buckets: number[], exemplars = false): Histogram<L> {
  const e = catalogEntry(name);
  // exemplars (a trace id on a bucket) are rendered in the OpenMetrics exposition only
  const m = new Histogram<L>({ name, help: e.help, labelNames: e.labels as L[], buckets, registers: [], ...(exemplars ? { enableExemplars: true } : {}) });
  reg.register(m);
  return m;
}

/** The live metrics of one daemon, built from the catalog on the given registry. */
export function createMetrics(reg: MetricsRegistry, info: { version: string }) {
  const m = {
    predictions: counter<'model' | 'version'>(reg, 'ml_predictions_total'),
    labels: counter<'model'>(reg, 'ml_labels_total'),
    predictionErrors: counter<'model' | 'version'>(reg, 'ml_prediction_errors_total'),
    latency: histogram<'model' | 'version'>(reg, 'ml_prediction_latency_seconds', LATENCY_BUCKETS, true),
    buildInfo: gauge<'version' | 'node_version'>(reg, 'vigil_build_info'),
    rejected: counter<'model' | 'kind'>(reg, 'vigil_ingest_rejected_items_total'),
    duplicates: counter<'model' | 'kind'>(reg, 'vigil_ingest_duplicate_items_total'),
    kserveUnmatched: counter<'model' | 'half'>(reg, 'vigil_kserve_unmatched_total'),
    cycleDuration: histogram<never>(reg, 'vigil_cycle_duration_seconds', CYCLE_BUCKETS),
    cycleStageErrors: counter<'stage'>(reg, 'vigil_cycle_stage_errors_total'),
    sourceErrors: counter<'source'>(reg, 'vigil_source_scrape_errors_total'),
    sourceUp: gauge<'source'>(reg, 'vigil_source_up'),
    sourceLastSuccess: gauge<'source'>(reg, 'vigil_source_last_success_timestamp_seconds'),
    sourceDuration: gauge<'source'>(reg, 'vigil_source_scrape_duration_seconds'),
    ruleFailures: counter<'rule_group'>(reg, 'vigil_rule_evaluation_failures_total'),
    notifications: counter<'receiver' | 'outcome'>(reg, 'vigil_notifications_total'),
    notificationsDropped: counter<'receiver'>(reg, 'vigil_notifications_dropped_total'),
    jobRuns: counter<'job' | 'outcome'>(reg, 'vigil_job_runs_total'),
    jobOverruns: counter<'job'>(reg, 'vigil_job_overruns_total'),
    jobLastSuccess: gauge<'job'>(reg, 'vigil_job_last_success_timestamp_seconds'),
    pruned: counter<'table'>(reg, 'vigil_store_pruned_rows_total'),
    reloadSuccessful: gauge<never>(reg, 'vigil_config_last_reload_successful'),
    leader: gauge<never>(reg, 'vigil_leader'),
    leaderEpoch: gauge<never>(reg, 'vigil_leader_epoch'),
    followerLag: histogram<never>(reg, 'vigil_follower_lag_seconds', FOLLOWER_LAG_BUCKETS),
    reloadTimestamp: gauge<never>(reg, 'vigil_config_last_reload_success_timestamp_seconds'),
    circuitState: gauge<'model'>(reg, 'ml_circuit_breaker_state'),
    remediationActions: counter<'model' | 'action' | 'outcome'>(reg, 'ml_remediation_actions_total'),
    remediationLastFailure: gauge<'model' | 'action'>(reg, 'ml_remediation_last_failure_timestamp_seconds'),
    rollbackLoop: gauge<'model'>(reg, 'ml_remediation_rollback_loop'),
    incidentResolution: histogram<'model'>(reg, 'ml_incident_resolution_seconds', INCIDENT_BUCKETS),
    remediationPaused: gauge<never>(reg, 'vigil_remediation_paused'),
  };
  m.buildInfo.set({ version: info.version, node_version: process.version }, 1);
  const before = new Set<unknown>(reg.text.getMetricsAsArray());
  collectDefaultMetrics({ register: reg.text });
  // prom-client names these gauges `_total`, which `promtool check metrics` rejects: leave them out.
  for (const name of LINT_FAILING_DEFAULTS) reg.text.removeSingleMetric(name);
  for (const metric of reg.text.getMetricsAsArray()) if (!before.has(metric)) reg.openMetrics.registerMetric(forOpenMetrics(metric as unknown as Metric));
  return m;
}

export type VigilMetrics = ReturnType<typeof createMetrics>;
