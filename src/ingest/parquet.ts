/**
 * Parquet input for `vigil baseline`, `vigil drift` and `vigil report`: a file's rows as the CSV and
 * NDJSON readers give them (RawTable: every value a string or null), read with hyparquet (added:
 * the maintained pure-JavaScript Parquet reader, no native code; hyparquet-compressors for the
 * codecs beyond Snappy — gzip, zstd, brotli, lz4). Numbers keep their exact value (a double's
 * text reads back as the same double), booleans become "true"/"false", dates their ISO text;
 * nested values (lists, maps, structs) are missing, unless the column is in `jsonColumns` (a
 * multiclass `score` map), which keeps their JSON text. A row's "line" in messages is its number.
 */
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { TabularError, type ParseIssue, type RawTable } from './tabular.js';

/** The Parquet magic number that starts and ends every file. */
const MAGIC = 'PAR1';

function cell(v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : String(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  return undefined; // nested
}

const jsonText = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));

/** The top-level columns of a Parquet schema (depth-first, its root first): a group's subtree is one column. */
function topLevelColumns(schema: readonly { name: string; num_children?: number }[]): string[] {
  const out: string[] = [];
  let i = 1;
  while (i < schema.length) {
    const s = schema[i] as { name: string; num_children?: number };
    out.push(s.name);
    let pending = s.num_children ?? 0; // the elements of its subtree still to skip
    i++;
    while (pending > 0 && i < schema.length) {
      pending += ((schema[i] as { num_children?: number }).num_children ?? 0) - 1;
      i++;
    }
  }
  return out;
}

/** Parses a Parquet file's bytes. */
export async function parseParquet(bytes: Uint8Array, file: string, options: { jsonColumns?: readonly string[] } = {}): Promise<RawTable> {
  const text = (from: number) => String.fromCharCode(...bytes.subarray(from, from + 4));
  if (bytes.length < 12 || text(0) !== MAGIC || text(bytes.length - 4) !== MAGIC) {
    throw new TabularError('VIGIL_ERR_INGEST_MALFORMED', file, undefined, 'not a Parquet file (no PAR1 magic at its start and end)');
  }
  // its own memory: hyparquet reads an ArrayBuffer from offset 0
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let header: string[];
  let rows: Record<string, unknown>[];
  try {
    header = topLevelColumns(parquetMetadata(buffer).schema);
    rows = (await parquetReadObjects({ file: buffer, compressors, utf8: true })) as Record<string, unknown>[];
  } catch (e) {
    throw new TabularError('VIGIL_ERR_INGEST_MALFORMED', file, undefined, `cannot read Parquet: ${(e as Error).message}`);
  }
  if (header.length === 0) throw new TabularError('VIGIL_ERR_INGEST_EMPTY', file, undefined, 'no columns');
  const jsonColumns = new Set(options.jsonColumns ?? []);
  const issues: ParseIssue[] = [];
  const nestedReported = new Set<string>();
  const records: (string | null)[][] = new Array<(string | null)[]>(rows.length);
  const recordLines: number[] = new Array<number>(rows.length);
  rows.forEach((row, r) => {
    records[r] = header.map((h) => {
      const v = row[h];
      const c = cell(v);
      if (c !== undefined) return c;
      if (jsonColumns.has(h)) return jsonText(v);
      if (!nestedReported.has(h)) {
        nestedReported.add(h);
        issues.push({ file, line: r + 1, message: `column ${JSON.stringify(h)} is nested (a list, map or struct); treated as missing` });
      }
      return null;
    });
    recordLines[r] = r + 1;
  });
  return { file, format: 'parquet', header, records, recordLines, issues };
}
