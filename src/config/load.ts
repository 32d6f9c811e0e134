import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { VigilError } from '../core/errors.js';
import { packagePath } from '../core/paths.js';
import { interpolate } from './interpolate.js';
import { ConfigSchema, type VigilConfig } from './schema.js';

/** One problem in a configuration file, with where it is. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Key path, e.g. `models[0].features[1].type` (empty for the document itself). */
  path: string;
  code: string;
  message: string;
}

/** All problems of a configuration file at once. Exit code 2 in the CLI. */
export class ConfigError extends VigilError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super('VIGIL_ERR_CONFIG_INVALID', `invalid configuration:\n${issues.map(formatIssue).join('\n')}`, {
      statusCode: 400,
      details: { issues },
    });
    this.issues = issues;
  }
}

export const formatIssue = (i: ConfigIssue): string =>
  `${i.file}:${i.line}:${i.column}: ${i.path === '' ? '' : `${i.path}: `}${i.message} (${i.code})`;

export interface LoadedConfig {
  config: VigilConfig;
  /** Where it came from (a path, or `<embedded demo>`). */
  file: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type PathKey = string | number;

export const formatPath = (path: readonly PropertyKey[]): string =>
  path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`))
    .join('');

/** Reads and validates a configuration file; throws ConfigError listing every problem. */
export async function loadConfigFile(file: string, env: Env = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', code: 'VIGIL_ERR_CONFIG_READ', message: `cannot read configuration: ${reason}` }]);
  }
  return { config: parseConfigText(text, file, env), file };
}

/** The bundled demo configuration (`examples/vigil.yaml`), used when no --config is given. */
export const embeddedConfigPath = (): string => packagePath('examples', 'vigil.yaml');

/** Parses YAML text, interpolates `${VAR}`, validates; throws ConfigError listing every problem. */
export function parseConfigText(text: string, file: string, env: Env = process.env): VigilConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const at = (offset: number | undefined): { line: number; column: number } => {
    if (offset === undefined) return { line: 1, column: 1 };
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };

  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = at(err.pos[0]);
    issues.push({ file, ...pos, path: '', code: 'VIGIL_ERR_CONFIG_YAML', message: err.message.split('\n')[0] ?? err.message });
  }
  if (doc.errors.length > 0) throw new ConfigError(issues);

  // ${VAR} interpolation on string scalars (values only, never keys).
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const { value, missing } = interpolate(node.value, env);
      for (const name of missing) {
        issues.push({
          file,
          ...at(node.range?.[0]),
          path: formatPath(yamlPathOf([...path, node])),
          code: 'VIGIL_ERR_CONFIG_ENV',
          message: `environment variable ${name} is not set (use \${${name}:-default} for a default, $$ for a literal $)`,
        });
      }
      node.value = value;
    },
  });

  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...toConfigIssues(issue, doc, raw, file, at));
  }
  if (issues.length > 0) {
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(issues);
  }
  return Object.freeze(result.data) as VigilConfig;
}

/** The key path (as zod would say it) of a node reached by `visit`. */
function yamlPathOf(path: readonly unknown[]): PathKey[] {
  const out: PathKey[] = [];
  for (let i = 0; i < path.length; i++) {
    const item = path[i];
    if (isPair(item) && isScalar(item.key)) out.push(String(item.key.value));
    else if (!isPair(item) && !isMap(item) && (item as { items?: unknown[] })?.items) {
      const next = path[i + 1];
      const idx = (item as { items: unknown[] }).items.indexOf(next);
      if (idx >= 0 && !isPair(next)) out.push(idx);
    }
  }
  return out;
}

function hasPath(raw: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = raw;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !(k in (cur as object))) return false;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur !== undefined;
}

function toConfigIssues(
  issue: z.core.$ZodIssue,
  doc: Document,
  raw: unknown,
  file: string,
  at: (offset: number | undefined) => { line: number; column: number },
): ConfigIssue[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  // Locate the deepest node that exists on the path.
  const locate = (p: PathKey[]): { node: Node | null; keyNode: Node | null } => {
    for (let n = p.length; n >= 0; n--) {
      const sub = p.slice(0, n);
      const node = (sub.length === 0 ? doc.contents : doc.getIn(sub, true)) as Node | null | undefined;
      if (node) {
        let keyNode: Node | null = null;
        if (n > 0) {
          const parent = (n === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true)) as Node | null;
          if (isMap(parent)) {
            const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(sub[n - 1]));
            if (pair && isScalar(pair.key)) keyNode = pair.key;
          }
        }
        return { node, keyNode };
      }
    }
    return { node: null, keyNode: null };
  };

  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const full = [...path, k];
      const { keyNode, node } = locate(full);
      return {
        file,
        ...at((keyNode ?? node)?.range?.[0]),
        path: formatPath(full),
        code: 'VIGIL_ERR_CONFIG_UNKNOWN_KEY',
        message: `unknown key "${k}"`,
      };
    });
  }
  const { node, keyNode } = locate(path);
  let code: string;
  let message = issue.message;
  const vigil = issue.code === 'custom' ? (issue.params as { vigil?: string } | undefined)?.vigil : undefined;
  if (vigil !== undefined) code = `VIGIL_ERR_CONFIG_${vigil}`;
  else if (issue.code === 'invalid_type' && !hasPath(raw, path)) {
    code = 'VIGIL_ERR_CONFIG_REQUIRED';
    message = `required key "${String(path[path.length - 1])}" is missing`;
  } else if (issue.code === 'invalid_type') {
    code = 'VIGIL_ERR_CONFIG_TYPE';
    message = `expected ${issue.expected}`;
  } else code = 'VIGIL_ERR_CONFIG_VALUE';
  if (issue.code === 'invalid_key') message = `invalid key "${String(path[path.length - 1])}": ${issue.issues[0]?.message ?? 'not allowed'}`;
  if (issue.code === 'invalid_value') message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  const target = code === 'VIGIL_ERR_CONFIG_REQUIRED' ? node : (node ?? keyNode);
  return [{ file, ...at(target?.range?.[0]), path: formatPath(path), code, message }];
}
