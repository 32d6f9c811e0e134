// The web UI's model page (/models/<name>): quality and drift over time, drawn with uPlot from
// Vigil's own history (the Prometheus query API, /api/v1/query_range), and the window's drift
// report — the features sorted by drift, each with its reference and current distributions.
//
// uPlot (MIT, 51 KB minified, no dependency) is loaded on this page only: it draws thousands of
// points on a canvas in a few milliseconds, where Chart.js is four times its size and Observable
// Plot brings d3. The distributions are a few dozen bars: SVG, drawn here.
import { age, api, el, HEALTH, pct } from './common.js';

const SPANS = [
  ['15m', 900],
  ['1h', 3600],
  ['6h', 21_600],
  ['24h', 86_400],
];
// colour-blind-safe (Okabe-Ito), readable on light and dark backgrounds
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'];
const SVG = 'http://www.w3.org/2000/svg';
export const MODEL_REFRESH_MS = 30_000;

let uplot;
/** uPlot's script and style, once. */
function loadUplot() {
  uplot ??= new Promise((resolve, reject) => {
    document.head.append(el('link', { rel: 'stylesheet', href: '/ui/uplot.min.css' }));
    const s = el('script', { src: '/ui/uplot.min.js' });
    s.addEventListener('load', () => resolve(window.uPlot));
    s.addEventListener('error', () => reject(new Error('cannot load the chart library (/ui/uplot.min.js)')));
    document.head.append(s);
  });
  return uplot;
}

const quote = (v) => JSON.stringify(v);
const num = (x) => (x === null || x === undefined ? '–' : x === 0 || (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5) ? String(Number(x.toPrecision(4))) : x.toExponential(2));

/** A range query over the span up to now: a step giving about 240 points (at least 15 s). */
async function rangeOf(query, spanSeconds) {
  const end = Math.floor(Date.now() / 1000);
  const step = Math.max(15, Math.ceil(spanSeconds / 240));
  const r = await api(`/api/v1/query_range?query=${encodeURIComponent(query)}&start=${end - spanSeconds}&end=${end}&step=${step}`);
  return r.data.result;
}

/**
 * One chart: `lines` are {label, result (a query's series), scale, dash}; each series of a result
 * becomes a line named after `label` and its version. Empty: a sentence instead of a chart.
 */
async function chart(title, lines, scales, empty) {
  const box = el('figure', { class: 'chart', 'data-chart': title });
  const series = lines.flatMap((l) => l.result.map((r) => ({ ...l, name: r.metric.version === undefined ? l.label : `${l.label} ${r.metric.version}`, values: r.values })));
  if (series.length === 0) {
    box.append(el('figcaption', {}, title), el('p', { class: 'sub' }, empty));
    return box;
  }
  const xs = [...new Set(series.flatMap((s) => s.values.map((v) => v[0])))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const data = [xs, ...series.map((s) => {
    const ys = new Array(xs.length).fill(null);
    for (const [t, v] of s.values) ys[at.get(t)] = Number(v);
    return ys;
  })];
  const uPlot = await loadUplot();
  box.append(el('figcaption', {}, title));
  const width = Math.max(320, Math.min(960, (document.querySelector('main')?.clientWidth ?? 800) - 40));
  const fg = getComputedStyle(document.body).color;
  const axis = (scale, side, s) => ({ scale, side, size: 64, stroke: fg, grid: { show: side === 3, stroke: 'rgba(128,128,128,0.25)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' }, values: (u, ticks) => ticks.map(s.format), ...(s.integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 50_000, 100_000, 1_000_000] } : {}) });
  new uPlot(
    {
      width,
      height: 220,
      // counts start at zero; a ratio is drawn on [0, 1]
      scales: Object.fromEntries(Object.entries(scales).map(([k, s]) => [k, s.range !== undefined ? { auto: false, range: s.range } : s.integer ? { range: (u, min, max) => [0, Math.max(1, max)] } : { auto: true }])),
      series: [{}, ...series.map((s, i) => ({ label: s.name, scale: s.scale, stroke: COLORS[i % COLORS.length], width: 2, dash: s.dash ? [6, 4] : undefined, spanGaps: false, value: (u, v) => (v === null ? '–' : scales[s.scale].format(v)) }))],
      axes: [{ stroke: fg, grid: { stroke: 'rgba(128,128,128,0.25)' } }, ...Object.entries(scales).map(([k, s], i) => axis(k, i === 0 ? 3 : 1, s))],
    },
    data,
    box,
  );
  return box;
}

