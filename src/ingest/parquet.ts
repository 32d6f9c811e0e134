/**
 * Parquet input for `vigil baseline`, `vigil drift` and `vigil report`: a file's records as the CSV
 * and NDJSON parsers give them, read with hyparquet (added: the maintained pure-JavaScript Parquet
 * reader, no native code; hyparquet-compressors for the codecs beyond Snappy — gzip, zstd,
 * brotli, lz4). The file is read one row group at a time (its column chunks, from their offsets),
 * so memory holds one decoded row group, never the whole file. Numbers stay numbers (their text
 * reads back as the same double), booleans become "true"/"false", dates their ISO text; nested
 * values (lists, maps, structs) are missing, unless the column is in `jsonColumns` (a multiclass
 * `score` map), which keeps their JSON text. A row's "line" in messages is its number.
 */
import { open } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { TabularError, type Cell, type RecordSink } from './records.js';
import { RawTableCollector, type RawTable } from './tabular.js';

/** The Parquet magic number that starts and ends every file. */
const MAGIC = 'PAR1';

function cell(v: unknown): Cell | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
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

/** A Parquet file on disk as hyparquet reads it: byte ranges read where they are, on demand. */
export async function openParquetFile(path: string): Promise<{ file: AsyncBuffer; close: () => Promise<void> }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const file: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const stop = Math.min(end ?? size, size);
        const bytes = new Uint8Array(Math.max(0, stop - start));
        let done = 0;
        while (done < bytes.length) {
          const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return bytes.buffer;
      },
    };
    return { file, close: () => handle.close() };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

export interface ParquetReadOptions {
  jsonColumns?: readonly string[];
  /** Polled after each row group: stop reading (the rest of the file is not needed). */
  stopAfterGroup?: () => boolean;
  /** After each row group: the bytes of the row groups read so far (compressed, as stored) and their rows. */
  onProgress?: (p: { bytes: number; rows: number }) => void;
}

/**
 * Sends a Parquet file's columns and rows to `sink`, one row group at a time. A file that is not
 * Parquet, or that hyparquet cannot decode, is VIGIL_ERR_INGEST_MALFORMED naming it.
 */
export async function readParquetRecords(file: AsyncBuffer, name: string, sink: RecordSink, options: ParquetReadOptions = {}): Promise<void> {
  const magic = async (from: number): Promise<string> => String.fromCharCode(...new Uint8Array(await file.slice(from, from + 4)));
  if (file.byteLength < 12 || (await magic(0)) !== MAGIC || (await magic(file.byteLength - 4)) !== MAGIC) {
    throw new TabularError('VIGIL_ERR_INGEST_MALFORMED', name, undefined, 'not a Parquet file (no PAR1 magic at its start and end)');
  }
  const malformed = (e: unknown): TabularError => new TabularError('VIGIL_ERR_INGEST_MALFORMED', name, undefined, `cannot read Parquet: ${(e as Error).message}`);
  let metadata: FileMetaData;
  let header: string[];
  try {
    metadata = await parquetMetadataAsync(file);
    header = topLevelColumns(metadata.schema);
  } catch (e) {
    throw malformed(e);
  }
  if (header.length === 0) throw new TabularError('VIGIL_ERR_INGEST_EMPTY', name, undefined, 'no columns');
  sink.columns(header, undefined);
  const jsonColumns = new Set(options.jsonColumns ?? []);
  const nestedReported = new Set<string>();
  let groupStart = 0;
  let bytes = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    const groupEnd = groupStart + groupRows;
    const chunks = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
    try {
      await parquetRead({
        file,
        metadata,
        rowStart: groupStart,
        rowEnd: groupEnd,
        compressors,
        utf8: true,
        onChunk: (c) => {
          let list = chunks.get(c.columnName);
          if (list === undefined) chunks.set(c.columnName, (list = []));
          list.push({ rowStart: c.rowStart, data: c.columnData });
        },
      });
    } catch (e) {
      throw malformed(e);
    }
    // each column's chunks in row order, walked with a cursor
    const columns = header.map((h) => (chunks.get(h) ?? []).sort((a, b) => a.rowStart - b.rowStart));
    const cursor = new Array<number>(header.length).fill(0);
    const values = new Array<Cell>(header.length);
    for (let r = groupStart; r < groupEnd; r++) {
      for (let c = 0; c < header.length; c++) {
        const list = columns[c] as { rowStart: number; data: ArrayLike<unknown> }[];
        let k = cursor[c] as number;
        while (k < list.length && r >= (list[k] as { rowStart: number }).rowStart + (list[k] as { data: ArrayLike<unknown> }).data.length) k++;
        cursor[c] = k;
        const chunk = list[k];
        const v = chunk !== undefined && r >= chunk.rowStart ? chunk.data[r - chunk.rowStart] : undefined;
        const x = cell(v);
        if (x !== undefined) {
          values[c] = x;
          continue;
        }
        const h = header[c] as string;
        if (jsonColumns.has(h)) {
          values[c] = jsonText(v);
          continue;
        }
        if (!nestedReported.has(h)) {
          nestedReported.add(h);
          sink.issue({ file: name, line: r + 1, message: `column ${JSON.stringify(h)} is nested (a list, map or struct); treated as missing` });
        }
        values[c] = null;
      }
      sink.record(values, r + 1);
    }
    for (const c of group.columns) bytes += Number(c.meta_data?.total_compressed_size ?? 0n);
    groupStart = groupEnd;
    options.onProgress?.({ bytes, rows: groupStart });
    if (options.stopAfterGroup?.()) break;
  }
}

/** Parses a Parquet file's bytes (already in memory) into rows of strings. */
export async function parseParquet(bytes: Uint8Array, file: string, options: { jsonColumns?: readonly string[] } = {}): Promise<RawTable> {
  // its own memory: hyparquet reads an ArrayBuffer from offset 0
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const collector = new RawTableCollector(file, 'parquet');
  await readParquetRecords(buffer, file, collector, options);
  return collector.table();
}
