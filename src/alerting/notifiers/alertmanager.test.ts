import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAlertmanager, type FakeAlertmanager } from '../../../test/fakes/fake-alertmanager.js';
import type { AlertPayload } from '../types.js';
import { AlertmanagerConfigSchema, AlertmanagersConfigSchema, AlertmanagerSender, alertmanagerName, isAlertmanagerOutboxId } from './alertmanager.js';
import { fingerprint } from './fingerprint.js';
import { CountingNotificationMetrics } from './metrics.js';
import { steppedTime, T0 } from './notifier.contract.js';
import { MemoryOutboxStore } from './outbox.js';

const am = (url: string, extra: Record<string, unknown> = {}) => AlertmanagerConfigSchema.parse({ url, ...extra });
const iso = (ms: number) => new Date(ms).toISOString();
const alerts = (n: number, from = 0): AlertPayload[] =>
  Array.from({ length: n }, (_, i) => ({
    labels: { alertname: 'FeatureDrift', model: 'fraud', feature: `f${from + i}` },
    annotations: { summary: `drift on f${from + i}` },
    startsAt: iso(T0),
    endsAt: iso(T0 + 4 * 60_000),
    generatorURL: 'http://vigil:9470/graph',
  }));
/** The engine's payloads of one alert: firing at `at` (valid 4m), or resolved at `at`. */
const firing = (at: number, startsAt = T0): AlertPayload => ({ ...(alerts(1)[0] as AlertPayload), startsAt: iso(startsAt), endsAt: iso(at + 4 * 60_000) });
const resolved = (at: number, startsAt = T0): AlertPayload => ({ ...(alerts(1)[0] as AlertPayload), startsAt: iso(startsAt), endsAt: iso(at) });

type Posted = { labels: Record<string, string>; startsAt: string; endsAt: string };

