import { describe, expect, it, afterEach } from 'vitest';
import type { Fault, FakeState } from '../../sim/fake-http.js';
import type { Receiver } from '../../../test/fakes/fake-receivers.js';
import { Dispatcher, NotificationsConfigSchema } from './dispatcher.js';
import { CountingNotificationMetrics } from './metrics.js';
import { MemoryOutboxStore } from './outbox.js';
import { ReceiverWorker } from './sender.js';
import type { Clock } from '../../core/clock.js';
import { NotifyError, type Notification, type NotificationAlert, type Notifier } from './notifier.js';
import type { Sleep } from './sender.js';

/** Test helpers and the notifier contract suite (test-only; excluded from the build). */

export const T0 = Date.parse('2025-03-01T12:00:00Z');

/** A manual clock whose waits advance time instantly, recording what was asked for. */
export function steppedTime(start = T0): { clock: Clock; sleep: Sleep; delays: number[]; advance(ms: number): void } {
  let t = start;
  const delays: number[] = [];
  return {
    clock: { now: () => t },
    delays,
    advance(ms: number) {
      t += ms;
    },
    sleep: async (ms, signal) => {
      delays.push(ms);
      t += ms;
      await new Promise((r) => setImmediate(r));
      if (signal.aborted) throw signal.reason;
    },
  };
}

export function alert(labels: Record<string, string>, over: Partial<NotificationAlert> = {}): NotificationAlert {
  return {
    status: 'firing',
    labels,
    annotations: { summary: `${labels.alertname ?? 'Alert'} on ${labels.model ?? 'model'}` },
    startsAt: '2025-03-01T11:55:00.000Z',
    endsAt: '2025-03-01T12:04:00.000Z',
    generatorURL: 'http://vigil.example:9470/api/v1/rules?rule_name=AccuracyDrop',
    fingerprint: '0123456789abcdef',
    ...over,
  };
}

