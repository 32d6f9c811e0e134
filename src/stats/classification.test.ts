import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  binaryReport,
  brierScore,
  cohenKappa,
  confusionMatrix,
  f1,
  logLoss,
  logLossMulticlass,
  matthewsCorrcoef,
  multiclassReport,
  precision,
  precisionRecallF1,
  precisionRecallF1PerClass,
  recall,
  rocAuc,
  rocAucMulticlass,
  type Average,
  type ZeroDivision,
} from './classification.js';
import { StatsInputError, type StatResult } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Case {
  name: string;
  task: 'binary' | 'multiclass';
  inputs: Record<string, Json>;
  expected: Record<string, Json>;
  warnings?: Record<string, string[]>;
  raises?: Record<string, { type: string; message: string }>;
}

const decode = (v: Json): Json => {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  return v;
};

const file = JSON.parse(
  readFileSync(new URL('../../test/fixtures/vectors/classification.json', import.meta.url), 'utf8'),
) as { cases: Case[] };
const cases = file.cases.map((c) => ({ ...c, inputs: decode(c.inputs) as Record<string, Json>, expected: decode(c.expected) as Record<string, Json> }));

function close(actual: number, expected: number, rtol = 1e-12, what = ''): void {
  if (Number.isNaN(expected)) {
    expect(actual, what).toBeNaN();
    return;
  }
  const ok = actual === expected || Math.abs(actual - expected) <= rtol * Math.abs(expected) + 1e-15;
  if (!ok) expect.fail(`${what}: got ${actual}, expected ${expected}`);
}

function checkStat(r: StatResult, exp: Json, warnings: string[] | undefined, raised: boolean, what: string, rtol = 1e-12) {
  if (raised || exp === null) {
    expect(exp, what).toBeNull();
    expect(r.defined, `${what} should be undefined`).toBe(false);
    return;
  }
  if (typeof exp === 'number' && Number.isNaN(exp)) {
    expect(r.defined, `${what} (NaN in sklearn) should be undefined`).toBe(false);
    return;
  }
  expect(r.defined, `${what} should be defined`).toBe(true);
  if (!r.defined) return;
  close(r.value, exp as number, rtol, what);
  expect([...(r.warnings ?? [])], `${what} warnings`).toEqual(warnings ?? []);
}

type Prfs = { precision: number | number[]; recall: number | number[]; f1: number | number[]; support: number[] | null };

function checkPrfs(
  got: { precision: number | number[]; recall: number | number[]; f1: number | number[]; warnings: readonly string[]; support?: number[] },
  exp: Prfs,
  warnings: string[] | undefined,
  what: string,
) {
  for (const k of ['precision', 'recall', 'f1'] as const) {
    const e = exp[k];
    const g = got[k];
    if (Array.isArray(e)) {
      expect(Array.isArray(g), what).toBe(true);
      (e as number[]).forEach((x, i) => close((g as number[])[i] as number, x, 1e-12, `${what}.${k}[${i}]`));
      expect((g as number[]).length).toBe(e.length);
    } else close(g as number, e, 1e-12, `${what}.${k}`);
  }
  if (exp.support !== null) expect(got.support).toEqual(exp.support);
  expect([...got.warnings], `${what} warnings`).toEqual(warnings ?? []);
}

const zdOf = (suffix: string): ZeroDivision => (suffix === 'zd0' ? 0 : suffix === 'zd1' ? 1 : 'warn');

