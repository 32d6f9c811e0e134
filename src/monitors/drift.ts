import { countCodes, type CodeArray } from '../stats/coded.js';
import { DEFAULT_THRESHOLDS, categoricalOutcomes, decideDrift, numericOutcomes, numericOutcomesCoded, type DriftReport, type DriftTest, type TestOutcome } from '../stats/drift-decision.js';
import type { CategoricalReferenceSummary, NumericReferenceSummary, ReferenceSummary } from '../stats/reference.js';
import { sortedFloat32Scratch } from './sort32.js';
import { gather, labelled, type Emit, type WindowView } from './view.js';
import type { PreparedCurrent } from '../stats/reference.js';
import { KS_EXACT_BUDGET, type KsOptions } from '../stats/ks.js';
import type { ModelConfig } from '../config/schema.js';

export const DEFAULT_NUMERIC_TESTS: readonly DriftTest[] = ['ks', 'psi'];
export const DEFAULT_CATEGORICAL_TESTS: readonly DriftTest[] = ['chi2', 'psi'];

/** A categorical column's counts per category over these rows (categories without rows left out). */
export function categoryCounts(codes: Int32Array, rows: Int32Array, values: readonly string[]): Map<string, number> {
  const n = new Float64Array(values.length);
  for (const i of rows) {
    const c = codes[i] as number;
    if (c >= 0) n[c] = (n[c] as number) + 1;
  }
  const out = new Map<string, number>();
  values.forEach((v, c) => {
    if ((n[c] as number) > 0) out.set(v, n[c] as number);
  });
  return out;
}

/**
 * KS options of a model's drift tests: `auto` (the default) takes the exact p-value only within
 * KS_EXACT_BUDGET (a cycle's cost grows smoothly with the window), `scipy` SciPy's own rule.
 */
export const ksOptionsOf = (cfg: Pick<ModelConfig['drift'], 'ks_method'>): KsOptions => (cfg.ks_method === 'scipy' ? {} : { exactBudget: KS_EXACT_BUDGET });

function outcomesOf(name: string, ref: ReferenceSummary, current: Float64Array | PreparedCurrent | Map<string, number>, tests: Plan['tests']): TestOutcome[] {
  return ref.kind === 'numeric'
    ? numericOutcomes(name, ref as NumericReferenceSummary, current as Float64Array | PreparedCurrent, tests.numeric, tests.ks)
    : categoricalOutcomes(name, ref as CategoricalReferenceSummary, current as Map<string, number>, tests.categorical);
}

/** Code counts reused from one feature to the next (one per thread): no garbage per feature. */
let countScratch = new Int32Array(0);

/**
 * Outcomes of one numeric feature: the codes of its window rows counted once (stats/coded.ts), KS
 * and PSI from the counts; JS distance and Wasserstein-1, when configured, from the raw float32
 * values sorted once (radix sort).
 */
export function numericFeatureOutcomes(
  name: string,
  ref: NumericReferenceSummary,
  codes: CodeArray,
  nCodes: number,
  raw: Float32Array | null,
  rows: Int32Array,
  tests: readonly DriftTest[],
  ks: KsOptions,
): TestOutcome[] {
  if (countScratch.length < nCodes) countScratch = new Int32Array(nCodes);
  const counts = countCodes(codes, rows, countScratch, nCodes); // reused: read only within this call
  // Missing values (NaN) and ±Infinity are dropped and counted, as the statistics core does.
  const prepared =
    raw === null
      ? undefined
      : () => {
          const s = sortedFloat32Scratch(raw, rows); // a reused buffer: read only within this call
          return { sorted: s.sorted, dropped: { nan: s.nan, posInf: s.posInf, negInf: s.negInf } };
        };
  return numericOutcomesCoded(name, ref, counts, tests, prepared, ks);
}

/** A numeric feature to test: its reference, its codes against that reference, its raw values if kept. */
export interface NumericTask {
  readonly name: string;
  readonly ref: NumericReferenceSummary;
  readonly codes: CodeArray;
  /** number of distinct codes of the reference's grid */
  readonly nCodes: number;
  readonly raw: Float32Array | null;
}

/**
 * Computes the outcomes of numeric tasks elsewhere (the drift worker). `start` returns null when it
 * cannot take the job (the main thread then computes everything).
 */
