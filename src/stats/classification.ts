/**
 * Classification metrics, binary and multiclass, identical to scikit-learn 1.2.1 (including its
 * zero-division warnings and the cases where it raises). See docs/statistics-quality.md.
 *
 * Conventions
 * - Labels are strings or finite numbers; classes are compared as strings (`1` ≡ `"1"`).
 *   Sorted label order ("labels ascending"): numeric when every class is given as a number,
 *   otherwise by string code units.
 * - Bad input (empty, length mismatch, NaN/±Infinity scores, probabilities outside [0, 1], bad
 *   labels) throws StatsInputError; it is never dropped silently.
 * - Where scikit-learn warns and returns a fallback, the result is `defined(fallback, [warning])`
 *   with scikit-learn's warning text; where it raises or returns NaN, `undef(reason)`.
 */
import { defined, undef, StatsInputError, type StatResult } from './types.js';
import {
  aucFromCore,
  apFromCore,
  checkLengths,
  encodeBinary,
  finiteFloat64,
  labelKey,
  npMean,
  probabilities,
  rankingCore,
  REASON_ONE_CLASS_AUC,
  type Label,
  type LabelArray,
  type NumArray,
} from './ranking.js';
import { calibrationFromEncoded } from './calibration.js';
import { WORK_SLOT, workF64 } from './sample.js';

export { rocAuc, averagePrecision, rankingMetrics } from './ranking.js';
export type { Label, LabelArray, NumArray } from './ranking.js';

/** scikit-learn's `zero_division`: 'warn' returns 0 and warns; 0 / 1 return that value silently. */
export type ZeroDivision = 'warn' | 0 | 1;
export type Average = 'binary' | 'macro' | 'micro' | 'weighted';

/** numpy.finfo(float64).eps — the log-loss clipping epsilon of scikit-learn 1.2 (eps='auto'). */
export const FLOAT64_EPS = 2.220446049250313e-16;

// ---------------------------------------------------------------------------------------------
// Label encoding
// ---------------------------------------------------------------------------------------------

/** @internal Labels encoded to dense codes over a sorted class universe. */
interface Encoded {
  readonly codes: Int32Array[];
  /** Representative label per code, sorted. */
  readonly classes: Label[];
  readonly keys: string[];
  /** Codes of the explicit `labels` (in the given order), when given. */
  readonly labelCodes: number[] | undefined;
}

function encodeLabels(arrays: readonly LabelArray[], names: readonly string[], labels?: readonly Label[]): Encoded {
  const keyToCode = new Map<string, number>();
  const numToCode = new Map<number, number>();
  const reps: Label[] = [];
  const keys: string[] = [];
  const codeOf = (v: unknown, what: string, i: number): number => {
    if (typeof v === 'number') {
      const c = numToCode.get(v);
      if (c !== undefined) return c;
    }
    const k = labelKey(v, what, i);
    let c = keyToCode.get(k);
    if (c === undefined) {
      c = reps.length;
      keyToCode.set(k, c);
      reps.push(v as Label);
      keys.push(k);
    }
    if (typeof v === 'number') numToCode.set(v, c);
    return c;
  };
  let labelProv: number[] | undefined;
  if (labels !== undefined) {
    if (labels.length === 0) throw new StatsInputError('VIGIL_ERR_STATS_LABELS', 'labels: empty list');
    labelProv = [];
    const seen = new Set<number>();
    for (let i = 0; i < labels.length; i++) {
      const c = codeOf(labels[i], 'labels', i);
      if (seen.has(c)) {
        throw new StatsInputError('VIGIL_ERR_STATS_LABELS', `labels: duplicate label ${String(labels[i])}`);
      }
      seen.add(c);
      labelProv.push(c);
    }
  }
  const prov: Int32Array[] = arrays.map((arr, a) => {
    const out = new Int32Array(arr.length);
    const name = names[a] ?? 'labels';
    for (let i = 0; i < arr.length; i++) out[i] = codeOf(arr[i], name, i);
    return out;
  });
  // Sort the universe.
  const order = reps.map((_, i) => i);
  const allNum = reps.every((r) => typeof r === 'number');
  if (allNum) order.sort((a, b) => (reps[a] as number) - (reps[b] as number));
  else order.sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : (keys[a] as string) > (keys[b] as string) ? 1 : 0));
  const remap = new Int32Array(reps.length);
  order.forEach((old, neu) => {
    remap[old] = neu;
  });
  for (const arr of prov) for (let i = 0; i < arr.length; i++) arr[i] = remap[arr[i] as number] as number;
  return {
    codes: prov,
    classes: order.map((o) => reps[o] as Label),
    keys: order.map((o) => keys[o] as string),
    labelCodes: labelProv?.map((c) => remap[c] as number),
  };
}

/** @internal Full confusion matrix over the class universe (row = true, column = predicted). */
interface Universe {
  readonly enc: Encoded;
  readonly k: number;
  /** k×k counts, row-major. */
  readonly m: Float64Array;
  /** Codes present in y_true ∪ y_pred (sorted). */
  readonly present: number[];
  readonly presentTrue: Uint8Array;
  readonly n: number;
}

