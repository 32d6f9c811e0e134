/**
 * Typed columns built while a file is parsed (a RecordSink): numeric columns as Float64Array (NaN
 * for missing), categorical ones as dictionary codes (Int32Array, -1 for missing) against their
 * distinct values — a few bytes a value, never a string per cell nor an array per row. A row's
 * line is kept only where lines and rows stop advancing together (blank lines, quoted newlines,
 * skipped lines), so it costs nothing for a regular file.
 *
 * Typing is typeColumns's, applied as values arrive: `overrides` force a type (under a numeric
 * override an unparseable value is NaN and an issue naming its line and column); the other
 * columns are numeric when every non-missing value is a number (and there is one), categorical
 * otherwise. A column that turns out categorical after rows of numbers has lost those rows'
 * text: the reader parses the file a second time up to that row for such columns only
 * ({@link TableBuilder.rereadRows}), so labels are always the text as written.
 */
import { isMissingTrimmed, numericToken, TabularError, trimmed, type Cell, type ParseIssue, type RecordSink, type TabularFormat } from './records.js';

export type ColumnType = 'numeric' | 'categorical';

export interface TypeOverrides {
  readonly categorical?: readonly string[];
  readonly numeric?: readonly string[];
}

export interface NumericColumnData {
  readonly name: string;
  readonly type: 'numeric';
  /** One value a row, NaN where missing or not a number. */
  readonly values: Float64Array;
  readonly missing: number;
}

export interface CategoricalColumnData {
  readonly name: string;
  readonly type: 'categorical';
  /** One code a row: the index of its value in `dictionary`, -1 where missing. */
  readonly codes: Int32Array;
  /** The distinct values (trimmed text), in first-seen order. */
  readonly dictionary: readonly string[];
  readonly missing: number;
}

export type ColumnarColumn = NumericColumnData | CategoricalColumnData;

/** A file's rows as typed columns. */
export interface ColumnarTable {
  readonly file: string;
  readonly format: TabularFormat;
  /** Every column of the file, in its order, kept or not. */
  readonly header: readonly string[];
  readonly rowCount: number;
  /** The kept columns, in the header's order. */
  readonly columns: readonly ColumnarColumn[];
  /** Malformed lines and values, in file order. */
  readonly issues: readonly ParseIssue[];
  /** The 1-based line on which a row starts. */
  lineOf(row: number): number;
}

export interface TableBuilderOptions {
  readonly file: string;
  readonly format: TabularFormat;
  /** Types forced on columns (typeColumns's overrides). */
  readonly overrides?: TypeOverrides;
  /**
   * Overrides for columns that may be absent from the file (imposed where present); without it,
   * an override naming an absent column is VIGIL_ERR_INGEST_UNKNOWN_COLUMN.
   */
  readonly overridesIfPresent?: boolean;
  /** Which columns to keep (default: all); the others are parsed and checked, not stored. A column with an override is kept. */
  readonly keep?: (name: string) => boolean;
}

/** The first page of a column: 65,536 values. */
const FIRST_PAGE = 1 << 16;
/**
 * The largest page: 32 MiB. Pages double up to it, so a small column stays small and a large one
 * is a few pages of this size — each its own mapping of memory (glibc maps blocks this large
 * apart), returned to the system as soon as it is copied into the column's final array.
 */
const MAX_PAGE_BYTES = 32 << 20;

type Values = Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>;

/**
 * A growable column of float64 or int32, in pages (growing never copies), writable at any row
 * already pushed; {@link toArray} makes it one array, releasing each page as it is copied (so the
 * copy costs one page, not a second column).
 */
class Pages<T extends Values> {
  private readonly pages: T[] = [];
  /** The row each page starts at. */
  private readonly starts: number[] = [];
  private page: T;
  private pos = 0;
  length = 0;

  constructor(private readonly make: (n: number) => T) {
    this.page = make(FIRST_PAGE);
  }

  push(x: number): void {
    if (this.pos === this.page.length) this.next();
    this.page[this.pos++] = x;
    this.length++;
  }

  private next(): void {
    this.pages.push(this.page);
    this.starts.push(this.length - this.pos);
    const max = MAX_PAGE_BYTES / this.page.BYTES_PER_ELEMENT;
    this.page = this.make(Math.min(max, this.page.length * 2));
    this.pos = 0;
  }

  fill(x: number, count: number): void {
    for (let i = 0; i < count; i++) this.push(x);
  }

  set(i: number, x: number): void {
    const current = this.length - this.pos;
    if (i >= current) {
      this.page[i - current] = x;
      return;
    }
    // the last page starting at or before i
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.starts[mid] as number) <= i) lo = mid;
      else hi = mid - 1;
    }
    (this.pages[lo] as T)[i - (this.starts[lo] as number)] = x;
  }

  /** One array of the values; the pages are released (the column is spent). */
  toArray(): T {
    let out: T;
    if (this.pages.length === 0) {
      // one page (a small column): its part
      out = this.page.length === this.length ? this.page : (this.page.subarray(0, this.length) as T);
    } else {
      out = this.make(this.length);
      let at = 0;
      for (const p of this.pages) {
        out.set(p, at);
        at += p.length;
        p.buffer.transfer(0); // frees it now, not at the next garbage collection
      }
      out.set(this.page.subarray(0, this.pos), at);
      this.page.buffer.transfer(0);
      this.pages.length = 0;
    }
    this.page = this.make(0);
    this.pos = 0;
    return out;
  }
}

