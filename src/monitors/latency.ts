import { byVersion, type Emit, type WindowView } from './view.js';

export const LATENCY_QUANTILES = [
  [0.5, 'ml_prediction_latency_p50_seconds'],
  [0.95, 'ml_prediction_latency_p95_seconds'],
  [0.99, 'ml_prediction_latency_p99_seconds'],
] as const;

/** Linear-interpolation quantile of sorted values (numpy's default). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Latency quantiles (from `latency_ms`) and the serving error ratio, per version and window. */
export function latencyMonitor(v: WindowView, emit: Emit): void {
  for (const [version, rows] of byVersion(v)) {
    if (rows.length < v.model.min_samples) continue;
    const base = { model: v.model.name, version, window: v.window };
    let errors = 0;
    let m = 0;
    const lat = v.scratch.f64(rows.length);
    for (const i of rows) {
      errors += v.w.error[i] as number;
      const l = v.w.latency[i] as number;
      if (!Number.isNaN(l)) lat[m++] = l / 1000;
    }
    emit('ml_prediction_error_ratio', base, errors / rows.length);
    if (m < v.model.min_samples) continue;
    const sorted = lat.subarray(0, m).sort();
    for (const [q, family] of LATENCY_QUANTILES) emit(family, base, quantileSorted(sorted, q));
  }
}