function universe(yTrue: LabelArray, yPred: LabelArray, labels?: readonly Label[], what = 'classification'): Universe {
  const n = checkLengths(yTrue, yPred, what);
  const enc = encodeLabels([yTrue, yPred], [`${what}: yTrue`, `${what}: yPred`], labels);
  const k = enc.classes.length;
  const m = new Float64Array(k * k);
  const t = enc.codes[0] as Int32Array;
  const p = enc.codes[1] as Int32Array;
  const presentAny = new Uint8Array(k);
  const presentTrue = new Uint8Array(k);
  for (let i = 0; i < n; i++) {
    const a = t[i] as number;
    const b = p[i] as number;
    m[a * k + b] = (m[a * k + b] as number) + 1;
    presentTrue[a] = 1;
    presentAny[a] = 1;
    presentAny[b] = 1;
  }
  const present: number[] = [];
  for (let c = 0; c < k; c++) if (presentAny[c] === 1) present.push(c);
  return { enc, k, m, present, presentTrue, n };
}

/** Restrict the universe matrix to `sel` rows/columns (in that order). */
function subMatrix(u: Universe, sel: readonly number[]): number[][] {
  return sel.map((r) => sel.map((c) => u.m[r * u.k + c] as number));
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix and matrix-based metrics
// ---------------------------------------------------------------------------------------------

export interface ConfusionMatrix {
  /** Row/column labels (ascending, or the given `labels` order). */
  readonly labels: Label[];
  /** matrix[i][j] = number of rows with true label i and predicted label j. */
  readonly matrix: number[][];
}

export interface LabelsOption {
  /** Explicit label list (order kept); otherwise the sorted union of labels present. */
  readonly labels?: readonly Label[];
}

/** `sklearn.metrics.confusion_matrix`. With `labels`, rows outside the list are ignored; at least one
 *  label must occur in y_true (scikit-learn raises otherwise → StatsInputError). */
export function confusionMatrix(yTrue: LabelArray, yPred: LabelArray, opts?: LabelsOption): ConfusionMatrix {
  const u = universe(yTrue, yPred, opts?.labels, 'confusionMatrix');
  const sel = u.enc.labelCodes ?? u.present;
  if (u.enc.labelCodes !== undefined && !sel.some((c) => u.presentTrue[c] === 1)) {
    throw new StatsInputError('VIGIL_ERR_STATS_LABELS', 'At least one label specified must be in y_true');
  }
  return { labels: sel.map((c) => u.enc.classes[c] as Label), matrix: subMatrix(u, sel) };
}

function rowSums(c: readonly number[][]): number[] {
  return c.map((r) => r.reduce((s, v) => s + v, 0));
}
function colSums(c: readonly number[][]): number[] {
  const k = c.length;
  const out = new Array<number>(k).fill(0);
  for (const r of c) for (let j = 0; j < k; j++) out[j] = (out[j] as number) + (r[j] as number);
  return out;
}

/** Matthews correlation coefficient from a confusion matrix (scikit-learn's multiclass formula;
 *  0 when the denominator is 0, with no warning, as in scikit-learn 1.2.1). */
export function mccFromMatrix(c: readonly number[][]): StatResult {
  const t = rowSums(c);
  const p = colSums(c);
  let nCorrect = 0;
  for (let i = 0; i < c.length; i++) nCorrect += (c[i] as number[])[i] as number;
  let n = 0;
  for (const v of p) n += v;
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (let i = 0; i < t.length; i++) {
    tp += (t[i] as number) * (p[i] as number);
    pp += (p[i] as number) * (p[i] as number);
    tt += (t[i] as number) * (t[i] as number);
  }
  const covYtYp = nCorrect * n - tp;
  const covYpYp = n * n - pp;
  const covYtYt = n * n - tt;
  if (covYpYp * covYtYt === 0) return defined(0);
  return defined(covYtYp / Math.sqrt(covYtYt * covYpYp));
}

export const WARN_BALANCED_ACC = 'UserWarning: y_pred contains classes not in y_true';

/** Balanced accuracy (adjusted=False) from a confusion matrix over the labels present. */
export function balancedAccuracyFromMatrix(c: readonly number[][]): StatResult {
  const t = rowSums(c);
  let s = 0;
  let m = 0;
  let warn = false;
  for (let i = 0; i < c.length; i++) {
    if (t[i] === 0) {
      warn = true;
      continue;
    }
    s += ((c[i] as number[])[i] as number) / (t[i] as number);
    m++;
  }
  if (m === 0) return undef('no class present in y_true');
  return defined(s / m, warn ? [WARN_BALANCED_ACC] : undefined);
}

/** Cohen's kappa (unweighted) from a confusion matrix; undefined (NaN in scikit-learn, with a
 *  RuntimeWarning) when the expected disagreement is 0. */
export function cohenKappaFromMatrix(c: readonly number[][]): StatResult {
  const k = c.length;
  const sum0 = colSums(c);
  const sum1 = rowSums(c);
  let n = 0;
  for (const v of sum0) n += v;
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (i === j) continue;
      num += (c[i] as number[])[j] as number;
      den += ((sum0[i] as number) * (sum1[j] as number)) / n;
    }
  }
  const kk = num / den;
  if (Number.isNaN(kk)) {
    return undef("Cohen's kappa is NaN (0/0: expected disagreement is zero; scikit-learn: RuntimeWarning: invalid value encountered in scalar divide)");
  }
  return defined(1 - kk);
}

// ---------------------------------------------------------------------------------------------
// Precision / recall / F1 (scikit-learn's _precision_recall_fscore_support, beta = 1)
// ---------------------------------------------------------------------------------------------

interface WarnFor {
  readonly precision: boolean;
  readonly recall: boolean;
  readonly fscore: boolean;
}
const WARN_ALL: WarnFor = { precision: true, recall: true, fscore: true };
const WARN_P: WarnFor = { precision: true, recall: false, fscore: false };
const WARN_R: WarnFor = { precision: false, recall: true, fscore: false };
const WARN_F: WarnFor = { precision: false, recall: false, fscore: true };