/** A feature's distributions as horizontal bars: per bin the reference's share above the current's. */
function distributionSvg(feature, d) {
  const mark = (b) => (b.outside ? (d.kind === 'categorical' ? ' (new)' : ' (outside)') : '');
  const shown = (b) => (b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label) + mark(b);
  const labelWidth = Math.min(280, 14 + 8 * Math.max(...d.bins.map((b) => shown(b).length)));
  const barWidth = 420;
  const row = 22;
  const height = 16 + row * d.bins.length;
  const max = Math.max(...d.bins.flatMap((b) => [b.reference, b.current]), 1e-12);
  const x = (share) => (share / max) * barWidth;
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const w = labelWidth + barWidth + 110;
  const svg = node('svg', { role: 'img', 'aria-label': `${feature}: reference and current distributions`, width: w, height, viewBox: `0 0 ${w} ${height}`, class: 'dist' });
  svg.append(node('line', { class: 'axis', x1: labelWidth, y1: 6, x2: labelWidth, y2: height - 6 }));
  d.bins.forEach((b, i) => {
    const y = 8 + i * row;
    const label = node('text', { x: labelWidth - 6, y: y + 14, 'text-anchor': 'end', ...(b.outside ? { class: 'new' } : {}) }, shown(b));
    label.append(node('title', {}, b.label));
    const ref = node('rect', { class: 'ref', x: labelWidth, y: y + 2, width: x(b.reference).toFixed(1), height: 8 });
    ref.append(node('title', {}, `reference ${pct(b.reference)}`));
    const cur = node('rect', { class: 'cur', x: labelWidth, y: y + 11, width: x(b.current).toFixed(1), height: 8 });
    cur.append(node('title', {}, `current ${pct(b.current)}`));
    svg.append(label, ref, cur, node('text', { x: labelWidth + Math.max(x(b.reference), x(b.current)) + 6, y: y + 14 }, `${pct(b.reference)} → ${pct(b.current)}`));
  });
  return svg;
}

const STATUS = { drift: 'st-drift', moderate: 'st-moderate', stable: 'st-stable', insufficient_data: 'st-insufficient' };

