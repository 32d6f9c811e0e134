import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig, VigilConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import type { Sample } from '../metrics/snapshot.js';
import { modelLayout, packLayout, Packer, PackedReader } from '../store/packed.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { isPacked, type PredictionRecord } from '../store/store.js';
import { buildBaseline, storeBaseline, type BaselineRow } from './baseline.js';
import { MonitorEngine } from './engine.js';
import { qualityMetrics } from './quality.js';
import { ModelWindow } from './window.js';

/** scikit-learn 1.2.1 and NannyML's multiclass CBPE (transcribed, checked against NannyML's code) on the same rows: test/fixtures/multiclass-proba.py. */
interface Case {
  name: string;
  classes: string[];
  refProba: number[][];
  refTrue: string[];
  refPred: string[];
  curProba: number[][];
  curTrue: string[];
  curPred: string[];
  calibration: { needed: boolean; eceBefore: number | null; eceAfter: number | null; reason: string | null }[];
  logLoss: number;
  rocAuc: number;
  estimateRaw: { accuracy: number; f1: number };
  estimateAuto: { accuracy: number; f1: number };
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/multiclass-proba.json', import.meta.url), 'utf8')) as { sklearn: string; cases: Case[] };

const NOW = Date.UTC(2026, 11, 5, 12);
const quiet = () => createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const close = (got: number | undefined, want: number) => {
  expect(got).toBeDefined();
  expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
};
const scoreMap = (classes: string[], row: number[]) => Object.fromEntries(classes.map((c, j) => [c, row[j] as number]));

describe('multiclass probabilities', () => {
  it('fixture: scikit-learn 1.2.1', () => expect(fixture.sklearn).toBe('1.2.1'));

  for (const c of fixture.cases) {
    it(`log loss and one-vs-rest ROC AUC equal scikit-learn's (${c.name})`, () => {
      const code = (x: string) => c.classes.indexOf(x);
      const q = qualityMetrics({
        task: 'multiclass',
        yTrue: Float64Array.from(c.curTrue, code),
        yPred: Float64Array.from(c.curPred, code),
        proba: { labels: c.classes.map((_, j) => j), columns: c.classes.map((_, j) => Float64Array.from(c.curProba, (r) => r[j] as number)) },
      });
      close(q.log_loss, c.logLoss);
      close(q.roc_auc, c.rocAuc);
    });
  }

  it('without every class probability on every row, log loss and ROC AUC are absent (not computed on a part)', () => {
    const c = fixture.cases[0] as Case;
    const columns = c.classes.map((_, j) => Float64Array.from(c.curProba, (r) => r[j] as number));
    (columns[1] as Float64Array)[7] = NaN;
    const q = qualityMetrics({ task: 'multiclass', yTrue: Float64Array.from(c.curTrue, (x) => c.classes.indexOf(x)), yPred: Float64Array.from(c.curPred, (x) => c.classes.indexOf(x)), proba: { labels: [0, 1, 2], columns } });
    expect(q.log_loss).toBeUndefined();
    expect(q.roc_auc).toBeUndefined();
    expect(q.accuracy).toBeDefined();
  });

  it("the packed form carries the class probabilities under its own layout key; the binary layout's key is unchanged", () => {
    const features = [
      { name: 'x', type: 'numeric' as const },
      { name: 'k', type: 'categorical' as const },
    ];
    const multi = modelLayout({ features, task: 'multiclass' });
    expect(multi.classScores).toBe(true);
    expect(multi.key).not.toBe(packLayout(features).key);
    expect(modelLayout({ features, task: 'binary' }).key).toBe(packLayout(features).key);
    const packer = new Packer();
    const rec = (score: PredictionRecord['score']): PredictionRecord => ({ id: 'a', ts: 1, version: 'v', features: { x: 1.5, k: 'é' }, prediction: 'b', score, latencyMs: null, segment: null, error: null });
    const read = (score: PredictionRecord['score']) => {
      const bytes = Uint8Array.from(packer.pack(multi, rec(score)));
      const r = new PackedReader(multi);
      const s = r.row(bytes);
      const got: [string, number][] = [];
      expect([r.numeric(0), r.nextCategorical()]).toEqual([1.5, 'é']);
      r.classScores((cls, p) => got.push([cls, p]));
      return { s, got };
    };
    expect(read({ a: 0.25, b: 0.7, 'ünï': 0.05 })).toEqual({ s: 0.7, got: [['a', 0.25], ['b', 0.7], ['ünï', 0.05]] });
    expect(read(null).got).toEqual([]);
    expect(read(0.4).got).toEqual([]);
  });
});

describe('multiclass through the hot window: quality and the label-free estimate', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-mc-'));
    store = new SqliteStore({ path: join(dir, 'v.db'), now: NOW });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const configFor = (c: Case, calibration: string): VigilConfig =>
    parseConfigText(
      `models:
  - name: m
    task: multiclass
    classes: [${c.classes.join(', ')}]
    windows: [24h]
    min_samples: 20
    estimate_calibration: ${calibration}
    features: [{ name: x, type: numeric }]
`,
      'c.yaml',
      {},
    );

  for (const [c, packed, compute] of [
    [fixture.cases[0] as Case, true, false],
    [fixture.cases[1] as Case, false, true],
    [fixture.cases[3] as Case, true, true],
  ] as const) {
    it(`${c.name}: baseline calibration, log loss, ROC AUC and CBPE equal the references (${packed ? 'packed' : 'JSON'} rows, ${compute ? 'compute worker' : 'main thread'})`, async () => {
      const config = configFor(c, 'auto');
      const model = config.models[0] as ModelConfig;
      const ref: BaselineRow[] = c.refProba.map((row, i) => ({ features: { x: i }, prediction: c.refPred[i] as string, score: scoreMap(c.classes, row), label: c.refTrue[i] as string }));
      const built = buildBaseline(model, ref);
      // NannyML's decision per class (one-vs-rest) on the same reference
      expect(Object.keys(built.summary.classCalibrations ?? {})).toEqual(c.classes);
      c.classes.forEach((cls, j) => {
        const want = c.calibration[j];
        const got = built.summary.classCalibrations?.[cls]?.decision;
        expect(got?.needed).toBe(want?.needed);
        if (want?.eceBefore !== null && want?.eceBefore !== undefined) close(got?.reason === undefined ? got?.eceBefore : undefined, want.eceBefore);
      });
      await storeBaseline(store, { model: 'm', version: 'v1', createdAt: NOW - 48 * 3_600_000, source: 't' }, built);
      const recs: PredictionRecord[] = c.curProba.map((row, i) => ({
        id: `p${i}`,
        ts: NOW - (c.curProba.length - i) * 1000,
        version: 'v1',
        features: { x: i },
        prediction: c.curPred[i] as string,
        score: scoreMap(c.classes, row),
        latencyMs: null,
        segment: null,
        error: null,
      }));
      await store.insertPredictions('m', recs, NOW, packed ? modelLayout(model) : undefined);
      // the window reads the rows packed (with their class probabilities) or as JSON, as stored
      const page = await store.windowPage('m', { fromTs: 0, maxSeq: await store.lastPredictionSeq(), limit: 3, layout: new ModelWindow(model).layout });
      expect(page.map(isPacked)).toEqual([packed, packed, packed]);
      await store.insertLabels(
        'm',
        recs.map((r, i) => ({ id: r.id, ts: r.ts + 1, label: c.curTrue[i] as string })),
        NOW,
      );
      for (const [calibration, want] of [
        ['auto', c.estimateAuto],
        ['none', c.estimateRaw],
      ] as const) {
        const engine = new MonitorEngine({ store, logger: quiet(), driftWorker: false, ...(compute ? { compute: { size: 1 } } : {}) });
        try {
          const samples = await engine.compute(configFor(c, calibration), NOW);
          const get = (name: string): number | undefined => samples.find((s: Sample) => s.name === name && s.labels.window === '1d')?.value;
          close(get('ml_model_log_loss'), c.logLoss);
          close(get('ml_model_roc_auc'), c.rocAuc);
          close(get('ml_model_estimated_accuracy'), want.accuracy);
          close(get('ml_model_estimated_f1_score'), want.f1);
          const calibrated = samples.find((s) => s.name === 'ml_model_estimate_calibrated')?.value;
          expect(calibrated).toBe(calibration === 'auto' && c.calibration.some((x) => x.needed) ? 1 : 0);
          expect(samples.find((s) => s.name === 'ml_model_estimate_reliable')).toBeDefined();
        } finally {
          await engine.close();
        }
      }
    });
  }
});
