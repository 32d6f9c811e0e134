/**
 * Performance budgets (seed 001): per model, limits on what the cycle already measures, read over
 * one window. Pure: the cycle's samples in, the budget series out.
 *
 *   min_accuracy, min_precision, min_recall  ml_model_{accuracy,precision,recall}{window}
 *   max_latency_p95                          ml_prediction_latency_p95_seconds{window}
 *   max_cost_per_prediction                  business.cost_per_prediction ÷ (1 − ml_prediction_error_ratio{window}):
 *                                            what a successful prediction costs (failed ones are paid for too)
 *   max_accuracy_degradation                 −ml_accuracy_improvement_ratio{window}: the relative drop below the baseline
 *   max_latency_increase                     p95 over the window ÷ p95 over the model's longest window (its usual latency)
 */
import { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import type { Sample } from '../metrics/snapshot.js';
import { asRecord as rec, num, positiveDuration } from '../config/primitives.js';

export const BudgetsSchema = z.strictObject({
  /** The window the budgets read (one of the model's windows); default 1h when the model has it, else its shortest. */
  window: positiveDuration().optional(),
  min_accuracy: num().pipe(z.number().min(0).max(1)).optional(),
  min_precision: num().pipe(z.number().min(0).max(1)).optional(),
  min_recall: num().pipe(z.number().min(0).max(1)).optional(),
  max_latency_p95: positiveDuration().optional(),
  max_cost_per_prediction: num().pipe(z.number().min(0)).optional(),
  /** Relative drop of accuracy (R² for regression) below the baseline's: 0.05 = 5 % below. */
  max_accuracy_degradation: num().pipe(z.number().min(0)).optional(),
  /** p95 latency over the window at most this many times its p95 over the model's longest window. */
  max_latency_increase: num().pipe(z.number().gt(0)).optional(),
});

export type BudgetsConfig = z.infer<typeof BudgetsSchema>;
export type BudgetName = Exclude<keyof BudgetsConfig, 'window'>;
export const BUDGET_NAMES: readonly BudgetName[] = ['min_accuracy', 'min_precision', 'min_recall', 'max_latency_p95', 'max_cost_per_prediction', 'max_accuracy_degradation', 'max_latency_increase'];
export const CLASSIFICATION_BUDGETS: ReadonlySet<BudgetName> = new Set(['min_accuracy', 'min_precision', 'min_recall']);

interface BudgetModel {
  name: string;
  windows: readonly number[];
  budgets?: BudgetsConfig | undefined;
  business?: { cost_per_prediction: number } | undefined;
}

/** The window a model's budgets read: `budgets.window`, else 1h when the model has it, else its shortest. */
export function budgetWindow(m: { windows: readonly number[]; budgets?: { window?: number | undefined } | undefined }): number {
  const w = m.budgets?.window;
  if (w !== undefined) return w;
  return m.windows.includes(3_600_000) ? 3_600_000 : Math.min(...m.windows);
}

/** The budget series of every model with budgets, from the cycle's samples. */
export function budgetSamples(models: readonly BudgetModel[], samples: readonly Sample[]): Sample[] {
  // index: name → model → window → version → value
  const idx = new Map<string, Map<string, number>>();
  const key = (model: string, window: string, version: string) => `${model}\u0000${window}\u0000${version}`;
  const versions = new Map<string, Set<string>>();
  for (const s of samples) {
    const { model, window, version, segment } = s.labels;
    // budgets are the model's: its segments' series are not read
    if (model === undefined || window === undefined || version === undefined || segment !== undefined) continue;
    let byKey = idx.get(s.name);
    if (byKey === undefined) idx.set(s.name, (byKey = new Map()));
    byKey.set(key(model, window, version), s.value);
    if (s.name === 'ml_window_samples') {
      let vs = versions.get(model);
      if (vs === undefined) versions.set(model, (vs = new Set()));
      vs.add(version);
    }
  }
  const get = (name: string, model: string, window: string, version: string) => idx.get(name)?.get(key(model, window, version));
  const out: Sample[] = [];
  for (const m of models) {
    const b = m.budgets;
    if (b === undefined) continue;
    const window = formatDuration(budgetWindow(m));
    const longest = formatDuration(Math.max(...m.windows));
    for (const name of BUDGET_NAMES) {
      const limit = b[name];
      if (limit === undefined) continue;
      const threshold = name === 'max_latency_p95' ? limit / 1000 : limit;
      out.push({ name: 'ml_model_budget_threshold', labels: { model: m.name, budget: name }, value: threshold });
      for (const version of [...(versions.get(m.name) ?? [])].sort()) {
        const value = measure(name, (n, w = window) => get(n, m.name, w, version), m.business?.cost_per_prediction ?? 0, longest);
        if (value === undefined || Number.isNaN(value)) continue;
        const labels = { model: m.name, version, window, budget: name };
        const violated = name.startsWith('min_') ? value < threshold : value > threshold;
        out.push({ name: 'ml_model_budget_value', labels, value }, { name: 'ml_model_budget_violated', labels, value: violated ? 1 : 0 });
      }
    }
  }
  return out;
}

function measure(name: BudgetName, get: (metric: string, window?: string) => number | undefined, costPerPrediction: number, longest: string): number | undefined {
  switch (name) {
    case 'min_accuracy':
      return get('ml_model_accuracy');
    case 'min_precision':
      return get('ml_model_precision');
    case 'min_recall':
      return get('ml_model_recall');
    case 'max_latency_p95':
      return get('ml_prediction_latency_p95_seconds');
    case 'max_cost_per_prediction': {
      const errors = get('ml_prediction_error_ratio');
      if (errors === undefined) return undefined;
      return errors >= 1 ? Infinity : costPerPrediction / (1 - errors);
    }
    case 'max_accuracy_degradation': {
      const r = get('ml_accuracy_improvement_ratio');
      return r === undefined ? undefined : -r;
    }
    case 'max_latency_increase': {
      const now = get('ml_prediction_latency_p95_seconds');
      const usual = get('ml_prediction_latency_p95_seconds', longest);
      return now === undefined || usual === undefined || !(usual > 0) ? undefined : now / usual;
    }
  }
}

/**
 * Cross checks of models[].budgets (defensive: runs when other parts of the file have problems):
 * the window is one of the model's, classification budgets on a classification model, a latency
 * increase needs a longer window to compare with, a cost budget needs business.cost_per_prediction.
 */
export function checkBudgets(cfg: unknown, ctx: z.RefinementCtx): void {
  const models = rec(cfg)?.models;
  if (!Array.isArray(models)) return;
  models.forEach((raw, i) => {
    const m = rec(raw);
    const b = rec(m?.budgets);
    if (m === undefined || b === undefined) return;
    const at = (...p: string[]) => ['models', i, 'budgets', ...p];
    const windows = Array.isArray(m.windows) && m.windows.every((w) => typeof w === 'number') ? (m.windows as number[]) : undefined;
    if (windows !== undefined && typeof b.window === 'number' && !windows.includes(b.window)) {
      ctx.addIssue({ code: 'custom', path: at('window'), message: `model "${String(m.name)}" has no such window (models[].windows)`, params: { vigil: 'VALUE' } });
    }
    if (m.task === 'regression') {
      for (const name of CLASSIFICATION_BUDGETS) {
        if (b[name] !== undefined) ctx.addIssue({ code: 'custom', path: at(name), message: `${name} needs a classification model (binary or multiclass)`, params: { vigil: 'VALUE' } });
      }
    }
    if (b.max_latency_increase !== undefined && windows !== undefined) {
      const w = budgetWindow({ windows, budgets: { window: typeof b.window === 'number' ? b.window : undefined } });
      if (Math.max(...windows) <= w) {
        ctx.addIssue({ code: 'custom', path: at('max_latency_increase'), message: 'needs a model window longer than budgets.window to compare the latency with', params: { vigil: 'VALUE' } });
      }
    }
    if (b.max_cost_per_prediction !== undefined && !(Number(rec(m.business)?.cost_per_prediction ?? 0) > 0)) {
      ctx.addIssue({ code: 'custom', path: at('max_cost_per_prediction'), message: 'needs models[].business.cost_per_prediction', params: { vigil: 'VALUE' } });
    }
  });
}
