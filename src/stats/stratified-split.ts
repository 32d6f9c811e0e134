/**
 * scikit-learn's `StratifiedShuffleSplit(n_splits, test_size=<fraction>, random_state=<int>)`
 * (sklearn/model_selection/_split.py, 1.2): the same train and test rows in the same order, for
 * class codes y. Per split:
 *
 * 1. the train and test sizes per class by `_approximate_mode` (each class's share floored, the
 *    rest given to the largest remainders, ties among remainders broken by the generator);
 * 2. for each class in sorted order, a permutation of its rows (ascending row order before);
 *    the first n_i to train, the next t_i to test;
 * 3. train and test each shuffled.
 *
 * Sizes as `_validate_shuffle_split`: n_test = ceil(test_size·n), n_train = n − n_test.
 */
import { LegacyRandomState } from './numpy-random.js';
import { StatsInputError } from './types.js';

export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/** `_approximate_mode(class_counts, n_draws, rng)`. */
export function approximateMode(classCounts: readonly number[], nDraws: number, rng: LegacyRandomState): number[] {
  let total = 0;
  for (const c of classCounts) total += c;
  const continuous = classCounts.map((c) => (c / total) * nDraws);
  const floored = continuous.map(Math.floor);
  let needToAdd = nDraws - floored.reduce((s, x) => s + x, 0);
  if (needToAdd > 0) {
    const remainder = continuous.map((c, i) => c - (floored[i] as number));
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds: number[] = [];
      remainder.forEach((r, i) => {
        if (r === value) inds.push(i);
      });
      const addNow = Math.min(inds.length, needToAdd);
      for (const k of rng.choiceWithoutReplacement(inds.length, addNow)) floored[inds[k] as number] = (floored[inds[k] as number] as number) + 1;
      needToAdd -= addNow;
      if (needToAdd === 0) break;
    }
  }
  return floored;
}

export function stratifiedShuffleSplit(y: ArrayLike<number>, opts: { readonly nSplits: number; readonly testSize: number; readonly randomState: number }): Split[] {
  return [...stratifiedShuffleSplits(y, opts).splits];
}

/**
 * The same splits, drawn one at a time as they are iterated (the generator's draws are in the
 * same order), so only one split is in memory; the checks and sizes come at once. Each split's
 * `train` holds `nTrain` rows and its `test` `nTest`.
 */
export function stratifiedShuffleSplits(
  y: ArrayLike<number>,
  opts: { readonly nSplits: number; readonly testSize: number; readonly randomState: number },
): { readonly nTrain: number; readonly nTest: number; readonly splits: Generator<Split, void, undefined> } {
  const n = y.length;
  const nTest = Math.ceil(opts.testSize * n);
  const nTrain = n - nTest;
  if (nTrain <= 0) throw new StatsInputError('VIGIL_ERR_STATS_BAD_PARAM', `with n_samples=${n} and test_size=${opts.testSize}, the train set would be empty`);
  const classes = [...new Set(Array.from(y))].sort((a, b) => a - b);
  const code = new Map(classes.map((c, i) => [c, i]));
  const classCounts = classes.map(() => 0);
  const rowClass = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = code.get(y[i] as number) as number;
    rowClass[i] = c;
    classCounts[c] = (classCounts[c] as number) + 1;
  }
  // each class's rows, ascending
  const classIndices = classCounts.map((c) => new Int32Array(c));
  const filled = classCounts.map(() => 0);
  for (let i = 0; i < n; i++) {
    const c = rowClass[i] as number;
    (classIndices[c] as Int32Array)[filled[c] as number] = i;
    filled[c] = (filled[c] as number) + 1;
  }
  if (Math.min(...classCounts) < 2) {
    throw new StatsInputError('VIGIL_ERR_STATS_TOO_FEW', 'The least populated class in y has only 1 member, which is too few. The minimum number of groups for any class cannot be less than 2.');
  }
  if (nTrain < classes.length) throw new StatsInputError('VIGIL_ERR_STATS_TOO_FEW', `The train_size = ${nTrain} should be greater or equal to the number of classes = ${classes.length}`);
  if (nTest < classes.length) throw new StatsInputError('VIGIL_ERR_STATS_TOO_FEW', `The test_size = ${nTest} should be greater or equal to the number of classes = ${classes.length}`);
  const rng = new LegacyRandomState(opts.randomState);
  function* splits(): Generator<Split, void, undefined> {
    for (let s = 0; s < opts.nSplits; s++) {
      const nI = approximateMode(classCounts, nTrain, rng);
      const tI = approximateMode(
        classCounts.map((c, i) => c - (nI[i] as number)),
        nTest,
        rng,
      );
      // the sizes per class add up to nTrain and nTest (approximateMode draws exactly that many)
      const train = new Int32Array(nTrain);
      const test = new Int32Array(nTest);
      let a0 = 0;
      let b0 = 0;
      for (let i = 0; i < classes.length; i++) {
        const perm = rng.permutation(classCounts[i] as number);
        const idx = classIndices[i] as Int32Array;
        const a = nI[i] as number;
        const b = a + (tI[i] as number);
        for (let k = 0; k < a; k++) train[a0++] = idx[perm[k] as number] as number;
        for (let k = a; k < b; k++) test[b0++] = idx[perm[k] as number] as number;
      }
      // numpy's permutation(array) is a shuffled copy: these arrays are the copies
      yield { train: rng.shuffle(train), test: rng.shuffle(test) };
    }
  }
  return { nTrain, nTest, splits: splits() };
}
