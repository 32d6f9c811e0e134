// Vigil's web UI: a small client for the JSON API (no framework, no build step). The page shell
// holds no data; everything is fetched with the token the user gives (kept for the session in
// sessionStorage, sent as a bearer token), so it works whether or not read tokens are configured.
const TOKEN_KEY = 'vigil.token';
const REFRESH_MS = 10_000;

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
};

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

/** GET a JSON (or HTML) resource with the token; a 401/403 shows the token form. */
async function api(path, as = 'json') {
  const headers = token() === '' ? {} : { authorization: `Bearer ${token()}` };
  const r = await fetch(path, { headers });
  if (r.status === 401 || r.status === 403) {
    showTokenForm(r.status === 403 ? 'This token may not read that. Give another one.' : 'Vigil asks for a token.');
    throw new Error(`${path}: ${r.status}`);
  }
  if (!r.ok) {
    let message = `${r.status}`;
    try {
      message = (await r.json()).error?.message ?? message;
    } catch {}
    throw new Error(message);
  }
  return as === 'json' ? r.json() : r.text();
}

function showTokenForm(why) {
  const dialog = $('#token');
  $('#token-why').textContent = why;
  if (!dialog.open) dialog.showModal();
}

function setupTokenForm() {
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = $('#token-input').value.trim();
    if (value === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
    $('#token').close();
    void refresh();
  });
  $('#token-button').addEventListener('click', () => showTokenForm('A read token shows everything; an admin token also allows the admin actions.'));
}

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const age = (s) => (s === null || s === undefined ? 'never' : s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${(s / 3600).toFixed(1)} h ago`);
const HEALTH = { ok: 'ok', warning: 'warning', critical: 'critical' };

/** Opens a model's drift report (fetched with the token: a plain link would not carry it). */
async function openReport(model, span) {
  try {
    const html = await api(`/v1/models/${encodeURIComponent(model)}/report?window=${encodeURIComponent(span)}`, 'text');
    window.open(URL.createObjectURL(new Blob([html], { type: 'text/html' })), '_blank', 'noopener');
  } catch (e) {
    $('#status').textContent = `Report of ${model}: ${e.message}`;
  }
}

function overviewTable(models) {
  const rows = models.map((m) =>
    el(
      'tr',
      { 'data-model': m.model },
      el('th', { scope: 'row' }, el('span', { class: `dot ${HEALTH[m.health] ?? ''}`, 'aria-hidden': 'true' }), ' ', m.model, el('span', { class: 'sub' }, ` ${m.task}`)),
      el('td', { class: `health ${HEALTH[m.health] ?? ''}` }, m.health),
      el('td', { class: 'n' }, m.predictions === null ? '–' : m.predictions.toLocaleString('en-US')),
      el('td', {}, age(m.last_prediction_age_seconds)),
      el(
        'td',
        {},
        m.quality === null ? '–' : `${m.quality.metric} ${m.quality.metric === 'r2' ? m.quality.value.toFixed(3) : pct(m.quality.value)}`,
        m.quality?.baseline === null || m.quality === null ? null : el('span', { class: 'sub' }, ` baseline ${m.quality.metric === 'r2' ? m.quality.baseline.toFixed(3) : pct(m.quality.baseline)}`),
      ),
      el('td', {}, m.drifted_features.length === 0 ? 'none' : m.drifted_features.join(', ')),
      el('td', {}, m.data_quality.length === 0 ? 'none' : m.data_quality.map((p) => `${p.feature}: ${p.problem.replaceAll('_', ' ')} ${pct(p.value)}`).join('; ')),
      el('td', {}, m.alerts.length === 0 ? 'none' : m.alerts.map((a) => `${a.alertname} (${a.state})`).join(', ')),
      el('td', { class: `circuit ${m.circuit}` }, m.circuit.replaceAll('_', '-')),
      el('td', {}, el('button', { type: 'button', onclick: () => openReport(m.model, m.window) }, `drift report (${m.window})`)),
    ),
  );
  return el(
    'table',
    { id: 'models' },
    el('caption', {}, 'Every model on its shortest window, from the last evaluation cycle'),
    el('thead', {}, el('tr', {}, ...['Model', 'Health', 'Predictions', 'Last data', 'Quality', 'Drifted features', 'Data quality', 'Alerts', 'Circuit', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows),
  );
}

async function refresh() {
  try {
    const o = await api('/v1/overview');
    $('#main').replaceChildren(overviewTable(o.models));
    $('#status').textContent = o.generated_at === null ? 'No evaluation cycle yet.' : `Last cycle ${new Date(o.generated_at).toLocaleTimeString()}; refreshed every ${REFRESH_MS / 1000} s.`;
  } catch (e) {
    $('#status').textContent = `Cannot load the overview: ${e.message}`;
  }
}

setupTokenForm();
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
