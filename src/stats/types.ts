/**
 * Shared result types of the statistics core. Everything in src/stats/ is a pure function:
 * no I/O, no clock, no logging, no module-level mutable state.
 */

/** A statistic that could be computed. `warnings` carries scikit-learn / SciPy style warnings
 *  (e.g. "UndefinedMetricWarning: zero_division") when the value is a documented fallback. */
export interface Defined {
  readonly defined: true;
  readonly value: number;
  readonly warnings?: readonly string[];
}

/** A statistic that has no value for this input, where the reference library raises
 *  (or returns NaN). Never silently 0. */
export interface Undefined {
  readonly defined: false;
  readonly reason: string;
}

export type StatResult = Defined | Undefined;

export const defined = (value: number, warnings?: readonly string[]): Defined =>
  warnings && warnings.length > 0 ? { defined: true, value, warnings } : { defined: true, value };

export const undef = (reason: string): Undefined => ({ defined: false, reason });

/** Bad input to a statistic (empty sample, mismatched lengths, …): a coded error. */
export class StatsInputError extends Error {
  readonly code: string;
  constructor(code: `VIGIL_ERR_STATS_${string}`, message: string) {
    super(message);
    this.name = 'StatsInputError';
    this.code = code;
  }
}
