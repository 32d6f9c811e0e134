import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrift } from './drift.js';
import { mulberry32 } from '../core/random.js';

function csv(n: number, shift: number, catShift: boolean, seed: number): string {
  const r = mulberry32(seed);
  const lines = ['x,city,zip'];
  for (let i = 0; i < n; i++) {
    const x = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) + shift;
    const u = r();
    const city = catShift ? (u < 0.6 ? 'Paris' : u < 0.9 ? 'Lyon' : '"Nice, FR"') : u < 0.3 ? 'Paris' : u < 0.6 ? 'Lyon' : '"Nice, FR"';
    lines.push(`${x.toFixed(6)},${city},${75000 + Math.floor(r() * 3)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

let dir = '';
const path = (f: string): string => join(dir, f);
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDrift(argv, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    readFile: (p) => readFile(p, 'utf8'),
  });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-drift-'));
  writeFileSync(path('ref.csv'), csv(2000, 0, false, 1));
  writeFileSync(path('same.csv'), csv(1500, 0, false, 2));
  writeFileSync(path('shifted.csv'), csv(1500, 1, true, 3));
  writeFileSync(path('bad.csv'), 'x,city,zip\n1,a,1\n2,b\n');
  writeFileSync(path('cur.ndjson'), Array.from({ length: 300 }, (_, i) => JSON.stringify({ x: (i % 17) / 8 - 1, city: 'Paris', zip: 75000 })).join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil drift', () => {
  it('exit 0 and a table when nothing drifted', async () => {
    const r = await run(['drift', '--reference', path('ref.csv'), '--current', path('same.csv')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^FEATURE\s+TYPE\s+TEST\s+STATISTIC\s+P-VALUE\s+ADJ-P\s+STATUS/);
    expect(r.out).toMatch(/x\s+numeric\s+ks\s/);
    expect(r.out).toMatch(/city\s+categorical\s+chi2\s/);
    expect(r.out).toMatch(/Summary: 3 feature\(s\) tested, 0 drifted/);
    expect(r.out).toMatch(/Result: no drift/);
  });
  it('exit 1 and JSON when a feature drifted', async () => {
    const r = await run(['--reference', path('ref.csv'), '--current', path('shifted.csv'), '--format', 'json', '--tests', 'ks,psi,chi2,jsd,wasserstein', '--categorical', 'zip']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as {
      features: { feature: string; type: string; test: string; status: string; p_value: number | null; suggested_action: string }[];
      summary: { features_tested: number; features_drifted: number; drifted_features: string[]; severity: string; drift_detected: boolean };
    };
    expect(j.summary.drift_detected).toBe(true);
    expect(j.summary.drifted_features.sort()).toEqual(['city', 'x']);
    expect(j.summary.features_tested).toBe(3);
    const x = j.features.filter((f) => f.feature === 'x');
    expect(x.map((f) => f.test)).toEqual(['ks', 'psi', 'jsd', 'wasserstein']);
    for (const f of x) expect(f.status).toBe('drift');
    const zip = j.features.filter((f) => f.feature === 'zip');
    expect(zip.every((f) => f.type === 'categorical')).toBe(true);
    expect(zip.map((f) => f.test)).toEqual(['psi', 'chi2', 'jsd']);
    expect(j.features.find((f) => f.feature === 'city' && f.test === 'chi2')?.suggested_action).toMatch(/Investigate city/);
  });
  it('reads NDJSON current files and imposes reference types', async () => {
    const r = await run(['--reference', path('ref.csv'), '--current', path('cur.ndjson'), '--format', 'json']);
    expect([0, 1]).toContain(r.code);
    const j = JSON.parse(r.out) as { features: { feature: string; type: string }[] };
    expect(j.features.find((f) => f.feature === 'zip')?.type).toBe('numeric');
  });
  it('exit 2 naming the file and line of a malformed row', async () => {
    const r = await run(['--reference', path('ref.csv'), '--current', path('bad.csv')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${path('bad.csv')}:3: expected 3 fields, got 2`);
    const ok = await run(['--reference', path('ref.csv'), '--current', path('bad.csv'), '--allow-bad-lines']);
    expect(ok.err).toContain('warning:');
    expect(ok.code).not.toBe(2);
  });
  it('exit 2 naming the flag or file for bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [['--current', path('same.csv')], /--reference/],
      [['--reference', path('ref.csv')], /--current/],
      [['--reference', path('ref.csv'), '--current', path('same.csv'), '--format', 'xml'], /--format/],
      [['--reference', path('ref.csv'), '--current', path('same.csv'), '--alpha', '1.5'], /--alpha/],
      [['--reference', path('ref.csv'), '--current', path('same.csv'), '--tests', 'ks,foo'], /unknown test "foo"/],
      [['--reference', path('ref.csv'), '--current', path('same.csv'), '--categorical', 'nope'], /column "nope" does not exist/],
      [['--reference', path('ref.csv'), '--current', path('same.csv'), '--numeric', 'x', '--categorical', 'x'], /both/],
      [['--reference', path('missing.csv'), '--current', path('same.csv')], /missing\.csv: cannot read file/],
      [['--reference', path('ref.csv'), '--current', path('same.csv'), '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.out).toBe('');
    }
  });
  it('with progress on stderr (not a terminal): a line per file read and for the tests; stdout unchanged', async () => {
    let out = '';
    let err = '';
    const code = await runDrift(['--reference', path('ref.csv'), '--current', path('same.csv'), '--format', 'json'], {
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      progress: 'lines',
    });
    expect(code).toBe(0);
    expect(err.split('\n').map((l) => l.replace(/\d+(\.\d+)? (s|kB|MB|B)\b/g, 'N')).filter((l) => l !== '')).toEqual([
      `vigil drift: reading ${path('ref.csv')} (N)…`,
      expect.stringMatching(/^vigil drift: 2,000 rows read in N( \(N\/s\))?$/),
      `vigil drift: reading ${path('same.csv')} (N)…`,
      expect.stringMatching(/^vigil drift: 1,500 rows read in N( \(N\/s\))?$/),
      'vigil drift: testing 3 column(s)…',
    ]);
    expect(out).toBe((await run(['--reference', path('ref.csv'), '--current', path('same.csv'), '--format', 'json'])).out);
  });
  it('--help prints usage with exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: vigil drift/);
  });
});
