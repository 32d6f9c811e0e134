import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeWebhook, type FakeWebhook } from '../../../test/fakes/fake-receivers.js';
import { Dispatcher, goTime, matchRoutes, NotificationsConfigSchema, resolveRoutes, type DispatchAlert } from './dispatcher.js';
import { fingerprint } from './fingerprint.js';
import { CountingNotificationMetrics } from './metrics.js';
import { notification, steppedTime, T0 } from './notifier.contract.js';
import type { Notification, Notifier } from './notifier.js';
import { MemoryOutboxStore } from './outbox.js';
import { createNotifiers } from './registry.js';
import { ReceiverWorker } from './sender.js';
import type { WebhookPayload } from './webhook.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const iso = (t: number) => new Date(t).toISOString();

/** An alert as the engine sends it: firing until `validUntil`, or resolved at `resolvedAt`. */
function fa(labels: Record<string, string>, startsAt: number, endsAt: number): DispatchAlert {
  return { labels, annotations: { summary: `${labels.alertname ?? ''} ${labels.model ?? ''}` }, startsAt: iso(startsAt), endsAt: iso(endsAt), generatorURL: 'http://vigil:9470/x' };
}

describe('routes', () => {
  const cfg = NotificationsConfigSchema.parse({
    receivers: [
      { type: 'webhook', name: 'oncall', url: 'http://127.0.0.1:1/a' },
      { type: 'webhook', name: 'fraud-team', url: 'http://127.0.0.1:1/b' },
      { type: 'webhook', name: 'ml', url: 'http://127.0.0.1:1/c' },
    ],
    default_receiver: 'ml',
    routes: [
      { matchers: ['severity="critical"'], receiver: 'oncall', continue: true },
      { matchers: ['model=~"fraud.*"'], receiver: 'fraud-team', group_by: ['alertname', 'model'], group_wait: '10s' },
      { matchers: ['team="ops"', 'severity!="info"'], receiver: 'oncall' },
    ],
  });
  const { routes, defaultRoute } = resolveRoutes(cfg);
  const to = (labels: Record<string, string>) => matchRoutes(routes, defaultRoute, labels).map((r) => r.receiver);

  it('matches in order, stops at the first match unless continue, falls back to the default receiver', () => {
    expect(to({ alertname: 'A', severity: 'critical', model: 'fraud-v2' })).toEqual(['oncall', 'fraud-team']);
    expect(to({ alertname: 'A', severity: 'critical', model: 'churn' })).toEqual(['oncall']);
    expect(to({ alertname: 'A', model: 'fraud-v2' })).toEqual(['fraud-team']);
    expect(to({ alertname: 'A', model: 'antifraud' })).toEqual(['ml']);
    expect(to({ alertname: 'A', team: 'ops', severity: 'warning' })).toEqual(['oncall']);
    expect(to({ alertname: 'A', team: 'ops', severity: 'info' })).toEqual(['ml']);
  });

  it('inherits group_by and timers from the top level; route keys are Alertmanager-style', () => {
    expect(routes[0]).toMatchObject({ key: '{}/{severity="critical"}', groupBy: ['alertname'], groupWaitMs: 30 * S, groupIntervalMs: 5 * M, repeatIntervalMs: 4 * H });
    expect(routes[1]).toMatchObject({ groupBy: ['alertname', 'model'], groupWaitMs: 10 * S });
    expect(defaultRoute).toMatchObject({ key: '{}', receiver: 'ml' });
  });

  it('config errors name the path: unknown receiver, bad matcher, duplicate receiver', () => {
    const r = NotificationsConfigSchema.safeParse({
      receivers: [
        { type: 'webhook', name: 'a', url: 'http://x/' },
        { type: 'slack', name: 'a', api_url: 'http://x/' },
      ],
      default_receiver: 'nope',
      routes: [{ matchers: ['model=~"(bad"'], receiver: 'ghost' }],
    });
    expect(r.success).toBe(false);
    const issues = r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^receivers\.1\.name: duplicate receiver name "a"/),
        expect.stringMatching(/^default_receiver: unknown receiver "nope"/),
        expect.stringMatching(/^routes\.0\.receiver: unknown receiver "ghost"/),
        expect.stringMatching(/^routes\.0\.matchers\.0: invalid regular expression/),
      ]),
    );
    expect(NotificationsConfigSchema.safeParse({ receivers: [{ type: 'carrier-pigeon', name: 'x' }] }).success).toBe(false);
  });
});

