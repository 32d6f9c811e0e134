/**
 * `vigil report --reference REF --current CUR [--out report.html]`: the drift of every column of
 * CUR against REF (the same tests and decisions as `vigil drift`) as one self-contained HTML file
 * with each feature's distributions (src/report/html.ts).
 */
import { writeFile } from 'node:fs/promises';
import { TabularError, type TabularData } from '../ingest/tabular.js';
import { categoricalDistribution, numericDistribution, type Distribution } from '../report/distributions.js';
import { renderDriftReport } from '../report/html.js';
import { decideDrift, type DriftTest } from '../stats/drift-decision.js';
import { StatsInputError } from '../stats/types.js';
import type { CliIo } from './args.js';
import { defineCommand, parseCommand, usageOf } from './args.js';
import { collectOutcomes, readPair } from './drift.js';
import { progressOf } from './progress.js';

const TESTS: readonly DriftTest[] = ['ks', 'psi', 'chi2', 'jsd', 'wasserstein'];

export const REPORT_COMMAND = defineCommand({
  name: 'report',
  summary:
    'Write an HTML drift report: every column of the current file against the reference (the tests and decisions\n' +
    'of vigil drift), with each feature\'s reference and current distributions. One self-contained file: it opens\n' +
    'offline, in any browser, and prints. Files are streamed (a Parquet file a row group at a time); progress goes to\n' +
    'stderr (a bar on a terminal, a line per stage otherwise).',
  notes: 'Exit codes: 0 written (drift or not), 2 bad input.',
  flags: {
    reference: { kind: 'file', short: 'r', arg: 'FILE', required: true, help: 'reference data: CSV, NDJSON (.ndjson, .jsonl, .json) or Parquet (.parquet, .pq)' },
    current: { kind: 'file', arg: 'FILE', required: true, help: 'current data, the same columns' },
    out: { kind: 'string', short: 'o', arg: 'FILE', default: 'report.html', help: 'where to write the report' },
    tests: { kind: 'string', arg: 'LIST', help: 'comma-separated: ks,psi,chi2,jsd,wasserstein (default: ks,psi numeric, chi2,psi categorical)' },
    alpha: { kind: 'number', arg: 'P', default: 0.05, help: 'significance after Benjamini-Hochberg correction' },
    categorical: { kind: 'string', arg: 'COLS', help: 'force these columns to be categorical' },
    numeric: { kind: 'string', arg: 'COLS', help: 'force these columns to be numeric' },
    title: { kind: 'string', arg: 'TEXT', help: 'the report\'s title (default: "Drift report")' },
    'allow-bad-lines': { kind: 'boolean', help: 'skip malformed lines instead of failing' },
  },
});

const list = (s: string | undefined): string[] => (s === undefined ? [] : s.split(',').map((x) => x.trim()).filter((x) => x !== ''));

/** Each reference column's distributions against the current file's column of the same name. */
export function distributionsOf(ref: TabularData, cur: TabularData): Map<string, Distribution | null> {
  const curCols = new Map(cur.columns.map((c) => [c.name, c]));
  const out = new Map<string, Distribution | null>();
  for (const rc of ref.columns) {
    const cc = curCols.get(rc.name);
    if (rc.type === 'numeric') out.set(rc.name, numericDistribution(rc.numeric ?? [], cc?.numeric ?? []));
    else out.set(rc.name, categoricalDistribution(rc.labels ?? [], cc?.labels ?? []));
  }
  return out;
}

export async function runReport(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(REPORT_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(REPORT_COMMAND));
    return 0;
  }
  const { values } = parsed;
  const progress = progressOf(io, 'vigil report');
  const fail = (message: string): number => {
    progress.clear();
    io.stderr(`vigil report: ${message}\n`);
    return 2;
  };
  if (!(values.alpha > 0 && values.alpha < 1)) return fail(`--alpha must be strictly between 0 and 1, got ${values.alpha}`);
  const requested = list(values.tests);
  for (const t of requested) if (!TESTS.includes(t as DriftTest)) return fail(`--tests: unknown test ${JSON.stringify(t)} (choose from ${TESTS.join(', ')})`);
  const overrides = { categorical: list(values.categorical), numeric: list(values.numeric) };
  const both = overrides.categorical.filter((c) => overrides.numeric.includes(c));
  if (both.length > 0) return fail(`column ${JSON.stringify(both[0])} is given to both --categorical and --numeric`);
  try {
    const { ref, cur } = await readPair(values.reference, values.current, overrides, { progress });
    const issues = [...ref.issues, ...cur.issues];
    progress.clear();
    for (const i of issues) io.stderr(`${values['allow-bad-lines'] ? 'warning' : 'error'}: ${i.file}:${i.line}: ${i.message}\n`);
    if (issues.length > 0 && !values['allow-bad-lines']) return fail(`${issues.length} malformed line(s); fix them or pass --allow-bad-lines`);
    if (ref.rowCount === 0) return fail(`${values.reference}: no data rows`);
    if (cur.rowCount === 0) return fail(`${values.current}: no data rows`);
    progress.stage(`testing ${ref.columns.length} column(s)`);
    const report = decideDrift(collectOutcomes(ref, cur, requested as DriftTest[]), { alpha: values.alpha });
    progress.stage(`writing ${values.out}`);
    const html = renderDriftReport({
      title: values.title ?? 'Drift report',
      about: [`reference: ${values.reference} (${ref.rowCount.toLocaleString('en-US')} rows)`, `current: ${values.current} (${cur.rowCount.toLocaleString('en-US')} rows)`, `alpha ${values.alpha} (Benjamini-Hochberg)`],
      report,
      distributions: distributionsOf(ref, cur),
      generatedAt: new Date(),
    });
    try {
      await writeFile(values.out, html);
    } catch (e) {
      return fail(`--out: cannot write ${values.out}: ${(e as Error).message}`);
    }
    progress.done();
    const s = report.summary;
    io.stdout(`report written to ${values.out}: ${s.featuresTested} feature(s), ${s.featuresDrifted} drifted${s.featuresDrifted > 0 ? ` (${s.driftedFeatures.join(', ')})` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof TabularError || e instanceof StatsInputError) return fail(e.message);
    progress.clear();
    throw e;
  }
}
