import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from './processes.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL for the tests (issue 14): the one of $VIGIL_TEST_PG_URL (`private`: a
 * private cluster whatever the machine has), else the machine's
 * on 127.0.0.1:5432 (trust auth, as these machines and CI run it), else a private cluster this
 * process starts with Debian's initdb/pg_ctl on a temporary directory and a free port — as the
 * `postgres` user when running as root (PostgreSQL refuses root) — and stops at exit. Under
 * CI=true a missing PostgreSQL fails the run; elsewhere the tests skip saying what to install.
 * Each test takes a database of its own (freshDatabase), dropped when it is done.
 */
export interface PgServer {
  available: boolean;
  reason: string;
  /** postgres://… of a superuser on the server's `postgres` database */
  url: string;
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Debian's PostgreSQL programs (the newest installed version), or undefined. */
export function pgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Hands a directory to the `postgres` user (PostgreSQL refuses to run as root, and its data directory must be its own). */
function ownedByPostgres(dir: string): void {
  const pgUser = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
  const pgGroup = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
  chownSync(dir, Number(pgUser), Number(pgGroup));
  chmodSync(dir, 0o700);
}

/** Starts a private cluster; returns its URL and how to stop it (and remove its files). */
export async function privateCluster(bin: string): Promise<{ url: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  if (asRoot) ownedByPostgres(dir);
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  run(join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A private cluster a test stops and starts again on the same port (controlledCluster). */
export interface ControlledCluster {
  /** postgres://… of the superuser on its `postgres` database (a PgServer's url: freshDatabase takes it). */
  url: string;
  port: number;
  /** pg_ctl stop (`fast`: sessions ended, rolled back; `immediate`: no shutdown checkpoint, as a crash), waiting until it is down. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl start on the same data directory and port, waiting until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (if it runs) and removes its files. */
  destroy(): Promise<void>;
}

/**
 * A private cluster (Debian's initdb/pg_ctl, as the `postgres` user when running as root) that a
 * test may stop and start again — a database restart under a running Vigil — without touching the
 * machine's server, which other tests use. pg_ctl runs asynchronously here, so the test's own
 * clients go on while the server goes down and comes back.
 */
export async function controlledCluster(bin: string): Promise<ControlledCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-ctl-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
      const c = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout?.on('data', (d) => (out += String(d)));
      c.stderr?.on('data', (d) => (out += String(d)));
      c.on('error', reject);
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${out}`))));
    });
  if (asRoot) ownedByPostgres(dir);
  const port = await freePort();
  const pgCtl = join(bin, 'pg_ctl');
  const start = () => run(pgCtl, ['-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`, 'start']);
  // whatever state it is in (starting, up, half stopped): a postmaster.pid means a server to stop
  const destroy = async (): Promise<void> => {
    if (existsSync(join(data, 'postmaster.pid'))) await run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    await start();
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: (mode = 'fast') => run(pgCtl, ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']),
    start,
    destroy,
  };
}

/**
 * Finds the PostgreSQL the tests use, or starts a private one: vitest's global setup
 * (test/global-setup.ts) calls it once for the whole run and hands the URL to every test process
 * in VIGIL_TEST_PG_URL (or why there is none in VIGIL_TEST_PG_MISSING).
 */
export async function findOrStartPostgres(): Promise<PgServer & { stop?: () => void }> {
  const given = process.env.VIGIL_TEST_PG_URL;
  const bin = pgBin();
  // VIGIL_TEST_PG_URL=private: a private cluster even when the machine has a server
  if (given === 'private' && bin !== undefined) {
    const c = await privateCluster(bin);
    return { available: true, reason: '', url: c.url, stop: c.stop };
  }
  if (given !== undefined && given !== '') {
    if (await answers(given)) return { available: true, reason: '', url: given };
    throw new Error(`VIGIL_TEST_PG_URL=${given} does not answer`);
  }
  if (await answers(DEFAULT_URL)) return { available: true, reason: '', url: DEFAULT_URL };
  if (bin !== undefined) {
    const c = await privateCluster(bin);
    if (await answers(c.url)) return { available: true, reason: '', url: c.url, stop: c.stop };
    c.stop();
  }
  return { available: false, reason: 'no PostgreSQL answers on 127.0.0.1:5432 and none can be started: apt-get install -y postgresql (or set VIGIL_TEST_PG_URL)', url: '' };
}

/** The PostgreSQL the tests use (global setup found or started it). Under CI=true a missing one throws. */
export async function postgresServer(): Promise<PgServer> {
  const url = process.env.VIGIL_TEST_PG_URL;
  if (url !== undefined && url !== '') return { available: true, reason: '', url };
  const reason = process.env.VIGIL_TEST_PG_MISSING ?? 'no PostgreSQL (vitest global setup did not run: test/global-setup.ts)';
  if (process.env.CI === 'true') throw new Error(`${reason} (CI must have it; .ci/run starts it)`);
  process.stderr.write(`skipping: ${reason}\n`);
  return { available: false, reason, url: '' };
}

let made = 0;

/** A new, empty database on the server, and how to drop it (its connections closed first). */
export async function freshDatabase(s: PgServer): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `vigil_test_${process.pid}_${++made}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: s.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(s.url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
