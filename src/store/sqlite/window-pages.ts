/**
 * The hot-window rebuild's pages (Store.windowPage) as SQLite reads them: the query, and a page in a
 * form that crosses a thread boundary cheaply — typed arrays (transferred, not copied) and one
 * small dictionary of the strings and numbers that repeat (versions, predictions, errors, labels).
 * The same code reads a page on the main thread and in the page reader's worker
 * (page-reader-worker.ts), so both give the same rows.
 */
import type { Statement } from 'better-sqlite3';
import type { PackedWindowRow, PredictionRecord, Target, WindowPageQuery, WindowPageRow, WindowRow } from '../store.js';

/**
 * The packed form (as hex: a BLOB per row comes to JavaScript as its own Buffer, 800,000 mallocs at
 * the bench load) when it has the layout's head — then neither JSON column nor the id is read
 * (the segment is: segment monitors read it) — the JSON otherwise (its features wherever they are, see migration 8). Keyset
 * pagination on the (model, ts) index (whose entries end with the rowid): no sort, nothing held
 * open between pages. The index range starts at the cursor's event time (@startTs); written as a
 * row value, SQLite started every page at @fromTs and filtered, scanning the window again for each
 * page.
 */
export const WINDOW_PAGE_SQL = `SELECT p.rowid AS seq, CASE WHEN substr(p.packed, 1, 8) = @head THEN NULL ELSE p.id END AS id, p.ts, p.version, p.prediction,
    p.latency_ms, p.segment, p.error,
    CASE WHEN substr(p.packed, 1, 8) = @head THEN hex(p.packed) END AS packed,
    CASE WHEN substr(p.packed, 1, 8) = @head THEN NULL
      ELSE coalesce((SELECT f.features FROM prediction_features f WHERE f.ref = p.features_ref), p.features) END AS features,
    CASE WHEN substr(p.packed, 1, 8) = @head THEN NULL ELSE p.score END AS score,
    l.ts AS label_ts, l.label AS label
  FROM predictions p LEFT JOIN labels l ON l.model = p.model AND l.id = p.id
  WHERE p.model = @model AND p.ts >= @startTs AND (p.ts > @afterTs OR p.rowid > @afterSeq) AND p.rowid <= @maxSeq
  ORDER BY p.ts, p.rowid LIMIT @limit`;

/** One page's query, as plain data (it is posted to the worker). */
export interface PageParams {
  model: string;
  /** the layout's head: the first 8 bytes of a row packed for it */
  head: Uint8Array;
  fromTs: number;
  maxSeq: number;
  afterTs: number;
  afterSeq: number;
  limit: number;
}

export const pageParams = (model: string, q: WindowPageQuery): PageParams => ({
  model,
  head: q.layout.head,
  fromTs: q.fromTs,
  maxSeq: q.maxSeq,
  afterTs: q.after?.ts ?? -Number.MAX_VALUE,
  afterSeq: q.after?.seq ?? -Number.MAX_VALUE,
  limit: q.limit,
});

/** The query of the page after `page` (read from `p`): the cursor moves to its last row. */
export function nextParams(p: PageParams, page: EncodedPage): PageParams {
  const last = page.n - 1;
  return { ...p, afterTs: page.meta[4 * last + 1] as number, afterSeq: page.meta[4 * last] as number };
}

/** Identifies a page's query (prefetched pages are matched by it). */
export const pageKey = (p: PageParams): string => `${p.model}\u0000${Buffer.from(p.head.buffer, p.head.byteOffset, p.head.byteLength).toString('hex')}\u0000${p.fromTs}\u0000${p.maxSeq}\u0000${p.afterTs}\u0000${p.afterSeq}\u0000${p.limit}`;

/** A JSON row's fields that a packed row does not carry. */
interface JsonPart {
  id: string;
  features: PredictionRecord['features'];
  score: PredictionRecord['score'];
}

/** A page of rows in columns. */
export interface EncodedPage {
  n: number;
  /** per row: seq, ts, latencyMs (NaN: null), labelTs (NaN: null) */
  meta: Float64Array;
  /** per row: version, prediction, error, label, segment as indexes into `values` (-1: null) */
  refs: Int32Array;
  values: (string | number)[];
  /** the packed rows' bytes, each at an 8-aligned offset (its numeric values are read in place) */
  bytes: ArrayBuffer;
  /** per row: offset and length in `bytes` (length -1: a JSON row, in `json`) */
  spans: Int32Array;
  /** per row: its JSON fields, null for a packed row */
  json: (JsonPart | null)[];
}

