import { afterEach, describe, expect, it } from 'vitest';
import { settings, testRunner } from '../../../test/fakes/source-harness.js';
import { SourceError } from './http.js';
import type { RunnableSource } from './runner.js';
import type { Source, SourceContext, SourceResult } from './source.js';

const sample = (view: string, value: number) => ({ name: 'feast_feature_freshness_seconds', labels: { feature_view: view, project: 'p' }, value });

/** A source whose collections follow a script of outcomes. */
function scripted(name: string, script: ((ctx: SourceContext) => Promise<SourceResult>)[]): Source & { calls: number } {
  const s = {
    name,
    type: 'test',
    calls: 0,
    collect(ctx: SourceContext) {
      const step = script[Math.min(s.calls, script.length - 1)] as (ctx: SourceContext) => Promise<SourceResult>;
      s.calls++;
      return step(ctx);
    },
  };
  return s;
}

const ok = (...samples: ReturnType<typeof sample>[]) => async (): Promise<SourceResult> => ({ samples });
const fail = (retryable: boolean, msg = 'boom') => async (): Promise<SourceResult> => {
  throw new SourceError('VIGIL_ERR_SOURCE_HTTP', msg, { retryable });
};
const hang = () => () => new Promise<SourceResult>(() => undefined);
const runnable = (source: Source, o: Partial<RunnableSource['settings']> = {}, fingerprint = 'v1'): RunnableSource => ({ source, settings: settings(o), fingerprint });

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  expect(unhandled).toEqual([]);
});

