/**
 * Multiple-testing adjustments, exactly as statsmodels.stats.multitest.multipletests
 * ('bonferroni', 'fdr_bh', 'holm') as test/fixtures/vectors/abtest.json re-implements them.
 * Adjusted p-values are capped at 1; BH and Holm are monotone in the order of the raw p-values.
 *
 * NaN p-values (an undefined test) are left out: they get adjusted p NaN and reject=false, and m
 * counts only the defined p-values. A p-value outside [0,1] is a StatsInputError.
 */
import { StatsInputError } from './types.js';

export type AdjustMethod = 'bonferroni' | 'bh' | 'holm';

export interface AdjustResult {
  readonly method: AdjustMethod;
  /** adjusted p-values, in the input order */
  readonly adjusted: number[];
  /** rejections at `alpha`, in the input order */
  readonly reject: boolean[];
  /** number of defined (non-NaN) p-values */
  readonly m: number;
  readonly alpha: number;
}

function validate(p: readonly number[], alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `alpha must be in (0,1), got ${alpha}`);
  p.forEach((x, k) => {
    if (typeof x !== 'number' || (!Number.isNaN(x) && !(x >= 0 && x <= 1))) {
      throw new StatsInputError('VIGIL_ERR_STATS_BAD_PVALUE', `p-value ${k} must be in [0,1] (or NaN for undefined), got ${String(x)}`);
    }
  });
}

/** Adjusts p-values with the given method. */
export function adjustPValues(pvalues: readonly number[], method: AdjustMethod = 'bh', alpha = 0.05): AdjustResult {
  validate(pvalues, alpha);
  const idx = pvalues.map((_, k) => k).filter((k) => !Number.isNaN(pvalues[k] as number));
  const m = idx.length;
  const adjusted = pvalues.map(() => NaN);
  const reject = pvalues.map(() => false);
  if (m === 0) return { method, adjusted, reject, m, alpha };
  // stable sort of the defined indices by p-value
  const order = [...idx].sort((a, b) => (pvalues[a] as number) - (pvalues[b] as number) || a - b);
  const ps = order.map((k) => pvalues[k] as number);
  const adj = new Array<number>(m);
  const rej = new Array<boolean>(m).fill(false);
  if (method === 'bonferroni') {
    for (let i = 0; i < m; i++) {
      adj[i] = Math.min(1, (ps[i] as number) * m);
      rej[i] = (ps[i] as number) <= alpha / m;
    }
  } else if (method === 'bh') {
    let rejectMax = -1;
    for (let i = 0; i < m; i++) {
      const f = (i + 1) / m;
      adj[i] = (ps[i] as number) / f;
      if ((ps[i] as number) <= f * alpha) rejectMax = i;
    }
    for (let i = m - 2; i >= 0; i--) adj[i] = Math.min(adj[i] as number, adj[i + 1] as number);
    for (let i = 0; i < m; i++) {
      if ((adj[i] as number) > 1) adj[i] = 1;
      rej[i] = i <= rejectMax;
    }
  } else if (method === 'holm') {
    let firstNotReject = m;
    for (let i = 0; i < m; i++) {
      if ((ps[i] as number) > alpha / (m - i)) {
        firstNotReject = i;
        break;
      }
    }
    let run = -Infinity;
    for (let i = 0; i < m; i++) {
      run = Math.max(run, (ps[i] as number) * (m - i));
      adj[i] = run > 1 ? 1 : run;
      rej[i] = i < firstNotReject;
    }
  } else {
    throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `unknown adjustment method: ${String(method)}`);
  }
  order.forEach((k, i) => {
    adjusted[k] = adj[i] as number;
    reject[k] = rej[i] as boolean;
  });
  return { method, adjusted, reject, m, alpha };
}

/** Benjamini–Hochberg adjusted p-values (input order). */
export const benjaminiHochberg = (p: readonly number[], alpha = 0.05): number[] => adjustPValues(p, 'bh', alpha).adjusted;
/** Bonferroni adjusted p-values (input order). */
export const bonferroni = (p: readonly number[], alpha = 0.05): number[] => adjustPValues(p, 'bonferroni', alpha).adjusted;
/** Holm adjusted p-values (input order). */
export const holm = (p: readonly number[], alpha = 0.05): number[] => adjustPValues(p, 'holm', alpha).adjusted;
