import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../core/errors.js';

/**
 * Request bodies: JSON (`application/json`) everywhere, NDJSON on the ingestion endpoints, UTF-8
 * only, optionally compressed (`Content-Encoding: gzip | deflate | br | identity`). Malformed input
 * is a 400 that names the line (and column) of the first error, at any nesting depth; the size
 * limit applies to the decoded bytes, so a zip bomb is a 413 without being inflated.
 */

/** Media types taken as NDJSON, one JSON item per line. */
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines'];

/**
 * Deepest nesting accepted in the JSON bodies of the non-ingestion endpoints (silences, circuit
 * overrides, …): none needs more than 3 levels, and a value nested thousands deep would overflow
 * the stack of anything that walks it recursively (String(), JSON.stringify). Ingestion items need
 * no such limit: their schema admits no nesting below `features` / `score`, and rejects deeper
 * values at the first level (per item, naming the field) without walking them.
 */
export const MAX_JSON_DEPTH = 64;

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

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX = /^[0-9a-fA-F]$/;

/**
 * The offset of the first syntax error in a JSON text (JSON.parse does not say where for every
 * error), or `text.length` when there is none. Iterative, with an explicit stack of open
 * containers: any nesting depth gives an answer, never a stack overflow. Only called after
 * JSON.parse failed, so its speed matters little (it is linear).
 */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  /** open containers: 123 `{`, 91 `[` */
  const stack: number[] = [];
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  /** A string starting at i (a quote); false with i at the error. */
  const string = (): boolean => {
    i++;
    for (;;) {
      if (i >= n) return false;
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return true;
      }
      if (c < 32) return false;
      if (c === 92) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!HEX.test(text[i + k] ?? '')) {
              i += k;
              return false;
            }
          }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else return false;
      } else i++;
    }
  };
  const literal = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) if (text.charCodeAt(i) !== word.charCodeAt(k)) return false;
    return true;
  };
  const number = (): boolean => {
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (m === null || m[0] === '-') return false;
    i += m[0].length;
    return true;
  };
  /** After `{` or `,` in an object: a key and its colon. */
  const key = (): boolean => {
    ws();
    if (text.charCodeAt(i) !== 34 || !string()) return false;
    ws();
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    return true;
  };

  for (;;) {
    // a value
    ws();
    if (i >= n) return n;
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      i++;
      ws();
      if (text.charCodeAt(i) === (c === 123 ? 125 : 93)) i++; // empty container: a complete value
      else {
        stack.push(c);
        if (c === 123 && !key()) return Math.min(i, n);
        continue;
      }
    } else if (c === 34) {
      if (!string()) return Math.min(i, n);
    } else if (c === 116) {
      if (!literal('true')) return Math.min(i, n);
    } else if (c === 102) {
      if (!literal('false')) return Math.min(i, n);
    } else if (c === 110) {
      if (!literal('null')) return Math.min(i, n);
    } else if (!number()) return i;
    // after a value: close containers, or a separator and the next value
    for (;;) {
      ws();
      if (stack.length === 0) return i;
      const top = stack[stack.length - 1];
      const d = text.charCodeAt(i);
      if (d === 44) {
        i++;
        if (top === 123 && !key()) return Math.min(i, n);
        break;
      }
      if ((top === 123 && d === 125) || (top === 91 && d === 93)) {
        stack.pop();
        i++;
        continue;
      }
      return Math.min(i, n);
    }
  }
}

/**
 * The offset of the first bracket that opens a container deeper than `max`, or -1. Linear,
 * skipping strings; only meaningful on valid JSON.
 */
export function depthExceededAt(text: string, max: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 92) i++;
        else if (s === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > max) return i;
    } else if (c === 125 || c === 93) depth--;
  }
  return -1;
}

/** The error code of a malformed body: the ingestion endpoints' documented one, or the generic one. */
type MalformedCode = 'VIGIL_ERR_INGEST_MALFORMED' | 'VIGIL_ERR_HTTP_MALFORMED';

