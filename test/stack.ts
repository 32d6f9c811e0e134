import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';

/**
 * The docker-compose stack as data, for the tests that check it and run it natively: the compose
 * file, the files it mounts into each service (container path → file in this repository) and
 * the rewriting of service host:port addresses to 127.0.0.1 ports. test/stack-e2e.test.ts runs
 * the very configuration files the compose file mounts, adapted with these helpers, instead of a
 * hand-written copy.
 */
export const ROOT = join(import.meta.dirname, '..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

export interface ComposeService {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition: string }>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(): ComposeFile {
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

export function service(compose: ComposeFile, name: string): ComposeService {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}` interpolation (`$$` is a literal `$`). */
export function interpolateCompose(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (m, name: string | undefined, op: string | undefined, def: string | undefined) => {
    if (m === '$$') return '$';
    const v = env[name as string];
    if (op === ':-') return v === undefined || v === '' ? (def ?? '') : v;
    if (op === '-') return v === undefined ? (def ?? '') : v;
    return v ?? '';
  });
}

/**
 * The repository file behind `containerPath` in a service: the bind mount (`./src:/dst[:ro]`)
 * whose target is that path or one of its parent directories.
 */
export function hostPath(compose: ComposeFile, serviceName: string, containerPath: string): string {
  for (const v of service(compose, serviceName).volumes ?? []) {
    const [src, dst] = v.split(':');
    if (src === undefined || dst === undefined || !src.startsWith('.')) continue;
    if (containerPath === dst) return join(ROOT, src);
    if (containerPath.startsWith(`${dst}/`)) return join(ROOT, src, posix.relative(dst, containerPath));
  }
  throw new Error(`service "${serviceName}" mounts nothing from the repository at ${containerPath}`);
}

/**
 * Replaces every `host:port` of a compose service (or `localhost`) in the strings of `value` by
 * its address in `addresses` ("vigil:9470" → "127.0.0.1:41234"). An address of the stack that the
 * map lacks is an error, so a new target can't be left pointing at a container name.
 */
export function rewriteAddresses<T>(value: T, compose: ComposeFile, addresses: Readonly<Record<string, string>>): T {
  const hosts = new Set([...Object.keys(compose.services), 'localhost']);
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(/(?<![\w.-])([a-z][a-z0-9-]*):(\d+)\b/g, (m, host: string) => {
        if (!hosts.has(host)) return m;
        const to = addresses[m];
        if (to === undefined) throw new Error(`no local address for ${m} (in "${v}")`);
        return to;
      });
    }
    if (Array.isArray(v)) return v.map(visit);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
    return v;
  };
  return visit(value) as T;
}
