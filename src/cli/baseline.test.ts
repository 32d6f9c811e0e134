import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-baseline-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `storage:\n  path: ${join(dir, 'v.db')}\nmodels:\n  - name: fraud\n    task: binary\n    features:\n      - { name: amount, type: numeric }\n      - { name: country, type: categorical }\n      - { name: unused, type: numeric }\n`,
);

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['baseline', ...argv], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) }, {});
  return { code, out: out.join(''), err: err.join('') };
};

describe('vigil baseline', () => {
  it('stores a baseline from a CSV with labels, with the reference quality', async () => {
    const csv = join(dir, 'train.csv');
    const lines = ['amount,country,prediction,score,label,extra'];
    for (let i = 0; i < 200; i++) lines.push(`${i},${i % 2 ? 'PL' : 'DE'},${i % 4 === 0 ? 1 : 0},${i % 4 === 0 ? 0.8 : 0.2},${i % 5 === 0 ? 1 : 0},x`);
    writeFileSync(csv, lines.join('\n'));
    const r = await run('--config', config, '--model', 'fraud', '--version', 'v3', '--from', csv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stored for fraud version v3: 200 rows, 2\/3 features/);
    expect(r.out).toContain('reference quality: accuracy');
    expect(r.out).toContain('no values for: unused');
    expect(r.out).toContain('ignored columns (not features of fraud): extra');
    const store = new SqliteStore({ path: join(dir, 'v.db'), now: 0 });
    const [b] = await store.listBaselines('fraud');
    await store.close();
    expect(b).toMatchObject({ version: 'v3', rows: 200, source: `file:${csv}` });
    const summary = JSON.parse(b?.summary ?? '{}') as { quality: Record<string, number>; features: Record<string, { kind: string }> };
    expect(summary.features.country?.kind).toBe('categorical');
    // accuracy of (i%4==0) vs (i%5==0) over 0..199
    let right = 0;
    for (let i = 0; i < 200; i++) if ((i % 4 === 0) === (i % 5 === 0)) right++;
    expect(summary.quality.accuracy).toBe(right / 200);
  });

  it('exits 2 on bad input, naming what is wrong', async () => {
    expect((await run('--config', config, '--model', 'fraud')).code).toBe(2);
    const unknown = await run('--config', config, '--model', 'nope', '--version', 'v', '--from', config);
    expect(unknown).toMatchObject({ code: 2, err: expect.stringContaining('model "nope" is not in') });
    const missing = await run('--config', config, '--model', 'fraud', '--version', 'v', '--from', join(dir, 'none.csv'));
    expect(missing).toMatchObject({ code: 2, err: expect.stringContaining(`--from: no such file: ${join(dir, 'none.csv')}`) });
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, '{"amount": 1}\n{"amount": \n');
    const r = await run('--config', config, '--model', 'fraud', '--version', 'v', '--from', bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:2`);
  });
});