function prfMessage(msgStart: string, modifier: string, size: number): string {
  const where = size === 1 ? 'due to' : 'in labels with';
  return (
    `UndefinedMetricWarning: ${msgStart} ill-defined and being set to 0.0 ${where} no ${modifier} samples.` +
    ' Use `zero_division` parameter to control this behavior.'
  );
}

function prfDivide(
  num: readonly number[],
  den: readonly number[],
  metric: 'precision' | 'recall',
  zd: ZeroDivision,
  warnFor: WarnFor,
  warnings: string[],
): number[] {
  let any = false;
  const zdv = zd === 1 ? 1 : 0;
  const out = num.map((x, i) => {
    const d = den[i] as number;
    if (d === 0) {
      any = true;
      return zdv;
    }
    return x / d;
  });
  if (any && zd === 'warn' && warnFor[metric]) {
    const Metric = metric === 'precision' ? 'Precision' : 'Recall';
    const start = warnFor.fscore ? `${Metric} and F-score are` : `${Metric} is`;
    warnings.push(prfMessage(start, metric === 'precision' ? 'predicted' : 'true', out.length));
  }
  return out;
}

interface PrfArrays {
  readonly precision: number[];
  readonly recall: number[];
  readonly f1: number[];
}

function prfArrays(
  tp: readonly number[],
  pred: readonly number[],
  tru: readonly number[],
  zd: ZeroDivision,
  warnFor: WarnFor,
  warnings: string[],
): PrfArrays {
  const precision = prfDivide(tp, pred, 'precision', zd, warnFor, warnings);
  const recall = prfDivide(tp, tru, 'recall', zd, warnFor, warnings);
  if (zd === 'warn' && warnFor.fscore && !warnFor.precision && !warnFor.recall) {
    if (tru.some((t, i) => t === 0 && pred[i] === 0)) {
      warnings.push(prfMessage('F-score is', 'true nor predicted', tru.length));
    }
  }
  const f1 = precision.map((p, i) => {
    const r = recall[i] as number;
    let denom = p + r;
    if (denom === 0) denom = 1;
    return (2 * p * r) / denom;
  });
  return { precision, recall, f1 };
}

export interface PrfOptions extends LabelsOption {
  /** 'binary' (default): the positive class only; 'macro' | 'micro' | 'weighted' over labels. */
  readonly average?: Average;
  /** Positive class for average='binary' (default 1). */
  readonly positiveLabel?: Label;
  /** scikit-learn's zero_division (default 'warn'). */
  readonly zeroDivision?: ZeroDivision;
}

export interface PrfAveraged {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Warnings scikit-learn's precision_recall_fscore_support emits for this call. */
  readonly warnings: readonly string[];
}

export interface PrfPerClass {
  readonly labels: Label[];
  readonly precision: number[];
  readonly recall: number[];
  readonly f1: number[];
  readonly support: number[];
  readonly warnings: readonly string[];
}

/** @internal Binary-average sufficient statistics via the fast 0/1 path. */
export interface BinaryCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

function binaryCountsOf(yTrue: LabelArray, yPred: LabelArray, positiveLabel: Label, what: string) {
  const n = checkLengths(yTrue, yPred, what);
  const t = encodeBinary(yTrue, positiveLabel, `${what}: yTrue`);
  const p = encodeBinary(yPred, positiveLabel, `${what}: yPred`, t.negative);
  const ti = t.isPos;
  const pi = p.isPos;
  let tp = 0;
  let nt = 0;
  let np = 0;
  for (let i = 0; i < n; i++) {
    const a = ti[i] as number;
    const b = pi[i] as number;
    nt += a;
    np += b;
    tp += a & b;
  }
  const counts: BinaryCounts = { tp, fp: np - tp, fn: nt - tp, tn: n - nt - np + tp };
  return { counts, negative: p.negative, isPosTrue: ti, isPosPred: pi };
}

function averaged(
  yTrue: LabelArray,
  yPred: LabelArray,
  opts: PrfOptions | undefined,
  warnFor: WarnFor,
  what: string,
): PrfAveraged {
  const average = opts?.average ?? 'binary';
  const zd = opts?.zeroDivision ?? 'warn';
  const warnings: string[] = [];
  if (average === 'binary') {
    const { counts } = binaryCountsOf(yTrue, yPred, opts?.positiveLabel ?? 1, what);
    const r = prfArrays([counts.tp], [counts.tp + counts.fp], [counts.tp + counts.fn], zd, warnFor, warnings);
    return { precision: r.precision[0] as number, recall: r.recall[0] as number, f1: r.f1[0] as number, warnings };
  }
  const u = universe(yTrue, yPred, opts?.labels, what);
  const sel = u.enc.labelCodes ?? u.present;
  const { tp, pred, tru } = perClassCounts(u, sel);
  if (average === 'micro') {
    const s = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const r = prfArrays([s(tp)], [s(pred)], [s(tru)], zd, warnFor, warnings);
    return { precision: r.precision[0] as number, recall: r.recall[0] as number, f1: r.f1[0] as number, warnings };
  }
  const r = prfArrays(tp, pred, tru, zd, warnFor, warnings);
  if (average === 'macro') {
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    return { precision: mean(r.precision), recall: mean(r.recall), f1: mean(r.f1), warnings };
  }
  if (average !== 'weighted') {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `unknown average '${String(average)}'`);
  }
  const wsum = tru.reduce((x, y) => x + y, 0);
  if (wsum === 0) {
    const zdv = zd === 1 ? 1 : 0;
    if (pred.reduce((x, y) => x + y, 0) === 0) return { precision: zdv, recall: zdv, f1: zdv, warnings };
    return { precision: 0, recall: zdv, f1: 0, warnings };
  }
  const wavg = (a: number[]) => a.reduce((x, y, i) => x + y * (tru[i] as number), 0) / wsum;
  return { precision: wavg(r.precision), recall: wavg(r.recall), f1: wavg(r.f1), warnings };
}

