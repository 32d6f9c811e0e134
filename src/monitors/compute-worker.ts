/**
 * A compute worker thread (compute-pool.ts): computes one model's monitors over all its windows
 * from the window's shared columns and the baselines cached here, with the same function as the
 * main thread (compute.ts), and answers the samples.
 */
import { parentPort } from 'node:worker_threads';
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { Sample } from '../metrics/snapshot.js';
import type { LoadedBaseline } from './baseline.js';
import type { ComputeFailure, FromCompute, ToCompute } from './compute-pool.js';
import { computeWindowSamples } from './compute.js';
import { Scratch } from './scratch.js';
import type { WindowView } from './view.js';
import { ModelWindow } from './window.js';

const baselines = new Map<number, LoadedBaseline>();
const port = parentPort;
/** The last job's scratch size: the next one starts with a block that fits (scratch.ts). */
let scratchBytes = 0;
const noTick = (): Promise<void> => Promise.resolve();

async function job(m: Extract<ToCompute, { type: 'job' }>): Promise<FromCompute> {
  const get = (key: number): LoadedBaseline => {
    const b = baselines.get(key);
    if (b === undefined) throw new Error(`baseline (key ${key}) not sent to the worker`);
    return b;
  };
  const list = m.baselines.map(get);
  const baselineFor = (version: string): LoadedBaseline | undefined => list.find((b) => b.record.version === version) ?? list[0];
  const baseline = m.baseline === null ? undefined : get(m.baseline);
  // the window is coded against some of the model's baselines, by stored id
  const w = ModelWindow.fromWire(m.model, m.wire, (id) => list.find((b) => b.record.id === id));
  const samples: Sample[] = [];
  const failures: ComputeFailure[] = [];
  const scratch = new Scratch(scratchBytes);
  try {
    for (const dur of m.windows) {
      const view: WindowView = {
        model: m.model,
        w,
        window: formatDuration(dur),
        rows: w.rows(m.now - dur, m.now, (n) => scratch.i32(n)),
        now: m.now,
        baseline,
        baselineFor,
        scratch,
      };
      try {
        const out = await computeWindowSamples(
          view,
          null,
          noTick,
          (monitor, e) => failures.push({ monitor, message: errorMessage(e), ...(e instanceof Error && e.stack !== undefined ? { stack: e.stack } : {}) }),
          m.segments,
        );
        for (const s of out) samples.push(s);
      } finally {
        scratch.release(); // the window's arrays are not read after its monitors
      }
    }
  } finally {
    scratch.drop();
    scratchBytes = scratch.blockBytes;
  }
  return { job: m.job, samples, failures };
}

port?.on('message', (m: ToCompute) => {
  if (m.type === 'baseline') {
    baselines.set(m.key, m.baseline);
    return;
  }
  if (m.type === 'retain') {
    const keep = new Set(m.keys);
    for (const k of [...baselines.keys()]) if (!keep.has(k)) baselines.delete(k);
    return;
  }
  if (m.fault === 'throw') throw new Error('injected compute worker fault');
  if (m.fault === 'exit') process.exit(3);
  job(m).then(
    (out) => port.postMessage(out),
    (e: unknown) => port.postMessage({ job: m.job, error: errorMessage(e) } satisfies FromCompute),
  );
});
