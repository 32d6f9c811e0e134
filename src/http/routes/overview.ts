/**
 * `GET /v1/overview`: every model's health at a glance, from the last cycle's snapshot and the
 * alerting and remediation state — what the web UI's overview shows, as JSON. Each model is read
 * on its shortest window, whole (its segments apart), its current version's quality beside the
 * baseline's.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ModelConfig } from '../../config/schema.js';
import { formatDuration } from '../../core/duration.js';
import type { Sample, Snapshot } from '../../metrics/snapshot.js';
import type { ServerDeps } from '../server.js';

/** Data-quality thresholds of the overview (the bundled rules' own: MLFeatureIncomplete, MLNewCategories). */
const MIN_COMPLETENESS = 0.95;
const MAX_NEW_CATEGORIES = 0.05;
const MAX_OUT_OF_RANGE = 0.05;

type Health = 'ok' | 'warning' | 'critical';

export interface ModelOverview {
  model: string;
  task: ModelConfig['task'];
  window: string;
  /** every window of the model, shortest first */
  windows: string[];
  predictions: number | null;
  last_prediction_age_seconds: number | null;
  quality: { metric: string; version: string; value: number; baseline: number | null } | null;
  drifted_features: string[];
  data_quality: { feature: string; problem: 'incomplete' | 'new_categories' | 'out_of_range'; value: number }[];
  alerts: { alertname: string; state: string; severity: string | null }[];
  circuit: string;
  health: Health;
}

const whole = (s: Sample): boolean => s.labels.segment === undefined;

export function modelOverview(m: ModelConfig, snap: Snapshot, alerts: readonly { labels: Record<string, string>; state: string }[], circuit: string): ModelOverview {
  const window = formatDuration(Math.min(...m.windows));
  const of = (name: string, more: (s: Sample) => boolean = () => true): Sample[] => (snap.byName.get(name) ?? []).filter((s) => s.labels.model === m.name && whole(s) && more(s));
  const inWindow = (s: Sample): boolean => s.labels.window === window;
  const samples = of('ml_window_samples', inWindow);
  const predictions = samples.length === 0 ? null : samples.reduce((n, s) => n + s.value, 0);
  const age = of('ml_prediction_freshness_seconds')[0]?.value ?? null;
  // the version with the most predictions in the window: its quality, and its baseline's
  const busiest = [...samples].sort((a, b) => b.value - a.value)[0]?.labels.version;
  const metric = m.task === 'regression' ? 'r2' : 'accuracy';
  const value = busiest === undefined ? undefined : of(`ml_model_${metric}`, (s) => inWindow(s) && s.labels.version === busiest)[0]?.value;
  const baseline = busiest === undefined ? undefined : of('ml_model_quality_baseline', (s) => s.labels.version === busiest && s.labels.metric === metric)[0]?.value;
  const drifted = [...new Set(of('ml_feature_drift_detected', (s) => inWindow(s) && s.value === 1).map((s) => s.labels.feature as string))].sort();
  const dq: ModelOverview['data_quality'] = [];
  for (const s of of('ml_feature_completeness_ratio', inWindow)) if (s.value < MIN_COMPLETENESS) dq.push({ feature: s.labels.feature as string, problem: 'incomplete', value: s.value });
  for (const s of of('ml_feature_new_category_ratio', inWindow)) if (s.value > MAX_NEW_CATEGORIES) dq.push({ feature: s.labels.feature as string, problem: 'new_categories', value: s.value });
  for (const s of of('ml_feature_out_of_range_ratio', inWindow)) if (s.value > MAX_OUT_OF_RANGE) dq.push({ feature: s.labels.feature as string, problem: 'out_of_range', value: s.value });
  dq.sort((a, b) => (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : a.problem < b.problem ? -1 : 1));
  const mine = alerts
    .filter((a) => a.labels.model === m.name)
    .map((a) => ({ alertname: a.labels.alertname ?? '', state: a.state, severity: a.labels.severity ?? null }))
    .sort((a, b) => (a.alertname < b.alertname ? -1 : a.alertname > b.alertname ? 1 : 0));
  const firing = mine.filter((a) => a.state === 'firing');
  const health: Health =
    firing.some((a) => a.severity === 'critical') || circuit === 'open'
      ? 'critical'
      : firing.length > 0 || circuit !== 'closed' || drifted.length > 0 || dq.length > 0
        ? 'warning'
        : 'ok';
  return {
    model: m.name,
    task: m.task,
    window,
    windows: [...m.windows].sort((a, b) => a - b).map(formatDuration),
    predictions,
    last_prediction_age_seconds: age,
    quality: busiest === undefined || value === undefined ? null : { metric, version: busiest, value, baseline: baseline ?? null },
    drifted_features: drifted,
    data_quality: dq,
    alerts: mine,
    circuit,
    health,
  };
}

export const overviewRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  app.get('/v1/overview', async () => {
    const snap = deps.snapshot();
    const alerts = deps.alerting.activeAlerts().map(({ alert }) => ({ labels: alert.labels as Record<string, string>, state: alert.state }));
    const circuits = new Map(deps.remediation.circuits.list().map((c) => [c.model, c.state]));
    return {
      generated_at: snap.at > 0 ? new Date(snap.at).toISOString() : null,
      models: deps.config().models.map((m) => modelOverview(m, snap, alerts, circuits.get(m.name) ?? 'closed')),
    };
  });
};
