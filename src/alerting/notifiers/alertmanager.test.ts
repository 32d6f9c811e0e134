import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAlertmanager, type FakeAlertmanager } from '../../../test/fakes/fake-alertmanager.js';
import type { AlertPayload } from '../types.js';
import { AlertmanagerConfigSchema, AlertmanagerSender, alertmanagerName } from './alertmanager.js';
import { fingerprint } from './fingerprint.js';
import { CountingNotificationMetrics } from './metrics.js';
import { steppedTime, T0 } from './notifier.contract.js';

const am = (url: string, extra: Record<string, unknown> = {}) => AlertmanagerConfigSchema.parse({ url, ...extra });
const alerts = (n: number, from = 0): AlertPayload[] =>
  Array.from({ length: n }, (_, i) => ({
    labels: { alertname: 'FeatureDrift', model: 'fraud', feature: `f${from + i}` },
    annotations: { summary: `drift on f${from + i}` },
    startsAt: new Date(T0).toISOString(),
    endsAt: new Date(T0 + 4 * 60_000).toISOString(),
    generatorURL: 'http://vigil:9470/graph',
  }));

describe('AlertmanagerSender', () => {
  const fakes: FakeAlertmanager[] = [];
  let sender: AlertmanagerSender | undefined;
  afterEach(async () => {
    await sender?.stop();
    sender = undefined;
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  const start = async () => {
    const f = await startFakeAlertmanager();
    fakes.push(f);
    return f;
  };

  it('posts to <url>/api/v2/alerts of every Alertmanager; one that is down does not block the other', async () => {
    const up = await start();
    const down = await start();
    const downUrl = down.url;
    await down.close();
    fakes.pop();
    const metrics = new CountingNotificationMetrics();
    const time = steppedTime();
    sender = new AlertmanagerSender({ alertmanagers: [am(downUrl, { max_retries: 2 }), am(`${up.url}/`)], metrics, sleep: time.sleep, clock: time.clock });
    sender.send(alerts(3));
    await sender.idle();
    expect(up.state.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v2/alerts']);
    expect(up.state.alerts.size).toBe(3);
    const fp = fingerprint({ alertname: 'FeatureDrift', model: 'fraud', feature: 'f0' });
    expect(up.state.alerts.get(fp)).toMatchObject({ startsAt: new Date(T0).toISOString(), annotations: { summary: 'drift on f0' } });
    const upName = alertmanagerName({ url: `${up.url}/` });
    const downName = alertmanagerName({ url: downUrl });
    expect(metrics.get(upName, 'success')).toBe(1);
    expect(metrics.get(downName, 'retry')).toBe(2);
    expect(metrics.get(downName, 'failure')).toBe(1);
    expect(time.delays).toEqual([1000, 2000]);
  });

  it('a hanging Alertmanager does not delay the others', async () => {
    const slow = await start();
    const fast = await start();
    slow.state.hangAll = true;
    sender = new AlertmanagerSender({ alertmanagers: [am(slow.url, { timeout: '2s', max_retries: 0 }), am(fast.url)] });
    const started = Date.now();
    sender.send(alerts(2));
    while (fast.state.alerts.size < 2) {
      expect(Date.now() - started).toBeLessThan(1500);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('batches at most 64 alerts per request, as Prometheus', async () => {
    const f = await start();
    sender = new AlertmanagerSender({ alertmanagers: [am(f.url)] });
    sender.send(alerts(150));
    await sender.idle();
    expect(f.state.batches.map((b) => b.length)).toEqual([64, 64, 22]);
    expect(f.state.alerts.size).toBe(150);
  });

  it('retries 5xx then succeeds; a 400 is not retried', async () => {
    const f = await start();
    const metrics = new CountingNotificationMetrics();
    const time = steppedTime();
    sender = new AlertmanagerSender({ alertmanagers: [am(f.url, { name: 'am1' })], metrics, sleep: time.sleep });
    f.state.faults.push({ status: 503, body: 'not ready' }, { status: 429, body: 'slow', headers: { 'retry-after': '3' } });
    sender.send(alerts(1));
    await sender.idle();
    expect(time.delays).toEqual([1000, 3000]);
    expect(metrics.get('am1', 'success')).toBe(1);
    // the fake validates like Alertmanager: an alert without labels is a 400
    sender.send([{ labels: {}, annotations: {}, startsAt: new Date(T0).toISOString(), endsAt: new Date(T0).toISOString(), generatorURL: '' }]);
    await sender.idle();
    expect(f.state.requests.at(-1)?.path).toBe('/api/v2/alerts');
    expect(metrics.get('am1', 'failure')).toBe(1);
    expect(metrics.get('am1', 'retry')).toBe(2);
  });

  it('bounds the queue: the oldest alerts are dropped and counted', async () => {
    const f = await start();
    f.state.faults.push({ hang: true });
    const metrics = new CountingNotificationMetrics();
    sender = new AlertmanagerSender({ alertmanagers: [am(f.url, { name: 'am', queue_capacity: 5, timeout: '300ms', max_retries: 0 })], metrics });
    sender.send(alerts(3)); // taken at once into the (hanging) first batch
    await new Promise((r) => setTimeout(r, 20));
    sender.send(alerts(8, 100));
    expect(sender.queueLengths()).toEqual({ am: 5 });
    expect(metrics.get('am', 'dropped')).toBe(3);
    await sender.idle();
    expect(metrics.get('am', 'failure')).toBe(1);
    expect([...f.state.alerts.values()].map((a) => a.labels.feature).sort()).toEqual(['f103', 'f104', 'f105', 'f106', 'f107']);
  });

  it('sends the bearer token', async () => {
    const f = await start();
    f.state.authorization = 'Bearer am-token-0123456789';
    sender = new AlertmanagerSender({ alertmanagers: [am(f.url, { bearer_token: 'am-token-0123456789' })] });
    sender.send(alerts(1));
    await sender.idle();
    expect(f.state.alerts.size).toBe(1);
  });
});