function perClassCounts(u: Universe, sel: readonly number[]) {
  const k = u.k;
  const tp: number[] = [];
  const pred: number[] = [];
  const tru: number[] = [];
  for (const c of sel) {
    let ps = 0;
    let ts = 0;
    for (let r = 0; r < k; r++) ps += u.m[r * k + c] as number;
    for (let j = 0; j < k; j++) ts += u.m[c * k + j] as number;
    tp.push(u.m[c * k + c] as number);
    pred.push(ps);
    tru.push(ts);
  }
  return { tp, pred, tru };
}

/** `precision_recall_fscore_support(average=...)` (binary / macro / micro / weighted). */
export function precisionRecallF1(yTrue: LabelArray, yPred: LabelArray, opts?: PrfOptions): PrfAveraged {
  return averaged(yTrue, yPred, opts, WARN_ALL, 'precisionRecallF1');
}

/** `precision_recall_fscore_support(average=None)`: per-class values (labels ascending or as given). */
export function precisionRecallF1PerClass(
  yTrue: LabelArray,
  yPred: LabelArray,
  opts?: LabelsOption & { readonly zeroDivision?: ZeroDivision },
): PrfPerClass {
  const u = universe(yTrue, yPred, opts?.labels, 'precisionRecallF1PerClass');
  const sel = u.enc.labelCodes ?? u.present;
  const { tp, pred, tru } = perClassCounts(u, sel);
  const warnings: string[] = [];
  const r = prfArrays(tp, pred, tru, opts?.zeroDivision ?? 'warn', WARN_ALL, warnings);
  return {
    labels: sel.map((c) => u.enc.classes[c] as Label),
    precision: r.precision,
    recall: r.recall,
    f1: r.f1,
    support: tru,
    warnings,
  };
}

const asResult = (value: number, warnings: readonly string[]): StatResult => defined(value, warnings);

/** `precision_score` (warns only about precision, as scikit-learn does). */
export function precision(yTrue: LabelArray, yPred: LabelArray, opts?: PrfOptions): StatResult {
  const r = averaged(yTrue, yPred, opts, WARN_P, 'precision');
  return asResult(r.precision, r.warnings);
}

/** `recall_score`. */
export function recall(yTrue: LabelArray, yPred: LabelArray, opts?: PrfOptions): StatResult {
  const r = averaged(yTrue, yPred, opts, WARN_R, 'recall');
  return asResult(r.recall, r.warnings);
}

/** `f1_score` (warns only when both precision and recall are ill-defined for a label). */
export function f1(yTrue: LabelArray, yPred: LabelArray, opts?: PrfOptions): StatResult {
  const r = averaged(yTrue, yPred, opts, WARN_F, 'f1');
  return asResult(r.f1, r.warnings);
}

// ---------------------------------------------------------------------------------------------
// Simple label metrics
// ---------------------------------------------------------------------------------------------

/** `accuracy_score`: fraction of rows where the labels are equal (compared as strings). */
export function accuracy(yTrue: LabelArray, yPred: LabelArray): StatResult {
  const n = checkLengths(yTrue, yPred, 'accuracy');
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const a = yTrue[i] as Label;
    const b = yPred[i] as Label;
    if (typeof a === 'number' && typeof b === 'number' && a - a === 0 && b - b === 0) {
      if (a === b) ok++;
    } else if (labelKey(a, 'accuracy: yTrue', i) === labelKey(b, 'accuracy: yPred', i)) ok++;
  }
  return defined(ok / n);
}

/** `matthews_corrcoef`. */
export function matthewsCorrcoef(yTrue: LabelArray, yPred: LabelArray): StatResult {
  const u = universe(yTrue, yPred, undefined, 'matthewsCorrcoef');
  return mccFromMatrix(subMatrix(u, u.present));
}

/** `balanced_accuracy_score` (adjusted=False). */
export function balancedAccuracy(yTrue: LabelArray, yPred: LabelArray): StatResult {
  const u = universe(yTrue, yPred, undefined, 'balancedAccuracy');
  return balancedAccuracyFromMatrix(subMatrix(u, u.present));
}

/** `cohen_kappa_score` (unweighted). */
export function cohenKappa(yTrue: LabelArray, yPred: LabelArray, opts?: LabelsOption): StatResult {
  const u = universe(yTrue, yPred, opts?.labels, 'cohenKappa');
  return cohenKappaFromMatrix(subMatrix(u, u.enc.labelCodes ?? u.present));
}

// ---------------------------------------------------------------------------------------------
// Probability metrics
// ---------------------------------------------------------------------------------------------

function distinctKeys(y: LabelArray, what: string, limit: number): { keys: string[]; reps: Label[] } {
  const keys: string[] = [];
  const reps: Label[] = [];
  const seenNum = new Set<number>();
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as Label;
    if (typeof v === 'number' && seenNum.has(v)) continue;
    const k = labelKey(v, what, i);
    if (typeof v === 'number') seenNum.add(v);
    if (!keys.includes(k)) {
      keys.push(k);
      reps.push(v);
      if (keys.length > limit) break;
    }
  }
  return { keys, reps };
}

