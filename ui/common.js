// The web UI's shared helpers: DOM building, the token (kept for the session in sessionStorage,
// sent as a bearer token) and reading the JSON API with it.
export const TOKEN_KEY = 'vigil.token';
export const REFRESH_MS = 10_000;

export const $ = (sel) => document.querySelector(sel);
export const el = (tag, attrs = {}, ...children) => {
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

export const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

/** GET a JSON (or HTML) resource with the token; a 401/403 shows the token form. */
export async function api(path, as = 'json') {
  const headers = { accept: as === 'json' ? 'application/json' : 'text/html', ...(token() === '' ? {} : { authorization: `Bearer ${token()}` }) };
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

export function showTokenForm(why) {
  const dialog = $('#token');
  $('#token-why').textContent = why;
  if (!dialog.open) dialog.showModal();
}

export function setupTokenForm(onToken) {
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = $('#token-input').value.trim();
    if (value === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
    $('#token').close();
    void onToken();
  });
  $('#token-button').addEventListener('click', () => showTokenForm('A read token shows everything; an admin token also allows the admin actions.'));
}

export const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
export const age = (s) => (s === null || s === undefined ? 'never' : s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${(s / 3600).toFixed(1)} h ago`);
export const HEALTH = { ok: 'ok', warning: 'warning', critical: 'critical' };
export const when = (iso) => (iso === null || iso === undefined ? '–' : new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));

