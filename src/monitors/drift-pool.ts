import type { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import { locateBuiltWorker, PoolWorkers } from '../core/worker-file.js';
import type { Logger } from '../core/logger.js';
import type { DriftTest, TestOutcome } from '../stats/drift-decision.js';
import type { KsOptions } from '../stats/ks.js';
import type { NumericReferenceSummary } from '../stats/reference.js';
import type { LoadedBaseline } from './baseline.js';
import type { NumericOffload, NumericTask, OffloadedJob } from './drift.js';
import type { WindowView } from './view.js';

/** Messages to the drift worker. */
export type ToWorker =
  | { type: 'baseline'; id: number; features: [string, NumericReferenceSummary][] }
  | {
      type: 'job';
      job: number;
      baseline: number;
      /** features: their codes against the baseline and raw values if kept (on SharedArrayBuffers) */
      tasks: WorkerTask[];
      /** the window's row indexes (on a SharedArrayBuffer) */
      rows: Int32Array;
      /** [0]: the next task index to claim (Atomics.add), shared with the main thread */
      counter: Int32Array;
      tests: readonly DriftTest[];
      /** the model's KS options (drift.ks_method) */
      ks: KsOptions;
      /** test only: make the worker fail on this job */
      fault?: 'throw' | 'exit';
    };

/** A feature as the worker gets it (stats/coded.ts). */
export interface WorkerTask {
  name: string;
  codes: Uint16Array | Uint32Array;
  nCodes: number;
  raw: Float32Array | null;
}

/** Messages from the drift worker: the outcomes of the tasks it claimed (all, or those done before an error). */
export type FromWorker = { type: 'done'; job: number; results: [number, TestOutcome[]][]; error?: string };

export interface DriftPoolOptions {
  /** The worker script; default: drift-worker.js beside this file, else (running from sources) the built one in dist/. null: no worker. */
  workerFile?: string | URL | null;
  /** Minimum numeric features × rows of a window for the worker to take part (default 160,000: 8 features × 20k rows); only windows whose features need their raw values sorted (JS distance, Wasserstein) are offloaded. */
  minWork?: number;
}

export const DEFAULT_MIN_WORK = 160_000;
const MAX_FAILURES = 3;

/** The built worker script: beside this module (dist/), else dist/src/monitors/ of the package (tests run from src/). */
export const locateDriftWorker = (): string | null => locateBuiltWorker(import.meta.url, 'drift-worker.js');

interface Pending {
  resolve: (r: ReadonlyMap<number, TestOutcome[]>) => void;
}

const isShared = (a: ArrayBufferView): boolean => typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;

/**
 * One worker thread computing numeric drift tests beside the main thread (this machine class has
 * two cores), for windows whose features need their raw values sorted (JS distance, Wasserstein;
 * KS and PSI come from the codes, a counting pass the main thread does faster than a message). It
 * reads the window's columns from their SharedArrayBuffers, caches each baseline's numeric reference
 * summaries (sent once per baseline id; their sorted values are decoded onto shared memory, so
 * nothing is duplicated), and claims features from a shared counter, as the main thread does. A failed or crashed worker costs nothing but time: its unfinished features are computed on
 * the main thread, the failure is logged once, and a new worker is started at the next use. The
 * worker never keeps the process alive (unref'd while idle); `close()` terminates it.
 */
export class DriftPool implements NumericOffload {
  private worker: Worker | null = null;
  /** Baseline ids whose summaries the current worker holds. */
  private sent = new Set<number>();
  private readonly pending = new Map<number, Pending>();
  private nextJob = 1;
  private closed = false;
  private readonly workers: PoolWorkers;
  private readonly minWork: number;
  private warnedJobError = false;
  /** Worker failures since the last answered job: after MAX_FAILURES in a row, no more workers. */
  private failuresInARow = 0;
  /** Test only: the next job makes the worker throw (uncaught) or exit. */
  faultNext: 'throw' | 'exit' | undefined;
  /** Workers started so far, and features computed by them (observability, tests). */
  started = 0;
  offloaded = 0;

  constructor(
    private readonly log: Logger,
    opts: DriftPoolOptions = {},
  ) {
    this.workers = new PoolWorkers(opts.workerFile === undefined ? locateDriftWorker() : opts.workerFile, 'drift worker', 'drift is computed on the main thread', log);
    this.minWork = opts.minWork ?? DEFAULT_MIN_WORK;
  }

  /** Whether a worker thread is running. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Whether close() was called (no more workers). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The worker thread, if running. */
  get thread(): Worker | null {
    return this.worker;
  }

  start(job: { v: WindowView; tasks: readonly NumericTask[]; tests: readonly DriftTest[]; ks: KsOptions }): OffloadedJob | null {
    const { v, tasks, tests, ks } = job;
    const b = v.baseline;
    if (this.closed || this.failuresInARow >= MAX_FAILURES || b === undefined || tasks.length < 2 || tasks.length * v.rows.length < this.minWork) return null;
    // Features tested from their codes alone cost one counting pass over the rows (stats/coded.ts):
    // cheaper on the main thread than a message. The worker helps where values are sorted (raw).
    if (!tasks.some((t) => t.raw !== null)) return null;
    if (!tasks.every((t) => isShared(t.codes) && (t.raw === null || isShared(t.raw)))) return null;
    const w = this.worker ?? this.spawn();
    if (w === null) return null;
    try {
      this.share(w, b);
      const rows = new Int32Array(new SharedArrayBuffer(v.rows.length * Int32Array.BYTES_PER_ELEMENT));
      rows.set(v.rows);
      const counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
      const id = this.nextJob++;
      const done = new Promise<ReadonlyMap<number, TestOutcome[]>>((resolve) => {
        this.pending.set(id, { resolve });
      });
      if (this.pending.size === 1) w.ref(); // a job in flight keeps the process alive until it is answered
      const fault = this.faultNext;
      this.faultNext = undefined;
      const msg: ToWorker = {
        type: 'job',
        job: id,
        baseline: b.record.id,
        tasks: tasks.map((t): WorkerTask => ({ name: t.name, codes: t.codes, nCodes: t.nCodes, raw: t.raw })),
        rows,
        counter,
        tests,
        ks,
        ...(fault === undefined ? {} : { fault }),
      };
      w.postMessage(msg);
      return { claim: () => Atomics.add(counter, 0, 1), done };
    } catch (e) {
      this.lost(w, e);
      return null;
    }
  }

  /** Terminates the worker (shutdown); later jobs run on the main thread. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.settleAll();
    if (w !== null) await w.terminate();
  }

  /** Sends a baseline's numeric summaries once per worker, their sorted values on shared memory. */
  private share(w: Worker, b: LoadedBaseline): void {
    const id = b.record.id;
    if (this.sent.has(id)) return;
    const features: [string, NumericReferenceSummary][] = [];
    for (const [name, ref] of b.features) {
      if (ref.kind !== 'numeric') continue;
      let shared = ref;
      if (!isShared(ref.sorted)) {
        const sorted = new Float64Array(new SharedArrayBuffer(ref.sorted.length * Float64Array.BYTES_PER_ELEMENT));
        sorted.set(ref.sorted);
        shared = { ...ref, sorted };
        b.features.set(name, shared); // same values; the private copy can go
      }
      features.push([name, shared]);
    }
    const msg: ToWorker = { type: 'baseline', id, features };
    w.postMessage(msg);
    this.sent.add(id);
  }

  private spawn(): Worker | null {
    const w = this.workers.start<FromWorker>(
      (m, worker) => this.answer(worker, m),
      (e, worker) => this.lost(worker, e),
    );
    if (w === null) return null;
    this.started++;
    w.unref();
    this.worker = w;
    this.sent = new Set();
    return w;
  }

  private answer(w: Worker, m: FromWorker): void {
    const p = this.pending.get(m.job);
    if (p === undefined) return;
    this.pending.delete(m.job);
    if (this.pending.size === 0 && this.worker === w) w.unref();
    if (m.error !== undefined && !this.warnedJobError) {
      this.warnedJobError = true;
      this.log.warn({ err: m.error }, 'drift worker failed on a job; its features are computed on the main thread');
    }
    this.offloaded += m.results.length;
    this.failuresInARow = 0;
    p.resolve(new Map(m.results));
  }

  /** The worker failed or exited: its jobs are finished on the main thread; a new one starts at the next use. */
  private lost(w: Worker, e: unknown): void {
    if (this.worker !== w) return; // already handled (an error is followed by an exit), or closed
    this.worker = null;
    this.sent = new Set();
    if (!this.closed) {
      this.failuresInARow++;
      const disabled = this.failuresInARow >= MAX_FAILURES;
      this.log.error(
        { err: errorMessage(e), failuresInARow: this.failuresInARow },
        disabled ? 'drift worker failed again; drift is computed on the main thread from now on' : 'drift worker failed; computing drift on the main thread (restarted at the next use)',
      );
    }
    void w.terminate().catch(() => undefined);
    this.settleAll();
  }

  private settleAll(): void {
    for (const p of this.pending.values()) p.resolve(new Map());
    this.pending.clear();
  }
}
