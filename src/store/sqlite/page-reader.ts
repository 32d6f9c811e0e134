/**
 * Reads the hot-window rebuild's pages in a worker thread, ahead of the rebuild: while the main
 * thread codes rows into its window, the worker reads the next pages from its own read-only
 * connection (SQLite's share of a rebuild is about half of it; these machines have two cores).
 * Pages come as Store.windowPage gives them, read by the same code as on the main thread
 * (window-pages.ts).
 *
 * A page asked for starts a stream: the worker reads that page and the ones after it (the cursor
 * at each page's last row, the query otherwise the same: a rebuild's next requests), page after
 * page on its own, up to AHEAD pages not yet taken (credit: each page taken gives one more). The
 * main thread codes in bursts (8,192 rows at a time); a worker that waited for each request
 * idled during them (measured: 11-12 s for the bench load, against 7-9 s streaming). A request
 * that is not the stream's next page ends the stream and starts its own. A page read ahead is as
 * a page read at that moment would be: the rows of a rebuild's range (sequence <= maxSeq) only
 * change by labels arriving, which the rebuild applies from ingestion (CatchUp) whichever way the
 * page was read.
 *
 * A failed worker costs only time: its pages are read on the main thread; after MAX_FAILURES in a
 * row no worker is started again. The worker does not keep the process alive when idle and ends
 * after IDLE_MS without a stream (a rebuild is rare: start-up, a new baseline, a changed model).
 */
import type { Worker } from 'node:worker_threads';
import { locateBuiltWorker, superviseWorker } from '../../core/worker-file.js';
import type { WindowPageRow } from '../store.js';
import { decodePage, nextParams, pageKey, type EncodedPage, type PageParams } from './window-pages.js';

/**
 * To the worker: read a rebuild's pages from `params` on, page after page, while it has credit
 * (pages it may send before the main thread takes them); more credit; stop.
 */
export type ToPageWorker =
  | { type: 'scan'; stream: number; params: PageParams; credit: number; fault?: 'throw' }
  | { type: 'credit'; stream: number; n: number }
  | { type: 'cancel'; stream: number };

/** From the worker: the stream's next page, or why it could not be read (the stream ends). */
export type FromPageWorker = { stream: number; page: EncodedPage } | { stream: number; error: string };

const MAX_FAILURES = 3;
const IDLE_MS = 10_000;
/** Pages read ahead at most (about 8 × 440 rows of 70 features: 2 MB). */
const AHEAD = 8;

/** The built worker script (beside this module in dist/, else dist/src/store/sqlite/ when running from sources). */
export const locatePageWorker = (): string | null => locateBuiltWorker(import.meta.url, 'page-reader-worker.js');

/** A stream of pages the worker reads ahead of the rebuild. */
interface Stream {
  id: number;
  /** the query (pageKey) of the next page the rebuild will ask for */
  nextKey: string;
  /** pages read, not taken yet, in order */
  pages: EncodedPage[];
  /** the rebuild waits for the next page */
  waiting: { resolve: (page: EncodedPage) => void; reject: (e: Error) => void } | null;
  /** why the stream ended before its last page (the worker failed, or could not read) */
  error: Error | null;
}

export class PageReader {
  private worker: Worker | null = null;
  private stream: Stream | null = null;
  private nextStream = 1;
  private failuresInARow = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Pages read by the worker (of them, read ahead) and on the main thread; workers started. */
  readonly counts = { worker: 0, ahead: 0, inline: 0, started: 0 };
  /** Test only: the next this many streams make their worker throw (uncaught). */
  faultStreams = 0;

  /**
   * @param path the store's file
   * @param file the worker script (null: every page is read on the main thread)
   * @param inline reads a page on the main thread
   */
  constructor(
    private readonly path: string,
    private readonly file: string | null,
    private readonly inline: (p: PageParams) => EncodedPage,
  ) {}

