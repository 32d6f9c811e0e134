/**
 * The web UI's page shell (GET /): no data in it — the client (ui/app.js) fetches the JSON API
 * with the token the user gives — so it is public. One inline style, one script of our own.
 */
export const UI_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --bad: #b42318; --warn: #9a6700; --good: #1a7f37; --link: #0550ae; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --bad: #ff7b72; --warn: #d29922; --good: #3fb950; --link: #6cb6ff; } }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1rem; padding: 0.6rem 1.25rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; margin: 0; } header nav { flex: 1; } header a { color: var(--link); margin-right: 1rem; }
main { padding: 1rem 1.25rem 3rem; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding-bottom: 0.4rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; } .sub { color: var(--muted); font-size: 0.85em; }
.dot { display: inline-block; width: 0.7em; height: 0.7em; border-radius: 50%; background: var(--muted); }
.dot.ok { background: var(--good); } .dot.warning { background: var(--warn); } .dot.critical { background: var(--bad); }
td.health.ok, td.circuit.closed { color: var(--good); } td.state.firing { color: var(--bad); font-weight: 600; } td.state.pending { color: var(--warn); } td.health.warning, td.circuit.half_open { color: var(--warn); font-weight: 600; } td.health.critical, td.circuit.open { color: var(--bad); font-weight: 600; }
button { font: inherit; padding: 0.2rem 0.6rem; }
section.incident { border: 1px solid var(--line); border-radius: 6px; padding: 0.2rem 1rem 1rem; margin-bottom: 1rem; }
section.incident h2 { font-size: 1.1rem; } table.timeline { margin-bottom: 0.6rem; }
#status { color: var(--muted); margin: 1rem 1.25rem; }
a { color: var(--link); }
.controls { margin: 0.5rem 0 1rem; } .controls label { margin-right: 1.5rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem 2rem; } figure.chart { margin: 0; } figure.chart figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.u-legend { font-size: 0.85em; color: var(--fg); }
svg.dist { --ref: #0072b2; --cur: #e69f00; max-width: 100%; height: auto; } svg.dist text { fill: var(--fg); font: 12px system-ui, sans-serif; } svg.dist .ref { fill: var(--ref); } svg.dist .cur { fill: var(--cur); } svg.dist .axis { stroke: var(--line); } svg.dist .new { fill: var(--bad); font-weight: 600; }
i.key { display: inline-block; width: 0.8em; height: 0.8em; vertical-align: -0.05em; } i.key.ref { background: #0072b2; } i.key.cur { background: #e69f00; }
.st-drift { color: var(--bad); font-weight: 600; } .st-moderate { color: var(--warn); font-weight: 600; } .st-stable { color: var(--good); } .st-insufficient { color: var(--muted); }
section.feature h4 { margin: 1.2rem 0 0.3rem; }
dialog { border: 1px solid var(--line); border-radius: 6px; color: var(--fg); background: var(--bg); }
`;

export function uiShell(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<header>
<h1>Vigil</h1>
<nav aria-label="Vigil"><a href="/">Overview</a><a href="/alerts">Alerts</a><a href="/incidents">Incidents</a><a href="/runbooks">Runbooks</a></nav>
<button type="button" id="token-button">Token</button>
</header>
<main id="main" aria-live="polite"><p>Loading…</p></main>
<p id="status" role="status"></p>
<dialog id="token" aria-labelledby="token-title">
<form id="token-form">
<h2 id="token-title">Token</h2>
<p id="token-why"></p>
<label for="token-input">Bearer token (kept for this browser session only)</label><br>
<input id="token-input" type="password" autocomplete="off" size="40"><br><br>
<button type="submit">Use it</button>
</form>
</dialog>
</body>
</html>
`;
}
