import { adjustComparisonsBy, compareMeans, compareProportions, type Comparison } from '../stats/abtest.js';
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
 * The window's comparisons (every metric of every variant) are one family: their p-values are
 * corrected together (`experiment.correction`, default Benjamini–Hochberg) and `significant` is
 * the corrected p-value at `alpha`; the raw p-values are exported beside the corrected ones.
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
  const correction = exp?.correction ?? 'bh';
  // every comparison of this window first: they are one family for the correction
  const family: { variant: string; metric: string; cmp: Comparison }[] = [];
  const publish = (variant: string, metric: string, cmp: Comparison): void => void family.push({ variant, metric, cmp });
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
  const adjusted = correction === 'none' || family.length === 0 ? null : adjustComparisonsBy(family.map((f) => f.cmp), correction, alpha);
  family.forEach(({ variant, metric, cmp }, k) => {
    const labels = { model: v.model.name, window: v.window, metric, control: control.version, variant };
    const adj = adjusted?.[k];
    if (cmp.pValue.defined) emit('ml_ab_test_p_value', labels, cmp.pValue.value);
    const p = adj === undefined ? cmp.pValue : adj.adjustedPValue;
    if (p.defined) emit('ml_ab_test_p_value_adjusted', labels, p.value);
    if (cmp.lift.defined) emit('ml_ab_test_lift_ratio', labels, cmp.lift.value);
    emit('ml_ab_test_significant', labels, (adj === undefined ? cmp.significant : adj.significantAdjusted) ? 1 : 0);
    if (cmp.samplesStillNeededPerGroup.defined) emit('ml_ab_test_samples_needed', labels, cmp.samplesStillNeededPerGroup.value);
  });
}
