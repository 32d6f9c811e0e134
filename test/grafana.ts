import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './stack.js';

/** The Grafana dashboards in dashboards/, read for the tests that check them and run their queries. */
export const DASHBOARDS = join(ROOT, 'dashboards');

export interface Target { refId?: string; expr?: string; datasource?: unknown }
export interface Link { url?: string }
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: unknown;
  targets?: Target[];
  links?: Link[];
  panels?: Panel[];
  collapsed?: boolean;
  fieldConfig?: { defaults?: { unit?: string; links?: Link[] }; overrides?: { properties: { id: string; value: unknown }[] }[] };
}
export interface Variable { type: string; name: string; datasource?: unknown; query?: unknown; definition?: string }
export interface Dashboard { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Variable[] } }

export const dashboardFiles = (): string[] => readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();
export const loadDashboard = (file: string): Dashboard => JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard;
/** Panels, including those inside (collapsed) rows. */
export const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
/** Panels that show data (not rows). */
export const dataPanels = (d: Dashboard): Panel[] => allPanels(d).filter((p) => p.type !== 'row');
export const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? ''));

/** Every PromQL expression of a dashboard: panel targets and the selector inside each label_values(...) variable query. */
export function dashboardExpressions(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of dataPanels(d)) for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} "${p.title}" ${t.refId ?? ''}`, expr: t.expr ?? '' });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = variableQuery(v);
    const m = /^label_values\((.+),\s*([a-zA-Z_]\w*)\s*\)$/.exec(q.trim());
    out.push({ where: `variable ${v.name}`, expr: m?.[1] ?? `label_values query expected, got: ${q}` });
  }
  return out;
}

/** Replaces `$var`, `${var}`, `${var:format}` and `[[var]]` by `values[var]`; an unknown variable is an error. */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (_m, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    const v = values[name];
    if (v === undefined) throw new Error(`unknown variable $${name} in ${expr}`);
    return v;
  });
}