describe('classification vectors (scikit-learn 1.2.1)', () => {
  const binary = cases.filter((c) => c.task === 'binary');
  const multi = cases.filter((c) => c.task === 'multiclass');
  expect(binary.length + multi.length).toBe(21);

  for (const c of binary) {
    it(`binary: ${c.name}`, () => {
      const yt = c.inputs.y_true as number[];
      const yp = c.inputs.y_pred as number[];
      const ys = c.inputs.y_score as number[];
      const W = c.warnings ?? {};
      const Rz = c.raises ?? {};
      let checked = 0;
      for (const [key, exp] of Object.entries(c.expected)) {
        const w = W[key];
        const raised = key in Rz;
        const m = /^(precision|recall|f1)_binary_(default|zd0|zd1)$/.exec(key);
        if (m) {
          const fn = m[1] === 'precision' ? precision : m[1] === 'recall' ? recall : f1;
          checkStat(fn(yt, yp, { zeroDivision: zdOf(m[2] as string) }), exp, w, raised, key);
        } else if (key.startsWith('prfs_')) {
          if (key === 'prfs_per_class_labels01') {
            checkPrfs(precisionRecallF1PerClass(yt, yp, { labels: [0, 1] }), exp as unknown as Prfs, w, key);
          } else {
            const avg = key.slice(5) as Average;
            checkPrfs(precisionRecallF1(yt, yp, { average: avg }), exp as unknown as Prfs, w, key);
          }
        } else if (key === 'accuracy') checkStat(accuracy(yt, yp), exp, w, raised, key);
        else if (key === 'roc_auc') checkStat(rocAuc(yt, ys), exp, w, raised, key);
        else if (key === 'average_precision') {
          const r = averagePrecision(yt, ys);
          checkStat(r, exp, w, raised, key);
          if (r.defined && exp === 0) expect(Object.is(r.value, -0)).toBe(Object.is(exp, -0));
        } else if (key === 'log_loss') checkStat(logLoss(yt, ys), exp, w, raised, key, 1e-10);
        else if (key === 'log_loss_labels01') checkStat(logLoss(yt, ys, { labels: [0, 1] }), exp, w, raised, key, 1e-10);
        else if (key === 'brier_score_loss') checkStat(brierScore(yt, ys), exp, w, raised, key);
        else if (key === 'matthews_corrcoef') checkStat(matthewsCorrcoef(yt, yp), exp, w, raised, key);
        else if (key === 'balanced_accuracy') checkStat(balancedAccuracy(yt, yp), exp, w, raised, key);
        else if (key === 'cohen_kappa') checkStat(cohenKappa(yt, yp), exp, w, raised, key);
        else if (key === 'confusion_matrix_labels01') expect(confusionMatrix(yt, yp, { labels: [0, 1] }).matrix).toEqual(exp);
        else if (key === 'confusion_matrix_default') expect(confusionMatrix(yt, yp).matrix).toEqual(exp);
        else expect.fail(`unhandled expected key ${key}`);
        if (raised) {
          // the raised message is our reason
          const r = key === 'roc_auc' ? rocAuc(yt, ys) : logLoss(yt, ys);
          expect(r.defined).toBe(false);
          if (!r.defined) expect(r.reason).toBe(Rz[key]?.message);
        }
        checked++;
      }
      expect(checked).toBe(Object.keys(c.expected).length);

      // The one-pass report agrees with the individual functions / vectors.
      const rep = binaryReport({ yTrue: yt, yPred: yp, scores: ys });
      checkStat(rep.accuracy, c.expected.accuracy ?? null, undefined, false, 'report.accuracy');
      checkStat(rep.precision, c.expected.precision_binary_default ?? null, W.precision_binary_default, false, 'report.precision');
      checkStat(rep.recall, c.expected.recall_binary_default ?? null, W.recall_binary_default, false, 'report.recall');
      checkStat(rep.f1, c.expected.f1_binary_default ?? null, W.f1_binary_default, false, 'report.f1');
      checkStat(rep.rocAuc, c.expected.roc_auc ?? null, undefined, 'roc_auc' in Rz, 'report.rocAuc');
      checkStat(rep.averagePrecision, c.expected.average_precision ?? null, W.average_precision, false, 'report.ap');
      checkStat(rep.logLoss, c.expected.log_loss_labels01 ?? null, undefined, false, 'report.logLoss', 1e-10);
      checkStat(rep.brier, c.expected.brier_score_loss ?? null, undefined, false, 'report.brier');
      checkStat(rep.mcc, c.expected.matthews_corrcoef ?? null, undefined, false, 'report.mcc');
      checkStat(rep.balancedAccuracy, c.expected.balanced_accuracy ?? null, W.balanced_accuracy, false, 'report.bacc');
      checkStat(rep.cohenKappa, c.expected.cohen_kappa ?? null, undefined, false, 'report.kappa');
      const macro = c.expected.prfs_macro as unknown as Prfs;
      expect(rep.f1Macro.defined && Math.abs(rep.f1Macro.value - (macro.f1 as number)) < 1e-12).toBe(true);
      const cm = c.expected.confusion_matrix_labels01 as number[][];
      expect(rep.confusion).toEqual({ tn: cm[0]?.[0], fp: cm[0]?.[1], fn: cm[1]?.[0], tp: cm[1]?.[1] });
      // Thresholding the scores at 0.5 reproduces y_pred.
      const rep2 = binaryReport({ yTrue: yt, scores: ys, threshold: 0.5 });
      expect(rep2.confusion).toEqual(rep.confusion);
    });
  }

  for (const c of multi) {
    it(`multiclass: ${c.name}`, () => {
      const yt = c.inputs.y_true as number[];
      const yp = c.inputs.y_pred as number[];
      const labels = c.inputs.labels as number[];
      const proba = c.inputs.y_proba as number[][] | undefined;
      const W = c.warnings ?? {};
      for (const [key, exp] of Object.entries(c.expected)) {
        const w = W[key];
        const m = /^prfs_(macro|micro|weighted)_(default|zd0|zd1)$/.exec(key);
        if (m) {
          const r = precisionRecallF1(yt, yp, { average: m[1] as Average, zeroDivision: zdOf(m[2] as string) });
          checkPrfs(r, exp as unknown as Prfs, w, key);
        } else if (key === 'prfs_per_class_default') checkPrfs(precisionRecallF1PerClass(yt, yp), exp as unknown as Prfs, w, key);
        else if (key === 'prfs_per_class_all_labels') checkPrfs(precisionRecallF1PerClass(yt, yp, { labels }), exp as unknown as Prfs, w, key);
        else if (key === 'accuracy') checkStat(accuracy(yt, yp), exp, w, false, key);
        else if (key === 'matthews_corrcoef') checkStat(matthewsCorrcoef(yt, yp), exp, w, false, key);
        else if (key === 'balanced_accuracy') checkStat(balancedAccuracy(yt, yp), exp, w, false, key);
        else if (key === 'cohen_kappa') checkStat(cohenKappa(yt, yp), exp, w, false, key);
        else if (key === 'confusion_matrix_all_labels') expect(confusionMatrix(yt, yp, { labels }).matrix).toEqual(exp);
        else if (key === 'log_loss') checkStat(logLossMulticlass(yt, proba ?? [], { labels }), exp, w, false, key, 1e-10);
        else if (key === 'roc_auc_ovr_macro') checkStat(rocAucMulticlass(yt, proba ?? [], { labels }), exp, w, false, key);
        else if (key === 'roc_auc_ovr_weighted')
          checkStat(rocAucMulticlass(yt, proba ?? [], { labels, average: 'weighted' }), exp, w, false, key);
        else if (key === 'roc_auc_ovo_macro') checkStat(rocAucMulticlass(yt, proba ?? [], { labels, multiClass: 'ovo' }), exp, w, false, key);
        else expect.fail(`unhandled expected key ${key}`);
      }
      const rep = multiclassReport(proba ? { yTrue: yt, yPred: yp, labels, proba } : { yTrue: yt, yPred: yp, labels });
      expect(rep.confusion).toEqual(c.expected.confusion_matrix_all_labels);
      checkStat(rep.accuracy, c.expected.accuracy ?? null, undefined, false, 'report.accuracy');
      checkStat(rep.mcc, c.expected.matthews_corrcoef ?? null, undefined, false, 'report.mcc');
      checkStat(rep.cohenKappa, c.expected.cohen_kappa ?? null, undefined, false, 'report.kappa');
      const macro = c.expected.prfs_macro_default as unknown as Prfs;
      const weighted = c.expected.prfs_weighted_default as unknown as Prfs;
      const micro = c.expected.prfs_micro_default as unknown as Prfs;
      checkStat(rep.f1Macro, macro.f1 as number, rep.f1Macro.defined ? [...(rep.f1Macro.warnings ?? [])] : [], false, 'report.f1Macro');
      checkStat(rep.precisionMacro, macro.precision as number, W.prfs_macro_default?.filter((x) => x.includes('Precision')).map((x) => x.replace('Precision and F-score are', 'Precision is')), false, 'report.precisionMacro');
      checkStat(rep.f1Weighted, weighted.f1 as number, rep.f1Weighted.defined ? [...(rep.f1Weighted.warnings ?? [])] : [], false, 'report.f1Weighted');
      checkStat(rep.precisionWeighted, weighted.precision as number, W.prfs_weighted_default?.filter((x) => x.includes('Precision')).map((x) => x.replace('Precision and F-score are', 'Precision is')), false, 'report.precisionWeighted');
      checkStat(rep.recallWeighted, weighted.recall as number, W.prfs_weighted_default?.filter((x) => x.includes('Recall')).map((x) => x.replace('Recall and F-score are', 'Recall is')), false, 'report.recallWeighted');
      checkStat(rep.f1Micro, micro.f1 as number, [], false, 'report.f1Micro');
      if (proba) {
        checkStat(rep.logLoss, c.expected.log_loss ?? null, undefined, false, 'report.logLoss', 1e-10);
        checkStat(rep.rocAucOvrMacro, c.expected.roc_auc_ovr_macro ?? null, undefined, false, 'report.ovr');
      }
    });
  }
});

