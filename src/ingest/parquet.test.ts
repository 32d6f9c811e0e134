import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseParquet } from './parquet.js';
import { readRawTable } from './read-table.js';
import { typeColumns } from './tabular.js';

/** Written by parquet-wasm (the Rust parquet crate of arrow-rs), not by the reader under test: test/fixtures/parquet/generate.mjs. */
const fixture = (name: string) => new URL(`../../test/fixtures/parquet/sample-${name}.parquet`, import.meta.url);
const ROWS = 500;

describe('Parquet input', () => {
  it.each(['snappy', 'zstd', 'gzip', 'none'])('reads every row and column of a file written by arrow-rs (%s), values exact', async (codec) => {
    const path = fixture(codec).pathname;
    const raw = await readRawTable(path);
    expect(raw).toMatchObject({ format: 'parquet', header: ['amount', 'age', 'country', 'label', 'flag'], issues: [] });
    expect(raw.records).toHaveLength(ROWS);
    const t = typeColumns(raw);
    const col = (n: string) => t.columns.find((c) => c.name === n);
    expect(col('amount')?.type).toBe('numeric');
    expect(col('age')?.type).toBe('numeric');
    expect(col('label')?.type).toBe('numeric'); // int64 as numbers
    expect(col('country')?.type).toBe('categorical');
    expect(col('flag')?.type).toBe('categorical');
    for (let i = 0; i < ROWS; i++) {
      // the generator's values, exactly (NaN is missing)
      const amount = i % 50 === 0 ? NaN : 100 + ((i * 37) % 61) - 30 + 0.25;
      expect(Object.is(col('amount')?.numeric?.[i], amount) || (Number.isNaN(amount) && Number.isNaN(col('amount')?.numeric?.[i] as number))).toBe(true);
      expect(col('age')?.numeric?.[i]).toBe(18 + (i % 60));
      expect(col('label')?.numeric?.[i]).toBe(i % 3 === 0 ? 1 : 0);
      // an empty string is missing, as in CSV and NDJSON
      expect(col('country')?.labels?.[i]).toBe(i % 40 === 0 || i % 4 === 3 ? null : ['PL', 'DE', 'Zürich'][i % 4]);
      expect(col('flag')?.labels?.[i]).toBe(i % 2 === 0 ? 'true' : 'false');
    }
    expect(col('amount')?.missing).toBe(10);
  });

  it('a file that is not Parquet is an error naming it; nothing is read', async () => {
    await expect(parseParquet(Buffer.from('amount\n1\n'), 'x.parquet')).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', message: expect.stringContaining('not a Parquet file') });
    const bytes = readFileSync(fixture('snappy'));
    const truncated = Buffer.concat([bytes.subarray(0, 200), bytes.subarray(bytes.length - 4)]);
    await expect(parseParquet(truncated, 'cut.parquet')).rejects.toMatchObject({ code: 'VIGIL_ERR_INGEST_MALFORMED', message: expect.stringContaining('cut.parquet') });
  });
});
