import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { pred, storeContract } from '../store.contract.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2026, 0, 1);

storeContract('sqlite (file, WAL)', async () => {
  const path = join(dir, `contract-${n++}.db`);
  const store = new SqliteStore({ path, now: T0 });
  return {
    store,
    reopen: async () => {
      await store.close();
      return new SqliteStore({ path, now: T0 });
    },
  };
});

describe('SqliteStore specifics', () => {
  it('runs the migrations on an older database and keeps its rows', async () => {
    const path = join(dir, 'old.db');
    const db = new Database(path);
    expect(migrate(db, T0, 1)).toEqual([1]);
    db.prepare(`INSERT INTO predictions (model, id, ts, version, features, prediction, score, latency_ms, segment, error, received_at)
      VALUES ('m', 'x', ?, 'v1', '{"a":1}', '1', '0.5', NULL, NULL, NULL, ?)`).run(T0, T0);
    db.close();

    const store = new SqliteStore({ path, now: T0 + 1 });
    expect((await store.getPrediction('m', 'x'))?.features).toEqual({ a: 1 });
    await store.setState('k', 'v', T0); // table from migration 2
    await store.close();
    const check = new Database(path, { readonly: true });
    const versions = check.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    check.close();
  });

  it('refuses a database from a newer Vigil', () => {
    const path = join(dir, 'newer.db');
    const db = new Database(path);
    migrate(db, T0);
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 0)").run();
    db.close();
    expect(() => new SqliteStore({ path, now: T0 })).toThrow(/schema version 999 is newer/);
  });

  it('uses WAL journaling', async () => {
    const path = join(dir, 'wal.db');
    const store = new SqliteStore({ path, now: T0 });
    await store.insertPredictions('m', [pred('a')], T0);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await store.close();
  });

  it('says which file it cannot open', () => {
    expect(() => new SqliteStore({ path: '/proc/version/vigil.db', now: T0 })).toThrow(
      expect.objectContaining({ code: 'VIGIL_ERR_STORE_OPEN', message: expect.stringContaining('/proc/version/vigil.db') }),
    );
  });
});
