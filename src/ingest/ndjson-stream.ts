/**
 * An incremental NDJSON parser: text arrives in chunks of any size, each complete line is parsed
 * as it ends, so a file is never one string.
 *
 * The format, as parseNdjson has always read it: one JSON object per line ('\n'; a '\r' before it
 * is trimmed with the other whitespace), blank lines skipped, a leading BOM dropped. Columns are
 * the union of keys in first-seen order (a key first seen late is missing in the rows before);
 * null and absent keys are missing. Numbers stay numbers (they stand for their JSON text),
 * booleans become "true"/"false". Nested objects and arrays are reported and treated as missing,
 * except in `jsonColumns`, which keep them as their JSON text (a multiclass `score` map).
 * A line that is not JSON, or not an object, is an issue (file and line) and skipped.
 */
import { checkHeader, TabularError, type Cell, type RecordSink } from './records.js';

/** Longest line kept (in UTF-16 units): past it the line is an issue (V8's strings end near 2^29). */
export const MAX_LINE_LENGTH = 2 ** 28;

export class NdjsonStreamParser {
  private readonly jsonColumns: ReadonlySet<string>;
  private readonly header: string[] = [];
  private readonly index = new Map<string, number>();
  /** The current line's text before this chunk. */
  private pending = '';
  /** The current line grew past MAX_LINE_LENGTH: it is skipped to its end. */
  private tooLong = false;
  private line = 1;
  private first = true;
  private readonly maxLine: number;

  constructor(
    private readonly file: string,
    private readonly sink: RecordSink,
    options: { jsonColumns?: readonly string[]; maxLineLength?: number } = {},
  ) {
    this.jsonColumns = new Set(options.jsonColumns ?? []);
    this.maxLine = options.maxLineLength ?? MAX_LINE_LENGTH;
  }

  /** Parses the next piece of text. */
  push(chunk: string): void {
    let s = chunk;
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    let from = 0;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl === -1) break;
      const piece = s.slice(from, nl);
      if (this.tooLong || (this.pending === '' && piece.length > this.maxLine)) this.lineTooLong();
      else if (this.pending === '') this.parseLine(piece);
      else {
        const text = this.pending + piece;
        this.pending = '';
        if (text.length > this.maxLine) this.lineTooLong();
        else this.parseLine(text);
      }
      this.line++;
      from = nl + 1;
    }
    if (from < s.length && !this.tooLong) {
      const rest = s.slice(from);
      if (this.pending.length + rest.length > this.maxLine) {
        this.tooLong = true;
        this.pending = '';
      } else this.pending += rest;
    }
  }

  /** The end of the text: its last line. */
  end(): void {
    if (this.tooLong) this.lineTooLong();
    else this.parseLine(this.pending);
    this.pending = '';
    if (this.header.length === 0) throw new TabularError('VIGIL_ERR_INGEST_EMPTY', this.file, undefined, 'no JSON objects found');
  }

  private lineTooLong(): void {
    this.tooLong = false;
    this.sink.issue({ file: this.file, line: this.line, message: `line longer than ${this.maxLine} characters` });
  }

  private parseLine(raw: string): void {
    const t = raw.trim();
    if (t === '') return;
    const file = this.file;
    const lineNo = this.line;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      this.sink.issue({ file, line: lineNo, message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      this.sink.issue({ file, line: lineNo, message: 'expected a JSON object' });
      return;
    }
    const entries = Object.entries(obj as Record<string, unknown>);
    const grownFrom = this.header.length;
    for (const [key] of entries) {
      if (this.index.has(key)) continue;
      this.index.set(key, this.header.length);
      this.header.push(key);
    }
    if (this.header.length > grownFrom) {
      checkHeader(this.header, file, undefined, grownFrom);
      this.sink.columns(this.header, undefined);
    }
    const values = new Array<Cell>(this.header.length).fill(null);
    for (const [key, v] of entries) {
      const k = this.index.get(key) as number;
      if (v === null || v === undefined) values[k] = null;
      else if (typeof v === 'number' || typeof v === 'string') values[k] = v;
      else if (typeof v === 'boolean') values[k] = v ? 'true' : 'false';
      else if (this.jsonColumns.has(key)) values[k] = JSON.stringify(v);
      else {
        this.sink.issue({ file, line: lineNo, message: `field ${JSON.stringify(key)} is a nested ${Array.isArray(v) ? 'array' : 'object'}; treated as missing` });
        values[k] = null;
      }
    }
    this.sink.record(values, lineNo);
  }
}
