import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATALOG } from '../src/metrics/catalog.js';
import { allPanels, dashboardExpressions, dashboardFiles, dataPanels, DASHBOARDS, loadDashboard, substituteVariables, variableQuery, type Link, type Panel, type Variable } from './grafana.js';
import { hostPath, loadCompose, ROOT, service } from './stack.js';

/**
 * The Grafana dashboards in dashboards/ (the checks of grafana/dashboard-linter and more): each
 * parses, has a short unique uid, unique panel ids, panels that do not overlap in the 24-column
 * grid, a datasource variable on every panel, query and variable with what an import needs
 * (`__inputs`, `__requires`), a unit on every panel;
 * every query is PromQL that @prometheus-io/lezer-promql (Vigil's PromQL parser) accepts, names
 * only catalogued metrics and takes rate() over $__rate_interval; every template variable is used;
 * runbook links point at runbooks that exist.
 */

/** Series Prometheus records itself for every target (not exported by Vigil). */
const PROMETHEUS_SERIES = new Set(['up']);

const files = dashboardFiles();
const provisioning = join(ROOT, 'deploy/grafana/provisioning');
const datasources = (parse(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string; name: string; type: string; url: string }[] }).datasources;
const prom = datasources.find((d) => d.type === 'prometheus');
/** Every panel, query and query variable reads the dashboard's datasource variable. */
const DS_VARIABLE = { type: 'prometheus', uid: '${datasource}' };
const load = loadDashboard;

/** Grafana's interval variables become distinct durations, so the parsed tree still tells them apart. */
const INTERVALS: Readonly<Record<string, string>> = { __rate_interval: '1111ms', __interval: '2222ms', __range: '3333ms' };
const INTERVAL_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(INTERVALS).map(([k, v]) => [v, `$${k}`]));
const substitute = (expr: string, vars: ReadonlySet<string>): string => substituteVariables(expr, { ...Object.fromEntries([...vars].map((v) => [v, 'x'])), ...INTERVALS });

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];
const children = (n: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
};

interface Analysis { errors: string[]; metrics: string[] }

/** Syntax check with lezer-promql plus the metric names and the range of each range function. */
function analyse(raw: string, vars: ReadonlySet<string>): Analysis {
  const errors: string[] = [];
  const metrics: string[] = [];
  let text: string;
  try {
    text = substitute(raw, vars);
  } catch (e) {
    return { errors: [(e as Error).message], metrics };
  }
  const tree = parser.parse(text);
  if (children(tree.topNode).length !== 1) errors.push(`not one expression: ${raw}`);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`syntax error at offset ${n.from} of ${text}`);
      if (n.name === 'VectorSelector') {
        const id = children(n.node).find((c) => c.name === 'Identifier');
        if (id === undefined) errors.push(`selector without a metric name: ${text.slice(n.from, n.to)}`);
        else metrics.push(text.slice(id.from, id.to));
      }
      if (n.name === 'FunctionCall') {
        const fn = children(n.node).find((c) => c.name === 'FunctionIdentifier');
        const name = fn ? text.slice(fn.from, fn.to) : '';
        const body = children(n.node).find((c) => c.name === 'FunctionCallBody');
        const matrix = body ? children(body).find((c) => c.name === 'MatrixSelector') : undefined;
        if (matrix !== undefined) {
          const dur = children(matrix).find((c) => c.name === 'DurationExpr');
          const range = INTERVAL_OF[dur ? text.slice(dur.from, dur.to) : ''] ?? (dur ? text.slice(dur.from, dur.to) : '?');
          const allowed = name === 'rate' || name === 'irate' ? ['$__rate_interval'] : ['$__rate_interval', '$__range', '$__interval'];
          if (!allowed.includes(range)) errors.push(`${name}() over [${range}] (use ${allowed.join(' or ')}): ${raw}`);
        }
      }
      return undefined;
    },
  });
  return { errors, metrics };
}

