/**
 * The cycle's computation in worker threads: each model's monitors over all its windows (drift,
 * quality, data quality, estimates, …: compute.ts) run in one of `size` workers, the models spread
 * over them, while the main thread ingests, serves and evaluates rules. A worker reads the model's
 * window where it lives — its columns are SharedArrayBuffers (window.ts, columns.ts): a job sends
 * their handles, not their values — and the model's baselines, sent once per worker and cached by
 * id (their reference values are shared memory too). It answers the samples the main thread would
 * have computed, in the same order (the same function), and the monitors that failed.
 *
 * A failed or crashed worker costs only time: its jobs are answered null and the engine computes
 * them on the main thread (in slices), the failure is logged, and a new worker starts at the next
 * job; after MAX_FAILURES in a row no worker is started again. Idle workers do not keep the
 * process alive.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { ModelConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { locateBuiltWorker, PoolWorkers } from '../core/worker-file.js';
import type { Sample } from '../metrics/snapshot.js';
import type { LoadedBaseline } from './baseline.js';
import type { SegmentPlan } from './segments.js';
import type { WindowWire } from './window.js';

/**
 * A loaded baseline is known to the workers by a key of its own, not its stored id: the same
 * stored baseline loaded again (another drift.reference_points) has other summaries.
 */
export type ToCompute =
  | { type: 'baseline'; key: number; baseline: LoadedBaseline }
  /** Drop the cached baselines not among these keys (replaced, reloaded or removed ones). */
  | { type: 'retain'; keys: number[] }
  | {
      type: 'job';
      job: number;
      model: ModelConfig;
      now: number;
      /** the window durations, in the model's order */
      windows: readonly number[];
      wire: WindowWire;
      /** the model's usable baselines' keys, newest first (baselineFor: a version's own, else the first) */
      baselines: number[];
      /** the key of the baseline drift is measured against (the current version's), if any */
      baseline: number | null;
      /** the model's segment plan this cycle (segments.ts), or null */
      segments: SegmentPlan | null;
      /** test only: make the worker fail on this job */
      fault?: 'throw' | 'exit';
    };

export interface ComputeFailure {
  monitor: string;
  message: string;
  stack?: string;
}

export type FromCompute = { job: number; samples: Sample[]; failures: ComputeFailure[] } | { job: number; error: string };

/** A model's samples from a worker, and the monitors that failed there. */
export interface ComputeResult {
  samples: Sample[];
  failures: ComputeFailure[];
}

const MAX_FAILURES = 3;

/** The default number of compute workers: one per core but the main thread's, at least one. */
export const defaultComputeWorkers = (): number => Math.max(1, availableParallelism() - 1);

/** The built worker script (beside this module in dist/, else dist/src/monitors/ when running from sources). */
export const locateComputeWorker = (): string | null => locateBuiltWorker(import.meta.url, 'compute-worker.js');

interface Slot {
  worker: Worker;
  /** keys of the baselines this worker holds */
  sent: Set<number>;
  /** jobs sent, not answered */
  pending: Map<number, (r: ComputeResult | null) => void>;
}

export interface ComputePoolOptions {
  /** Worker threads (default defaultComputeWorkers()). */
  size?: number;
  /** The worker script (default: compute-worker.js, built); null: none (every job answered null). */
  workerFile?: string | null;
}

export class ComputePool {
  readonly size: number;
  private readonly workers: PoolWorkers;
  private readonly slots: (Slot | null)[];
  private nextJob = 1;
  private failuresInARow = 0;
  private closed = false;
  private readonly keys = new WeakMap<LoadedBaseline, number>();
  private nextKey = 1;
  /** Jobs answered by a worker; workers started; jobs handed back to the main thread. */
  readonly counts = { jobs: 0, started: 0, handedBack: 0 };
  /** Test only: the next job makes its worker throw (uncaught) or exit. */
  faultNext: 'throw' | 'exit' | undefined;

  constructor(
    private readonly log: Logger,
    opts: ComputePoolOptions = {},
  ) {
    this.size = Math.max(1, opts.size ?? defaultComputeWorkers());
    this.workers = new PoolWorkers(opts.workerFile === undefined ? locateComputeWorker() : opts.workerFile, 'compute worker', 'cycles are computed on the main thread', log);
    this.slots = new Array<Slot | null>(this.size).fill(null);
  }

  /** Whether jobs can go to workers (not closed, not disabled by failures, a script). */
  get usable(): boolean {
    return !this.closed && this.workers.file !== null && this.failuresInARow < MAX_FAILURES;
  }

  /** Workers running. */
  get running(): number {
    return this.slots.filter((s) => s !== null).length;
  }

