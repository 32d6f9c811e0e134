/**
 * The PostgreSQL store's reads of many predictions: the hot-window rebuild's pages
 * (Store.windowPage) and the full scan (Store.scanPredictions), both keyset pages on the
 * (model, ts, seq) index — each page its own query, nothing held open between pages, no sort.
 *
 * A page must walk the index in order and stop at its LIMIT. The planner chooses that only when it
 * expects many rows: before a table's first ANALYZE (a new database, right after `vigil migrate`)
 * it guesses a few and collects the whole rest of the window with a bitmap scan, joins every row
 * of it and sorts it, for every page — a 100,000-row window took 3.3 s instead of 0.3 s. So each
 * page runs in a transaction of its own with INDEX_ORDER, and the label and features of a row are
 * looked up per row of the page (a LATERAL … LIMIT 1, a scalar subquery), never joined in bulk.
 */
import type { PackedWindowRow, PredictionRecord, Target, WindowPageQuery, WindowPageRow, WindowRow } from '../store.js';
import type { PackedLayouts } from './pg-layouts.js';

/** The settings a page's transaction starts with: the index's order, whatever the planner's estimates. */
export const INDEX_ORDER = 'SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off';

/** Rows per query of scanPredictions: bounded memory whatever the window's size. */
export const SCAN_PAGE_ROWS = 5_000;

/**
 * The cursor of a first page: every row has a seq below this, so `(ts, seq) > (fromTs - 1, FIRST)`
 * is `ts >= fromTs` — one statement serves the first page and the next ones.
 */
const FIRST_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * A bound on a bigint column (epoch ms, minutes) as the integer that selects the same rows for
 * `>=` and `<` (x >= b ⟺ x >= ⌈b⌉, x < b ⟺ x < ⌈b⌉): SQLite compares a fractional bound as it is,
 * PostgreSQL would refuse it as a bigint parameter.
 */
export const intBound = (b: number): number => Math.ceil(b);

/** A row's label, looked up by its key (LIMIT 1: a subquery the planner keeps per row, not a join over all labels). */
const LABEL_OF_ROW = (s: string): string => `SELECT l.ts, l.label_text, l.label_number FROM ${s}.labels l WHERE l.model = p.model AND l.id = p.id LIMIT 1`;

/** A target from its two columns. */
export const targetOf = (text: string | null, num: number | null): Target | null => (text !== null ? text : num);

/**
 * A page of the rebuild: the packed form (as hex text, copied into one buffer per page) when it
 * starts with the layout's head, and then neither the id nor the JSON; the JSON otherwise. The
 * features JSON is read only for those rows, by a subquery on its own table; a row packed (for
 * another layout) without JSON gives its features from its packed form (pg-layouts.ts).
 */
export const windowPageSql = (s: string): string => `
  SELECT p.seq, p.ts, p.version, p.prediction_text, p.prediction_number, p.latency_ms, p.segment, p.error,
    l.ts AS label_ts, l.label_text, l.label_number,
    CASE WHEN k.hit THEN encode(p.packed, 'hex') END AS packed,
    CASE WHEN k.hit THEN NULL ELSE p.id END AS id,
    CASE WHEN k.hit THEN NULL ELSE (SELECT f.features FROM ${s}.prediction_features f WHERE f.seq = p.seq) END AS features,
    CASE WHEN k.hit THEN NULL ELSE encode(p.packed, 'hex') END AS features_packed,
    CASE WHEN k.hit THEN NULL ELSE p.score END AS score
  FROM ${s}.predictions p
    CROSS JOIN LATERAL (SELECT coalesce(substring(p.packed FROM 1 FOR 8) = $2::bytea, false) AS hit) k
    LEFT JOIN LATERAL (${LABEL_OF_ROW(s)}) l ON true
  WHERE p.model = $1 AND p.ts >= $3 AND (p.ts, p.seq) > ($4::bigint, $5::bigint) AND p.seq <= $6
  ORDER BY p.ts, p.seq
  LIMIT $7`;

/** The parameters of windowPageSql. */
export function windowPageParams(model: string, q: WindowPageQuery): unknown[] {
  const head = q.layout.head;
  return [
    model,
    Buffer.from(head.buffer, head.byteOffset, head.byteLength),
    intBound(q.fromTs),
    q.after?.ts ?? intBound(q.fromTs) - 1,
    q.after?.seq ?? FIRST_SEQ,
    q.maxSeq,
    q.limit,
  ];
}

export interface PageRow {
  seq: number;
  ts: number;
  version: string;
  prediction_text: string | null;
  prediction_number: number | null;
  latency_ms: number | null;
  segment: string | null;
  error: string | null;
  label_ts: number | null;
  label_text: string | null;
  label_number: number | null;
  packed: string | null;
  id: string | null;
  features: string | null;
  features_packed: string | null;
  score: string | null;
}

