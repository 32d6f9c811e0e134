/**
 * Drift decisions: each test's verdict combines statistical significance with an effect size,
 * because on 100k-row windows p-values flag shifts far too small to matter.
 *
 * Defaults (see docs/statistics-drift.md for the reasoning):
 *  - KS: drift when BH-adjusted p < alpha (0.05) AND D >= 0.10; moderate when adjusted p < alpha
 *    AND D >= 0.05; high severity when D >= 0.25.
 *  - PSI: bands < 0.10 stable, 0.10–0.25 moderate, >= 0.25 drift; high severity >= 0.50.
 *  - chi-square (categorical, 2×K contingency): drift when adjusted p < alpha AND total variation
 *    distance >= 0.10; moderate when >= 0.05; high severity >= 0.25.
 *  - Jensen–Shannon distance (base 2, sampling bias removed, see jsdBiasCorrected): moderate
 *    >= 0.05, drift >= 0.10, high >= 0.25.
 *  - Wasserstein-1 scaled by the reference standard deviation: moderate >= 0.10, drift >= 0.25,
 *    high >= 0.50.
 *  - insufficient_data when the reference or current window has fewer than 30 usable values, or
 *    the statistic is undefined.
 * p-values of all tests of one model in one cycle are corrected together with Benjamini–Hochberg.
 * Pure functions.
 */
import { StatsInputError } from './types.js';
import { adjustPValues } from './multiple-testing.js';
import {
  chi2AgainstReference,
  jsdAgainstReference,
  jsdCategoricalAgainstReference,
  ksAgainstReference,
  prepareCurrent,
  psiAgainstReference,
  psiCategoricalAgainstReference,
  wassersteinAgainstReference,
  type CategoricalCurrent,
  type CategoricalReferenceSummary,
  type NumericReferenceSummary,
  type PreparedCurrent,
} from './reference.js';
import { droppedTotal, type NumericInput } from './sample.js';
import { countCategories } from './chi2.js';
import { codedSummary, gridOf, ksFromCodeCounts, psiFromCodeCounts } from './coded.js';
import type { KsOptions } from './ks.js';

export type DriftTest = 'ks' | 'psi' | 'chi2' | 'jsd' | 'wasserstein';
export type DriftStatus = 'stable' | 'moderate' | 'drift' | 'insufficient_data';
export type DriftSeverity = 'none' | 'low' | 'medium' | 'high';
export type FeatureType = 'numeric' | 'categorical';

export const NUMERIC_TESTS: readonly DriftTest[] = ['ks', 'psi', 'jsd', 'wasserstein'];
export const CATEGORICAL_TESTS: readonly DriftTest[] = ['chi2', 'psi', 'jsd'];

export interface DriftThresholds {
  readonly alpha: number;
  readonly ksModerateD: number;
  readonly ksDriftD: number;
  readonly ksHighD: number;
  readonly psiModerate: number;
  readonly psiDrift: number;
  readonly psiHigh: number;
  readonly chi2ModerateTvd: number;
  readonly chi2DriftTvd: number;
  readonly chi2HighTvd: number;
  readonly jsdModerate: number;
  readonly jsdDrift: number;
  readonly jsdHigh: number;
  readonly wassersteinModerate: number;
  readonly wassersteinDrift: number;
  readonly wassersteinHigh: number;
  /** share of current rows in unseen categories that triggers a data-quality note */
  readonly unseenShareWarn: number;
  readonly minReference: number;
  readonly minCurrent: number;
}

export const DEFAULT_THRESHOLDS: DriftThresholds = Object.freeze({
  alpha: 0.05,
  ksModerateD: 0.05,
  ksDriftD: 0.1,
  ksHighD: 0.25,
  psiModerate: 0.1,
  psiDrift: 0.25,
  psiHigh: 0.5,
  chi2ModerateTvd: 0.05,
  chi2DriftTvd: 0.1,
  chi2HighTvd: 0.25,
  jsdModerate: 0.05,
  jsdDrift: 0.1,
  jsdHigh: 0.25,
  wassersteinModerate: 0.1,
  wassersteinDrift: 0.25,
  wassersteinHigh: 0.5,
  unseenShareWarn: 0.01,
  minReference: 30,
  minCurrent: 30,
});