describe('classification: string labels and label semantics', () => {
  it('string and numeric labels are the same class when their strings match', () => {
    expect(accuracy([1, '0', 'cat'], ['1', 0, 'cat'])).toEqual({ defined: true, value: 1 });
    const r = precision(['spam', 'ham', 'spam', 'ham'], ['spam', 'spam', 'ham', 'ham'], { positiveLabel: 'spam' });
    expect(r).toEqual({ defined: true, value: 0.5 });
  });
  it('string labels sort by code units, numeric labels numerically', () => {
    expect(confusionMatrix(['b', 'a', 'c'], ['a', 'a', 'c']).labels).toEqual(['a', 'b', 'c']);
    expect(confusionMatrix([10, 9, 2], [9, 9, 2]).labels).toEqual([2, 9, 10]);
  });
  it("average='binary' on three classes is an input error", () => {
    expect(() => f1([0, 1, 2], [0, 1, 1])).toThrow(StatsInputError);
    expect(() => f1([0, 1, 2], [0, 1, 1])).toThrow(/not binary with respect to positiveLabel=1/);
  });
  it('f1_score warns only when a label has neither true nor predicted samples', () => {
    const r = f1([0, 0, 0], [0, 0, 0]);
    expect(r).toEqual({
      defined: true,
      value: 0,
      warnings: [
        'UndefinedMetricWarning: F-score is ill-defined and being set to 0.0 due to no true nor predicted samples. Use `zero_division` parameter to control this behavior.',
      ],
    });
    expect(f1([0, 0, 0], [0, 0, 0], { zeroDivision: 1 })).toEqual({ defined: true, value: 1 });
  });
  it('weighted average with no true samples of the chosen labels follows scikit-learn', () => {
    const r = precisionRecallF1([0, 0], [1, 1], { average: 'weighted', labels: [1] });
    expect([r.precision, r.recall, r.f1]).toEqual([0, 0, 0]);
  });
  it('confusion matrix with labels none of which is in y_true raises', () => {
    expect(() => confusionMatrix([0, 0], [1, 1], { labels: [1] })).toThrow(/At least one label/);
  });
  it('multiclass ROC AUC rejects rows that do not sum to 1', () => {
    expect(() => rocAucMulticlass([0, 1, 2], [[0.5, 0.5, 0.5], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])).toThrow(/sum up to 1/);
  });
  it('multiclass ROC AUC with a class absent from y_true is undefined', () => {
    const r = rocAucMulticlass([0, 1, 0], [[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.7, 0.1, 0.2]], { labels: [0, 1, 2] });
    expect(r.defined).toBe(false);
  });
  it('binaryReport with decision scores outside [0,1] leaves probability metrics undefined', () => {
    const r = binaryReport({ yTrue: [0, 1, 0, 1], scores: [-2, 3, 0.5, 1.5], threshold: 0 });
    expect(r.rocAuc).toEqual({ defined: true, value: 1 });
    expect(r.logLoss.defined).toBe(false);
    expect(r.brier.defined).toBe(false);
    expect(r.confusion).toEqual({ tp: 2, fp: 1, fn: 0, tn: 1 });
  });
  it('Uint8Array labels and Float64Array scores work', () => {
    const r = binaryReport({ yTrue: Uint8Array.from([0, 1, 1, 0]), scores: Float64Array.from([0.1, 0.9, 0.4, 0.3]) });
    expect(r.rocAuc).toEqual({ defined: true, value: 1 });
    expect(r.f1.defined && r.f1.value).toBeCloseTo(2 / 3, 15);
  });
});

