/**
 * `npm run bench baseline-big` (`node dist/bench/run.js baseline-big`; not part of a plain `npm run
 * bench`): `vigil baseline` on a training file larger than 1 GB. It writes a CSV into the temporary
 * directory — VIGIL_BENCH_ROWS rows (default 12,000,000: ~1.06 GB) of a binary model's 6 numeric and
 * 3 categorical features (10, 100 and 1,000 values), prediction, score and label, from a fixed seed
 * — runs the built `vigil baseline` on it in a child process with a temporary configuration and
 * SQLite file, and prints the wall time, rows/s, MB/s and the child's peak RSS (its own
 * `process.resourceUsage().maxRSS`, written at exit by a preloaded module). The stages' lines the
 * command prints on a non-terminal stderr are shown too. Everything it wrote is deleted afterwards.
 * Before streaming, such a file failed with "Invalid string length".
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/core/random.js';

const NUMERIC = 6;
const CATEGORIES = [10, 100, 1000];

/** Writes the CSV, streamed (a batch of rows at a time, waiting for the disk when it asks). */
async function writeCsv(path: string, rows: number, seed: number): Promise<void> {
  const rnd = mulberry32(seed);
  const out = createWriteStream(path);
  const header = [...Array.from({ length: NUMERIC }, (_, k) => `f${k}`), ...CATEGORIES.map((_, k) => `c${k}`), 'prediction', 'score', 'label'];
  let batch = `${header.join(',')}\n`;
  const flush = async (): Promise<void> => {
    if (!out.write(batch)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    batch = '';
  };
  for (let i = 0; i < rows; i++) {
    let line = '';
    for (let k = 0; k < NUMERIC; k++) {
      // a few shapes: normal-ish sums, a skewed one, one with missing values
      const x = k === 1 ? Math.exp(rnd() * 5) : k === 2 && rnd() < 0.02 ? NaN : (rnd() + rnd() + rnd() - 1.5) * 100 * (k + 1);
      line += `${Number.isNaN(x) ? '' : x.toFixed(6)},`;
    }
    for (const n of CATEGORIES) line += `v${Math.floor(rnd() * rnd() * n)},`;
    const score = rnd();
    const label = rnd() < score * 0.8 + 0.1 ? 1 : 0;
    line += `${score >= 0.5 ? 1 : 0},${score.toFixed(6)},${label}\n`;
    batch += line;
    if (batch.length >= 1 << 20) await flush();
  }
  await flush();
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

export async function benchBaselineBig(print: (line: string) => void): Promise<void> {
  const rows = Number(process.env.VIGIL_BENCH_ROWS ?? 12_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-baseline-'));
  try {
    const csv = join(dir, 'train.csv');
    const t0 = performance.now();
    await writeCsv(csv, rows, 20_250_101);
    const bytes = statSync(csv).size;
    print(`baseline-big: wrote ${rows.toLocaleString('en-US')} rows, ${(bytes / 1e9).toFixed(2)} GB (${NUMERIC} numeric + ${CATEGORIES.length} categorical features, prediction, score, label) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const features = [...Array.from({ length: NUMERIC }, (_, k) => `      - { name: f${k}, type: numeric }`), ...CATEGORIES.map((_, k) => `      - { name: c${k}, type: categorical }`)].join('\n');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `storage:\n  path: ${join(dir, 'vigil.db')}\nmodels:\n  - name: big\n    task: binary\n    features:\n${features}\n`);
    const rssFile = join(dir, 'maxrss');
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
    const probe = fileURLToPath(new URL('./max-rss.js', import.meta.url));
    // as the `vigil` binary runs (its shebang), with the probe preloaded
    const child = spawn(process.execPath, ['--max-semi-space-size=16', '--import', probe, main, 'baseline', '--config', config, '--model', 'big', '--version', 'bench', '--from', csv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIL_BENCH_MAX_RSS_FILE: rssFile },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    child.stderr.on('data', (d: Buffer) => (err += String(d)));
    const t1 = performance.now();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const seconds = (performance.now() - t1) / 1000;
    for (const l of err.trimEnd().split('\n')) print(`  stderr: ${l}`);
    for (const l of out.trimEnd().split('\n')) print(`  stdout: ${l}`);
    if (code !== 0) throw new Error(`vigil baseline exited ${code}`);
    const maxRssKb = Number(readFileSync(rssFile, 'utf8'));
    print(
      `baseline-big: vigil baseline ${seconds.toFixed(1)} s — ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s, ${(bytes / 1e6 / seconds).toFixed(0)} MB/s; peak RSS ${(maxRssKb / 1024).toFixed(0)} MB (${(maxRssKb / 1024 / (bytes / 1e6)).toFixed(2)} MB per MB of CSV)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
