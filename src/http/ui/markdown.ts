/**
 * Markdown for people's browsers (the runbooks): markdown-it with raw HTML off, so whatever the
 * source holds — `<script>`, an `onerror` attribute — comes out as text; links are markdown-it's
 * validated ones (javascript:, vbscript:, file: and data: other than images are not links).
 */
import MarkdownIt from 'markdown-it';
import { escapeHtml } from '../../core/html.js';

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });

/** The page's title: the first heading's text, else the fallback. */
export function markdownTitle(text: string, fallback: string): string {
  const m = /^#{1,6}\s+(.+?)\s*#*\s*$/m.exec(text);
  return m?.[1] ?? fallback;
}

/** The style of Vigil's own pages: readable, light and dark, no external resource. */
const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --code: #f3f4f6; --link: #0550ae; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --code: #161b22; --link: #6cb6ff; } }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
a { color: var(--link); }
code, pre { font: 0.9em/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code); border-radius: 4px; }
code { padding: 0.1em 0.3em; }
pre { padding: 0.8em 1em; overflow-x: auto; }
pre code { padding: 0; background: none; }
table { border-collapse: collapse; } th, td { border: 1px solid var(--muted); padding: 0.3em 0.6em; text-align: left; }
nav { font-size: 0.9em; color: var(--muted); margin-bottom: 1rem; }
`;

/** A whole page for a Markdown document: self-contained (inline style, no script). */
export function markdownPage(text: string, opts: { title: string; nav?: string }): string {
  const title = escapeHtml(markdownTitle(text, opts.title));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Vigil</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<main>
${opts.nav === undefined ? '' : `<nav>${escapeHtml(opts.nav)}</nav>\n`}${md.render(text)}</main>
</body>
</html>
`;
}

/** What a runbook page may load: nothing but its own inline style. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