function sortedReps(reps: Label[]): Label[] {
  const copy = reps.slice();
  if (copy.every((r) => typeof r === 'number')) copy.sort((a, b) => (a as number) - (b as number));
  else copy.sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  return copy;
}

function fmtLabels(reps: readonly Label[]): string {
  return `[${reps.map((r) => (typeof r === 'string' ? `'${r}'` : String(r))).join(' ')}]`;
}

/** Mean as numpy computes it (pairwise summation), so results round like scikit-learn's. */
const compensatedMean = npMean;

export interface LogLossOptions {
  /** Positive class: `probs` are P(positiveLabel) (default 1). */
  readonly positiveLabel?: Label;
  /** The label set (scikit-learn's `labels`); otherwise the classes present in y_true. */
  readonly labels?: readonly Label[];
}

/** @internal Binary log loss on validated inputs. */
function binaryLogLossCore(isPos: Uint8Array, p: Float64Array): number {
  const n = p.length;
  const loss = workF64(WORK_SLOT.loss, n); // every element written below
  const hi = 1 - FLOAT64_EPS;
  for (let i = 0; i < n; i++) {
    let q = p[i] as number;
    if (q < FLOAT64_EPS) q = FLOAT64_EPS;
    else if (q > hi) q = hi;
    const q0 = 1 - q;
    const s = q0 + q;
    loss[i] = -Math.log((isPos[i] === 1 ? q : q0) / s);
  }
  return compensatedMean(loss);
}

/**
 * Binary `log_loss(y_true, p)` with eps = float64 eps: p clipped to [eps, 1−eps], expanded to
 * [1−p, p], renormalised, mean −ln p(true class). Undefined with scikit-learn's message when the
 * label set has only one class (pass `labels` to define it).
 */
export function logLoss(yTrue: LabelArray, probs: NumArray, opts?: LogLossOptions): StatResult {
  checkLengths(yTrue, probs, 'logLoss');
  const p = probabilities(probs, 'logLoss: probs');
  const pos = opts?.positiveLabel ?? 1;
  const posKey = labelKey(pos, 'positiveLabel', 0);
  let classKeys: string[];
  let classReps: Label[];
  if (opts?.labels !== undefined) {
    const d = distinctKeys(opts.labels, 'logLoss: labels', 3);
    classKeys = d.keys;
    classReps = d.reps;
    if (classKeys.length === 1) {
      return undef(`The labels array needs to contain at least two labels for log_loss, got ${fmtLabels(classReps)}.`);
    }
  } else {
    const d = distinctKeys(yTrue, 'logLoss: yTrue', 3);
    classKeys = d.keys;
    classReps = d.reps;
    if (classKeys.length === 1) {
      return undef(
        `y_true contains only one label (${String(classReps[0])}). Please provide the true labels explicitly through the labels argument.`,
      );
    }
  }
  if (classKeys.length > 2) {
    throw new StatsInputError('VIGIL_ERR_STATS_NOT_BINARY', 'logLoss: more than two classes; use logLossMulticlass');
  }
  if (!classKeys.includes(posKey)) {
    throw new StatsInputError('VIGIL_ERR_STATS_LABELS', `logLoss: positiveLabel ${posKey} is not one of the classes ${fmtLabels(sortedReps(classReps))}`);
  }
  const negRep = classReps[classKeys[0] === posKey ? 1 : 0] as Label;
  const { isPos } = encodeBinary(yTrue, pos, 'logLoss: yTrue', negRep); // throws on labels outside the set
  return defined(binaryLogLossCore(isPos, p));
}

/** Rows of class probabilities: an array of rows (each ArrayLike<number>) of equal length K. */
export type ProbaMatrix = readonly NumArray[];

function checkProba(proba: ProbaMatrix, k: number, what: string): void {
  for (let i = 0; i < proba.length; i++) {
    const row = proba[i] as NumArray;
    if (row.length !== k) {
      throw new StatsInputError('VIGIL_ERR_STATS_PROBA_SHAPE', `${what}: row ${i} has ${row.length} columns, expected ${k}`);
    }
    for (let j = 0; j < k; j++) {
      const v = row[j] as number;
      if (typeof v !== 'number' || v - v !== 0) {
        throw new StatsInputError('VIGIL_ERR_STATS_NON_FINITE', `${what}: proba[${i}][${j}] is not finite (${String(v)})`);
      }
      if (v < 0 || v > 1) {
        throw new StatsInputError('VIGIL_ERR_STATS_PROBABILITY_RANGE', `${what}: proba[${i}][${j}] is outside [0, 1] (${v})`);
      }
    }
  }
}

/** Column index per row of y_true, columns = `labels` (or sorted classes of y_true). */
function columnCodes(yTrue: LabelArray, proba: ProbaMatrix, labels: readonly Label[] | undefined, what: string) {
  checkLengths(yTrue, proba, what);
  const enc = encodeLabels([yTrue], [`${what}: yTrue`], labels);
  const cols = enc.labelCodes ?? enc.classes.map((_, i) => i);
  if (labels !== undefined && enc.classes.length !== labels.length) {
    throw new StatsInputError('VIGIL_ERR_STATS_LABELS', `${what}: y_true contains labels not in labels`);
  }
  // map universe code -> column index
  const colOf = new Int32Array(enc.classes.length).fill(-1);
  cols.forEach((code, j) => {
    colOf[code] = j;
  });
  const y = enc.codes[0] as Int32Array;
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = colOf[y[i] as number] as number;
  return { col: out, k: cols.length, labels: cols.map((c) => enc.classes[c] as Label) };
}

