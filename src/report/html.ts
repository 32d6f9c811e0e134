/**
 * A drift report as one self-contained HTML file: the summary, every feature's test results, and
 * each feature's reference and current distributions drawn as inline SVG (no script, no network:
 * it opens anywhere, offline, and prints). Used by `vigil report`.
 */
import { escapeHtml } from '../core/html.js';
import type { DriftReport, DriftSeverity, DriftStatus, FeatureDecision } from '../stats/drift-decision.js';
import type { Bin, Distribution } from './distributions.js';

export interface DriftReportPage {
  title: string;
  /** what was compared: one line each (files, window, alpha, …) */
  about: string[];
  report: DriftReport;
  /** per feature (the report's), its distributions; null: none to draw */
  distributions: ReadonlyMap<string, Distribution | null>;
  generatedAt: Date;
}


function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e6 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
}

const pct = (x: number): string => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;

/** The order features are shown in: drifted first, then moderate, no drift, too little data; by name within. */
const RANK: Record<DriftStatus, number> = { drift: 0, moderate: 1, stable: 2, insufficient_data: 3 };
const SEVERITY_RANK: Record<DriftSeverity, number> = { none: 0, low: 1, medium: 2, high: 3 };

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --ref: #4c72b0; --cur: #dd8452; --bad: #b42318; --warn: #9a6700; --good: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --ref: #7ea6e0; --cur: #f0a672; --bad: #ff7b72; --warn: #d29922; --good: #3fb950; } }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 68rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 0.25rem; } h2 { margin-top: 2rem; } h3 { margin: 1.5rem 0 0.4rem; }
.about { color: var(--muted); margin: 0 0 1rem; padding: 0; list-style: none; }
.summary { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 0.9rem; min-width: 8rem; }
.card b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; }
.status-drift { color: var(--bad); font-weight: 600; } .status-moderate { color: var(--warn); font-weight: 600; } .status-stable, .status-ok { color: var(--good); } .status-insufficient_data { color: var(--muted); }
.legend { color: var(--muted); font-size: 0.9em; }
.legend i { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.3em 0 0.8em; vertical-align: -0.05em; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg .ref { fill: var(--ref); } svg .cur { fill: var(--cur); } svg .axis { stroke: var(--line); } svg .new { fill: var(--bad); font-weight: 600; }
@media print { .card { break-inside: avoid; } section { break-inside: avoid; } }
`;

/** A feature's status: the most severe of its tests'. */
export const statusOf = (list: readonly FeatureDecision[]): DriftStatus => list.reduce<DriftStatus>((w, d) => (RANK[d.status] < RANK[w] ? d.status : w), 'insufficient_data');

/**
 * The report's features with their tests, most drifted first: by status, then by the highest
 * severity (each test's own thresholds: comparable across tests, where raw effect sizes are not),
 * then by the smallest adjusted p-value, then by name.
 */
export function featuresByDrift(report: DriftReport): [string, FeatureDecision[]][] {
  const byFeature = new Map<string, FeatureDecision[]>();
  for (const d of report.decisions) {
    const list = byFeature.get(d.feature) ?? [];
    list.push(d);
    byFeature.set(d.feature, list);
  }
  const severity = (list: readonly FeatureDecision[]): number => Math.max(...list.map((d) => SEVERITY_RANK[d.severity]));
  const p = (list: readonly FeatureDecision[]): number => Math.min(1, ...list.map((d) => (d.adjustedPValue === null || Number.isNaN(d.adjustedPValue) ? 1 : d.adjustedPValue)));
  return [...byFeature].sort(([a, x], [b, y]) => RANK[statusOf(x)] - RANK[statusOf(y)] || severity(y) - severity(x) || p(x) - p(y) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A distribution as a horizontal bar chart: per bin, the reference's share above the current's. */
export function distributionSvg(feature: string, d: Distribution): string {
  const markOf = (b: Bin): string => (b.outside === true ? (d.kind === 'categorical' ? ' (new)' : ' (outside)') : '');
  const shown = (b: Bin): string => (b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label) + markOf(b);
  const labelWidth = Math.min(280, 14 + 8 * Math.max(...d.bins.map((b) => shown(b).length))); // 12px text: about 7px a character, 8 in bold
  const barWidth = 420;
  const row = 22;
  const top = 8;
  const height = top + row * d.bins.length + 8;
  const max = Math.max(...d.bins.flatMap((b) => [b.reference, b.current]), 1e-12);
  const x = (share: number): number => (share / max) * barWidth;
  const rows = d.bins.map((b: Bin, i: number) => {
    const y = top + i * row;
    return (
      `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end"${b.outside === true ? ' class="new"' : ''}>${escapeHtml(shown(b))}<title>${escapeHtml(b.label)}</title></text>` +
      `<rect class="ref" x="${labelWidth}" y="${y + 2}" width="${x(b.reference).toFixed(1)}" height="8"><title>reference ${pct(b.reference)}</title></rect>` +
      `<rect class="cur" x="${labelWidth}" y="${y + 11}" width="${x(b.current).toFixed(1)}" height="8"><title>current ${pct(b.current)}</title></rect>` +
      `<text x="${labelWidth + Math.max(x(b.reference), x(b.current)) + 6}" y="${y + 14}">${pct(b.reference)} → ${pct(b.current)}</text>`
    );
  });
  const w = labelWidth + barWidth + 110;
  return (
    `<svg role="img" aria-label="${escapeHtml(`${feature}: reference and current distributions`)}" width="${w}" height="${height}" viewBox="0 0 ${w} ${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(`${feature}: reference (blue) and current (orange) share per ${d.kind === 'numeric' ? 'bin of the reference range' : 'category'}`)}</title>` +
    `<line class="axis" x1="${labelWidth}" y1="${top - 2}" x2="${labelWidth}" y2="${height - 6}"/>${rows.join('')}</svg>`
  );
}

