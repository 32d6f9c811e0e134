import { binaryReport, f1, rocAuc } from '../src/stats/classification.js';
import { regressionReport } from '../src/stats/regression.js';
import { median } from './process.js';
import { mulberry32 } from '../src/core/random.js';

function time(fn: () => unknown, runs = 5): number {
  fn(); // warm-up (JIT)
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/**
 * Quality-metric speed on 1,000,000 seeded rows: median of 5 runs of ROC-AUC, F1 and the
 * one-pass binary report (typed arrays and plain arrays), plus the regression report.
 * Reference (scikit-learn 1.2 on the same 2-core machine): ROC-AUC ~260 ms, F1 ~215 ms.
 */
export async function benchQuality(print: (line: string) => void): Promise<void> {
  const N = 1_000_000;
  const rnd = mulberry32(20240611);
  const scores = new Float64Array(N);
  const yTrue = new Uint8Array(N);
  const yPred = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const s = Math.round(rnd() * 1e6) / 1e6; // 6 decimals, like logged scores: many ties
    scores[i] = s;
    yTrue[i] = rnd() < s ? 1 : 0;
    yPred[i] = s >= 0.5 ? 1 : 0;
  }
  const yTrueArr = Array.from(yTrue);
  const yPredArr = Array.from(yPred);
  const scoresArr = Array.from(scores);

  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  print(`stats-quality: ${N.toLocaleString('en-US')} rows, median of 5 runs`);
  print(`  rocAuc (Uint8Array + Float64Array)      ${fmt(time(() => rocAuc(yTrue, scores)))}   (sklearn ~260 ms)`);
  print(`  rocAuc (number[] + number[])            ${fmt(time(() => rocAuc(yTrueArr, scoresArr)))}`);
  print(`  f1 binary (Uint8Array)                  ${fmt(time(() => f1(yTrue, yPred)))}   (sklearn ~215 ms)`);
  print(`  f1 binary (number[])                    ${fmt(time(() => f1(yTrueArr, yPredArr)))}`);
  print(`  f1 macro (number[])                     ${fmt(time(() => f1(yTrueArr, yPredArr, { average: 'macro' })))}`);
  print(`  binaryReport (typed, all metrics)       ${fmt(time(() => binaryReport({ yTrue, yPred, scores })))}`);
  print(`  binaryReport (number[], all metrics)    ${fmt(time(() => binaryReport({ yTrue: yTrueArr, yPred: yPredArr, scores: scoresArr })))}`);
  const target = new Float64Array(N);
  const pred = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    target[i] = 10 + 3 * (rnd() - 0.5);
    pred[i] = (target[i] as number) + (rnd() - 0.5);
  }
  print(`  regressionReport (Float64Array)         ${fmt(time(() => regressionReport({ yTrue: target, yPred: pred })))}`);
}