export interface NumericOffload {
  start(job: { v: WindowView; tasks: readonly NumericTask[]; tests: readonly DriftTest[]; ks: KsOptions }): OffloadedJob | null;
}

export interface OffloadedJob {
  /** Claims the next task index (shared with the worker): values >= tasks.length mean none left. */
  claim(): number;
  /** The worker's outcomes by task index; never rejects (a failed worker gives what it had, possibly nothing). */
  readonly done: Promise<ReadonlyMap<number, TestOutcome[]>>;
}

type Entry = { readonly numeric: number } | { readonly outcomes: TestOutcome[] };

/** A drift computation of one model and window, started (planned and, when offloaded, handed to the worker). */
export interface DriftRun {
  /**
   * Computes the main thread's share, waits for the worker's, decides and emits (in the
   * single-threaded order). `tick`, awaited between features, may yield to the event loop: the
   * features' codes and the window's rows of this view do not change meanwhile (ingestion appends
   * rows after them; eviction is the cycle's own, before the view).
   */
  finish(emit: Emit, tick?: () => Promise<void>): Promise<void>;
}

interface Plan {
  readonly tests: { numeric: readonly DriftTest[]; categorical: readonly DriftTest[]; ks: KsOptions };
  readonly entries: Entry[];
  readonly tasks: NumericTask[];
}

function plan(v: WindowView): Plan | null {
  const b = v.baseline;
  if (b === undefined || v.rows.length < v.model.min_samples) return null;
  const cfg = v.model.drift;
  const tests = { numeric: cfg.numeric_tests, categorical: cfg.categorical_tests, ks: ksOptionsOf(cfg) };
  const entries: Entry[] = [];
  const tasks: NumericTask[] = [];
  for (const [name, col] of v.w.features) {
    const ref = b.features.get(name);
    if (ref === undefined || ref.kind !== col.kind) continue;
    if (col.kind === 'numeric') {
      const coded = v.w.codedFor(col, b.record.id, v.segmentRef);
      if (coded === undefined) throw new Error(`window of ${v.model.name} is not coded against baseline ${b.record.id}`);
      entries.push({ numeric: tasks.length });
      tasks.push({ name, ref: ref as NumericReferenceSummary, codes: coded.codes, nCodes: coded.grid.codes, raw: col.raw });
    } else entries.push({ outcomes: outcomesOf(name, ref, categoryCounts(col.codes, v.rows, col.dict.values), tests) });
  }
  return { tests, entries, tasks };
}

/** Prediction and label drift (cheap, main thread), as samples to emit after the feature drift. */
function tailDrift(v: WindowView, tests: Plan['tests'], emit: Emit): void {
  const b = v.baseline;
  if (b === undefined) return;
  // Prediction drift: the score (binary), predicted class (multiclass) or predicted value (regression).
  if (b.prediction !== undefined) {
    let current: Float64Array | Map<string, number>;
    if (v.model.task === 'binary') current = gather(v, v.w.score, v.rows);
    else if (v.model.task === 'regression') current = gather(v, v.w.pred, v.rows);
    else current = classCounts(v, v.w.pred, v.rows);
    for (const o of outcomesOf('prediction', b.prediction, current, tests)) {
      if (Number.isFinite(o.statistic)) emit('ml_prediction_drift_score', { model: v.model.name, test: o.test, window: v.window }, o.statistic);
    }
  }
  // Label drift, on the labelled rows.
  const lab = labelled(v, v.rows);
  if (b.label !== undefined && lab.length >= v.model.min_samples) {
    const current = v.model.task === 'regression' ? gather(v, v.w.label, lab) : classCounts(v, v.w.label, lab);
    for (const o of outcomesOf('label', b.label, current, tests)) {
      if (Number.isFinite(o.statistic)) emit('ml_label_drift_score', { model: v.model.name, test: o.test, window: v.window }, o.statistic);
    }
  }
}

function decide(v: WindowView, p: Plan, numeric: readonly (TestOutcome[] | undefined)[]): DriftReport {
  const outcomes: TestOutcome[] = [];
  for (const e of p.entries) outcomes.push(...('numeric' in e ? (numeric[e.numeric] as TestOutcome[]) : e.outcomes));
  return decideDrift(outcomes, { ...DEFAULT_THRESHOLDS, alpha: v.model.drift.alpha });
}

/**
 * The feature drift decisions of a window (what driftMonitor exports, as decisions: statistic,
 * adjusted p-value, status, severity, suggested action), computed at once; null without a
 * baseline or below min_samples rows. For the drift report.
 */