/** Multiclass `log_loss(y_true, proba, labels=labels)`: columns follow `labels` (or the sorted
 *  classes of y_true); each clipped to [eps, 1−eps], rows renormalised. */
export function logLossMulticlass(yTrue: LabelArray, proba: ProbaMatrix, opts?: LabelsOption): StatResult {
  const { col, k, labels } = columnCodes(yTrue, proba, opts?.labels, 'logLossMulticlass');
  if (k === 1) {
    return opts?.labels !== undefined
      ? undef(`The labels array needs to contain at least two labels for log_loss, got ${fmtLabels(labels)}.`)
      : undef(`y_true contains only one label (${String(labels[0])}). Please provide the true labels explicitly through the labels argument.`);
  }
  checkProba(proba, k, 'logLossMulticlass');
  const n = col.length;
  const loss = new Float64Array(n);
  const hi = 1 - FLOAT64_EPS;
  for (let i = 0; i < n; i++) {
    const row = proba[i] as NumArray;
    let s = 0;
    let qt = 0;
    const c = col[i] as number;
    for (let j = 0; j < k; j++) {
      let q = row[j] as number;
      if (q < FLOAT64_EPS) q = FLOAT64_EPS;
      else if (q > hi) q = hi;
      s += q;
      if (j === c) qt = q;
    }
    loss[i] = -Math.log(qt / s);
  }
  return defined(compensatedMean(loss));
}

/** `brier_score_loss(y_true, p, pos_label)`: mean((p − [y = positive])²). */
export function brierScore(yTrue: LabelArray, probs: NumArray, opts?: { readonly positiveLabel?: Label }): StatResult {
  checkLengths(yTrue, probs, 'brierScore');
  const p = probabilities(probs, 'brierScore: probs');
  const { isPos } = encodeBinary(yTrue, opts?.positiveLabel ?? 1, 'brierScore: yTrue');
  return defined(brierCore(isPos, p));
}

function brierCore(isPos: Uint8Array, p: Float64Array): number {
  const d = workF64(WORK_SLOT.loss, p.length); // every element written below
  for (let i = 0; i < p.length; i++) {
    const e = (isPos[i] as number) - (p[i] as number);
    d[i] = e * e;
  }
  return compensatedMean(d);
}

export interface MulticlassAucOptions extends LabelsOption {
  /** 'ovr' (one-vs-rest, default) or 'ovo' (one-vs-one, macro only). */
  readonly multiClass?: 'ovr' | 'ovo';
  /** 'macro' (default) or 'weighted' (ovr only: weighted by class prevalence in y_true). */
  readonly average?: 'macro' | 'weighted';
}

/**
 * Multiclass `roc_auc_score(y_true, proba, multi_class=..., average=..., labels=...)`.
 * Rows must sum to 1 (numpy.allclose, as scikit-learn checks) → else StatsInputError.
 * Undefined when a one-vs-rest / one-vs-one sub-problem has a single class (scikit-learn raises).
 */
export function rocAucMulticlass(yTrue: LabelArray, proba: ProbaMatrix, opts?: MulticlassAucOptions): StatResult {
  const { col, k } = columnCodes(yTrue, proba, opts?.labels, 'rocAucMulticlass');
  checkProba(proba, k, 'rocAucMulticlass');
  for (let i = 0; i < proba.length; i++) {
    const row = proba[i] as NumArray;
    let s = 0;
    for (let j = 0; j < k; j++) s += row[j] as number;
    if (!(Math.abs(s - 1) <= 1e-8 + 1e-5)) {
      throw new StatsInputError(
        'VIGIL_ERR_STATS_PROBA_SUM',
        'Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over classes',
      );
    }
  }
  const n = col.length;
  const multi = opts?.multiClass ?? 'ovr';
  const average = opts?.average ?? 'macro';
  const column = (j: number, rows?: Int32Array): Float64Array => {
    const idx = rows ?? null;
    const m = idx ? idx.length : n;
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) out[i] = (proba[idx ? (idx[i] as number) : i] as NumArray)[j] as number;
    return out;
  };
  if (multi === 'ovr') {
    let sum = 0;
    let wsum = 0;
    for (let j = 0; j < k; j++) {
      const isPos = new Uint8Array(n);
      let w = 0;
      for (let i = 0; i < n; i++) if (col[i] === j) {
        isPos[i] = 1;
        w++;
      }
      const r = aucFromCore(rankingCore(isPos, column(j)));
      if (!r.defined) return r;
      if (average === 'weighted') {
        sum += r.value * w;
        wsum += w;
      } else {
        sum += r.value;
        wsum += 1;
      }
    }
    return defined(sum / wsum);
  }
  if (average !== 'macro') {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', "rocAucMulticlass: multiClass 'ovo' supports average 'macro' only");
  }
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const rowsList: number[] = [];
      for (let i = 0; i < n; i++) if (col[i] === a || col[i] === b) rowsList.push(i);
      const rows = Int32Array.from(rowsList);
      const isA = new Uint8Array(rows.length);
      const isB = new Uint8Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const c = col[rows[i] as number];
        isA[i] = c === a ? 1 : 0;
        isB[i] = c === b ? 1 : 0;
      }
      const ra = aucFromCore(rankingCore(isA, column(a, rows)));
      const rb = aucFromCore(rankingCore(isB, column(b, rows)));
      if (!ra.defined) return ra;
      if (!rb.defined) return rb;
      sum += (ra.value + rb.value) / 2;
      pairs++;
    }
  }
  return defined(sum / pairs);
}