/** Int32 references per row in EncodedPage.refs. */
const REFS = 5;

type Raw = [number, string | null, number, string, Target, number | null, string | null, string | null, string | null, string | null, string | null, number | null, Target | null];

/** Reads one page with the (raw) WINDOW_PAGE_SQL statement. */
export function readPage(stmt: Statement, p: PageParams): EncodedPage {
  const rows = stmt.all({
    model: p.model,
    head: p.head,
    startTs: Math.max(p.fromTs, p.afterTs),
    maxSeq: p.maxSeq,
    afterTs: p.afterTs,
    afterSeq: p.afterSeq,
    limit: p.limit,
  }) as Raw[];
  const n = rows.length;
  let size = 0;
  for (const r of rows) if (r[8] !== null) size += (r[8].length / 2 + 7) & ~7;
  const buffer = new ArrayBuffer(size); // its own memory, so it can be transferred
  const bytes = Buffer.from(buffer);
  const meta = new Float64Array(4 * n);
  const refs = new Int32Array(REFS * n);
  const spans = new Int32Array(2 * n);
  const values: (string | number)[] = [];
  const index = new Map<string | number, number>();
  const ref = (v: string | number | null): number => {
    if (v === null) return -1;
    let k = index.get(v);
    if (k === undefined) {
      k = values.length;
      values.push(v);
      index.set(v, k);
    }
    return k;
  };
  const json: (JsonPart | null)[] = new Array<JsonPart | null>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const [seq, id, ts, version, prediction, latencyMs, segment, error, hex, features, score, labelTs, label] = rows[i] as Raw;
    meta[4 * i] = seq;
    meta[4 * i + 1] = ts;
    meta[4 * i + 2] = latencyMs ?? NaN;
    meta[4 * i + 3] = labelTs ?? NaN;
    refs[REFS * i] = ref(version);
    refs[REFS * i + 1] = ref(prediction);
    refs[REFS * i + 2] = ref(error);
    refs[REFS * i + 3] = ref(label);
    refs[REFS * i + 4] = ref(segment);
    if (hex !== null) {
      const len = bytes.write(hex, at, 'hex');
      spans[2 * i] = at;
      spans[2 * i + 1] = len;
      at += (len + 7) & ~7;
      json[i] = null;
    } else {
      spans[2 * i] = 0;
      spans[2 * i + 1] = -1;
      json[i] = {
        id: id as string, // null only for packed rows
        features: JSON.parse(features ?? '{}') as PredictionRecord['features'],
        score: score === null ? null : (JSON.parse(score) as PredictionRecord['score']),
      };
    }
  }
  return { n, meta, refs, values, bytes: buffer, spans, json };
}

/** The buffers a page's transfer moves (not copies) to the other thread. */
export const transferList = (page: EncodedPage): ArrayBuffer[] => [page.bytes, page.meta.buffer as ArrayBuffer, page.refs.buffer as ArrayBuffer, page.spans.buffer as ArrayBuffer];

/** A page's rows as Store.windowPage gives them. */
export function decodePage(page: EncodedPage): WindowPageRow[] {
  const { n, meta, refs, values, spans, json } = page;
  const bytes = new Uint8Array(page.bytes);
  const out: WindowPageRow[] = new Array<WindowPageRow>(n);
  const val = (k: number): string | number | null => (k < 0 ? null : (values[k] as string | number));
  for (let i = 0; i < n; i++) {
    const seq = meta[4 * i] as number;
    const ts = meta[4 * i + 1] as number;
    const latency = meta[4 * i + 2] as number;
    const lts = meta[4 * i + 3] as number;
    const latencyMs = latency === latency ? latency : null;
    const labelTs = lts === lts ? lts : null;
    const version = val(refs[REFS * i] as number) as string;
    const prediction = val(refs[REFS * i + 1] as number) as Target;
    const error = val(refs[REFS * i + 2] as number) as string | null;
    const label = val(refs[REFS * i + 3] as number);
    const segment = val(refs[REFS * i + 4] as number) as string | null;
    const j = json[i];
    if (j === null || j === undefined) {
      const at = spans[2 * i] as number;
      const packed = bytes.subarray(at, at + (spans[2 * i + 1] as number));
      out[i] = { seq, ts, version, prediction, latencyMs, segment, error, label, labelTs, packed } satisfies PackedWindowRow;
    } else {
      out[i] = { id: j.id, ts, version, features: j.features, prediction, score: j.score, latencyMs, segment, error, seq, label, labelTs } satisfies WindowRow;
    }
  }
  return out;
}
