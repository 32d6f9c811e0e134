import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { MetricsRegistry, createMetrics } from '../metrics/registry.js';
import { Scheduler } from './scheduler.js';

function setup() {
  const logs: string[] = [];
  const logger = createLogger({ destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
  const registry = new MetricsRegistry();
  const metrics = createMetrics(registry, { version: 'test' });
  const scheduler = new Scheduler({ logger, metrics, clock: systemClock });
  const value = async (line: string) =>
    Number((await registry.text.metrics()).split('\n').find((l) => l.startsWith(`${line} `))?.split(' ')[1] ?? NaN);
  return { scheduler, logs, value };
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('Scheduler', () => {
  it('never overlaps two runs of a job: the extra tick is skipped, logged and counted', async () => {
    const { scheduler, logs, value } = setup();
    const gate = deferred();
    let runs = 0;
    scheduler.add({ name: 'slow', schedule: { everyMs: 60_000 }, run: async () => void (runs++, await gate.promise) });
    const first = scheduler.trigger('slow');
    expect(await scheduler.trigger('slow')).toBe('overrun');
    gate.resolve();
    expect(await first).toBe('ran');
    expect(runs).toBe(1);
    expect(await value('vigil_job_overruns_total{job="slow"}')).toBe(1);
    expect(logs.join('')).toContain('job overrun');
    expect(await scheduler.trigger('slow')).toBe('ran');
  });

  it('a failing job is logged and counted and does not stop the scheduler', async () => {
    const { scheduler, logs, value } = setup();
    let n = 0;
    scheduler.add({
      name: 'flaky',
      schedule: { everyMs: 60_000 },
      run: async () => {
        if (++n === 1) throw new Error('boom');
      },
    });
    await scheduler.trigger('flaky');
    await scheduler.trigger('flaky');
    expect(await value('vigil_job_runs_total{job="flaky",outcome="error"}')).toBe(1);
    expect(await value('vigil_job_runs_total{job="flaky",outcome="success"}')).toBe(1);
    expect(logs.join('')).toContain('"err":"boom"');
  });

  it('runs interval jobs on their own and stop() waits for the run in progress', async () => {
    const { scheduler } = setup();
    const seen: number[] = [];
    const gate = deferred();
    let finished = false;
    scheduler.add({
      name: 'tick',
      schedule: { everyMs: 20 },
      run: async () => {
        seen.push(Date.now());
        if (seen.length === 2) {
          await gate.promise;
          finished = true;
        }
      },
    });
    scheduler.start();
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    const stopping = scheduler.stop();
    setTimeout(() => gate.resolve(), 30);
    await stopping;
    expect(finished).toBe(true);
    const count = seen.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(seen.length).toBe(count); // no tick after stop
  });

  it('runs cron jobs through node-cron and can be rescheduled', async () => {
    const { scheduler } = setup();
    let runs = 0;
    scheduler.add({ name: 'cron', schedule: { cron: '* * * * * *' }, run: async () => void runs++ });
    scheduler.start();
    const t0 = Date.now();
    while (runs === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBeGreaterThan(0);
    scheduler.reschedule('cron', { everyMs: 3_600_000 });
    const after = runs;
    await new Promise((r) => setTimeout(r, 1200));
    expect(runs).toBe(after);
    await scheduler.stop();
  });
});
