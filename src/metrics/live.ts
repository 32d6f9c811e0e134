import type { MetricsRegistry } from './registry.js';
import type { Sample } from './snapshot.js';

/**
 * The live metrics (counters, gauges, histograms updated as events happen) as samples, so the rule
 * engine sees everything `/metrics` shows: snapshot families and live ones alike.
 */
export async function liveSamples(reg: MetricsRegistry, skip: ReadonlySet<string>): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const m of await reg.text.getMetricsAsJSON()) {
    if (skip.has(m.name)) continue;
    for (const v of m.values) {
      const labels: Record<string, string> = {};
      for (const [k, x] of Object.entries(v.labels)) if (x !== undefined) labels[k] = k === 'le' && x === Infinity ? '+Inf' : String(x);
      out.push({ name: (v as { metricName?: string }).metricName ?? m.name, labels, value: v.value });
    }
  }
  return out;
}