function malformed(kind: string, text: string, offset: number, lineBase = 0, what?: string, code: MalformedCode = 'VIGIL_ERR_INGEST_MALFORMED'): VigilError {
  const { line, column } = lineColumn(text, offset);
  const where = what ?? (offset >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[offset])}`);
  return new VigilError(code, `malformed ${kind} at line ${line + lineBase}, column ${column}: ${where}`, {
    statusCode: 400,
    details: { line: line + lineBase, column },
  });
}

const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/**
 * JSON.parse with a 400 naming the line and column of the first error. Keys such as `__proto__`
 * and `constructor` become ordinary own properties (JSON.parse never touches a prototype); the
 * code downstream reads user-named keys with own-property checks.
 */
export function parseJson(text: string, kind = 'JSON', lineBase = 0, code: MalformedCode = 'VIGIL_ERR_INGEST_MALFORMED'): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Ingestion reads the non-finite numbers Python's json.dumps writes by default (NaN, Infinity,
    // -Infinity) as null, a missing value: one NaN feature must not turn a whole batch away.
    const lenient = code === 'VIGIL_ERR_INGEST_MALFORMED' ? nonFiniteAsNull(text) : undefined;
    if (lenient !== undefined) {
      try {
        return JSON.parse(lenient);
      } catch {
        /* malformed for another reason: the error names the first problem of the body as sent */
      }
    }
    throw malformed(kind, text, jsonErrorOffset(text), lineBase, undefined, code);
  }
}

const NON_FINITE = /(-?Infinity|NaN)(?![\w$])/y;

/**
 * The text with the bare tokens NaN, Infinity and -Infinity (outside strings, where a value starts)
 * written as null; undefined when it has none.
 */
export function nonFiniteAsNull(text: string): string | undefined {
  let out = '';
  let from = 0;
  let found = false;
  let inString = false;
  let prev = ''; // the last character outside strings and blanks: a value starts after one of [ : , or at the start
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      prev = c;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if ((c === 'N' || c === 'I' || c === '-') && (prev === '' || prev === '[' || prev === ':' || prev === ',')) {
      NON_FINITE.lastIndex = i;
      const m = NON_FINITE.exec(text);
      if (m !== null) {
        out += `${text.slice(from, i)}null`;
        i += m[0].length - 1;
        from = i + 1;
        found = true;
        prev = 'l';
        continue;
      }
    }
    prev = c;
  }
  return found ? out + text.slice(from) : undefined;
}

function asBatch(parsed: unknown): unknown[] {
  if (Array.isArray(parsed)) return parsed;
  if (parsed !== null && typeof parsed === 'object') return [parsed];
  throw new VigilError('VIGIL_ERR_INGEST_MALFORMED', 'the body must be a JSON array of items (or one item object)', { statusCode: 400 });
}

/** A JSON body: an array of items, or a single object taken as a batch of one. */
export function parseJsonBatch(text: string): unknown[] {
  return asBatch(parseJson(stripBom(text)));
}

/**
 * A JSON body for the baselines endpoint: `{"from_window": …}` is kept as the object, anything
 * else is a batch of reference rows (an array, or one row object).
 */
export function parseBaselineJson(text: string): unknown {
  const parsed = parseJson(stripBom(text));
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, 'from_window')) return parsed;
  return asBatch(parsed);
}

/** An NDJSON body: one JSON item per line; blank lines are skipped. */
export function parseNdjsonBatch(text: string): unknown[] {
  const out: unknown[] = [];
  const body = stripBom(text);
  let start = 0;
  let lineNo = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    lineNo++;
    let line = body.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') out.push(parseJson(line, 'NDJSON', lineNo - 1));
    start = end + 1;
  }
  return out;
}

/**
 * The JSON body of the other endpoints: any JSON value up to {@link MAX_JSON_DEPTH} levels deep
 * (the routes check its shape); an empty body is no body.
 */
export function parseJsonBody(text: string): unknown {
  const body = stripBom(text);
  if (body.trim() === '') return undefined;
  const parsed = parseJson(body, 'JSON', 0, 'VIGIL_ERR_HTTP_MALFORMED');
  const deep = depthExceededAt(body, MAX_JSON_DEPTH);
  if (deep >= 0) throw malformed('JSON', body, deep, 0, `nested deeper than ${MAX_JSON_DEPTH} levels`, 'VIGIL_ERR_HTTP_MALFORMED');
  return parsed;
}

// ------------------------------------------------------------------ content types and encodings

const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/** 415 unless the Content-Type's charset (if any) is UTF-8 (or its subset US-ASCII). */
export function checkCharset(contentType: string | undefined): void {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  if (m !== null && !UTF8_CHARSETS.has((m[1] as string).toLowerCase())) {
    throw new VigilError('VIGIL_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', `charset "${m[1]}" is not supported: send UTF-8`, { statusCode: 415 });
  }
}

/** A Fastify body parser over the body text (UTF-8 checked first). */
export function textParser(parse: (text: string) => unknown) {
  return (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    try {
      checkCharset(req.headers['content-type']);
      done(null, parse(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  };
}

/** Replaces this plugin's parsers with a JSON-batch one and an NDJSON one (the ingestion endpoints). */
export function addBatchParsers(app: FastifyInstance, json: (text: string) => unknown = parseJsonBatch): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, textParser(json));
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, textParser(parseNdjsonBatch));
}

export const CONTENT_ENCODINGS = ['gzip', 'x-gzip', 'deflate', 'br', 'identity'];

/** The decoded-size limit was crossed (zip bomb or simply too much). */
export function bodyTooLarge(limit: number): VigilError {
  return new VigilError('VIGIL_ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than server.max_body_bytes (${limit} bytes; the limit applies after decompression)`, {
    statusCode: 413,
  });
}

