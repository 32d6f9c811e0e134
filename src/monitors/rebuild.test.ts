import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig, VigilConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../core/logger.js';
import { mulberry32 as rng } from '../core/random.js';
import { Ingestor } from '../ingest/ingestor.js';
import { createMetrics, MetricsRegistry } from '../metrics/registry.js';
import { modelLayout } from '../store/packed.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { PredictionRecord, Store, WindowPageQuery, WindowPageRow } from '../store/store.js';
import { ManualClock } from '../../test/harness.js';
import { buildBaseline, storeBaseline, type BaselineRow } from './baseline.js';
import { MonitorEngine } from './engine.js';
import type { ModelWindow } from './window.js';
import type { Sample } from '../metrics/snapshot.js';

const NOW = Date.UTC(2026, 10, 1, 12);
const H = 3_600_000;

const CONFIG = `
models:
  - name: mc
    task: multiclass
    classes: [a, b, c]
    windows: [1h, 24h]
    drift: { numeric_tests: [ks, psi, jsd] }
    features:
      - { name: x, type: numeric }
      - { name: city, type: categorical }
      - { name: y, type: numeric }
      - { name: flag, type: categorical }
`;

/** A prediction item as the API takes it: nulls, missing features, categories of every kind, score maps, late events. */
function item(r: () => number, id: string, ts: number): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  if (r() > 0.05) features.x = r() < 0.1 ? null : (r() - 0.5) * 8;
  if (r() > 0.05) features.y = r() < 0.1 ? null : Math.round(r() * 6); // ties with the reference
  const cities = ['PL', 'DE', 'Zürich', '', 7];
  if (r() > 0.1) features.city = r() < 0.1 ? null : cities[Math.floor(r() * cities.length)];
  if (r() > 0.3) features.flag = r() < 0.5;
  const prediction = ['a', 'b', 'c'][Math.floor(r() * 3)] as string;
  const u = r();
  const score = u < 0.1 ? null : u < 0.2 ? { a: 0.5 } : { a: 0.2, b: 0.5, c: 0.3 };
  return {
    id,
    ts,
    model_version: r() < 0.7 ? 'v1' : 'v2',
    features,
    prediction,
    ...(score === null ? {} : { score }),
    ...(r() < 0.5 ? { segment: ['web', 'pos', 'Zürich'][Math.floor(r() * 3)] } : {}),
    ...(r() < 0.8 ? { latency_ms: Math.round(r() * 100) } : {}),
    ...(r() < 0.05 ? { error: 'timeout' } : {}),
  };
}

/** n items with event times over the last hour, out of order (late events) and with ties. */
function items(r: () => number, prefix: string, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => item(r, `${prefix}${i}`, NOW - 1000 - Math.floor(r() * 50) * 60_000 - (i % 3) * 7));
}

function refRows(r: () => number, n: number): BaselineRow[] {
  return Array.from({ length: n }, () => ({ features: { x: (r() - 0.5) * 6, y: Math.round(r() * 5), city: ['PL', 'DE'][Math.floor(r() * 2)] as string, flag: 'true' }, prediction: 'a', score: null, label: 'a' }));
}

/** Everything a window holds, with dictionary codes turned back into their strings (codes depend on the order values first appeared). */
function contents(w: ModelWindow): Record<string, unknown> {
  const n = w.n;
  const col = (c: ArrayLike<number>): number[] => Array.from({ length: n }, (_, i) => c[i] as number);
  const features: Record<string, unknown> = {};
  for (const [name, f] of w.features) {
    if (f.kind === 'numeric') features[name] = { coded: f.coded.map((c) => col(c.codes)), raw: f.raw === null ? null : col(f.raw) };
    else features[name] = col(f.codes).map((c) => (c < 0 ? null : f.dict.values[c]));
  }
  const cls = (c: number): string | null => (Number.isNaN(c) ? null : (w.classes.values[c] as string));
  return {
    n,
    seq: col(w.seq),
    ts: col(w.ts),
    version: col(w.version).map((c) => w.versions.values[c]),
    pred: col(w.pred).map(cls),
    label: col(w.label).map(cls),
    score: col(w.score),
    // the class probabilities by class name (the columns are by code)
    proba: Object.fromEntries(w.proba.flatMap((c, code) => (c === null ? [] : [[w.classes.values[code] as string, col(c)]]))),
    segment: col(w.segment).map((c) => (c === 0 ? null : w.segments.values[c - 1])),
    latency: col(w.latency),
    error: col(w.error),
    features,
    featureLastTs: Object.fromEntries(w.featureLastTs),
    lastPredictionTs: w.lastPredictionTs,
    lastLabelTs: w.lastLabelTs,
    coding: w.coding,
  };
}

