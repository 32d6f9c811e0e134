/**
 * What the tabular readers share, and nothing else of src/ingest: the error and issue types, the
 * missing and number tokens, and the interface through which a record parser (CSV, NDJSON,
 * Parquet) hands its columns and records to whoever keeps them — rows of strings (RawTable) or
 * typed columns (ColumnarTable). A leaf: it imports nothing.
 */

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

/**
 * One value of a record as a parser found it: the text as written (CSV; an NDJSON or Parquet
 * string, boolean or date as text), a number (NDJSON, Parquet: it stands for its text, String(x)),
 * or null (absent, JSON null, a Parquet null).
 */
export type Cell = string | number | null;

/** Where a record parser sends what it reads, in file order. */
export interface RecordSink {
  /**
   * The columns so far, every time they grow: CSV and Parquet once (the header, `line` its line
   * for CSV), NDJSON each time a line brings a new key. Names are checked (non-empty, unique).
   */
  columns(names: readonly string[], line: number | undefined): void;
  /** One well-formed record: `values[k]` is the k-th column's (missing past its end); `line` its first line. */
  record(values: readonly Cell[], line: number): void;
  /** A malformed line, skipped (or a value treated as missing), reported in file order with the records. */
  issue(issue: ParseIssue): void;
}

/** Fatal header problems: an empty or a duplicate column name. */
export function checkHeader(header: readonly string[], file: string, line: number | undefined, from = 0): void {
  const seen = new Set<string>(header.slice(0, from));
  for (let k = from; k < header.length; k++) {
    const h = header[k] as string;
    if (h === '') throw new TabularError('VIGIL_ERR_INGEST_BAD_HEADER', file, line, `column ${k + 1} has an empty name`);
    if (seen.has(h)) throw new TabularError('VIGIL_ERR_INGEST_BAD_HEADER', file, line, `duplicate column name ${JSON.stringify(h)}`);
    seen.add(h);
  }
}

const MISSING = new Set(['', 'NA', 'N/A', 'na', 'n/a', 'null', 'NULL', 'Null', 'None', 'none', 'NaN', 'nan']);
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
export const isMissingToken = (s: string | null): boolean => s === null || isMissingTrimmed(s.trim());

/** isMissingToken of a token already trimmed (every missing token but '' starts with N or n: most tokens are not looked up). */
export function isMissingTrimmed(t: string): boolean {
  if (t.length === 0) return true;
  const c = t.charCodeAt(0);
  return (c === 78 || c === 110) && MISSING.has(t);
}

/**
 * true when `t` is a decimal number as `^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$` says (a scan
 * of its characters: this runs for every numeric field of a file).
 */
export function isDecimal(t: string): boolean {
  const n = t.length;
  let i = 0;
  let c = n > 0 ? t.charCodeAt(0) : 0;
  if (c === 43 || c === 45) c = ++i < n ? t.charCodeAt(i) : 0; // + -
  let digits = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    c = ++i < n ? t.charCodeAt(i) : 0;
  }
  if (c === 46) {
    // .
    c = ++i < n ? t.charCodeAt(i) : 0;
    while (c >= 48 && c <= 57) {
      digits++;
      c = ++i < n ? t.charCodeAt(i) : 0;
    }
  }
  if (digits === 0) return false;
  if (i < n && (c === 101 || c === 69)) {
    // e E
    c = ++i < n ? t.charCodeAt(i) : 0;
    if (c === 43 || c === 45) c = ++i < n ? t.charCodeAt(i) : 0;
    let exp = 0;
    while (i < n && c >= 48 && c <= 57) {
      exp++;
      c = ++i < n ? t.charCodeAt(i) : 0;
    }
    if (exp === 0) return false;
  }
  return i === n;
}

/** Exact powers of ten as doubles (10^0 … 10^22): the fast path of decimalValue. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * The value of a token when it is a decimal number as {@link isDecimal} says, else undefined —
 * Number(t), exactly: a token of at most 15 significant digits and a power of ten up to 22 is
 * computed as digits ÷ 10^k (or × 10^k), both exact doubles, so the one IEEE operation rounds the
 * true value correctly, as Number does (Clinger's fast path); any other token goes to Number.
 */
export function decimalValue(t: string): number | undefined {
  const n = t.length;
  let i = 0;
  let c = n > 0 ? t.charCodeAt(0) : 0;
  let negative = false;
  if (c === 43 || c === 45) {
    negative = c === 45;
    c = ++i < n ? t.charCodeAt(i) : 0;
  }
  let digits = 0;
  let mantissa = 0;
  let significant = 0; // digits of the mantissa from the first non-zero one
  let scale = 0; // digits after the point
  while (c >= 48 && c <= 57) {
    digits++;
    if (significant > 0 || c !== 48) {
      significant++;
      mantissa = mantissa * 10 + (c - 48);
    }
    c = ++i < n ? t.charCodeAt(i) : 0;
  }
  if (c === 46) {
    c = ++i < n ? t.charCodeAt(i) : 0;
    while (c >= 48 && c <= 57) {
      digits++;
      scale++;
      if (significant > 0 || c !== 48) {
        significant++;
        mantissa = mantissa * 10 + (c - 48);
      }
      c = ++i < n ? t.charCodeAt(i) : 0;
    }
  }
  if (digits === 0) return undefined;
  let exponent = 0;
  if (i < n && (c === 101 || c === 69)) {
    c = ++i < n ? t.charCodeAt(i) : 0;
    let expNegative = false;
    if (c === 43 || c === 45) {
      expNegative = c === 45;
      c = ++i < n ? t.charCodeAt(i) : 0;
    }
    let expDigits = 0;
    while (i < n && c >= 48 && c <= 57) {
      expDigits++;
      if (exponent < 1e6) exponent = exponent * 10 + (c - 48);
      c = ++i < n ? t.charCodeAt(i) : 0;
    }
    if (expDigits === 0) return undefined;
    if (expNegative) exponent = -exponent;
  }
  if (i !== n) return undefined;
  const power = exponent - scale;
  if (significant <= 15 && power >= -22 && power <= 22) {
    const x = power < 0 ? mantissa / (POW10[-power] as number) : mantissa * (POW10[power] as number);
    return negative ? -x : x;
  }
  return Number(t);
}

/** Parses a numeric token (decimal or exponent notation, ±inf); undefined when not a number. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  return decimalValue(t) ?? INF.get(t);
}

/** `s.trim()`, without the call when both ends are visible ASCII (the common case, per field of a file). */
export function trimmed(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(n - 1);
  return a > 32 && a < 127 && b > 32 && b < 127 ? s : s.trim();
}

/** What a token is in a numeric column: its number, NaN when it is a missing token, undefined when it is neither. */
export function numericToken(s: string): number | undefined {
  const t = trimmed(s);
  const x = decimalValue(t);
  if (x !== undefined) return x;
  if (isMissingTrimmed(t)) return NaN;
  return INF.get(t);
}
