/**
 * Calibration of binary probabilities: reliability bins, expected calibration error (ECE) and
 * maximum calibration error (MCE).
 *
 * Binning (fixed, documented in docs/statistics-quality.md): `nBins` (default 10) equal-width bins
 * over [0, 1]; bin b holds b/nBins <= p < (b+1)/nBins, the last bin is closed ([0.9, 1.0] for 10).
 * Edges are exactly b/nBins as doubles (floor(p·nBins) is corrected by comparing with the edges).
 * ECE = Σ_b (n_b / N) · |mean(p in b) − fraction of positives in b| over non-empty bins
 * (weighted by bin size); MCE = max_b of the same gap over non-empty bins.
 */
import { defined, StatsInputError, type StatResult } from './types.js';
import { checkLengths, encodeBinary, probabilities, type Label, type LabelArray, type NumArray } from './ranking.js';

export interface CalibrationBin {
  /** Inclusive lower edge. */
  readonly lower: number;
  /** Upper edge (exclusive, except for the last bin). */
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly meanPredicted: number;
  /** Observed fraction of positives in the bin (NaN when empty). */
  readonly fractionPositive: number;
}

export interface CalibrationReport {
  readonly n: number;
  readonly ece: StatResult;
  readonly mce: StatResult;
  readonly bins: readonly CalibrationBin[];
}

export interface CalibrationOptions {
  /** The positive class (default 1). */
  readonly positiveLabel?: Label;
  /** Number of equal-width bins (integer 1..10000, default 10). */
  readonly nBins?: number;
}

/** @internal Bin index of p in [0,1] for nBins equal-width bins (last bin closed). */
export function binIndex(p: number, nBins: number): number {
  let b = Math.floor(p * nBins);
  if (b >= nBins) b = nBins - 1;
  if (b < 0) b = 0;
  if (p < b / nBins) b--;
  else if (b + 1 < nBins && p >= (b + 1) / nBins) b++;
  return b;
}

function checkBins(nBins: number): number {
  if (!Number.isInteger(nBins) || nBins < 1 || nBins > 10000) {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `nBins must be an integer in [1, 10000], got ${nBins}`);
  }
  return nBins;
}

/** @internal Calibration report from already-validated inputs (isPos 0/1, p in [0,1]). */
export function calibrationFromEncoded(isPos: Uint8Array, p: Float64Array, nBins = 10): CalibrationReport {
  checkBins(nBins);
  const n = p.length;
  const cnt = new Float64Array(nBins);
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  for (let i = 0; i < n; i++) {
    const v = p[i] as number;
    const b = binIndex(v, nBins);
    cnt[b] = (cnt[b] as number) + 1;
    sumP[b] = (sumP[b] as number) + v;
    sumY[b] = (sumY[b] as number) + (isPos[i] as number);
  }
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < nBins; b++) {
    const c = cnt[b] as number;
    const meanPredicted = c > 0 ? (sumP[b] as number) / c : NaN;
    const fractionPositive = c > 0 ? (sumY[b] as number) / c : NaN;
    bins.push({ lower: b / nBins, upper: (b + 1) / nBins, count: c, meanPredicted, fractionPositive });
    if (c > 0) {
      const gap = Math.abs(meanPredicted - fractionPositive);
      ece += (c / n) * gap;
      if (gap > mce) mce = gap;
    }
  }
  return { n, ece: defined(ece), mce: defined(mce), bins };
}

/** Reliability bins, ECE and MCE of binary probabilities P(positive). */
export function calibrationReport(yTrue: LabelArray, probs: NumArray, opts?: CalibrationOptions): CalibrationReport {
  checkLengths(yTrue, probs, 'calibration');
  const p = probabilities(probs, 'calibration: probs');
  const { isPos } = encodeBinary(yTrue, opts?.positiveLabel ?? 1, 'calibration: yTrue');
  return calibrationFromEncoded(isPos, p, opts?.nBins ?? 10);
}

/** Expected calibration error (equal-width bins, weighted by bin size). */
export function expectedCalibrationError(yTrue: LabelArray, probs: NumArray, opts?: CalibrationOptions): StatResult {
  return calibrationReport(yTrue, probs, opts).ece;
}