/**
 * A page's rows as Store.windowPage gives them. The packed rows' bytes go into one buffer, each at
 * an 8-aligned offset, so PackedReader reads their numeric values in place (one Float64Array over
 * the page) rather than through a DataView per row.
 */
export function decodeWindowPage(rows: readonly PageRow[], layouts: PackedLayouts): WindowPageRow[] {
  let size = 0;
  for (const r of rows) if (r.packed !== null) size += (r.packed.length / 2 + 7) & ~7;
  const bytes = Buffer.from(new ArrayBuffer(size));
  const out = new Array<WindowPageRow>(rows.length);
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as PageRow;
    const prediction = targetOf(r.prediction_text, r.prediction_number) as Target;
    const label = targetOf(r.label_text, r.label_number);
    if (r.packed !== null) {
      const len = bytes.write(r.packed, at, 'hex');
      const packed = new Uint8Array(bytes.buffer, at, len);
      at += (len + 7) & ~7;
      out[i] = { seq: r.seq, ts: r.ts, version: r.version, prediction, latencyMs: r.latency_ms, segment: r.segment, error: r.error, label, labelTs: r.label_ts, packed } satisfies PackedWindowRow;
    } else {
      out[i] = {
        id: r.id as string, // null only for packed rows
        ts: r.ts,
        version: r.version,
        features: layouts.features(r),
        prediction,
        score: r.score === null ? null : (JSON.parse(r.score) as PredictionRecord['score']),
        latencyMs: r.latency_ms,
        segment: r.segment,
        error: r.error,
        seq: r.seq,
        label,
        labelTs: r.label_ts,
      } satisfies WindowRow;
    }
  }
  return out;
}

/** A stored prediction's columns, as getPrediction and scanPredictions read them. */
export interface RecordRow {
  id: string;
  ts: number;
  version: string;
  prediction_text: string | null;
  prediction_number: number | null;
  score: string | null;
  latency_ms: number | null;
  segment: string | null;
  error: string | null;
  features: string | null;
  features_packed: string | null;
  traceparent: string | null;
}

/** A stored row as the record it was written from (the layouts prepared for its rows). */
export const recordOf = (r: RecordRow, layouts: PackedLayouts): PredictionRecord => ({
  id: r.id,
  ts: r.ts,
  version: r.version,
  features: layouts.features(r),
  prediction: targetOf(r.prediction_text, r.prediction_number) as Target,
  score: r.score === null ? null : (JSON.parse(r.score) as PredictionRecord['score']),
  latencyMs: r.latency_ms,
  segment: r.segment,
  error: r.error,
  ...(r.traceparent === null || r.traceparent === undefined ? {} : { traceparent: r.traceparent }),
});

/** The columns of a prediction with its features and label (p, f, l): the packed form only where there is no JSON. */
export const FEATURES_COLUMNS = `f.features, CASE WHEN f.features IS NULL THEN encode(p.packed, 'hex') END AS features_packed`;
export const RECORD_COLUMNS = `p.id, p.ts, p.version, p.prediction_text, p.prediction_number, p.score, p.latency_ms, p.segment, p.error, p.traceparent,
  ${FEATURES_COLUMNS}, l.ts AS label_ts, l.label_text, l.label_number`;

/**
 * A page of scanPredictions: every column, after the cursor, up to the seq that was the highest
 * when the scan began (the rows committed later have higher seqs: pg-writes.ts), so the scan sees
 * the rows stored before it began and no later ones, as one snapshot would.
 */
export const scanPageSql = (s: string): string => `
  SELECT p.seq, ${RECORD_COLUMNS}
  FROM ${s}.predictions p
    LEFT JOIN LATERAL (SELECT f.features FROM ${s}.prediction_features f WHERE f.seq = p.seq LIMIT 1) f ON true
    LEFT JOIN LATERAL (${LABEL_OF_ROW(s)}) l ON true
  WHERE p.model = $1 AND p.ts >= $2 AND (p.ts, p.seq) > ($3::bigint, $4::bigint) AND p.seq <= $5
  ORDER BY p.ts, p.seq
  LIMIT $6`;

/** The parameters of scanPageSql (after: the last row of the previous page, if any). */
export const scanPageParams = (model: string, fromTs: number, maxSeq: number, after: { ts: number; seq: number } | undefined, limit: number): unknown[] => [
  model,
  intBound(fromTs),
  after?.ts ?? intBound(fromTs) - 1,
  after?.seq ?? FIRST_SEQ,
  maxSeq,
  limit,
];

export interface ScanRow extends RecordRow {
  seq: number;
  label_ts: number | null;
  label_text: string | null;
  label_number: number | null;
}

export const windowRowOf = (r: ScanRow, layouts: PackedLayouts): WindowRow => ({ ...recordOf(r, layouts), seq: r.seq, label: targetOf(r.label_text, r.label_number), labelTs: r.label_ts });
