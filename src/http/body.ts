import { VigilError } from '../core/errors.js';

/**
 * Request bodies of the ingestion API: a JSON array (or one object) or NDJSON, one item per line.
 * Malformed input is a 400 that names the line (and column) of the first error.
 */

/** Line and column (1-based) of an offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

/**
 * The offset of the first syntax error in a JSON text (JSON.parse does not say where for every error).
 * Only called after JSON.parse failed, so its speed does not matter.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 34) return void i++;
      if (c < 32) fail();
      if (c === 92) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) ((i += k), fail());
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null || m[0] === '' || m[0] === '-') fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (pos) {
    if (typeof pos === 'number') return Math.min(pos, text.length);
    throw pos;
  }
}

function malformed(kind: string, text: string, offset: number, lineBase = 0): VigilError {
  const { line, column } = lineColumn(text, offset);
  const where = offset >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[offset])}`;
  return new VigilError('VIGIL_ERR_INGEST_MALFORMED', `malformed ${kind} at line ${line + lineBase}, column ${column}: ${where}`, {
    statusCode: 400,
    details: { line: line + lineBase, column },
  });
}

/** A JSON body: an array of items, or a single object taken as a batch of one. */
export function parseJsonBatch(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed('JSON', text, jsonErrorOffset(text));
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed !== null && typeof parsed === 'object') return [parsed];
  throw new VigilError('VIGIL_ERR_INGEST_MALFORMED', 'the body must be a JSON array of items (or one item object)', { statusCode: 400 });
}

/** An NDJSON body: one JSON item per line; blank lines are skipped. */
export function parseNdjsonBatch(text: string): unknown[] {
  const out: unknown[] = [];
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') {
      try {
        out.push(JSON.parse(line));
      } catch {
        throw malformed('NDJSON', line, jsonErrorOffset(line), lineNo - 1);
      }
    }
    start = end + 1;
  }
  return out;
}
