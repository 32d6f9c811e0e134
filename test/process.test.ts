import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startServe, type RunningVigil } from './processes.js';

/**
 * The real `vigil` binary in a child process: durability across kill -9, graceful SIGTERM,
 * SIGHUP reload, check-config exit codes. Needs the build (`npm test` runs it first).
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);

const dir = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = `models:\n  - name: m\n    task: binary\n    windows: [1h]\n    features:\n      - { name: x, type: numeric }\n`;

function writeConfig(name: string, extra = ''): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `server:\n  port: 0\nstorage:\n  path: ${join(dir, `${name}.db`)}\nevaluation_interval: 1s\n${MODEL}${extra}`);
  return file;
}

const start = (config: string): Promise<RunningVigil> => startServe(MAIN, config);

const batch = (from: number, n: number): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ id: `id-${from + i}`, prediction: 1, score: 0.5, features: { x: i } })).join('\n');

describe('the vigil process', () => {
  it('loses no acknowledged write when killed with SIGKILL during ingestion', async () => {
    const config = writeConfig('kill');
    const first = await start(config);
    const acked: string[] = [];
    let next = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const from = next;
        next += 250;
        try {
          const r = await fetch(`${first.url}/v1/models/m/predictions`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body: batch(from, 250),
          });
          if (r.status === 200) for (let i = 0; i < 250; i++) acked.push(`id-${from + i}`);
        } catch {
          return; // the process died mid-request: that batch was never acknowledged
        }
      }
    })();
    while (acked.length < 5000) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    stop = true;
    await writer;

    const second = await start(config);
    const status = (await (await fetch(`${second.url}/v1/models/m`)).json()) as { predictions: number };
    expect(status.predictions).toBeGreaterThanOrEqual(acked.length);
    const db = new Database(join(dir, 'kill.db'), { readonly: true });
    const stored = new Set((db.prepare("SELECT id FROM predictions WHERE model = 'm'").all() as { id: string }[]).map((r) => r.id));
    db.close();
    const lost = acked.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('stops gracefully on SIGTERM: exit code 0 within the shutdown timeout', async () => {
    const running = await start(writeConfig('term'));
    const r = await fetch(`${running.url}/v1/models/m/predictions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: batch(0, 10) });
    expect(r.status).toBe(200);
    const t0 = Date.now();
    running.child.kill('SIGTERM');
    const { code } = await running.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(running.lines.some((l) => l.includes('"msg":"vigil stopped"'))).toBe(true);
  });

  it('stops gracefully on SIGTERM while it still loads the hot windows', async () => {
    // enough stored rows that the start-up load lasts a while after the server listens
    const models = ['w0', 'w1', 'w2', 'w3'];
    const db = join(dir, 'loading.db');
    const now = Date.now();
    const seed = new SqliteStore({ path: db, now });
    for (const m of models) {
      for (let b = 0; b < 6; b++) {
        const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: `${b}-${i}`, ts: now - 60_000 + i, version: 'v1', features: { x: i, y: -i, z: i % 7 }, prediction: String(i % 2), score: 0.5, latencyMs: null, segment: null, error: null }));
        await seed.insertPredictions(m, rows, now);
      }
    }
    await seed.close();
    const config = join(dir, 'loading.yaml');
    const model = (m: string) => `  - name: ${m}\n    task: binary\n    windows: [1h]\n    features: [{ name: x, type: numeric }, { name: y, type: numeric }, { name: z, type: numeric }]\n`;
    writeFileSync(config, `server:\n  port: 0\nstorage:\n  path: ${db}\nmodels:\n${models.map(model).join('')}`);
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines: string[] = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"msg":"vigil listening; loading the hot windows"')) child.kill('SIGTERM');
    });
    expect(await exited).toBe(0);
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toContain('start-up interrupted: vigil is stopping');
    expect(msgs).not.toContain('vigil started');
    expect(msgs.at(-1)).toBe('vigil stopped');
    expect(msgs.filter((m) => m === 'hot window loaded').length).toBeLessThan(models.length);
  });

  it('reloads its configuration on SIGHUP', async () => {
    const config = writeConfig('hup');
    const running = await start(config);
    expect((await fetch(`${running.url}/v1/models/added`)).status).toBe(404);
    writeConfig('hup', '  - name: added\n    task: regression\n    windows: [1h]\n');
    running.child.kill('SIGHUP');
    const t0 = Date.now();
    let status = 404;
    while (status === 404 && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await fetch(`${running.url}/v1/models/added`)).status;
    }
    expect(status).toBe(200);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  });

  it('check-config exits 2 with file:line:column on a broken file, 0 on a good one', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: "high"\nmodels:\n  - name: m\n    task: rank\n');
    const run = (file: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [MAIN, 'check-config', file]);
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += String(d)));
        c.stderr.on('data', (d) => (err += String(d)));
        c.on('exit', (code) => resolve({ code, out, err }));
      });
    const r = await run(bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:2:9: server.port: expected number (VIGIL_ERR_CONFIG_TYPE)`);
    expect(r.err).toContain(`${bad}:5:11: models[0].task: must be one of "binary", "multiclass", "regression" (VIGIL_ERR_CONFIG_VALUE)`);
    const good = await run(writeConfig('good'));
    expect(good.code).toBe(0);
    expect(good.out).toContain('OK');
  });

  it('serve exits 2 on a broken configuration', async () => {
    const bad = join(dir, 'bad-serve.yaml');
    writeFileSync(bad, 'evaluation_interval: soon\n');
    const c = spawn(process.execPath, [MAIN, 'serve', '--config', bad]);
    let err = '';
    c.stderr.on('data', (d) => (err += String(d)));
    const code = await new Promise<number | null>((resolve) => c.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('bad-serve.yaml:1:22: evaluation_interval');
  });
});
