/**
 * `vigil drift --reference ref.csv --current cur.csv [--tests ks,psi,chi2,jsd,wasserstein]
 *  [--format table|json] [--categorical a,b] [--numeric c] [--alpha 0.05] [--allow-bad-lines]`
 *
 * Compares every column of the reference file with the same column of the current file (CSV or
 * NDJSON, chosen by extension), prints a per-feature report and a summary, and returns the exit
 * code: 0 no drift, 1 drift detected, 2 bad input (message names the file, line or flag).
 * Column types come from the reference (inferred, or forced with --categorical / --numeric) and
 * are imposed on the current file. Default tests: ks,psi for numeric and chi2,psi for categorical
 * columns; --tests applies each listed test to the columns it fits.
 */
import { parseArgs } from 'node:util';
import { TabularError, toTabularData, type Column, type TabularData, type TypeOverrides } from '../ingest/tabular.js';
import { StatsInputError } from '../stats/types.js';
import { summarizeCategorical, summarizeNumeric } from '../stats/reference.js';
import {
  categoricalOutcomes,
  decideDrift,
  numericOutcomes,
  CATEGORICAL_TESTS,
  NUMERIC_TESTS,
  type DriftReport,
  type DriftTest,
  type FeatureDecision,
  type TestOutcome,
} from '../stats/drift-decision.js';
import type { CliIo } from './args.js';
import { createProgress, progressOf, type Progress } from './progress.js';
import { readInput } from './read-input.js';

export interface DriftIo extends CliIo {
  /** Reads a whole file as text instead of streaming it (tests). */
  readFile?: (path: string) => Promise<string>;
}

const ALL_TESTS: readonly DriftTest[] = ['ks', 'psi', 'chi2', 'jsd', 'wasserstein'];
const EFFECT_NAMES: Record<DriftTest, string> = { ks: 'D', psi: 'PSI', chi2: 'TVD', jsd: 'JS distance', wasserstein: 'W1/σ_ref' };

export const DRIFT_USAGE = `Usage: vigil drift --reference <file> --current <file> [options]

Compare the distribution of every column of <current> with <reference> (CSV with a header row,
NDJSON for .ndjson/.jsonl/.json files, Parquet for .parquet/.pq files). Files are streamed (a
Parquet file a row group at a time); progress goes to stderr (a bar on a terminal).

Options:
  --reference <file>     reference data (required)
  --current <file>       current data (required)
  --tests <list>         comma-separated: ks,psi,chi2,jsd,wasserstein
                         (default: ks,psi for numeric and chi2,psi for categorical columns)
  --format table|json    output format (default: table)
  --categorical <cols>   force these columns to be categorical
  --numeric <cols>       force these columns to be numeric
  --alpha <p>            significance level after Benjamini-Hochberg correction (default 0.05)
  --allow-bad-lines      report malformed lines as warnings instead of failing
  -h, --help             show this help

Exit codes: 0 no drift, 1 drift detected, 2 bad input.
`;

class UsageError extends Error {}

const list = (s: string | undefined): string[] =>
  s === undefined
    ? []
    : s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');

function fmtNum(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(2);
  return Number(x.toPrecision(4)).toString();
}

const jsonNum = (x: number | null | undefined): number | string | null =>
  x === null || x === undefined || Number.isNaN(x) ? null : Number.isFinite(x) ? x : x > 0 ? 'Infinity' : '-Infinity';

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

function renderTable(report: DriftReport, alpha: number): string {
  const rows: string[][] = [['FEATURE', 'TYPE', 'TEST', 'STATISTIC', 'P-VALUE', 'ADJ-P', 'STATUS', 'SEVERITY', 'SUGGESTED ACTION']];
  for (const d of report.decisions) {
    rows.push([d.feature, d.featureType, d.test, fmtNum(d.statistic), fmtNum(d.pValue), fmtNum(d.adjustedPValue), d.status, d.severity, d.action]);
  }
  const s = report.summary;
  const lines = [
    table(rows),
    '',
    `Summary: ${s.featuresTested} feature(s) tested, ${s.featuresDrifted} drifted${s.featuresDrifted ? ` (${s.driftedFeatures.join(', ')})` : ''}, ` +
      `${s.featuresModerate} moderate, ${s.featuresInsufficient} insufficient data; severity ${s.severity}; alpha ${alpha} (Benjamini-Hochberg).`,
    s.driftDetected ? 'Result: DRIFT DETECTED' : 'Result: no drift',
  ];
  return `${lines.join('\n')}\n`;
}