/** One test of one feature, before the decision. */
export interface TestOutcome {
  readonly feature: string;
  readonly featureType: FeatureType;
  readonly test: DriftTest;
  /** KS D, PSI, chi-square statistic, JS distance, Wasserstein-1 (NaN when undefined) */
  readonly statistic: number;
  /** KS / chi-square p-value; null for tests without one; NaN when undefined */
  readonly pValue: number | null;
  /** value compared with the thresholds: D, PSI, TVD, JS distance, W1 / σ_ref */
  readonly effectSize: number;
  readonly effectName: string;
  readonly nReference: number;
  readonly nCurrent: number;
  /** categorical: share of current rows in categories unseen in the reference */
  readonly unseenShare?: number;
  /** values removed from the current window (non-finite numbers or missing labels) */
  readonly droppedCurrent?: number;
  /** why the statistic is undefined, when it is */
  readonly undefinedReason?: string;
}

export interface FeatureDecision extends TestOutcome {
  /** BH-adjusted p-value across the cycle (null for tests without p-values) */
  readonly adjustedPValue: number | null;
  readonly status: DriftStatus;
  readonly severity: DriftSeverity;
  readonly reason: string;
  readonly action: string;
}

export interface DriftSummary {
  readonly featuresTested: number;
  readonly featuresDrifted: number;
  readonly featuresModerate: number;
  readonly featuresInsufficient: number;
  readonly driftedFeatures: string[];
  readonly severity: DriftSeverity;
  readonly driftDetected: boolean;
}

export interface DriftReport {
  readonly decisions: FeatureDecision[];
  readonly summary: DriftSummary;
  readonly thresholds: DriftThresholds;
}

const SEVERITY_ORDER: readonly DriftSeverity[] = ['none', 'low', 'medium', 'high'];
const STATUS_ORDER: readonly DriftStatus[] = ['insufficient_data', 'stable', 'moderate', 'drift'];

