/**
 * Reads a tabular file by its extension — CSV, NDJSON (.ndjson, .jsonl, .json) or Parquet
 * (.parquet, .pq) — for `vigil baseline`, `drift` and `report`: as typed columns
 * ({@link readTable}: what the commands use) or as rows of strings ({@link readRawTable}).
 *
 * Nothing holds the whole file: CSV and NDJSON are read as a stream of text chunks through the
 * incremental parsers, Parquet one row group at a time, so the size of a file is bounded by the
 * disk, not by V8's longest string (~512 MB) nor by twice the file in memory.
 */
import { createReadStream } from 'node:fs';
import { TableBuilder, type ColumnarTable, type TableBuilderOptions } from './columnar.js';
import { CsvStreamParser } from './csv-stream.js';
import { NdjsonStreamParser } from './ndjson-stream.js';
import { openParquetFile, readParquetRecords } from './parquet.js';
import { TabularError, type RecordSink, type TabularFormat } from './records.js';
import { formatFromPath, RawTableCollector, type RawTable } from './tabular.js';

/** Text read per chunk: large enough that per-chunk work is noise, small enough to show progress. */
const CHUNK_BYTES = 1 << 20;

export interface ReadProgress {
  /** Bytes of the file read so far (Parquet: the row groups' stored bytes). */
  readonly bytes: number;
  /** Rows read so far. */
  readonly rows: number;
  /** 1, or 2 while the first rows are read again for columns that turned out to be text after numbers. */
  readonly pass: 1 | 2;
}

export interface ReadSourceOptions {
  /** Columns whose nested JSON values (NDJSON objects, Parquet maps) are kept as their JSON text. */
  readonly jsonColumns?: readonly string[];
  /** Reads the whole file as text instead of streaming it (CSV, NDJSON): for tests and embedding. */
  readonly readText?: (path: string) => Promise<string>;
  /** Bytes read at a time from a CSV or NDJSON file (default 1 MiB). */
  readonly chunkBytes?: number;
}

interface PassOptions extends ReadSourceOptions {
  /** After each chunk (or row group): bytes so far. */
  readonly onBytes?: (bytes: number) => void;
  /** Polled after each chunk: stop reading (the rest of the file is not needed). */
  readonly stop?: () => boolean;
}

/** One pass over a file: its columns, records and issues to `sink`, in order. */
async function readRecords(path: string, format: TabularFormat, sink: RecordSink, options: PassOptions): Promise<void> {
  if (format === 'parquet') {
    const { file, close } = await openParquetFile(path);
    try {
      await readParquetRecords(file, path, sink, {
        ...(options.jsonColumns ? { jsonColumns: options.jsonColumns } : {}),
        ...(options.stop ? { stopAfterGroup: options.stop } : {}),
        onProgress: (p) => options.onBytes?.(p.bytes),
      });
    } finally {
      await close();
    }
    return;
  }
  const parser = format === 'ndjson' ? new NdjsonStreamParser(path, sink, options) : new CsvStreamParser(path, sink);
  if (options.readText !== undefined) {
    const text = await options.readText(path);
    parser.push(text);
    parser.end();
    options.onBytes?.(Buffer.byteLength(text));
    return;
  }
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: options.chunkBytes ?? CHUNK_BYTES });
  try {
    for await (const chunk of stream) {
      parser.push(chunk as string);
      options.onBytes?.(stream.bytesRead);
      if (options.stop?.()) return;
    }
  } finally {
    stream.destroy();
  }
  parser.end();
}

/** Errors of the file system as VIGIL_ERR_INGEST_READ naming the file; the parsers' own pass through. */
function readError(path: string, e: unknown): TabularError {
  if (e instanceof TabularError) return e;
  return new TabularError('VIGIL_ERR_INGEST_READ', path, undefined, `cannot read file: ${(e as Error).message}`);
}

export interface ReadTableOptions extends ReadSourceOptions, Omit<TableBuilderOptions, 'file' | 'format'> {
  /** Called as the file is read (every chunk of text, every Parquet row group). */
  readonly onProgress?: (p: ReadProgress) => void;
}

/**
 * Reads a file into typed columns (numeric: float64; categorical: dictionary codes), typed as
 * typeColumns types them (`overrides`; `keep` to store only some columns). Issues (bad lines and
 * values) are in the table; fatal problems are TabularError (file, and line when known).
 */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<ColumnarTable> {
  const format = formatFromPath(path);
  const builder = new TableBuilder({
    file: path,
    format,
    ...(options.overrides ? { overrides: options.overrides } : {}),
    ...(options.overridesIfPresent ? { overridesIfPresent: true } : {}),
    ...(options.keep ? { keep: options.keep } : {}),
  });
  const source: ReadSourceOptions = {
    ...(options.jsonColumns ? { jsonColumns: options.jsonColumns } : {}),
    ...(options.readText ? { readText: options.readText } : {}),
    ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
  };
  try {
    await readRecords(path, format, builder, { ...source, onBytes: (bytes) => options.onProgress?.({ bytes, rows: builder.rowCount, pass: 1 }) });
    const again = builder.rereadRows;
    if (again > 0) {
      // columns that became categorical after rows of numbers: those rows' text, from the file again
      const sink = builder.rereadSink();
      let rows = 0;
      const counting: RecordSink = { columns: sink.columns, issue: sink.issue, record: (values, line) => (rows++, sink.record(values, line)) };
      await readRecords(path, format, counting, { ...source, stop: () => sink.done, onBytes: (bytes) => options.onProgress?.({ bytes, rows: Math.min(rows, again), pass: 2 }) });
    }
    return builder.finish();
  } catch (e) {
    throw readError(path, e);
  }
}

/** Reads a file into rows of strings (RawTable), streamed as readTable reads it. */
export async function readRawTable(path: string, options: ReadSourceOptions = {}): Promise<RawTable> {
  const format = formatFromPath(path);
  const collector = new RawTableCollector(path, format);
  try {
    await readRecords(path, format, collector, options);
  } catch (e) {
    throw readError(path, e);
  }
  return collector.table();
}
