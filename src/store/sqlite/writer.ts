/**
 * The store's hot writes in a writer thread: ingestion's batches of predictions and labels, and
 * retention's deletions, run on the thread's own connection to the store's file, while the main
 * thread parses, validates and answers the next requests (these machines have two cores; SQLite's
 * share of an ingested batch is about half of it). A write's promise settles after its
 * transaction committed, as on the main thread, so an answer still means "stored".
 *
 * Writes run in the order they were sent (one queue), so sequence numbers grow in the order the
 * main thread sees the answers. The main connection keeps the other writes (incidents, baselines,
 * state, …): rare and short; both connections take the write lock at BEGIN (IMMEDIATE) and wait
 * for each other (busy_timeout).
 *
 * A failed thread costs only time: the writes it had not answered run again on the main thread,
 * in order (Writes.rerun: a batch the thread committed before it ended is reported stored, not as
 * duplicates), the failure is logged, and a new thread starts at the next write; after
 * MAX_FAILURES in a row, every write runs on the main thread. The thread does not keep the
 * process alive while idle.
 */
import type { Worker } from 'node:worker_threads';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { locateBuiltWorker, superviseWorker } from '../../core/worker-file.js';
import { sqliteError, type WriteAnswer, type WriteOp, type Writes } from './writes.js';

/** What the writer thread opens its connection with. */
export interface WriterData {
  path: string;
  synchronous: 'normal' | 'full' | undefined;
  cacheMb: number;
  busyTimeoutMs: number;
}

export type ToWriter = { type: 'write'; id: number; op: WriteOp; fault?: 'throw' | 'exit' } | { type: 'close' };
export type FromWriter = { id: number; answer: WriteAnswer<WriteOp> } | { id: number; error: { message: string; code?: string } };

const MAX_FAILURES = 3;

/** The built worker script (beside this module in dist/, else dist/src/store/sqlite/ when running from sources). */
export const locateWriterWorker = (): string | null => locateBuiltWorker(import.meta.url, 'writer-worker.js');

interface Pending {
  id: number;
  op: WriteOp;
  resolve: (answer: WriteAnswer<WriteOp>) => void;
  reject: (e: Error) => void;
}

export class Writer {
  private worker: Worker | null = null;
  private readonly pending: Pending[] = [];
  private nextId = 1;
  private failuresInARow = 0;
  private closed = false;
  private drained: (() => void) | null = null;
  /** Writes answered by the thread, run on the main thread, and run again after a lost thread; threads started. */
  readonly counts = { worker: 0, inline: 0, rerun: 0, started: 0 };
  /** Test only: the next write makes the thread throw (uncaught) or exit. */
  faultNext: 'throw' | 'exit' | undefined;

  /**
   * @param data the store's file and connection settings
   * @param file the worker script (null: every write on the main thread)
   * @param inline the main connection's writes
   */
  constructor(
    private readonly data: WriterData,
    private readonly file: string | null,
    private readonly inline: Writes,
    private readonly log?: Logger,
  ) {}

  /** Whether a writer thread is running. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Writes sent to the thread and not answered yet (0 without a thread). */
  get inFlight(): number {
    return this.pending.length;
  }

  run<O extends WriteOp>(op: O): Promise<WriteAnswer<O>> {
    const w = this.ensureWorker();
    if (w === null) {
      this.counts.inline++;
      return Promise.resolve(this.inline.run(op));
    }
    const id = this.nextId++;
    const fault = this.faultNext;
    this.faultNext = undefined;
    return new Promise<WriteAnswer<O>>((resolve, reject) => {
      this.pending.push({ id, op, resolve: resolve as (a: WriteAnswer<WriteOp>) => void, reject });
      if (this.pending.length === 1) w.ref(); // a write in flight keeps the process alive until answered
      const msg: ToWriter = { type: 'write', id, op, ...(fault === undefined ? {} : { fault }) };
      w.postMessage(msg);
    });
  }

  /** Waits for the writes in flight, then ends the thread (later writes run on the main thread). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending.length > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'close' } satisfies ToWriter);
    const timer = setTimeout(() => void w.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private ensureWorker(): Worker | null {
    if (this.worker !== null) return this.worker;
    if (this.closed || this.file === null || this.failuresInARow >= MAX_FAILURES) return null;
    let w: Worker;
    try {
      w = superviseWorker<FromWriter>(
        this.file,
        { workerData: this.data },
        'the store writer thread',
        (m, worker) => this.answered(worker, m),
        (e, worker) => this.lost(worker, e),
      );
    } catch (e) {
      this.failuresInARow++;
      this.log?.warn({ err: errorMessage(e) }, 'the store writer thread cannot start; writing on the main thread');
      return null;
    }
    this.counts.started++;
    w.unref();
    this.worker = w;
    return w;
  }

  private answered(w: Worker, m: FromWriter): void {
    const p = this.pending[0];
    if (p === undefined || p.id !== m.id) return; // cannot happen: answers come in order
    this.pending.shift();
    this.counts.worker++;
    this.failuresInARow = 0;
    if ('error' in m) p.reject(sqliteError(m.error.message, m.error.code));
    else p.resolve(m.answer);
    this.settled(w);
  }

  private settled(w: Worker | null): void {
    if (this.pending.length > 0) return;
    w?.unref();
    this.drained?.();
    this.drained = null;
  }

  /** The thread failed or ended: what it had not answered runs again here, in order. */
  private lost(w: Worker, e: Error): void {
    if (this.worker !== w) return; // already handled (an error is followed by an exit), or closed
    this.worker = null;
    this.failuresInARow++;
    const disabled = this.failuresInARow >= MAX_FAILURES;
    this.log?.error(
      { err: errorMessage(e), failuresInARow: this.failuresInARow, inFlight: this.pending.length },
      disabled ? 'the store writer thread failed again; writing on the main thread from now on' : 'the store writer thread failed; its writes run on the main thread (a new thread at the next write)',
    );
    void w.terminate().catch(() => undefined);
    const pending = this.pending.splice(0);
    for (const p of pending) {
      this.counts.rerun++;
      try {
        p.resolve(this.inline.rerun(p.op));
      } catch (err) {
        p.reject(err as Error);
      }
    }
    this.settled(null);
  }
}