  async page(p: PageParams): Promise<WindowPageRow[]> {
    const key = pageKey(p);
    let s = this.stream;
    const continued = s !== null && s.nextKey === key;
    if (!continued) {
      this.endStream(); // another query: the pages read ahead are not its
      s = this.startStream(p, key);
    }
    let page: EncodedPage | undefined;
    if (s !== null) {
      try {
        page = await this.take(s);
        this.counts.worker++;
        if (continued) this.counts.ahead++;
      } catch {
        // the worker failed or could not read it: read it here (an error of the store itself is thrown there)
        if (this.stream === s) this.endStream();
      }
    }
    if (page === undefined) {
      page = this.inline(p);
      this.counts.inline++;
    } else if (this.stream === s && s !== null) {
      if (page.n < p.limit) this.endStream(); // the last page
      else {
        s.nextKey = pageKey(nextParams(p, page));
        this.post({ type: 'credit', stream: s.id, n: 1 });
      }
    }
    return decodePage(page);
  }

  private take(s: Stream): Promise<EncodedPage> {
    const page = s.pages.shift();
    if (page !== undefined) return Promise.resolve(page);
    if (s.error !== null) return Promise.reject(s.error);
    return new Promise<EncodedPage>((resolve, reject) => {
      s.waiting = { resolve, reject };
    });
  }

  /** A new stream from `p` (its first page is p's, of key `key`); null when there is no worker. */
  private startStream(p: PageParams, key: string): Stream | null {
    const w = this.ensureWorker();
    if (w === null) return null;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    w.ref();
    const s: Stream = { id: this.nextStream++, nextKey: key, pages: [], waiting: null, error: null };
    this.stream = s;
    this.post({ type: 'scan', stream: s.id, params: p, credit: AHEAD + 1, ...(this.faultStreams > 0 ? { fault: 'throw' as const } : {}) });
    if (this.faultStreams > 0) this.faultStreams--;
    return s;
  }

  private endStream(): void {
    const s = this.stream;
    if (s === null) return;
    this.stream = null;
    s.waiting?.reject(new Error('the page stream ended'));
    s.waiting = null;
    const w = this.worker;
    if (w !== null) {
      this.post({ type: 'cancel', stream: s.id });
      this.idle(w);
    }
  }

  private post(m: ToPageWorker): void {
    this.worker?.postMessage(m);
  }

  private received(m: FromPageWorker): void {
    const s = this.stream;
    if (s === null || s.id !== m.stream) return; // a stream ended meanwhile
    if ('error' in m) {
      s.error = new Error(m.error);
      s.waiting?.reject(s.error);
      s.waiting = null;
      return;
    }
    this.failuresInARow = 0;
    if (s.waiting !== null) {
      const { resolve } = s.waiting;
      s.waiting = null;
      resolve(m.page);
    } else s.pages.push(m.page);
  }

  private ensureWorker(): Worker | null {
    if (this.closed || this.file === null || this.failuresInARow >= MAX_FAILURES) return null;
    if (this.worker !== null) return this.worker;
    let w: Worker;
    try {
      w = superviseWorker<FromPageWorker>(
        this.file,
        { workerData: { path: this.path } },
        'the page reader',
        (m) => this.received(m),
        (e, worker) => this.failed(worker, e),
      );
    } catch {
      this.failuresInARow++;
      return null;
    }
    this.counts.started++;
    this.worker = w;
    return w;
  }

  /** No stream: the worker does not keep the process alive, and ends after IDLE_MS. */
  private idle(w: Worker): void {
    w.unref();
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker !== w || this.stream !== null) return;
      this.worker = null;
      this.idleTimer = null;
      void w.terminate();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private failed(w: Worker, e: Error): void {
    if (this.worker !== w) return; // ended on purpose (idle, close)
    this.worker = null;
    this.failuresInARow++;
    const s = this.stream;
    if (s !== null) {
      s.error = e;
      s.waiting?.reject(e);
      s.waiting = null;
    }
  }

  /** Ends the worker (pages asked for meanwhile are read on the main thread). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const w = this.worker;
    this.worker = null;
    const s = this.stream;
    this.stream = null;
    s?.waiting?.reject(new Error('the page reader is closed'));
    if (w !== null) await w.terminate();
  }
}
