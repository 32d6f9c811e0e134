import { createServer, connect, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, postgresServer } from '../../../test/postgres.js';
import { waitFor } from '../../../test/processes.js';
import { createLogger } from '../../core/logger.js';
import { Packer, packLayout } from '../packed.js';
import { action, pred, storeContract } from '../store.contract.js';
import type { PredictionRecord, WindowRow } from '../store.js';
import { LATEST_VERSION, migrate, MIGRATIONS } from './migrations.js';
import { PostgresStore } from './pg-store.js';
import { INDEX_ORDER, scanPageParams, scanPageSql, windowPageParams, windowPageSql } from './pg-reads.js';
import { numericArray, predictionParams, predictionsSql } from './pg-writes.js';

const server = await postgresServer();
const T0 = Date.UTC(2026, 0, 1);

/** Every database a test made: dropped at the end (their connections closed first). */
const made: { drop: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const d of made) await d.drop();
});
const fresh = async (): Promise<{ url: string; name: string }> => {
  const db = await freshDatabase(server);
  made.push(db);
  return db;
};

/** A raw connection to a test database, for what the Store interface does not show. */
async function raw(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

const listen = (s: Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      s.off('error', reject);
      const a = s.address();
      resolve(a !== null && typeof a === 'object' ? a.port : port);
    });
  });

/** A port nothing listens on (bound once, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s, 0);
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A TCP proxy to the test server that can go away (every connection cut, the port closed) and come
 * back on the same port: a PostgreSQL server that restarts, as the store sees it.
 */
async function flakyProxy(target: { host: string; port: number }): Promise<{ port: number; stop: () => Promise<void>; start: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(target.port, target.host);
      sockets.add(client);
      sockets.add(upstream);
      const cut = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', cut).on('close', cut);
      upstream.on('error', cut).on('close', cut);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    port = await listen(s, port);
    server = s;
  };
  await start();
  return {
    port,
    start,
    stop: async () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise((r) => (server === undefined ? r(undefined) : server.close(r)));
      server = undefined;
    },
  };
}