describe('SourceRunner', () => {
  it('keeps the samples of a successful run and reports health and metrics', async () => {
    const src = scripted('a', [ok(sample('fv', 12))]);
    const { runner, m } = testRunner([runnable(src)]);
    expect(runner.health()[0]).toMatchObject({ name: 'a', type: 'test', up: false, lastError: null, lastSuccessAt: null });
    expect(await runner.trigger('a')).toBe('ran');
    expect(runner.samples()).toEqual([sample('fv', 12)]);
    const h = runner.health()[0];
    expect(h).toMatchObject({ up: true, lastError: null, consecutiveFailures: 0, samples: 1 });
    expect(h?.lastSuccessAt).toBeTypeOf('number');
    expect(h?.lastDurationMs).toBeGreaterThanOrEqual(0);
    expect(m.up.get('a')).toBe(1);
    expect(m.errors.get('a')).toBeUndefined();
    expect(m.lastSuccess.get('a')).toBeCloseTo((h?.lastSuccessAt ?? 0) / 1000, 6);
    expect(m.duration.has('a')).toBe(true);
  });

  it('retries a retryable failure with backoff, then succeeds', async () => {
    const src = scripted('a', [fail(true), fail(true), ok(sample('fv', 1))]);
    const { runner, m } = testRunner([runnable(src, { retries: 2, retryBackoffMs: 5 })]);
    await runner.trigger('a');
    expect(src.calls).toBe(3);
    expect(runner.health()[0]?.up).toBe(true);
    expect(m.errors.get('a')).toBeUndefined();
  });

  it('does not retry a non-retryable failure; drops the samples (stale = absent) and says why', async () => {
    const src = scripted('a', [ok(sample('fv', 1)), fail(false, 'answer is not JSON')]);
    const { runner, m } = testRunner([runnable(src)]);
    await runner.trigger('a');
    expect(runner.samples()).toHaveLength(1);
    await runner.trigger('a');
    expect(src.calls).toBe(2);
    expect(runner.samples()).toEqual([]);
    expect(runner.health()[0]).toMatchObject({ up: false, lastError: 'answer is not JSON', lastErrorCode: 'VIGIL_ERR_SOURCE_HTTP', consecutiveFailures: 1, samples: 0 });
    expect(m.errors.get('a')).toBe(1);
    expect(m.up.get('a')).toBe(0);
  });

  it('gives up after the configured retries and counts one error per run', async () => {
    const src = scripted('a', [fail(true, 'HTTP 500')]);
    const { runner, m } = testRunner([runnable(src, { retries: 2, retryBackoffMs: 1 })]);
    await runner.trigger('a');
    expect(src.calls).toBe(3);
    expect(m.errors.get('a')).toBe(1);
    await runner.trigger('a');
    expect(m.errors.get('a')).toBe(2);
    expect(runner.health()[0]?.consecutiveFailures).toBe(2);
  });

  it('aborts a hanging source at its timeout, even one that ignores the signal', async () => {
    let sawAbort = false;
    const src = scripted('a', [
      (ctx) => {
        ctx.signal.addEventListener('abort', () => (sawAbort = true));
        return hang()();
      },
    ]);
    const { runner, m } = testRunner([runnable(src, { timeoutMs: 150 })]);
    const t0 = performance.now();
    await runner.trigger('a');
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2_000);
    expect(sawAbort).toBe(true);
    expect(runner.health()[0]).toMatchObject({ up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_TIMEOUT' });
    expect(runner.health()[0]?.lastError).toContain('timed out after 150ms');
    expect(m.errors.get('a')).toBe(1);
  });

  it('does not start a retry wait that cannot end within the timeout', async () => {
    const src = scripted('a', [fail(true, 'HTTP 503')]);
    const { runner } = testRunner([runnable(src, { timeoutMs: 200, retries: 5, retryBackoffMs: 1_000 })]);
    const t0 = performance.now();
    await runner.trigger('a');
    expect(performance.now() - t0).toBeLessThan(900);
    expect(src.calls).toBe(1);
    expect(runner.health()[0]?.lastError).toMatch(/HTTP 503 \(not retried: the next retry would start in 1000ms, beyond the source's timeout\)/);
  });

  it('survives a source that throws synchronously, rejects late, or returns garbage', async () => {
    const late = scripted('late', [
      () => new Promise<SourceResult>((_r, reject) => setTimeout(() => reject(new Error('late rejection')), 200)),
    ]);
    const sync: Source = {
      name: 'sync',
      type: 'test',
      collect: () => {
        throw new TypeError('oops');
      },
    };
    const garbage: Source = { name: 'garbage', type: 'test', collect: async () => ({ nope: 1 }) as unknown as SourceResult };
    const { runner } = testRunner([runnable(late, { timeoutMs: 50, retries: 0 }), runnable(sync), runnable(garbage)]);
    await Promise.all([runner.trigger('late'), runner.trigger('sync'), runner.trigger('garbage')]);
    await new Promise((r) => setTimeout(r, 250)); // the late rejection happens, and is swallowed
    const h = Object.fromEntries(runner.health().map((x) => [x.name, x]));
    expect(h.late?.lastErrorCode).toBe('VIGIL_ERR_SOURCE_TIMEOUT');
    expect(h.sync?.lastError).toBe('oops');
    expect(h.garbage?.lastError).toContain('no samples array');
  });

  it('refuses samples the snapshot would reject (unknown family, wrong labels)', async () => {
    const bad = scripted('bad', [async () => ({ samples: [{ name: 'not_in_catalog', labels: {}, value: 1 }] })]);
    const badLabels = scripted('labels', [async () => ({ samples: [{ name: 'feast_feature_freshness_seconds', labels: { feature_view: 'x' }, value: 1 }] })]);
    const { runner } = testRunner([runnable(bad), runnable(badLabels)]);
    await runner.trigger('bad');
    await runner.trigger('labels');
    const h = runner.health();
    expect(h[0]?.lastError).toBe('not_in_catalog is not a snapshot metric of the catalog');
    expect(h[1]?.lastError).toBe('feast_feature_freshness_seconds takes labels {feature_view,project}, the source gave {feature_view}');
    expect(runner.samples()).toEqual([]);
  });

  it('namespaces state per source and passes ingest through', async () => {
    const src = scripted('a', [
      async (ctx) => {
        await ctx.setState('seen', 'x');
        await ctx.ingest('labels', 'fraud', [{ id: '1', label: 1 }]);
        return { samples: [] };
      },
    ]);
    const { runner, state, rec } = testRunner([runnable(src)]);
    await runner.trigger('a');
    expect(state.get('a/seen')).toBe('x');
    expect(rec.calls).toEqual([{ kind: 'labels', model: 'fraud', items: [{ id: '1', label: 1 }] }]);
  });

  it('replace(): removed sources lose their samples and series, changed ones restart, unchanged ones keep going', async () => {
    const a = scripted('a', [ok(sample('a', 1))]);
    const b = scripted('b', [ok(sample('b', 2))]);
    const { runner, m, scheduler } = testRunner([runnable(a), runnable(b)]);
    await runner.trigger('a');
    await runner.trigger('b');
    expect(runner.samples()).toHaveLength(2);

    const a2 = scripted('a', [ok(sample('a', 10))]);
    const c = scripted('c', [ok(sample('c', 3))]);
    runner.replace([runnable(a2, {}, 'v2'), runnable(c), runnable(b)]);
    // a changed: its samples are dropped until it runs again; b unchanged keeps its samples
    expect(runner.samples()).toEqual([sample('b', 2)]);
    expect(runner.health().map((h) => h.name).sort()).toEqual(['a', 'b', 'c']);
    await runner.trigger('a');
    expect(a2.calls).toBe(1);
    expect(runner.samples()).toContainEqual(sample('a', 10));

    runner.replace([runnable(c)]);
    expect(m.forgotten.sort()).toEqual(['a', 'b']);
    expect(runner.samples()).toEqual([]);
    await expect(runner.trigger('b')).rejects.toThrow('no source named "b"');
    // the job of a removed source is unscheduled
    await expect(scheduler.trigger('source:b')).rejects.toThrow('no job source:b');
    expect(b.calls).toBe(1);
    // re-adding a name reuses its job
    runner.replace([runnable(c), runnable(b, {}, 'v9')]);
    await runner.trigger('b');
    expect(b.calls).toBe(2);
  });

  it('a reload during a run aborts it and ignores its outcome', async () => {
    const slow = scripted('a', [hang()]);
    const { runner, m } = testRunner([runnable(slow, { timeoutMs: 5_000 })]);
    const run = runner.trigger('a');
    await new Promise((r) => setTimeout(r, 20));
    runner.replace([runnable(scripted('a', [ok(sample('a', 1))]), {}, 'v2')]);
    await run;
    expect(m.errors.get('a')).toBeUndefined();
    expect(runner.health()[0]).toMatchObject({ up: false, lastError: null });
  });

  it('stop() aborts runs in progress', async () => {
    const slow = scripted('a', [hang()]);
    const { runner } = testRunner([runnable(slow, { timeoutMs: 5_000 })]);
    const run = runner.trigger('a');
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await runner.stop();
    await run;
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(runner.health()[0]?.lastErrorCode).toBe('VIGIL_ERR_SOURCE_STOPPED');
  });

  it('refuses duplicate names', () => {
    const { runner } = testRunner([]);
    expect(() => runner.replace([runnable(scripted('a', [ok()])), runnable(scripted('a', [ok()]))])).toThrow('duplicate source name "a"');
  });
});
