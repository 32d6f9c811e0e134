import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['report', ...argv], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) }, {});
  return { code, out: out.join(''), err: err.join('') };
};

/** n rows: amount shifted by `shift`, country with a new category when `novel`. */
function csv(name: string, n: number, shift: number, novel: boolean): string {
  const lines = ['amount,country'];
  for (let i = 0; i < n; i++) lines.push(`${100 + shift + ((i * 37) % 41) - 20},${novel && i % 5 === 0 ? '<script>x</script>' : ['PL', 'DE'][i % 2]}`);
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('vigil report', () => {
  it('writes one self-contained HTML file: summary, every test, every feature drawn; drift is not an error', async () => {
    const ref = csv('ref.csv', 800, 0, false);
    const cur = csv('cur.csv', 600, 15, true);
    const out = join(dir, 'r.html');
    const r = await run('--reference', ref, '--current', cur, '--out', out, '--title', 'Fraud <nightly>');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`report written to ${out}: 2 feature(s), 2 drifted (amount, country)\n`);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>Fraud &lt;nightly&gt; · Vigil</title>');
    expect(html).toContain('drift detected');
    // every test of every feature in the table, each feature a chart; the new category as text, marked
    expect(html.match(/<tr><td><a href="#f-/g)).toHaveLength(4);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt; (new)');
    // nothing to fetch, nothing to run
    expect(html).not.toMatch(/<script|<link(?! rel="icon" href="data:,">)|src="|href="http/); // the empty data: icon spares the browser a /favicon.ico
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
  });

  it('reads Parquet: two files written by arrow-rs (the same rows, two codecs) show no drift', async () => {
    const fixture = (c: string) => new URL(`../../test/fixtures/parquet/sample-${c}.parquet`, import.meta.url).pathname;
    const out = join(dir, 'pq.html');
    const r = await run('--reference', fixture('snappy'), '--current', fixture('zstd'), '--out', out);
    expect(r.err).toBe('');
    expect(r).toMatchObject({ code: 0, out: `report written to ${out}: 5 feature(s), 0 drifted\n` });
    expect(readFileSync(out, 'utf8')).toContain('500 rows');
  });

  it('bad input is exit 2 naming the file or the flag, and nothing is written', async () => {
    const ref = csv('ref2.csv', 50, 0, false);
    const out = join(dir, 'never.html');
    expect(await run('--reference', ref, '--current', join(dir, 'missing.csv'), '--out', out)).toMatchObject({ code: 2, err: expect.stringContaining('missing.csv') });
    expect(await run('--reference', ref, '--current', ref, '--out', out, '--tests', 'ks,bogus')).toMatchObject({ code: 2, err: expect.stringContaining('--tests: unknown test "bogus"') });
    expect(await run('--reference', ref, '--current', ref, '--out', out, '--alpha', '2')).toMatchObject({ code: 2, err: expect.stringContaining('--alpha') });
    expect((await run('--current', ref)).code).toBe(2);
    expect(() => readFileSync(out)).toThrow();
  });
});