  /**
   * Computes a model's windows in a worker: resolves with its samples, or null when no worker can
   * take it or the worker failed (the caller computes it on the main thread then). Never rejects.
   */
  run(job: { model: ModelConfig; now: number; wire: WindowWire; baselines: readonly LoadedBaseline[]; baseline: LoadedBaseline | undefined; segments?: SegmentPlan | null }): Promise<ComputeResult | null> {
    if (!this.usable) return Promise.resolve(null);
    const slot = this.pick();
    if (slot === null) return Promise.resolve(null);
    const w = slot.worker;
    try {
      for (const b of job.baselines) this.send(slot, b);
      if (job.baseline !== undefined) this.send(slot, job.baseline);
      const id = this.nextJob++;
      const fault = this.faultNext;
      this.faultNext = undefined;
      const msg: ToCompute = {
        type: 'job',
        job: id,
        model: job.model,
        now: job.now,
        windows: job.model.windows,
        wire: job.wire,
        baselines: job.baselines.map((b) => this.keyOf(b)),
        baseline: job.baseline === undefined ? null : this.keyOf(job.baseline),
        segments: job.segments ?? null,
        ...(fault === undefined ? {} : { fault }),
      };
      const done = new Promise<ComputeResult | null>((resolve) => slot.pending.set(id, resolve));
      if (slot.pending.size === 1) w.ref(); // a job in flight keeps the process alive until answered
      w.postMessage(msg);
      return done;
    } catch (e) {
      this.lost(slot, e);
      return Promise.resolve(null);
    }
  }

  /** Lets the workers drop the baselines not among `live` (at each cycle: the engine's loaded ones). */
  retain(live: Iterable<LoadedBaseline>): void {
    const keys = new Set([...live].map((b) => this.keyOf(b)));
    for (const slot of this.slots) {
      if (slot === null) continue;
      const gone = [...slot.sent].filter((k) => !keys.has(k));
      if (gone.length === 0) continue;
      for (const k of gone) slot.sent.delete(k);
      slot.worker.postMessage({ type: 'retain', keys: [...slot.sent] } satisfies ToCompute);
    }
  }

  private keyOf(b: LoadedBaseline): number {
    let k = this.keys.get(b);
    if (k === undefined) {
      k = this.nextKey++;
      this.keys.set(b, k);
    }
    return k;
  }

  /** Terminates the workers (shutdown); their jobs in flight are answered null. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0, this.slots.length, ...new Array<Slot | null>(this.size).fill(null));
    await Promise.all(
      slots.map(async (s) => {
        if (s === null) return;
        this.settle(s);
        await s.worker.terminate();
      }),
    );
  }

  /** The worker with the fewest jobs in flight (started when there is a free place). */
  private pick(): Slot | null {
    let best: Slot | null = null;
    for (let k = 0; k < this.slots.length; k++) {
      let s = this.slots[k] as Slot | null;
      if (s === null) {
        s = this.spawn(k);
        if (s === null) continue;
      }
      if (best === null || s.pending.size < best.pending.size) best = s;
      if (s.pending.size === 0) break;
    }
    return best;
  }

  private send(slot: Slot, b: LoadedBaseline): void {
    const key = this.keyOf(b);
    if (slot.sent.has(key)) return;
    slot.worker.postMessage({ type: 'baseline', key, baseline: b } satisfies ToCompute);
    slot.sent.add(key);
  }

  private spawn(k: number): Slot | null {
    const w = this.workers.start<FromCompute>(
      (m) => this.answer(slot, m),
      (e) => this.lost(slot, e),
    );
    if (w === null) return null;
    this.counts.started++;
    w.unref();
    const slot: Slot = { worker: w, sent: new Set(), pending: new Map() };
    this.slots[k] = slot;
    return slot;
  }

  private answer(slot: Slot, m: FromCompute): void {
    const resolve = slot.pending.get(m.job);
    if (resolve === undefined) return;
    slot.pending.delete(m.job);
    if (slot.pending.size === 0 && this.slots.includes(slot)) slot.worker.unref();
    this.failuresInARow = 0;
    if ('error' in m) {
      // the job itself failed in the worker (not a monitor: those are in failures): computed here
      this.log.warn({ err: m.error }, 'compute worker failed on a job; the model is computed on the main thread');
      this.counts.handedBack++;
      resolve(null);
      return;
    }
    this.counts.jobs++;
    resolve({ samples: m.samples, failures: m.failures });
  }

  /** The worker failed or exited: its jobs go back to the main thread; a new one starts at the next job. */
  private lost(slot: Slot, e: unknown): void {
    const k = this.slots.indexOf(slot);
    if (k < 0) return; // already handled (an error is followed by an exit), or closed
    this.slots[k] = null;
    if (!this.closed) {
      this.failuresInARow++;
      const disabled = this.failuresInARow >= MAX_FAILURES;
      this.log.error(
        { err: errorMessage(e), failuresInARow: this.failuresInARow, jobs: slot.pending.size },
        disabled ? 'compute worker failed again; cycles are computed on the main thread from now on' : 'compute worker failed; its models are computed on the main thread (a new worker at the next cycle)',
      );
    }
    void slot.worker.terminate().catch(() => undefined);
    this.settle(slot);
  }

  private settle(slot: Slot): void {
    this.counts.handedBack += slot.pending.size;
    for (const resolve of slot.pending.values()) resolve(null);
    slot.pending.clear();
  }
}
