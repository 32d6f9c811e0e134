import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/load.js';
import { buildBaseline, loadBaseline, type BuiltBaseline } from '../../monitors/baseline.js';
import type { NumericReferenceSummary } from '../../stats/reference.js';
import { packLayout } from '../packed.js';
import { pred, storeContract } from '../store.contract.js';
import { isPacked } from '../store.js';
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

// the same contract with every write on the main connection (no writer thread: the fallback, and :memory:)
storeContract('sqlite (file, WAL, writes on the main thread)', async () => {
  const path = join(dir, `contract-${n++}.db`);
  const store = new SqliteStore({ path, now: T0, writer: 'main' });
  return {
    store,
    reopen: async () => {
      await store.close();
      return new SqliteStore({ path, now: T0, writer: 'main' });
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

  it('pages predictions stored before migration 7 (no packed form) as their JSON records, beside packed ones', async () => {
    const path = join(dir, 'before-packed.db');
    const db = new Database(path);
    expect(migrate(db, T0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    db.prepare(`INSERT INTO predictions (model, id, ts, version, features, prediction, score, latency_ms, segment, error, received_at)
      VALUES ('m', 'old', ?, 'v1', '{"amount":2.5,"country":"DE"}', '1', '0.5', NULL, NULL, NULL, ?)`).run(T0, T0);
    db.close();
    const store = new SqliteStore({ path, now: T0 + 1 });
    const layout = packLayout([
      { name: 'amount', type: 'numeric' },
      { name: 'country', type: 'categorical' },
    ]);
    await store.insertPredictions('m', [pred('new', { ts: T0 + 1 })], T0, layout);
    const page = await store.windowPage('m', { fromTs: T0, maxSeq: await store.lastPredictionSeq(), limit: 10, layout });
    expect(page.map((r) => [isPacked(r), r.ts])).toEqual([
      [false, T0],
      [true, T0 + 1],
    ]);
    expect(page[0]).toMatchObject({ id: 'old', features: { amount: 2.5, country: 'DE' }, score: 0.5 });
    await store.close();
  });

  it('keeps the features JSON of rows stored before migration 8 inline and of new rows in prediction_features; both read, page and prune alike', async () => {
    const path = join(dir, 'before-features-table.db');
    const db = new Database(path);
    expect(migrate(db, T0, 7)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    db.prepare(`INSERT INTO predictions (model, id, ts, version, features, prediction, score, latency_ms, segment, error, received_at)
      VALUES ('m', 'old', ?, 'v1', '{"amount":2.5,"extra":"x"}', '1', '0.5', NULL, NULL, NULL, ?)`).run(T0, T0);
    db.close();
    const store = new SqliteStore({ path, now: T0 + 1 });
    const a = await store.insertPredictions('m', [pred('new', { ts: T0 + 1, features: { amount: 3, extra: 'y' } })], T0);
    // a re-sent id is a duplicate and writes no second JSON row
    const b = await store.insertPredictions('m', [pred('new', { ts: T0 + 1, features: { amount: 4 } }), pred('newer', { ts: T0 + 2, features: { amount: 5 } })], T0);
    expect([a.inserted, b.inserted, b.duplicates]).toEqual([1, 1, [0]]);
    expect((await store.getPrediction('m', 'old'))?.features).toEqual({ amount: 2.5, extra: 'x' });
    expect((await store.getPrediction('m', 'new'))?.features).toEqual({ amount: 3, extra: 'y' });
    // no layout asked for these rows: every row comes as its JSON record
    const layout = packLayout([{ name: 'amount', type: 'numeric' }]);
    const page = await store.windowPage('m', { fromTs: T0, maxSeq: await store.lastPredictionSeq(), limit: 10, layout });
    expect(page.map((r) => (isPacked(r) ? null : r.features))).toEqual([{ amount: 2.5, extra: 'x' }, { amount: 3, extra: 'y' }, { amount: 5 }]);
    const scanned: unknown[] = [];
    await store.scanPredictions('m', T0, (r) => scanned.push(r.features));
    expect(scanned).toEqual([{ amount: 2.5, extra: 'x' }, { amount: 3, extra: 'y' }, { amount: 5 }]);
    await store.close();
    const check = new Database(path, { readonly: true });
    const inline = check.prepare("SELECT id, features <> '' AS inline FROM predictions ORDER BY ts").all();
    expect(inline).toEqual([{ id: 'old', inline: 1 }, { id: 'new', inline: 0 }, { id: 'newer', inline: 0 }]);
    expect(check.prepare('SELECT count(*) AS n FROM prediction_features').get()).toEqual({ n: 2 });
    check.close();
    // retention deletes a row's JSON with it
    const again = new SqliteStore({ path, now: T0 + 1 });
    expect((await again.prune(T0 + 2)).predictions).toBe(2);
    await again.close();
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT count(*) AS n FROM prediction_features').get()).toEqual({ n: 1 });
    after.close();
  });

  it('moves the reference values of baselines saved before migration 6 out of their JSON, bit for bit', async () => {
    const config = parseConfigText(
      `models:
  - name: reg
    task: regression
    features:
      - { name: x, type: numeric }
      - { name: y, type: numeric }
      - { name: c, type: categorical }
  - name: bin
    task: binary
    features:
      - { name: x, type: numeric }
`,
      'old.yaml',
      {},
    );
    const [reg, bin] = config.models as [(typeof config.models)[number], (typeof config.models)[number]];
    const rows = Array.from({ length: 300 }, (_, i) => ({
      features: { x: i % 7 === 0 ? -0 : Math.sin(i) * 1e-300, y: i % 3 === 0 ? null : i * 1.5, c: `k${i % 4}` },
      prediction: i / 3,
      label: i % 11,
      score: (i % 10) / 10,
    }));
    const built: BuiltBaseline[] = [buildBaseline(reg, rows), buildBaseline(bin, rows.map((r) => ({ ...r, prediction: String(r.label % 2), label: String(r.label % 2) })))];
    // The format before migration 6: every numeric summary carried its sorted values as base64.
    const oldJson = (b: BuiltBaseline): string => {
      const s = JSON.parse(JSON.stringify(b.summary)) as { features: Record<string, Record<string, unknown>>; prediction?: Record<string, unknown>; label?: Record<string, unknown> };
      for (const r of b.references) {
        const entry = r.kind === 'feature' ? s.features[r.name] : s[r.kind as 'prediction' | 'label'];
        (entry as Record<string, unknown>).sortedBase64 = Buffer.from(r.sorted.buffer, r.sorted.byteOffset, r.sorted.byteLength).toString('base64');
      }
      return JSON.stringify(s);
    };
    const path = join(dir, 'old-baselines.db');
    const db = new Database(path);
    expect(migrate(db, T0, 5)).toEqual([1, 2, 3, 4, 5]);
    const insert = db.prepare('INSERT INTO baselines (model, version, created_at, source, rows, summary) VALUES (?, ?, ?, ?, ?, ?)');
    insert.run('reg', 'v1', T0, 'file:train.csv', 300, oldJson(built[0] as BuiltBaseline));
    insert.run('bin', 'v1', T0, 'api', 300, oldJson(built[1] as BuiltBaseline));
    const corrupt = JSON.stringify({ v: 1, task: 'regression', rows: 1, quality: {}, features: { x: { kind: 'numeric', version: 1, sortedBase64: Buffer.alloc(5).toString('base64') } } });
    insert.run('reg', 'v0', T0, 'api', 1, corrupt);
    db.close();

    const store = new SqliteStore({ path, now: T0 + 1 });
    const [bad, regRec] = await store.listBaselines('reg');
    const [binRec] = await store.listBaselines('bin');
    expect(bad?.summary).toBe(corrupt); // left as it was: it could not be read before either
    expect(await store.readBaselineReferences(bad?.id ?? 0, () => undefined)).toBe(0);
    await expect(loadBaseline(store, bad as NonNullable<typeof bad>)).rejects.toMatchObject({ code: 'VIGIL_ERR_BASELINE_CORRUPT', message: expect.stringContaining('sorted values missing') });
    for (const [rec, b] of [[regRec, built[0]], [binRec, built[1]]] as const) {
      if (rec === undefined || b === undefined) throw new Error('baseline missing');
      // the JSON is what a baseline saved now stores …
      expect(rec.summary).not.toContain('sortedBase64');
      expect(JSON.parse(rec.summary)).toEqual(JSON.parse(JSON.stringify(b.summary)));
      // … and the values are the same bytes
      const got = new Map<string, Float64Array>();
      expect(await store.readBaselineReferences(rec.id, (kind, name, values) => got.set(`${kind}/${name}`, values.slice()))).toBe(b.references.length);
      for (const r of b.references) {
        const g = got.get(`${r.kind}/${r.name}`) as Float64Array;
        expect(Buffer.from(g.buffer).equals(Buffer.from(r.sorted.buffer, r.sorted.byteOffset, r.sorted.byteLength))).toBe(true);
      }
      // … so the daemon loads it as one saved now
      const loaded = await loadBaseline(store, rec);
      expect(Array.from((loaded.features.get('x') as NumericReferenceSummary).sorted)).toEqual(Array.from(b.references.find((r) => r.name === 'x')?.sorted ?? []));
    }
    expect(built[0]?.references.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(['feature/x', 'feature/y', 'label/', 'prediction/']);
    expect(built[1]?.references.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(['feature/x', 'prediction/']);
    await store.close();
    // a second open has nothing left to move
    const again = new SqliteStore({ path, now: T0 + 2 });
    expect((await again.listBaselines('reg'))[1]?.summary).toBe(regRec?.summary);
    await again.close();
  });

  it('refuses stored reference values that are not whole float64 values, naming the baseline and reference', async () => {
    const path = join(dir, 'bad-ref.db');
    const store = new SqliteStore({ path, now: T0 });
    const b = await store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, [{ kind: 'feature', name: 'x', sorted: new Float64Array([1, 2]) }]);
    await store.close();
    const db = new Database(path);
    db.pragma('ignore_check_constraints = ON'); // what the schema's CHECK would refuse: a file damaged outside Vigil
    db.prepare("UPDATE baseline_references SET sorted = x'0102030405' WHERE baseline_id = ?").run(b.id);
    db.close();
    const again = new SqliteStore({ path, now: T0 });
    await expect(again.readBaselineReferences(b.id, () => undefined)).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_BAD_REFERENCE', message: expect.stringContaining(`baseline ${b.id} feature x`) });
    await again.close();
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

  it('sizes its page cache (4 MiB unless told)', async () => {
    const cacheKib = (s: SqliteStore): unknown => (s as unknown as { db: Database.Database }).db.pragma('cache_size', { simple: true });
    const byDefault = new SqliteStore({ path: join(dir, 'cache-default.db'), now: T0 });
    const large = new SqliteStore({ path: join(dir, 'cache-large.db'), cacheMb: 64, now: T0 });
    expect(cacheKib(byDefault)).toBe(-4096); // negative: KiB, not pages
    expect(cacheKib(large)).toBe(-65536);
    await byDefault.close();
    await large.close();
  });

  it('says which file it cannot open', () => {
    expect(() => new SqliteStore({ path: '/proc/version/vigil.db', now: T0 })).toThrow(
      expect.objectContaining({ code: 'VIGIL_ERR_STORE_OPEN', message: expect.stringContaining('/proc/version/vigil.db') }),
    );
  });
});
