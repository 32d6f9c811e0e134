/**
 * Loads plain Prometheus rule files (the same files `promtool check rules` accepts) and validates
 * them as Prometheus's model/rulefmt does. Every problem is reported at once, each with
 * file:line:column; the caller keeps its previous rules on any error.
 *
 * Alerting and recording rules both load. A recording rule may not record a name Vigil's /metrics
 * already exports (a catalog family): that would put two families of one name on /metrics.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { isExportedMetricName } from '../../metrics/catalog.js';
import type { Labels, RuleDef, RuleGroupDef } from '../types.js';
import { parsePromDuration } from '../engine/gofmt.js';
import { checkTemplate } from '../engine/template.js';
import { parsePromql, PromqlError, promqlErrorPosition } from '../promql/index.js';

export interface RuleFileError {
  readonly file: string;
  /** 1-based; 0 when the whole file is concerned (unreadable, no match). */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export function formatRuleFileError(e: RuleFileError): string {
  return e.line > 0 ? `${e.file}:${e.line}:${e.column}: ${e.message}` : `${e.file}: ${e.message}`;
}

export interface LoadRuleFilesOptions {
  /** Globs are relative to this directory (Prometheus: the config file's directory). */
  readonly baseDir: string;
  /** Group interval when the group sets none (Vigil's evaluation_interval). */
  readonly defaultIntervalMs: number;
  /** Parses an expression, throwing on an error; defaults to the PromQL parser. */
  readonly parseExpr?: (text: string) => unknown;
}

export interface LoadResult {
  readonly groups: RuleGroupDef[];
  readonly errors: RuleFileError[];
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const GROUP_KEYS = new Set(['name', 'interval', 'limit', 'labels', 'rules', 'query_offset']);
const RULE_KEYS = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

/** Expands the globs and loads every matching file; returns all groups and all errors. */
export async function loadRuleFiles(globs: readonly string[], opts: LoadRuleFilesOptions): Promise<LoadResult> {
  const groups: RuleGroupDef[] = [];
  const errors: RuleFileError[] = [];
  const files: string[] = [];
  for (const g of globs) {
    const matches = (await glob(g, { cwd: opts.baseDir, onlyFiles: true, expandDirectories: false })).sort();
    for (const m of matches) {
      const f = path.join(opts.baseDir, m);
      if (!files.includes(f)) files.push(f);
    }
  }
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      errors.push({ file, line: 0, column: 0, message: `cannot read rule file: ${(e as Error).message}` });
      continue;
    }
    const r = parseRuleFile(text, file, opts);
    groups.push(...r.groups);
    errors.push(...r.errors);
  }
  return { groups, errors };
}

/** Parses and validates one rule file's text. */
export function parseRuleFile(text: string, file: string, opts: Omit<LoadRuleFilesOptions, 'baseDir'>): LoadResult {
  const lc = new LineCounter();
  const errors: RuleFileError[] = [];
  const groups: RuleGroupDef[] = [];
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const pos = (n: { range?: [number, number, number] | null | undefined } | null | undefined) => {
    const off = n?.range?.[0] ?? 0;
    const p = lc.linePos(off);
    return { line: p.line, column: p.col };
  };
  const err = (n: { range?: [number, number, number] | null | undefined } | null | undefined, message: string) => {
    errors.push({ file, ...pos(n), message });
  };
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    errors.push({ file, line: p.line, column: p.col, message: `yaml: ${e.message.split('\n')[0] ?? e.message}` });
  }
  if (doc.errors.length > 0) return { groups, errors };
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return { groups, errors }; // empty file: no groups, as Prometheus
  if (!isMap(root)) {
    err(root, 'rule file must be a mapping with a "groups" list');
    return { groups, errors };
  }
  for (const p of root.items) {
    const k = keyOf(p);
    if (k !== 'groups') err(p.key as YamlNode, `field ${k} not found in type rulefmt.RuleGroups`);
  }
  const gs = root.get('groups', true) as YamlNode | undefined;
  if (gs === undefined || (isScalar(gs) && gs.value === null)) return { groups, errors };
  if (!isSeq(gs)) {
    err(gs, '"groups" must be a list');
    return { groups, errors };
  }
  const seen = new Map<string, number>();
  for (const gn of gs.items) {
    if (!isMap(gn)) {
      err(gn as YamlNode, 'a group must be a mapping');
      continue;
    }
    const g = gn as YAMLMap;
    for (const p of g.items) {
      const k = keyOf(p);
      if (!GROUP_KEYS.has(k)) err(p.key as YamlNode, `field ${k} not found in type rulefmt.RuleGroup`);
    }
    const nameNode = g.get('name', true) as YamlNode | undefined;
    const name = scalarString(nameNode);
    if (name === undefined || name === '') {
      err(nameNode ?? g, 'Groupname must not be empty');
    } else if (seen.has(name)) {
      err(nameNode, `groupname: "${name}" is repeated in the same file`);
    } else seen.set(name, 1);

    let intervalMs = opts.defaultIntervalMs;
    const intervalNode = g.get('interval', true) as YamlNode | undefined;
    if (intervalNode !== undefined) {
      const d = duration(intervalNode, 'interval', err);
      if (d !== undefined && d > 0) intervalMs = d;
    }
    let limit = 0;
    const limitNode = g.get('limit', true) as YamlNode | undefined;
    if (limitNode !== undefined) {
      const v = isScalar(limitNode) ? limitNode.value : undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) err(limitNode, 'limit must be a non-negative integer');
      else limit = v;
    }
    const qo = g.get('query_offset', true) as YamlNode | undefined;
    if (qo !== undefined) {
      const d = duration(qo, 'query_offset', err);
      if (d !== undefined && d !== 0) err(qo, 'query_offset is not supported: Vigil evaluates rules on the current snapshot only');
    }
    const groupLabels = labelMap(g.get('labels', true) as YamlNode | undefined, 'label', err);

    const rulesNode = g.get('rules', true) as YamlNode | undefined;
    const rules: RuleDef[] = [];
    if (rulesNode !== undefined && !(isScalar(rulesNode) && rulesNode.value === null)) {
      if (!isSeq(rulesNode)) err(rulesNode, '"rules" must be a list');
      else {
        for (const rn of rulesNode.items) {
          const r = parseRule(rn as YamlNode, groupLabels, file, opts, err, pos, text);
          if (r !== undefined) rules.push(r);
        }
      }
    }
    if (name !== undefined && name !== '') {
      groups.push({ name, file, intervalMs, limit, labels: groupLabels, rules });
    }
  }
  return { groups: errors.length > 0 ? [] : groups, errors };
}

