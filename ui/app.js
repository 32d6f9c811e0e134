// Vigil's web UI: a small client for the JSON API (no framework, no build step). The page shell
// holds no data; everything is fetched with the token the user gives (kept for the session in
// sessionStorage, sent as a bearer token), so it works whether or not read tokens are configured.
import { $, age, api, el, HEALTH, pct, REFRESH_MS, setupTokenForm, showTokenForm, token, when } from './common.js';
import { MODEL_REFRESH_MS, modelPage } from './model.js';

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
      el('th', { scope: 'row' }, el('span', { class: `dot ${HEALTH[m.health] ?? ''}`, 'aria-hidden': 'true' }), ' ', el('a', { href: `/models/${encodeURIComponent(m.model)}` }, m.model), el('span', { class: 'sub' }, ` ${m.task}`)),
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

const mttr = (s) => (s === null || s === undefined ? 'open' : s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

/** An incident's events in the order they happened: the alert, every action step, the resolution. */
function timeline(i) {
  const events = [{ at: i.fired_at, what: `${i.alertname} fired`, detail: i.annotations?.summary ?? '' }];
  for (const a of i.actions) {
    const label = a.action.startsWith('vigil:') ? a.action.slice(6) : `${a.action} (${a.type})`;
    events.push({ at: a.created_at, what: `${label}: ${a.status.replaceAll('_', ' ')}`, detail: [a.reason, a.error === null ? '' : `error: ${a.error}`].filter((x) => x !== '').join('; ') });
    if (a.ended_at !== null && a.ended_at !== a.created_at) events.push({ at: a.ended_at, what: `${label} ended`, detail: `after ${a.attempts} attempt(s)` });
  }
  if (i.resolved_at !== null) events.push({ at: i.resolved_at, what: `${i.alertname} resolved`, detail: `time to resolve ${mttr(i.duration_seconds)}` });
  return events.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
}

/** The incident report of seed 001, as Markdown. */
function incidentMarkdown(i) {
  const lines = [
    `# Incident: ${i.alertname} on ${i.model || '(no model)'}`,
    '',
    `- **Status:** ${i.status}`,
    `- **Fired:** ${when(i.fired_at)}`,
    `- **Resolved:** ${when(i.resolved_at)}`,
    `- **Time to resolve (MTTR):** ${mttr(i.duration_seconds)}`,
    `- **Labels:** ${Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    '',
    '## Summary',
    '',
    i.annotations?.description ?? i.annotations?.summary ?? '',
    '',
    '## Timeline',
    '',
    '| Time | Event | Detail |',
    '|---|---|---|',
    ...timeline(i).map((e) => `| ${when(e.at)} | ${e.what.replaceAll('|', '\\|')} | ${e.detail.replaceAll('|', '\\|')} |`),
    '',
    '## Actions',
    '',
    ...(i.actions.length === 0 ? ['None.'] : i.actions.map((a) => `- \`${a.action}\` (${a.type}): **${a.status}**${a.reason ? ` — ${a.reason}` : ''}${a.error ? ` (error: ${a.error})` : ''}`)),
    '',
    i.annotations?.runbook_url ? `Runbook: ${i.annotations.runbook_url}` : '',
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

function download(name, text) {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/markdown' })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

function incidentsView(list) {
  if (list.length === 0) return el('p', {}, 'No incidents: an incident opens when an alert routed to remediation or escalation fires.');
  return el(
    'div',
    { id: 'incidents' },
    list.map((i) =>
      el(
        'section',
        { class: 'incident', 'data-incident': i.id, 'aria-labelledby': `h-${i.id}` },
        el('h2', { id: `h-${i.id}` }, `${i.alertname} `, el('span', { class: 'sub' }, `on ${i.model || '(no model)'} · ${i.status} · MTTR ${mttr(i.duration_seconds)}`)),
        el(
          'table',
          { class: 'timeline' },
          el('caption', {}, 'Timeline'),
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Time'), el('th', { scope: 'col' }, 'Event'), el('th', { scope: 'col' }, 'Detail'))),
          el('tbody', {}, timeline(i).map((e) => el('tr', {}, el('td', {}, when(e.at)), el('td', {}, e.what), el('td', {}, e.detail)))),
        ),
        el('button', { type: 'button', onclick: () => download(`incident-${i.id}.md`, incidentMarkdown(i)) }, 'Export as Markdown'),
        i.status === 'open' && !i.actions.some((a) => a.action === 'vigil:ack')
          ? el(
              'button',
              {
                type: 'button',
                class: 'ack',
                onclick: () =>
                  send('POST', `/v1/incidents/${encodeURIComponent(i.id)}/ack`, { by: 'web UI' })
                    .then(() => refresh())
                    .catch((e) => ($('#status').textContent = `Cannot acknowledge: ${e.message}`)),
              },
              'Acknowledge (stops its escalation)',
            )
          : null,
      ),
    ),
  );
}

/** POST/DELETE with the token (admin actions); a 401/403 shows the token form. */
async function send(method, path, body) {
  const headers = { ...(token() === '' ? {} : { authorization: `Bearer ${token()}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const r = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (r.status === 401 || r.status === 403) {
    showTokenForm('That needs an admin token.');
    throw new Error(`${r.status}`);
  }
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error?.message ?? String(r.status));
  return r.json();
}

const labelText = (labels) => Object.entries(labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}="${v}"`).join(', ');
const quote = (v) => JSON.stringify(v);

function alertsView(alerts, silences) {
  const firingFirst = [...alerts].sort((a, b) => (a.state === b.state ? (a.labels.alertname < b.labels.alertname ? -1 : 1) : a.state === 'firing' ? -1 : 1));
  const silenceFor = (a) => {
    const matchers = Object.entries(a.labels).filter(([k]) => k === 'alertname' || k === 'model').map(([k, v]) => `${k}=${quote(v)}`);
    return send('POST', '/v1/silences', { matchers, endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'web UI', comment: `silenced from the web UI: ${a.labels.alertname}` })
      .then(() => refresh())
      .catch((e) => ($('#status').textContent = `Cannot silence: ${e.message}`));
  };
  const expire = (id) =>
    send('DELETE', `/v1/silences/${encodeURIComponent(id)}`)
      .then(() => refresh())
      .catch((e) => ($('#status').textContent = `Cannot expire: ${e.message}`));
  return el(
    'div',
    {},
    el('h2', {}, 'Alerts'),
    alerts.length === 0
      ? el('p', {}, 'No alert is pending or firing.')
      : el(
          'table',
          { id: 'alerts' },
          el('caption', {}, 'Pending and firing alerts of Vigil\'s rules'),
          el('thead', {}, el('tr', {}, ...['Alert', 'State', 'Labels', 'Value', 'Active since', ''].map((h) => el('th', { scope: 'col' }, h)))),
          el(
            'tbody',
            {},
            firingFirst.map((a) =>
              el(
                'tr',
                { 'data-alert': a.labels.alertname },
                el('th', { scope: 'row' }, a.annotations?.runbook_url ? el('a', { href: `/runbooks/${encodeURIComponent(a.labels.alertname)}` }, a.labels.alertname) : a.labels.alertname),
                el('td', { class: `state ${a.state}` }, a.state, (a.silencedBy ?? []).length > 0 ? el('span', { class: 'sub' }, ' (silenced)') : null),
                el('td', {}, labelText(a.labels)),
                el('td', { class: 'n' }, a.value),
                el('td', {}, when(a.activeAt)),
                el('td', {}, el('button', { type: 'button', onclick: () => silenceFor(a) }, 'Silence 1 h')),
              ),
            ),
          ),
        ),
    el('h2', {}, 'Silences'),
    silences.length === 0
      ? el('p', {}, 'No silence.')
      : el(
          'table',
          { id: 'silences' },
          el('caption', {}, 'Silences (admin token to add or expire)'),
          el('thead', {}, el('tr', {}, ...['Matchers', 'State', 'Ends', 'By', 'Comment', ''].map((h) => el('th', { scope: 'col' }, h)))),
          el(
            'tbody',
            {},
            silences.map((x) =>
              el(
                'tr',
                { 'data-silence': x.id },
                el('td', {}, x.matchers.map((m) => (typeof m === 'string' ? m : `${m.name}${m.isEqual === false ? '!' : ''}${m.isRegex ? '~' : '='}${quote(m.value)}`)).join(', ')),
                el('td', {}, x.status.state),
                el('td', {}, when(x.endsAt)),
                el('td', {}, x.createdBy),
                el('td', {}, x.comment),
                el('td', {}, x.status.state === 'expired' ? null : el('button', { type: 'button', onclick: () => expire(x.id) }, 'Expire')),
              ),
            ),
          ),
        ),
  );
}

let modelDrawnAt = 0;

async function refresh(auto = false) {
  if (location.pathname === '/alerts') {
    try {
      const [a, s] = await Promise.all([api('/api/v1/alerts'), api('/v1/silences')]);
      $('#main').replaceChildren(alertsView(a.data.alerts, s.silences));
      $('#status').textContent = `Refreshed every ${REFRESH_MS / 1000} s.`;
    } catch (e) {
      $('#status').textContent = `Cannot load the alerts: ${e.message}`;
    }
    return;
  }
  if (location.pathname === '/incidents') {
    try {
      const o = await api('/v1/incidents?limit=50');
      $('#main').replaceChildren(incidentsView(o.incidents));
      $('#status').textContent = `${o.incidents.length} incident(s), newest first; refreshed every ${REFRESH_MS / 1000} s.`;
    } catch (e) {
      $('#status').textContent = `Cannot load the incidents: ${e.message}`;
    }
    return;
  }
  if (location.pathname.startsWith('/models/')) {
    const name = decodeURIComponent(location.pathname.slice('/models/'.length));
    // a page with controls: not redrawn under the user's hands
    if (auto && (Date.now() - modelDrawnAt < MODEL_REFRESH_MS || $('#main').contains(document.activeElement))) return;
    try {
      modelDrawnAt = Date.now();
      $('#status').textContent = await modelPage($('#main'), name, () => refresh());
    } catch (e) {
      $('#status').textContent = `Cannot load model ${name}: ${e.message}`;
    }
    return;
  }
  try {
    const o = await api('/v1/overview');
    $('#main').replaceChildren(overviewTable(o.models));
    $('#status').textContent = o.generated_at === null ? 'No evaluation cycle yet.' : `Last cycle ${new Date(o.generated_at).toLocaleTimeString()}; refreshed every ${REFRESH_MS / 1000} s.`;
  } catch (e) {
    $('#status').textContent = `Cannot load the overview: ${e.message}`;
  }
}

setupTokenForm(refresh);
void refresh();
setInterval(() => void refresh(true), REFRESH_MS);
