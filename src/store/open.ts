/**
 * Opens the configured store: the SQLite file (`storage.backend: sqlite`, the default) or the
 * shared PostgreSQL database (`postgres`: several replicas on one database, issue 14). The
 * password of a PostgreSQL URL is never logged: `describeStore` redacts it.
 */
import type { VigilConfig } from '../config/schema.js';
import { isVigilError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** The store's location for logs and messages: the SQLite path, or the URL with its password replaced. */
export function describeStore(storage: VigilConfig['storage']): string {
  if (storage.backend === 'sqlite' || storage.url === undefined) return storage.path;
  return redactUrl(storage.url);
}

/** A URL with its password (if any) replaced by `***`. */
export function redactUrl(text: string): string {
  try {
    const u = new URL(text);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

export interface OpenStoreOptions {
  logger: Logger;
  now: number;
  /** PostgreSQL: how long to keep trying while the server does not answer yet (a stack starting together); 0: once. */
  retryForMs?: number;
  /** PostgreSQL: the name connections show in pg_stat_activity. */
  applicationName?: string;
  /** The environment (PGPASSWORD), for tests. */
  env?: Readonly<Record<string, string | undefined>>;
}

export async function openStore(config: VigilConfig, o: OpenStoreOptions): Promise<Store> {
  const s = config.storage;
  if (s.backend === 'sqlite') return new SqliteStore({ path: s.path, synchronous: s.synchronous, cacheMb: s.cache_mb, logger: o.logger, now: o.now });
  const password = s.password_file ?? (o.env ?? process.env).PGPASSWORD;
  const deadline = Date.now() + (o.retryForMs ?? 0);
  for (let attempt = 1; ; attempt++) {
    try {
      return await openPostgres(s.url as string, {
        ...(password === undefined || password === '' ? {} : { password }),
        schema: s.schema,
        poolSize: s.pool_size,
        applicationName: o.applicationName ?? 'vigil',
        logger: o.logger,
        now: o.now,
      });
    } catch (e) {
      if (!(isVigilError(e) && e.code === 'VIGIL_ERR_STORE_UNAVAILABLE') || Date.now() >= deadline) throw e;
      o.logger.warn({ store: describeStore(s), attempt, err: e.message }, 'PostgreSQL does not answer yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}

/** Opens a PostgreSQL store by URL (the module is loaded only when a PostgreSQL store is used). */
export async function openPostgres(
  url: string,
  o: { password?: string; schema: string; poolSize?: number; applicationName?: string; logger: Logger; now: number },
): Promise<Store> {
  const { PostgresStore } = await import('./postgres/pg-store.js');
  return PostgresStore.open({ url, ...o });
}
