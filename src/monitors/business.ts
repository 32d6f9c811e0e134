import { byVersion, labelled, type Emit, type WindowView } from './view.js';

/**
 * Business value of the labelled predictions from configured values per outcome: binary
 * `tp/fp/tn/fn`; multiclass `correct/incorrect`; regression `per_prediction + per_unit_error × |error|`.
 * ROI = (value − cost) / cost with cost = `cost_per_prediction` × every prediction of the version
 * in the window, labelled or not (serving is paid whether or not a label arrives); absent when 0.
 */
export function businessMonitor(v: WindowView, emit: Emit): void {
  const b = v.model.business;
  if (b === undefined) return;
  for (const [version, rows] of byVersion(v)) {
    const lab = labelled(v, rows);
    if (lab.length < v.model.min_samples) continue;
    let value = 0;
    for (const i of lab) {
      const y = v.w.label[i] as number;
      const p = v.w.pred[i] as number;
      if (v.model.task === 'binary') {
        const pos = v.w.positiveCode;
        value += p === pos ? (y === pos ? b.tp : b.fp) : y === pos ? b.fn : b.tn;
      } else if (v.model.task === 'multiclass') value += p === y ? b.correct : b.incorrect;
      else value += b.per_prediction + b.per_unit_error * Math.abs(p - y);
    }
    const base = { model: v.model.name, version, window: v.window };
    emit('ml_business_value', base, value);
    const cost = b.cost_per_prediction * rows.length;
    if (cost > 0) emit('ml_roi_ratio', base, (value - cost) / cost);
  }
}
