import { CODE_MISSING, rangeCodes } from '../stats/coded.js';
import type { Emit, WindowView } from './view.js';

/**
 * Data quality per feature and window: completeness (share of rows with a value), share of rows
 * in categories the baseline never saw, share of numeric values outside the baseline's range.
 */
export function dataQualityMonitor(v: WindowView, emit: Emit): void {
  const n = v.rows.length;
  if (n === 0) return;
  for (const [name, col] of v.w.features) {
    const labels = { model: v.model.name, feature: name, window: v.window };
    const ref = v.baseline?.features.get(name);
    let present = 0;
    let outside = 0;
    if (col.kind === 'numeric') {
      // codes against the baseline (stats/coded.ts): below the minimum when < below, above the
      // maximum when >= above; ±Infinity count as out of range, missing values as absent
      const coded = v.w.codedFor(col, v.baseline?.record.id);
      if (coded === undefined) throw new Error(`window of ${v.model.name} is not coded against baseline ${String(v.baseline?.record.id)}`);
      const codes = coded.codes;
      const range = ref?.kind === 'numeric' ? rangeCodes(ref) : { below: -1, above: Infinity };
      const { below, above } = range;
      for (const i of v.rows) {
        const c = codes[i] as number;
        if (c === CODE_MISSING) continue;
        present++;
        if (c < below || c >= above) outside++;
      }
      if (ref?.kind === 'numeric' && present > 0) emit('ml_feature_out_of_range_ratio', labels, outside / present);
    } else {
      const known = ref?.kind === 'categorical' ? col.dict.values.map((c) => Object.hasOwn(ref.counts, c)) : undefined;
      for (const i of v.rows) {
        const c = col.codes[i] as number;
        if (c < 0) continue;
        present++;
        if (known !== undefined && !known[c]) outside++;
      }
      if (known !== undefined && present > 0) emit('ml_feature_new_category_ratio', labels, outside / present);
    }
    emit('ml_feature_completeness_ratio', labels, present / n);
  }
}

/** Freshness: seconds since the last prediction, label, and value of each feature (not per window). */
export function freshnessMonitor(model: string, w: WindowView['w'], now: number, emit: Emit): void {
  if (w.lastPredictionTs !== null) emit('ml_prediction_freshness_seconds', { model }, Math.max(0, (now - w.lastPredictionTs) / 1000));
  if (w.lastLabelTs !== null) emit('ml_label_freshness_seconds', { model }, Math.max(0, (now - w.lastLabelTs) / 1000));
  for (const [feature, ts] of w.featureLastTs) emit('ml_feature_freshness_seconds', { model, feature }, Math.max(0, (now - ts) / 1000));
}
