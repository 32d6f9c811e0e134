import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shardOf } from '../cluster/shard.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-baseline-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `storage:\n  path: ${join(dir, 'v.db')}\nmodels:\n  - name: fraud\n    task: binary\n    segments: { max: 3 }\n    features:\n      - { name: amount, type: numeric }\n      - { name: country, type: categorical }\n      - { name: unused, type: numeric }\n  - name: churn\n    task: multiclass\n    classes: [stay, churn, maybe]\n    features:\n      - { name: tenure, type: numeric }\n`,
);

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['baseline', ...argv], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) }, {});
  return { code, out: out.join(''), err: err.join('') };
};

/** A run with progress on stderr: 'lines' (stderr is not a terminal) or 'bar' (it is). */
const runShowing = async (progress: 'lines' | 'bar', ...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['baseline', ...argv], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), progress, columns: 100 }, {});
  return { code, out: out.join(''), err: err.join('') };
};

describe('vigil baseline', () => {
  it('shows its progress on stderr — a line per stage, or a bar redrawn in place on a terminal — and stdout stays the same', async () => {
    const csv = join(dir, 'progress.csv');
    const lines = ['amount,country,prediction,score,label'];
    for (let i = 0; i < 300; i++) lines.push(`${i},${i % 2 ? 'PL' : 'DE'},${i % 4 === 0 ? 1 : 0},${i % 4 === 0 ? 0.8 : 0.2},${i % 5 === 0 ? 1 : 0}`);
    writeFileSync(csv, lines.join('\n'));
    const args = (v: string) => ['--config', config, '--model', 'fraud', '--version', v, '--from', csv];
    const same = (out: string) => out.replace(/baseline \d+ stored for fraud version \w+/, 'baseline N stored');
    const quiet = await run(...args('progress0'));
    expect(quiet).toMatchObject({ code: 0, err: '' });
    const piped = await runShowing('lines', ...args('progress1'));
    expect(piped.code).toBe(0);
    expect(piped.err).toMatch(
      new RegExp(
        `^vigil baseline: reading ${csv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+(\\.\\d)? kB\\)…\n` +
          'vigil baseline: 300 rows read in \\d+\\.\\d s( \\(\\d+(\\.\\d)? [kMG]?B/s\\))?\n' +
          'vigil baseline: checking 300 rows…\n' +
          'vigil baseline: summarizing 300 rows…\n' +
          'vigil baseline: summarized in \\d+\\.\\d s\n' +
          'vigil baseline: storing the baseline…\n$',
      ),
    );
    expect(same(piped.out)).toBe(same(quiet.out));
    const terminal = await runShowing('bar', ...args('progress2'));
    expect(terminal.code).toBe(0);
    expect(terminal.err).toContain('\rreading ');
    expect(terminal.err).toContain('\rsummarizing 300 rows');
    expect(terminal.err.endsWith('\r\x1b[K')).toBe(true); // nothing left on the screen
    expect(same(terminal.out)).toBe(same(quiet.out));
    // an error on a terminal: the bar is taken away first
    const bad = join(dir, 'progress-bad.ndjson');
    writeFileSync(bad, '{"amount": 1}\n{"amount": \n');
    const failed = await runShowing('bar', '--config', config, '--model', 'fraud', '--version', 'progress3', '--from', bad);
    expect(failed.code).toBe(2);
    expect(failed.err).toMatch(new RegExp(`\r\x1b\\[K${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON`));
  });


  it('reads Parquet (a file written by arrow-rs): the features it has, the label column, the others named as ignored', async () => {
    const pq = new URL('../../test/fixtures/parquet/sample-gzip.parquet', import.meta.url).pathname;
    const r = await run('--config', config, '--model', 'fraud', '--version', 'pq', '--from', pq);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stored for fraud version pq: 500 rows, 2\/3 features/);
    expect(r.out).toContain('ignored columns (not features of fraud): age, flag');
  });


  it("reads a segment column: each segment of at least min_samples rows gets its own references", async () => {
    const csv = join(dir, 'segments.csv');
    const lines = ['amount,country,prediction,label,segment'];
    for (let i = 0; i < 300; i++) lines.push(`${i},${i % 2 ? 'PL' : 'DE'},${i % 4 === 0 ? 1 : 0},${i % 5 === 0 ? 1 : 0},${i < 180 ? 'web' : i < 290 ? '007' : 'pos'}`);
    writeFileSync(csv, lines.join('\n'));
    const r = await run('--config', config, '--model', 'fraud', '--version', 'seg', '--from', csv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // min_samples is 100 by default: pos (10 rows) has none
    expect(r.out).toContain('segment references: web (180 rows), 007 (110 rows)\n'); // a segment is text as written
  });


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
    expect(r.out).not.toContain('segment references');
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

  it("refuses a model of another shard group (cluster.shard): its store would never serve it", async () => {
    const other = 1 - shardOf('fraud', 2);
    const sharded = join(dir, 'sharded.yaml');
    writeFileSync(sharded, `storage:\n  path: ${join(dir, 'shard.db')}\ncluster:\n  shard: { count: 2, index: ${other} }\nmodels:\n  - name: fraud\n    task: binary\n    features:\n      - { name: amount, type: numeric }\n`);
    const csv = join(dir, 'shard.csv');
    writeFileSync(csv, 'amount,prediction\n1,1\n2,0\n');
    const r = await run('--config', sharded, '--model', 'fraud', '--version', 'v1', '--from', csv);
    expect(r).toMatchObject({ code: 2, err: `vigil baseline: model "fraud" belongs to shard ${1 - other} of 2, and ${sharded} is shard ${other} (cluster.shard): build it with that shard group's configuration, or its store never serves it\n` });
  });

  it('refuses to store a version twice (exit 2, nothing stored) unless --replace', async () => {
    const csv = join(dir, 'twice.csv');
    const write = (right: number) => {
      const lines = ['amount,country,prediction,label'];
      for (let i = 0; i < 10; i++) lines.push(`${i},DE,${i % 2},${i < right ? i % 2 : 1 - (i % 2)}`);
      writeFileSync(csv, lines.join('\n'));
    };
    const stored = async () => {
      const store = new SqliteStore({ path: join(dir, 'v.db'), now: 0 });
      const list = (await store.listBaselines('fraud')).filter((b) => b.version === 'twice');
      await store.close();
      return list.map((b) => [b.id, (JSON.parse(b.summary) as { quality: { accuracy: number } }).quality.accuracy]);
    };
    write(9);
    expect((await run('--config', config, '--model', 'fraud', '--version', 'twice', '--from', csv)).code).toBe(0);
    const [[id]] = (await stored()) as [[number, number]];
    write(5);
    const again = await run('--config', config, '--model', 'fraud', '--version', 'twice', '--from', csv);
    expect(again.code).toBe(2);
    expect(again.err).toBe(`vigil baseline: model "fraud" has a baseline for version "twice" already (id ${id}); pass --replace to replace it (nothing was stored)\n`);
    expect(await stored()).toEqual([[id, 0.9]]);
    const replaced = await run('--config', config, '--model', 'fraud', '--version', 'twice', '--from', csv, '--replace');
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(new RegExp(`stored for fraud version twice \\(replacing baseline ${id}\\): 10 rows`));
    const after = await stored();
    expect(after).toHaveLength(1);
    expect(after[0]?.[0]).toBeGreaterThan(id);
    expect(after[0]?.[1]).toBe(0.5);
  });

  it('reads multiclass {class: probability} scores from NDJSON objects and CSV JSON cells, checked as the API checks them', async () => {
    const pairs = [['stay', 'stay'], ['stay', 'churn'], ['churn', 'churn'], ['maybe', 'maybe']];
    const score = (p: string) => ({ stay: p === 'stay' ? 0.8 : 0.1, churn: p === 'churn' ? 0.8 : 0.1, maybe: p === 'maybe' ? 0.8 : 0.1 });
    const nd = join(dir, 'churn.ndjson');
    writeFileSync(nd, pairs.map(([label, prediction], i) => JSON.stringify({ tenure: i, prediction, score: score(prediction as string), label })).join('\n'));
    const a = await run('--config', config, '--model', 'churn', '--version', 'nd', '--from', nd);
    expect(a.err).toBe('');
    expect(a.out).toContain('stored for churn version nd: 4 rows, 1/1 features');
    expect(a.out).toContain('reference quality: accuracy 0.7500');
    const csv = join(dir, 'churn.csv');
    const cell = (o: object) => `"${JSON.stringify(o).replace(/"/g, '""')}"`;
    writeFileSync(csv, ['tenure,prediction,score,label', ...pairs.map(([label, prediction], i) => `${i},${prediction},${cell(score(prediction as string))},${label}`)].join('\n'));
    const b = await run('--config', config, '--model', 'churn', '--version', 'csv', '--from', csv);
    expect(b.err).toBe('');
    expect(b.out).toContain('reference quality: accuracy 0.7500');

    // bad rows: named by line and field, exit 2 — or skipped with --allow-bad-lines
    const bad = join(dir, 'churn-bad.ndjson');
    writeFileSync(bad, [JSON.stringify({ tenure: 1, prediction: 'stay', score: { stay: 0.9 }, label: 'stay' }), '', JSON.stringify({ tenure: 2, prediction: 'stay', score: { stay: 1.2 } }), JSON.stringify({ tenure: 3, prediction: 'gone' })].join('\n'));
    const c = await run('--config', config, '--model', 'churn', '--version', 'bad', '--from', bad);
    expect(c.code).toBe(2);
    expect(c.err).toBe(
      `${bad}:3: bad: score.stay: must be <= 1\n${bad}:4: bad: prediction: prediction "gone" is not one of the model's classes (stay, churn, maybe)\nvigil baseline: 2 bad row(s); fix them or pass --allow-bad-lines\n`,
    );
    const d = await run('--config', config, '--model', 'churn', '--version', 'bad', '--from', bad, '--allow-bad-lines');
    expect(d.code).toBe(0);
    expect(d.out).toContain('1 rows (2 skipped)');
  });
});
