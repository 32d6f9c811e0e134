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
import { segmentViews, type SegmentPlan } from './segments.js';
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

/** The monitors run again per segment (models[].segments), in MONITORS order. */
export const SEGMENT_MONITORS: readonly string[] = ['performance', 'drift', 'data_quality', 'latency'];
const SEGMENTED = MONITORS.filter(([name]) => SEGMENT_MONITORS.includes(name));

/**
 * Every monitor of one model and window, their samples in MONITORS order; then, with a segment
 * plan, SEGMENT_MONITORS on each segment's rows, their samples labelled `segment` (segments.ts).
 * Drift starts first (its numeric features may go to `offload` as well), the other monitors run
 * meanwhile, then drift finishes. `tick` is awaited between monitors and between the steps of one
 * (it may yield to the event loop); a monitor that throws is reported to `failed` and the others
 * go on.
 */
export async function computeWindowSamples(
  view: WindowView,
  offload: NumericOffload | null,
  tick: () => Promise<void>,
  failed: (monitor: string, e: unknown) => void,
  plan: SegmentPlan | null = null,
): Promise<Sample[]> {
  const out = await runMonitors(view, MONITORS, offload, tick, failed, (name, labels, value) => ({ name, labels, value }));
  if (plan === null) return out;
  for (const { segment, view: sv } of segmentViews(view, plan)) {
    await tick();
    const samples = await runMonitors(sv, SEGMENTED, offload, tick, failed, (name, labels, value) => ({ name, labels: { ...labels, segment }, value }));
    for (const x of samples) out.push(x);
  }
  return out;
}

async function runMonitors(
  view: WindowView,
  monitors: readonly (readonly [string, Monitor])[],
  offload: NumericOffload | null,
  tick: () => Promise<void>,
  failed: (monitor: string, e: unknown) => void,
  sample: (name: string, labels: Record<string, string>, value: number) => Sample,
): Promise<Sample[]> {
  const outs: Sample[][] = monitors.map(() => []);
  const into =
    (buf: Sample[]): Emit =>
    (name, labels, value) =>
      buf.push(sample(name, labels, value));
  let drift: DriftRun | null = null;
  const di = monitors.findIndex(([name]) => name === 'drift');
  if (di >= 0) {
    try {
      drift = startDrift(view, offload);
    } catch (e) {
      failed('drift', e);
    }
  }
  // Between monitors the cycle may yield: ingestion appends rows after the view's (it does not
  // see them), and the labels that arrive wait for the end of the model's cycle (engine.labels()).
  for (let i = 0; i < monitors.length; i++) {
    if (i === di) continue;
    const [name, monitor] = monitors[i] as (typeof monitors)[number];
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
