/**
 * The page reader's worker thread (page-reader.ts): reads a rebuild's pages from its own read-only
 * connection to the store's file, page after page while it has credit, so SQLite's part of a
 * rebuild runs beside the main thread's. Between pages it lets its messages in (more credit, a
 * cancelled stream).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { errorMessage } from '../../core/errors.js';
import type { FromPageWorker, ToPageWorker } from './page-reader.js';
import { nextParams, readPage, transferList, WINDOW_PAGE_SQL, type PageParams } from './window-pages.js';

const { path } = workerData as { path: string };
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
// each page is read once: a small cache (the main connection keeps its own)
db.pragma('cache_size = -2048');
const stmt = db.prepare(WINDOW_PAGE_SQL).raw(true);
const port = parentPort;

let current: { stream: number; params: PageParams; credit: number } | null = null;
let scheduled = false;

const schedule = (): void => {
  if (scheduled || current === null || current.credit <= 0) return;
  scheduled = true;
  setImmediate(step);
};

function step(): void {
  scheduled = false;
  const c = current;
  if (c === null || c.credit <= 0 || port === null) return;
  let out: FromPageWorker;
  try {
    const page = readPage(stmt, c.params);
    c.credit--;
    if (page.n < c.params.limit || page.n === 0) current = null; // the last page
    else c.params = nextParams(c.params, page);
    out = { stream: c.stream, page };
    port.postMessage(out, transferList(page));
  } catch (e) {
    current = null;
    out = { stream: c.stream, error: errorMessage(e) };
    port.postMessage(out);
  }
  schedule();
}

port?.on('message', (m: ToPageWorker) => {
  if (m.type === 'scan') {
    if (m.fault === 'throw') throw new Error('injected page reader fault');
    current = { stream: m.stream, params: m.params, credit: m.credit };
  } else if (m.type === 'credit') {
    if (current?.stream === m.stream) current.credit += m.n;
  } else if (current?.stream === m.stream) current = null;
  schedule();
});