export function notification(over: Partial<Notification> = {}): Notification {
  const alerts = over.alerts ?? [
    alert({ alertname: 'AccuracyDrop', model: 'fraud-v2', severity: 'critical', window: '1h' }, { fingerprint: '1111111111111111' }),
    alert({ alertname: 'AccuracyDrop', model: 'fraud-v2', severity: 'critical', window: '24h' }, { fingerprint: '2222222222222222', annotations: { summary: 'Accuracy of fraud-v2 below 0.9 (24h)', description: 'accuracy 0.82 < 0.9' } }),
  ];
  return {
    receiver: 'team',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupKey: '{}/{severity="critical"}:{alertname="AccuracyDrop"}',
    groupLabels: { alertname: 'AccuracyDrop' },
    commonLabels: { alertname: 'AccuracyDrop', model: 'fraud-v2', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://vigil.example:9470',
    alerts,
    ...over,
  };
}

// ---------------------------------------------------------------------------------------------
// The contract every HTTP notifier passes against its fake receiver.


export interface NotifierContract<S extends FakeState> {
  type: string;
  start(): Promise<Receiver<S>>;
  /** A notifier sending to the fake. */
  create(fake: Receiver<S>, opts: { timeoutMs: number; now: () => number; name: string }): Notifier;
  /** How many notifications the fake accepted. */
  delivered(fake: Receiver<S>): number;
  /** A 4xx answer the notifier must not retry, and text its error excerpt must contain. */
  clientError: { fault: Fault; status: number; excerpt: string };
  serverError: Fault;
  /** The receiver's rate-limit answer and the wait it asks for. */
  rateLimit: { fault: Fault; delayMs: number };
}

/** Delivers one notification through a receiver worker in stepped time. */
export async function deliverOnce(notifier: Notifier, time: ReturnType<typeof steppedTime>, n: Notification = notification()) {
  const outbox = new MemoryOutboxStore();
  const metrics = new CountingNotificationMetrics();
  const worker = new ReceiverWorker(notifier, 100, { initialBackoffMs: 1000, maxBackoffMs: 60_000, deadlineMs: 600_000 }, { outbox, metrics, clock: time.clock, sleep: time.sleep });
  await worker.enqueue(n);
  await worker.idle();
  return { outbox, metrics };
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function notifierContract<S extends FakeState>(c: NotifierContract<S>): void {
  describe(`${c.type} notifier against its fake receiver`, () => {
    let fake: Receiver<S> | undefined;
    afterEach(async () => {
      await fake?.close();
      fake = undefined;
    });
    const setup = async (timeoutMs = 5000) => {
      fake = await c.start();
      const time = steppedTime();
      const notifier = c.create(fake, { timeoutMs, now: time.clock.now, name: 'team' });
      return { fake, time, notifier };
    };

    it('delivers a notification (2xx)', async () => {
      const { fake, notifier } = await setup();
      await notifier.send(notification(), new AbortController().signal);
      expect(c.delivered(fake)).toBe(1);
      expect(fake.state.requests).toHaveLength(1);
    });

    it('turns a 4xx into a non-retryable error with status and body excerpt, and does not retry', async () => {
      const { fake, notifier, time } = await setup();
      fake.state.faults.push(c.clientError.fault);
      const err = await notifier.send(notification(), new AbortController().signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotifyError);
      const ne = err as NotifyError;
      expect(ne.retryable).toBe(false);
      expect(ne.status).toBe(c.clientError.status);
      expect(ne.bodyExcerpt).toContain(c.clientError.excerpt);
      expect(ne.code).toMatch(/^VIGIL_ERR_NOTIFY_/);

      fake.state.faults.push(c.clientError.fault);
      const { metrics, outbox } = await deliverOnce(notifier, time);
      expect(fake.state.requests).toHaveLength(2);
      expect(metrics.get('team', 'failure')).toBe(1);
      expect(metrics.get('team', 'retry')).toBe(0);
      expect(outbox.size).toBe(0);
    });

    it('retries a rate-limited notification after the delay the receiver asked for', async () => {
      const { fake, notifier, time } = await setup();
      fake.state.faults.push(c.rateLimit.fault);
      const { metrics, outbox } = await deliverOnce(notifier, time);
      expect(time.delays).toEqual([c.rateLimit.delayMs]);
      expect(fake.state.requests).toHaveLength(2);
      expect(c.delivered(fake)).toBe(1);
      expect(metrics.get('team', 'retry')).toBe(1);
      expect(metrics.get('team', 'success')).toBe(1);
      expect(outbox.size).toBe(0);
    });

    it('retries 5xx answers with exponential backoff until success', async () => {
      const { fake, notifier, time } = await setup();
      fake.state.faults.push(c.serverError, c.serverError);
      const { metrics } = await deliverOnce(notifier, time);
      expect(time.delays).toEqual([1000, 2000]);
      expect(c.delivered(fake)).toBe(1);
      expect(metrics.get('team', 'retry')).toBe(2);
      expect(metrics.get('team', 'success')).toBe(1);
    });

    it('times out on a hanging receiver and retries', async () => {
      const { fake, notifier, time } = await setup(200);
      fake.state.faults.push({ hang: true });
      const err = await notifier.send(notification(), new AbortController().signal).catch((e: unknown) => e);
      expect((err as NotifyError).retryable).toBe(true);
      expect((err as NotifyError).code).toMatch(/TIMEOUT$/);
      fake.state.faults.push({ hang: true });
      const started = Date.now();
      const { metrics } = await deliverOnce(notifier, time);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(metrics.get('team', 'retry')).toBe(1);
      expect(c.delivered(fake)).toBe(1);
    });

    it('keeps a notification for a receiver that is down in the outbox; after a restart it is delivered', async () => {
      const { fake } = await setup();
      await fake.down();
      const outbox = new MemoryOutboxStore();
      const metrics = new CountingNotificationMetrics();
      const config = NotificationsConfigSchema.parse({ group_wait: '0s', retry: { initial_backoff: '1m' } });
      const make = () =>
        new Dispatcher({
          config: { ...config, default_receiver: 'team' },
          notifiers: [c.create(fake, { timeoutMs: 2000, now: Date.now, name: 'team' })],
          outbox,
          metrics,
          externalURL: 'http://vigil.example:9470',
        });
      const first = make();
      first.process([{ labels: { alertname: 'AccuracyDrop', model: 'fraud-v2', severity: 'critical' }, annotations: { summary: 'accuracy drop' }, startsAt: new Date(T0).toISOString(), endsAt: new Date(T0 + 240_000).toISOString(), generatorURL: '' }], T0);
      expect(await first.flush(T0)).toBe(1);
      await until(async () => (await outbox.list())[0]?.attempts === 1);
      expect(metrics.get('team', 'retry')).toBe(1);
      await first.stop();
      expect(await outbox.list()).toHaveLength(1);

      await fake.up();
      const second = make();
      expect(await second.restore()).toBe(1);
      await second.idle();
      expect(c.delivered(fake)).toBe(1);
      expect(outbox.size).toBe(0);
      expect(metrics.get('team', 'success')).toBe(1);
      await second.stop();
    });
  });
}
