import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../core/logger.js';
import { MetricsRegistry, createMetrics } from '../metrics/registry.js';
import { parseConfigText } from '../config/load.js';
import { ManualClock, testDaemon, type TestDaemon } from '../../test/harness.js';
import { Cycle } from './cycle.js';

describe('Cycle', () => {
  it('every stage is a fault boundary: a failing stage is counted and the next one still runs', async () => {
    const logs: string[] = [];
    const logger = createLogger({ destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
    const registry = new MetricsRegistry();
    const metrics = createMetrics(registry, { version: 'test' });
    const clock = new ManualClock(1_000_000);
    const seen: string[] = [];
    const config = parseConfigText('models: []', 'x.yaml', {});
    const cycle = new Cycle({
      logger,
      metrics,
      clock,
      config: () => config,
      stages: [
        { name: 'a', run: async (ctx) => void seen.push(`a@${ctx.now}`) },
        { name: 'b', run: async () => { throw new Error('stage b broke'); } },
        { name: 'c', run: async (ctx) => void seen.push(`c@${ctx.now}`) },
      ],
    });
    const r = await cycle.run();
    expect(r).toEqual({ now: 1_000_000, failed: ['b'] });
    expect(seen).toEqual(['a@1000000', 'c@1000000']);
    expect(cycle.stages().find((s) => s.name === 'b')?.lastError).toBe('stage b broke');
    expect((await registry.text.metrics())).toContain('vigil_cycle_stage_errors_total{stage="b"} 1');
    expect(logs.join('')).toContain('cycle stage failed');
  });
});

describe('daemon jobs', () => {
  let t: TestDaemon;
  beforeEach(async () => {
    t = await testDaemon('models:\n  - { name: m, task: binary, windows: [1h] }\n');
  });
  afterEach(async () => t.close());

  it('the heartbeat stage persists when Vigil was last alive', async () => {
    await t.daemon.cycle.run();
    expect(await t.daemon.store.getState('daemon.last_seen')).toBe(String(t.clock.now()));
  });

  it('the retention job prunes rows older than storage.retention and counts them', async () => {
    const now = t.clock.now();
    const day = 86_400_000;
    await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/m/predictions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([
        { id: 'old', ts: now - 31 * day, prediction: 1 },
        { id: 'new', ts: now - 1 * day, prediction: 1 },
      ]),
    });
    await t.daemon.scheduler.trigger('retention');
    expect((await t.daemon.app.inject({ url: '/v1/models/m' })).json().predictions).toBe(1);
    expect((await t.daemon.app.inject({ url: '/metrics' })).body).toContain('vigil_store_pruned_rows_total{table="predictions"} 1');
  });
});
