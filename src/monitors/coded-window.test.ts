import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig, VigilConfig } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { createLogger } from '../core/logger.js';
import { mulberry32 as rng } from '../core/random.js';
import type { Sample } from '../metrics/snapshot.js';
import { decideDrift, DEFAULT_THRESHOLDS, numericOutcomes } from '../stats/drift-decision.js';
import type { NumericReferenceSummary } from '../stats/reference.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { PredictionRecord, Store } from '../store/store.js';
import { buildBaseline, storeBaseline, type BaselineRow } from './baseline.js';
import { MonitorEngine } from './engine.js';
import { ksOptionsOf } from './drift.js';
import { ModelWindow } from './window.js';

const NOW = Date.UTC(2026, 10, 1, 12);
const H = 3_600_000;

const CONFIG = `
models:
  - name: m
    task: binary
    positive_class: '1'
    windows: [1h, 24h]
    min_samples: 30
    features:
      - { name: grid, type: numeric }
      - { name: cont, type: numeric }
      - { name: sparse, type: numeric }
`;

/** `grid` takes decimal values that float32 cannot hold (0.1, 0.2, …) and that the reference has too. */
function features(r: () => number, current: boolean): Record<string, number | null> {
  const g = Math.round((r() * 10 + (current ? 1 : 0)) * 10) / 100; // 0.00 .. 0.11, ties
  const c = (r() - 0.5) * 4 + (current ? 0.2 : 0);
  return { grid: g, cont: r() < 0.05 ? null : c, sparse: r() < 0.6 ? null : r() < 0.05 ? Infinity : Math.round(r() * 5) };
}

function refRows(r: () => number, n: number): BaselineRow[] {
  return Array.from({ length: n }, () => ({ features: features(r, false), prediction: r() < 0.5 ? '1' : '0', score: r(), label: r() < 0.5 ? '1' : '0' }));
}

function preds(r: () => number, n: number, from: number, prefix: string, version = 'v1'): PredictionRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    ts: from + i * 1000,
    version,
    features: features(r, true),
    prediction: r() < 0.5 ? '1' : '0',
    score: r(),
    latencyMs: 5,
    segment: null,
    error: null,
  }));
}

const quiet = () => createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Counts store scans (window rebuilds: their first pages). */
function counting(store: Store): { store: Store; scans: () => number } {
  let n = 0;
  const page = store.windowPage.bind(store);
  store.windowPage = (model, q) => {
    if (q.after === undefined) n++;
    return page(model, q);
  };
  return { store, scans: () => n };
}