/** A logger whose JSON lines are kept. */
function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _e, cb) => {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('the hot-window rebuild', () => {
  let dir: string;
  let config: VigilConfig;
  let model: ModelConfig;
  const stores: SqliteStore[] = [];
  const engines: MonitorEngine[] = [];
  const open = (name: string, pageReader?: 'main'): SqliteStore => {
    const s = new SqliteStore({ path: join(dir, `${name}.db`), now: NOW, ...(pageReader === undefined ? {} : { pageReader }) });
    stores.push(s);
    return s;
  };
  const engineOn = (store: Store, logger: Logger = capture().logger): MonitorEngine => {
    const e = new MonitorEngine({ store, logger, driftWorker: false, rebuildPageRows: 128 });
    engines.push(e);
    return e;
  };
  const ingestorOn = (store: Store, engine: MonitorEngine): Ingestor => {
    const ingestor = new Ingestor({ store, metrics: createMetrics(new MetricsRegistry(), { version: 'test' }), logger: capture().logger, clock: new ManualClock(NOW), config: () => config });
    ingestor.subscribe(engine);
    return ingestor;
  };
  /** Validated records of API items (what ingestion stores). */
  const records = async (its: readonly Record<string, unknown>[]): Promise<PredictionRecord[]> => {
    const scratch = open(`validate-${stores.length}`);
    const got = await ingestorOn(scratch, engineOn(scratch)).ingest('predictions', 'mc', its);
    expect(got.rejected).toEqual([]);
    const out: PredictionRecord[] = [];
    for (const it of its) {
      const p = await scratch.getPrediction('mc', String(it.id));
      if (p === undefined) throw new Error('not stored');
      const { receivedAt: _r, label: _l, ...rec } = p;
      out.push(rec);
    }
    return out;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rebuild-'));
    config = parseConfigText(CONFIG, 'c.yaml', {});
    model = config.models[0] as ModelConfig;
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('from the packed form gives the window the JSON gives for the same rows (nulls, missing features, categories, score maps, late events, labels)', async () => {
    const r = rng(3);
    const recs = await records(items(r, 'p', 1500));
    const built = buildBaseline(model, refRows(r, 500));
    const labels = recs.filter((_, i) => i % 3 !== 0).map((p, i) => ({ id: p.id, ts: NOW - i, label: ['a', 'b', 'c'][i % 3] as string }));
    const layout = modelLayout(model);
    // the same rows: all packed; none packed (as before the packed form); every other batch packed
    // (and mixed again, its pages read on the main thread instead of the page reader's worker)
    const ways: [string, (batch: number) => boolean][] = [
      ['packed', () => true],
      ['json', () => false],
      ['mixed', (b) => b % 2 === 0],
      ['mixed-main', (b) => b % 2 === 0],
    ];
    const windows: Record<string, unknown>[] = [];
    const counts: [unknown, unknown][] = [];
    for (const [name, packed] of ways) {
      const store = open(name, name.endsWith('-main') ? 'main' : undefined);
      await storeBaseline(store, { model: 'mc', version: 'v1', createdAt: NOW - 2 * H, source: 't' }, built);
      for (let b = 0; b * 100 < recs.length; b++) await store.insertPredictions('mc', recs.slice(b * 100, b * 100 + 100), NOW, packed(b) ? layout : undefined);
      await store.insertLabels('mc', labels, NOW);
      const log = capture();
      const w = await engineOn(store, log.logger).rebuild(model, NOW);
      expect(w.n).toBe(1500);
      windows.push(contents(w));
      const line = log.lines.find((l) => l.msg === 'hot window loaded');
      counts.push([line?.packed, line?.json]);
      expect(store.pages.counts.inline === 0).toBe(!name.endsWith('-main'));
    }
    expect(counts).toEqual([
      [1500, 0],
      [0, 1500],
      [800, 700],
      [800, 700],
    ]);
    expect(windows[0]).toEqual(windows[1]);
    // score maps become the class probability columns, segments their codes
    const p = (windows[0] as { proba: Record<string, number[]> }).proba;
    expect(Object.keys(p).sort()).toEqual(['a', 'b', 'c']);
    expect(new Set(p.b)).toEqual(new Set([NaN, 0.5]));
    expect(new Set((windows[0] as { segment: (string | null)[] }).segment)).toEqual(new Set([null, 'web', 'pos', 'Zürich']));
    expect(windows[2]).toEqual(windows[1]);
    expect(windows[3]).toEqual(windows[1]);
    // it is a real window: coded against the baseline, raw values kept (jsd), every kind of value present
    const c = windows[0] as { coding: number[]; features: Record<string, { coded: number[][]; raw: number[] } | (string | null)[]> };
    expect(c.coding).toHaveLength(1);
    expect(c.coding[0]).toBeGreaterThan(0);
    const x = c.features.x as { coded: number[][]; raw: number[] };
    expect(new Set(x.coded[0]).size).toBeGreaterThan(100);
    expect(x.raw.some(Number.isNaN)).toBe(true);
    expect(new Set(c.features.city as (string | null)[])).toEqual(new Set(['PL', 'DE', 'Zürich', '', '7', null]));
    expect(new Set(c.features.flag as (string | null)[])).toEqual(new Set(['true', 'false', null]));
  });

  it('takes what is ingested during a rebuild exactly once: the window equals a quiet rebuild of the same store', async () => {
    const r = rng(11);
    const store = open('live');
    await storeBaseline(store, { model: 'mc', version: 'v1', createdAt: NOW - 2 * H, source: 't' }, buildBaseline(model, refRows(r, 500)));
    const engine = engineOn(store);
    const ingestor = ingestorOn(store, engine);
    const before = items(r, 'before', 3000);
    for (let b = 0; b < 3000; b += 500) expect((await ingestor.ingest('predictions', 'mc', before.slice(b, b + 500))).accepted).toBe(500);
    await ingestor.ingest('labels', 'mc', before.filter((_, i) => i % 4 === 0).map((p) => ({ id: p.id, label: 'b', ts: NOW - 5 })));

    // Between the rebuild's pages: predictions (late ones too: event times before and after the
    // page being read), re-sent ones (duplicates), labels for rows already read, not read yet, and
    // stored meanwhile, a label before its prediction.
    let pages = 0;
    let during = 0;
    const page = store.windowPage.bind(store);
    store.windowPage = async (name: string, q: WindowPageQuery): Promise<WindowPageRow[]> => {
      const rows = await page(name, q);
      pages++;
      if (pages % 3 === 1) {
        const batch = items(r, `during${pages}-`, 50);
        during += (await ingestor.ingest('predictions', 'mc', [...batch, before[pages] as Record<string, unknown>])).accepted;
        await ingestor.ingest('labels', 'mc', [
          { id: `before${pages * 7}`, label: 'c', ts: NOW - 4 },
          { id: `before${2999 - pages}`, label: 'a', ts: NOW - 3 },
          { id: `during${pages}-3`, label: 'a', ts: NOW - 2 },
          { id: `later${pages}`, label: 'a', ts: NOW - 1 },
        ]);
      }
      return rows;
    };
    // committed before the rebuild begins, told to the engine after it began (the ingestor's await)
    const early = items(r, 'early', 20);
    const rebuilt = engine.rebuild(model, NOW);
    const e = await ingestor.ingest('predictions', 'mc', early);
    expect(e.accepted).toBe(20);
    const w = await rebuilt;
    expect(pages).toBeGreaterThan(5);
    expect(during).toBe(50 * Math.ceil(pages / 3));
    store.windowPage = page;
    expect(w.n).toBe(3000 + 20 + during);
    // ingestion after the rebuild goes on into the same window
    await ingestor.ingest('predictions', 'mc', items(r, 'after', 30));
    await ingestor.ingest('labels', 'mc', [{ id: 'after1', label: 'c', ts: NOW }]);
    expect(engine.window('mc')).toBe(w);

    const quiet = await engineOn(store).rebuild(model, NOW);
    const got = contents(w);
    const want = contents(quiet);
    // a label stored before its prediction counts in lastLabelTs for ingestion only (the store joins labels to predictions)
    expect({ ...got, lastLabelTs: null }).toEqual({ ...want, lastLabelTs: null });
    expect(got.lastLabelTs).toBe(NOW);
    expect(new Set(got.seq as number[]).size).toBe(w.n); // no row twice
  });

  it('a cycle yields to the event loop between models, windows and drift features, and computes what a cycle that never yields does', async () => {
    const store = open('cycle-yield');
    const r = rng(9);
    await storeBaseline(store, { model: 'mc', version: 'v1', createdAt: NOW - 2 * H, source: 't' }, buildBaseline(model, refRows(r, 500)));
    await store.insertPredictions('mc', await records(items(r, 'c', 1500)), NOW, modelLayout(model));
    const sliced = new MonitorEngine({ store, logger: capture().logger, driftWorker: false, cycleSliceMs: 0 });
    const whole = new MonitorEngine({ store, logger: capture().logger, driftWorker: false, cycleSliceMs: Infinity });
    engines.push(sliced, whole);
    // the windows loaded first (a rebuild yields on its own)
    await whole.compute(config, NOW);
    await sliced.compute(config, NOW);
    /** The samples of one cycle, and how many turns the event loop took while it ran. */
    const cycle = async (e: MonitorEngine): Promise<{ samples: unknown[]; turns: number }> => {
      let turns = 0;
      let done = false;
      const spin = (): void => {
        if (done) return;
        turns++;
        setImmediate(spin);
      };
      setImmediate(spin);
      const samples = await e.compute(config, NOW);
      done = true;
      return { samples, turns };
    };
    const a = await cycle(whole);
    const b = await cycle(sliced);
    expect(a.samples.length).toBeGreaterThan(50);
    expect(b.samples).toEqual(a.samples);
    expect(a.turns).toBe(0);
    // one model, two windows, two numeric features each: a turn before the model, before each window, after each feature
    expect(b.turns).toBeGreaterThanOrEqual(7);
  });

  it('labels that arrive while a model\'s cycle runs wait for its end: every monitor of that cycle sees the same labels', async () => {
    const store = open('cycle-labels');
    const r = rng(11);
    await storeBaseline(store, { model: 'mc', version: 'v1', createdAt: NOW - 2 * H, source: 't' }, buildBaseline(model, refRows(r, 500)));
    const recs = await records(items(r, 'l', 1500));
    await store.insertPredictions('mc', recs, NOW, modelLayout(model));
    const engine = new MonitorEngine({ store, logger: capture().logger, driftWorker: false, cycleSliceMs: 0 });
    engines.push(engine);
    const before = await engine.compute(config, NOW);
    const labels = recs.slice(0, 300).map((p, i) => ({ id: p.id, ts: NOW, label: ['a', 'b', 'c'][i % 3] as string }));
    await store.insertLabels('mc', labels, NOW);
    // the labels reach the engine while its next cycle runs (it yields at every turn): at the
    // third turn, inside the model's cycle (the first is before it)
    let delivered = false;
    const deliverAt = (turn: number): void => {
      setImmediate(() => {
        if (turn > 1) return deliverAt(turn - 1);
        void engine.labels(model, labels).then(() => {
          delivered = true;
        });
      });
    };
    deliverAt(3);
    const during = await engine.compute(config, NOW);
    expect(delivered).toBe(true);
    expect(during).toEqual(before); // not seen by that cycle, by none of its monitors
    const w = engine.window('mc') as ModelWindow;
    expect(Array.from({ length: w.n }, (_, i) => w.label[i] as number).filter((x) => !Number.isNaN(x))).toHaveLength(300);
    const after = await engine.compute(config, NOW);
    // the next cycle has them: labelled predictions of the 1h window (all of them), from coverage × samples per version
    const labeled = (s: Sample[]): number =>
      s
        .filter((x) => x.name === 'ml_label_coverage_ratio' && x.labels.window === '1h')
        .reduce((n, c) => n + c.value * ((s.find((x) => x.name === 'ml_window_samples' && x.labels.window === '1h' && x.labels.version === c.labels.version)?.value ?? NaN) as number), 0);
    expect(labeled(during)).toBe(0);
    expect(Math.round(labeled(after))).toBe(300);
  });

  it('yields to the event loop between pages: an immediate scheduled before the rebuild runs before it ends', async () => {
    const store = open('yield');
    const r = rng(5);
    const recs = await records(items(r, 'y', 4000));
    await store.insertPredictions('mc', recs, NOW, modelLayout(model));
    const order: string[] = [];
    let turns = 0;
    const spin = (): void => {
      turns++;
      if (!order.includes('rebuilt')) setImmediate(spin);
    };
    setImmediate(() => order.push('immediate'));
    setImmediate(spin);
    let pages = 0;
    const page = store.windowPage.bind(store);
    store.windowPage = (name, q) => {
      pages++;
      return page(name, q);
    };
    const w = await engineOn(store).rebuild(model, NOW);
    order.push('rebuilt');
    expect(w.n).toBe(4000);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(order).toEqual(['immediate', 'rebuilt']);
    // one turn of the event loop per page at least (less the last)
    expect(turns).toBeGreaterThanOrEqual(pages - 1);
  });

  it('logs each model\'s rows, time and rate, and the whole load; stops between pages when asked', async () => {
    const store = open('log');
    const r = rng(8);
    const two = parseConfigText(`${CONFIG}  - name: other\n    task: binary\n    windows: [1h]\n    features: [{ name: x, type: numeric }]\n`, 'c.yaml', {});
    await store.insertPredictions('mc', await records(items(r, 'l', 2500)), NOW, modelLayout(model));
    const log = capture();
    await engineOn(store, log.logger).load(two, NOW);
    const loaded = log.lines.filter((l) => l.msg === 'hot window loaded');
    expect(loaded.map((l) => [l.model, l.rows, l.packed, l.json, l.ingested])).toEqual([
      ['mc', 2500, 2500, 0, 0],
      ['other', 0, 0, 0, 0],
    ]);
    for (const l of loaded) {
      expect(typeof l.ms).toBe('number');
      expect(typeof l.rowsPerSecond).toBe('number');
    }
    const all = log.lines.find((l) => l.msg === 'hot windows loaded');
    expect(all).toMatchObject({ models: 2, rows: 2500 });
    expect(typeof all?.rowsPerSecond).toBe('number');

    // asked to stop after the first page: that model is not loaded, nor the next
    const stopping = engineOn(store);
    let pages = 0;
    const page = store.windowPage.bind(store);
    store.windowPage = (name, q) => {
      pages++;
      return page(name, q);
    };
    await stopping.load(two, NOW, () => pages >= 1);
    expect(pages).toBe(1);
    expect([stopping.window('mc'), stopping.window('other')]).toEqual([undefined, undefined]);
  });
});