function renderJson(report: DriftReport, ref: string, cur: string, alpha: number): string {
  const features = report.decisions.map((d: FeatureDecision) => ({
    feature: d.feature,
    type: d.featureType,
    test: d.test,
    statistic: jsonNum(d.statistic),
    p_value: jsonNum(d.pValue),
    adjusted_p_value: jsonNum(d.adjustedPValue),
    effect_size: jsonNum(d.effectSize),
    effect_name: d.effectName,
    status: d.status,
    severity: d.severity,
    reason: d.reason,
    suggested_action: d.action,
    n_reference: d.nReference,
    n_current: d.nCurrent,
    ...(d.unseenShare !== undefined ? { unseen_share: d.unseenShare } : {}),
    ...(d.droppedCurrent !== undefined ? { dropped_current: d.droppedCurrent } : {}),
  }));
  const s = report.summary;
  return `${JSON.stringify(
    {
      reference: ref,
      current: cur,
      alpha,
      features,
      summary: {
        features_tested: s.featuresTested,
        features_drifted: s.featuresDrifted,
        drifted_features: s.driftedFeatures,
        features_moderate: s.featuresModerate,
        features_insufficient: s.featuresInsufficient,
        severity: s.severity,
        drift_detected: s.driftDetected,
      },
    },
    null,
    2,
  )}\n`;
}

function missingColumnOutcomes(name: string, col: Column, tests: readonly DriftTest[], nRef: number): TestOutcome[] {
  const applicable = col.type === 'numeric' ? NUMERIC_TESTS : CATEGORICAL_TESTS;
  return tests
    .filter((t) => applicable.includes(t))
    .map((test) => ({
      feature: name,
      featureType: col.type,
      test,
      statistic: NaN,
      pValue: test === 'ks' || test === 'chi2' ? NaN : null,
      effectSize: NaN,
      effectName: EFFECT_NAMES[test],
      nReference: nRef,
      nCurrent: 0,
      undefinedReason: 'column is missing from the current file',
    }));
}

/** Runs `vigil drift`; returns the exit code. `argv` may start with the word "drift". */
export async function runDrift(argv: string[], io: DriftIo): Promise<number> {
  const args = argv[0] === 'drift' ? argv.slice(1) : argv;
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    io.stdout(DRIFT_USAGE); // asked for help: the usage, whatever else the line says
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        reference: { type: 'string' },
        current: { type: 'string' },
        tests: { type: 'string' },
        format: { type: 'string', default: 'table' },
        categorical: { type: 'string' },
        numeric: { type: 'string' },
        alpha: { type: 'string', default: '0.05' },
        'allow-bad-lines': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`vigil drift: ${(e as Error).message}\n\n${DRIFT_USAGE}`);
    return 2;
  }
  if (values['help']) {
    io.stdout(DRIFT_USAGE);
    return 0;
  }
  const progress = progressOf(io, 'vigil drift');
  /** stderr, with the progress bar out of the way */
  const stderr = (text: string): void => {
    progress.clear();
    io.stderr(text);
  };
  try {
    const refPath = values['reference'];
    const curPath = values['current'];
    if (typeof refPath !== 'string' || refPath === '') throw new UsageError('missing required flag --reference <file>');
    if (typeof curPath !== 'string' || curPath === '') throw new UsageError('missing required flag --current <file>');
    const format = values['format'] as string;
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be "table" or "json", got ${JSON.stringify(format)}`);
    const alphaText = values['alpha'] as string;
    const alpha = Number(alphaText);
    if (alphaText.trim() === '' || !(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha must be a number strictly between 0 and 1, got ${JSON.stringify(alphaText)}`);
    const testsFlag = values['tests'] as string | undefined;
    const requested = list(testsFlag);
    if (testsFlag !== undefined && requested.length === 0) throw new UsageError('--tests is empty');
    for (const t of requested) {
      if (!ALL_TESTS.includes(t as DriftTest)) throw new UsageError(`--tests: unknown test ${JSON.stringify(t)} (choose from ${ALL_TESTS.join(', ')})`);
    }
    const overrides: TypeOverrides = { categorical: list(values['categorical'] as string | undefined), numeric: list(values['numeric'] as string | undefined) };
    const both = (overrides.categorical ?? []).filter((c) => (overrides.numeric ?? []).includes(c));
    if (both.length) throw new UsageError(`column ${JSON.stringify(both[0])} is given to both --categorical and --numeric`);

    const { ref, cur } = await readPair(refPath, curPath, overrides, { ...(io.readFile ? { readText: io.readFile } : {}), progress });

    const issues = [...ref.issues, ...cur.issues];
    for (const i of issues) stderr(`${values['allow-bad-lines'] ? 'warning' : 'error'}: ${i.file}:${i.line}: ${i.message}\n`);
    if (issues.length && !values['allow-bad-lines']) {
      stderr(`vigil drift: ${issues.length} malformed line(s); fix them or pass --allow-bad-lines\n`);
      return 2;
    }
    if (ref.rowCount === 0) throw new UsageError(`${refPath}: no data rows`);
    if (cur.rowCount === 0) throw new UsageError(`${curPath}: no data rows`);

    progress.stage(`testing ${ref.columns.length} column(s)`);
    const report = decideDrift(collectOutcomes(ref, cur, requested as DriftTest[]), { alpha });
    progress.done();
    io.stdout(format === 'json' ? renderJson(report, refPath, curPath, alpha) : renderTable(report, alpha));
    return report.summary.driftDetected ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof TabularError || e instanceof StatsInputError) {
      stderr(`vigil drift: ${e.message}\n`);
      return 2;
    }
    progress.clear();
    throw e;
  }
}