// ---------------------------------------------------------------------------------------------
// One-pass reports for the monitoring cycle
// ---------------------------------------------------------------------------------------------

export interface BinaryReportInput {
  readonly yTrue: LabelArray;
  /** Predicted labels; if absent, derived as `scores >= threshold ? positive : negative`. */
  readonly yPred?: LabelArray;
  /** Scores / probabilities of the positive class (any finite reals; probability metrics need [0, 1]). */
  readonly scores?: NumArray;
  /** Positive class (default 1). */
  readonly positiveLabel?: Label;
  /** Decision threshold used when yPred is absent (default 0.5). */
  readonly threshold?: number;
  /** ECE bins (default 10). */
  readonly nBins?: number;
}

export interface BinaryReport {
  readonly n: number;
  readonly positives: number;
  readonly confusion: BinaryCounts;
  readonly accuracy: StatResult;
  readonly precision: StatResult;
  readonly recall: StatResult;
  readonly f1: StatResult;
  /** Macro F1 over the labels present (scikit-learn average='macro'). */
  readonly f1Macro: StatResult;
  readonly mcc: StatResult;
  readonly balancedAccuracy: StatResult;
  readonly cohenKappa: StatResult;
  readonly rocAuc: StatResult;
  readonly averagePrecision: StatResult;
  /** log_loss with labels = {negative, positive} (the binary problem is known). */
  readonly logLoss: StatResult;
  readonly brier: StatResult;
  readonly ece: StatResult;
}

const NO_SCORES = undef('no scores given');
const NOT_PROBABILITIES = undef('scores are not probabilities (outside [0, 1])');

/**
 * Every binary metric of one window, from one label pass and (with scores) one sort.
 * Precision/recall/F1 carry the warnings of scikit-learn's precision_score / recall_score / f1_score.
 */