export function driftReportOf(v: WindowView): DriftReport | null {
  const p = plan(v);
  if (p === null) return null;
  return decide(
    v,
    p,
    p.tasks.map((t) => numericFeatureOutcomes(t.name, t.ref, t.codes, t.nCodes, t.raw, v.rows, p.tests.numeric, p.tests.ks)),
  );
}

function emitFeatures(v: WindowView, p: Plan, numeric: readonly (TestOutcome[] | undefined)[], emit: Emit): void {
  const report = decide(v, p, numeric);
  for (const d of report.decisions) {
    const labels = { model: v.model.name, feature: d.feature, test: d.test, window: v.window };
    if (d.status === 'insufficient_data') continue;
    emit('ml_feature_drift_score', labels, d.statistic);
    if (d.adjustedPValue !== null) emit('ml_feature_drift_p_value', labels, d.adjustedPValue);
    emit('ml_feature_drift_detected', labels, d.status === 'drift' ? 1 : 0);
  }
  emit('ml_features_drifted', { model: v.model.name, window: v.window }, report.summary.featuresDrifted);
}

/**
 * Feature drift against the baseline of the model's current version, every configured test per
 * feature, p-values Benjamini–Hochberg-corrected across the model's features, decisions combining
 * significance with effect size (src/stats/drift-decision.ts). Also prediction (score) drift and
 * label drift. Nothing without a baseline or below `min_samples` rows. Single-threaded.
 */
export function driftMonitor(v: WindowView, emit: Emit): void {
  const p = plan(v);
  if (p === null) return;
  const numeric = p.tasks.map((t) => numericFeatureOutcomes(t.name, t.ref, t.codes, t.nCodes, t.raw, v.rows, p.tests.numeric, p.tests.ks));
  emitFeatures(v, p, numeric, emit);
  tailDrift(v, p.tests, emit);
}

/**
 * The same computation as `driftMonitor`, with the numeric features shared between the main thread
 * and `offload` (work stealing over a shared counter). Starting hands the job to the worker; other
 * monitors can run on the main thread before `finish`. The emitted samples are identical: each
 * feature's outcomes are the same function of the same values wherever computed, and the decision
 * (Benjamini–Hochberg across all the model's features) is taken here, in feature order.
 */
export function startDrift(v: WindowView, offload: NumericOffload | null): DriftRun | null {
  const p = plan(v);
  if (p === null) return null;
  const job = offload !== null && p.tasks.length > 0 ? offload.start({ v, tasks: p.tasks, tests: p.tests.numeric, ks: p.tests.ks }) : null;
  return {
    async finish(emit: Emit, tick?: () => Promise<void>): Promise<void> {
      const numeric: (TestOutcome[] | undefined)[] = new Array<TestOutcome[] | undefined>(p.tasks.length);
      const compute = (k: number): void => {
        const t = p.tasks[k] as NumericTask;
        numeric[k] = numericFeatureOutcomes(t.name, t.ref, t.codes, t.nCodes, t.raw, v.rows, p.tests.numeric, p.tests.ks);
      };
      // Everything that reads the window's labels and predictions happens before the first await
      // (ingestion may run then: a label may arrive); the features' codes of these rows stay.
      const tail: [string, Record<string, string>, number][] = [];
      tailDrift(v, p.tests, (name, labels, value) => tail.push([name, labels, value]));
      // features in turn, or claimed from the counter shared with the worker
      let next = 0;
      const claim = job === null ? () => next++ : () => job.claim();
      for (let k = claim(); k < p.tasks.length; k = claim()) {
        compute(k);
        if (tick !== undefined) await tick();
      }
      if (job !== null) {
        const theirs = await job.done;
        for (const [k, o] of theirs) if (k >= 0 && k < p.tasks.length && numeric[k] === undefined) numeric[k] = o;
        // Whatever the worker claimed but did not deliver (it failed): computed here.
        for (let k = 0; k < p.tasks.length; k++) if (numeric[k] === undefined) compute(k);
      }
      emitFeatures(v, p, numeric, emit);
      for (const [name, labels, value] of tail) emit(name, labels, value);
    },
  };
}

function classCounts(v: WindowView, col: ArrayLike<number>, rows: Int32Array): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of rows) {
    const name = v.w.classes.values[col[i] as number] as string;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}
