import { describe, expect, it } from 'vitest';
import { FAKE_ROUTING_KEY, pagerDutyThrottled, startFakePagerDuty } from '../../../test/fakes/fake-receivers.js';
import { hashKey } from './fingerprint.js';
import { alert, deliverOnce, notification, notifierContract, steppedTime } from './notifier.contract.js';
import { buildPayload, createPagerDutyNotifier, dedupKey, mapSeverity, PagerDutyConfigSchema, PAGERDUTY_EVENTS_URL, PAGERDUTY_RATE_LIMIT_BACKOFF } from './pagerduty.js';

const cfg = (url: string, extra: Record<string, unknown> = {}) => PagerDutyConfigSchema.parse({ type: 'pagerduty', name: 'team', routing_key: FAKE_ROUTING_KEY, url, ...extra });

describe('pagerduty buildPayload (Events API v2)', () => {
  it('triggers with summary, source, severity, timestamp, component and custom_details', () => {
    const e = buildPayload(notification(), { routing_key: FAKE_ROUTING_KEY });
    expect(e.routing_key).toBe(FAKE_ROUTING_KEY);
    expect(e.event_action).toBe('trigger');
    expect(e.dedup_key).toBe(hashKey('{}/{severity="critical"}:{alertname="AccuracyDrop"}'));
    expect(e.payload).toMatchObject({
      summary: '[FIRING:2] AccuracyDrop (fraud-v2 critical)',
      source: 'vigil.example:9470',
      severity: 'critical',
      timestamp: '2025-03-01T11:55:00.000Z',
      component: 'fraud-v2',
    });
    expect(e.payload?.custom_details).toMatchObject({ num_firing: 2, num_resolved: 0 });
    expect(String(e.payload?.custom_details.firing)).toContain('accuracy 0.82 < 0.9');
    expect(e.client).toBe('Vigil');
    expect(e.client_url).toBe('http://vigil.example:9470');
    expect(e.links).toEqual([{ href: 'http://vigil.example:9470', text: 'Vigil' }]);
  });

  it('resolves with the same dedup_key as the trigger of the same group', () => {
    const trigger = buildPayload(notification(), { routing_key: FAKE_ROUTING_KEY });
    const resolved = notification({ alerts: notification().alerts.map((a) => ({ ...a, status: 'resolved' as const })) });
    const resolve = buildPayload(resolved, { routing_key: FAKE_ROUTING_KEY });
    expect(resolve).toEqual({ routing_key: FAKE_ROUTING_KEY, event_action: 'resolve', dedup_key: trigger.dedup_key });
    expect(dedupKey(notification({ groupKey: 'other' }))).not.toBe(trigger.dedup_key);
  });

  it('maps the severity label to critical|error|warning|info', () => {
    expect(mapSeverity('critical')).toBe('critical');
    expect(mapSeverity('page')).toBe('critical');
    expect(mapSeverity('ERROR')).toBe('error');
    expect(mapSeverity('warning')).toBe('warning');
    expect(mapSeverity('minor')).toBe('warning');
    expect(mapSeverity('info')).toBe('info');
    expect(mapSeverity('none')).toBe('info');
    expect(mapSeverity('bogus')).toBe('error');
    expect(mapSeverity(undefined)).toBe('error');
    // no common severity: the highest among firing alerts
    const n = notification({
      commonLabels: { alertname: 'X' },
      alerts: [alert({ alertname: 'X', severity: 'info' }), alert({ alertname: 'X', severity: 'warning' }, { fingerprint: 'f2' }), alert({ alertname: 'X', severity: 'critical' }, { status: 'resolved', fingerprint: 'f3' })],
    });
    expect(buildPayload(n, { routing_key: FAKE_ROUTING_KEY }).payload?.severity).toBe('warning');
    expect(buildPayload(n, { routing_key: FAKE_ROUTING_KEY, severity: 'info' }).payload?.severity).toBe('info');
  });

  it('cuts the summary to 1024 characters', () => {
    const n = notification({ groupLabels: { alertname: 'A'.repeat(3000) } });
    const s = buildPayload(n, { routing_key: FAKE_ROUTING_KEY }).payload?.summary ?? '';
    expect(s.length).toBe(1024);
    expect(s.endsWith('…')).toBe(true);
  });

  it('config: defaults', () => {
    const c = PagerDutyConfigSchema.parse({ type: 'pagerduty', name: 'p', routing_key: 'k' });
    expect(c.url).toBe(PAGERDUTY_EVENTS_URL);
    expect(c.send_resolved).toBe(true);
    expect(c.timeout).toBe(10_000);
  });
});

