/**
 * The calibration step of NannyML's CBPE (nannyml/calibration.py and
 * performance_estimation/confidence_based/cbpe.py, NannyML 0.13): before estimating, NannyML asks
 * whether the reference's scores gain from an isotonic calibration and, if they do, fits one on
 * the whole reference and estimates from the calibrated scores of the analysis data.
 *
 * `needsCalibration` decides as NannyML's `needs_calibration` does:
 * - one class in the labels: no (nothing to calibrate against);
 * - ROC-AUC above 0.999: no (the scores separate the classes; isotonic would make them 0/1);
 * - else ten stratified shuffle splits (test 10 %, `random_state=42`, scikit-learn's
 *   StratifiedShuffleSplit, stratified-split.ts); on each, an isotonic regression fitted on the train
 *   part calibrates the test part; the ten test parts are concatenated and their expected
 *   calibration error computed before and after calibration, on equal-count bins (10, or n/2
 *   when n ≤ 20) over the scores sorted by numpy's argsort; calibration is needed when the error
 *   before is larger than after.
 *
 * The sort is numpy's (numpy-sort.ts), the sums too (ranking.ts npSum), so the two errors, and so the decision, are the
 * same doubles as Python's (test/fixtures/cbpe-nannyml.json).
 */
import { fitIsotonic, predictIsotonic, type IsotonicFit } from './isotonic.js';
import { argsortQuick } from './numpy-sort.js';
import { npSum, rocAuc } from './ranking.js';
import { stratifiedShuffleSplits } from './stratified-split.js';
import { StatsInputError } from './types.js';

/** NannyML's `_get_bin_index_edges(vector_length, bin_count)`: [left, right) row ranges. */
export function binIndexEdges(length: number, binCount: number): Array<[number, number]> {
  if (length <= 2 * binCount) {
    binCount = Math.floor(length / 2);
    if (binCount < 2) throw new StatsInputError('VIGIL_ERR_STATS_TOO_FEW', `cannot split into minimum of 2 bins. Current sample size is ${length}, please increase sample size.`);
  }
  const width = Math.floor(length / binCount);
  const edges: number[] = [];
  for (let e = 0; e <= length; e += width) edges.push(e);
  edges[edges.length - 1] = length;
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < edges.length; i++) out.push([edges[i] as number, edges[i + 1] as number]);
  return out;
}

/** NannyML's `_calculate_expected_calibration_error`: equal-count bins over the sorted scores. */
export function equalCountEce(yTrue: ArrayLike<number>, scores: ArrayLike<number>, edges: ReadonlyArray<readonly [number, number]>): number {
  const order = argsortQuick(scores);
  const n = order.length;
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = scores[order[i] as number] as number;
    y[i] = yTrue[order[i] as number] as number;
  }
  const terms = new Float64Array(edges.length);
  edges.forEach(([l, r], k) => {
    const len = r - l;
    const meanP = npSum(p, l, len) / len;
    const meanY = npSum(y, l, len) / len;
    terms[k] = (len / n) * Math.abs(meanP - meanY);
  });
  return npSum(terms);
}

export type CalibrationDecision =
  | { readonly needed: boolean; readonly eceBefore: number; readonly eceAfter: number; readonly reason?: undefined }
  | { readonly needed: false; readonly reason: 'single_class' | 'separable' | 'too_few'; readonly detail: string };

/**
 * NannyML's `needs_calibration(y_true, y_pred_proba, IsotonicCalibrator())`. `yTrue` is 0/1,
 * `scores` probabilities of class 1, both finite.
 */
export function needsCalibration(yTrue: ArrayLike<number>, scores: ArrayLike<number>, opts?: { readonly binCount?: number; readonly splitCount?: number }): CalibrationDecision {
  const n = yTrue.length;
  if (n !== scores.length) throw new StatsInputError('VIGIL_ERR_STATS_LENGTH_MISMATCH', `needsCalibration: ${n} labels but ${scores.length} scores`);
  if (n === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY', 'needsCalibration: empty input');
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i] as number;
    if (y !== 0 && y !== 1) throw new StatsInputError('VIGIL_ERR_STATS_NOT_BINARY', `needsCalibration: label ${i} is ${String(y)}, not 0 or 1`);
    if (!Number.isFinite(scores[i] as number)) throw new StatsInputError('VIGIL_ERR_STATS_NON_FINITE', `needsCalibration: score ${i} is not finite`);
    positives += y;
  }
  if (positives === 0 || positives === n) return { needed: false, reason: 'single_class', detail: 'the labels hold one class only' };
  const auc = rocAuc(yTrue, scores);
  if (auc.defined && auc.value > 0.999) return { needed: false, reason: 'separable', detail: `ROC-AUC ${auc.value} > 0.999` };
  const nSplits = opts?.splitCount ?? 10;
  let drawn;
  try {
    drawn = stratifiedShuffleSplits(yTrue, { nSplits, testSize: 0.1, randomState: 42 });
  } catch (e) {
    if (e instanceof StatsInputError) return { needed: false, reason: 'too_few', detail: e.message };
    throw e;
  }
  // one split at a time: the ten test parts, concatenated, are what is kept (the labels, 0 or 1, a byte each)
  const total = nSplits * drawn.nTest;
  const yt = new Uint8Array(total);
  const before = new Float64Array(total);
  const after = new Float64Array(total);
  let at = 0;
  // read only: no copy of typed arrays
  const s = ArrayBuffer.isView(scores) ? scores : Float64Array.from(scores);
  const y = ArrayBuffer.isView(yTrue) ? yTrue : Float64Array.from(yTrue);
  const tx = new Float64Array(drawn.nTrain);
  const ty = new Uint8Array(drawn.nTrain);
  for (const { train, test } of drawn.splits) {
    for (let k = 0; k < train.length; k++) {
      const i = train[k] as number;
      tx[k] = s[i] as number;
      ty[k] = y[i] as number;
    }
    const fit = fitIsotonic(tx, ty);
    for (let k = 0; k < test.length; k++) {
      const i = test[k] as number;
      yt[at] = y[i] as number;
      before[at] = s[i] as number;
      after[at] = predictIsotonic(fit, s[i] as number);
      at++;
    }
  }
  let edges;
  try {
    edges = binIndexEdges(total, opts?.binCount ?? 10);
  } catch (e) {
    if (e instanceof StatsInputError) return { needed: false, reason: 'too_few', detail: e.message };
    throw e;
  }
  const eceBefore = equalCountEce(yt, before, edges);
  const eceAfter = equalCountEce(yt, after, edges);
  return { needed: eceBefore > eceAfter, eceBefore, eceAfter };
}

/** The calibration a baseline carries for CBPE: the decision and the isotonic fit on the whole reference. */
export interface CbpeCalibration {
  readonly decision: CalibrationDecision;
  /** Isotonic regression of the labels on the scores, fitted on every reference row (absent for one class). */
  readonly fit?: IsotonicFit;
}

/** NannyML's CBPE `_fit` for a binary model: the decision, and the calibrator fitted on the whole reference. */
export function fitCbpeCalibration(yTrue: ArrayLike<number>, scores: ArrayLike<number>): CbpeCalibration {
  const decision = needsCalibration(yTrue, scores);
  if (decision.reason === 'single_class') return { decision };
  return { decision, fit: fitIsotonic(scores, yTrue) };
}
