import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { Packer, packLayout } from '../packed.js';
import { pred } from '../store.contract.js';
import type { PredictionRecord } from '../store.js';
import { SqliteStore } from './sqlite-store.js';
import { locateWriterWorker } from './writer.js';
import { predictionBatch, Writes } from './writes.js';
import { migrate } from './migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 0, 1);
let n = 0;
const layout = packLayout([
  { name: 'amount', type: 'numeric' },
  { name: 'country', type: 'categorical' },
]);
const batch = (from: number, count: number, over: Partial<PredictionRecord> = {}): PredictionRecord[] =>
  Array.from({ length: count }, (_, k) => pred(`p${from + k}`, { ts: T0 + from + k, features: { amount: from + k, country: 'PL' }, ...over }));

function logged(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('the store writer thread (writer.ts)', () => {
  it('is built (the tests run it from dist/)', () => {
    expect(locateWriterWorker()).not.toBeNull();
  });

  it('writes ingestion batches in a thread, answered after the commit, in the order sent', async () => {
    const store = new SqliteStore({ path: join(dir, `w${n++}.db`), now: T0 });
    // several batches in flight at once: answered in order, sequences growing in that order
    const results = await Promise.all([0, 100, 200, 300].map((from) => store.insertPredictions('m', batch(from, 100), T0, layout)));
    expect(store.writer.counts.worker).toBe(4);
    expect(store.writer.counts.inline).toBe(0);
    const seqs = results.flatMap((r) => r.seqs);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(400);
    // visible to the main connection once answered
    expect(await store.getPrediction('m', 'p399')).toMatchObject({ id: 'p399', features: { amount: 399, country: 'PL' } });
    const labels = await store.insertLabels('m', [{ id: 'p1', ts: T0 + 5, label: '1' }], T0);
    expect(labels.inserted).toBe(1);
    expect((await store.modelCounts('m')).labeledPredictions).toBe(1);
    await store.close();
  });

  it('keeps writing while the main connection writes too (both take the write lock at BEGIN)', async () => {
    const store = new SqliteStore({ path: join(dir, `w${n++}.db`), now: T0 });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      writes.push(store.insertPredictions('m', batch(i * 500, 500), T0, layout));
      writes.push(store.writeOutbox([{ id: `o${i}`, receiver: 'r', payload: '{}', attempts: 0, nextAttemptAt: T0, createdAt: T0 }], []));
      writes.push(store.setState(`k${i}`, 'v', T0));
    }
    await Promise.all(writes);
    expect((await store.modelCounts('m')).predictions).toBe(10_000);
    expect(await store.listOutbox()).toHaveLength(20);
    await store.close();
  });

  it('gives the thread\'s SQLite errors as the main connection would (SqliteError, code), and goes on', async () => {
    const store = new SqliteStore({ path: join(dir, `w${n++}.db`), now: T0 });
    const bad = batch(0, 3, { ts: null as unknown as number }); // NOT NULL
    const err = await store.insertPredictions('m', bad, T0, layout).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Database.SqliteError);
    expect(err).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    expect(store.writer.counts.worker).toBe(1);
    // the batch was rolled back as a whole; the next one is written
    expect((await store.insertPredictions('m', batch(0, 3), T0, layout)).inserted).toBe(3);
    await store.close();
  });

  it('runs a lost thread\'s writes again on the main thread, and starts no thread after three failures in a row', async () => {
    const { logger, lines } = logged();
    const store = new SqliteStore({ path: join(dir, `w${n++}.db`), now: T0, logger });
    for (let k = 0; k < 3; k++) {
      store.writer.faultNext = k === 1 ? 'throw' : 'exit';
      const inFlight = [store.insertPredictions('m', batch(k * 100, 50), T0, layout), store.insertPredictions('m', batch(k * 100 + 50, 50), T0, layout)];
      const [a, b] = await Promise.all(inFlight);
      expect([a?.inserted, b?.inserted]).toEqual([50, 50]);
    }
    expect(store.writer.counts.rerun).toBe(6);
    expect(store.writer.counts.started).toBe(3);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'the store writer thread failed; its writes run on the main thread (a new thread at the next write)',
      'the store writer thread failed; its writes run on the main thread (a new thread at the next write)',
      'the store writer thread failed again; writing on the main thread from now on',
    ]);
    // from now on on the main thread
    expect((await store.insertPredictions('m', batch(1000, 10), T0, layout)).inserted).toBe(10);
    expect(store.writer.running).toBe(false);
    expect(store.writer.counts.inline).toBe(1);
    expect((await store.modelCounts('m')).predictions).toBe(310);
    await store.close();
  });

  it('stores the same features JSON whichever thread makes the text (the main thread when the writer has batches waiting)', async () => {
    const store = new SqliteStore({ path: join(dir, `w${n++}.db`), now: T0 });
    const odd: PredictionRecord['features'] = { country: 'PL', amount: 1.5 }; // not the layout's order: not rebuilt from the packed form
    const records = (from: number): PredictionRecord[] => batch(from, 50).map((r, k) => (k % 2 === 0 ? { ...r, features: odd } : r));
    // prepared with the text: strings, JSON.stringify's; without: null where the packed form holds them
    const prepared = (textHere: boolean) => predictionBatch('m', records(0), T0, layout, new Packer(), textHere).features;
    expect(prepared(true)).toEqual(records(0).map((r) => JSON.stringify(r.features)));
    expect(prepared(false).map((f) => (f === null ? null : 'object'))).toEqual(records(0).map((_, k) => (k % 2 === 0 ? 'object' : null)));
    // many batches at once: the later ones find the writer busy and carry their text
    await Promise.all(Array.from({ length: 8 }, (_, b) => store.insertPredictions('m', records(b * 50), T0, layout)));
    for (const i of [0, 1, 201, 398, 399]) {
      const stored = await store.getPrediction('m', `p${i}`);
      expect(stored?.features).toEqual(i % 2 === 0 ? odd : { amount: i, country: 'PL' });
      expect(Object.keys(stored?.features ?? {})).toEqual(i % 2 === 0 ? ['country', 'amount'] : ['amount', 'country']);
    }
    await store.close();
  });

  it('reports a batch the lost thread had committed as stored, not as duplicates (Writes.rerun)', () => {
    const db = new Database(join(dir, `w${n++}.db`));
    db.pragma('journal_mode = WAL');
    migrate(db, T0);
    const writes = new Writes(db);
    const packer = new Packer();
    const first = writes.run(predictionBatch('m', batch(0, 5), T0, layout, packer));
    // the same batch again (what the main thread does when the thread ended before answering)
    const again = writes.rerun(predictionBatch('m', batch(0, 5), T0, layout, packer));
    expect(again).toEqual(first);
    // a re-sent id from an earlier request stays a duplicate
    const later = writes.rerun(predictionBatch('m', [...batch(3, 2), ...batch(5, 1)], T0 + 1, layout, packer));
    expect(later.duplicates).toEqual([0, 1]);
    expect(later.inserted).toBe(1);
    db.close();
  });

  it('waits for the writes in flight when the store closes', async () => {
    const path = join(dir, `w${n++}.db`);
    const store = new SqliteStore({ path, now: T0 });
    const pending = Array.from({ length: 5 }, (_, i) => store.insertPredictions('m', batch(i * 1000, 1000), T0, layout));
    await store.close();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.inserted)).toEqual([1000, 1000, 1000, 1000, 1000]);
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n).toBe(5000);
    db.close();
  });

  it('prunes in chunks in the thread, between ingestion batches', async () => {
    const store = new SqliteStore({ path: join(dir, `w${n++}.db`), now: T0 });
    for (let b = 0; b < 3; b++) await store.insertPredictions('m', batch(b * 10_000, 10_000), T0, layout);
    await store.insertLabels('m', [{ id: 'p0', ts: T0, label: '1' }], T0);
    const before = store.writer.counts.worker;
    const [pruned, written] = await Promise.all([store.prune(T0 + 25_000), store.insertPredictions('m', batch(50_000, 10), T0, layout)]);
    expect(pruned).toEqual({ predictions: 25_000, labels: 1 });
    expect(written.inserted).toBe(10);
    // 3 chunks of predictions (10,000, 10,000, 5,000), 1 of labels, and the batch
    expect(store.writer.counts.worker - before).toBe(5);
    expect((await store.modelCounts('m')).predictions).toBe(5_010);
    await store.close();
  });
});
