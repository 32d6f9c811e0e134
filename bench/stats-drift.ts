/**
 * Drift statistics benchmark: median of 5 runs on seeded data (mulberry32 + Box–Muller).
 *  - KS 1,000,000 vs 1,000,000, asymptotic, from raw arrays (clean + sort both + merge)
 *  - KS 1,000,000 vs 1,000,000 against a presorted reference summary (sort current only)
 *  - PSI 1,000,000 vs 1,000,000, quantile binning, from raw arrays
 * Reference timings (SciPy / numpy on a comparable machine): KS ≈ 1,000 ms, PSI ≈ 70 ms.
 * Targets: KS ≤ 333 ms, PSI ≤ 70 ms. Never used by tests.
 */
import { ks2samp } from '../src/stats/ks.js';
import { psi } from '../src/stats/psi.js';
import { ksAgainstReference, summarizeNumeric } from '../src/stats/reference.js';
import { seededNormals } from '../src/core/random.js';
import { median } from './process.js';

function time(runs: number, fn: () => unknown): { ms: number; last: unknown } {
  const times: number[] = [];
  let last: unknown;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    last = fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), last };
}

export async function benchDrift(print: (line: string) => void): Promise<void> {
  const N = 1_000_000;
  const RUNS = 5;
  const ref = seededNormals(N, 0, 1, 20240611);
  const cur = seededNormals(N, 0.01, 1, 20240612);
  print(`stats-drift: seeded N(0,1) vs N(0.01,1), n=${N.toLocaleString('en-US')} each, median of ${RUNS} runs`);

  const ks = time(RUNS, () => ks2samp(ref, cur, { method: 'asymp' }));
  const ksRes = ks.last as ReturnType<typeof ks2samp>;
  print(`  KS asymp, raw arrays        ${ks.ms.toFixed(1).padStart(8)} ms  (target <= 333 ms; SciPy ~1000 ms)  D=${ksRes.statistic.toFixed(6)} p=${ksRes.pvalue.toExponential(3)}`);

  const t0 = performance.now();
  const summary = summarizeNumeric(ref, { maxExact: N });
  const summaryMs = performance.now() - t0;
  const ksRef = time(RUNS, () => ksAgainstReference(summary, cur, { method: 'asymp' }));
  const ksRefRes = ksRef.last as ReturnType<typeof ksAgainstReference>;
  print(`  KS asymp, presorted ref     ${ksRef.ms.toFixed(1).padStart(8)} ms  (summary built once in ${summaryMs.toFixed(1)} ms)  D=${ksRefRes.statistic.toFixed(6)}`);

  const p = time(RUNS, () => psi(ref, cur));
  const pRes = p.last as ReturnType<typeof psi>;
  print(`  PSI quantile, raw arrays    ${p.ms.toFixed(1).padStart(8)} ms  (target <= 70 ms; numpy ~70 ms)  PSI=${pRes.psi.toExponential(4)}`);
}
