import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packLayout } from '../packed.js';
import { pred } from '../store.contract.js';
import type { PredictionRecord, WindowPageQuery, WindowPageRow } from '../store.js';
import { locatePageWorker } from './page-reader.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 0, 1);
const layout = packLayout([
  { name: 'amount', type: 'numeric' },
  { name: 'country', type: 'categorical' },
]);
const LIMIT = 7;

/** 100 predictions over 50 event times (ties, out of order), every third stored without the packed form, labels on some. */
async function filled(name: string, pageReader?: 'main'): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(dir, `${name}.db`), now: T0, ...(pageReader === undefined ? {} : { pageReader }) });
  for (let b = 0; b < 10; b++) {
    const batch: PredictionRecord[] = Array.from({ length: 10 }, (_, k) => {
      const i = b * 10 + k;
      return pred(`p${i}`, {
        ts: T0 + ((i * 37) % 50) * 1000,
        version: i % 4 === 0 ? 'v2' : 'v1',
        features: { amount: i % 9 === 0 ? null : i * 1.5, country: ['PL', 'DE', 'Zürich'][i % 3] as string },
        prediction: i % 5 === 0 ? 0 : '1',
        score: i % 6 === 0 ? null : { '0': 0.25, '1': 0.75 },
        latencyMs: i % 7 === 0 ? null : i,
        error: i % 11 === 0 ? 'timeout' : null,
      });
    });
    await store.insertPredictions('m', batch, T0, b % 3 === 2 ? undefined : layout);
  }
  await store.insertLabels('m', Array.from({ length: 40 }, (_, i) => ({ id: `p${i * 2}`, ts: T0 + 60_000 + i, label: i % 2 === 0 ? '1' : 0 })), T0);
  return store;
}

/** Rows as comparable values (a packed row's bytes as numbers). */
const plain = (rows: WindowPageRow[]): unknown[] => rows.map((r) => ('packed' in r ? { ...r, packed: [...r.packed] } : r));

/** Every page from the start, each asked for after the previous one, as a rebuild does. */
async function allPages(store: SqliteStore, maxSeq: number): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let after: WindowPageQuery['after'];
  for (;;) {
    const rows = await store.windowPage('m', { fromTs: T0, maxSeq, limit: LIMIT, layout, ...(after === undefined ? {} : { after }) });
    pages.push(plain(rows));
    const last = rows[rows.length - 1];
    if (rows.length < LIMIT || last === undefined) return pages;
    after = { ts: last.ts, seq: last.seq };
  }
}

describe('the page reader (a worker thread reading the rebuild\'s pages ahead)', () => {
  it('is built (npm run build): without it every page is read on the main thread', () => {
    expect(locatePageWorker(), 'dist/src/store/sqlite/page-reader-worker.js').not.toBeNull();
  });

  it('gives the pages the main thread reads, page by page: packed and JSON rows, labels, nulls, ties', async () => {
    const worker = await filled('worker');
    const main = await filled('main', 'main');
    const maxSeq = await worker.lastPredictionSeq();
    const viaWorker = await allPages(worker, maxSeq);
    const viaMain = await allPages(main, maxSeq);
    expect(viaWorker.flat()).toHaveLength(100);
    expect(viaWorker).toEqual(viaMain);
    // every page came from the worker, all but the first read ahead; none on the main thread
    expect(worker.pages.counts).toMatchObject({ worker: viaWorker.length, ahead: viaWorker.length - 1, inline: 0, started: 1 });
    expect(main.pages.counts).toMatchObject({ worker: 0, inline: viaMain.length, started: 0 });
    // both kinds of row are there
    expect(viaWorker.flat().filter((r) => (r as { packed?: unknown }).packed !== undefined)).toHaveLength(70);
    // a bounded range: rows stored after maxSeq are not read, even in pages read ahead
    await worker.insertPredictions('m', [pred('late', { ts: T0 + 1 })], T0, layout);
    expect((await allPages(worker, maxSeq)).flat()).toEqual(viaMain.flat());
    await worker.close();
    await main.close();
  });

  it('answers a query that leaves the stream (another cursor, another model, another layout) with its own page', async () => {
    const store = await filled('jump');
    const ref = await filled('jump-main', 'main');
    const maxSeq = await store.lastPredictionSeq();
    const q = (after?: { ts: number; seq: number }): WindowPageQuery => ({ fromTs: T0, maxSeq, limit: LIMIT, layout, ...(after === undefined ? {} : { after }) });
    const first = await store.windowPage('m', q());
    // jump back to a row in the middle of the first page, then to another model, then back
    const mid = first[3] as WindowPageRow;
    expect(plain(await store.windowPage('m', q({ ts: mid.ts, seq: mid.seq })))).toEqual(plain(await ref.windowPage('m', q({ ts: mid.ts, seq: mid.seq }))));
    expect(await store.windowPage('other', q())).toEqual([]);
    const other = packLayout([{ name: 'amount', type: 'numeric' }]);
    const asJson = await store.windowPage('m', { ...q(), layout: other });
    expect(asJson.every((r) => !('packed' in r))).toBe(true);
    expect(plain(asJson)).toEqual(plain(await ref.windowPage('m', { ...q(), layout: other })));
    expect(store.pages.counts.inline).toBe(0);
    await store.close();
    await ref.close();
  });

  it('reads on the main thread when the worker fails, and starts no worker after three failures in a row', async () => {
    const store = await filled('faults');
    const ref = await filled('faults-main', 'main');
    const maxSeq = await store.lastPredictionSeq();
    const expected = await allPages(ref, maxSeq);
    // one failure: that page is read here, the next ones by a new worker
    store.pages.faultStreams = 1;
    expect(await allPages(store, maxSeq)).toEqual(expected);
    expect(store.pages.counts).toMatchObject({ started: 2, inline: 1, worker: expected.length - 1 });
    // three in a row (the running worker, then two new ones): no worker any more, every page read here, still the same pages
    store.pages.faultStreams = 3;
    expect(await allPages(store, maxSeq)).toEqual(expected);
    expect(await allPages(store, maxSeq)).toEqual(expected);
    expect(store.pages.counts).toMatchObject({ started: 4, inline: 1 + 2 * expected.length });
    await store.close();
    await ref.close();
  });

  it('ends its worker when the store closes, in the middle of a stream', async () => {
    const store = await filled('close');
    const maxSeq = await store.lastPredictionSeq();
    await store.windowPage('m', { fromTs: T0, maxSeq, limit: LIMIT, layout });
    await store.close();
    await expect(store.windowPage('m', { fromTs: T0, maxSeq, limit: LIMIT, layout })).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_CLOSED' });
  });
});
