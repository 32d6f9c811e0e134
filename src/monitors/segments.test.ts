import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig, VigilConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import { mulberry32 as rng } from '../core/random.js';
import type { Sample } from '../metrics/snapshot.js';
import { SnapshotBuilder } from '../metrics/snapshot.js';
import { packLayout } from '../store/packed.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { PredictionRecord } from '../store/store.js';
import { buildBaseline, loadBaseline, storeBaseline, type BaselineRow } from './baseline.js';
import type { NumericReferenceSummary } from '../stats/reference.js';
import { SEGMENT_MONITORS } from './compute.js';
import { MonitorEngine } from './engine.js';
import { OTHER_SEGMENT, planSegments } from './segments.js';
import { ModelWindow, SEGMENT_CODES, SEGMENT_NONE, SEGMENT_OVERFLOW } from './window.js';

const NOW = Date.UTC(2026, 10, 1, 12);
const H = 3_600_000;

/** Two models with the same features: `seg` has segments, `whole` gets one segment's rows alone. */
const CONFIG = `
models:
  - name: seg
    task: binary
    positive_class: '1'
    windows: [1h, 24h]
    min_samples: 20
    segments: { max: 2 }
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
  - name: whole
    task: binary
    positive_class: '1'
    windows: [1h, 24h]
    min_samples: 20
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
`;

const SEGMENTS = ['retail', 'retail', 'retail', 'retail', 'business', 'business', 'business', 'gov', 'other', null] as const;

function rows(r: () => number, n: number, from: number, prefix: string): PredictionRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const segment = SEGMENTS[i % SEGMENTS.length] ?? null;
    const shift = segment === 'business' ? 30 : 0; // one segment drifts
    return {
      id: `${prefix}${i}`,
      ts: from + i * 10_000,
      version: 'v1',
      features: { amount: 100 + shift + (r() - 0.5) * 40, country: r() < 0.1 ? null : (['PL', 'DE', segment === 'gov' ? 'XX' : 'FR'][i % 3] as string) },
      prediction: r() < 0.5 ? '1' : '0',
      score: r(),
      latencyMs: 5 + (i % 7),
      segment,
      error: i % 41 === 0 ? 'timeout' : null,
    };
  });
}