const f64 = (n: number): Float64Array<ArrayBuffer> => new Float64Array(n);
const i32 = (n: number): Int32Array<ArrayBuffer> => new Int32Array(n);

/** Where lines and rows part: from row `rows[k]` on, line = row + `deltas[k]`. */
class LineIndex {
  private rows: Float64Array<ArrayBuffer> = new Float64Array(16);
  private deltas: Float64Array<ArrayBuffer> = new Float64Array(16);
  private n = 0;
  private last = NaN;

  add(row: number, line: number): void {
    const delta = line - row;
    if (delta === this.last) return;
    if (this.n === this.rows.length) {
      const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.rows = grow(this.rows);
      this.deltas = grow(this.deltas);
    }
    this.rows[this.n] = row;
    this.deltas[this.n] = delta;
    this.n++;
    this.last = delta;
  }

  lineOf(row: number): number {
    // the last change at or before `row`
    let lo = 0;
    let hi = this.n - 1;
    if (hi < 0 || row < (this.rows[0] as number)) return NaN;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.rows[mid] as number) <= row) lo = mid;
      else hi = mid - 1;
    }
    return row + (this.deltas[lo] as number);
  }
}

const NUMERIC = 0;
const CATEGORICAL = 1;
const INFER = 2;

/** One column being built. */
class ColumnBuilder {
  mode: number;
  numbers: Pages<Float64Array<ArrayBuffer>> | undefined;
  codes: Pages<Int32Array<ArrayBuffer>> | undefined;
  dict: Map<string, number> | undefined;
  labels: string[] | undefined;
  missing = 0;
  /** Inferred: a number was seen (the column is numeric unless a value is not a number). */
  sawNumber = false;
  /** Inferred, then categorical from this row on: rows before it hold no text yet (when sawNumber). */
  flipRow = -1;

  constructor(
    readonly name: string,
    readonly index: number,
    mode: number,
    /** Rows before this column existed (NDJSON: a key first seen late): missing. */
    before: number,
  ) {
    this.mode = mode;
    if (mode === CATEGORICAL) this.startCodes(before);
    else {
      this.numbers = new Pages(f64);
      this.numbers.fill(NaN, before);
    }
    this.missing = before;
  }

  private startCodes(before: number): void {
    this.codes = new Pages(i32);
    this.codes.fill(-1, before);
    this.dict = new Map();
    this.labels = [];
  }

  code(label: string): number {
    const dict = this.dict as Map<string, number>;
    let c = dict.get(label);
    if (c === undefined) {
      c = (this.labels as string[]).length;
      dict.set(label, c);
      (this.labels as string[]).push(label);
    }
    return c;
  }

  /** The code of a value (-1: missing), as typeColumns labels it. */
  label(v: Cell): number {
    if (v === null) return -1;
    const t = trimmed(typeof v === 'number' ? String(v) : v);
    return isMissingTrimmed(t) ? -1 : this.code(t);
  }

  push(v: Cell, row: number, line: number, issues: ParseIssue[], file: string): void {
    switch (this.mode) {
      case CATEGORICAL: {
        const c = this.label(v);
        if (c < 0) this.missing++;
        (this.codes as Pages<Int32Array<ArrayBuffer>>).push(c);
        return;
      }
      case NUMERIC: {
        let x: number;
        if (typeof v === 'number') x = v === 0 ? 0 : v; // -0 reads as its text, "0"
        else if (v === null) x = NaN;
        else {
          const t = numericToken(v);
          if (t === undefined) {
            issues.push({ file, line, message: `column ${JSON.stringify(this.name)}: ${JSON.stringify(v)} is not a number` });
            x = NaN;
          } else x = t;
        }
        if (Number.isNaN(x)) this.missing++;
        (this.numbers as Pages<Float64Array<ArrayBuffer>>).push(x);
        return;
      }
      default: {
        let x: number;
        if (typeof v === 'number') x = v === 0 ? 0 : v;
        else if (v === null) x = NaN;
        else {
          const t = numericToken(v);
          if (t === undefined) {
            // not a number: categorical from here on
            this.mode = CATEGORICAL;
            this.flipRow = row;
            this.numbers = undefined;
            this.startCodes(row);
            this.push(v, row, line, issues, file);
            return;
          }
          x = t;
        }
        if (Number.isNaN(x)) this.missing++;
        else this.sawNumber = true;
        (this.numbers as Pages<Float64Array<ArrayBuffer>>).push(x);
      }
    }
  }

  /** Whether rows before flipRow need their text from a second pass. */
  get needsText(): boolean {
    return this.flipRow > 0 && this.sawNumber;
  }