/** A stream of the decoded body, as Fastify's preParsing hooks return: with the raw byte count. */
export type DecodedBody = Readable & { receivedEncodedLength: number };

/**
 * Decodes a request body compressed with `encoding` (gzip, deflate — zlib-wrapped as RFC 9110
 * says — or br), streaming: the decoded bytes are counted as they come and past `limit` the
 * decoder is destroyed at once (413), so a zip bomb is never inflated further than the limit.
 * Corrupt data → 400. Returns `raw` itself for no or identity encoding; throws 415 for others.
 */
export function decodeBody(raw: Readable, encoding: string | undefined, limit: number): Readable | DecodedBody {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return raw;
  if (!CONTENT_ENCODINGS.includes(enc)) {
    throw new VigilError('VIGIL_ERR_HTTP_UNSUPPORTED_ENCODING', `Content-Encoding "${encoding}" is not supported: send gzip, deflate, br or identity`, { statusCode: 415 });
  }
  // createUnzip takes gzip and zlib data alike (some clients label one as the other)
  const decoder = enc === 'br' ? createBrotliDecompress() : createUnzip();
  let decoded = 0;
  let failed = false;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      decoded += chunk.length;
      if (decoded > limit) return cb(fail(bodyTooLarge(limit)));
      cb(null, chunk);
    },
  }) as Transform & { receivedEncodedLength: number };
  out.receivedEncodedLength = 0;
  // Fastify listens while it reads the body; a body it never reads (415, 404) must not crash us
  out.on('error', () => undefined);
  const fail = (err: VigilError): VigilError => {
    if (!failed) {
      failed = true;
      raw.unpipe(decoder);
      decoder.destroy();
      raw.resume(); // drain what the client still sends, so the answer can be read
    }
    return err;
  };
  raw.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength += chunk.length;
  });
  decoder.on('error', (e: Error & { code?: string }) => {
    if (failed) return;
    out.destroy(fail(new VigilError('VIGIL_ERR_HTTP_BAD_ENCODING', `the body is not valid ${enc} data (${e.message})`, { statusCode: 400 })));
  });
  raw.on('error', (e) => {
    if (!failed) out.destroy(fail(new VigilError('VIGIL_ERR_HTTP_BAD_ENCODING', `the request body could not be read (${e.message})`, { statusCode: 400 })));
  });
  raw.pipe(decoder).pipe(out);
  return out;
}

/**
 * Body handling for the whole API, on the root instance before the routes: only JSON (UTF-8) is
 * parsed (other media types → 415, a missing Content-Type on a body → 415), JSON errors name the
 * line and column, bodies may be compressed.
 */
export function installBodyHandling(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, textParser(parseJsonBody));
  app.addHook('preParsing', async (req, _reply, payload) => {
    const enc = req.headers['content-encoding'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    if (enc === undefined || !hasBody) return payload;
    return decodeBody(payload, enc, bodyLimit);
  });
}