type ErrFn = (n: { range?: [number, number, number] | null | undefined } | null | undefined, message: string) => void;
type PosFn = (n: { range?: [number, number, number] | null | undefined } | null | undefined) => { line: number; column: number };

function parseRule(
  rn: YamlNode,
  groupLabels: Labels,
  file: string,
  opts: Omit<LoadRuleFilesOptions, 'baseDir'>,
  err: ErrFn,
  pos: PosFn,
  text: string,
): RuleDef | undefined {
  if (!isMap(rn)) {
    err(rn, 'a rule must be a mapping');
    return undefined;
  }
  const m = rn as YAMLMap;
  for (const p of m.items) {
    const k = keyOf(p);
    if (!RULE_KEYS.has(k)) err(p.key as YamlNode, `field ${k} not found in type rulefmt.Rule`);
  }
  const alertNode = m.get('alert', true) as YamlNode | undefined;
  const recordNode = m.get('record', true) as YamlNode | undefined;
  if (recordNode !== undefined && alertNode !== undefined) {
    err(recordNode, "only one of 'record' and 'alert' must be set");
    return undefined;
  }
  if (recordNode !== undefined) return parseRecordingRule(m, recordNode, groupLabels, file, opts, err, pos, text);
  if (alertNode === undefined) {
    err(m, "one of 'record' or 'alert' must be set");
    return undefined;
  }
  const name = scalarString(alertNode) ?? '';
  let ok = true;
  if (!METRIC_NAME_RE.test(name)) {
    err(alertNode, `invalid name for alert rule: "${name}"`);
    ok = false;
  }
  const exprNode = m.get('expr', true) as YamlNode | undefined;
  const expr = checkExpr(exprNode, m, name, opts, err, pos, text);
  if (expr === undefined) ok = false;
  let forMs = 0;
  const forNode = m.get('for', true) as YamlNode | undefined;
  if (forNode !== undefined) {
    const d = duration(forNode, 'for', err);
    if (d === undefined) ok = false;
    else forMs = d;
  }
  let keepFiringForMs = 0;
  const kfNode = m.get('keep_firing_for', true) as YamlNode | undefined;
  if (kfNode !== undefined) {
    const d = duration(kfNode, 'keep_firing_for', err);
    if (d === undefined) ok = false;
    else keepFiringForMs = d;
  }
  const labelsNode = m.get('labels', true) as YamlNode | undefined;
  const annNode = m.get('annotations', true) as YamlNode | undefined;
  const ruleLabels = labelMap(labelsNode, 'label', err);
  const annotations = labelMap(annNode, 'annotation', err);
  // Templates must parse (promtool reports template syntax errors at check time).
  for (const [kind, node] of [
    ['label', labelsNode],
    ['annotation', annNode],
  ] as const) {
    if (node === undefined || !isMap(node)) continue;
    for (const p of node.items) {
      const v = scalarString(p.value as YamlNode | undefined);
      if (v === undefined) continue;
      const msg = checkTemplate(v, `__alert_${name}`);
      if (msg !== undefined) {
        ok = false;
        err(p.value as YamlNode, `${kind} "${keyOf(p)}": ${msg}`);
      }
    }
  }
  if (!ok || expr === undefined) return undefined;
  return {
    name,
    expr,
    forMs,
    keepFiringForMs,
    labels: { ...groupLabels, ...ruleLabels },
    annotations,
    file,
    line: pos(alertNode).line,
  };
}