describe('classification: bad input', () => {
  const bad = (fn: () => unknown, code: string) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(StatsInputError);
      expect((e as StatsInputError).code).toBe(code);
      return;
    }
    expect.fail(`expected ${code}`);
  };
  it('empty arrays', () => {
    bad(() => accuracy([], []), 'VIGIL_ERR_STATS_EMPTY');
    bad(() => f1([], []), 'VIGIL_ERR_STATS_EMPTY');
    bad(() => rocAuc([], []), 'VIGIL_ERR_STATS_EMPTY');
    bad(() => binaryReport({ yTrue: [], scores: [] }), 'VIGIL_ERR_STATS_EMPTY');
    bad(() => confusionMatrix([], []), 'VIGIL_ERR_STATS_EMPTY');
  });
  it('mismatched lengths', () => {
    bad(() => accuracy([0, 1], [0]), 'VIGIL_ERR_STATS_LENGTH_MISMATCH');
    bad(() => rocAuc([0, 1], [0.1]), 'VIGIL_ERR_STATS_LENGTH_MISMATCH');
    bad(() => precisionRecallF1([0, 1], [0], { average: 'macro' }), 'VIGIL_ERR_STATS_LENGTH_MISMATCH');
    bad(() => logLossMulticlass([0, 1], [[0.5, 0.5]]), 'VIGIL_ERR_STATS_LENGTH_MISMATCH');
  });
  it('NaN / ±Infinity scores are rejected', () => {
    bad(() => rocAuc([0, 1], [0.1, NaN]), 'VIGIL_ERR_STATS_NON_FINITE');
    bad(() => averagePrecision([0, 1], [Infinity, 0.2]), 'VIGIL_ERR_STATS_NON_FINITE');
    bad(() => binaryReport({ yTrue: [0, 1], scores: [-Infinity, 0.2] }), 'VIGIL_ERR_STATS_NON_FINITE');
    bad(() => logLoss([0, 1], [0.1, NaN]), 'VIGIL_ERR_STATS_NON_FINITE');
  });
  it('probabilities outside [0,1] are rejected where they must be probabilities', () => {
    bad(() => logLoss([0, 1], [0.1, 1.2]), 'VIGIL_ERR_STATS_PROBABILITY_RANGE');
    bad(() => brierScore([0, 1], [-0.1, 0.2]), 'VIGIL_ERR_STATS_PROBABILITY_RANGE');
    bad(() => logLossMulticlass([0, 1], [[0.5, 0.5], [1.5, -0.5]]), 'VIGIL_ERR_STATS_PROBABILITY_RANGE');
  });
  it('bad labels (NaN, null, objects)', () => {
    bad(() => accuracy([NaN, 1], [0, 1]), 'VIGIL_ERR_STATS_BAD_LABEL');
    bad(() => f1([0, null as unknown as number], [0, 1]), 'VIGIL_ERR_STATS_BAD_LABEL');
    bad(() => confusionMatrix([0, {} as unknown as number], [0, 1]), 'VIGIL_ERR_STATS_BAD_LABEL');
  });
  it('one-element inputs give values or explicit Undefined, never a crash', () => {
    expect(accuracy([1], [1])).toEqual({ defined: true, value: 1 });
    expect(rocAuc([1], [0.3]).defined).toBe(false);
    expect(logLoss([1], [0.3]).defined).toBe(false);
    expect(logLoss([1], [0.5], { labels: [0, 1] })).toEqual({ defined: true, value: Math.LN2 });
    expect(cohenKappa([1], [1]).defined).toBe(false);
    expect(matthewsCorrcoef([1], [0])).toEqual({ defined: true, value: 0 });
    const r = binaryReport({ yTrue: [1], scores: [0.8] });
    expect(r.rocAuc.defined).toBe(false);
    expect(r.accuracy).toEqual({ defined: true, value: 1 });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const binRow = fc.record({ y: fc.integer({ min: 0, max: 1 }), p: fc.integer({ min: 0, max: 1 }), s: fc.double({ min: 0, max: 1, noNaN: true }) });
const rows = fc.array(binRow, { minLength: 1, maxLength: 60 });
const shuffleIdx = (n: number) => fc.array(fc.nat(), { minLength: n, maxLength: n });

function permute<T>(a: readonly T[], keys: readonly number[]): T[] {
  return a
    .map((x, i) => ({ x, k: keys[i] ?? 0, i }))
    .sort((u, v) => u.k - v.k || u.i - v.i)
    .map((o) => o.x);
}

const sameStat = (a: StatResult, b: StatResult) => {
  expect(a.defined).toBe(b.defined);
  if (a.defined && b.defined) expect(Math.abs(a.value - b.value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b.value)));
};

describe('classification properties', () => {
  it('log loss, Brier and ROC-AUC are the same whatever larger or smaller inputs came before (reused work arrays)', () => {
    const make = (n: number, seed: number) => {
      let x = seed;
      const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const y = Array.from({ length: n }, () => (rnd() < 0.4 ? 1 : 0));
      const s = y.map((t) => Math.min(1, Math.max(0, t * 0.3 + rnd() * 0.7)));
      return { y, s };
    };
    const stats = ({ y, s }: { y: number[]; s: number[] }) => [logLoss(y, s), brierScore(y, s), rocAuc(y, s), averagePrecision(y, s)];
    const small = make(50, 1);
    const large = make(300_000, 2); // above what is kept between calls
    const medium = make(20_000, 3);
    const first = [stats(small), stats(medium)];
    stats(large);
    expect([stats(small), stats(medium)]).toEqual(first);
    stats(make(70_000, 4));
    expect([stats(medium), stats(small)]).toEqual([first[1], first[0]]);
  });

  it('metrics are invariant to row order', () => {
    fc.assert(
      fc.property(
        rows.chain((r) => fc.tuple(fc.constant(r), shuffleIdx(r.length))),
        ([r, keys]) => {
          const q = permute(r, keys);
          const A = binaryReport({ yTrue: r.map((x) => x.y), yPred: r.map((x) => x.p), scores: r.map((x) => x.s) });
          const B = binaryReport({ yTrue: q.map((x) => x.y), yPred: q.map((x) => x.p), scores: q.map((x) => x.s) });
          for (const k of ['accuracy', 'precision', 'recall', 'f1', 'f1Macro', 'mcc', 'balancedAccuracy', 'cohenKappa', 'rocAuc', 'averagePrecision', 'logLoss', 'brier', 'ece'] as const) {
            sameStat(A[k], B[k]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accuracy, precision, recall, F1 (all averages) lie in [0,1]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 40 }),
        fc.constantFrom<ZeroDivision>('warn', 0, 1),
        (pairs, zd) => {
          const yt = pairs.map((p) => p[0]);
          const yp = pairs.map((p) => p[1]);
          const inUnit = (r: StatResult) => {
            expect(r.defined).toBe(true);
            if (r.defined) {
              expect(r.value).toBeGreaterThanOrEqual(0);
              expect(r.value).toBeLessThanOrEqual(1);
            }
          };
          inUnit(accuracy(yt, yp));
          for (const average of ['macro', 'micro', 'weighted'] as const) {
            inUnit(precision(yt, yp, { average, zeroDivision: zd }));
            inUnit(recall(yt, yp, { average, zeroDivision: zd }));
            inUnit(f1(yt, yp, { average, zeroDivision: zd }));
          }
          const yt2 = yt.map((v) => (v >= 2 ? 1 : 0));
          const yp2 = yp.map((v) => (v % 2 === 0 ? 0 : 1));
          inUnit(precision(yt2, yp2, { zeroDivision: zd }));
          inUnit(recall(yt2, yp2, { zeroDivision: zd }));
          inUnit(f1(yt2, yp2, { zeroDivision: zd }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('AUC(scores) == 1 − AUC(−scores) when defined; AP in [0,1]', () => {
    fc.assert(
      fc.property(rows, (r) => {
        const y = r.map((x) => x.y);
        const s = r.map((x) => x.s);
        const a = rocAuc(y, s);
        const b = rocAuc(
          y,
          s.map((v) => -v),
        );
        expect(a.defined).toBe(b.defined);
        if (a.defined && b.defined) expect(Math.abs(a.value - (1 - b.value))).toBeLessThanOrEqual(1e-12);
        const ap = averagePrecision(y, s);
        if (ap.defined) {
          expect(ap.value).toBeGreaterThanOrEqual(0);
          expect(ap.value).toBeLessThanOrEqual(1 + 1e-12);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('ROC AUC equals the brute-force pair count with ties ½', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 5 })), { minLength: 2, maxLength: 40 }),
        (pairs) => {
          const y = pairs.map((p) => p[0]);
          const s = pairs.map((p) => p[1] / 5);
          let u = 0;
          let np = 0;
          let nn = 0;
          for (let i = 0; i < y.length; i++) {
            if (y[i] === 1) np++;
            else nn++;
            for (let j = 0; j < y.length; j++) {
              if (y[i] === 1 && y[j] === 0) u += (s[i] as number) > (s[j] as number) ? 1 : s[i] === s[j] ? 0.5 : 0;
            }
          }
          const r = rocAuc(y, s);
          if (np === 0 || nn === 0) expect(r.defined).toBe(false);
          else expect(r.defined && Math.abs(r.value - u / (np * nn))).toBeLessThanOrEqual(1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });
});