notifierContract({
  type: 'pagerduty',
  start: startFakePagerDuty,
  create: (fake, o) => createPagerDutyNotifier(cfg(`${fake.url}/v2/enqueue`, { name: o.name, timeout: `${o.timeoutMs}ms` }), { now: o.now }),
  delivered: (fake) => fake.state.events.length,
  clientError: { fault: { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing or blank"] } }, status: 400, excerpt: 'Event object is invalid' },
  serverError: { status: 500, body: { status: 'error', message: 'internal error' } },
  rateLimit: { fault: pagerDutyThrottled('4'), delayMs: 4000 },
});

describe('pagerduty notifier against the fake', () => {
  it('opens and resolves one incident per group; validation errors are reported', async () => {
    const fake = await startFakePagerDuty();
    try {
      const pd = createPagerDutyNotifier(cfg(`${fake.url}/v2/enqueue`));
      await pd.send(notification(), new AbortController().signal);
      const key = fake.state.events[0]?.dedup_key ?? '';
      expect(fake.state.incidents.get(key)).toBe('triggered');
      await pd.send(notification({ alerts: notification().alerts.map((a) => ({ ...a, status: 'resolved' as const })) }), new AbortController().signal);
      expect(fake.state.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
        ['trigger', key],
        ['resolve', key],
      ]);
      expect(fake.state.incidents.get(key)).toBe('resolved');

      const bad = createPagerDutyNotifier(cfg(`${fake.url}/v2/enqueue`, { routing_key: 'too-short' }));
      const err = await bad.send(notification(), new AbortController().signal).catch((e: unknown) => e as { status: number; message: string; retryable: boolean });
      expect(err).toMatchObject({ status: 400, retryable: false });
      expect((err as unknown as Error).message).toContain("Length of 'routing_key' is incorrect");
    } finally {
      await fake.close();
    }
  });
});

describe('pagerduty throttling (429 without Retry-After)', () => {
  it('backs off for minutes, doubling (1, 2, 4, then 8 min), not the 1 s of other failures', async () => {
    const fake = await startFakePagerDuty();
    try {
      const pd = createPagerDutyNotifier(cfg(`${fake.url}/v2/enqueue`));
      // PagerDuty's throttle answer carries no Retry-After (test/fakes/fake-receivers.ts, pagerDutyThrottled)
      fake.state.faults.push(pagerDutyThrottled(), pagerDutyThrottled(), pagerDutyThrottled(), pagerDutyThrottled(), pagerDutyThrottled());
      const time = steppedTime();
      const { metrics } = await deliverOnce(pd, time);
      // the contract's deadline is 10 min: 1 + 2 + 4 = 7 min waited, the next 8 min would pass it
      expect(time.delays).toEqual([60_000, 120_000, 240_000]);
      expect(metrics.get('team', 'failure')).toBe(1);
      expect(PAGERDUTY_RATE_LIMIT_BACKOFF.maxMs).toBe(480_000);
      // a Retry-After is honoured as it is; a 5xx keeps the receiver's own backoff
      fake.state.faults.splice(0);
      fake.state.faults.push(pagerDutyThrottled('5'), { status: 500, body: { status: 'error', message: 'internal error' } });
      const again = steppedTime();
      await deliverOnce(pd, again);
      expect(again.delays).toEqual([5_000, 2_000]);
    } finally {
      await fake.close();
    }
  });
});