  finish(rows: number): ColumnarColumn {
    if (this.mode === INFER && !this.sawNumber) {
      // no value at all: categorical, every row missing (as typeColumns types it)
      this.mode = CATEGORICAL;
      this.numbers = undefined;
      this.startCodes(rows);
    }
    if (this.mode === CATEGORICAL) {
      return { name: this.name, type: 'categorical', codes: (this.codes as Pages<Int32Array<ArrayBuffer>>).toArray(), dictionary: this.labels as string[], missing: this.missing };
    }
    return { name: this.name, type: 'numeric', values: (this.numbers as Pages<Float64Array<ArrayBuffer>>).toArray(), missing: this.missing };
  }
}

/** typeColumns's checks of the overrides against the header, in its order; lenient: absent columns are skipped. */
export function checkOverrides(header: readonly string[], overrides: TypeOverrides, file: string, lenient = false): void {
  const cat = new Set(overrides.categorical ?? []);
  const num = new Set(overrides.numeric ?? []);
  for (const name of [...cat, ...num]) {
    if (!header.includes(name)) {
      if (lenient) continue;
      throw new TabularError('VIGIL_ERR_INGEST_UNKNOWN_COLUMN', file, undefined, `column ${JSON.stringify(name)} does not exist (columns: ${header.join(', ')})`);
    }
    if (cat.has(name) && num.has(name)) {
      throw new TabularError('VIGIL_ERR_INGEST_BAD_OVERRIDE', file, undefined, `column ${JSON.stringify(name)} cannot be both numeric and categorical`);
    }
  }
}

/**
 * Builds a ColumnarTable from a parser's records (the parser's RecordSink). After the parse, when
 * {@link rereadRows} is above 0, the same file's first rows go once more through
 * {@link rereadSink}; then {@link finish}.
 */
export class TableBuilder implements RecordSink {
  private header: readonly string[] = [];
  private readonly builders: (ColumnBuilder | null)[] = [];
  private active: ColumnBuilder[] = [];
  private readonly issues: ParseIssue[] = [];
  private readonly lines = new LineIndex();
  private rows = 0;
  private readonly cat: ReadonlySet<string>;
  private readonly num: ReadonlySet<string>;

  constructor(private readonly options: TableBuilderOptions) {
    this.cat = new Set(options.overrides?.categorical ?? []);
    this.num = new Set(options.overrides?.numeric ?? []);
  }

  columns(names: readonly string[], _line: number | undefined): void {
    for (let k = this.builders.length; k < names.length; k++) {
      const name = names[k] as string;
      const forced = this.cat.has(name) || this.num.has(name);
      if (!forced && this.options.keep !== undefined && !this.options.keep(name)) {
        this.builders.push(null);
        continue;
      }
      const mode = this.cat.has(name) ? CATEGORICAL : this.num.has(name) ? NUMERIC : INFER;
      const b = new ColumnBuilder(name, k, mode, this.rows);
      this.builders.push(b);
      this.active.push(b);
    }
    this.header = [...names];
    // a header read at once is checked at once; NDJSON's columns grow to the end
    if (this.options.format !== 'ndjson') this.checkOverrides();
  }

  record(values: readonly Cell[], line: number): void {
    const row = this.rows++;
    this.lines.add(row, line);
    const active = this.active;
    for (let k = 0; k < active.length; k++) {
      const b = active[k] as ColumnBuilder;
      b.push(values[b.index] ?? null, row, line, this.issues, this.options.file);
    }
  }

  issue(issue: ParseIssue): void {
    this.issues.push(issue);
  }

  /** Rows so far. */
  get rowCount(): number {
    return this.rows;
  }

  private checkOverrides(): void {
    checkOverrides(this.header, this.options.overrides ?? {}, this.options.file, this.options.overridesIfPresent === true);
  }

  /** How many first rows a second pass must read (columns that became categorical after numbers); 0: none. */
  get rereadRows(): number {
    let n = 0;
    for (const b of this.active) if (b.needsText) n = Math.max(n, b.flipRow);
    return n;
  }

  /** The sink of the second pass: it fills the text of those rows, and reads nothing else; `done` once it has them all. */
  rereadSink(): RecordSink & { readonly done: boolean } {
    const pending = this.active.filter((b) => b.needsText);
    const limit = this.rereadRows;
    let row = 0;
    return {
      columns: () => undefined,
      issue: () => undefined,
      record: (values) => {
        const r = row++;
        for (const b of pending) {
          if (r >= b.flipRow) continue;
          const c = b.label(values[b.index] ?? null);
          if (c >= 0) (b.codes as Pages<Int32Array<ArrayBuffer>>).set(r, c);
        }
      },
      get done() {
        return row >= limit;
      },
    };
  }

  /** The table (the builder is spent). */
  finish(): ColumnarTable {
    if (this.options.format === 'ndjson') this.checkOverrides();
    const rows = this.rows;
    const columns: ColumnarColumn[] = [];
    for (const b of this.builders) if (b !== null) columns.push(b.finish(rows));
    const lines = this.lines;
    return {
      file: this.options.file,
      format: this.options.format,
      header: this.header,
      rowCount: rows,
      columns,
      issues: this.issues,
      lineOf: (row) => lines.lineOf(row),
    };
  }
}