/** The whole report page. */
export function renderDriftReport(page: DriftReportPage): string {
  const { report } = page;
  const s = report.summary;
  const features = featuresByDrift(report);
  const rows = features.flatMap(([, list]) =>
    list.map(
      (d) =>
        `<tr><td><a href="#f-${escapeHtml(encodeURIComponent(d.feature))}">${escapeHtml(d.feature)}</a></td><td>${escapeHtml(d.featureType)}</td><td>${escapeHtml(d.test)}</td>` +
        `<td class="n">${num(d.statistic)}</td><td class="n">${num(d.pValue)}</td><td class="n">${num(d.adjustedPValue)}</td>` +
        `<td class="status-${escapeHtml(d.status)}">${escapeHtml(d.status.replace('_', ' '))}</td><td>${escapeHtml(d.severity)}</td><td>${escapeHtml(d.action)}</td></tr>`,
    ),
  );
  const sections = features.map(([name, list]) => {
    const dist = page.distributions.get(name) ?? null;
    const status = statusOf(list);
    const tests = list.map((d) => `${d.test} ${num(d.statistic)}${d.adjustedPValue === null ? '' : ` (adj. p ${num(d.adjustedPValue)})`}`).join(', ');
    const counts = dist === null ? '' : ` · ${dist.nReference.toLocaleString('en-US')} reference and ${dist.nCurrent.toLocaleString('en-US')} current values`;
    return (
      `<section id="f-${escapeHtml(encodeURIComponent(name))}"><h3>${escapeHtml(name)} <span class="status-${escapeHtml(status)}">${escapeHtml(status.replace('_', ' '))}</span></h3>` +
      `<p class="legend">${escapeHtml(tests)}${escapeHtml(counts)}<i style="background:var(--ref)"></i>reference<i style="background:var(--cur)"></i>current</p>` +
      (dist === null ? '<p class="legend">No values to draw.</p>' : distributionSvg(name, dist)) +
      '</section>'
    );
  });
  const card = (label: string, value: string, cls = ''): string => `<div class="card"><b${cls === '' ? '' : ` class="${cls}"`}>${escapeHtml(value)}</b>${escapeHtml(label)}</div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(page.title)} · Vigil</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(page.title)}</h1>
<ul class="about">${page.about.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}<li>Generated ${escapeHtml(page.generatedAt.toISOString())} by Vigil</li></ul>
<div class="summary">
${card('result', s.driftDetected ? 'drift detected' : 'no drift', s.driftDetected ? 'status-drift' : 'status-ok')}
${card('features tested', String(s.featuresTested))}
${card('drifted', String(s.featuresDrifted), s.featuresDrifted > 0 ? 'status-drift' : '')}
${card('moderate', String(s.featuresModerate))}
${card('too little data', String(s.featuresInsufficient))}
${card('severity', s.severity)}
</div>
${s.featuresDrifted > 0 ? `<p>Drifted: ${s.driftedFeatures.map((f) => `<a href="#f-${escapeHtml(encodeURIComponent(f))}">${escapeHtml(f)}</a>`).join(', ')}</p>` : ''}
<h2>Tests</h2>
<table>
<thead><tr><th>Feature</th><th>Type</th><th>Test</th><th>Statistic</th><th>p-value</th><th>Adj. p</th><th>Status</th><th>Severity</th><th>Suggested action</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<h2>Distributions</h2>
<p class="legend">Numeric features: the share of values per bin (equal-width bins over the reference's range, current values outside it in bars of their own; or the reference's own quantile bins, which hold equal parts of it); categorical features: the share of each category, new ones (never in the reference) marked.</p>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
