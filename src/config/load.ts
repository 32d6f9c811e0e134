import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { VigilError } from '../core/errors.js';
import { packagePath } from '../core/paths.js';
import { closest } from '../core/suggest.js';
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

/**
 * Reads and validates a configuration file; throws ConfigError listing every problem. With
 * `ruleFiles: false` the `rule_files` entries are not looked for (commands that never load rules,
 * e.g. `vigil baseline` on a machine where the rules live elsewhere).
 */
export async function loadConfigFile(file: string, env: Env = process.env, options: { ruleFiles?: boolean } = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', code: 'VIGIL_ERR_CONFIG_READ', message: `cannot read configuration: ${reason}` }]);
  }
  const parsed = analyzeConfigText(text, file, env);
  if (parsed.located !== null && options.ruleFiles !== false) parsed.issues.push(...(await ruleFileIssues(parsed.located, file)));
  return { config: settle(parsed), file };
}

/**
 * Every `rule_files` entry must match at least one file (relative to the configuration file's
 * directory, as the rule loader resolves them): a glob that matches nothing is a typo or a
 * missing file, not an empty rule set. (Prometheus ignores such a glob; Vigil says so instead.)
 */
async function ruleFileIssues(located: Located, file: string): Promise<ConfigIssue[]> {
  const list = (located.raw as { rule_files?: unknown } | null)?.rule_files;
  if (!Array.isArray(list)) return [];
  const baseDir = dirname(file);
  const issues: ConfigIssue[] = [];
  for (const [i, pattern] of list.entries()) {
    if (typeof pattern !== 'string' || pattern === '') continue; // the schema reports it
    // the same expansion as src/alerting/rules/load.ts loadRuleFiles
    const matches = await glob(pattern, { cwd: baseDir, onlyFiles: true, expandDirectories: false });
    if (matches.length > 0) continue;
    const where = isAbsolute(pattern) ? pattern : join(baseDir, pattern);
    issues.push({
      file,
      ...located.positionOf(['rule_files', i]),
      path: `rule_files[${i}]`,
      code: 'VIGIL_ERR_CONFIG_NO_MATCH',
      message: isDynamicPattern(pattern) ? `no file matches "${pattern}" (looked in ${baseDir})` : `rule file not found: ${where}`,
    });
  }
  return issues;
}

/** The bundled demo configuration (`examples/vigil.yaml`), used when no --config is given. */
export const embeddedConfigPath = (): string => packagePath('examples', 'vigil.yaml');

/** Parses YAML text, interpolates `${VAR}`, validates; throws ConfigError listing every problem. */
export function parseConfigText(text: string, file: string, env: Env = process.env): VigilConfig {
  return settle(analyzeConfigText(text, file, env));
}

/** A parsed document and where its nodes are, for checks beyond the schema. */
interface Located {
  raw: unknown;
  positionOf: (path: PathKey[]) => { line: number; column: number };
}

interface Analysis {
  config: VigilConfig | undefined;
  issues: ConfigIssue[];
  /** null when the YAML itself is broken or empty (nothing else can be checked). */
  located: Located | null;
}

/** The configuration, or a ConfigError with every problem, in file order. */
function settle(a: Analysis): VigilConfig {
  if (a.issues.length > 0 || a.config === undefined) {
    a.issues.sort((x, y) => x.line - y.line || x.column - y.column);
    throw new ConfigError(a.issues);
  }
  return a.config;
}

const EMPTY_MESSAGE =
  'the configuration is empty (blank, comments only, null or "{}"): give it at least the models to watch, e.g. ' +
  '"models: [{name: fraud, task: binary}]" — examples/vigil.yaml is a complete example';