/**
 * The reference and the current file (streamed, typed as they are read), the current one typed as
 * the reference's columns are; `readText` reads a file whole instead (tests).
 */
export async function readPair(
  refPath: string,
  curPath: string,
  overrides: TypeOverrides,
  options: { readText?: (p: string) => Promise<string>; progress?: Progress } = {},
): Promise<{ ref: TabularData; cur: TabularData }> {
  const progress = options.progress ?? createProgress({ mode: 'off', command: '', write: () => undefined, now: () => 0 });
  const source = options.readText === undefined ? {} : { readText: options.readText };
  const ref = toTabularData(await readInput(refPath, { ...source, overrides }, progress));
  const shared: { categorical: string[]; numeric: string[] } = { categorical: [], numeric: [] };
  for (const c of ref.columns) (c.type === 'numeric' ? shared.numeric : shared.categorical).push(c.name);
  // the reference's types, imposed on the columns the current file has
  const cur = toTabularData(await readInput(curPath, { ...source, overrides: shared, overridesIfPresent: true }, progress));
  return { ref, cur };
}

/** Every column's test outcomes: the reference's columns against the current file's (default tests by type, or `requested`). */
export function collectOutcomes(ref: TabularData, cur: TabularData, requested: readonly DriftTest[]): TestOutcome[] {
  const curCols = new Map(cur.columns.map((c) => [c.name, c]));
  const outcomes: TestOutcome[] = [];
  for (const rc of ref.columns) {
    const numeric = rc.type === 'numeric';
    const tests = requested.length ? requested : numeric ? (['ks', 'psi'] as DriftTest[]) : (['chi2', 'psi'] as DriftTest[]);
    const cc = curCols.get(rc.name);
    const nRef = (rc.numeric?.length ?? rc.labels?.length ?? 0) - rc.missing;
    if (!cc) {
      outcomes.push(...missingColumnOutcomes(rc.name, rc, tests, nRef));
      continue;
    }
    if (numeric) {
      let summary;
      try {
        summary = summarizeNumeric(rc.numeric as Float64Array);
      } catch (e) {
        if (!(e instanceof StatsInputError)) throw e;
        outcomes.push(...missingColumnOutcomes(rc.name, rc, tests, 0).map((o) => ({ ...o, undefinedReason: `reference column has no finite values` })));
        continue;
      }
      outcomes.push(...numericOutcomes(rc.name, summary, cc.numeric as Float64Array, tests));
    } else {
      const labels = rc.labels as readonly (string | null)[];
      if (labels.every((l) => l === null)) {
        outcomes.push(...missingColumnOutcomes(rc.name, rc, tests, 0).map((o) => ({ ...o, undefinedReason: 'reference column has no values' })));
        continue;
      }
      outcomes.push(...categoricalOutcomes(rc.name, summarizeCategorical(labels), cc.labels as readonly (string | null)[], tests));
    }
  }
  return outcomes;
}