describe('Dispatcher grouping and timing (stepped time, real webhook receivers)', () => {
  let fake: FakeWebhook;
  let outbox: MemoryOutboxStore;
  let metrics: CountingNotificationMetrics;
  let d: Dispatcher | undefined;
  beforeEach(async () => {
    fake = await startFakeWebhook();
    outbox = new MemoryOutboxStore();
    metrics = new CountingNotificationMetrics();
  });
  afterEach(async () => {
    await d?.stop();
    d = undefined;
    await fake.close();
  });

  const make = (extra: Record<string, unknown> = {}) => {
    const config = NotificationsConfigSchema.parse({
      receivers: [
        { type: 'webhook', name: 'oncall', url: `${fake.url}/oncall` },
        { type: 'webhook', name: 'team', url: `${fake.url}/team`, send_resolved: false },
      ],
      default_receiver: 'team',
      routes: [{ matchers: ['severity="critical"'], receiver: 'oncall', group_by: ['alertname', 'model'] }],
      ...extra,
    });
    d = new Dispatcher({ config, notifiers: createNotifiers(config.receivers), outbox, metrics, externalURL: 'http://vigil:9470' });
    return d;
  };
  /** Flushes at `now` and waits for delivery; returns the payloads delivered by this flush. */
  const flush = async (now: number): Promise<WebhookPayload[]> => {
    const before = fake.state.payloads.length;
    await d?.flush(now);
    await d?.idle();
    return fake.state.payloads.slice(before) as WebhookPayload[];
  };

  it('waits group_wait before the first notification and sends the whole group', async () => {
    const disp = make();
    const a1 = fa({ alertname: 'AccuracyDrop', model: 'fraud', severity: 'critical', window: '1h' }, T0, T0 + 4 * M);
    disp.process([a1], T0);
    expect(await flush(T0)).toEqual([]);
    const a2 = fa({ alertname: 'AccuracyDrop', model: 'fraud', severity: 'critical', window: '24h' }, T0 + 10 * S, T0 + 4 * M);
    disp.process([a1, a2], T0 + 10 * S);
    expect(await flush(T0 + 29 * S)).toEqual([]);
    const sent = await flush(T0 + 30 * S);
    expect(sent).toHaveLength(1);
    const p = sent[0];
    expect(p?.receiver).toBe('oncall');
    expect(p?.status).toBe('firing');
    // as Alertmanager prints it: route key, then the label set joined with ", "
    expect(p?.groupKey).toBe('{}/{severity="critical"}:{alertname="AccuracyDrop", model="fraud"}');
    expect(p?.groupLabels).toEqual({ alertname: 'AccuracyDrop', model: 'fraud' });
    expect(p?.commonLabels).toEqual({ alertname: 'AccuracyDrop', model: 'fraud', severity: 'critical' });
    expect(p?.alerts.map((a) => a.labels.window)).toEqual(['1h', '24h']);
    expect(p?.alerts[0]?.fingerprint).toBe(fingerprint(a1.labels));
    expect(p?.externalURL).toBe('http://vigil:9470');
    expect(fake.state.requests[0]?.path).toBe('/oncall');
    expect(metrics.get('oncall', 'success')).toBe(1);
  });

  it('groups by group_by labels: different models are different groups', async () => {
    const disp = make();
    disp.process(
      [
        fa({ alertname: 'Drift', model: 'fraud', severity: 'critical' }, T0, T0 + 4 * M),
        fa({ alertname: 'Drift', model: 'churn', severity: 'critical' }, T0, T0 + 4 * M),
        fa({ alertname: 'Drift', model: 'churn', severity: 'warning' }, T0, T0 + 4 * M),
        fa({ alertname: 'Drift', model: 'fraud', severity: 'warning' }, T0, T0 + 4 * M),
      ],
      T0,
    );
    const sent = await flush(T0 + 30 * S);
    expect(sent.map((p) => `${p.receiver} ${JSON.stringify(p.groupLabels)} ${p.alerts.length}`).sort()).toEqual([
      'oncall {"alertname":"Drift","model":"churn"} 1',
      'oncall {"alertname":"Drift","model":"fraud"} 1',
      'team {"alertname":"Drift"} 2',
    ]);
    expect(disp.stats().groups).toBe(3);
  });

  it('updates a changed group after group_interval, re-sends an unchanged one after repeat_interval', async () => {
    const disp = make();
    const labels = { alertname: 'LatencyHigh', model: 'fraud', severity: 'critical' };
    let t = T0;
    const tick = async (alerts: DispatchAlert[]) => {
      disp.process(alerts, t);
      return flush(t);
    };
    const a1 = (now: number) => fa(labels, T0, now + 4 * M);
    expect(await tick([a1(t)])).toHaveLength(0);
    t = T0 + 30 * S;
    expect(await tick([a1(t)])).toHaveLength(1);
    // a new alert joins at +1m: not sent before group_interval (5m after the first flush)
    const b = (now: number) => fa({ ...labels, window: '24h' }, T0 + M, now + 4 * M);
    t = T0 + M;
    expect(await tick([a1(t), b(t)])).toHaveLength(0);
    t = T0 + 30 * S + 5 * M - 1;
    expect(await tick([a1(t), b(t)])).toHaveLength(0);
    t = T0 + 30 * S + 5 * M;
    const update = await tick([a1(t), b(t)]);
    expect(update).toHaveLength(1);
    expect(update[0]?.alerts).toHaveLength(2);
    // unchanged: nothing at each group_interval until repeat_interval (4h) has passed
    let sentCount = 0;
    for (t = T0 + 30 * S + 10 * M; t < T0 + 30 * S + 5 * M + 4 * H; t += 5 * M) sentCount += (await tick([a1(t), b(t)])).length;
    expect(sentCount).toBe(0);
    t = T0 + 30 * S + 5 * M + 4 * H;
    const repeat = await tick([a1(t), b(t)]);
    expect(repeat).toHaveLength(1);
    expect(repeat[0]?.alerts).toHaveLength(2);
  });

  it('sends resolved notifications when send_resolved is on, and removes the resolved group', async () => {
    const disp = make();
    const labels = { alertname: 'F1Drop', model: 'fraud', severity: 'critical' };
    disp.process([fa(labels, T0, T0 + 4 * M)], T0);
    expect(await flush(T0 + 30 * S)).toHaveLength(1);
    // resolved at +2m (Prometheus sends endsAt = resolvedAt)
    disp.process([fa(labels, T0, T0 + 2 * M)], T0 + 2 * M);
    const resolved = await flush(T0 + 30 * S + 5 * M);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.status).toBe('resolved');
    expect(resolved[0]?.alerts[0]?.status).toBe('resolved');
    expect(resolved[0]?.alerts[0]?.endsAt).toBe(goTime(iso(T0 + 2 * M))); // Go's RFC3339Nano: …12:02:00Z
    expect(goTime(iso(T0 + 2 * M))).toBe('2025-03-01T12:02:00Z');
    expect(disp.stats().groups).toBe(0);
    // Prometheus re-sends the resolved alert for a while: no new notification
    disp.process([fa(labels, T0, T0 + 2 * M)], T0 + 6 * M);
    expect(await flush(T0 + 7 * M)).toHaveLength(0);
  });

  it('does not send resolved notifications when send_resolved is off, but notifies a re-fire', async () => {
    const disp = make();
    const labels = { alertname: 'Stale', model: 'churn' };
    disp.process([fa(labels, T0, T0 + 4 * M)], T0);
    expect((await flush(T0 + 30 * S)).map((p) => p.receiver)).toEqual(['team']);
    disp.process([fa(labels, T0, T0 + 2 * M)], T0 + 2 * M);
    expect(await flush(T0 + 30 * S + 5 * M)).toHaveLength(0);
    disp.process([fa(labels, T0 + 8 * M, T0 + 12 * M)], T0 + 8 * M);
    const again = await flush(T0 + 8 * M + 30 * S);
    expect(again).toHaveLength(1);
    expect(again[0]?.status).toBe('firing');
  });

  it('never notifies an alert that fired and resolved within group_wait', async () => {
    const disp = make();
    const labels = { alertname: 'Blip', model: 'fraud', severity: 'critical' };
    disp.process([fa(labels, T0, T0 + 4 * M)], T0);
    disp.process([fa(labels, T0, T0 + 10 * S)], T0 + 10 * S);
    expect(await flush(T0 + 30 * S)).toHaveLength(0);
    expect(disp.stats().groups).toBe(0);
  });

  it('flushes at once an alert that has been firing longer than group_wait (Alertmanager)', async () => {
    const disp = make();
    disp.process([fa({ alertname: 'Old', model: 'm' }, T0 - 10 * M, T0 + 4 * M)], T0);
    expect(disp.nextFlushAt()).toBe(T0);
    expect(await flush(T0)).toHaveLength(1);
  });

  it('restores the outbox after a restart: nothing pending is lost', async () => {
    const disp = make();
    await fake.down();
    disp.process([fa({ alertname: 'Down', model: 'm', severity: 'critical' }, T0, T0 + 4 * M)], T0);
    await disp.flush(T0 + 30 * S);
    await disp.stop();
    expect(await outbox.list()).toHaveLength(1);
    await fake.up();
    const again = make();
    expect(await again.restore()).toBe(1);
    await again.idle();
    expect(fake.state.payloads).toHaveLength(1);
    expect(outbox.size).toBe(0);
  });

  describe('groups across a restart (persisted in the state store)', () => {
    let saved: string | undefined;
    const state = { load: () => Promise.resolve(saved), save: (json: string) => Promise.resolve(void (saved = json)) };
    beforeEach(() => {
      saved = undefined;
    });
    const cfg = (groupBy = ['alertname', 'model']) =>
      NotificationsConfigSchema.parse({
        receivers: [{ type: 'webhook', name: 'oncall', url: `${fake.url}/oncall` }],
        routes: [{ matchers: ['severity="critical"'], receiver: 'oncall', group_by: groupBy }],
      });
    const start = (config = cfg()) => {
      d = new Dispatcher({ config, notifiers: createNotifiers(config.receivers), outbox, metrics, state });
      return d;
    };
    const labels = { alertname: 'Drop', model: 'm', severity: 'critical' };

    it('a resolution waiting for group_interval is still notified after a restart, and what was notified is remembered', async () => {
      const first = start();
      first.process([fa(labels, T0, T0 + 4 * M)], T0);
      expect((await flush(T0 + 30 * S)).map((p) => p.status)).toEqual(['firing']);
      first.process([fa(labels, T0, T0 + M)], T0 + M); // resolved; the group is next due at T0 + 5m30s
      expect(await flush(T0 + 2 * M)).toEqual([]);
      await first.stop(); // (a kill -9 now loses nothing either: process() + persist() ran before the rule state was saved)

      const again = start();
      expect(await again.restoreGroups()).toBe(1);
      expect(again.nextFlushAt()).toBe(T0 + 5 * M + 30 * S);
      const sent = await flush(T0 + 5 * M + 30 * S);
      expect(sent.map((p) => [p.status, p.alerts.map((a) => `${a.status} ${a.startsAt}`)])).toEqual([['resolved', [`resolved ${goTime(iso(T0))}`]]]);
      expect(again.stats().groups).toBe(0);
    });

    it('a firing group already notified is not notified again after a restart (until repeat_interval)', async () => {
      const first = start();
      first.process([fa(labels, T0, T0 + 4 * M)], T0);
      expect(await flush(T0 + 30 * S)).toHaveLength(1);
      await first.stop();
      const again = start();
      expect(await again.restoreGroups()).toBe(1);
      again.process([fa(labels, T0, T0 + 10 * M)], T0 + 2 * M); // the engine's re-send
      expect(await flush(T0 + 5 * M + 30 * S)).toEqual([]);
    });

    it('a group whose route changed (group_by) is dropped; unreadable state is ignored', async () => {
      const first = start();
      first.process([fa(labels, T0, T0 + 4 * M)], T0);
      await first.flush(T0);
      await first.stop();
      expect(await start(cfg(['alertname'])).restoreGroups()).toBe(0);
      saved = '{"groups": 7}';
      expect(await start().restoreGroups()).toBe(0);
    });
  });

  it('drops outbox entries of receivers that no longer exist, counting them', async () => {
    await outbox.save({ id: 'x', receiver: 'removed', payload: JSON.stringify(notification()), attempts: 1, nextAttemptAt: T0, createdAt: T0 });
    await outbox.save({ id: 'y', receiver: 'team', payload: '{"broken', attempts: 1, nextAttemptAt: T0, createdAt: T0 });
    expect(await make().restore()).toBe(0);
    expect(metrics.get('removed', 'dropped')).toBe(1);
    expect(metrics.get('team', 'dropped')).toBe(1);
    expect(outbox.size).toBe(0);
  });
});

describe('receiver queue', () => {
  it('drops the oldest pending notification when full, counts it and removes it from the outbox', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    const blocking: Notifier = {
      name: 'slow',
      type: 'test',
      sendResolved: true,
      async send(n: Notification) {
        await gate;
        sent.push(n.groupKey);
      },
    };
    const outbox = new MemoryOutboxStore();
    const metrics = new CountingNotificationMetrics();
    const time = steppedTime();
    const w = new ReceiverWorker(blocking, 2, { initialBackoffMs: 1000, maxBackoffMs: 60_000, deadlineMs: 600_000 }, { outbox, metrics, clock: time.clock, sleep: time.sleep });
    for (const k of ['n1', 'n2', 'n3', 'n4']) await w.enqueue(notification({ groupKey: k }));
    // n1 is in flight, the queue (capacity 2) held n2, n3, then n4 pushed n2 out
    expect(metrics.get('slow', 'dropped')).toBe(1);
    expect(w.pending).toBe(2);
    expect(outbox.size).toBe(3);
    release();
    await w.idle();
    expect(sent).toEqual(['n1', 'n3', 'n4']);
    expect(metrics.get('slow', 'success')).toBe(3);
    expect(outbox.size).toBe(0);
  });
});
