/**
 * docs/http-api.md's table of endpoints, written from the OpenAPI document (GET /openapi.json):
 * `npm run docs` rewrites it (render-api-docs.ts), and openapi.test.ts checks it is the document's.
 */

interface Operation {
  summary?: string;
  description?: string;
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

/** Markdown table cell text: no line breaks, pipes escaped. */
const cell = (s: string): string => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** One row per operation (HEAD twins left out), in path order: method and path, what it does, its documented answers. */
export function renderEndpoints(doc: OpenApiDocument): string {
  const rows: string[] = ['| Endpoint | What it does | Answers |', '|---|---|---|'];
  for (const path of Object.keys(doc.paths ?? {}).sort()) {
    const item = doc.paths?.[path] ?? {};
    for (const m of METHODS) {
      const op = item[m];
      if (op === undefined) continue;
      // the summary as a sentence, then the description
      const what = [op.summary, op.description].filter((x): x is string => x !== undefined && x !== '').map((x) => (/[.!?]$/.test(x) ? x : `${x}.`)).join(' ');
      const answers = Object.entries(op.responses ?? {})
        .filter(([status]) => status !== 'default')
        .map(([status, r]) => {
          const type = Object.keys(r.content ?? {})[0];
          return type === undefined || type === 'application/json' ? status : `${status} ${type.split(';')[0]}`;
        })
        .join(', ');
      rows.push(`| \`${m.toUpperCase()} ${path}\` | ${cell(what)} | ${cell(answers === '' ? '—' : answers)} |`);
    }
  }
  return rows.join('\n');
}

/** The markers of the generated section in docs/http-api.md. */
export const ENDPOINTS_SECTION = /<!-- endpoints:start -->\n[\s\S]*?\n<!-- endpoints:end -->/;

export const endpointsSection = (doc: OpenApiDocument): string => `<!-- endpoints:start -->\n${renderEndpoints(doc)}\n<!-- endpoints:end -->`;