/** The rule's expression, or undefined (reported) when it is missing or does not parse. */
function checkExpr(
  exprNode: YamlNode | undefined,
  rule: YAMLMap,
  name: string,
  opts: Omit<LoadRuleFilesOptions, 'baseDir'>,
  err: ErrFn,
  pos: PosFn,
  text: string,
): string | undefined {
  const expr = scalarString(exprNode) ?? '';
  if (exprNode === undefined || expr.trim() === '') {
    err(exprNode ?? rule, `field 'expr' must be set in rule "${name}"`);
    return undefined;
  }
  try {
    (opts.parseExpr ?? parsePromql)(expr);
  } catch (e) {
    const where = exprPosition(exprNode, expr, e instanceof PromqlError ? e.offset : 0, pos, text);
    const what = e instanceof PromqlError && e.code === 'VIGIL_ERR_PROMQL_UNSUPPORTED' ? 'unsupported PromQL' : 'could not parse expression';
    err({ range: [where, where, where] }, `rule "${name}": ${what}: ${(e as Error).message}`);
    return undefined;
  }
  return expr;
}

/** A `record:` rule, validated as Prometheus's rulefmt does (no annotations, `for` or `keep_firing_for`). */
function parseRecordingRule(
  m: YAMLMap,
  recordNode: YamlNode,
  groupLabels: Labels,
  file: string,
  opts: Omit<LoadRuleFilesOptions, 'baseDir'>,
  err: ErrFn,
  pos: PosFn,
  text: string,
): RuleDef | undefined {
  const name = scalarString(recordNode) ?? '';
  let ok = true;
  const refuse = (message: string) => {
    err(recordNode, message);
    ok = false;
  };
  if (!METRIC_NAME_RE.test(name)) refuse(`invalid recording rule name: ${name}`);
  else if (isExportedMetricName(name)) {
    refuse(`recording rule "${name}": Vigil already exports a metric of this name on /metrics; record another name (the convention is level:metric:operations)`);
  }
  const annotations = m.get('annotations', true) as YamlNode | undefined;
  if (annotations !== undefined && isMap(annotations) && annotations.items.length > 0) refuse("invalid field 'annotations' in recording rule");
  for (const field of ['for', 'keep_firing_for'] as const) {
    const n = m.get(field, true) as YamlNode | undefined;
    if (n === undefined) continue;
    const d = duration(n, field, err);
    if (d === undefined) ok = false;
    else if (d !== 0) refuse(`invalid field '${field}' in recording rule`);
  }
  const expr = checkExpr(m.get('expr', true) as YamlNode | undefined, m, name, opts, err, pos, text);
  const labels = labelMap(m.get('labels', true) as YamlNode | undefined, 'label', err);
  if (!ok || expr === undefined) return undefined;
  return { kind: 'record', name, expr, labels: { ...groupLabels, ...labels }, file, line: pos(recordNode).line };
}

/** Source offset of a PromQL error inside the expr scalar (plain, quoted or block). */
function exprPosition(node: YamlNode, expr: string, offset: number, pos: PosFn, text: string): number {
  const start = node.range?.[0] ?? 0;
  const s = node as Scalar;
  const { line, column } = promqlErrorPosition(expr, offset);
  if (s.type === 'BLOCK_LITERAL' || s.type === 'BLOCK_FOLDED') {
    // content lines follow the header line; each keeps its indentation
    let idx = text.indexOf('\n', start) + 1;
    for (let l = 1; l < line && idx > 0; l++) idx = text.indexOf('\n', idx) + 1;
    const indent = /^[ ]*/.exec(text.slice(idx))?.[0].length ?? 0;
    return idx + indent + column - 1;
  }
  if (line === 1) return start + (s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE' ? 1 : 0) + column - 1;
  void pos;
  return start;
}

function keyOf(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

function scalarString(n: YamlNode | undefined | null): string | undefined {
  if (n === undefined || n === null || !isScalar(n)) return undefined;
  const v = n.value;
  if (v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

function duration(n: YamlNode, field: string, err: ErrFn): number | undefined {
  const s = scalarString(n);
  if (s === undefined) {
    err(n, `${field}: not a valid duration string: ""`);
    return undefined;
  }
  try {
    return parsePromDuration(s);
  } catch (e) {
    err(n, `${field}: ${(e as Error).message}`);
    return undefined;
  }
}

function labelMap(n: YamlNode | undefined, kind: 'label' | 'annotation', err: ErrFn): Record<string, string> {
  const out: Record<string, string> = {};
  if (n === undefined || (isScalar(n) && n.value === null)) return out;
  if (!isMap(n)) {
    err(n, `${kind}s must be a mapping`);
    return out;
  }
  for (const p of n.items) {
    const k = keyOf(p);
    if (!LABEL_NAME_RE.test(k) || (kind === 'label' && k === '__name__')) {
      err(p.key as YamlNode, `invalid ${kind} name: ${k}`);
      continue;
    }
    const vn = p.value as YamlNode | null;
    if (vn !== null && !isScalar(vn)) {
      err(vn, `${kind} ${k}: value must be a string`);
      continue;
    }
    out[k] = scalarString(vn) ?? '';
  }
  return out;
}