const quiet = () => createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('segment plan', () => {
  const config = parseConfigText(CONFIG, 'c.yaml', {});
  const model = config.models[0] as ModelConfig;
  const windowOf = (segments: (string | null)[]) => {
    const w = new ModelWindow(model);
    w.append(
      segments.map((segment, i) => ({ id: `p${i}`, ts: NOW, version: 'v1', features: {}, prediction: '1', score: 0.5, latencyMs: null, segment, error: null })),
      segments.map((_, i) => i + 1),
    );
    return w;
  };

  it('takes the most frequent values (ties by value), pools the rest as other, leaves rows without a segment out', () => {
    const w = windowOf(['b', 'a', 'c', 'c', null, 'a', 'd', 'c', null, 'b', 'e']);
    const plan = planSegments({ ...model, segments: { max: 3 } }, w);
    expect(plan?.names).toEqual(['c', 'a', 'b', OTHER_SEGMENT]);
    expect(plan).toMatchObject({ distinct: 5, pooled: 2, pooledRows: 2, overflowSlot: -1 });
    expect(plan?.slotOf[SEGMENT_NONE]).toBe(-1);
    expect(planSegments({ ...model, segments: undefined }, w)).toBeNull();
    // all fit: no other
    expect(planSegments({ ...model, segments: { max: 5 } }, w)?.names).toEqual(['c', 'a', 'b', 'd', 'e']);
  });

  it('a value named other joins the pool when there is one, and is a segment like any other when not', () => {
    const w = windowOf(['other', 'other', 'x', 'x', 'x', 'y']);
    expect(planSegments({ ...model, segments: { max: 3 } }, w)?.names).toEqual(['x', 'other', 'y']);
    const pooled = planSegments({ ...model, segments: { max: 2 } }, w);
    expect(pooled?.names).toEqual(['x', OTHER_SEGMENT]);
    expect(pooled).toMatchObject({ pooled: 1, pooledRows: 1 }); // y pooled with the sent "other"
  });

  it('values past the window dictionary are coded as overflow and pooled', () => {
    const w = new ModelWindow(model);
    const n = SEGMENT_CODES + 12; // 1 + (n - 10) values: 3 past the dictionary
    w.append(
      Array.from({ length: n }, (_, i) => ({ id: `p${i}`, ts: NOW, version: 'v1', features: {}, prediction: '1', score: 0.5, latencyMs: null, segment: i < 10 ? 'big' : `s${i}`, error: null })),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    expect(w.segments.values).toHaveLength(SEGMENT_CODES);
    expect(w.segment[n - 1]).toBe(SEGMENT_OVERFLOW);
    const plan = planSegments({ ...model, segments: { max: 1 } }, w);
    expect(plan?.names).toEqual(['big', OTHER_SEGMENT]);
    expect(plan?.pooledRows).toBe(n - 10);
    expect(plan?.overflowSlot).toBe(1);
  });
});

describe('segment monitoring', () => {
  let dir: string;
  let config: VigilConfig;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-seg-'));
    config = parseConfigText(CONFIG, 'c.yaml', {});
    store = new SqliteStore({ path: join(dir, 'v.db'), now: NOW });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Stores the same rows for `seg` (all) and for `whole` (only those of `only`), packed or as JSON.
   * With `segmentRefs`, the reference rows carry segments: `seg`'s baseline keeps each segment's
   * references and `whole`'s is built from the `only` segment's reference rows alone; without,
   * both baselines are of every reference row.
   */
  async function load(only: (s: string | null) => boolean, packed: boolean, segmentRefs = false): Promise<PredictionRecord[]> {
    const r = rng(11);
    const [seg, whole] = config.models as [ModelConfig, ModelConfig];
    // the reference: business amounts higher by 20 and mostly DE, the others as before
    const ref: BaselineRow[] = Array.from({ length: 3000 }, (_, i) => {
      const segment = SEGMENTS[i % SEGMENTS.length] ?? null;
      const business = segmentRefs && segment === 'business';
      return {
        features: { amount: 100 + (business ? 20 : 0) + (r() - 0.5) * 40, country: business && r() < 0.6 ? 'DE' : (['PL', 'DE', 'FR'][Math.floor(r() * 3)] as string) },
        prediction: '1',
        score: r(),
        label: r() < (business ? 0.3 : 0.5) ? '1' : '0',
        ...(segmentRefs ? { segment } : {}),
      };
    });
    await storeBaseline(store, { model: seg.name, version: 'v1', createdAt: NOW - 30 * H, source: 't' }, buildBaseline(seg, ref));
    const wholeRef = segmentRefs ? ref.filter((x) => only(x.segment ?? null)) : ref;
    await storeBaseline(store, { model: whole.name, version: 'v1', createdAt: NOW - 30 * H, source: 't' }, buildBaseline(whole, wholeRef));
    const recs = rows(r, 3000, NOW - 3000 * 10_000, 'p');
    await store.insertPredictions('seg', recs, NOW, packed ? packLayout(seg.features) : undefined);
    await store.insertPredictions('whole', recs.filter((p) => only(p.segment)), NOW, packed ? packLayout(whole.features) : undefined);
    const labels = recs.filter((_, i) => i % 3 !== 0).map((p, i) => ({ id: p.id, ts: p.ts + 1000, label: i % 4 === 0 ? '0' : '1' }));
    await store.insertLabels('seg', labels, NOW);
    await store.insertLabels('whole', labels.filter((l) => only(recs.find((p) => p.id === l.id)?.segment ?? null)), NOW);
    return recs;
  }

  const families = (samples: Sample[]) => new Set(samples.map((s) => s.name));
  const strip = (samples: Sample[], segment: string | undefined) =>
    samples
      .filter((s) => s.labels.segment === segment && s.labels.model !== undefined && s.labels.window !== undefined)
      .map((s) => {
        const { segment: _s, model: _m, ...labels } = s.labels;
        return `${s.name}${JSON.stringify(Object.entries(labels).sort())} ${s.value}`;
      })
      .sort();

  for (const [how, packed, compute, segmentRefs] of [
    ['JSON rows, main thread', false, false, false],
    ['packed rows, compute workers', true, true, false],
    ['segment references, packed rows, main thread', true, false, true],
    ['segment references, JSON rows, compute workers', false, true, true],
  ] as const) {
    it(`a segment's series are the model's monitors on the segment's rows alone (${how})`, async () => {
      await load((s) => s === 'business', packed, segmentRefs);
      const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false, ...(compute ? { compute: { size: 1 } } : {}) });
      try {
        const samples = await engine.compute(config, NOW);
        const seg = samples.filter((s) => s.labels.model === 'seg');
        const whole = samples.filter((s) => s.labels.model === 'whole');
        const monitored = new Set(whole.filter((s) => s.labels.window !== undefined && !/^ml_(business|roi|ab_test|model_estimated)/.test(s.name)).map((s) => s.name));
        const business = strip(seg, 'business');
        expect(business.length).toBeGreaterThan(50);
        // every family the segment monitors (quality, drift, data quality, latency) gives for the rows alone, the same values
        expect(business).toEqual(strip(whole, undefined).filter((x) => monitored.has(x.slice(0, x.indexOf('[')))));
        // the business segment drifted on amount; the model as a whole less so
        const ks = (segment: string | undefined) => seg.find((s) => s.name === 'ml_feature_drift_score' && s.labels.segment === segment && s.labels.feature === 'amount' && s.labels.test === 'ks' && s.labels.window === '1d')?.value ?? NaN;
        if (segmentRefs) {
          // against its own reference (20 higher already) the business segment drifted by 10: less than against the model's
          expect(ks('business')).toBeGreaterThan(0.15);
          expect(ks('business')).toBeLessThan(0.4);
          // every monitored series of the segment equals the whole model's on the segment's rows with the segment's reference
          const baselineQuality = (m: string) => samples.find((s) => s.name === 'ml_model_quality_baseline' && s.labels.model === m && s.labels.metric === 'accuracy')?.value;
          expect(baselineQuality('whole')).not.toBe(baselineQuality('seg'));
        } else {
          expect(ks('business')).toBeGreaterThan(0.4);
          expect(ks(undefined)).toBeLessThan(ks('business'));
        }
        // the two most frequent values, the rest pooled ("gov" and the sent "other"); rows without a segment in none
        const segments = new Set(seg.flatMap((s) => (s.labels.segment === undefined ? [] : [s.labels.segment])));
        expect([...segments].sort()).toEqual(['business', 'other', 'retail']);
        const count = (segment: string | undefined) => seg.find((s) => s.name === 'ml_window_samples' && s.labels.segment === segment && s.labels.window === '1d')?.value ?? 0;
        expect(count('retail') + count('business') + count('other')).toBe(count(undefined) * 0.9);
        expect(count('other')).toBe(600);
        expect(seg.find((s) => s.name === 'ml_segment_values')?.value).toBe(4);
        expect(seg.find((s) => s.name === 'ml_segment_values_pooled')?.value).toBe(2);
        // only the segment monitors are segmented; every sample passes the snapshot's label check
        const segFamilies = families(seg.filter((s) => s.labels.segment !== undefined));
        expect([...segFamilies].some((f) => /^ml_(business|roi|ab_test|model_estimated)/.test(f))).toBe(false);
        expect(SEGMENT_MONITORS).toEqual(['performance', 'drift', 'data_quality', 'latency']);
        const snap = new SnapshotBuilder();
        snap.addAll(samples);
      } finally {
        await engine.close();
      }
    });
  }

  it('a segment dictionary full of evicted values is rebuilt from the store: new values get series again', async () => {
    const [seg] = config.models as [ModelConfig];
    const row = (id: string, ts: number, segment: string): PredictionRecord => ({ id, ts, version: 'v1', features: { amount: 1, country: 'PL' }, prediction: '1', score: 0.5, latencyMs: null, segment, error: null });
    const old = Array.from({ length: SEGMENT_CODES + 5 }, (_, i) => row(`o${i}`, NOW - 1000, `user-${i}`));
    await store.insertPredictions('seg', old, NOW, packLayout(seg.features));
    const logs: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (logs.push(c.toString()), cb()) }) });
    const engine = new MonitorEngine({ store, logger, driftWorker: false });
    try {
      await engine.compute(config, NOW);
      expect(engine.window('seg')?.segments.values).toHaveLength(SEGMENT_CODES);
      // a day later: those rows are gone, the traffic has three segment values
      const later = NOW + 25 * H;
      const fresh = Array.from({ length: 60 }, (_, i) => row(`n${i}`, later - 1000, ['eu', 'us', 'apac'][i % 3] as string));
      const { seqs } = await store.insertPredictions('seg', fresh, later, packLayout(seg.features));
      engine.predictions(seg, fresh, seqs);
      const samples = await engine.compute(config, later);
      expect(engine.window('seg')?.segments.values).toEqual(['eu', 'us', 'apac']);
      expect(logs.join('')).toContain('segment dictionary full of evicted values: rebuilding the hot window');
      const segments = new Set(samples.filter((x) => x.labels.model === 'seg' && x.labels.segment !== undefined).map((x) => x.labels.segment));
      expect([...segments].sort()).toEqual(['apac', 'eu', 'other']);
    } finally {
      await engine.close();
    }
  });

  it('the window reads the segment of packed and JSON rows alike, and follows new rows', async () => {
    await load(() => true, true);
    const [seg] = config.models as [ModelConfig];
    const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false });
    try {
      const w = await engine.rebuild(seg, NOW);
      const decoded = Array.from({ length: w.n }, (_, i) => (w.segment[i] === SEGMENT_NONE ? null : w.segments.values[(w.segment[i] as number) - 1]));
      expect(decoded.slice(0, SEGMENTS.length)).toEqual([...SEGMENTS]);
      engine.predictions(seg, [{ ...rows(rng(3), 1, NOW, 'late')[0], segment: 'late-one' } as PredictionRecord], [1e9]);
      expect(w.segments.values.at(-1)).toBe('late-one');
      expect(w.segment[w.n - 1]).toBe(w.segments.values.length);
    } finally {
      await engine.close();
    }
  });
});

