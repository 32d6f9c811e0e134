import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/core/logger.js';
import { openPostgres } from '../src/store/open.js';
import { FEATURES, fillBenchStore, MODELS, ROWS } from './cycle.js';
import { benchConfigText } from './cycle-load.js';
import { rssMb, startVigil } from './process.js';

const CYCLES = 3;
const LEASE_S = 15;

/**
 * Replicas on PostgreSQL at the cycle bench's load (issue 14): a fresh database of the server at
 * $VIGIL_BENCH_PG_URL (default the machine's) holding the cycle bench's store — 8 models × 70
 * features, a 20,000-row baseline each, 100,000 predictions per model — and two `vigil serve`
 * replicas on it (cluster.lease 15 s, the default). Prints how long each took to load its hot
 * windows from the database, each one's RSS after 3 cycles, then the failover time: the leader
 * killed with SIGKILL, until the other says it leads (/readyz), and a graceful handover (SIGTERM).
 * Figures, not tests.
 */
export async function benchHa(print: (line: string) => void): Promise<void> {
  const admin = process.env.VIGIL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `vigil_bench_ha_${process.pid}`;
  const c = new pg.Client({ connectionString: admin });
  try {
    await c.connect();
  } catch (e) {
    print(`ha: no PostgreSQL at ${admin} (${(e as Error).message}): skipped`);
    return;
  }
  await c.query(`CREATE DATABASE "${name}"`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-ha-'));
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const running: Awaited<ReturnType<typeof startVigil>>[] = [];
  try {
    const now = Date.now();
    const t0 = performance.now();
    const store = await openPostgres(u.toString(), { schema: 'vigil', logger: createLogger({ level: 'silent' }), now });
    await fillBenchStore(store, now, true);
    await store.close();
    print(`ha: the cycle bench's store (${MODELS} models × ${FEATURES} features, ${(MODELS * ROWS).toLocaleString('en')} predictions) written to PostgreSQL in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `server:\n  port: 0\nstorage:\n  backend: postgres\n  url: ${u.toString()}\ncluster:\n  lease: ${LEASE_S}s\nevaluation_interval: 5s\nrule_files: []\nalerting: { bundled_rules: false }\n${benchConfigText(MODELS, FEATURES)}`);
    const get = async (url: string): Promise<{ status: number; text: string }> => {
      const r = await fetch(url);
      return { status: r.status, text: await r.text() };
    };
    const ready = async (url: string): Promise<{ ready: boolean; role: string | undefined }> => {
      try {
        const r = await get(`${url}/readyz`);
        return { ready: r.status === 200, role: (JSON.parse(r.text) as { role?: string }).role };
      } catch {
        return { ready: false, role: undefined };
      }
    };
    const until = async (what: string, ok: () => Promise<boolean>, ms: number): Promise<void> => {
      const deadline = performance.now() + ms;
      while (!(await ok())) {
        if (performance.now() > deadline) throw new Error(`ha: ${what} did not happen within ${ms / 1000} s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const cycles = async (url: string): Promise<number> => Number(/^vigil_cycle_duration_seconds_count (\S+)$/m.exec((await get(`${url}/metrics`)).text)?.[1] ?? 0);
    const loads: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      const v = await startVigil(config, [], 60_000);
      running.push(v);
      await until('the hot windows loaded', async () => (await ready(v.url)).ready, 600_000);
      loads.push(performance.now() - t);
    }
    for (const v of running) {
      const from = await cycles(v.url);
      await until(`${CYCLES} cycles`, async () => (await cycles(v.url)) >= from + CYCLES, 300_000);
    }
    const roles = await Promise.all(running.map(async (v) => (await ready(v.url)).role));
    const rss = running.map((v) => rssMb(v.child.pid as number));
    print(
      `ha: two replicas at that load: started and loaded their hot windows from PostgreSQL in ${loads.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' and ')}; RSS after ${CYCLES} cycles: ${running.map((_, i) => `${roles[i]} ${rss[i]?.toFixed(0)} MB`).join(', ')}`,
    );
    // failover: the leader killed; the other leads once the lease lapsed (and its next try)
    const leader = running[roles.indexOf('leader')];
    const other = running[1 - roles.indexOf('leader')];
    if (leader === undefined || other === undefined) throw new Error(`ha: roles ${roles.join(', ')}: no leader`);
    const killedAt = performance.now();
    leader.child.kill('SIGKILL');
    await until('the follower to lead', async () => (await ready(other.url)).role === 'leader', 120_000);
    const failover = performance.now() - killedAt;
    running.splice(running.indexOf(leader), 1);
    // a graceful handover: a replica started again, the leader stopped with SIGTERM (it releases the lease)
    const again = await startVigil(config, [], 60_000);
    running.push(again);
    await until('the new replica ready', async () => (await ready(again.url)).ready, 600_000);
    const stoppedAt = performance.now();
    const stopping = other.stop();
    await until('the new replica to lead', async () => (await ready(again.url)).role === 'leader', 120_000);
    const handover = performance.now() - stoppedAt;
    await stopping;
    running.splice(running.indexOf(other), 1);
    print(
      `ha: failover with cluster.lease ${LEASE_S} s: the leader killed (SIGKILL), the follower leads ${(failover / 1000).toFixed(1)} s later (at most the lease plus a third of it); the leader stopped (SIGTERM, it releases the lease): the other leads ${(handover / 1000).toFixed(1)} s later`,
    );
  } finally {
    for (const v of running) await v.stop().catch(() => undefined);
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
