import { describe, expect, it } from 'vitest';
import { qualityMetrics } from './quality.js';

// Expected values from scikit-learn 1.2.1 (Debian python3-sklearn):
//   precision_recall_fscore_support([0,0,0,1,1,2], [0,0,1,1,2,2], average='weighted')
//     == (0.75, 0.6666666666666666, 0.6777777777777779, None)
//   mean_squared_error([0,1,2,3], [1,1,4,3]) == 1.25
describe('qualityMetrics', () => {
  it('multiclass: macro and support-weighted precision, recall and F1', () => {
    const q = qualityMetrics({ task: 'multiclass', yTrue: Float64Array.from([0, 0, 0, 1, 1, 2]), yPred: Float64Array.from([0, 0, 1, 1, 2, 2]) });
    expect(q.precision_weighted).toBe(0.75);
    expect(q.recall_weighted).toBe(0.6666666666666666);
    expect(q.f1_score_weighted).toBe(0.6777777777777779);
    expect(q.precision).toBeCloseTo((1 + 0.5 + 0.5) / 3, 15);
  });

  it('regression: MSE beside MAE and RMSE', () => {
    const q = qualityMetrics({ task: 'regression', yTrue: Float64Array.from([0, 1, 2, 3]), yPred: Float64Array.from([1, 1, 4, 3]) });
    expect(q).toMatchObject({ mse: 1.25, mae: 0.75, rmse: Math.sqrt(1.25) });
  });
});