function analyzeConfigText(text: string, file: string, env: Env): Analysis {
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
  if (doc.errors.length > 0) return { config: undefined, issues, located: null };
  // An empty document (blank, comments only, a bare `~`/`null`, or `{}`) is a mistake, not "all
  // defaults": a file emptied by a bad edit or template would otherwise start a daemon that
  // watches nothing. A file that says so (`models: []`) is taken at its word.
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null) || (isMap(root) && root.items.length === 0)) {
    issues.push({ file, line: 1, column: 1, path: '', code: 'VIGIL_ERR_CONFIG_EMPTY', message: EMPTY_MESSAGE });
    return { config: undefined, issues, located: null };
  }

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
  const positionOf = (path: PathKey[]): { line: number; column: number } => {
    const node = doc.getIn(path, true) as Node | undefined;
    return at(node?.range?.[0]);
  };
  return { config: result.success ? (Object.freeze(result.data) as VigilConfig) : undefined, issues, located: { raw, positionOf } };
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
    const known = knownKeysAt(ConfigSchema, path, raw);
    return issue.keys.map((k) => {
      const full = [...path, k];
      const { keyNode, node } = locate(full);
      const guess = closest(k, known);
      return {
        file,
        ...at((keyNode ?? node)?.range?.[0]),
        path: formatPath(full),
        code: 'VIGIL_ERR_CONFIG_UNKNOWN_KEY',
        message:
          guess !== undefined
            ? `unknown key "${k}"; did you mean "${guess}"?`
            : known.length > 0
              ? `unknown key "${k}" (known here: ${known.join(', ')})`
              : `unknown key "${k}"`,
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

/** What this walk needs of a zod schema's definition. */
interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  element?: unknown;
  valueType?: unknown;
  options?: unknown[];
  left?: unknown;
  right?: unknown;
  getter?: () => unknown;
  discriminator?: string;
}
const defOf = (s: unknown): SchemaDef | undefined => (s as { _zod?: { def?: SchemaDef } } | null)?._zod?.def;

/**
 * The concrete schemas a value meets under a schema's wrappers (defaults, optionals, pipes,
 * lazies); of a discriminated union, only the variants the value's discriminator selects.
 */
function concrete(schema: unknown, value: unknown, out: unknown[] = [], depth = 0): unknown[] {
  const def = defOf(schema);
  if (def === undefined || depth > 32) return out;
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return concrete(def.innerType, value, out, depth + 1);
    case 'pipe':
      concrete(def.in, value, out, depth + 1);
      return concrete(def.out, value, out, depth + 1);
    case 'lazy':
      return concrete(def.getter?.(), value, out, depth + 1);
    case 'intersection':
      concrete(def.left, value, out, depth + 1);
      return concrete(def.right, value, out, depth + 1);
    case 'union': {
      let options = def.options ?? [];
      const d = def.discriminator;
      const tag = d !== undefined && value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[d] : undefined;
      if (d !== undefined && tag !== undefined) {
        const selected = options.filter((o) => {
          const field = defOf(o)?.shape?.[d] as { safeParse?: (v: unknown) => { success: boolean } } | undefined;
          return field?.safeParse?.(tag).success === true;
        });
        if (selected.length > 0) options = selected;
      }
      for (const o of options) concrete(o, value, out, depth + 1);
      return out;
    }
    default:
      out.push(schema);
      return out;
  }
}

/** The keys the schema knows for the object at `path` of the raw document (for "did you mean"). */
function knownKeysAt(schema: unknown, path: readonly PathKey[], raw: unknown): string[] {
  let schemas = concrete(schema, raw);
  let value = raw;
  for (const k of path) {
    value = value !== null && typeof value === 'object' ? (value as Record<PathKey, unknown>)[k] : undefined;
    const next: unknown[] = [];
    for (const s of schemas) {
      const def = defOf(s) as SchemaDef;
      const child = def.type === 'object' ? def.shape?.[String(k)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
      if (child !== undefined) concrete(child, value, next);
    }
    schemas = next;
  }
  const keys = new Set<string>();
  for (const s of schemas) for (const k of Object.keys(defOf(s)?.shape ?? {})) keys.add(k);
  return [...keys];
}
