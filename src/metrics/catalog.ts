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
  /** The series also carry the labels of whatever produced them (ALERTS: the alert's labels). */
  dynamicLabels?: boolean;
  /** Some series also carry `segment`: per segment (models[].segments) or of a segment's SLO. */
  segmentable?: boolean;
}

/** The families the segment monitors export (src/monitors/segments.ts), and the SLO families. */
const SEGMENTED = /^(ml_model_(?!quality_baseline|info|estimate|budget)[a-z0-9_]+|ml_window_samples|ml_label_coverage_ratio|ml_accuracy_improvement_ratio|ml_prediction_error_ratio|ml_prediction_latency_p\d\d_seconds|ml_feature_(drift_[a-z_]+|completeness_ratio|new_category_ratio|out_of_range_ratio)|ml_features_drifted|ml_prediction_drift_score|ml_label_drift_score|slo:.*|sloth_slo_info)$/;

const ENTRIES: readonly CatalogEntry[] = [
  // Traffic and latency (live, from ingested events)
  { name: 'ml_predictions_total', type: 'counter', unit: '', labels: ['model', 'version'], origin: 'live', help: 'Predictions ingested (new ids only; re-sent ids are not counted).' },
  { name: 'ml_labels_total', type: 'counter', unit: '', labels: ['model'], origin: 'live', help: 'Ground-truth labels ingested (new ids only).' },
  { name: 'ml_prediction_errors_total', type: 'counter', unit: '', labels: ['model', 'version'], origin: 'live', help: 'Predictions for which serving reported an error.' },
  { name: 'ml_prediction_latency_seconds', type: 'histogram', unit: 'seconds', labels: ['model', 'version'], origin: 'live', help: 'Serving latency reported in prediction events (latency_ms).' },
  // Computed by the evaluation cycle (snapshot)
  { name: 'ml_model_accuracy', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Accuracy of the labelled predictions in the window.' },
  { name: 'ml_model_precision', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Precision (binary: of the positive class; multiclass: macro average).' },
  { name: 'ml_model_recall', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Recall (binary: of the positive class; multiclass: macro average).' },
  { name: 'ml_model_f1_score', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'F1 score (binary: of the positive class; multiclass: macro average).' },
  { name: 'ml_model_precision_weighted', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Precision averaged over the classes weighted by their support (multiclass; sklearn average="weighted").' },
  { name: 'ml_model_recall_weighted', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Recall averaged over the classes weighted by their support (multiclass; sklearn average="weighted").' },
  { name: 'ml_model_f1_score_weighted', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'F1 averaged over the classes weighted by their support (multiclass; sklearn average="weighted").' },
  { name: 'ml_model_roc_auc', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'ROC AUC: binary, of the positive-class scores (ties count one half); multiclass, one-vs-rest macro average of the posted class probabilities, each row renormalised to sum 1 (sklearn multi_class="ovr").' },
  { name: 'ml_model_pr_auc', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Average precision (area under the precision-recall curve, binary).' },
  { name: 'ml_model_log_loss', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Log loss: binary, of the positive-class probabilities; multiclass, of the posted class probabilities (sklearn log_loss: clipped, rows renormalised). Absent unless every labelled prediction posted them.' },
  { name: 'ml_model_brier_score', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Brier score of the positive-class probabilities (binary).' },
  { name: 'ml_model_mcc', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Matthews correlation coefficient.' },
  { name: 'ml_model_balanced_accuracy', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Balanced accuracy (mean recall per class).' },
  { name: 'ml_model_calibration_error', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Expected calibration error (10 equal-width bins, binary).' },
  { name: 'ml_model_mae', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Mean absolute error (regression).' },
  { name: 'ml_model_mse', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Mean squared error (regression).' },
  { name: 'ml_model_rmse', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Root mean squared error (regression).' },
  { name: 'ml_model_mape', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Mean absolute percentage error as a fraction (regression; scikit-learn definition).' },
  { name: 'ml_model_r2', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Coefficient of determination R² (regression).' },
  { name: 'ml_model_estimated_accuracy', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Label-free estimate of accuracy from the scores and posted classes (NannyML\'s CBPE, binary and multiclass; scores calibrated per estimate_calibration).' },
  { name: 'ml_model_estimated_f1_score', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Label-free estimate of F1 from the scores and posted classes (NannyML\'s CBPE; binary: of the positive class, multiclass: macro average; scores calibrated per estimate_calibration).' },
  { name: 'ml_window_samples', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Predictions in the window (exported even below min_samples).' },
  { name: 'ml_label_coverage_ratio', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Share of the window\'s predictions that have a label.' },
  { name: 'ml_accuracy_improvement_ratio', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Relative change of accuracy (R² for regression) vs the baseline: (now − baseline) / |baseline|.' },
  { name: 'ml_business_value', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Business value of the labelled predictions from the configured value per outcome.' },
  { name: 'ml_roi_ratio', type: 'gauge', unit: '', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Return on investment: (value − cost) / cost, value from the labelled predictions, cost = cost_per_prediction × every prediction of the window (labelled or not).' },
  { name: 'ml_prediction_error_ratio', type: 'gauge', unit: 'ratio', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Share of the window\'s predictions for which serving reported an error.' },
  { name: 'ml_prediction_latency_p50_seconds', type: 'gauge', unit: 'seconds', labels: ['model', 'version', 'window'], origin: 'snapshot', help: 'Median serving latency of the window (from latency_ms).' },
  { name: 'ml_prediction_latency_p95_seconds', type: 'gauge', unit: 'seconds', labels: ['model', 'version', 'window'], origin: 'snapshot', help: '95th percentile serving latency of the window (from latency_ms).' },
  { name: 'ml_prediction_latency_p99_seconds', type: 'gauge', unit: 'seconds', labels: ['model', 'version', 'window'], origin: 'snapshot', help: '99th percentile serving latency of the window (from latency_ms).' },
  { name: 'ml_model_estimate_reliable', type: 'gauge', unit: '', labels: ['model', 'version'], origin: 'snapshot', help: '1 when the calibration error of the scores the label-free estimate reads is at most estimate_max_calibration_error (calibrated: the held-out error after calibration; as posted, binary: the baseline\'s, multiclass: the held-out one; multiclass: every class\'s, one-vs-rest), so the estimate can be trusted; else 0.' },
  { name: 'ml_model_estimate_calibrated', type: 'gauge', unit: '', labels: ['model', 'version'], origin: 'snapshot', help: '1 when the label-free estimate reads scores calibrated by the baseline\'s isotonic fit (estimate_calibration, NannyML\'s CBPE; multiclass: any class\'s), 0 when it reads them as posted.' },
  { name: 'ml_model_budget_threshold', type: 'gauge', unit: '', labels: ['model', 'budget'], origin: 'snapshot', help: 'A performance budget of the model (models[].budgets; latency in seconds).' },
  { name: 'ml_model_budget_value', type: 'gauge', unit: '', labels: ['model', 'version', 'window', 'budget'], origin: 'snapshot', help: 'What the budget limits, measured over the budget window (accuracy, p95 latency in seconds, cost per successful prediction, relative accuracy drop, latency increase ratio).' },
  { name: 'ml_model_budget_violated', type: 'gauge', unit: '', labels: ['model', 'version', 'window', 'budget'], origin: 'snapshot', help: 'Binary: 1 when the measured value breaks the budget (below a min_, above a max_), 0 when within; absent while unmeasured.' },
  { name: 'ml_model_quality_baseline', type: 'gauge', unit: '', labels: ['model', 'version', 'metric'], origin: 'snapshot', help: 'Quality of the baseline (reference) data per metric (accuracy, f1_score, calibration_error, …).' },
  { name: 'ml_feature_drift_score', type: 'gauge', unit: '', labels: ['model', 'feature', 'test', 'window'], origin: 'snapshot', help: 'Drift statistic of a feature vs the baseline (KS D, PSI, chi-square, JS distance, Wasserstein-1).' },
  { name: 'ml_feature_drift_p_value', type: 'gauge', unit: '', labels: ['model', 'feature', 'test', 'window'], origin: 'snapshot', help: 'Benjamini-Hochberg-adjusted p-value of the drift test (tests with p-values only).' },
  { name: 'ml_feature_drift_detected', type: 'gauge', unit: '', labels: ['model', 'feature', 'test', 'window'], origin: 'snapshot', help: '1 when the test decides drift (significance and effect size), else 0.' },
  { name: 'ml_features_drifted', type: 'gauge', unit: '', labels: ['model', 'window'], origin: 'snapshot', help: 'Number of the model\'s features with drift detected by at least one test.' },
  { name: 'ml_prediction_drift_score', type: 'gauge', unit: '', labels: ['model', 'test', 'window'], origin: 'snapshot', help: 'Drift of the predictions (binary: score; multiclass: classes; regression: values) vs the baseline.' },
  { name: 'ml_label_drift_score', type: 'gauge', unit: '', labels: ['model', 'test', 'window'], origin: 'snapshot', help: 'Drift of the ground-truth labels vs the baseline.' },
  { name: 'ml_feature_completeness_ratio', type: 'gauge', unit: 'ratio', labels: ['model', 'feature', 'window'], origin: 'snapshot', help: 'Share of the window\'s predictions with a value for the feature.' },
  { name: 'ml_feature_new_category_ratio', type: 'gauge', unit: 'ratio', labels: ['model', 'feature', 'window'], origin: 'snapshot', help: 'Share of a categorical feature\'s values in categories the baseline never saw.' },
  { name: 'ml_feature_out_of_range_ratio', type: 'gauge', unit: 'ratio', labels: ['model', 'feature', 'window'], origin: 'snapshot', help: 'Share of a numeric feature\'s values outside the baseline\'s [min, max].' },
  { name: 'ml_feature_freshness_seconds', type: 'gauge', unit: 'seconds', labels: ['model', 'feature'], origin: 'snapshot', help: 'Seconds since the last prediction that carried a value for the feature.' },
  { name: 'ml_prediction_freshness_seconds', type: 'gauge', unit: 'seconds', labels: ['model'], origin: 'snapshot', help: 'Seconds since the model\'s last prediction event.' },
  { name: 'ml_label_freshness_seconds', type: 'gauge', unit: 'seconds', labels: ['model'], origin: 'snapshot', help: 'Seconds since the model\'s last label.' },
  { name: 'ml_ab_test_p_value', type: 'gauge', unit: '', labels: ['model', 'window', 'metric', 'control', 'variant'], origin: 'snapshot', help: 'p-value of the variant vs the control version (accuracy/precision/recall: pooled z-test; mae/mse: Welch).' },
  { name: 'ml_ab_test_p_value_adjusted', type: 'gauge', unit: '', labels: ['model', 'window', 'metric', 'control', 'variant'], origin: 'snapshot', help: 'p-value of the variant vs the control corrected for the window\'s comparisons (every metric of every variant; experiment.correction, default Benjamini–Hochberg; none: the raw p-value).' },
  { name: 'ml_ab_test_lift_ratio', type: 'gauge', unit: '', labels: ['model', 'window', 'metric', 'control', 'variant'], origin: 'snapshot', help: 'Relative lift of the variant over the control: (B − A) / A.' },
  { name: 'ml_ab_test_significant', type: 'gauge', unit: '', labels: ['model', 'window', 'metric', 'control', 'variant'], origin: 'snapshot', help: '1 when the corrected p-value (ml_ab_test_p_value_adjusted) is at most the experiment\'s alpha.' },
  { name: 'ml_ab_test_samples_needed', type: 'gauge', unit: '', labels: ['model', 'window', 'metric', 'control', 'variant'], origin: 'snapshot', help: 'Samples per group still needed to detect the observed lift at the experiment\'s alpha (default 0.05) and power 0.8, counted as the metric counts its trials: labelled predictions (accuracy, mae, mse), predicted positives (precision), actual positives (recall).' },
  { name: 'ml_model_info', type: 'gauge', unit: '', labels: ['model', 'version', 'stage'], origin: 'snapshot', help: 'Always 1 for each registered version that has an MLflow alias or a stage other than None (stage = alias or stage, lower-case); from the mlflow source.' },
  { name: 'feast_feature_freshness_seconds', type: 'gauge', unit: 'seconds', labels: ['feature_view', 'project'], origin: 'snapshot', help: 'Seconds since the newest event timestamp of a Feast feature view (feast source).' },
  { name: 'feast_feature_completeness_ratio', type: 'gauge', unit: 'ratio', labels: ['feature_view', 'project'], origin: 'snapshot', help: 'Share of probed Feast online values with status PRESENT (feast source).' },
  { name: 'ALERTS', type: 'gauge', unit: '', labels: ['alertname', 'alertstate'], dynamicLabels: true, origin: 'snapshot', help: 'Always 1 for each pending or firing alert of Vigil\'s rules, with the alert\'s labels (as Prometheus).' },
  { name: 'ALERTS_FOR_STATE', type: 'gauge', unit: 'timestamp_seconds', labels: ['alertname'], dynamicLabels: true, origin: 'snapshot', help: 'When each pending or firing alert became active (unix seconds), with the alert\'s labels (as Prometheus).' },
  // SLOs (src/slo): Sloth's series, computed by Vigil from its per-minute counts (REFERENCE.md §12)
  ...(['5m', '30m', '1h', '2h', '6h', '1d', '3d', '28d', '30d'] as const).map(
    (w): CatalogEntry => ({
      name: `slo:sli_error:ratio_rate${w}`,
      type: 'gauge',
      unit: 'ratio',
      labels: ['sloth_id', 'sloth_service', 'sloth_slo', 'sloth_window'],
      origin: 'snapshot',
      help: `Share of the SLO's events that were bad over the last ${w}${w.endsWith('d') && w !== '1d' && w !== '3d' ? ' (the SLO period; its start counted to the hour)' : ''}; absent without events.`,
    }),
  ),
  { name: 'slo:objective:ratio', type: 'gauge', unit: 'ratio', labels: ['sloth_id', 'sloth_service', 'sloth_slo'], origin: 'snapshot', help: 'The SLO\'s objective (share of good events).' },
  { name: 'slo:error_budget:ratio', type: 'gauge', unit: 'ratio', labels: ['sloth_id', 'sloth_service', 'sloth_slo'], origin: 'snapshot', help: 'The SLO\'s error budget: 1 − objective.' },
  { name: 'slo:time_period:days', type: 'gauge', unit: '', labels: ['sloth_id', 'sloth_service', 'sloth_slo'], origin: 'snapshot', help: 'The SLO period in days (28 or 30).' },
  { name: 'slo:current_burn_rate:ratio', type: 'gauge', unit: '', labels: ['sloth_id', 'sloth_service', 'sloth_slo'], origin: 'snapshot', help: 'Error ratio over the last 5 minutes ÷ error budget (1 spends the budget exactly over the period).' },
  { name: 'slo:period_burn_rate:ratio', type: 'gauge', unit: '', labels: ['sloth_id', 'sloth_service', 'sloth_slo'], origin: 'snapshot', help: 'Error ratio over the SLO period ÷ error budget.' },
  { name: 'slo:period_error_budget_remaining:ratio', type: 'gauge', unit: 'ratio', labels: ['sloth_id', 'sloth_service', 'sloth_slo'], origin: 'snapshot', help: 'Share of the period\'s error budget left (1 − period burn rate; negative when overspent).' },
  { name: 'sloth_slo_info', type: 'gauge', unit: '', labels: ['sloth_id', 'sloth_service', 'sloth_slo', 'sloth_mode', 'sloth_objective', 'sloth_sli'], origin: 'snapshot', help: 'Always 1 for each SLO: its objective (percent) and SLI type.' },
  // Segments (src/monitors/segments.ts)
  { name: 'ml_segment_values', type: 'gauge', unit: '', labels: ['model'], origin: 'snapshot', help: 'Distinct segment values in the model\'s hot window (models[].segments).' },
  { name: 'ml_segment_values_pooled', type: 'gauge', unit: '', labels: ['model'], origin: 'snapshot', help: 'Segment values beyond models[].segments.max, pooled into segment="other" (0: every value has its own series).' },
  { name: 'vigil_hot_window_rows', type: 'gauge', unit: '', labels: ['model'], origin: 'snapshot', help: 'Predictions held in memory for the model\'s windows.' },
  { name: 'vigil_hot_window_bytes', type: 'gauge', unit: 'bytes', labels: ['model'], origin: 'snapshot', help: 'Memory held by the model\'s hot window columns.' },
  { name: 'vigil_baseline_info', type: 'gauge', unit: '', labels: ['model', 'version', 'baseline_version', 'source'], origin: 'snapshot', help: 'Always 1: the baseline each serving version is compared with (its own, or the model\'s latest).' },
  // Remediation (live: they change when an action or an admin acts, not once per cycle)
  { name: 'ml_circuit_breaker_state', type: 'gauge', unit: '', labels: ['model'], origin: 'live', help: 'Circuit breaker of each configured model: 0 closed (serve the model), 1 open (serve the fallback), 2 half-open (probing).' },
  { name: 'ml_remediation_actions_total', type: 'counter', unit: '', labels: ['model', 'action', 'outcome'], origin: 'live', help: 'Remediation decisions by configured action and outcome (succeeded|failed|refused|skipped|dry_run|rejected|expired|interrupted).' },
  { name: 'ml_remediation_last_failure_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: ['model', 'action'], origin: 'live', help: 'When a remediation action last failed, was refused or was interrupted (MLRemediationFailed).' },
  { name: 'ml_remediation_rollback_loop', type: 'gauge', unit: '', labels: ['model'], origin: 'live', help: '1 while the model had loop_detection.max_rollbacks rollbacks within the window: automation stopped acting on it (MLRollbackLoop).' },
  { name: 'ml_incident_resolution_seconds', type: 'histogram', unit: 'seconds', labels: ['model'], origin: 'live', help: 'Time from firing to resolution of incidents on which a remediation action ran (MTTR).' },
  { name: 'vigil_remediation_paused', type: 'gauge', unit: '', labels: [], origin: 'live', help: '1 while remediation is paused (configuration or POST /v1/remediation/pause).' },
  // Vigil's own health
  { name: 'vigil_build_info', type: 'gauge', unit: '', labels: ['version', 'node_version'], origin: 'live', help: 'Always 1; labels carry the Vigil and Node.js versions.' },
  { name: 'vigil_ingest_rejected_items_total', type: 'counter', unit: '', labels: ['model', 'kind'], origin: 'live', help: 'Items rejected by validation, by kind (predictions|labels).' },
  { name: 'vigil_ingest_duplicate_items_total', type: 'counter', unit: '', labels: ['model', 'kind'], origin: 'live', help: 'Items not stored because their id was already stored (first write wins).' },
  { name: 'vigil_kserve_unmatched_total', type: 'counter', unit: '', labels: ['model', 'half'], origin: 'live', help: 'KServe inference logger events (half: request or response) dropped without their other half: after kserve.join_timeout, or the oldest past kserve.max_pending.' },
  { name: 'vigil_cycle_duration_seconds', type: 'histogram', unit: 'seconds', labels: [], origin: 'live', help: 'Duration of evaluation cycles.' },
  { name: 'vigil_cycle_stage_errors_total', type: 'counter', unit: '', labels: ['stage'], origin: 'live', help: 'Evaluation-cycle stages that failed (the cycle goes on with the next stage).' },
  { name: 'vigil_source_scrape_errors_total', type: 'counter', unit: '', labels: ['source'], origin: 'live', help: 'Pull-source collections that failed (after retries).' },
  { name: 'vigil_source_up', type: 'gauge', unit: '', labels: ['source'], origin: 'live', help: '1 if the source\'s last collection succeeded, else 0.' },
  { name: 'vigil_source_last_success_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: ['source'], origin: 'live', help: 'When the source last collected successfully.' },
  { name: 'vigil_source_scrape_duration_seconds', type: 'gauge', unit: 'seconds', labels: ['source'], origin: 'live', help: 'Duration of the source\'s last collection.' },
  { name: 'vigil_rule_history_series', type: 'gauge', unit: '', labels: [], origin: 'snapshot', help: 'Series in the sample history rules read (range selectors, offset, @, subqueries).' },
  { name: 'vigil_rule_history_samples', type: 'gauge', unit: '', labels: [], origin: 'snapshot', help: 'Samples in the rule history (at most alerting.history.max_samples).' },
  { name: 'vigil_rule_history_bytes', type: 'gauge', unit: 'bytes', labels: [], origin: 'snapshot', help: 'Memory held by the rule history (estimate: 17 bytes a sample slot, 200 a series).' },
  { name: 'vigil_rule_history_dropped_samples_total', type: 'counter', unit: '', labels: [], origin: 'snapshot', help: 'Samples dropped from the rule history before alerting.history.retention because of alerting.history.max_samples.' },
  { name: 'vigil_rule_history_oldest_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: [], origin: 'snapshot', help: 'Time of the oldest evaluation in the rule history: a range reaching further back sees fewer samples.' },
  { name: 'vigil_rule_evaluation_failures_total', type: 'counter', unit: '', labels: ['rule_group'], origin: 'live', help: 'Alert-rule evaluations that failed (the rule keeps its alerts and reports health err).' },
  { name: 'vigil_notifications_total', type: 'counter', unit: '', labels: ['receiver', 'outcome'], origin: 'live', help: 'Notification attempts by receiver (direct notifiers and Alertmanagers) and outcome (success|failure|retry|dropped).' },
  { name: 'vigil_notifications_dropped_total', type: 'counter', unit: '', labels: ['receiver'], origin: 'live', help: 'Notifications dropped because a receiver\'s bounded queue was full (the oldest go first).' },
  { name: 'vigil_job_runs_total', type: 'counter', unit: '', labels: ['job', 'outcome'], origin: 'live', help: 'Scheduled job runs by outcome (success|error).' },
  { name: 'vigil_job_overruns_total', type: 'counter', unit: '', labels: ['job'], origin: 'live', help: 'Ticks skipped because the previous run of the same job was still running.' },
  { name: 'vigil_job_last_success_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: ['job'], origin: 'live', help: 'When each scheduled job last succeeded.' },
  { name: 'vigil_store_pruned_rows_total', type: 'counter', unit: '', labels: ['table'], origin: 'live', help: 'Rows deleted by the retention job.' },
  { name: 'vigil_leader', type: 'gauge', unit: '', labels: [], origin: 'live', help: '1 while this replica holds the leader lease (it alone runs actions, direct notifiers, pull sources and retention), else 0; always 1 on a SQLite store (one process).' },
  { name: 'vigil_follower_lag_seconds', type: 'histogram', unit: 'seconds', labels: [], origin: 'live', help: 'Replicas on a shared store: per batch of rows this replica read from the store, from when a replica stored it (its clock) to when this one delivered it to its windows (clocks of different hosts differ by their offset). No observations on a SQLite store.' },
  { name: 'vigil_leader_epoch', type: 'gauge', unit: '', labels: [], origin: 'live', help: 'The epoch of the leader lease this replica last held (0 before it ever led): it goes up each time the lease changes hands, and fences a former leader\'s writes.' },
  { name: 'vigil_config_last_reload_successful', type: 'gauge', unit: '', labels: [], origin: 'live', help: '1 if the last configuration reload succeeded, else 0.' },
  { name: 'vigil_config_last_reload_success_timestamp_seconds', type: 'gauge', unit: 'timestamp_seconds', labels: [], origin: 'live', help: 'When the configuration was last loaded successfully.' },
];

export const CATALOG: readonly CatalogEntry[] = ENTRIES.map((e) => (SEGMENTED.test(e.name) ? { ...e, segmentable: true } : e));

/** prom-client's default process and Node.js metrics: documented as a group, not one by one. */
export const DEFAULT_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;

const EXPORTED_NAMES = new Set(
  CATALOG.flatMap((c) =>
    c.type === 'histogram'
      ? [c.name, `${c.name}_bucket`, `${c.name}_sum`, `${c.name}_count`, `${c.name}_created`]
      : c.type === 'counter'
        ? [c.name, `${c.name.replace(/_total$/, '')}_created`]
        : [c.name],
  ),
);

/**
 * Whether Vigil's /metrics already exports series of this name (a catalog family or one of its
 * sample names, or a default process/Node.js metric): a recording rule may not record it.
 */
export function isExportedMetricName(name: string): boolean {
  return EXPORTED_NAMES.has(name) || DEFAULT_METRIC_PREFIXES.some((p) => name.startsWith(p));
}

export const catalogEntry = (name: string): CatalogEntry => {
  const e = CATALOG.find((c) => c.name === name);
  if (e === undefined) throw new Error(`metric ${name} is not in the catalog`);
  return e;
};

/** The catalog as a Markdown table (for the README). */
export function renderCatalogMarkdown(): string {
  const rows = CATALOG.map(
    (c) =>
      `| \`${c.name}\` | ${c.type} | ${c.labels.length === 0 ? '—' : c.labels.map((l) => `\`${l}\``).join(', ')}${c.dynamicLabels ? ', + the alert\'s labels' : ''}${c.segmentable ? ' (+ `segment`)' : ''} | ${c.help} |`,
  );
  return ['| Metric | Type | Labels | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
