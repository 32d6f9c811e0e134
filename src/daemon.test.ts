import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from './config/load.js';
import { systemClock } from './core/clock.js';
import { createLogger } from './core/logger.js';
import { createDaemon, type Daemon } from './daemon.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';

const CONFIG = (db: string) => `
server: { port: 0 }
storage: { path: ${db} }
models:
  - name: a
    task: binary
    windows: [1h]
    features: [{ name: x, type: numeric }]
  - name: b
    task: binary
    windows: [1h]
    features: [{ name: x, type: numeric }]
`;

let daemon: Daemon | undefined;
let dir: string | undefined;
afterEach(async () => {
  await daemon?.stop('test over');
  daemon = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** As the HTTP API takes them. */
const preds = (prefix: string, n: number, ts: number) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, ts, model_version: 'v1', features: { x: i }, prediction: 1, score: 0.9 }));
/** As the store keeps them. */
const stored = (prefix: string, n: number, ts: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, ts, version: 'v1', features: { x: i }, prediction: '1', score: 0.9, latencyMs: null, segment: null, error: null }));

/**
 * A daemon (set as `daemon`, in a new `dir`) on CONFIG plus `extraConfig`, whose store holds
 * `seeded` predictions per model from a minute ago, and whose model b's window waits for
 * `release()` before it reads the store (a slow start-up); `bWaits` resolves once b's load has
 * begun, `scanned` lists the models whose windows were read.
 */
async function gatedDaemon(
  seeded: Record<string, number>,
  extraConfig = '',
): Promise<{ daemon: Daemon; now: number; release: () => void; bWaits: Promise<void>; scanned: string[] }> {
  dir = mkdtempSync(join(tmpdir(), 'vigil-start-'));
  const db = join(dir, 'vigil.db');
  const now = Date.now();
  const seed = new SqliteStore({ path: db, now });
  for (const [model, n] of Object.entries(seeded)) await seed.insertPredictions(model, stored(`old-${model}`, n, now - 60_000), now);
  await seed.close();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, `${CONFIG(db)}${extraConfig}`);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let bScanning!: () => void;
  const bWaits = new Promise<void>((resolve) => (bScanning = resolve));
  const scanned: string[] = [];
  const d = createDaemon({
    initial: await loadConfigFile(file, {}),
    logger: createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    clock: systemClock,
    env: {},
    openStore: (c) => {
      const store = new SqliteStore({ path: c.storage.path, now });
      const page = store.windowPage.bind(store);
      store.windowPage = async (model, q) => {
        if (q.after === undefined) {
          // a rebuild's first page
          scanned.push(model);
          if (model === 'b') {
            bScanning();
            await gate;
          }
        }
        return page(model, q);
      };
      return store;
    },
  });
  daemon = d;
  return { daemon: d, now, release, bWaits, scanned };
}

describe('start-up', () => {
  it('listens while the hot windows load: /readyz says so, predictions are accepted and none is missing from the windows', async () => {
    const { daemon, now, release, bWaits } = await gatedDaemon({ a: 5, b: 7 });
    const started = daemon.start();
    await bWaits;
    const address = daemon.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    const url = `http://127.0.0.1:${address.port}`;

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', reasons: ['loading the hot windows'], role: 'leader' });
    for (const [model, prefix] of [['a', 'new-a'], ['b', 'new-b']] as const) {
      const r = await fetch(`${url}/v1/models/${model}/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(preds(prefix, 3, now - 1000)) });
      expect(r.status, await r.text()).toBeLessThan(300);
    }
    expect(daemon.engine.window('a')?.n).toBe(8); // loaded before: appended at once
    expect(daemon.engine.window('b')).toBeUndefined(); // not loaded yet: its rows wait in the store

    release();
    expect(await started).toBe(url);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(daemon.engine.window('a')?.n).toBe(8);
    expect(daemon.engine.window('b')?.n).toBe(10);
  });

  it('stops gracefully when asked to during the load: the models not loaded yet are skipped, start() still resolves', async () => {
    const { daemon, release, bWaits, scanned } = await gatedDaemon({ a: 5 }, '  - name: c\n    task: binary\n    windows: [1h]\n    features: [{ name: x, type: numeric }]\n');
    const started = daemon.start();
    await bWaits;
    const stopped = daemon.stop('SIGTERM'); // as the signal handler does, mid-load
    release();
    expect(await started).toMatch(/^http:/);
    await stopped;
    expect(scanned).toEqual(['a', 'b']); // c was never loaded
    expect(daemon.engine.window('c')).toBeUndefined();
    expect(daemon.snapshot().samples).toEqual([]); // no cycle ran: the scheduler never started
  });
});
