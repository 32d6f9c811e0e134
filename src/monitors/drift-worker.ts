/**
 * The drift worker thread (see drift-pool.ts): computes the numeric drift tests of the features it
 * claims from a counter shared with the main thread, reading the window's code columns from shared
 * memory, against the reference summaries cached per baseline id.
 */
import { parentPort } from 'node:worker_threads';
import type { TestOutcome } from '../stats/drift-decision.js';
import type { NumericReferenceSummary } from '../stats/reference.js';
import { errorMessage } from '../core/errors.js';
import { numericFeatureOutcomes } from './drift.js';
import type { FromWorker, ToWorker, WorkerTask } from './drift-pool.js';

const baselines = new Map<number, Map<string, NumericReferenceSummary>>();
const port = parentPort;

port?.on('message', (m: ToWorker) => {
  if (m.type === 'baseline') {
    baselines.set(m.id, new Map(m.features));
    return;
  }
  if (m.fault === 'throw') throw new Error('injected drift worker fault');
  if (m.fault === 'exit') process.exit(3);
  const results: [number, TestOutcome[]][] = [];
  let error: string | undefined;
  try {
    const refs = baselines.get(m.baseline);
    if (refs === undefined) throw new Error(`baseline ${m.baseline} not sent to the worker`);
    for (let k = Atomics.add(m.counter, 0, 1); k < m.tasks.length; k = Atomics.add(m.counter, 0, 1)) {
      const t = m.tasks[k] as WorkerTask;
      const ref = refs.get(t.name);
      if (ref === undefined) throw new Error(`no reference for feature ${t.name} in baseline ${m.baseline}`);
      results.push([k, numericFeatureOutcomes(t.name, ref, t.codes, t.nCodes, t.raw, m.rows, m.tests, m.ks)]);
    }
  } catch (e) {
    error = errorMessage(e);
  }
  const out: FromWorker = { type: 'done', job: m.job, results, ...(error === undefined ? {} : { error }) };
  port.postMessage(out);
});