const capture = () => {
  const chunks: string[] = [];
  const destination = new Writable({
    write: (c: Buffer, _e, cb) => {
      chunks.push(c.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ format: 'json', destination }), text: () => chunks.join('') };
};

/** The URL `url` with a user, password and port of our choosing. */
function urlWith(url: string, o: { password?: string; port?: number }): string {
  const u = new URL(url);
  if (o.password !== undefined) u.password = encodeURIComponent(o.password);
  if (o.port !== undefined) u.port = String(o.port);
  return u.toString();
}

describe.skipIf(!server.available)('PostgresStore', () => {
  storeContract('postgres', async () => {
    const db = await fresh();
    const store = await PostgresStore.open({ url: db.url, now: T0 });
    return {
      store,
      reopen: async () => {
        await store.close();
        return PostgresStore.open({ url: db.url, now: T0 });
      },
    };
  });

  describe('migrations', () => {
    it('lets five processes open an empty database at once: all succeed, each version applied and recorded once', async () => {
      const db = await fresh();
      const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresStore.open({ url: db.url, now: T0, poolSize: 2 })));
      const c = await raw(db.url);
      try {
        const versions = await c.query<{ version: number; n: string }>('SELECT version, count(*) AS n FROM vigil.schema_migrations GROUP BY version ORDER BY version');
        expect(versions.rows.map((r) => [r.version, Number(r.n)])).toEqual(MIGRATIONS.map((m) => [m.version, 1]));
        // every store works on the one schema
        await Promise.all(stores.map((s, i) => s.insertPredictions('m', [pred(`p${i}`)], T0)));
        expect((await stores[0]?.modelCounts('m'))?.predictions).toBe(5);
      } finally {
        await c.end();
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('applies the missing migrations to a database at an older version and keeps its rows', async () => {
      const db = await fresh();
      const c = await raw(db.url);
      try {
        expect(await migrate(c, 'vigil', T0, 1)).toEqual([1]);
        await c.query(`INSERT INTO vigil.counters (name, value) VALUES ('x', 0)`); // a row of version 1 that must stay
        const store = await PostgresStore.open({ url: db.url, now: T0 + 1 });
        await store.setState('k', 'v', T0); // a table of version 2
        expect(await store.getState('k')).toBe('v');
        await store.close();
        const applied = await c.query<{ version: number; applied_at: string }>('SELECT version, applied_at FROM vigil.schema_migrations ORDER BY version');
        expect(applied.rows.map((r) => [r.version, Number(r.applied_at)])).toEqual(MIGRATIONS.map((m) => [m.version, m.version === 1 ? T0 : T0 + 1]));
        expect((await c.query(`SELECT 1 FROM vigil.counters WHERE name = 'x'`)).rowCount).toBe(1);
        // once current, opening applies nothing
        expect(await migrate(c, 'vigil', T0 + 2)).toEqual([]);
      } finally {
        await c.end();
      }
    });

    it('refuses a schema newer than this Vigil, and a schema name that is not an identifier', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      await store.close();
      const c = await raw(db.url);
      try {
        await c.query(`INSERT INTO vigil.schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', 0)`, [LATEST_VERSION + 1]);
      } finally {
        await c.end();
      }
      await expect(PostgresStore.open({ url: db.url, now: T0 })).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_OPEN', message: expect.stringContaining(`newer than this Vigil (${LATEST_VERSION})`) });
      await expect(PostgresStore.open({ url: db.url, now: T0, schema: 'x"; DROP TABLE y; --' })).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_OPEN' });
    });

    it('keeps every table in the schema asked for: two schemas of one database are two stores', async () => {
      const db = await fresh();
      const a = await PostgresStore.open({ url: db.url, now: T0, schema: 'vigil_a' });
      const b = await PostgresStore.open({ url: db.url, now: T0, schema: 'vigil_b' });
      try {
        await a.insertPredictions('m', [pred('x')], T0);
        await a.setState('k', 'a', T0);
        expect(await b.getPrediction('m', 'x')).toBeUndefined();
        expect(await b.getState('k')).toBeUndefined();
        const c = await raw(db.url);
        try {
          const tables = await c.query<{ schemaname: string; n: string }>(`SELECT schemaname, count(*) AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') GROUP BY schemaname ORDER BY schemaname`);
          // schema_migrations and the 19 tables of the migrations, in each
          expect(tables.rows.map((r) => [r.schemaname, Number(r.n)])).toEqual([
            ['vigil_a', 20],
            ['vigil_b', 20],
          ]);
        } finally {
          await c.end();
        }
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('sequence numbers', () => {
    it('gives a batch waiting behind an uncommitted one the numbers after it: a lower seq never commits after a higher one', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      const slow = await raw(db.url);
      const follower = await raw(db.url);
      try {
        await store.insertPredictions('m', [pred('first')], T0);
        // another replica's batch, in its transaction and not committed yet: it holds the counter row
        await slow.query('BEGIN');
        const { params } = predictionParams('m', [pred('slow')], T0, undefined, new Packer());
        const slowSeq = Number((await slow.query<{ seq: string }>(predictionsSql('"vigil"'), params)).rows[0]?.seq);
        let done = false;
        const fast = store.insertPredictions('m', [pred('fast')], T0).then((r) => {
          done = true;
          return r;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(done).toBe(false); // it waits at the counter row
        // what a follower sees meanwhile: neither
        expect((await follower.query('SELECT seq FROM vigil.predictions WHERE seq > $1', [slowSeq - 1])).rowCount).toBe(0);
        await slow.query('COMMIT');
        const r = await fast;
        expect(r.seqs[0]).toBeGreaterThan(slowSeq);
        expect(await store.lastPredictionSeq()).toBe(r.seqs[0]);
      } finally {
        await slow.end();
        await follower.end();
        await store.close();
      }
    });

    it('lets a follower that reads "seq > what I have seen" miss no row while two replicas write at once', async () => {
      const db = await fresh();
      const replicas = [await PostgresStore.open({ url: db.url, now: T0, poolSize: 4 }), await PostgresStore.open({ url: db.url, now: T0, poolSize: 4 })];
      const follower = await raw(db.url);
      const seen: number[] = [];
      let last = 0;
      const poll = async (): Promise<void> => {
        const r = await follower.query<{ seq: string }>('SELECT seq FROM vigil.predictions WHERE seq > $1 ORDER BY seq', [last]);
        for (const row of r.rows) seen.push(Number(row.seq));
        if (r.rows.length > 0) last = seen[seen.length - 1] as number;
      };
      try {
        let writing = true;
        const reader = (async () => {
          while (writing) await poll();
        })();
        const written: number[] = [];
        await Promise.all(
          Array.from({ length: 8 }, async (_, w) => {
            for (let b = 0; b < 25; b++) {
              const store = replicas[(w + b) % 2] as PostgresStore;
              const r = await store.insertPredictions('m', Array.from({ length: 1 + ((w * 7 + b) % 5) }, (_, i) => pred(`w${w}-b${b}-${i}`)), T0);
              written.push(...r.seqs);
            }
          }),
        );
        writing = false;
        await reader;
        await poll();
        expect(seen).toHaveLength(written.length);
        expect([...seen].sort((a, b) => a - b)).toEqual([...written].sort((a, b) => a - b));
        expect(seen.every((s, i) => i === 0 || s > (seen[i - 1] as number))).toBe(true);
      } finally {
        await follower.end();
        await Promise.all(replicas.map((r) => r.close()));
      }
    });

    it('numbers labels too (label_seq): increasing across batches, -1 for a re-sent id', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      try {
        const a = await store.insertLabels('m', [{ id: 'a', ts: T0, label: '1' }, { id: 'b', ts: T0, label: 2.5 }], T0);
        const b = await store.insertLabels('m', [{ id: 'c', ts: T0, label: '0' }, { id: 'a', ts: T0, label: '0' }], T0);
        expect(a.seqs[0]).toBeGreaterThan(0);
        expect(a.seqs[1]).toBeGreaterThan(a.seqs[0] as number);
        expect(b.seqs[0]).toBeGreaterThan(a.seqs[1] as number);
        expect(b).toMatchObject({ inserted: 1, duplicates: [1] });
        expect(b.seqs[1]).toBe(-1);
        const c = await raw(db.url);
        try {
          const rows = await c.query<{ id: string; seq: string }>('SELECT id, seq FROM vigil.labels ORDER BY seq');
          expect(rows.rows.map((r) => [r.id, Number(r.seq)])).toEqual([
            ['a', a.seqs[0]],
            ['b', a.seqs[1]],
            ['c', b.seqs[0]],
          ]);
        } finally {
          await c.end();
        }
      } finally {
        await store.close();
      }
    });
  });

  describe('batches', () => {
    it('stores 10,000 packed rows in one statement; the first occurrence of an id in a batch wins', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      const layout = packLayout([{ name: 'amount', type: 'numeric' }, { name: 'country', type: 'categorical' }]);
      try {
        await store.insertPredictions('m', [pred('id-5', { prediction: 'before' })], T0);
        const batch: PredictionRecord[] = Array.from({ length: 10_000 }, (_, i) => pred(`id-${i}`, { ts: T0 + i, features: { amount: i, country: 'PL' } }));
        batch.push(pred('id-7', { prediction: 'repeat' }), pred('id-5', { prediction: 'again' }));
        const r = await store.insertPredictions('m', batch, T0 + 1, layout);
        expect(r.inserted).toBe(9_999);
        expect(r.duplicates).toEqual([5, 10_000, 10_001]);
        const stored = r.seqs.filter((s) => s >= 0);
        expect(stored.every((s, i) => i === 0 || s > (stored[i - 1] as number))).toBe(true);
        expect((await store.getPrediction('m', 'id-7'))?.prediction).toBe('1');
        expect((await store.getPrediction('m', 'id-5'))?.prediction).toBe('before');
        expect(await store.predictionSeqs('m', ['id-0', 'id-9999'])).toEqual([r.seqs[0], r.seqs[9_999]]);
        const page = await store.windowPage('m', { fromTs: T0 + 9_990, maxSeq: await store.lastPredictionSeq(), limit: 100, layout });
        expect(page.map((p) => p.ts)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 9_990 + i));
        let n = 0;
        expect(await store.scanPredictions('m', T0, () => void n++)).toBe(10_000);
        expect(n).toBe(10_000);
      } finally {
        await store.close();
      }
    });

    it('keeps no features JSON for a row its packed form holds exactly; every read (and another replica, and another configuration) gives the same features', async () => {
      const db = await fresh();
      const a = await PostgresStore.open({ url: db.url, now: T0 });
      const b = await PostgresStore.open({ url: db.url, now: T0 });
      const layout = packLayout([{ name: 'amount', type: 'numeric' }, { name: 'country', type: 'categorical' }]);
      const other = packLayout([{ name: 'amount', type: 'numeric' }]);
      const c = await raw(db.url);
      try {
        const exact = [
          pred('e1', { features: { amount: 12.5, country: 'PL' } }),
          pred('e2', { features: { amount: null, country: null } }),
          pred('e3', { features: { amount: -0, country: 'zażółć "gęślą"\n' } }),
          pred('e4', { features: { amount: Number.NaN, country: 'x' } }), // NaN: null, as JSON stores it
        ];
        const inexact = [
          pred('j1', { features: { amount: 1, country: 'PL', extra: 3 } }), // a feature the layout does not have
          pred('j2', { features: { country: 'PL', amount: 1 } }), // another order
          pred('j3', { features: { amount: '7', country: 'PL' } }), // a number as text
        ];
        const expected = (r: PredictionRecord): unknown => JSON.parse(JSON.stringify(r.features));
        await a.insertPredictions('m', [...exact, ...inexact], T0, layout);
        const withJson = await c.query<{ id: string }>(`SELECT p.id FROM vigil.predictions p JOIN vigil.prediction_features f ON f.seq = p.seq ORDER BY p.id`);
        expect(withJson.rows.map((r) => r.id)).toEqual(['j1', 'j2', 'j3']);
        expect((await c.query(`SELECT key, definition FROM vigil.pack_layouts`)).rows).toEqual([{ key: String(layout.key), definition: JSON.stringify({ features: [{ name: 'amount', type: 'numeric' }, { name: 'country', type: 'categorical' }], classScores: false }) }]);
        for (const store of [a, b]) {
          for (const r of [...exact, ...inexact]) expect((await store.getPrediction('m', r.id))?.features).toStrictEqual(expected(r));
          const scanned = new Map<string, unknown>();
          await store.scanPredictions('m', T0, (row) => scanned.set(row.id, row.features));
          expect(Object.fromEntries(scanned)).toStrictEqual(Object.fromEntries([...exact, ...inexact].map((r) => [r.id, expected(r)])));
          const followed = await store.followPredictions(0, 100);
          expect(Object.fromEntries(followed.map((f) => [f.record.id, f.record.features]))).toStrictEqual(Object.fromEntries([...exact, ...inexact].map((r) => [r.id, expected(r)])));
          // a configuration whose layout differs: the rows come as records, their features from the stored layout
          const page = await store.windowPage('m', { fromTs: T0, maxSeq: await store.lastPredictionSeq(), limit: 100, layout: other });
          const records = page.filter((p): p is WindowRow => 'id' in p);
          expect(records).toHaveLength(page.length);
          expect(Object.fromEntries(records.map((p) => [p.id, p.features]))).toStrictEqual(Object.fromEntries([...exact, ...inexact].map((r) => [r.id, expected(r)])));
        }
      } finally {
        await c.end();
        await a.close();
        await b.close();
      }
    });

    it('a layout key another definition holds already (32 bits can collide): its rows keep their JSON, nothing is lost', async () => {
      const db = await fresh();
      const layout = packLayout([{ name: 'amount', type: 'numeric' }]);
      const first = await PostgresStore.open({ url: db.url, now: T0 });
      await first.close();
      const c = await raw(db.url);
      try {
        await c.query(`INSERT INTO vigil.pack_layouts (key, definition) VALUES ($1, $2)`, [layout.key, JSON.stringify({ features: [{ name: 'other', type: 'numeric' }], classScores: false })]);
        const store = await PostgresStore.open({ url: db.url, now: T0 });
        try {
          await store.insertPredictions('m', [pred('a', { features: { amount: 1 } })], T0, layout);
          expect(Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM vigil.prediction_features`)).rows[0]?.n)).toBe(1);
          expect((await store.getPrediction('m', 'a'))?.features).toStrictEqual({ amount: 1 });
          const page = await store.windowPage('m', { fromTs: T0, maxSeq: await store.lastPredictionSeq(), limit: 10, layout });
          expect(page).toHaveLength(1);
        } finally {
          await store.close();
        }
      } finally {
        await c.end();
      }
    });

    it('numbers go as array text written by one join (numericArray): every double comes back as it was, nulls as null', async () => {
      expect(numericArray([1, null, 2.5, -0, 1e21, 5e-324])).toBe('{1,NULL,2.5,0,1e+21,5e-324}');
      expect(numericArray([])).toBe('{}');
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      try {
        const values = [0.1 + 0.2, -1.7976931348623157e308, 5e-324, 123456789.123456789, 1e21, -0];
        const records = values.map((v, i) => pred(`n${i}`, { ts: T0 + i, prediction: v, latencyMs: i % 2 === 0 ? null : v }));
        await store.insertPredictions('m', records, T0);
        for (const [i, v] of values.entries()) {
          const got = await store.getPrediction('m', `n${i}`);
          expect(got?.prediction).toBe(v === 0 ? 0 : v);
          expect(got?.latencyMs).toBe(i % 2 === 0 ? null : v === 0 ? 0 : v);
          expect(got?.ts).toBe(T0 + i);
        }
      } finally {
        await store.close();
      }
    });

    it('prunes in statements of 10,000 rows: 25,000 old rows of a model go, the new ones and their features stay', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      const c = await raw(db.url);
      try {
        const old = Array.from({ length: 25_000 }, (_, i) => pred(`old-${i}`, { ts: T0 - 1_000 - i, features: { amount: i, extra: 'keeps its JSON' } }));
        const fresh = Array.from({ length: 10 }, (_, i) => pred(`new-${i}`, { ts: T0 + i, features: { amount: i, extra: 'keeps its JSON' } }));
        await store.insertPredictions('m', [...old, ...fresh], T0);
        await store.insertLabels('m', old.slice(0, 12_000).map((p) => ({ id: p.id, ts: p.ts, label: '1' })), T0);
        expect(await store.prune(T0)).toEqual({ predictions: 25_000, labels: 12_000 });
        expect(Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM vigil.prediction_features`)).rows[0]?.n)).toBe(10);
        let n = 0;
        await store.scanPredictions('m', 0, () => void n++);
        expect(n).toBe(10);
      } finally {
        await c.end();
        await store.close();
      }
    });

    it('orders action records of one creation time by their last save, newest first (as SQLite does)', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      try {
        await store.saveAction(action('a'));
        await store.saveAction(action('b'));
        expect((await store.listActions({})).map((a) => a.id)).toEqual(['b', 'a']);
        await store.saveAction(action('a', { status: 'succeeded' }));
        expect((await store.listActions({})).map((a) => a.id)).toEqual(['a', 'b']);
      } finally {
        await store.close();
      }
    });

    it('keeps one baseline per version and one holder per idempotency key when two replicas write at once', async () => {
      const db = await fresh();
      const [a, b] = [await PostgresStore.open({ url: db.url, now: T0 }), await PostgresStore.open({ url: db.url, now: T0 })] as const;
      try {
        const saves = await Promise.allSettled([a, b, a, b].map((s, i) => s.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: `api-${i}`, rows: 1, summary: '{}' })));
        expect(saves.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
        for (const x of saves) if (x.status === 'rejected') expect(x.reason).toMatchObject({ code: 'VIGIL_ERR_BASELINE_EXISTS', statusCode: 409 });
        const actions = await Promise.allSettled([a, b].map((s, i) => s.saveAction(action(`x${i}`, { idempotencyKey: 'i1/rollback' }))));
        expect(actions.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
        expect(actions.find((x) => x.status === 'rejected')).toMatchObject({ reason: { code: 'VIGIL_ERR_STORE_CONFLICT', statusCode: 409 } });
        // a replaced baseline's successor has the higher id, whoever saves it
        const first = (await a.listBaselines('m'))[0]?.id as number;
        const second = await b.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, [], { replace: true });
        expect(second.replaced).toEqual([first]);
        expect(await a.baselineGeneration()).toBe(second.id);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('walks the (model, ts, seq) index for a page even before the first ANALYZE: no sort, no join over the whole window', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      const c = await raw(db.url);
      const layout = packLayout([{ name: 'amount', type: 'numeric' }]);
      try {
        // statistics are what a new table (or one `vigil migrate` just filled) has: none
        for (const table of ['predictions', 'labels', 'prediction_features']) await c.query(`ALTER TABLE vigil.${table} SET (autovacuum_enabled = false)`);
        for (let b = 0; b < 10; b++) {
          const batch = Array.from({ length: 1_000 }, (_, i) => pred(`p${b * 1_000 + i}`, { ts: T0 + b * 1_000 + i }));
          await store.insertPredictions('m', batch, T0, layout);
          await store.insertLabels('m', batch.map((p) => ({ id: p.id, ts: p.ts, label: '1' })), T0);
        }
        const plan = async (sql: string, params: unknown[]): Promise<string[]> => {
          await c.query(`BEGIN READ ONLY; ${INDEX_ORDER}`);
          try {
            const r = await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
            const nodes: string[] = [];
            const walk = (n: { 'Node Type': string; 'Index Name'?: string; Plans?: unknown[] }): void => {
              nodes.push(n['Index Name'] === undefined ? n['Node Type'] : `${n['Node Type']} ${n['Index Name']}`);
              for (const child of n.Plans ?? []) walk(child as typeof n);
            };
            walk((r.rows[0]?.['QUERY PLAN'] as { Plan: Parameters<typeof walk>[0] }[])[0]?.Plan as Parameters<typeof walk>[0]);
            return nodes;
          } finally {
            await c.query('COMMIT');
          }
        };
        const after = { ts: T0 + 5_000, seq: 5_000 };
        for (const nodes of [
          await plan(windowPageSql('"vigil"'), windowPageParams('m', { fromTs: T0, maxSeq: 1e9, limit: 500, layout, after })),
          await plan(scanPageSql('"vigil"'), scanPageParams('m', T0, 1e9, after, 500)),
        ]) {
          expect(nodes).toContain('Index Scan predictions_model_ts');
          expect(nodes).toContain('Index Scan labels_pkey');
          expect(nodes.filter((n) => /Sort|Bitmap|Hash|Materialize|Seq Scan/.test(n))).toEqual([]);
        }
      } finally {
        await c.end();
        await store.close();
      }
    });

    it('takes a fractional time bound as SQLite compares it (the integer that selects the same rows)', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      const layout = packLayout([{ name: 'amount', type: 'numeric' }]);
      try {
        await store.insertPredictions('m', [pred('a', { ts: T0 }), pred('b', { ts: T0 + 1 })], T0, layout);
        const page = await store.windowPage('m', { fromTs: T0 + 0.5, maxSeq: await store.lastPredictionSeq(), limit: 10, layout });
        expect(page.map((r) => r.ts)).toEqual([T0 + 1]);
        let n = 0;
        expect(await store.scanPredictions('m', T0 - 0.5, () => void n++)).toBe(2);
        await store.saveSilence({ id: 's', matchers: [], startsAt: T0, endsAt: T0 + 10, createdBy: 'ops', comment: '', createdAt: T0 });
        expect((await store.listSilences(T0 + 9.5)).map((s) => s.id)).toEqual(['s']);
        expect(await store.listSilences(T0 + 10.5)).toEqual([]);
        expect(await store.prune(T0 + 0.5)).toEqual({ predictions: 1, labels: 0 });
      } finally {
        await store.close();
      }
    });

    it('parses bigint as a number on its own connections only', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, now: T0 });
      try {
        await store.setState('k', 'v', T0);
        expect(typeof (await store.lastPredictionSeq())).toBe('number');
        expect(pg.types.getTypeParser(20, 'text')('42')).toBe('42'); // pg's global parser untouched
      } finally {
        await store.close();
      }
    });
  });

  describe('availability', () => {
    const secret = 's3cr3t-P@ss:w/rd%';

    it('fails to open with VIGIL_ERR_STORE_UNAVAILABLE (503) when nothing listens, and never says the password', async () => {
      const port = await deadPort();
      const inUrl = urlWith(server.url, { port, password: secret });
      const apart = urlWith(server.url, { port });
      for (const opts of [{ url: inUrl }, { url: apart, password: secret }]) {
        const err = await PostgresStore.open({ ...opts, now: T0 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE', statusCode: 503, details: { retryAfterSeconds: 1 } });
        const text = `${(err as Error).message} ${JSON.stringify(err)} ${String((err as Error).stack)}`;
        expect(text).toContain(`127.0.0.1:${port}`);
        expect(text).not.toContain(secret);
        expect(text).not.toContain(encodeURIComponent(secret));
      }
    });

    it('fails to open with VIGIL_ERR_STORE_OPEN (not 503) for a bad URL or an unknown database, and never says the password', async () => {
      const bad = `postgres://vigil:${encodeURIComponent(secret)}@127.0.0.1:99999/x`; // port out of range
      for (const opts of [{ url: bad }, { url: 'not a url', password: secret }, { url: `${urlWith(server.url, { password: secret }).replace(/\/[^/]*$/, '')}/vigil_no_such_db` }]) {
        const err = await PostgresStore.open({ ...opts, now: T0 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'VIGIL_ERR_STORE_OPEN' });
        const text = `${(err as Error).message} ${JSON.stringify(err)}`;
        expect(text).not.toContain(secret);
        expect(text).not.toContain(encodeURIComponent(secret));
      }
    });

    it('connects with a password given apart from the URL, whatever its characters', async () => {
      const db = await fresh();
      const store = await PostgresStore.open({ url: db.url, password: secret, now: T0 }); // trust auth: taken, not checked
      expect(store.healthy()).toBe(true);
      await store.close();
    });

    it('counts a server that accepts but never answers as unavailable after the connect timeout', async () => {
      const silent = createServer(() => undefined);
      const sockets: Socket[] = [];
      silent.on('connection', (s) => sockets.push(s));
      const port = await listen(silent, 0);
      try {
        const t = performance.now();
        await expect(PostgresStore.open({ url: urlWith(server.url, { port }), now: T0, connectTimeoutMs: 300 })).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE', statusCode: 503 });
        expect(performance.now() - t).toBeLessThan(5_000);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });

    it('answers 503 while the server is gone, is unhealthy, and recovers by itself when it is back; the password never logged', async () => {
      const db = await fresh();
      const u = new URL(db.url);
      const proxy = await flakyProxy({ host: u.hostname, port: Number(u.port || 5432) });
      const log = capture();
      const store = await PostgresStore.open({ url: urlWith(db.url, { port: proxy.port }), password: secret, now: T0, logger: log.logger, connectTimeoutMs: 1_000 });
      try {
        await store.insertPredictions('m', [pred('a')], T0);
        expect(store.healthy()).toBe(true);
        await proxy.stop(); // every connection cut, nothing listening
        await expect(store.insertPredictions('m', [pred('b')], T0)).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE', statusCode: 503, details: { retryAfterSeconds: 1 } });
        await expect(store.getPrediction('m', 'a')).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE' });
        await expect(store.writeOutbox([{ id: 'o', receiver: 'r', payload: '{}', attempts: 0, nextAttemptAt: T0, createdAt: T0 }], [])).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE' });
        expect(store.healthy()).toBe(false);
        await proxy.start();
        await waitFor('the store to be healthy again', async () => (store.healthy() ? true : undefined), 10_000);
        expect((await store.getPrediction('m', 'a'))?.id).toBe('a');
        expect((await store.insertPredictions('m', [pred('b')], T0)).inserted).toBe(1);
        expect(log.text()).not.toContain(secret);
        expect(log.text()).not.toContain(encodeURIComponent(secret));
      } finally {
        await store.close();
        await proxy.stop();
      }
    });

    it('survives its idle connections being ended by the server: no crash, reads go on at once, writes after at most a 503', async () => {
      const db = await fresh();
      const log = capture();
      const store = await PostgresStore.open({ url: db.url, now: T0, logger: log.logger, applicationName: 'vigil-terminated', poolSize: 4 });
      const admin = await raw(db.url);
      try {
        const terminate = async (): Promise<void> => {
          // several idle connections in the pool, then all of them ended by the server
          await Promise.all(Array.from({ length: 4 }, (_, i) => store.setState(`k${i}`, 'v', T0)));
          const ended = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vigil-terminated' AND datname = $1`, [db.name]);
          expect(ended.rowCount).toBeGreaterThan(1);
        };
        // left alone, the idle connections hear of it themselves: logged, no crash
        await terminate();
        await waitFor('the pool to hear of it', async () => (log.text().includes('an idle PostgreSQL connection failed') ? true : undefined), 10_000);
        expect(await store.getState('k0')).toBe('v');
        // read at once, before the pool has heard (it may have heard of some: the machine decides): a
        // connection a read finds ended is dropped and the read runs on another, or a new one
        await terminate();
        expect(await store.getState('k0')).toBe('v');
        expect(await store.listCircuits()).toEqual([]);
        // a write is not repeated by the store (it may have committed): one that met an ended connection answers 503
        await waitFor('a write to go through', async () =>
          store.setState('k9', 'w', T0).then(
            () => true,
            (e: unknown) => {
              expect(e).toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE', statusCode: 503 });
              return undefined;
            },
          ),
        5_000);
        expect(await store.getState('k9')).toBe('w');
        await waitFor('the store to be healthy', async () => (store.healthy() ? true : undefined), 5_000);
      } finally {
        await admin.end();
        await store.close();
      }
    });

  });
});