describe('segment references in a baseline', () => {
  const config = parseConfigText(CONFIG, 'c.yaml', {});
  const [seg, whole] = config.models as [ModelConfig, ModelConfig];
  const r = rng(5);
  // min_samples 20: 25 rows of "tiny" are enough, 10 of "rare" are not; the rest alternate
  const rows: BaselineRow[] = Array.from({ length: 400 }, (_, i) => ({
    features: { amount: i % 2 === 0 ? r() * 100 : null, country: ['PL', 'DE'][i % 2] as string },
    prediction: i % 3 === 0 ? '1' : '0',
    score: r(),
    label: i % 4 === 0 ? '1' : '0',
    segment: i < 10 ? 'rare' : i < 35 ? 'tiny' : i % 2 === 0 ? 'even' : 'odd',
  }));

  it("keeps, per segment value with at least min_samples rows, what a baseline of that segment's rows alone keeps; stored and loaded back", async () => {
    const built = buildBaseline(seg, rows);
    expect(Object.keys(built.summary.segments ?? {})).toEqual(['odd', 'even', 'tiny']); // by rows (183, 182, 25); rare has 10 < min_samples
    const alone = (value: string) => buildBaseline(whole, rows.filter((x) => x.segment === value), 'segment');
    for (const value of ['even', 'odd', 'tiny']) {
      const a = alone(value).summary;
      expect(built.summary.segments?.[value]).toEqual({ rows: a.rows, features: a.features, prediction: a.prediction, label: a.label, quality: a.quality });
    }
    // numeric values stored apart under kind segment; without models[].segments, none of it
    expect(built.references.filter((x) => x.kind === 'segment').map((x) => JSON.parse(x.name) as unknown)).toContainEqual(['tiny', 'feature', 'amount']);
    expect(buildBaseline(whole, rows).summary.segments).toBeUndefined();
    const store = new SqliteStore({ path: ':memory:', now: NOW });
    try {
      const saved = await storeBaseline(store, { model: 'seg', version: 'v1', createdAt: NOW, source: 't' }, built);
      const [rec] = await store.listBaselines('seg');
      const loaded = await loadBaseline(store, rec as NonNullable<typeof rec>);
      expect(saved.id).toBe(rec?.id);
      const tiny = loaded.segments?.get('tiny');
      const ref = tiny?.features.get('amount') as NumericReferenceSummary;
      const want = alone('tiny').references.find((x) => x.kind === 'feature' && x.name === 'amount')?.sorted;
      expect(Array.from(ref.sorted)).toEqual(Array.from(want ?? []));
      expect(tiny?.rows).toBe(25);
      expect(tiny?.quality).toEqual(alone('tiny').summary.quality);
      expect(tiny?.features.get('country')).toMatchObject({ kind: 'categorical' });
    } finally {
      await store.close();
    }
  });
});
