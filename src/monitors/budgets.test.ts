import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ConfigError } from '../config/load.js';
import type { Sample } from '../metrics/snapshot.js';
import { budgetSamples, budgetWindow } from './budgets.js';

const w = (name: string, window: string, value: number, version = 'v1', model = 'fraud'): Sample => ({ name, labels: { model, version, window }, value });

describe('performance budgets', () => {
  const config = parseConfigText(
    `models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h, 24h]
    business: { tp: 1, cost_per_prediction: 0.001 }
    budgets: { min_accuracy: 0.8, min_precision: 0.75, min_recall: 0.75, max_latency_p95: 50ms, max_cost_per_prediction: 0.0011, max_accuracy_degradation: 0.05, max_latency_increase: 1.5 }
  - name: eta
    task: regression
    windows: [5m, 24h]
    budgets: { window: 24h, max_accuracy_degradation: 0.1 }
  - { name: plain, task: binary, positive_class: 1 }
`,
    'v.yaml',
    {},
  );

  it('measure each budget over its window, per version, and say which are broken', () => {
    const samples: Sample[] = [
      w('ml_window_samples', '1h', 500),
      w('ml_window_samples', '1d', 9000),
      w('ml_model_accuracy', '1h', 0.79), // below 0.8
      w('ml_model_accuracy', '1d', 0.95), // another window: not read
      w('ml_model_precision', '1h', 0.9),
      w('ml_prediction_latency_p95_seconds', '1h', 0.06), // above 50ms, and 2× the usual
      w('ml_prediction_latency_p95_seconds', '1d', 0.03),
      w('ml_prediction_error_ratio', '1h', 0.2), // 0.001 / 0.8 = 0.00125 > 0.0011
      w('ml_accuracy_improvement_ratio', '1h', -0.02), // 2% below the baseline: within 5%
      w('ml_window_samples', '1h', 100, 'v2'),
      w('ml_model_accuracy', '1h', 0.9, 'v2'),
      w('ml_window_samples', '1d', 10, 'v1', 'eta'),
      w('ml_accuracy_improvement_ratio', '1d', -0.25, 'v1', 'eta'),
      // a segment's series (after the model's, as the monitors emit them): budgets are the model's, not read
      { name: 'ml_model_accuracy', labels: { model: 'fraud', version: 'v1', window: '1h', segment: 'eu' }, value: 0.99 },
      { name: 'ml_model_precision', labels: { model: 'fraud', version: 'v1', window: '1h', segment: 'eu' }, value: 0.1 },
    ];
    const out = budgetSamples(config.models, samples);
    const by = (name: string) => Object.fromEntries(out.filter((s) => s.name === name).map((s) => [`${s.labels.model}/${s.labels.version ?? '-'}/${s.labels.budget}`, s.value]));
    expect(by('ml_model_budget_violated')).toEqual({
      'fraud/v1/min_accuracy': 1,
      'fraud/v1/min_precision': 0,
      'fraud/v1/max_latency_p95': 1,
      'fraud/v1/max_cost_per_prediction': 1,
      'fraud/v1/max_accuracy_degradation': 0,
      'fraud/v1/max_latency_increase': 1,
      'fraud/v2/min_accuracy': 0,
      'eta/v1/max_accuracy_degradation': 1,
    });
    const value = by('ml_model_budget_value');
    expect(value['fraud/v1/max_cost_per_prediction']).toBeCloseTo(0.00125, 15);
    expect(value['fraud/v1/max_latency_increase']).toBeCloseTo(2, 15);
    expect(value['fraud/v1/max_accuracy_degradation']).toBe(0.02);
    expect(by('ml_model_budget_threshold')).toMatchObject({ 'fraud/-/max_latency_p95': 0.05, 'fraud/-/min_recall': 0.75, 'eta/-/max_accuracy_degradation': 0.1 });
    // recall is unmeasured (no labels of the positive class yet): no value, no violation
    expect(out.filter((s) => s.labels.budget === 'min_recall' && s.name !== 'ml_model_budget_threshold')).toEqual([]);
    expect(out.find((s) => s.labels.model === 'eta' && s.name === 'ml_model_budget_value')?.labels.window).toBe('1d');
    expect(out.some((s) => s.labels.model === 'plain')).toBe(false);
    expect(budgetWindow(config.models[0]!)).toBe(3_600_000);
    expect(budgetWindow(config.models[1]!)).toBe(86_400_000);
  });

  it('refuse budgets that cannot be measured, naming the field', () => {
    try {
      parseConfigText(
        `models:
  - name: eta
    task: regression
    windows: [1h]
    budgets: { window: 2h, min_accuracy: 0.8, max_latency_increase: 1.5, max_cost_per_prediction: 1 }
`,
        'v.yaml',
        {},
      );
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
        'models[0].budgets.window: model "eta" has no such window (models[].windows)',
        'models[0].budgets.min_accuracy: min_accuracy needs a classification model (binary or multiclass)',
        'models[0].budgets.max_latency_increase: needs a model window longer than budgets.window to compare the latency with',
        'models[0].budgets.max_cost_per_prediction: needs models[].business.cost_per_prediction',
      ]);
    }
  });
});
