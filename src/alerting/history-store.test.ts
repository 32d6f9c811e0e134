import { failingStore } from '../../test/failing-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { decodeSamples, encodeSamples, HistoryPersistence, labelsJson } from './history-store.js';
import { SampleHistory, STALE_BIT } from './promql/history.js';
import { newMatcher } from './promql/labels.js';
import { parseRuleFile } from './rules/index.js';
import { AlertingService } from './service.js';

const logger = createLogger({ level: 'silent' });
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-history-'));
  dirs.push(d);
  return join(d, 'vigil.db');
};

describe('persisted rule history', () => {
  it('encodes 12 bytes a sample, little-endian, NaN and the stale bit kept; refuses a torn row', () => {
    const ids = new Uint32Array([1, (7 | STALE_BIT) >>> 0, 0x7fff_ffff]);
    const values = new Float64Array([1.5, NaN, -0]);
    const data = encodeSamples(ids, values);
    expect(data.length).toBe(36);
    expect(Array.from(data.subarray(0, 4))).toEqual([1, 0, 0, 0]);
    const back = decodeSamples(data)!;
    expect(Array.from(back.ids)).toEqual(Array.from(ids));
    expect(back.values[0]).toBe(1.5);
    expect(back.values[1]).toBeNaN();
    expect(Object.is(back.values[2], -0)).toBe(true);
    expect(decodeSamples(data.subarray(0, 35))).toBeUndefined();
    expect(labelsJson({ z: '1', __name__: 'm', a: '' })).toBe('[["__name__","m"],["a",""],["z","1"]]');
  });

  it('makes rate() right at the first evaluation after a restart, as if the daemon had never stopped', async () => {
    const path = tmp();
    const config = parseConfigText('models: []\nalerting:\n  bundled_rules: false\n', 'vigil.yaml', {});
    const { groups, errors } = parseRuleFile(
      ['groups:', '  - name: g', '    rules:', '      - alert: Busy', '        expr: rate(requests_total[5m]) > 0.5', '      - alert: Moved', '        expr: delta(gauge[10m]) != 0'].join('\n'),
      'r.yml',
      { defaultIntervalMs: MIN },
    );
    expect(errors).toEqual([]);
    const samples = (i: number) => [
      { name: 'requests_total', labels: { model: 'm' }, value: i * 60 },
      ...(i < 3 ? [{ name: 'gauge', labels: {}, value: i }] : []), // gauge leaves at 3m: stale
    ];
    const service = (store: Store) => new AlertingService({ store, logger, config: () => config });
    const alerts = (s: AlertingService) => s.activeAlerts().map((a) => [a.rule.name, a.alert.value]);

    const continuous = service(new SqliteStore({ path: ':memory:', now: T0 }));
    await continuous.start(groups, T0);
    let store = new SqliteStore({ path, now: T0 });
    const first = service(store);
    await first.start(groups, T0);
    for (let i = 0; i <= 4; i++) {
      await continuous.evaluate(samples(i), T0 + i * MIN);
      await first.evaluate(samples(i), T0 + i * MIN);
    }
    await store.close();

    store = new SqliteStore({ path, now: T0 + 5 * MIN });
    const restarted = service(store);
    await restarted.start(groups, T0 + 5 * MIN);
    // the two series, and the rules' ALERTS and ALERTS_FOR_STATE (rule outputs are in the history, as in Prometheus)
    expect(restarted.historyStats()).toMatchObject({ series: 6, oldestMs: T0 });
    expect(restarted.historyStats()).toEqual(first.historyStats());
    await continuous.evaluate(samples(5), T0 + 5 * MIN);
    await restarted.evaluate(samples(5), T0 + 5 * MIN);
    // delta over 0,1,2 at 0–2m, extrapolated by half an interval at each end: 2 × 180 s / 120 s
    expect(alerts(restarted)).toEqual([
      ['Busy', 1],
      ['Moved', 3],
    ]);
    expect(alerts(restarted)).toEqual(alerts(continuous));
    const h = continuous.historyStats();
    expect(restarted.historyStats()).toEqual(h);
    await store.close();
  });

  it('keeps what a failed write held and writes it with the next; never throws', async () => {
    const real = new SqliteStore({ path: tmp(), now: T0 });
    let fail = true;
    const store = failingStore(real, 'writeRuleHistory', 'disk I/O error', () => fail);
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const p = new HistoryPersistence(store, log);
    const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000, journal: true });
    h.append(T0, [{ labels: { __name__: 'a' }, value: 1 }]);
    expect(await p.persist(h)).toBe(false);
    h.append(T0 + MIN, [{ labels: { __name__: 'a' }, value: 2 }]);
    expect(await p.persist(h)).toBe(false);
    expect(lines.filter((l) => l.includes('cannot be written'))).toHaveLength(1); // logged once
    fail = false;
    expect(await p.persist(h)).toBe(true);
    expect(lines.some((l) => l.includes('written to the store again'))).toBe(true);
    const again = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000, journal: true });
    const r = await new HistoryPersistence(real, logger).restore(again, T0 + 2 * MIN, 3_600_000);
    expect(r).toEqual({ series: 1, samples: 2, evaluations: 2, unreadable: 0 });
    expect(Array.from(again.range([newMatcher('__name__', '=', 'a')], T0, T0 + MIN)[0]!.v)).toEqual([1, 2]);
    await real.close();
  });

  it('skips unreadable rows and evaluations outside [now − retention, now]; a store that cannot be read leaves it empty', async () => {
    const store = new SqliteStore({ path: tmp(), now: T0 });
    const one = (v: number) => encodeSamples(new Uint32Array([1]), new Float64Array([v]));
    await store.writeRuleHistory({
      series: [
        { id: 1, labels: '[["__name__","a"]]', writer: '' },
        { id: 2, labels: '{not json', writer: '' },
      ],
      deletedSeries: [],
      appends: [
        { t: T0 - 2 * 3_600_000, data: one(0) }, // older than the retention
        { t: T0, data: one(1) },
        { t: T0 + MIN, data: new Uint8Array(5) }, // torn
        { t: T0 + 2 * MIN, data: one(3) },
        { t: T0 + 10 * MIN, data: one(9) }, // after now (the clock went back)
      ],
      pruneBefore: 0,
    });
    const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000, journal: true });
    const r = await new HistoryPersistence(store, logger).restore(h, T0 + 3 * MIN, 3_600_000);
    expect(r).toEqual({ series: 1, samples: 2, evaluations: 2, unreadable: 2 });
    expect(Array.from(h.range([newMatcher('__name__', '=', 'a')], 0, T0 + 10 * MIN)[0]!.v)).toEqual([1, 3]);
    await store.close();

    const empty = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000, journal: true });
    const closed = await new HistoryPersistence(store, logger).restore(empty, T0, 3_600_000);
    expect(closed.evaluations).toBe(0);
    expect(empty.stats().series).toBe(0);
  });
});
