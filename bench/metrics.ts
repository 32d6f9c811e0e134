import Fastify from 'fastify';
import { metricsRoutes } from '../src/http/routes/metrics.js';
import type { ServerDeps } from '../src/http/server.js';
import { MetricsRegistry, createMetrics } from '../src/metrics/registry.js';
import { SnapshotBuilder, registerSnapshotFamilies } from '../src/metrics/snapshot.js';
import { quantile } from './process.js';

/** GET /metrics over real HTTP on 127.0.0.1 with a 10,000-series snapshot (plus the live metrics). */
export async function benchMetrics(print: (line: string) => void): Promise<void> {
  const reg = new MetricsRegistry();
  createMetrics(reg, { version: 'bench' });
  const b = new SnapshotBuilder();
  const tests = ['ks', 'psi'];
  for (let m = 0; m < 8; m++) {
    for (let f = 0; f < 70; f++) {
      for (const test of tests) {
        for (const family of ['ml_feature_drift_score', 'ml_feature_drift_p_value', 'ml_feature_drift_detected']) {
          b.add(family, { model: `model-${m}`, feature: `feature_${f}`, test, window: '1h' }, Math.random());
        }
      }
      b.add('ml_feature_completeness_ratio', { model: `model-${m}`, feature: `feature_${f}`, window: '1h' }, 1);
      b.add('ml_feature_freshness_seconds', { model: `model-${m}`, feature: `feature_${f}` }, 3);
    }
  }
  let i = 0;
  while (b.size < 10_000) b.add('ml_window_samples', { model: `model-x${i++}`, version: 'v1', window: '1h' }, 100);
  const snap = b.build(Date.now());
  registerSnapshotFamilies(reg, () => snap);
  const app = Fastify();
  await app.register(metricsRoutes, { deps: { registry: reg } as unknown as ServerDeps });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    for (const [format, accept] of [
      ['text', 'text/plain'],
      ['OpenMetrics', 'application/openmetrics-text; version=1.0.0'],
    ] as const) {
      const lat: number[] = [];
      let bytes = 0;
      for (let k = 0; k < 200; k++) {
        const t0 = performance.now();
        const r = await fetch(`${url}/metrics`, { headers: { accept } });
        bytes = (await r.text()).length;
        lat.push(performance.now() - t0);
      }
      print(`/metrics (${format}) with ${snap.samples.length.toLocaleString('en')} snapshot series, ${(bytes / 1024).toFixed(0)} KiB: p50 ${quantile(lat, 0.5).toFixed(1)} ms, p99 ${quantile(lat, 0.99).toFixed(1)} ms over 200 scrapes (target p99 < 50 ms)`);
    }
  } finally {
    await app.close();
  }
}