export function binaryReport(input: BinaryReportInput): BinaryReport {
  const pos = input.positiveLabel ?? 1;
  const n = input.yTrue.length;
  if (n === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY', 'binaryReport: empty input');
  let scores: Float64Array | undefined;
  if (input.scores !== undefined) {
    checkLengths(input.yTrue, input.scores, 'binaryReport');
    scores = finiteFloat64(input.scores, 'binaryReport: scores');
  }
  let isT: Uint8Array;
  let counts: BinaryCounts;
  if (input.yPred !== undefined) {
    const r = binaryCountsOf(input.yTrue, input.yPred, pos, 'binaryReport');
    isT = r.isPosTrue;
    counts = r.counts;
  } else {
    if (scores === undefined) {
      throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', 'binaryReport: need yPred or scores');
    }
    const thr = input.threshold ?? 0.5;
    if (typeof thr !== 'number' || Number.isNaN(thr)) {
      throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', 'binaryReport: threshold must be a number');
    }
    isT = encodeBinary(input.yTrue, pos, 'binaryReport: yTrue').isPos;
    let tp = 0;
    let nt = 0;
    let np = 0;
    for (let i = 0; i < n; i++) {
      const b = (scores[i] as number) >= thr ? 1 : 0;
      const a = isT[i] as number;
      nt += a;
      np += b;
      tp += a & b;
    }
    counts = { tp, fp: np - tp, fn: nt - tp, tn: n - nt - np + tp };
  }
  const { tp, fp, fn, tn } = counts;
  // Single-metric semantics (precision_score / recall_score / f1_score with zero_division='warn').
  const wp: string[] = [];
  const wr: string[] = [];
  const wf: string[] = [];
  const P = prfArrays([tp], [tp + fp], [tp + fn], 'warn', WARN_P, wp).precision[0] as number;
  const R = prfArrays([tp], [tp + fp], [tp + fn], 'warn', WARN_R, wr).recall[0] as number;
  const F = prfArrays([tp], [tp + fp], [tp + fn], 'warn', WARN_F, wf).f1[0] as number;
  // Labels present (negative first: only the value order of macro sums depends on it).
  const negPresent = tn + fp + fn > 0;
  const posPresent = tp + fp + fn > 0;
  const full = [
    [tn, fp],
    [fn, tp],
  ];
  const sel = [negPresent ? 0 : -1, posPresent ? 1 : -1].filter((x) => x >= 0);
  const mat = sel.map((r) => sel.map((c) => (full[r] as number[])[c] as number));
  const tpA = sel.map((c) => (full[c] as number[])[c] as number);
  const predA = sel.map((c) => (full[0] as number[])[c]! + (full[1] as number[])[c]!);
  const truA = sel.map((c) => (full[c] as number[])[0]! + (full[c] as number[])[1]!);
  const wm: string[] = [];
  const macro = prfArrays(tpA, predA, truA, 'warn', WARN_F, wm);
  const f1Macro = defined(macro.f1.reduce((a, b) => a + b, 0) / macro.f1.length, wm);

  let rocAucR: StatResult = NO_SCORES;
  let apR: StatResult = NO_SCORES;
  let ll: StatResult = NO_SCORES;
  let brier: StatResult = NO_SCORES;
  let ece: StatResult = NO_SCORES;
  if (scores !== undefined) {
    const core = rankingCore(isT, scores);
    rocAucR = aucFromCore(core);
    apR = apFromCore(core);
    let inUnit = true;
    for (let i = 0; i < n; i++) {
      const v = scores[i] as number;
      if (v < 0 || v > 1) {
        inUnit = false;
        break;
      }
    }
    if (inUnit) {
      ll = defined(binaryLogLossCore(isT, scores));
      brier = defined(brierCore(isT, scores));
      ece = calibrationFromEncoded(isT, scores, input.nBins ?? 10).ece;
    } else {
      ll = NOT_PROBABILITIES;
      brier = NOT_PROBABILITIES;
      ece = NOT_PROBABILITIES;
    }
  }
  return {
    n,
    positives: tp + fn,
    confusion: counts,
    accuracy: defined((tp + tn) / n),
    precision: defined(P, wp),
    recall: defined(R, wr),
    f1: defined(F, wf),
    f1Macro,
    mcc: mccFromMatrix(mat),
    balancedAccuracy: balancedAccuracyFromMatrix(mat),
    cohenKappa: cohenKappaFromMatrix(mat),
    rocAuc: rocAucR,
    averagePrecision: apR,
    logLoss: ll,
    brier,
    ece,
  };
}

export interface MulticlassReportInput {
  readonly yTrue: LabelArray;
  readonly yPred: LabelArray;
  /** Class probabilities, columns in `labels` order (or sorted classes). */
  readonly proba?: ProbaMatrix;
  /** Full label list (recommended: keeps absent classes visible). */
  readonly labels?: readonly Label[];
}

export interface MulticlassReport {
  readonly n: number;
  readonly labels: Label[];
  readonly confusion: number[][];
  readonly accuracy: StatResult;
  readonly precisionMacro: StatResult;
  readonly recallMacro: StatResult;
  readonly f1Macro: StatResult;
  readonly f1Micro: StatResult;
  /** Averages weighted by each class's support (sklearn average='weighted'). */
  readonly precisionWeighted: StatResult;
  readonly recallWeighted: StatResult;
  readonly f1Weighted: StatResult;
  readonly perClass: PrfPerClass;
  readonly mcc: StatResult;
  readonly balancedAccuracy: StatResult;
  readonly cohenKappa: StatResult;
  readonly logLoss: StatResult;
  readonly rocAucOvrMacro: StatResult;
  readonly rocAucOvrWeighted: StatResult;
}

/** Every multiclass metric of one window from one confusion matrix. */
export function multiclassReport(input: MulticlassReportInput): MulticlassReport {
  const u = universe(input.yTrue, input.yPred, input.labels, 'multiclassReport');
  const sel = u.enc.labelCodes ?? u.present;
  const { tp, pred, tru } = perClassCounts(u, sel);
  const single = (avg: 'macro' | 'micro' | 'weighted', wf: WarnFor, pick: 'precision' | 'recall' | 'f1'): StatResult => {
    const w: string[] = [];
    let t = tp;
    let p = pred;
    let r = tru;
    if (avg === 'micro') {
      const s = (a: number[]) => [a.reduce((x, y) => x + y, 0)];
      t = s(tp);
      p = s(pred);
      r = s(tru);
    }
    const a = prfArrays(t, p, r, 'warn', wf, w);
    const v = a[pick];
    if (avg === 'weighted') {
      const ws = tru.reduce((x, y) => x + y, 0);
      if (ws === 0) return defined(0, w);
      return defined(v.reduce((x, y, i) => x + y * (tru[i] as number), 0) / ws, w);
    }
    return defined(v.reduce((x, y) => x + y, 0) / v.length, w);
  };
  const pw: string[] = [];
  const per = prfArrays(tp, pred, tru, 'warn', WARN_ALL, pw);
  const present = subMatrix(u, u.present);
  const labelled = subMatrix(u, sel);
  let ll: StatResult = NO_SCORES;
  let ovrM: StatResult = NO_SCORES;
  let ovrW: StatResult = NO_SCORES;
  if (input.proba !== undefined) {
    const lo = input.labels !== undefined ? { labels: input.labels } : {};
    ll = logLossMulticlass(input.yTrue, input.proba, lo);
    try {
      ovrM = rocAucMulticlass(input.yTrue, input.proba, { ...lo, multiClass: 'ovr', average: 'macro' });
      ovrW = rocAucMulticlass(input.yTrue, input.proba, { ...lo, multiClass: 'ovr', average: 'weighted' });
    } catch (e) {
      if (!(e instanceof StatsInputError) || e.code !== 'VIGIL_ERR_STATS_PROBA_SUM') throw e;
      ovrM = undef(e.message);
      ovrW = undef(e.message);
    }
  }
  return {
    n: u.n,
    labels: sel.map((c) => u.enc.classes[c] as Label),
    confusion: labelled,
    accuracy: defined(diagAll(u) / u.n),
    precisionMacro: single('macro', WARN_P, 'precision'),
    recallMacro: single('macro', WARN_R, 'recall'),
    f1Macro: single('macro', WARN_F, 'f1'),
    f1Micro: single('micro', WARN_F, 'f1'),
    precisionWeighted: single('weighted', WARN_P, 'precision'),
    recallWeighted: single('weighted', WARN_R, 'recall'),
    f1Weighted: single('weighted', WARN_F, 'f1'),
    perClass: {
      labels: sel.map((c) => u.enc.classes[c] as Label),
      precision: per.precision,
      recall: per.recall,
      f1: per.f1,
      support: tru,
      warnings: pw,
    },
    mcc: mccFromMatrix(present),
    balancedAccuracy: balancedAccuracyFromMatrix(present),
    cohenKappa: cohenKappaFromMatrix(labelled),
    logLoss: ll,
    rocAucOvrMacro: ovrM,
    rocAucOvrWeighted: ovrW,
  };
}

function diagAll(u: Universe): number {
  let s = 0;
  for (let c = 0; c < u.k; c++) s += u.m[c * u.k + c] as number;
  return s;
}

export { REASON_ONE_CLASS_AUC };
