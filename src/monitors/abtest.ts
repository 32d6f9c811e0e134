import { compareMeans, compareProportions, type Comparison } from '../stats/abtest.js';
import { byVersion, gather, labelled, type Emit, type WindowView } from './view.js';

/**
 * A/B comparison between model versions serving at once: the control (configured
 * `experiment.control`, else the version with the most predictions in the window) against each
 * other version (or the configured `experiment.variants`). Classifiers compare accuracy (pooled
 * two-proportion z-test); regression compares absolute errors (Welch's t-test; a negative lift is
 * an improvement). Each side needs `min_samples` labelled rows.
 */
export function abTestMonitor(v: WindowView, emit: Emit): void {
  const groups = byVersion(v);
  const exp = v.model.experiment;
  const candidates = [...groups.entries()].map(([version, rows]) => ({ version, rows, lab: labelled(v, rows) }));
  if (candidates.length < 2 && exp === undefined) return;
  const control = exp?.control !== undefined ? candidates.find((c) => c.version === exp.control) : [...candidates].sort((a, b) => b.rows.length - a.rows.length)[0];
  if (control === undefined || control.lab.length < v.model.min_samples) return;
  const variants = candidates.filter((c) => c !== control && (exp?.variants === undefined || exp.variants.includes(c.version)));
  for (const variant of variants) {
    if (variant.lab.length < v.model.min_samples) continue;
    let cmp: Comparison;
    let metric: string;
    const alpha = exp?.alpha ?? 0.05;
    if (v.model.task === 'regression') {
      metric = 'mae';
      const abs = (lab: Int32Array) => {
        const y = gather(v.w.label, lab);
        const p = gather(v.w.pred, lab);
        return y.map((t, k) => Math.abs(t - (p[k] as number)));
      };
      cmp = compareMeans({ a: abs(control.lab), b: abs(variant.lab), alpha });
    } else {
      metric = 'accuracy';
      const correct = (lab: Int32Array) => lab.reduce((s, i) => s + (v.w.pred[i] === v.w.label[i] ? 1 : 0), 0);
      cmp = compareProportions({ successesA: correct(control.lab), nA: control.lab.length, successesB: correct(variant.lab), nB: variant.lab.length, alpha });
    }
    const labels = { model: v.model.name, window: v.window, metric, control: control.version, variant: variant.version };
    if (cmp.pValue.defined) emit('ml_ab_test_p_value', labels, cmp.pValue.value);
    if (cmp.lift.defined) emit('ml_ab_test_lift_ratio', labels, cmp.lift.value);
    emit('ml_ab_test_significant', labels, cmp.significant ? 1 : 0);
    if (cmp.samplesStillNeededPerGroup.defined) emit('ml_ab_test_samples_needed', labels, cmp.samplesStillNeededPerGroup.value);
  }
}