function driftView(r) {
  const s = r.summary;
  const rows = r.features.flatMap((f) =>
    f.tests.map((t, i) =>
      el(
        'tr',
        { 'data-feature': f.feature },
        i === 0 ? el('th', { scope: 'row', rowspan: f.tests.length }, el('a', { href: `#f-${encodeURIComponent(f.feature)}` }, f.feature)) : null,
        i === 0 ? el('td', { rowspan: f.tests.length }, f.type) : null,
        el('td', {}, t.test),
        el('td', { class: 'n' }, num(t.statistic)),
        el('td', { class: 'n' }, num(t.p_value)),
        el('td', { class: 'n' }, num(t.adjusted_p_value)),
        el('td', { class: STATUS[t.status] }, t.status.replace('_', ' ')),
        el('td', {}, t.severity),
      ),
    ),
  );
  return el(
    'section',
    { id: 'drift' },
    el('h3', {}, 'Drift'),
    el('p', {}, `${r.predictions.toLocaleString('en-US')} predictions in the last ${r.window} against baseline ${r.baseline.id} (version ${r.baseline.version}, ${r.baseline.rows.toLocaleString('en-US')} rows); alpha ${r.alpha}, Benjamini-Hochberg. `, s.drift_detected ? el('strong', { class: 'st-drift' }, `${s.features_drifted} of ${s.features_tested} features drifted.`) : 'No drift detected.'),
    el(
      'table',
      { id: 'features' },
      el('caption', {}, 'Features, most drifted first'),
      el('thead', {}, el('tr', {}, ...['Feature', 'Type', 'Test', 'Statistic', 'p-value', 'Adj. p', 'Decision', 'Severity'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows),
    ),
    el('h3', {}, 'Distributions'),
    el('p', { class: 'sub legend' }, 'Share of values per bin (numeric: the reference\'s quantile bins) or per category (new ones marked). ', el('i', { class: 'key ref' }), ' reference ', el('i', { class: 'key cur' }), ' current'),
    r.features.map((f) =>
      el(
        'section',
        { class: 'feature', id: `f-${encodeURIComponent(f.feature)}`, 'data-feature': f.feature },
        el('h4', {}, `${f.feature} `, el('span', { class: STATUS[f.status] }, f.status.replace('_', ' '))),
        f.distribution === null ? el('p', { class: 'sub' }, 'No values to draw.') : distributionSvg(f.feature, f.distribution),
      ),
    ),
  );
}

/** Renders the model page into `main`; `onChange` re-renders after the window or span changes. */
export async function modelPage(main, name, onChange) {
  const params = new URLSearchParams(location.search);
  const o = await api('/v1/overview');
  const m = o.models.find((x) => x.model === name);
  if (m === undefined) {
    main.replaceChildren(el('p', {}, `No model named "${name}". `, el('a', { href: '/' }, 'All models')));
    return 'No such model.';
  }
  const win = m.windows.includes(params.get('window')) ? params.get('window') : m.window;
  const span = SPANS.find(([k]) => k === params.get('span')) ?? SPANS[1];
  const choose = (key, value) => {
    params.set(key, value);
    history.replaceState(null, '', `${location.pathname}?${params}`);
    onChange();
  };
  const select = (id, label, options, value, key) =>
    el('label', { for: id }, `${label} `, el('select', { id, onchange: (e) => choose(key, e.target.value) }, options.map((o) => el('option', { value: o, selected: o === value }, o))));
  const sel = `model=${quote(name)},window=${quote(win)},segment=""`;
  const regression = m.task === 'regression';
  const [quality, estimated, drifted, volume] = await Promise.all([
    rangeOf(regression ? `ml_model_r2{${sel}}` : `ml_model_accuracy{${sel}}`, span[1]),
    regression ? Promise.resolve([]) : rangeOf(`ml_model_estimated_accuracy{${sel}}`, span[1]),
    rangeOf(`ml_features_drifted{${sel}}`, span[1]),
    rangeOf(`sum(ml_window_samples{${sel}})`, span[1]),
  ]);
  const ratio = { format: (v) => (regression ? num(v) : `${(100 * v).toFixed(1)}%`), ...(regression ? {} : { range: [0, 1] }) };
  const charts = await Promise.all([
    chart(
      `${regression ? 'R²' : 'Accuracy'} over the last ${span[0]} (window ${win})`,
      [
        { label: regression ? 'r2' : 'accuracy', result: quality, scale: 'q' },
        { label: 'estimated accuracy', result: estimated, scale: 'q', dash: true },
      ],
      { q: ratio },
      'No labelled predictions in this span: quality needs labels (the estimate needs scores).',
    ),
    chart(
      `Drifted features and predictions over the last ${span[0]} (window ${win})`,
      [
        { label: 'drifted features', result: drifted, scale: 'f' },
        { label: 'predictions', result: volume, scale: 'n', dash: true },
      ],
      { f: { integer: true, format: (v) => String(v) }, n: { integer: true, format: (v) => (v >= 1e4 ? `${(v / 1000).toFixed(0)}k` : String(v)) } },
      'No data in this span yet.',
    ),
  ]);
  let drift;
  try {
    drift = driftView(await api(`/v1/models/${encodeURIComponent(name)}/report?window=${encodeURIComponent(win)}`));
  } catch (e) {
    drift = el('section', { id: 'drift' }, el('h3', {}, 'Drift'), el('p', {}, e.message));
  }
  const parts = [
    el('p', {}, el('a', { href: '/' }, '← All models')),
    el(
      'h2',
      {},
      el('span', { class: `dot ${HEALTH[m.health] ?? ''}`, 'aria-hidden': 'true' }),
      ` ${m.model} `,
      el('span', { class: 'sub' }, `${m.task} · ${m.health} · circuit ${m.circuit.replaceAll('_', '-')} · last data ${age(m.last_prediction_age_seconds)}`),
    ),
    m.alerts.length === 0 ? null : el('p', {}, 'Alerts: ', m.alerts.map((a) => `${a.alertname} (${a.state})`).join(', ')),
    el('div', { class: 'controls' }, select('window', 'Window', m.windows, win, 'window'), ' ', select('span', 'Time span', SPANS.map(([k]) => k), span[0], 'span')),
    el('div', { class: 'charts' }, charts),
    drift,
  ];
  main.replaceChildren(...parts.filter((p) => p !== null));
  return `Charts from Vigil's own history: as far back as alerting.history.retention (1h by default); refreshed every ${MODEL_REFRESH_MS / 1000} s.`;
}
