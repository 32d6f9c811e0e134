/**
 * An incremental CSV parser (RFC 4180): text arrives in chunks of any size — a file read as a
 * stream, or one string — and records leave as soon as they end, so a file is never one string.
 * A chunk may end anywhere: inside a field, a quoted newline, a CRLF or right after a quote.
 *
 * The format, as parseCsv has always read it: the first non-blank record is the header (names
 * trimmed); comma separator; "quoted" fields with "" escapes and embedded newlines; CRLF, LF or
 * CR line ends; a leading BOM dropped; blank lines skipped. A record with a quoting problem or the
 * wrong number of fields is an issue (file and first line) and skipped; a header with a problem,
 * an empty or duplicate name, or no header at all is fatal (TabularError).
 */
import { checkHeader, TabularError, type RecordSink } from './records.js';

/** Longest field kept (in UTF-16 units): past it the record is an issue (V8's strings end near 2^29). */
export const MAX_FIELD_LENGTH = 2 ** 28;

// where the parser stands between two characters
const RECORD_START = 0; // before a record's first character
const FIELD_START = 1; // after a comma
const UNQUOTED = 2; // inside an unquoted field
const QUOTED = 3; // inside a quoted field
const QUOTE_SEEN = 4; // a quote inside a quoted field: an escape ("") or the closing quote
const AFTER_QUOTE = 5; // after a closing quote, before anything that is not a separator
const AFTER_CR = 6; // a record ended with CR: a LF right after belongs to it

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;

export class CsvStreamParser {
  private state = RECORD_START;
  /** The line the parser is on (1-based). */
  private line = 1;
  private recordLine = 1;
  private fields: string[] = [];
  /** The current field's text so far (across chunks). */
  private field = '';
  private quoteLine = 0;
  /** The field grew past MAX_FIELD_LENGTH: its text is dropped, the record is an issue. */
  private overflow = false;
  /** Whether the current unquoted field holds a quote character. */
  private strayQuote = false;
  private recordIssue: string | undefined;
  private header: string[] | undefined;
  private first = true;

  private readonly maxField: number;

  constructor(
    private readonly file: string,
    private readonly sink: RecordSink,
    options: { maxFieldLength?: number } = {},
  ) {
    this.maxField = options.maxFieldLength ?? MAX_FIELD_LENGTH;
  }

  /** Parses the next piece of text. */
  push(chunk: string): void {
    let s = chunk;
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const n = s.length;
    let i = 0;
    let state = this.state;
    while (i < n) {
      switch (state) {
        case AFTER_CR:
          if (s.charCodeAt(i) === LF) i++;
          state = RECORD_START;
          break;
        case RECORD_START:
        case FIELD_START: {
          if (state === RECORD_START) {
            this.recordLine = this.line;
            this.fields = [];
            this.recordIssue = undefined;
          }
          this.field = '';
          this.overflow = false;
          this.strayQuote = false;
          if (s.charCodeAt(i) === QUOTE) {
            this.quoteLine = this.line;
            i++;
            state = QUOTED;
          } else state = UNQUOTED;
          break;
        }
        case UNQUOTED: {
          // the common case: scan to the separator
          const start = i;
          let c = 0;
          let quote = false;
          while (i < n) {
            c = s.charCodeAt(i);
            if (c === COMMA || c === LF || c === CR) break;
            if (c === QUOTE) quote = true;
            i++;
          }
          if (quote) this.strayQuote = true;
          if (i === n) {
            this.append(start === 0 ? s : s.slice(start)); // the field goes on in the next chunk
            break;
          }
          if (this.field === '' && !this.overflow && i - start <= this.maxField) this.field = s.slice(start, i); // a field within the chunk
          else this.append(s.slice(start, i));
          if (this.strayQuote) this.recordIssue ??= 'quote character inside an unquoted field';
          state = this.separator(c);
          i++;
          break;
        }
        case QUOTED: {
          const start = i;
          while (i < n) {
            const c = s.charCodeAt(i);
            if (c === QUOTE) break;
            if (c === LF) this.line++;
            i++;
          }
          if (i > start) this.append(s.slice(start, i));
          if (i < n) {
            i++; // the quote
            state = QUOTE_SEEN;
          }
          break;
        }
        case QUOTE_SEEN: {
          const c = s.charCodeAt(i);
          if (c === QUOTE) {
            this.append('"');
            i++;
            state = QUOTED;
          } else if (c === COMMA || c === LF || c === CR) {
            state = this.separator(c);
            i++;
          } else {
            this.recordIssue ??= `unexpected character ${JSON.stringify(s[i])} after closing quote`;
            state = AFTER_QUOTE;
          }
          break;
        }
        case AFTER_QUOTE: {
          // what follows a closing quote up to the separator stays in the field (the record is an issue)
          const start = i;
          let c = 0;
          while (i < n) {
            c = s.charCodeAt(i);
            if (c === COMMA || c === LF || c === CR) break;
            i++;
          }
          this.append(s.slice(start, i));
          if (i === n) break;
          state = this.separator(c);
          i++;
          break;
        }
      }
    }
    this.state = state;
  }

  /** The end of the text: the last record, then the header check. */
  end(): void {
    switch (this.state) {
      case RECORD_START:
      case AFTER_CR:
        break;
      case QUOTED:
        this.recordIssue ??= `unterminated quoted field starting on line ${this.quoteLine}`;
        this.endRecord();
        break;
      case UNQUOTED:
        if (this.strayQuote) this.recordIssue ??= 'quote character inside an unquoted field';
        this.endRecord();
        break;
      default:
        // after a comma (an empty last field), after a closing quote, or after what followed it
        this.endRecord();
    }
    this.state = RECORD_START;
    if (this.header === undefined) throw new TabularError('VIGIL_ERR_INGEST_EMPTY', this.file, undefined, 'no header row (file is empty)');
  }

  private append(piece: string): void {
    if (this.overflow) return;
    if (this.field.length + piece.length > this.maxField) {
      this.overflow = true;
      this.field = '';
      this.recordIssue ??= `a field longer than ${this.maxField} characters`;
      return;
    }
    this.field = this.field === '' ? piece : this.field + piece;
  }

  /** The field ended at a separator (comma, LF or CR): the state after it. */
  private separator(c: number): number {
    if (c === COMMA) {
      this.fields.push(this.field);
      this.field = '';
      return FIELD_START;
    }
    this.endRecord();
    return c === CR ? AFTER_CR : RECORD_START;
  }

  private endRecord(): void {
    const fields = this.fields;
    fields.push(this.field);
    this.field = '';
    this.line++;
    if (fields.length === 1 && fields[0] === '') return; // a blank line
    const line = this.recordLine;
    const issue = this.recordIssue;
    const header = this.header;
    if (header === undefined) {
      if (issue !== undefined) throw new TabularError('VIGIL_ERR_INGEST_BAD_HEADER', this.file, line, `bad header: ${issue}`);
      const names = fields.map((f) => f.trim());
      checkHeader(names, this.file, line);
      this.header = names;
      this.sink.columns(names, line);
      return;
    }
    if (issue !== undefined) this.sink.issue({ file: this.file, line, message: issue });
    else if (fields.length !== header.length) this.sink.issue({ file: this.file, line, message: `expected ${header.length} fields, got ${fields.length}` });
    else this.sink.record(fields, line);
  }
}