/** Polls (real time) until `check` holds; fails after 5s. */
async function until(check: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > 5000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('AlertmanagerSender', () => {
  const fakes: FakeAlertmanager[] = [];
  const senders: AlertmanagerSender[] = [];
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.stop()));
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  const start = async (port = 0) => {
    const f = await startFakeAlertmanager(port);
    fakes.push(f);
    return f;
  };
  /** An Alertmanager address nothing listens on (connection refused, as while it is down). */
  const closedPort = async () => {
    const f = await startFakeAlertmanager();
    await f.close();
    return f;
  };
  const sender = (opts: ConstructorParameters<typeof AlertmanagerSender>[0]) => {
    const s = new AlertmanagerSender(opts);
    senders.push(s);
    return s;
  };

  it('posts to <url>/api/v2/alerts of every Alertmanager; one that is down keeps retrying without blocking the other, until retry.max_age', async () => {
    const up = await start();
    const down = await closedPort();
    const metrics = new CountingNotificationMetrics();
    const time = steppedTime();
    const outbox = new MemoryOutboxStore();
    const s = sender({ alertmanagers: [am(down.url, { retry: { max_age: '5m' } }), am(`${up.url}/`)], outbox, metrics, sleep: time.sleep, clock: time.clock });
    await s.send(alerts(3), T0);
    await s.idle();
    expect(up.state.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v2/alerts']);
    expect(up.state.alerts.size).toBe(3);
    const fp = fingerprint({ alertname: 'FeatureDrift', model: 'fraud', feature: 'f0' });
    expect(up.state.alerts.get(fp)).toMatchObject({ startsAt: iso(T0), annotations: { summary: 'drift on f0' } });
    const upName = alertmanagerName({ url: `${up.url}/` });
    const downName = alertmanagerName({ url: down.url });
    expect(metrics.get(upName, 'success')).toBe(1);
    // Capped exponential backoff (1s … 1m) for as long as the states are younger than max_age,
    // then they are dropped and counted; never given up as a "failure".
    expect(time.delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
    expect(metrics.get(downName, 'retry')).toBe(10);
    expect(metrics.get(downName, 'failure')).toBe(0);
    expect(metrics.get(downName, 'dropped')).toBe(3);
    expect(outbox.size).toBe(0);
  });

  it('a hanging Alertmanager does not delay the others', async () => {
    const slow = await start();
    const fast = await start();
    slow.state.hangAll = true;
    const s = sender({ alertmanagers: [am(slow.url, { timeout: '2s' }), am(fast.url)], outbox: new MemoryOutboxStore() });
    const started = Date.now();
    await s.send(alerts(2), T0);
    while (fast.state.alerts.size < 2) {
      expect(Date.now() - started).toBeLessThan(1500);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('batches at most 64 alerts per request, as Prometheus', async () => {
    const f = await start();
    const s = sender({ alertmanagers: [am(f.url)], outbox: new MemoryOutboxStore() });
    await s.send(alerts(150), T0);
    await s.idle();
    expect(f.state.batches.map((b) => b.length)).toEqual([64, 64, 22]);
    expect(f.state.alerts.size).toBe(150);
  });

  it('retries 5xx and 429 (honouring Retry-After) then succeeds; a 400 is not retried and leaves the outbox', async () => {
    const f = await start();
    const metrics = new CountingNotificationMetrics();
    const time = steppedTime();
    const outbox = new MemoryOutboxStore();
    const s = sender({ alertmanagers: [am(f.url, { name: 'am1' })], outbox, metrics, sleep: time.sleep, clock: time.clock });
    f.state.faults.push({ status: 503, body: 'not ready' }, { status: 429, body: 'slow', headers: { 'retry-after': '3' } });
    await s.send(alerts(1), T0);
    await s.idle();
    expect(time.delays).toEqual([1000, 3000]);
    expect(metrics.get('am1', 'success')).toBe(1);
    // The fake validates as Alertmanager does: an alert without labels is a 400 (the valid ones of the batch are kept).
    await s.send([{ labels: {}, annotations: {}, startsAt: iso(T0), endsAt: iso(T0 + 60_000), generatorURL: '' }, ...alerts(1, 7)], T0);
    await s.idle();
    expect(f.state.requests.at(-1)?.path).toBe('/api/v2/alerts');
    expect(f.state.alerts.has(fingerprint({ alertname: 'FeatureDrift', model: 'fraud', feature: 'f7' }))).toBe(true);
    expect(metrics.get('am1', 'failure')).toBe(1);
    expect(metrics.get('am1', 'retry')).toBe(2);
    expect(outbox.size).toBe(0);
  });

  it('persists every alert state before the first attempt; a restart sends what was not delivered', async () => {
    const down = await closedPort();
    const outbox = new MemoryOutboxStore();
    const time = steppedTime();
    const cfg = am(down.url, { name: 'am', retry: { max_backoff: '2s' } });
    const first = sender({ alertmanagers: [cfg], outbox, sleep: time.sleep, clock: time.clock });
    await first.send(alerts(2), T0);
    // In the outbox as soon as send() resolved, before any answer (a kill -9 now loses nothing).
    const rows = await outbox.list();
    expect(rows.map((r) => [r.receiver, isAlertmanagerOutboxId(r.id)])).toEqual([['am', true], ['am', true]]);
    await new Promise((r) => setTimeout(r, 50)); // a few refused attempts
    await first.stop();
    expect(outbox.size).toBe(2);

    const f = await start(down.port); // Alertmanager is back, on the same address
    const metrics = new CountingNotificationMetrics();
    const again = sender({ alertmanagers: [cfg], outbox, metrics, sleep: time.sleep, clock: time.clock });
    expect(await again.restore()).toBe(2);
    await again.idle();
    expect([...f.state.alerts.values()].map((a) => a.labels.feature).sort()).toEqual(['f0', 'f1']);
    expect(metrics.get('am', 'success')).toBe(1);
    expect(outbox.size).toBe(0);
  });

  it('coalesces re-sends: the outbox holds the latest state of each alert, not every re-send', async () => {
    const down = await closedPort();
    const outbox = new MemoryOutboxStore();
    const time = steppedTime();
    const cfg = am(down.url, { name: 'am' });
    const s = sender({ alertmanagers: [cfg], outbox, sleep: time.sleep, clock: time.clock });
    for (let i = 0; i < 5; i++) await s.send([firing(T0 + i * 60_000)], T0 + i * 60_000);
    expect(outbox.size).toBe(1);
    expect(s.queueLengths()).toEqual({ am: 1 });
    await s.stop();
    const f = await start(down.port);
    const again = sender({ alertmanagers: [cfg], outbox, sleep: time.sleep, clock: time.clock });
    await again.restore();
    await again.idle();
    expect(f.state.batches).toHaveLength(1);
    expect((f.state.batches[0] as Posted[])[0]?.endsAt).toBe(iso(T0 + 8 * 60_000));
  });

  it('an alert that fired and resolved while Alertmanager was down: after a restart the firing goes first, the resolution resolve_after_replay later', async () => {
    const down = await closedPort();
    const outbox = new MemoryOutboxStore();
    const time = steppedTime();
    const cfg = am(down.url, { name: 'am', resolve_after_replay: '30s', retry: { max_backoff: '1s' } });
    const before = steppedTime();
    const first = sender({ alertmanagers: [cfg], outbox, sleep: before.sleep, clock: before.clock });
    await first.send([firing(T0)], T0);
    await first.send([firing(T0 + 60_000)], T0 + 60_000);
    await first.send([resolved(T0 + 120_000)], T0 + 120_000);
    expect((await outbox.list()).map((r) => r.id.split(':').at(-1)).sort()).toEqual(['firing', 'resolved']);
    await first.stop();

    time.advance(3_600_000); // Alertmanager comes back an hour later
    const f = await start(down.port);
    const again = sender({ alertmanagers: [cfg], outbox, sleep: time.sleep, clock: time.clock });
    expect(await again.restore()).toBe(2);
    const t1 = time.clock.now();
    await again.idle();
    const posted = f.state.batches.map((b) => b as Posted[]);
    expect(posted).toHaveLength(2);
    // Firing, kept active until the resolution arrives (its own validUntil is long past) …
    expect(posted[0]?.[0]?.startsAt).toBe(iso(T0));
    expect(Date.parse(posted[0]?.[0]?.endsAt ?? '')).toBeGreaterThanOrEqual(t1 + 60_000);
    // … then the resolution, 30s later (Alertmanager notifies nothing for an alert it first sees resolved).
    expect(posted[1]?.[0]).toMatchObject({ startsAt: iso(T0), endsAt: iso(T0 + 120_000) });
    // (a refused connection right after the restart is retried after 1s: Node may report one)
    expect(time.delays.at(-1)).toBe(30_000);
    expect(time.delays.slice(0, -1).every((d) => d <= 1000)).toBe(true);
    expect(outbox.size).toBe(0);
  });

  it('while a resolution is held, new alert states are sent at once', async () => {
    const f = await start();
    const outbox = new MemoryOutboxStore();
    const held: number[] = [];
    // A wait that lasts until it is cut short (new states) or the sender stops.
    const sleep = (ms: number, signal: AbortSignal) =>
      new Promise<void>((_, reject) => {
        held.push(ms);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    const s = sender({ alertmanagers: [am(f.url, { name: 'am', resolve_after_replay: '30s' })], outbox, sleep });
    const other = { ...(alerts(1, 9)[0] as AlertPayload), startsAt: iso(Date.now()), endsAt: iso(Date.now() + 60_000) };
    // Fired and resolved while this Alertmanager was unreachable (restored from the outbox).
    const now = Date.now();
    await outbox.write(
      [
        { id: `am:am:${fingerprint(firing(T0).labels)}:firing`, receiver: 'am', payload: JSON.stringify({ alertmanager: 'am', fingerprint: fingerprint(firing(T0).labels), status: 'firing', queuedAt: now - 2000, alert: firing(T0) }), attempts: 3, nextAttemptAt: now - 2000, createdAt: now - 2000 },
        { id: `am:am:${fingerprint(firing(T0).labels)}:resolved`, receiver: 'am', payload: JSON.stringify({ alertmanager: 'am', fingerprint: fingerprint(firing(T0).labels), status: 'resolved', queuedAt: now - 1000, alert: resolved(T0 + 60_000) }), attempts: 3, nextAttemptAt: now - 1000, createdAt: now - 1000 },
      ],
      [],
    );
    expect(await s.restore()).toBe(2);
    await until(() => held.length === 1);
    expect(f.state.batches).toHaveLength(1); // the firing; the resolution waits 30s
    expect(held[0]).toBeGreaterThan(29_000);
    await s.send([other], Date.now());
    await until(() => f.state.batches.length === 2);
    expect((f.state.batches[1] as Posted[]).map((a) => a.labels.feature)).toEqual(['f9']);
    // (the fake records a batch before it answers: wait for the sender to take the answer in)
    await until(() => s.queueLengths().am === 1 && held.length === 2); // the resolution, held again
    expect(f.state.batches).toHaveLength(2);
  });

  it('a stale firing never overwrites or follows a resolution; a new instance of the alert goes after it', async () => {
    const down = await closedPort();
    const outbox = new MemoryOutboxStore();
    const time = steppedTime();
    const cfg = am(down.url, { name: 'am' });
    const before = steppedTime();
    const s = sender({ alertmanagers: [cfg], outbox, sleep: before.sleep, clock: before.clock });
    await s.send([resolved(T0 + 120_000)], T0 + 120_000);
    await s.send([firing(T0 + 60_000)], T0 + 60_000); // older state of the same instance, late
    expect((await outbox.list()).map((r) => r.id.split(':').at(-1))).toEqual(['resolved']);
    await s.send([firing(T0 + 300_000, T0 + 300_000)], T0 + 300_000); // fires again: a new instance
    await s.stop();
    const f = await start(down.port);
    const again = sender({ alertmanagers: [cfg], outbox, sleep: time.sleep, clock: time.clock });
    expect(await again.restore()).toBe(2);
    await again.idle();
    const posted = f.state.batches.map((b) => (b as Posted[]).map((a) => `${a.startsAt}..${a.endsAt}`));
    expect(posted).toEqual([[`${iso(T0)}..${iso(T0 + 120_000)}`], [`${iso(T0 + 300_000)}..${iso(T0 + 540_000)}`]]);
    expect(time.delays.every((d) => d < 60_000)).toBe(true); // the resolution of an older instance is not held back
  });

  it('bounds the outbox: beyond queue_capacity the oldest states are dropped, counted and deleted', async () => {
    const down = await closedPort();
    const outbox = new MemoryOutboxStore();
    const metrics = new CountingNotificationMetrics();
    const s = sender({ alertmanagers: [am(down.url, { name: 'am', queue_capacity: 3, retry: { initial_backoff: '1h', max_backoff: '1h' } })], outbox, metrics });
    await s.send(alerts(2), T0);
    await s.send(alerts(3, 100), T0);
    expect(metrics.get('am', 'dropped')).toBe(2);
    expect(s.queueLengths()).toEqual({ am: 3 });
    await new Promise((r) => setTimeout(r, 20)); // the outbox deletes
    expect((await outbox.list()).map((r) => JSON.parse(r.payload).alert.labels.feature)).toEqual(['f100', 'f101', 'f102']);
  });

  it('a restore racing a hand-over (a reload during an evaluation) keeps the newer state and its row', async () => {
    const down = await closedPort();
    const outbox = new MemoryOutboxStore();
    const s = sender({ alertmanagers: [am(down.url, { name: 'am', retry: { initial_backoff: '1h', max_backoff: '1h' } })], outbox });
    await s.send([firing(T0)], T0);
    expect(await s.restore()).toBe(0); // its own row: not taken twice, not deleted
    expect(outbox.size).toBe(1);
    expect(s.queueLengths()).toEqual({ am: 1 });
  });

  it('restore drops (and counts) entries of an Alertmanager no longer configured', async () => {
    const f = await start();
    const outbox = new MemoryOutboxStore();
    await outbox.save({ id: 'am:gone:0123456789abcdef:firing', receiver: 'gone', payload: '{}', attempts: 0, nextAttemptAt: T0, createdAt: T0 });
    await outbox.save({ id: 'b8e4c0b2-direct-notifier-entry', receiver: 'hook', payload: '{}', attempts: 0, nextAttemptAt: T0, createdAt: T0 });
    const metrics = new CountingNotificationMetrics();
    const s = sender({ alertmanagers: [am(f.url)], outbox, metrics });
    expect(await s.restore()).toBe(0);
    expect(metrics.get('gone', 'dropped')).toBe(1);
    expect((await outbox.list()).map((r) => r.receiver)).toEqual(['hook']); // not the sender's
  });

  it('config: retry.max_backoff not below initial_backoff; distinct names; max_retries is still accepted (deprecated)', () => {
    expect(AlertmanagerConfigSchema.safeParse({ url: 'http://am:9093', retry: { initial_backoff: '2m', max_backoff: '1m' } }).success).toBe(false);
    const dup = AlertmanagersConfigSchema.safeParse([{ url: 'http://am:9093' }, { url: 'http://am:9093/' }, { url: 'http://other:9093', name: 'x' }, { url: 'http://b:9093', name: 'x' }]);
    expect(dup.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      '1.url: duplicate Alertmanager name "alertmanager:am:9093" (first at alertmanagers[0]); give each a distinct name',
      '3.name: duplicate Alertmanager name "x" (first at alertmanagers[2]); give each a distinct name',
    ]);
    expect(am('http://am:9093', { max_retries: 3 })).toMatchObject({ max_retries: 3, retry: { initial_backoff: 1000, max_backoff: 60_000, max_age: 86_400_000 }, resolve_after_replay: 60_000 });
  });

  it('sends the bearer token', async () => {
    const f = await start();
    f.state.authorization = 'Bearer am-token-0123456789';
    const s = sender({ alertmanagers: [am(f.url, { bearer_token: 'am-token-0123456789' })], outbox: new MemoryOutboxStore() });
    await s.send(alerts(1), T0);
    await s.idle();
    expect(f.state.alerts.size).toBe(1);
  });
});
