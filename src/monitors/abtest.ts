import { compareMeans, compareProportions, type Comparison } from '../stats/abtest.js';
import { byVersion, gather, labelled, type Emit, type WindowView } from './view.js';

/** Rows of a group, as counts of successes over trials for a rate-type metric. */
interface Rate {
  successes: number;
  trials: number;
}

/**
 * The rate-type quality metrics of a classifier group: accuracy (correct / labelled) and, for
 * binary models, precision (TP / predicted positive) and recall (TP / actual positive).
 */
function rates(v: WindowView, lab: Int32Array): Record<string, Rate> {
  let correct = 0;
  let tp = 0;
  let predPos = 0;
  let actualPos = 0;
  const pos = v.w.positiveCode;
  for (const i of lab) {
    const p = v.w.pred[i] as number;
    const y = v.w.label[i] as number;
    if (p === y) correct++;
    if (v.model.task === 'binary') {
      if (p === pos) predPos++;
      if (y === pos) actualPos++;
      if (p === pos && y === pos) tp++;
    }
  }
  const out: Record<string, Rate> = { accuracy: { successes: correct, trials: lab.length } };
  if (v.model.task === 'binary') {
    out.precision = { successes: tp, trials: predPos };
    out.recall = { successes: tp, trials: actualPos };
  }
  return out;
}

/** Per-row errors of a regression group: absolute (MAE) and squared (MSE). */
function errors(v: WindowView, lab: Int32Array): Record<string, Float64Array> {
  const y = gather(v, v.w.label, lab);
  const p = gather(v, v.w.pred, lab);
  return { mae: y.map((t, k) => Math.abs(t - (p[k] as number))), mse: y.map((t, k) => (t - (p[k] as number)) ** 2) };
}

/**
 * A/B comparison between model versions serving at once: the control (configured
 * `experiment.control`, else the version with the most predictions in the window) against each
 * other version (or the configured `experiment.variants`). Classifiers compare accuracy (and, for
 * binary models, precision and recall) with the pooled two-proportion z-test; regression compares
 * absolute and squared errors with Welch's t-test (there a negative lift is an improvement). Each
 * side needs `min_samples` labelled rows; a rate whose trials are empty on either side is skipped.
 */
export function abTestMonitor(v: WindowView, emit: Emit): void {
  const groups = byVersion(v);
  const exp = v.model.experiment;
  if (groups.size < 2 && exp === undefined) return;
  const candidates = [...groups.entries()].map(([version, rows]) => ({ version, rows, lab: labelled(v, rows) }));
  const control = exp?.control !== undefined ? candidates.find((c) => c.version === exp.control) : [...candidates].sort((a, b) => b.rows.length - a.rows.length)[0];
  if (control === undefined || control.lab.length < v.model.min_samples) return;
  const variants = candidates.filter((c) => c !== control && (exp?.variants === undefined || exp.variants.includes(c.version)));
  const alpha = exp?.alpha ?? 0.05;
  const publish = (variant: string, metric: string, cmp: Comparison): void => {
    const labels = { model: v.model.name, window: v.window, metric, control: control.version, variant };
    if (cmp.pValue.defined) emit('ml_ab_test_p_value', labels, cmp.pValue.value);
    if (cmp.lift.defined) emit('ml_ab_test_lift_ratio', labels, cmp.lift.value);
    emit('ml_ab_test_significant', labels, cmp.significant ? 1 : 0);
    if (cmp.samplesStillNeededPerGroup.defined) emit('ml_ab_test_samples_needed', labels, cmp.samplesStillNeededPerGroup.value);
  };
  for (const variant of variants) {
    if (variant.lab.length < v.model.min_samples) continue;
    if (v.model.task === 'regression') {
      const a = errors(v, control.lab);
      const b = errors(v, variant.lab);
      for (const metric of ['mae', 'mse'] as const) publish(variant.version, metric, compareMeans({ a: a[metric] as Float64Array, b: b[metric] as Float64Array, alpha }));
    } else {
      const a = rates(v, control.lab);
      const b = rates(v, variant.lab);
      for (const [metric, ra] of Object.entries(a)) {
        const rb = b[metric] as Rate;
        if (ra.trials === 0 || rb.trials === 0) continue;
        publish(variant.version, metric, compareProportions({ successesA: ra.successes, nA: ra.trials, successesB: rb.successes, nB: rb.trials, alpha }));
      }
    }
  }
}
