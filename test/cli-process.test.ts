import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The real `vigil` binary: --help and flag checks before anything starts, configuration errors,
 * `vigil baseline` twice, and `serve --simulate` twice on the same store (npm start run twice).
 * Needs the build (`npm test` runs it first).
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'vigil.db');
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `server:\n  port: 0\nstorage:\n  path: ${db}\nevaluation_interval: 1s\nmodels:\n` +
    `  - { name: fraud, task: binary, windows: [1h], features: [{ name: amount, type: numeric }, { name: country, type: categorical }] }\n` +
    `  - { name: churn, task: multiclass, classes: [stay, churn, maybe], windows: [1h], features: [{ name: tenure, type: numeric }] }\n`,
);

const run = (argv: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn(process.execPath, [MAIN, ...argv], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += String(d)));
    c.stderr.on('data', (d) => (err += String(d)));
    c.on('exit', (code) => resolve({ code, out, err }));
  });

describe('the vigil command line, as a process', () => {
  it('--help on a command is its usage, exit 0; a bad flag is exit 2 naming it, and nothing starts', async () => {
    const help = await run(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: vigil serve \[options\]/);
    const bad = await run(['serve', '--config', config, '--simulate', '--drift-after', 'soon']);
    expect(bad).toMatchObject({ code: 2, out: '' });
    expect(bad.err).toBe('vigil serve: --drift-after: "soon" is not a duration (use e.g. 30s, 2m, 1h30m)\nRun "vigil serve --help" for its options.\n');
    const url = await run(['simulate', '--url', 'notaurl', '--config', config]);
    expect(url.code).toBe(2);
    expect(url.err).toContain('--url: "notaurl" is not a URL');
    expect(existsSync(db)).toBe(false);
  });

  it('an empty configuration file is exit 2 saying what to write', async () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '# nothing yet\n');
    const r = await run(['check-config', empty]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${empty}:1:1: the configuration is empty`);
    expect(r.err).toContain('(VIGIL_ERR_CONFIG_EMPTY)');
  });

  it('serve --simulate twice on the same store: the second run replaces the simulator\'s baselines instead of failing', async () => {
    for (let i = 0; i < 2; i++) {
      // a registry nobody answers: the demo registry is not started (its port may be taken here)
      const child = spawn(process.execPath, [MAIN, 'serve', '--config', config, '--simulate', '--sim-rate', '5'], { env: { ...process.env, VIGIL_REGISTRY_URL: 'http://127.0.0.1:1' } });
      const lines: string[] = [];
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.stderr.on('data', (d) => lines.push(String(d)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no baselines posted:\n${lines.join('\n')}`)), 30_000);
        let posted = 0;
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          if (line.includes('simulator baseline')) {
            clearTimeout(timer);
            reject(new Error(`run ${i + 1}: ${line}`));
          }
          if (line.includes('"simulator posted a baseline"') && ++posted === 2) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then(() => reject(new Error(`vigil exited early:\n${lines.join('\n')}`)));
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('serve --simulate --fresh (npm start) starts on a new store and keeps the previous one beside it, its WAL with it', async () => {
    const own = join(dir, 'fresh.yaml');
    const ownDb = join(dir, 'fresh.db');
    writeFileSync(own, `server:\n  port: 0\nstorage:\n  path: ${ownDb}\nmodels:\n  - { name: fraud, task: binary, windows: [1h], features: [{ name: amount, type: numeric }] }\n`);
    writeFileSync(ownDb, 'the previous run');
    writeFileSync(`${ownDb}-wal`, 'its log');
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', own, '--simulate', '--fresh', '--sim-rate', '1'], { env: { ...process.env, VIGIL_REGISTRY_URL: 'http://127.0.0.1:1' } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not started:\n${lines.join('\n')}`)), 30_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line.includes('vigil listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const aside = lines.map((l) => JSON.parse(l) as Record<string, string>).find((l) => l.msg === 'demo: a fresh store; the previous one is kept');
    expect(aside?.store).toBe(ownDb);
    const kept = aside?.previous ?? '';
    expect(kept).toMatch(new RegExp(`^${ownDb.replace(/[.\\]/g, '\\$&')}\\.\\d{4}-\\d\\d-\\d\\dT`));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(kept, 'utf8')).toBe('the previous run');
    expect(readFileSync(`${kept}-wal`, 'utf8')).toBe('its log');
    expect(readFileSync(ownDb).subarray(0, 15).toString()).toBe('SQLite format 3'); // a new store
  });

  it('vigil baseline in a pipe (stderr not a terminal) says each stage on a line of stderr; stdout as always', async () => {
    const csv = join(dir, 'stages.csv');
    writeFileSync(csv, ['amount,country,prediction,score,label', ...Array.from({ length: 30 }, (_, i) => `${i},PL,${i % 2},${i % 2 ? 0.9 : 0.1},${i % 2}`)].join('\n'));
    const r = await run(['baseline', '--config', config, '--model', 'fraud', '--version', 'stages', '--from', csv]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^vigil baseline: reading \S+stages\.csv \(\d+ B\)…\nvigil baseline: 30 rows read in \d+\.\d s/);
    expect(r.err).toContain('vigil baseline: summarizing 30 rows…\n');
    expect(r.err).not.toContain('\r'); // no bar outside a terminal
    expect(r.out).toMatch(/^baseline \d+ stored for fraud version stages: 30 rows, 2\/2 features\n/);
  });

  it('vigil baseline twice is exit 2 the second time, unless --replace', async () => {
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, ['amount,country,prediction,score,label', ...Array.from({ length: 20 }, (_, i) => `${i},DE,${i % 2},${i % 2 ? 0.9 : 0.1},${i % 2}`)].join('\n'));
    const args = ['baseline', '--config', config, '--model', 'fraud', '--version', 'v7', '--from', csv];
    expect((await run(args)).code).toBe(0);
    const again = await run(args);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/has a baseline for version "v7" already \(id \d+\); pass --replace to replace it/);
    const replaced = await run([...args, '--replace']);
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(/stored for fraud version v7 \(replacing baseline \d+\): 20 rows/);
  });
});
