import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, postgresServer } from '../../test/postgres.js';
import { createLogger } from '../core/logger.js';
import { openPostgres } from '../store/open.js';
import type { ActionRecord, CircuitRecord, Store } from '../store/store.js';
import { fencedStore, unfenced } from './fenced-store.js';
import { LeaderElector } from './leader.js';

const server = await postgresServer();
const logger = createLogger({ level: 'silent' });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const T0 = Date.UTC(2026, 11, 6);
const action = (reason: string): ActionRecord => ({ id: 'a1', incidentId: 'i1', idempotencyKey: 'i1/rollback', model: 'fraud', action: 'rollback', type: 'mlflow_rollback', status: 'running', reason, createdAt: T0, startedAt: T0, endedAt: null, expiresAt: null, attempts: 1, error: null, details: {}, plan: {}, decidedBy: null, updatedAt: T0 });

/** Two replicas' stores on one fresh database, their electors, and a's store fenced by a's lease. */
async function twoReplicas(): Promise<{ sa: Store; sb: Store; a: LeaderElector; b: LeaderElector; fa: Store }> {
  const db = await freshDatabase(server);
  cleanup.push(db.drop);
  const stores: Store[] = [];
  for (let i = 0; i < 2; i++) {
    const s = await openPostgres(db.url, { schema: 'vigil', logger, now: T0 });
    cleanup.push(() => s.close());
    stores.push(s);
  }
  const [sa, sb] = stores as [Store, Store];
  const a = new LeaderElector({ store: sa, id: 'a', logger });
  const b = new LeaderElector({ store: sb, id: 'b', logger });
  return { sa, sb, a, b, fa: fencedStore(sa, () => a.fence()) };
}

describe.skipIf(!server.available)('fencedStore', () => {
  it("a former leader's late write is refused once another replica leads; the new leader's goes through", async () => {
    const { sa, sb, a, b, fa } = await twoReplicas();
    const fb = fencedStore(sb, () => b.fence());
    await a.tick();
    expect(a.isLeader()).toBe(true);
    await fa.saveAction(action('started by a'));
    // a loses the lease (here it lets it go; a pause past the lease does the same) and b takes it
    await sa.releaseLease('a');
    await b.tick();
    expect(b.isLeader()).toBe(true);
    // a's action finishes late: its record is refused, b's is stored
    await expect(fa.saveAction({ ...action('finished by a'), status: 'succeeded' })).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_FENCED' });
    expect((await fa.getAction('a1'))?.reason).toBe('started by a');
    await fb.saveAction({ ...action('resumed by b'), status: 'succeeded' });
    expect((await sb.getAction('a1'))?.reason).toBe('resumed by b');
  });

  it("a former leader's breaker write is refused too; an operator's writes through it (an ack, a circuit forced) are taken", async () => {
    const { sa, sb, a, b, fa } = await twoReplicas();
    await a.tick();
    await sa.releaseLease('a');
    await b.tick();
    expect([a.fence()?.epoch, b.fence()?.epoch]).toEqual([1, 2]);
    const circuit = (reason: string, manual: boolean): CircuitRecord => ({ model: 'fraud', state: 'open', since: T0, reason, incidentId: null, probeUntil: null, manual, generation: 1 });
    // a's breaker opens late: refused
    await expect(fa.saveCircuit(circuit('opened by a', false))).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_FENCED' });
    expect(await sb.listCircuits()).toEqual([]);
    // an admin forces it through a, and acknowledges an incident there: taken
    expect(unfenced(fa)).toBe(sa);
    expect(unfenced(sa)).toBe(sa);
    await unfenced(fa).saveCircuit(circuit('forced open by an admin', true));
    await unfenced(fa).saveAction({ ...action('acknowledged by alice'), id: 'ack1', action: 'vigil:ack', type: 'ack', idempotencyKey: null, status: 'succeeded' });
    expect((await sb.listCircuits()).map((c) => c.reason)).toEqual(['forced open by an admin']);
    expect((await sb.getAction('ack1'))?.reason).toBe('acknowledged by alice');
  });
});