const catalogued = (name: string): boolean => {
  const byName = new Map<string, string>(CATALOG.map((c) => [c.name, c.type] as const));
  if (byName.has(name) && byName.get(name) !== 'histogram') return true;
  if (PROMETHEUS_SERIES.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m !== null && byName.get(m[1] as string) === 'histogram';
};

function links(p: Panel): string[] {
  const urls = [...(p.links ?? []), ...(p.fieldConfig?.defaults?.links ?? [])].map((l) => l.url ?? '');
  for (const o of p.fieldConfig?.overrides ?? []) for (const prop of o.properties) if (prop.id === 'links') urls.push(...(prop.value as Link[]).map((l) => l.url ?? ''));
  return urls;
}

const ruleAlerts = new Set(
  (parse(readFileSync(join(ROOT, 'rules/vigil-ml.rules.yml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert ?? '')),
);

describe('dashboard provisioning', () => {
  it('a Prometheus datasource with a stable uid, at the compose Prometheus', () => {
    expect(prom?.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const url = new URL(prom?.url ?? '');
    expect(loadCompose().services[url.hostname]?.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
  });

  it('the dashboard provider reads the directory the compose file mounts dashboards/ at', () => {
    const providers = (parse(readFileSync(join(provisioning, 'dashboards/vigil.yml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] });
    expect(providers.apiVersion).toBe(1);
    const provider = providers.providers[0];
    expect(provider?.type).toBe('file');
    const compose = loadCompose();
    expect(hostPath(compose, 'grafana', provider?.options.path ?? '')).toBe(DASHBOARDS);
    expect(hostPath(compose, 'grafana', '/etc/grafana/provisioning/datasources/prometheus.yml')).toBe(join(provisioning, 'datasources/prometheus.yml'));
    expect(service(compose, 'grafana').volumes).toBeDefined();
  });

  it('four dashboards with distinct uids and titles', () => {
    const ds = files.map(load);
    expect(ds.map((d) => d.uid).sort()).toEqual(['ml-business-metrics', 'ml-model-performance', 'ml-operations', 'ml-slos']);
    expect(new Set(ds.map((d) => d.title)).size).toBe(ds.length);
  });
});

describe.each(files)('dashboard %s', (file) => {
  const d = load(file);
  const vars = new Set(d.templating.list.map((v) => v.name));

  it('has a uid of at most 40 characters, a title and a schema version', () => {
    expect(d.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(d.title.length).toBeGreaterThan(0);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
  });

  it('has unique panel ids and panels that fit the 24-column grid without overlapping', () => {
    const panels = allPanels(d);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const overlaps: string[] = [];
    panels.forEach((a, i) => {
      const g = a.gridPos;
      expect(Number.isInteger(g.x) && Number.isInteger(g.y) && g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24, `panel ${a.id} gridPos ${JSON.stringify(g)}`).toBe(true);
      for (const b of panels.slice(i + 1)) {
        const h = b.gridPos;
        if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) overlaps.push(`${a.id} "${a.title}" and ${b.id} "${b.title}"`);
      }
    });
    expect(overlaps).toEqual([]);
  });

  it('reads its Prometheus through a datasource variable on every panel, query and query variable, and declares what an import needs', () => {
    for (const p of dataPanels(d)) {
      expect(p.datasource, `panel ${p.id} "${p.title}"`).toEqual(DS_VARIABLE);
      expect(p.targets?.length, `panel ${p.id} "${p.title}" has no queries`).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource, `panel ${p.id} target ${t.refId}`).toEqual(DS_VARIABLE);
    }
    for (const v of d.templating.list.filter((x) => x.type === 'query')) expect(v.datasource, `variable ${v.name}`).toEqual(DS_VARIABLE);
    // no hard-coded uid anywhere: the provisioned one would be wrong in another Grafana
    expect(JSON.stringify(d)).not.toContain(prom?.uid ?? '?');
    // The variable (Grafana's own export layout, REFERENCE.md §6): imported by hand, Grafana asks for
    // DS_PROMETHEUS and writes the chosen datasource's uid into `current.value`; provisioned (not
    // substituted), no datasource has that uid, so Grafana takes the one named as `current.text`:
    // the provisioned datasource's name.
    const v = d.templating.list[0] as Variable & { current?: { text?: string; value?: string } };
    expect(v).toMatchObject({ type: 'datasource', name: 'datasource', query: 'prometheus', current: { text: prom?.name, value: '${DS_PROMETHEUS}' } });
    const raw = d as unknown as { __inputs: Record<string, string>[]; __requires: { type: string; id: string }[] };
    expect(raw.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' })]);
    // every ${DS_…} the dashboard uses is declared (an import replaces exactly those), and every declared one is used
    const used = new Set([...JSON.stringify({ ...d, __inputs: undefined }).matchAll(/\$\{(DS_\w+)\}/g)].map((m) => m[1]));
    expect([...used]).toEqual(raw.__inputs.map((i) => i.name));
    // __requires: Grafana, the Prometheus datasource plugin and every panel type the dashboard uses
    const panelTypes = [...new Set(dataPanels(d).map((p) => p.type))].sort();
    expect(raw.__requires.filter((r) => r.type === 'panel').map((r) => r.id)).toEqual(panelTypes);
    expect(raw.__requires.filter((r) => r.type !== 'panel').map((r) => `${r.type}/${r.id}`)).toEqual(['grafana/grafana', 'datasource/prometheus']);
  });

  it('sets a unit on every panel', () => {
    const missing = dataPanels(d).filter((p) => typeof p.fieldConfig?.defaults?.unit !== 'string' || p.fieldConfig.defaults.unit === '');
    expect(missing.map((p) => `${p.id} "${p.title}"`)).toEqual([]);
  });

  it('has only valid PromQL (lezer-promql) over catalogued metrics, with rate() over $__rate_interval', () => {
    const problems: string[] = [];
    let metrics = 0;
    for (const { where, expr } of dashboardExpressions(d)) {
      const a = analyse(expr, vars);
      problems.push(...a.errors.map((e) => `${where}: ${e}`));
      for (const m of a.metrics) {
        metrics++;
        if (!catalogued(m)) problems.push(`${where}: metric ${m} is not in the catalog`);
      }
    }
    expect(problems).toEqual([]);
    expect(metrics).toBeGreaterThan(5);
  });

  it('uses every template variable', () => {
    const panelsText = JSON.stringify(d.panels);
    const unused = d.templating.list.filter((v) => {
      const others = d.templating.list.filter((o) => o !== v).map((o) => `${variableQuery(o)} ${o.definition ?? ''}`).join(' ');
      const used = new RegExp(`\\$\\{${v.name}\\b|\\$${v.name}\\b|\\[\\[${v.name}\\b`);
      return !used.test(panelsText) && !used.test(others);
    });
    expect(unused.map((v) => v.name)).toEqual([]);
  });

  it('links panels to the runbooks of the alerts they show, and those runbooks exist', () => {
    const runbookLinks = dataPanels(d).flatMap(links).filter((u) => u.includes('/runbooks/'));
    expect(runbookLinks.length).toBeGreaterThan(0);
    for (const url of runbookLinks) {
      expect(url).toMatch(/^\$\{vigil_url\}\/runbooks\//);
      const name = /\/runbooks\/([A-Za-z0-9]+)$/.exec(url)?.[1];
      if (url.endsWith('${__data.fields.alertname}')) continue; // the alert table: one link per row
      expect(name, url).toBeDefined();
      expect(existsSync(join(ROOT, 'runbooks', `${name}.md`)), `runbooks/${name}.md`).toBe(true);
      expect(ruleAlerts.has(name as string), `${name} is a bundled alert`).toBe(true);
    }
  });
});

describe('dashboard contents', () => {
  const exprsOf = (file: string): string => dataPanels(load(file)).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')).join('\n');

  it('ML Operations: at least 12 panels covering quality, drift, data quality, serving, alerts and remediation', () => {
    const d = load('ml-operations.json');
    expect(dataPanels(d).length).toBeGreaterThanOrEqual(12);
    const exprs = exprsOf('ml-operations.json');
    for (const m of [
      'ml_model_accuracy', 'ml_model_f1_score', 'ml_model_quality_baseline', 'ml_feature_drift_score', 'ml_features_drifted', 'ml_prediction_drift_score',
      'ml_feature_completeness_ratio', 'ml_feature_freshness_seconds', 'ml_prediction_latency_seconds_bucket', 'ml_predictions_total', 'ml_label_coverage_ratio',
      'ml_model_estimated_accuracy', 'ALERTS', 'ml_circuit_breaker_state', 'ml_remediation_actions_total',
    ]) expect(exprs, m).toContain(m);
    expect(exprs).toMatch(/histogram_quantile\(0\.50?,/);
    expect(exprs).toContain('histogram_quantile(0.95,');
    expect(exprs).toContain('histogram_quantile(0.99,');
  });

  it('ML Model Performance: a model variable from label_values, per-model panels and a version comparison', () => {
    const d = load('ml-model-performance.json');
    const model = d.templating.list.find((v) => v.name === 'model');
    expect(model?.type).toBe('query');
    expect(variableQuery(model as Variable)).toMatch(/^label_values\(\w+, model\)$/);
    const exprs = exprsOf('ml-model-performance.json');
    expect(exprs.split('\n').filter((e) => e.includes('model="$model"')).length).toBeGreaterThan(10);
    expect(exprs).toContain('sum by (version)');
    expect(exprs).toContain('ml_ab_test_lift_ratio');
    expect(exprs).toContain('ml_ab_test_p_value');
  });

  it('ML Model Performance: a Segments row (quality and drift per segment, traffic and the cap); every other panel reads the whole model', () => {
    const d = load('ml-model-performance.json');
    const byTitle = (t: string) => dataPanels(d).filter((p) => p.title.includes(t)).flatMap((p) => (p.targets ?? []).map((x) => x.expr ?? ''));
    expect(byTitle('Accuracy by segment').join()).toContain('ml_model_accuracy{model="$model", version=~"$version", window="$window", segment!=""}');
    expect(byTitle('Features drifted by segment').join()).toContain('ml_features_drifted{model="$model", window="$window", segment!=""}');
    expect(byTitle('Segment traffic').join()).toContain('ml_segment_values_pooled');
    const segmented = dataPanels(d).filter((p) => !/segment/i.test(p.title)).flatMap((p) => (p.targets ?? []).map((x) => x.expr ?? ''));
    for (const e of segmented) if (/ml_(model_accuracy|feature_drift|window_samples)/.test(e)) expect(e).toContain('segment=""');
  });

  it('ML Business Metrics: business value, ROI and accuracy improvement vs baseline', () => {
    const d = load('ml-business-metrics.json');
    const byTitle = (t: string) => dataPanels(d).filter((p) => p.title.includes(t)).flatMap((p) => (p.targets ?? []).map((x) => x.expr ?? ''));
    expect(byTitle('Business value').join()).toContain('ml_business_value');
    expect(byTitle('ROI').join()).toContain('ml_roi_ratio');
    expect(byTitle('Accuracy improvement').join()).toContain('ml_accuracy_improvement_ratio');
  });
});

describe('dashboard contents: ML SLOs', () => {
  it('error budget, burn rates per window against the alert thresholds, SLO alerts and performance budgets', () => {
    const d = load('ml-slos.json');
    const byTitle = (t: string) => dataPanels(d).filter((p) => p.title.includes(t)).flatMap((p) => (p.targets ?? []).map((x) => x.expr ?? ''));
    expect(byTitle('Error budget remaining').join()).toContain('slo:period_error_budget_remaining:ratio');
    const windows = byTitle('Error ratio per window').join();
    for (const w of ['5m', '1h', '6h', '1d', '3d']) expect(windows).toContain(`slo:sli_error:ratio_rate${w}{`);
    const burn = dataPanels(d).find((p) => p.title.includes('alert thresholds'));
    expect((burn?.fieldConfig?.defaults as { thresholds?: { steps: { value: number | null }[] } }).thresholds?.steps.map((s) => s.value)).toEqual([null, 1, 3, 6, 14.4]);
    expect(byTitle('SLO alerts').join()).toContain('ALERTS{alertname="MLSLOErrorBudgetBurn"');
    expect(byTitle('Performance budgets broken').join()).toContain('ml_model_budget_violated');
    expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'model', 'slo', 'segment', 'vigil_url']);
    // every SLO panel follows the segment variable (a segment's SLOs carry `segment`, slos[].segment)
    for (const e of dataPanels(d).flatMap((p) => (p.targets ?? []).map((x) => x.expr ?? ''))) if (e.includes('sloth_slo=~')) expect(e).toContain('segment=~"$segment"');
  });
});

describe('the checks themselves', () => {
  it('reject a syntax error, an unknown metric, a fixed rate() range and an unknown variable', () => {
    const vars = new Set(['model']);
    expect(analyse('sum(rate(ml_predictions_total{model=~"$model"}[$__rate_interval]))', vars).errors).toEqual([]);
    expect(analyse('sum(rate(ml_predictions_total[5m]))', vars).errors[0]).toContain('rate() over [5m]');
    expect(analyse('sum(ml_window_samples{model="x"}', vars).errors.length).toBeGreaterThan(0);
    expect(analyse('ml_window_samples{model="$modle"}', vars).errors[0]).toContain('unknown variable $modle');
    expect(catalogued('ml_prediction_latency_seconds_bucket')).toBe(true);
    expect(catalogued('ml_prediction_latency_seconds')).toBe(false);
    expect(catalogued('ml_model_accuracy_bucket')).toBe(false);
    expect(catalogued('ml_no_such_metric')).toBe(false);
  });
});
