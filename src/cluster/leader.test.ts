import { afterEach, describe, expect, it } from 'vitest';
import { failingStore } from '../../test/failing-store.js';
import { freshDatabase, postgresServer } from '../../test/postgres.js';
import { createLogger } from '../core/logger.js';
import { openPostgres } from '../store/open.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { LeaderElector } from './leader.js';

const server = await postgresServer();
const logger = createLogger({ level: 'silent' });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function sharedStores(n: number): Promise<Store[]> {
  const db = await freshDatabase(server);
  cleanup.push(db.drop);
  const stores: Store[] = [];
  for (let i = 0; i < n; i++) {
    const s = await openPostgres(db.url, { schema: 'vigil', logger, now: Date.now() });
    cleanup.push(() => s.close());
    stores.push(s);
  }
  return stores;
}

/** performance.now, plus what a test adds (a process paused, as it sees the time afterwards). */
function pausable(): { now: () => number; skip: (ms: number) => void } {
  let offset = 0;
  return { now: () => performance.now() + offset, skip: (ms) => void (offset += ms) };
}

describe('LeaderElector on a SQLite store', () => {
  it('one process owns the file: it leads at once, epoch 1', async () => {
    const store = new SqliteStore({ path: ':memory:', now: Date.now() });
    const e = new LeaderElector({ store, id: 'only', logger });
    await e.tick();
    expect([e.isLeader(), e.epoch()]).toEqual([true, 1]);
    await e.stop();
    expect(e.isLeader()).toBe(false);
    await store.close();
  });
});

describe.skipIf(!server.available)('LeaderElector on PostgreSQL', () => {
  it('one leader at a time; a paused leader stops leading by its own clock; the next takes over with the next epoch once the lease lapses', async () => {
    const [sa, sb] = (await sharedStores(2)) as [Store, Store];
    const changes: string[] = [];
    const clockA = pausable();
    const a = new LeaderElector({ store: sa, id: 'a', leaseMs: 2000, logger, monotonic: clockA.now, onChange: (l, e) => changes.push(`a ${l} ${e}`) });
    const b = new LeaderElector({ store: sb, id: 'b', leaseMs: 2000, logger, onChange: (l, e) => changes.push(`b ${l} ${e}`) });
    await a.tick();
    await b.tick();
    expect([a.isLeader(), b.isLeader(), b.holder()]).toEqual([true, false, 'a']);
    const first = a.epoch();
    // a is paused (SIGSTOP) for 2 s: when it runs again, its own clock says its lease may have lapsed
    clockA.skip(2000);
    expect(a.isLeader()).toBe(false);
    // b asks while a's lease has not lapsed on the database's clock: refused; after it lapsed: b leads
    await b.tick();
    expect(b.isLeader()).toBe(false);
    await new Promise((r) => setTimeout(r, 2100));
    await b.tick();
    expect([b.isLeader(), b.epoch()]).toEqual([true, first + 1]);
    // a renews: refused (b holds it), it stays a follower and learns who leads
    await a.tick();
    expect([a.isLeader(), a.holder()]).toEqual([false, 'b']);
    // b stops: it lets the lease go, and a takes over at once with the next epoch
    await b.stop();
    await a.tick();
    expect([a.isLeader(), a.epoch()]).toEqual([true, first + 2]);
    expect(changes).toEqual([`a true ${first}`, `a false ${first}`, `b true ${first + 1}`, `b false ${first + 1}`, `a true ${first + 2}`]);
    await a.stop();
  });

  it('a renewal that fails (the database away) keeps the leader only until its lease could have lapsed', async () => {
    const [s] = (await sharedStores(1)) as [Store];
    let down = false;
    const clock = pausable();
    const e = new LeaderElector({ store: failingStore(s, 'acquireLease', 'connection refused', () => down), id: 'a', leaseMs: 10_000, logger, monotonic: clock.now });
    await e.tick();
    expect(e.isLeader()).toBe(true);
    down = true;
    await e.tick();
    expect(e.isLeader()).toBe(true); // granted 10 s ago at most: still its own
    clock.skip(6_000);
    expect(e.isLeader()).toBe(true);
    clock.skip(3_500); // 9.5 s at least: within the 10 % kept back for clock differences
    expect(e.isLeader()).toBe(false);
    down = false;
    await e.tick();
    // its own lease had not lapsed on the database (no time passed there): renewed, same epoch
    expect(e.isLeader()).toBe(true);
    await e.stop();
  });
});
