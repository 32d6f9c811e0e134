/**
 * Reads a tabular file by its extension — CSV, NDJSON (.ndjson, .jsonl, .json) or Parquet
 * (.parquet, .pq) — into rows of strings (RawTable), for `vigil baseline`, `drift` and `report`.
 */
import { readFile } from 'node:fs/promises';
import { parseParquet } from './parquet.js';
import { formatFromPath, parseCsv, parseNdjson, TabularError, type RawTable } from './tabular.js';

export async function readRawTable(path: string, options: { jsonColumns?: readonly string[]; readText?: (path: string) => Promise<string> } = {}): Promise<RawTable> {
  const format = formatFromPath(path);
  try {
    if (format === 'parquet') return await parseParquet(await readFile(path), path, options);
    const text = options.readText === undefined ? await readFile(path, 'utf8') : await options.readText(path);
    return format === 'ndjson' ? parseNdjson(text, path, options) : parseCsv(text, path);
  } catch (e) {
    if (e instanceof TabularError) throw e;
    throw new TabularError('VIGIL_ERR_INGEST_READ', path, undefined, `cannot read file: ${(e as Error).message}`);
  }
}