describe('hot windows coded against the baseline', () => {
  let dir: string;
  let config: VigilConfig;
  let model: ModelConfig;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-coded-'));
    config = parseConfigText(CONFIG, 'c.yaml', {});
    model = config.models[0] as ModelConfig;
    store = new SqliteStore({ path: join(dir, 'v.db'), now: NOW });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drift and data quality equal the statistics on the exact stored values (ties, values equal to reference points)', async () => {
    const r = rng(5);
    await storeBaseline(store, { model: 'm', version: 'v1', createdAt: NOW - 2 * H, source: 't' }, buildBaseline(model, refRows(r, 2000)));
    const recs = preds(r, 3000, NOW - 3000 * 1000, 'p');
    await store.insertPredictions('m', recs, NOW);
    const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    const samples = await engine.compute(config, NOW);
    const b = engine.baselineFor('m', 'v1');
    if (b === undefined) throw new Error('no baseline');
    const stored: PredictionRecord[] = []; // the values as stored (JSON: Infinity is stored as null)
    await store.scanPredictions('m', 0, (row) => void stored.push(row));
    expect(stored).toHaveLength(recs.length);
    for (const dur of [H, 24 * H]) {
      const window = formatDuration(dur);
      const rows = stored.filter((p) => p.ts >= NOW - dur && p.ts <= NOW);
      const outcomes = model.features.flatMap((f) =>
        numericOutcomes(
          f.name,
          b.features.get(f.name) as NumericReferenceSummary,
          rows.map((p) => (p.features[f.name] ?? Number.NaN) as number),
          model.drift.numeric_tests,
          ksOptionsOf(model.drift),
        ),
      );
      const expected = decideDrift(outcomes, { ...DEFAULT_THRESHOLDS, alpha: model.drift.alpha });
      const got = (name: string, feature: string, test?: string): number | undefined =>
        samples.find((s: Sample) => s.name === name && s.labels['window'] === window && s.labels['feature'] === feature && (test === undefined || s.labels['test'] === test))?.value;
      for (const d of expected.decisions) {
        if (d.status === 'insufficient_data') {
          expect(got('ml_feature_drift_score', d.feature, d.test)).toBeUndefined();
          continue;
        }
        expect(got('ml_feature_drift_score', d.feature, d.test), `${window} ${d.feature} ${d.test}`).toBe(d.statistic);
        if (d.adjustedPValue !== null) expect(got('ml_feature_drift_p_value', d.feature, d.test)).toBe(d.adjustedPValue);
        expect(got('ml_feature_drift_detected', d.feature, d.test)).toBe(d.status === 'drift' ? 1 : 0);
      }
      // the grid feature shifted by one step of 0.01: equal values must tie with the reference
      expect(got('ml_feature_drift_score', 'grid', 'ks')).toBeLessThan(0.2);
      for (const f of model.features) {
        const ref = b.features.get(f.name) as NumericReferenceSummary;
        const vals = rows.map((p) => p.features[f.name]).filter((x): x is number => typeof x === 'number');
        expect(got('ml_feature_completeness_ratio', f.name)).toBe(vals.length / rows.length);
        expect(got('ml_feature_out_of_range_ratio', f.name)).toBe(vals.filter((x) => x < ref.min || x > ref.max).length / vals.length);
      }
    }
    await engine.close();
  });

  it('loads every model at start-up, and no further model once asked to stop', async () => {
    const r = rng(21);
    const two = parseConfigText(`${CONFIG}  - name: n\n    task: binary\n    windows: [1h]\n    features: [{ name: grid, type: numeric }]\n`, 'c.yaml', {});
    for (const m of ['m', 'n']) await store.insertPredictions(m, preds(r, 40, NOW - 60_000, m), NOW);
    const all = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    await all.load(two, NOW);
    expect([all.window('m')?.n, all.window('n')?.n]).toEqual([40, 40]);
    const stopped = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    await stopped.load(two, NOW, () => stopped.window('m') !== undefined); // stop once the first model is loaded
    expect([stopped.window('m')?.n, stopped.window('n')]).toEqual([40, undefined]);
    await all.close();
    await stopped.close();
  });

  it('a baseline arriving later rebuilds the window once, coded against it; no rebuild while nothing changes', async () => {
    const r = rng(9);
    const { scans } = counting(store);
    await store.insertPredictions('m', preds(r, 500, NOW - 600_000, 'a'), NOW);
    const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    let s = await engine.compute(config, NOW);
    expect(s.some((x) => x.name === 'ml_feature_drift_score')).toBe(false);
    expect(s.find((x) => x.name === 'ml_feature_completeness_ratio' && x.labels['feature'] === 'grid' && x.labels['window'] === '1h')?.value).toBe(1);
    expect(engine.window('m')?.coding).toEqual([0]);
    const before = scans();
    await storeBaseline(store, { model: 'm', version: 'v1', createdAt: NOW, source: 't' }, buildBaseline(model, refRows(r, 1000)));
    s = await engine.compute(config, NOW);
    expect(scans()).toBe(before + 1);
    expect(engine.window('m')?.coding).toEqual([engine.baselineFor('m', 'v1')?.record.id]);
    expect(s.some((x) => x.name === 'ml_feature_drift_score')).toBe(true);
    await engine.compute(config, NOW + 1000);
    expect(scans()).toBe(before + 1);
    await engine.close();
  });

  it('versions with their own baselines serving at once: coded against both, no rebuild from cycle to cycle', async () => {
    const r = rng(13);
    const { scans } = counting(store);
    for (const v of ['v1', 'v2']) await storeBaseline(store, { model: 'm', version: v, createdAt: NOW, source: 't' }, buildBaseline(model, refRows(r, 500)));
    const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    await engine.rebuild(model, NOW);
    let afterBoth = 0;
    for (let k = 0; k < 6; k++) {
      const ts = NOW - 1_000_000 + k * 10_000;
      // (JSON has no Infinity: the store keeps it as null, so it would differ from a rebuilt window)
      const batch = preds(r, 50, ts, `b${k}-`, k % 2 === 0 ? 'v1' : 'v2').map((p) => ({
        ...p,
        features: Object.fromEntries(Object.entries(p.features).map(([f, x]) => [f, x === Infinity ? null : x])),
      }));
      const seqs = (await store.insertPredictions('m', batch, NOW)).seqs;
      engine.predictions(model, batch, seqs);
      await engine.compute(config, NOW);
      if (k === 1) afterBoth = scans();
    }
    const w = engine.window('m') as ModelWindow;
    expect([...w.coding].sort()).toEqual([engine.baselineFor('m', 'v1')?.record.id, engine.baselineFor('m', 'v2')?.record.id].sort());
    // the start (coded against the newest), v1's rows (its own baseline), v2's rows: then no more
    expect(afterBoth).toBe(3);
    expect(scans()).toBe(3);
    // the same numbers as a window built from the store now (its capacity may differ)
    const fresh = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    const ml = (xs: Sample[]): Sample[] => xs.filter((x) => x.name.startsWith('ml_'));
    const a = ml(await fresh.compute(config, NOW));
    expect(a.some((x) => x.name === 'ml_feature_drift_score')).toBe(true);
    expect(a).toEqual(ml(await engine.compute(config, NOW)));
    await engine.close();
    await fresh.close();
  });

  it('events stored out of event-time order (late ones) are rebuilt into the same window as ingestion built, in sequence order', async () => {
    const r = rng(21);
    await storeBaseline(store, { model: 'm', version: 'v1', createdAt: NOW, source: 't' }, buildBaseline(model, refRows(r, 400)));
    const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    await engine.rebuild(model, NOW);
    for (let k = 0; k < 5; k++) {
      // each batch reaches back in time: event times interleave across batches
      const batch = preds(r, 40, NOW - 3_000_000 + (k % 2 === 0 ? k : -k) * 7_000, `late${k}-`).map((p, i) => ({
        ...p,
        ts: p.ts + ((i * 7919) % 40) * 13_000,
        features: Object.fromEntries(Object.entries(p.features).map(([f, x]) => [f, x === Infinity ? null : x])),
      }));
      const seqs = (await store.insertPredictions('m', batch, NOW)).seqs;
      engine.predictions(model, batch, seqs);
    }
    await store.insertLabels('m', [{ id: 'late3-5', ts: NOW, label: '1' }], NOW);
    await engine.labels(model, [{ id: 'late3-5', ts: NOW, label: '1' }]);
    const live = engine.window('m') as ModelWindow;
    const rebuilt = await new MonitorEngine({ store, logger: quiet(), driftWorker: false }).rebuild(model, NOW);
    expect(rebuilt.n).toBe(200);
    const seqs = Array.from(rebuilt.seq.subarray(0, rebuilt.n));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const tss = Array.from(rebuilt.ts.subarray(0, rebuilt.n));
    expect(tss).not.toEqual([...tss].sort((a, b) => a - b)); // the event times really are out of order
    const cols = (w: ModelWindow) => {
      const out: number[][] = [w.seq, w.ts, w.version, w.pred, w.score, w.label, w.latency, w.error].map((c) => Array.from(c.subarray(0, w.n)));
      for (const col of w.features.values()) if (col.kind === 'numeric') for (const c of col.coded) out.push(Array.from(c.codes.subarray(0, w.n)));
      return out;
    };
    expect(cols(rebuilt)).toEqual(cols(live));
    // and the label of a row is found by its sequence number
    const late = (await store.predictionSeqs('m', ['late3-5']))[0] as number;
    expect(rebuilt.label[rebuilt.rowOf(late)]).toBe(rebuilt.positiveCode);
    await engine.close();
  });

  it('a row reused after eviction keeps nothing of the evicted one', () => {
    const w = new ModelWindow(model);
    const r = rng(1);
    const old = preds(r, 4, NOW - 2 * H, 'o');
    w.append(old.map((p) => ({ ...p, seq: 0, label: '1', labelTs: NOW })), [1, 2, 3, 4]);
    expect(w.evict(NOW - H)).toBe(4);
    const fresh = { ...preds(r, 1, NOW, 'n')[0] as PredictionRecord, features: { grid: null, cont: null, sparse: null } };
    w.append([fresh], [5]);
    expect(Number.isNaN(w.label[0] as number)).toBe(true);
    for (const col of w.features.values()) if (col.kind === 'numeric') expect(w.codedFor(col, undefined)?.codes[0]).toBe(0);
  });
});
