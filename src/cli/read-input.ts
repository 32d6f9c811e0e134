/**
 * How the commands read their input files: {@link readTable} (streamed, typed columns) with its
 * progress shown — the stage, the bytes of the file read so far against its size, the rows.
 */
import { stat } from 'node:fs/promises';
import type { ColumnarTable } from '../ingest/columnar.js';
import { readTable, type ReadTableOptions } from '../ingest/read-table.js';
import type { Progress } from './progress.js';

/** Rows for people: 10,000,000. */
export const rowCount = (n: number): string => n.toLocaleString('en-US');

/** Reads `path` (see readTable), reporting its progress; the stage ends with the rows read. */
export async function readInput(path: string, options: Omit<ReadTableOptions, 'onProgress'>, progress: Progress): Promise<ColumnarTable> {
  let size: number | undefined;
  if (options.readText === undefined) {
    try {
      size = (await stat(path)).size;
    } catch {
      // readTable says what is wrong with the file
    }
  }
  const sized = size === undefined ? {} : { totalBytes: size };
  progress.stage(`reading ${path}`, sized);
  let pass = 1;
  const table = await readTable(path, {
    ...options,
    onProgress: (p) => {
      if (p.pass !== pass) {
        pass = p.pass;
        progress.stage(`reading ${path} again, for the columns that turned out to be text after numbers`, sized);
      }
      progress.update({ bytes: p.bytes, rows: p.rows });
    },
  });
  progress.done(`${rowCount(table.rowCount)} rows read`);
  return table;
}
