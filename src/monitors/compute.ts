/**
 * One model-window's monitors, as the main thread and the compute workers (compute-pool.ts) run
 * them: the same function wherever it runs, so the samples are the same.
 */
import type { Sample } from '../metrics/snapshot.js';
import { abTestMonitor } from './abtest.js';
import { businessMonitor } from './business.js';
import { dataQualityMonitor } from './data-quality.js';
import { driftMonitor, startDrift, type DriftRun, type NumericOffload } from './drift.js';
import { estimateMonitor } from './estimate.js';
import { latencyMonitor } from './latency.js';
import { performanceMonitor } from './performance.js';
import type { Emit, WindowView } from './view.js';

/** A monitor computes at once, or in steps (a generator): the cycle may yield between them. */
export type Monitor = (v: WindowView, emit: Emit) => void | Generator<void, void, void>;

/** The per-window monitors, in order. Each is a fault boundary per model and window. */
export const MONITORS: readonly (readonly [string, Monitor])[] = [
  ['performance', performanceMonitor],
  ['drift', driftMonitor],
  ['data_quality', dataQualityMonitor],
  ['latency', latencyMonitor],
  ['business', businessMonitor],
  ['abtest', abTestMonitor],
  ['estimate', estimateMonitor],
];

/**
 * Every monitor of one model and window, their samples in MONITORS order. Drift starts first (its
 * numeric features may go to `offload` as well), the other monitors run meanwhile, then drift
 * finishes. `tick` is awaited between monitors and between the steps of one (it may yield to the
 * event loop); a monitor that throws is reported to `failed` and the others go on.
 */
export async function computeWindowSamples(view: WindowView, offload: NumericOffload | null, tick: () => Promise<void>, failed: (monitor: string, e: unknown) => void): Promise<Sample[]> {
  const outs: Sample[][] = MONITORS.map(() => []);
  const into =
    (buf: Sample[]): Emit =>
    (name, labels, value) =>
      buf.push({ name, labels, value });
  let drift: DriftRun | null = null;
  const di = MONITORS.findIndex(([name]) => name === 'drift');
  try {
    drift = startDrift(view, offload);
  } catch (e) {
    failed('drift', e);
  }
  // Between monitors the cycle may yield: ingestion appends rows after the view's (it does not
  // see them), and the labels that arrive wait for the end of the model's cycle (engine.labels()).
  for (let i = 0; i < MONITORS.length; i++) {
    if (i === di) continue;
    const [name, monitor] = MONITORS[i] as (typeof MONITORS)[number];
    await tick();
    try {
      const steps = monitor(view, into(outs[i] as Sample[]));
      if (steps !== undefined) for (let s = steps.next(); s.done !== true; s = steps.next()) await tick();
    } catch (e) {
      failed(name, e);
    }
  }
  if (drift !== null) {
    try {
      await drift.finish(into(outs[di] as Sample[]), tick);
    } catch (e) {
      failed('drift', e);
    }
  }
  return outs.flat();
}