function resolveThresholds(t: Partial<DriftThresholds> = {}): DriftThresholds {
  const r = { ...DEFAULT_THRESHOLDS, ...t };
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `threshold ${k} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  if (!(r.alpha > 0 && r.alpha < 1)) throw new StatsInputError('VIGIL_ERR_STATS_BAD_OPTION', `alpha must be in (0,1), got ${r.alpha}`);
  return r;
}

const fmt = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(2)) : String(x));

function bands(effect: number, moderate: number, drift: number, high: number): { status: DriftStatus; severity: DriftSeverity } {
  if (effect >= drift) return { status: 'drift', severity: effect >= high ? 'high' : 'medium' };
  if (effect >= moderate) return { status: 'moderate', severity: 'low' };
  return { status: 'stable', severity: 'none' };
}

function actionFor(o: TestOutcome, status: DriftStatus, severity: DriftSeverity, t: DriftThresholds): string {
  const notes: string[] = [];
  if (o.unseenShare !== undefined && o.unseenShare >= t.unseenShareWarn) {
    notes.push(`${(o.unseenShare * 100).toFixed(1)}% of current rows are in categories unseen in the reference: check for new values, schema or encoding changes upstream.`);
  }
  let main: string;
  switch (status) {
    case 'insufficient_data':
      main = `Collect more data: ${o.undefinedReason ?? `need at least ${t.minReference} reference and ${t.minCurrent} current values`}.`;
      break;
    case 'stable':
      main = 'No action needed.';
      break;
    case 'moderate':
      main = `Monitor ${o.feature}: moderate shift (${o.effectName} ${fmt(o.effectSize)}). Check recent upstream changes and watch the next cycles.`;
      break;
    case 'drift':
      main =
        severity === 'high'
          ? `Investigate ${o.feature} now: large distribution shift (${o.effectName} ${fmt(o.effectSize)}). Verify the data pipeline, then evaluate model quality on recent labelled data and plan retraining on recent data if it degraded.`
          : `Investigate ${o.feature}: distribution drift (${o.effectName} ${fmt(o.effectSize)}). Verify the data source and compare model quality on recent data; consider retraining if it degraded.`;
      break;
  }
  return [main, ...notes].join(' ');
}

/**
 * Decides status/severity/action for every outcome. p-values (KS, chi-square) of all outcomes are
 * BH-adjusted together; undefined p-values are excluded from the correction.
 */
export function decideDrift(outcomes: readonly TestOutcome[], thresholds: Partial<DriftThresholds> = {}): DriftReport {
  const t = resolveThresholds(thresholds);
  const insufficient = (o: TestOutcome): boolean =>
    o.nReference < t.minReference ||
    o.nCurrent < t.minCurrent ||
    (!Number.isFinite(o.statistic) && !(o.test === 'chi2' && o.statistic === Infinity)) ||
    Number.isNaN(o.effectSize) ||
    (o.pValue !== null && Number.isNaN(o.pValue));
  const pIdx: number[] = [];
  const ps: number[] = [];
  outcomes.forEach((o, k) => {
    if (o.pValue !== null && !insufficient(o)) {
      pIdx.push(k);
      ps.push(o.pValue);
    }
  });
  const adj = adjustPValues(ps, 'bh', t.alpha).adjusted;
  const adjusted = new Map<number, number>();
  pIdx.forEach((k, i) => adjusted.set(k, adj[i] as number));

  const decisions: FeatureDecision[] = outcomes.map((o, k) => {
    const adjustedPValue = o.pValue === null ? null : (adjusted.get(k) ?? NaN);
    let status: DriftStatus;
    let severity: DriftSeverity;
    let reason: string;
    if (insufficient(o)) {
      status = 'insufficient_data';
      severity = 'none';
      reason =
        o.undefinedReason ??
        (o.nReference < t.minReference || o.nCurrent < t.minCurrent
          ? `too few values (reference ${o.nReference}, current ${o.nCurrent}; minimum ${t.minReference}/${t.minCurrent})`
          : 'statistic undefined');
    } else {
      switch (o.test) {
        case 'ks':
        case 'chi2': {
          const [m, d, h] = o.test === 'ks' ? [t.ksModerateD, t.ksDriftD, t.ksHighD] : [t.chi2ModerateTvd, t.chi2DriftTvd, t.chi2HighTvd];
          const significant = (adjustedPValue as number) < t.alpha;
          const b = bands(o.effectSize, m, d, h);
          if (significant) ({ status, severity } = b);
          else {
            status = 'stable';
            severity = 'none';
          }
          reason = `${o.effectName} ${fmt(o.effectSize)}, BH-adjusted p ${fmt(adjustedPValue as number)} (${significant ? '<' : '>='} alpha ${t.alpha}); drift needs ${o.effectName} >= ${d}`;
          break;
        }
        case 'psi':
          ({ status, severity } = bands(o.effectSize, t.psiModerate, t.psiDrift, t.psiHigh));
          reason = `PSI ${fmt(o.effectSize)} (bands <${t.psiModerate} stable, <${t.psiDrift} moderate, else drift)`;
          break;
        case 'jsd':
          ({ status, severity } = bands(o.effectSize, t.jsdModerate, t.jsdDrift, t.jsdHigh));
          reason = `JS distance ${fmt(o.effectSize)} (moderate >= ${t.jsdModerate}, drift >= ${t.jsdDrift})`;
          break;
        case 'wasserstein':
          ({ status, severity } = bands(o.effectSize, t.wassersteinModerate, t.wassersteinDrift, t.wassersteinHigh));
          reason = `W1/σ_ref ${fmt(o.effectSize)} (moderate >= ${t.wassersteinModerate}, drift >= ${t.wassersteinDrift})`;
          break;
      }
    }
    return { ...o, adjustedPValue, status, severity, reason, action: actionFor(o, status, severity, t) };
  });

  const byFeature = new Map<string, DriftStatus>();
  let severity: DriftSeverity = 'none';
  for (const d of decisions) {
    const prev = byFeature.get(d.feature);
    if (prev === undefined || STATUS_ORDER.indexOf(d.status) > STATUS_ORDER.indexOf(prev)) byFeature.set(d.feature, d.status);
    if (SEVERITY_ORDER.indexOf(d.severity) > SEVERITY_ORDER.indexOf(severity)) severity = d.severity;
  }
  const driftedFeatures = [...byFeature].filter(([, s]) => s === 'drift').map(([f]) => f);
  return {
    decisions,
    summary: {
      featuresTested: byFeature.size,
      featuresDrifted: driftedFeatures.length,
      featuresModerate: [...byFeature.values()].filter((s) => s === 'moderate').length,
      featuresInsufficient: [...byFeature.values()].filter((s) => s === 'insufficient_data').length,
      driftedFeatures,
      severity,
      driftDetected: driftedFeatures.length > 0,
    },
    thresholds: t,
  };
}

function undefinedOutcome(feature: string, featureType: FeatureType, test: DriftTest, nReference: number, nCurrent: number, reason: string): TestOutcome {
  return {
    feature,
    featureType,
    test,
    statistic: NaN,
    pValue: test === 'ks' || test === 'chi2' ? NaN : null,
    effectSize: NaN,
    effectName: effectNames[test],
    nReference,
    nCurrent,
    undefinedReason: reason,
  };
}

/**
 * JS distance (base 2) with its sampling bias removed: two samples of the SAME distribution give
 * an expected JS divergence ≈ (B−1)(1/n_ref + 1/n_cur) / (8 ln 2) bits on B bins, i.e. a distance
 * of 0.057 at n = 1,000 per side and B = 10. The decision compares sqrt(max(0, JSD² − bias)).
 */
export function jsdBiasCorrected(distance: number, bins: number, nRef: number, nCur: number): number {
  if (!Number.isFinite(distance) || nRef <= 0 || nCur <= 0) return distance;
  const bias = (Math.max(bins, 1) - 1) * (1 / nRef + 1 / nCur) / (8 * Math.LN2);
  return Math.sqrt(Math.max(0, distance * distance - bias));
}

const effectNames: Record<DriftTest, string> = {
  ks: 'D',
  psi: 'PSI',
  chi2: 'TVD',
  jsd: 'JS distance (bias-corrected)',
  wasserstein: 'W1/σ_ref',
};

/**
 * Runs the requested numeric tests of one feature against its reference summary. The current
 * window is cleaned and sorted once. Tests that do not apply to numeric data (chi2) are skipped.
 */
const isPrepared = (c: NumericInput | PreparedCurrent): c is PreparedCurrent =>
  !(c instanceof Float64Array) && !Array.isArray(c) && typeof c === 'object' && 'sorted' in c;

/** Outcomes of the numeric tests; `current` may be raw values or already cleaned and sorted. */
export function numericOutcomes(
  feature: string,
  ref: NumericReferenceSummary,
  current: NumericInput | PreparedCurrent,
  tests: readonly DriftTest[] = ['ks', 'psi'],
  ks: KsOptions = {},
): TestOutcome[] {
  const wanted = tests.filter((x) => NUMERIC_TESTS.includes(x));
  let cur: PreparedCurrent;
  try {
    cur = isPrepared(current) ? current : prepareCurrent(current);
    if (cur.sorted.length === 0) throw new StatsInputError('VIGIL_ERR_STATS_EMPTY_SAMPLE', 'current sample has no finite values');
  } catch (e) {
    if (e instanceof StatsInputError) return wanted.map((test) => undefinedOutcome(feature, 'numeric', test, ref.count, 0, e.message));
    throw e;
  }
  const nCur = cur.sorted.length;
  const droppedCurrent = droppedTotal(cur.dropped);
  const base = { feature, featureType: 'numeric' as const, nReference: ref.count, nCurrent: nCur, droppedCurrent };
  return wanted.map((test): TestOutcome => {
    switch (test) {
      case 'ks': {
        const r = ksAgainstReference(ref, cur, ks);
        return { ...base, test, statistic: r.statistic, pValue: r.pvalue, effectSize: r.statistic, effectName: effectNames.ks };
      }
      case 'psi': {
        const r = psiAgainstReference(ref, cur);
        return { ...base, test, statistic: r.psi, pValue: null, effectSize: r.psi, effectName: effectNames.psi };
      }
      case 'jsd': {
        const r = jsdAgainstReference(ref, cur);
        const eff = jsdBiasCorrected(r.distance, ref.bins, ref.sorted.length, nCur);
        return { ...base, test, statistic: r.distance, pValue: null, effectSize: eff, effectName: effectNames.jsd };
      }
      default: {
        const w = wassersteinAgainstReference(ref, cur);
        const eff = ref.std > 0 ? w / ref.std : w === 0 ? 0 : Infinity;
        return { ...base, test: 'wasserstein', statistic: w, pValue: null, effectSize: eff, effectName: effectNames.wasserstein };
      }
    }
  });
}

/** Tests computed exactly from coded values (coded.ts); the others need the raw values. */
export const CODED_TESTS: readonly DriftTest[] = ['ks', 'psi'];

/**
 * The outcomes `numericOutcomes` gives, from the code counts of the current values (coded.ts):
 * KS and PSI (quantile bins) from the counts, exactly; JS distance and Wasserstein-1 from `raw`
 * (the current values cleaned and sorted), which they need. The same outcomes as numericOutcomes
 * on the raw values whenever `raw` holds those values.
 */
export function numericOutcomesCoded(
  feature: string,
  ref: NumericReferenceSummary,
  counts: Int32Array,
  tests: readonly DriftTest[] = ['ks', 'psi'],
  raw?: () => PreparedCurrent,
  ks: KsOptions = {},
): TestOutcome[] {
  const wanted = tests.filter((x) => NUMERIC_TESTS.includes(x));
  const cur = codedSummary(gridOf(ref), counts);
  if (cur.n === 0) return wanted.map((test) => undefinedOutcome(feature, 'numeric', test, ref.count, 0, 'current sample has no finite values'));
  const base = { feature, featureType: 'numeric' as const, nReference: ref.count, nCurrent: cur.n, droppedCurrent: droppedTotal(cur.dropped) };
  let prepared: PreparedCurrent | undefined;
  const values = (): PreparedCurrent => {
    if (raw === undefined) throw new Error(`drift test on ${feature} needs the raw values, which the window does not keep`);
    prepared ??= raw();
    return prepared;
  };
  return wanted.map((test): TestOutcome => {
    switch (test) {
      case 'ks': {
        const r = ksFromCodeCounts(ref, counts, ks);
        return { ...base, test, statistic: r.statistic, pValue: r.pvalue, effectSize: r.statistic, effectName: effectNames.ks };
      }
      case 'psi': {
        const r = psiFromCodeCounts(ref, counts);
        return { ...base, test, statistic: r.psi, pValue: null, effectSize: r.psi, effectName: effectNames.psi };
      }
      default:
        return numericOutcomes(feature, ref, values(), [test], ks)[0] as TestOutcome;
    }
  });
}

/**
 * Runs the requested categorical tests (chi2, psi, jsd) of one feature against its reference
 * summary. Missing labels (null/undefined/'') are dropped and counted.
 */
export function categoricalOutcomes(
  feature: string,
  ref: CategoricalReferenceSummary,
  current: CategoricalCurrent,
  tests: readonly DriftTest[] = ['chi2', 'psi'],
): TestOutcome[] {
  const wanted = tests.filter((x) => CATEGORICAL_TESTS.includes(x));
  let counts: Map<string, number>;
  let missing = 0;
  if (typeof (current as ArrayLike<unknown>).length === 'number' && !(current instanceof Map)) {
    const c = countCategories(current as ArrayLike<string | null | undefined>);
    counts = c.counts;
    missing = c.missing;
  } else {
    counts = new Map(current instanceof Map ? current : Object.entries(current as Record<string, number>));
  }
  const nCur = [...counts.values()].reduce((a, b) => a + b, 0);
  if (nCur === 0) {
    return wanted.map((test) => undefinedOutcome(feature, 'categorical', test, ref.count, 0, 'current window has no categorical observations'));
  }
  const base = { feature, featureType: 'categorical' as const, nReference: ref.count, nCurrent: nCur, droppedCurrent: missing };
  const chi = chi2AgainstReference(ref, counts);
  return wanted.map((test): TestOutcome => {
    switch (test) {
      case 'chi2':
        if (!chi.defined) return { ...undefinedOutcome(feature, 'categorical', test, ref.count, nCur, chi.reason), unseenShare: chi.unseenShare };
        return { ...base, test, statistic: chi.statistic, pValue: chi.pvalue, effectSize: chi.tvd, effectName: effectNames.chi2, unseenShare: chi.unseenShare };
      case 'psi': {
        const r = psiCategoricalAgainstReference(ref, counts);
        return { ...base, test, statistic: r.psi, pValue: null, effectSize: r.psi, effectName: effectNames.psi, unseenShare: chi.unseenShare };
      }
      default: {
        const d = jsdCategoricalAgainstReference(ref, counts);
        const bins = new Set([...Object.keys(ref.counts), ...counts.keys()]).size;
        const eff = jsdBiasCorrected(d, bins, ref.count, nCur);
        return { ...base, test: 'jsd', statistic: d, pValue: null, effectSize: eff, effectName: effectNames.jsd, unseenShare: chi.unseenShare };
      }
    }
  });
}
