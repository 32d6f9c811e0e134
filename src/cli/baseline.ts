import { systemClock } from '../core/clock.js';
import { errorMessage, isVigilError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { ColumnarTable } from '../ingest/columnar.js';
import { TabularError } from '../ingest/tabular.js';
import { buildBaselineFromColumns, calibrationLine, storeBaseline } from '../monitors/baseline.js';
import { baselineColumnsKept, baselineColumnTypes, referenceFromTable } from '../monitors/baseline-input.js';
import { shardOf } from '../cluster/shard.js';
import { describeStore, openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './args.js';
import { CONFIG_FLAG, defineCommand, loadConfigForCli, parseCommand, usageOf } from './args.js';
import { progressOf } from './progress.js';
import { readInput, rowCount } from './read-input.js';

export const BASELINE_COMMAND = defineCommand({
  name: 'baseline',
  summary:
    "Store a model version's baseline (reference) from training data: features, and the prediction, score\n" +
    'and label columns when present (a multiclass score is a {class: probability} object: an NDJSON object, or\n' +
    "JSON text in a CSV cell). It goes into the configured store (the SQLite file, or PostgreSQL); a running daemon picks it up at its next cycle.\n" +
    'The file is streamed (CSV and NDJSON in chunks, Parquet a row group at a time): its size is not limited by\n' +
    'memory. Progress goes to stderr: a bar on a terminal, a line per stage otherwise.',
  notes: 'Exit codes: 0 stored, 1 the store cannot be opened, 2 bad input (or the version has a baseline already and --replace was not given).',
  flags: {
    config: CONFIG_FLAG,
    model: { kind: 'string', short: 'm', arg: 'MODEL', required: true, help: 'the model (as named in the configuration)' },
    version: { kind: 'string', short: 'v', arg: 'VERSION', required: true, help: 'the model version the baseline is for' },
    from: { kind: 'file', short: 'f', arg: 'FILE', required: true, help: 'training data: CSV, NDJSON (.ndjson, .jsonl, .json) or Parquet (.parquet, .pq)' },
    replace: { kind: 'boolean', help: "replace the version's baseline when it has one (else: an error, exit 2)" },
    'allow-bad-lines': { kind: 'boolean', help: 'skip malformed lines and rows instead of failing' },
  },
});

/**
 * `vigil baseline --model M --version V --from train.csv|train.ndjson|train.parquet [--config FILE] [--replace]`:
 * summarizes training data and stores it as the baseline of that model version. Exit 0 stored, 2 bad input.
 * The file is read as columns (ingest/read-table.ts) and summarized without an object per row.
 */
export async function runBaseline(argv: string[], io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const parsed = parseCommand(BASELINE_COMMAND, argv);
  if (parsed.help) {
    io.stdout(usageOf(BASELINE_COMMAND));
    return 0;
  }
  const { values } = parsed;
  const loaded = await loadConfigForCli(values.config, io, env, { ruleFiles: false }); // it loads no rules
  if (loaded === null) return 2;
  const model = loaded.config.models.find((m) => m.name === values.model);
  if (model === undefined) {
    io.stderr(`vigil baseline: model "${values.model}" is not in ${loaded.file} (models: ${loaded.config.models.map((m) => m.name).join(', ') || 'none'})\n`);
    return 2;
  }
  // cluster.shard: the baseline goes to this shard group's store, which only serves its own models
  const shard = loaded.config.cluster.shard;
  if (shard.count > 1 && shardOf(model.name, shard.count) !== shard.index) {
    io.stderr(
      `vigil baseline: model "${model.name}" belongs to shard ${shardOf(model.name, shard.count)} of ${shard.count}, and ${loaded.file} is shard ${shard.index} (cluster.shard): build it with that shard group's configuration, or its store never serves it\n`,
    );
    return 2;
  }
  const progress = progressOf(io, 'vigil baseline');
  /** stderr, with the progress bar out of the way */
  const stderr = (text: string): void => {
    progress.clear();
    io.stderr(text);
  };
  let table: ColumnarTable;
  try {
    // Column types from the model (for the columns the file has); only the columns a baseline reads are kept.
    table = await readInput(
      values.from,
      {
        overrides: baselineColumnTypes(model),
        overridesIfPresent: true,
        keep: baselineColumnsKept(model),
        // a multiclass score map: an NDJSON object or a Parquet map/struct, kept as its JSON text
        jsonColumns: model.task === 'multiclass' ? ['score'] : [],
      },
      progress,
    );
  } catch (e) {
    if (!(e instanceof TabularError)) throw e;
    stderr(`vigil baseline: ${e.message}\n`);
    return 2;
  }
  if (table.issues.length > 0 && !values['allow-bad-lines']) {
    for (const i of table.issues.slice(0, 20)) stderr(`${i.file}:${i.line}: ${i.message}\n`);
    stderr(`vigil baseline: ${table.issues.length} bad line(s); fix them or pass --allow-bad-lines\n`);
    return 2;
  }
  const unknown = table.header.filter((name) => !model.features.some((f) => f.name === name) && !['id', 'ts', 'model_version', 'prediction', 'score', 'label', 'latency_ms', 'segment', 'error'].includes(name));
  progress.stage(`checking ${rowCount(table.rowCount)} rows`);
  const { columns, rows, rejected } = referenceFromTable(model, table);
  if (rejected.length > 0) {
    const say = values['allow-bad-lines'] ? 'skipped' : 'bad';
    for (const r of rejected.slice(0, 20)) stderr(`${values.from}:${r.line}: ${say}: ${r.field === '' ? '' : `${r.field}: `}${r.reason}\n`);
    if (!values['allow-bad-lines']) {
      stderr(`vigil baseline: ${rejected.length} bad row(s); fix them or pass --allow-bad-lines\n`);
      return 2;
    }
  }
  if (rows === 0) {
    stderr(`vigil baseline: ${values.from} has no usable rows\n`);
    return 2;
  }
  progress.stage(`summarizing ${rowCount(rows)} rows`);
  // the table is not read again: its feature columns are freed as they are summarized
  const built = buildBaselineFromColumns(model, columns, { release: true });
  progress.done('summarized');
  const summary = built.summary;
  const now = systemClock.now();
  progress.stage('storing the baseline');
  let store: Store;
  try {
    store = await openStore(loaded.config, { logger: createLogger({ level: 'silent' }), now, env, applicationName: 'vigil baseline' });
  } catch (e) {
    progress.clear();
    io.stderr(`vigil baseline: cannot open the store ${describeStore(loaded.config.storage)}: ${errorMessage(e)}\n`);
    return 1;
  }
  try {
    let saved;
    try {
      saved = await storeBaseline(store, { model: model.name, version: values.version, createdAt: now, source: `file:${values.from}` }, built, { replace: values.replace });
    } catch (e) {
      if (!(isVigilError(e) && e.code === 'VIGIL_ERR_BASELINE_EXISTS')) {
        progress.clear();
        throw e;
      }
      stderr(`vigil baseline: ${e.message}; pass --replace to replace it (nothing was stored)\n`);
      return 2;
    }
    progress.done();
    const replaced = saved.replaced.length > 0 ? ` (replacing baseline ${saved.replaced.join(', ')})` : '';
    io.stdout(`baseline ${saved.id} stored for ${model.name} version ${values.version}${replaced}: ${rows} rows${rejected.length > 0 ? ` (${rejected.length} skipped)` : ''}, ${Object.keys(summary.features).length}/${model.features.length} features\n`);
    const q = Object.entries(summary.quality);
    if (q.length > 0) io.stdout(`reference quality: ${q.map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}\n`);
    if (summary.calibration !== undefined) io.stdout(`${calibrationLine(summary.calibration)}\n`);
    for (const [c, cal] of Object.entries(summary.classCalibrations ?? {})) io.stdout(`class ${c}: ${calibrationLine(cal)}\n`);
    const segments = Object.entries(summary.segments ?? {});
    if (segments.length > 0) io.stdout(`segment references: ${segments.map(([v, s]) => `${v} (${s.rows} rows)`).join(', ')}\n`);
    const missing = model.features.filter((f) => !(f.name in summary.features)).map((f) => f.name);
    if (missing.length > 0) io.stdout(`no values for: ${missing.join(', ')} (their drift stays absent)\n`);
    if (unknown.length > 0) io.stdout(`ignored columns (not features of ${model.name}): ${unknown.join(', ')}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
