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
 * Pure parsing functions taking text, plus a thin async reader.
 */

export type ColumnType = 'numeric' | 'categorical';
export type TabularFormat = 'csv' | 'ndjson' | 'parquet';

export interface ParseIssue {
  readonly file: string;
  /** 1-based line number in the file */
  readonly line: number;
  readonly message: string;
}

/** Fatal ingestion error with a stable code and the position when known. */
export class TabularError extends Error {
  readonly code: string;
  readonly file: string;
  readonly line: number | undefined;
  constructor(code: `VIGIL_ERR_INGEST_${string}`, file: string, line: number | undefined, message: string) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
    this.name = 'TabularError';
    this.code = code;
    this.file = file;
    this.line = line;
  }
}

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

export interface TypeOverrides {
  readonly categorical?: readonly string[];
  readonly numeric?: readonly string[];
}

const MISSING = new Set(['', 'NA', 'N/A', 'na', 'n/a', 'null', 'NULL', 'Null', 'None', 'none', 'NaN', 'nan']);
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = new Map<string, number>([
  ['inf', Infinity],
  ['+inf', Infinity],
  ['-inf', -Infinity],
  ['Infinity', Infinity],
  ['+Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['INF', Infinity],
  ['-INF', -Infinity],
]);

/** true when the token denotes a missing value */
export const isMissingToken = (s: string | null): boolean => s === null || MISSING.has(s.trim());

/** Parses a numeric token (decimal or exponent notation, ±inf); undefined when not a number. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (NUMBER_RE.test(t)) return Number(t);
  return INF.get(t);
}

/**
 * Parses CSV text (RFC 4180). The first record is the header. Returns rows of strings with
 * missing tokens kept as written (typing happens in {@link typeColumns}).
 */
export function parseCsv(text: string, file = '<csv>'): RawTable {
  const issues: ParseIssue[] = [];
  const records: (string | null)[][] = [];
  const recordLines: number[] = [];
  let s = text;
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  const n = s.length;
  let i = 0;
  let line = 1;
  let header: string[] | undefined;
  let headerLine = 1;
  while (i < n) {
    // parse one record
    const startLine = line;
    const fields: string[] = [];
    let recordIssue: string | undefined;
    for (;;) {
      let field = '';
      if (s[i] === '"') {
        const quoteLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const ch = s[i] as string;
          if (ch === '"') {
            if (s[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        if (!closed) {
          recordIssue ??= `unterminated quoted field starting on line ${quoteLine}`;
        } else if (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          recordIssue ??= `unexpected character ${JSON.stringify(s[i])} after closing quote`;
          while (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') field += s[i++] as string;
        }
      } else {
        const start = i;
        while (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') i++;
        field = s.slice(start, i);
        if (field.includes('"')) recordIssue ??= 'quote character inside an unquoted field';
      }
      fields.push(field);
      if (i < n && s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    // end of record: consume CRLF / LF / CR
    if (s[i] === '\r') i++;
    if (s[i] === '\n') i++;
    line++;
    const blank = fields.length === 1 && fields[0] === '';
    if (blank) continue;
    if (header === undefined) {
      if (recordIssue) throw new TabularError('VIGIL_ERR_INGEST_BAD_HEADER', file, startLine, `bad header: ${recordIssue}`);
      header = fields.map((f) => f.trim());
      headerLine = startLine;
      continue;
    }
    if (recordIssue) {
      issues.push({ file, line: startLine, message: recordIssue });
      continue;
    }
    if (fields.length !== header.length) {
      issues.push({ file, line: startLine, message: `expected ${header.length} fields, got ${fields.length}` });
      continue;
    }
    records.push(fields);
    recordLines.push(startLine);
  }
  if (header === undefined) throw new TabularError('VIGIL_ERR_INGEST_EMPTY', file, undefined, 'no header row (file is empty)');
  checkHeader(header, file, headerLine);
  return { file, format: 'csv', header, records, recordLines, issues };
}

function checkHeader(header: readonly string[], file: string, line: number | undefined): void {
  const seen = new Set<string>();
  header.forEach((h, k) => {
    if (h === '') throw new TabularError('VIGIL_ERR_INGEST_BAD_HEADER', file, line, `column ${k + 1} has an empty name`);
    if (seen.has(h)) throw new TabularError('VIGIL_ERR_INGEST_BAD_HEADER', file, line, `duplicate column name ${JSON.stringify(h)}`);
    seen.add(h);
  });
}

/**
 * Parses NDJSON text: one JSON object per non-blank line. Columns are the union of keys in
 * first-seen order; absent keys and null are missing. Numbers are kept as their JSON text,
 * booleans as "true"/"false". Nested objects/arrays are reported and treated as missing, except
 * in `jsonColumns`, which keep them as their JSON text (a multiclass `score` object).
 */
export function parseNdjson(text: string, file = '<ndjson>', options: { jsonColumns?: readonly string[] } = {}): RawTable {
  const jsonColumns = new Set(options.jsonColumns ?? []);
  const issues: ParseIssue[] = [];
  const rows: Map<string, string | null>[] = [];
  const recordLines: number[] = [];
  const header: string[] = [];
  const known = new Set<string>();
  let s = text;
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  const lines = s.split('\n');
  lines.forEach((raw, k) => {
    const lineNo = k + 1;
    const t = raw.trim();
    if (t === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      issues.push({ file, line: lineNo, message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      issues.push({ file, line: lineNo, message: 'expected a JSON object' });
      return;
    }
    const row = new Map<string, string | null>();
    for (const [key, v] of Object.entries(obj as Record<string, unknown>)) {
      if (!known.has(key)) {
        known.add(key);
        header.push(key);
      }
      if (v === null || v === undefined) row.set(key, null);
      else if (typeof v === 'number') row.set(key, String(v));
      else if (typeof v === 'string') row.set(key, v);
      else if (typeof v === 'boolean') row.set(key, v ? 'true' : 'false');
      else if (jsonColumns.has(key)) row.set(key, JSON.stringify(v));
      else {
        issues.push({ file, line: lineNo, message: `field ${JSON.stringify(key)} is a nested ${Array.isArray(v) ? 'array' : 'object'}; treated as missing` });
        row.set(key, null);
      }
    }
    rows.push(row);
    recordLines.push(lineNo);
  });
  if (header.length === 0) throw new TabularError('VIGIL_ERR_INGEST_EMPTY', file, undefined, 'no JSON objects found');
  checkHeader(header, file, undefined);
  const records = rows.map((r) => header.map((h) => (r.has(h) ? (r.get(h) as string | null) : null)));
  return { file, format: 'ndjson', header, records, recordLines, issues };
}

/**
 * Types each column: numeric when every non-missing value parses as a number (and there is at
 * least one), categorical otherwise; `overrides` force a type. Under a numeric override,
 * unparseable values become NaN and are reported as issues with their line.
 */
export function typeColumns(raw: RawTable, overrides: TypeOverrides = {}): TabularData {
  const cat = new Set(overrides.categorical ?? []);
  const num = new Set(overrides.numeric ?? []);
  for (const name of [...cat, ...num]) {
    if (!raw.header.includes(name)) {
      throw new TabularError('VIGIL_ERR_INGEST_UNKNOWN_COLUMN', raw.file, undefined, `column ${JSON.stringify(name)} does not exist (columns: ${raw.header.join(', ')})`);
    }
    if (cat.has(name) && num.has(name)) {
      throw new TabularError('VIGIL_ERR_INGEST_BAD_OVERRIDE', raw.file, undefined, `column ${JSON.stringify(name)} cannot be both numeric and categorical`);
    }
  }
  const issues = [...raw.issues];
  const columns: Column[] = raw.header.map((name, c) => {
    const values = raw.records.map((r) => r[c] ?? null);
    let type: ColumnType;
    if (cat.has(name)) type = 'categorical';
    else if (num.has(name)) type = 'numeric';
    else {
      let any = false;
      let allNum = true;
      for (const v of values) {
        if (isMissingToken(v)) continue;
        any = true;
        if (parseNumber(v as string) === undefined) {
          allNum = false;
          break;
        }
      }
      type = any && allNum ? 'numeric' : 'categorical';
    }
    let missing = 0;
    if (type === 'numeric') {
      const arr = new Float64Array(values.length);
      values.forEach((v, r) => {
        if (isMissingToken(v)) {
          arr[r] = NaN;
          missing++;
          return;
        }
        const x = parseNumber(v as string);
        if (x === undefined) {
          arr[r] = NaN;
          missing++;
          issues.push({ file: raw.file, line: raw.recordLines[r] as number, message: `column ${JSON.stringify(name)}: ${JSON.stringify(v)} is not a number` });
        } else arr[r] = x;
      });
      return { name, type, numeric: arr, missing };
    }
    const labels = values.map((v) => {
      if (isMissingToken(v)) {
        missing++;
        return null;
      }
      return (v as string).trim();
    });
    return { name, type, labels, missing };
  });
  issues.sort((a, b) => a.line - b.line);
  return { file: raw.file, format: raw.format, rowCount: raw.records.length, columns, issues, rowLines: raw.recordLines };
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
