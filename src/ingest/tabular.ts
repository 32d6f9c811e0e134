/**
 * Tabular ingestion for drift checks: CSV (RFC 4180: header row, comma separator, "quoted"
 * fields with "" escapes and embedded newlines, CRLF or LF line ends) and NDJSON (one JSON object
 * per line) parsed into columns, with numeric/categorical inference per column (overridable).
 *
 * Bad lines never abort parsing: each is reported as a {@link ParseIssue} with file and 1-based
 * line number and skipped (CSV rows with the wrong field count, invalid JSON lines, …). Fatal
 * problems (no header, duplicate column names, unknown override columns) throw TabularError.
 *
 * Missing values: '', NA, N/A, null, NULL, None, NaN, nan (CSV) and JSON null / absent keys.
 * Numeric columns hold NaN for missing values (the statistics drop and count them).
 * The parsers are incremental (csv-stream.ts, ndjson-stream.ts: files are read as streams, see
 * read-table.ts); the functions here take the whole text, for small inputs and tests.
 */
import { TableBuilder, type ColumnarTable, type ColumnType, type TypeOverrides } from './columnar.js';
import { CsvStreamParser } from './csv-stream.js';
import { NdjsonStreamParser } from './ndjson-stream.js';
import { TabularError, type Cell, type ParseIssue, type RecordSink, type TabularFormat } from './records.js';

export { isMissingToken, parseNumber, TabularError, type ParseIssue, type TabularFormat } from './records.js';
export type { ColumnType, TypeOverrides } from './columnar.js';

/** Parsed rows before typing: every value a string, or null when missing. */
export interface RawTable {
  readonly file: string;
  readonly format: TabularFormat;
  readonly header: readonly string[];
  readonly records: readonly (readonly (string | null)[])[];
  /** 1-based line on which each record starts */
  readonly recordLines: readonly number[];
  readonly issues: readonly ParseIssue[];
}

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** numeric columns: values with NaN for missing/unparseable */
  readonly numeric?: Float64Array;
  /** categorical columns: labels, null for missing */
  readonly labels?: readonly (string | null)[];
  readonly missing: number;
}

export interface TabularData {
  readonly file: string;
  readonly format: TabularFormat;
  readonly rowCount: number;
  readonly columns: readonly Column[];
  readonly issues: readonly ParseIssue[];
  /** 1-based line on which each row starts */
  readonly rowLines?: readonly number[];
}

/** Keeps a parser's records as rows of strings (a number as its text; NDJSON rows padded to the final columns). */
export class RawTableCollector implements RecordSink {
  private header: readonly string[] = [];
  private readonly records: (string | null)[][] = [];
  private readonly recordLines: number[] = [];
  private readonly issues: ParseIssue[] = [];

  constructor(
    private readonly file: string,
    private readonly format: TabularFormat,
  ) {}

  columns(names: readonly string[]): void {
    this.header = [...names];
  }

  record(values: readonly Cell[], line: number): void {
    this.records.push(values.map((v) => (typeof v === 'number' ? String(v) : v)));
    this.recordLines.push(line);
  }

  issue(issue: ParseIssue): void {
    this.issues.push(issue);
  }

  table(): RawTable {
    const n = this.header.length;
    for (const r of this.records) while (r.length < n) r.push(null);
    return { file: this.file, format: this.format, header: this.header, records: this.records, recordLines: this.recordLines, issues: this.issues };
  }
}

/**
 * Parses CSV text (RFC 4180). The first record is the header. Returns rows of strings with
 * missing tokens kept as written (typing happens in {@link typeColumns}).
 */
export function parseCsv(text: string, file = '<csv>'): RawTable {
  const collector = new RawTableCollector(file, 'csv');
  const parser = new CsvStreamParser(file, collector);
  parser.push(text);
  parser.end();
  return collector.table();
}

/**
 * Parses NDJSON text: one JSON object per non-blank line. Columns are the union of keys in
 * first-seen order; absent keys and null are missing. Numbers are kept as their JSON text,
 * booleans as "true"/"false". Nested objects/arrays are reported and treated as missing, except
 * in `jsonColumns`, which keep them as their JSON text (a multiclass `score` object).
 */
export function parseNdjson(text: string, file = '<ndjson>', options: { jsonColumns?: readonly string[] } = {}): RawTable {
  const collector = new RawTableCollector(file, 'ndjson');
  const parser = new NdjsonStreamParser(file, collector, options);
  parser.push(text);
  parser.end();
  return collector.table();
}

/** Columnar data as columns of values and labels (a label a row: for the statistics that read labels). */
export function toTabularData(t: ColumnarTable, rowLines?: readonly number[]): TabularData {
  const columns: Column[] = t.columns.map((c) =>
    c.type === 'numeric'
      ? { name: c.name, type: 'numeric', numeric: c.values, missing: c.missing }
      : { name: c.name, type: 'categorical', labels: Array.from(c.codes, (k) => (k < 0 ? null : (c.dictionary[k] as string))), missing: c.missing },
  );
  return { file: t.file, format: t.format, rowCount: t.rowCount, columns, issues: t.issues, ...(rowLines === undefined ? {} : { rowLines }) };
}

/**
 * Types each column: numeric when every non-missing value parses as a number (and there is at
 * least one), categorical otherwise; `overrides` force a type. Under a numeric override,
 * unparseable values become NaN and are reported as issues with their line.
 */
export function typeColumns(raw: RawTable, overrides: TypeOverrides = {}): TabularData {
  const builder = new TableBuilder({ file: raw.file, format: raw.format, overrides });
  builder.columns(raw.header, undefined);
  raw.records.forEach((r, i) => builder.record(r, raw.recordLines[i] as number));
  if (builder.rereadRows > 0) {
    // columns that became categorical after numbers: their first rows' text, from the records again
    const sink = builder.rereadSink();
    raw.records.forEach((r, i) => sink.record(r, raw.recordLines[i] as number));
  }
  const typed = toTabularData(builder.finish(), raw.recordLines);
  // the parser's issues and the typing's, by line (the parser's first on a line)
  const issues = [...raw.issues, ...typed.issues].sort((a, b) => a.line - b.line);
  return { ...typed, issues };
}

/** Chooses the format from the file extension (.ndjson/.jsonl/.json → NDJSON, .parquet/.pq → Parquet, else CSV). */
export function formatFromPath(path: string): TabularFormat {
  return /\.(ndjson|jsonl|json)$/i.test(path) ? 'ndjson' : /\.(parquet|pq)$/i.test(path) ? 'parquet' : 'csv';
}

/** Parses text of the given format and types its columns. */
export function parseTabular(text: string, file: string, format: TabularFormat = formatFromPath(file), overrides: TypeOverrides = {}): TabularData {
  if (format === 'parquet') throw new TabularError('VIGIL_ERR_INGEST_MALFORMED', file, undefined, 'Parquet is binary: read it with readRawTable');
  const raw = format === 'ndjson' ? parseNdjson(text, file) : parseCsv(text, file);
  return typeColumns(raw, overrides);
}

/** Thin async reader: reads with the given function (e.g. fs.promises.readFile(p, 'utf8')) and parses. */
export async function readTabularFile(
  path: string,
  readFile: (path: string) => Promise<string>,
  overrides: TypeOverrides = {},
  format: TabularFormat = formatFromPath(path),
): Promise<TabularData> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (e) {
    throw new TabularError('VIGIL_ERR_INGEST_READ', path, undefined, `cannot read file: ${(e as Error).message}`);
  }
  return parseTabular(text, path, format, overrides);
}
