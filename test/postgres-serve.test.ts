import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, postgresServer } from './postgres.js';
import { startServe, waitFor } from './processes.js';

/**
 * The real `vigil serve` on `storage.backend: postgres`: ingestion over HTTP lands in PostgreSQL,
 * the hot windows are rebuilt from it after a restart (SIGTERM, and kill -9: nothing acknowledged
 * is lost), and the password never reaches a log line.
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
const server = await postgresServer();
const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (config: string) => startServe(MAIN, config, { timeoutMs: 30_000 });

const preds = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${from + i}`, ts: Date.now() - 1000, model_version: 'v1', prediction: i % 2, score: 0.7, features: { x: from + i } }));
const post = (url: string, path: string, items: unknown[]) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(items) });

/** ml_window_samples of model m, version v1, window 1h, on /metrics (undefined while absent). */
async function samples(url: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^ml_window_samples\{model="m",version="v1",window="1h"\} (\S+)$/m.exec(text);
  return m === null ? undefined : Number(m[1]);
}

describe.skipIf(!server.available)('vigil serve on PostgreSQL (a real process)', () => {
  it('stores what it acknowledges in PostgreSQL and rebuilds its hot windows from it after SIGTERM and after kill -9', async () => {
    const db = await freshDatabase(server);
    try {
      // the password comes from a file; the URL names none (PostgreSQL trusts us here, and takes any)
      const secret = join(dir, 'pg-password');
      writeFileSync(secret, 'never-logged-secret-42\n');
      const config = join(dir, 'vigil.yaml');
      writeFileSync(
        config,
        `server:\n  port: 0\nstorage:\n  backend: postgres\n  url: ${db.url}\n  password_file: ${secret}\n  schema: vigil_replica\nevaluation_interval: 1s\n` +
          'models:\n  - name: m\n    task: binary\n    positive_class: "1"\n    windows: [1h]\n    features:\n      - { name: x, type: numeric }\nrule_files: []\nalerting: { bundled_rules: false }\n',
      );
      let v = await start(config);
      expect((await post(v.url, '/v1/models/m/predictions', preds(0, 50))).status).toBe(200);
      expect((await post(v.url, '/v1/models/m/labels', preds(0, 50).map((p) => ({ id: p.id, label: 1 })))).status).toBe(200);
      expect(await waitFor('50 samples on /metrics', async () => ((await samples(v.url)) === 50 ? true : undefined))).toBe(true);
      v.child.kill('SIGTERM');
      await v.exited;

      v = await start(config);
      expect(await waitFor('the rebuilt window on /metrics', async () => ((await samples(v.url)) === 50 ? true : undefined))).toBe(true);
      expect(await (await fetch(`${v.url}/v1/models/m`)).json()).toMatchObject({ predictions: 50, labels_received: 50, labeled_predictions: 50 });
      // acknowledged, then kill -9: nothing lost
      expect((await post(v.url, '/v1/models/m/predictions', preds(50, 20))).status).toBe(200);
      v.child.kill('SIGKILL');
      await v.exited;
      v = await start(config);
      expect(await waitFor('70 samples after kill -9', async () => ((await samples(v.url)) === 70 ? true : undefined))).toBe(true);
      const logs = v.lines.join('\n');
      v.child.kill('SIGTERM');
      await v.exited;
      expect(logs).not.toContain('never-logged-secret-42');
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('a PostgreSQL that does not answer: it keeps trying, then exits 1 naming the store (password redacted)', async () => {
    const config = join(dir, 'down.yaml');
    writeFileSync(config, 'server:\n  port: 0\nstorage:\n  backend: postgres\n  url: postgres://vigil:hunter2@127.0.0.1:1/vigil\n  startup_retry: 2s\nmodels: []\n');
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d) => (out += String(d)));
    child.stderr?.on('data', (d) => (out += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(out).toContain('PostgreSQL does not answer yet; retrying');
    expect(out).toContain('vigil serve: cannot open the store postgres://vigil:***@127.0.0.1:1/vigil');
    expect(out).not.toContain('hunter2');
  }, 60_000);
});
