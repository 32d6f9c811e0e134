import { describe, expect, it } from 'vitest';
import { PackedReader, packLayout } from './packed.js';
import { isPacked, type ActionRecord, type IncidentRecord, type PredictionRecord, type ReferenceKind, type ReferenceValues, type Store, type WindowPageRow } from './store.js';

/**
 * The contract every Store backend must pass. A backend's test file calls
 * `storeContract('sqlite', factory)` where `factory()` opens a fresh, empty store and
 * `reopen` (when the backend is persistent) closes it and opens the same data again.
 */
export interface StoreHarness {
  store: Store;
  reopen?: () => Promise<Store>;
}

const T0 = Date.UTC(2026, 0, 1);

export const pred = (id: string, over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  id,
  ts: T0,
  version: 'v1',
  features: { amount: 12.5, country: 'PL', missing: null },
  prediction: '1',
  score: 0.87,
  latencyMs: 12,
  segment: null,
  error: null,
  ...over,
});

export const incident = (id: string, over: Partial<IncidentRecord> = {}): IncidentRecord => ({
  id,
  fingerprint: `fp-${id}`,
  alertname: 'MLAccuracyDrop',
  model: 'fraud',
  labels: { alertname: 'MLAccuracyDrop', model: 'fraud' },
  annotations: { summary: 's' },
  firedAt: T0,
  resolvedAt: null,
  status: 'open',
  createdAt: T0,
  ...over,
});

export const action = (id: string, over: Partial<ActionRecord> = {}): ActionRecord => ({
  id,
  incidentId: 'i1',
  idempotencyKey: null,
  model: 'fraud',
  action: 'rollback',
  type: 'mlflow_rollback',
  status: 'skipped',
  reason: 'cooldown',
  createdAt: T0,
  startedAt: null,
  endedAt: null,
  expiresAt: null,
  attempts: 0,
  error: null,
  details: {},
  plan: {},
  decidedBy: null,
  updatedAt: T0,
  ...over,
});

export function storeContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    it('stores a batch and reads every field back', async () => {
      const { store } = await factory();
      const r = await store.insertPredictions('m', [pred('a'), pred('b', { score: { x: 0.2, y: 0.8 }, prediction: 'y', segment: 'eu', error: 'timeout', latencyMs: null })], T0 + 5);
      expect(r).toMatchObject({ inserted: 2, duplicates: [] });
      const a = await store.getPrediction('m', 'a');
      expect(a).toEqual({ ...pred('a'), receivedAt: T0 + 5, label: null });
      const b = await store.getPrediction('m', 'b');
      expect(b?.score).toEqual({ x: 0.2, y: 0.8 });
      expect(b?.segment).toBe('eu');
      expect(b?.error).toBe('timeout');
      expect(b?.latencyMs).toBeNull();
      expect(await store.getPrediction('m', 'nope')).toBeUndefined();
      expect(await store.getPrediction('other', 'a')).toBeUndefined();
      await store.close();
    });

    it("keeps a prediction's trace context (traceparent) and gives it back with the record: read, scan, follow", async () => {
      const { store } = await factory();
      const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await store.insertPredictions('m', [pred('t', { traceparent: tp }), pred('n')], T0);
      expect(await store.getPrediction('m', 't')).toMatchObject({ traceparent: tp });
      expect((await store.getPrediction('m', 'n'))?.traceparent ?? null).toBeNull();
      const scanned: (string | null | undefined)[] = [];
      await store.scanPredictions('m', 0, (row) => scanned.push(row.traceparent));
      expect(scanned.map((x) => x ?? null)).toEqual([tp, null]);
      expect((await store.followPredictions(0, 10)).map((f) => f.record.traceparent ?? null)).toEqual([tp, null]);
      await store.close();
    });

    it('follows what is stored: every model\'s predictions and labels above a sequence number, in order, a page at a time', async () => {
      const { store } = await factory();
      expect(await store.lastLabelSeq()).toBe(0);
      expect(await store.followPredictions(0, 10)).toEqual([]);
      const a = await store.insertPredictions('m', [pred('a'), pred('b', { prediction: 2.5, score: null })], T0);
      const b = await store.insertPredictions('n', [pred('c', { segment: 'eu' }), pred('a')], T0 + 1);
      const all = await store.followPredictions(0, 10);
      expect(all.map((f) => [f.model, f.record.id])).toEqual([['m', 'a'], ['m', 'b'], ['n', 'c'], ['n', 'a']]);
      expect(all.map((f) => f.seq)).toEqual([...a.seqs, ...b.seqs]);
      expect(all.map((f) => f.receivedAt)).toEqual([T0, T0, T0 + 1, T0 + 1]);
      expect(all[0]?.record).toEqual(pred('a'));
      expect(all[1]?.record.prediction).toBe(2.5);
      expect(all[2]?.record.segment).toBe('eu');
      // after the last one seen, a page at a time; a duplicate is not there
      expect((await store.followPredictions(a.seqs[1] as number, 1)).map((f) => f.record.id)).toEqual(['c']);
      await store.insertPredictions('m', [pred('a')], T0 + 2);
      expect((await store.followPredictions(b.seqs[1] as number, 10)).length).toBe(0);
      const l1 = await store.insertLabels('m', [{ id: 'a', ts: T0 + 3, label: '1' }], T0 + 3);
      const l2 = await store.insertLabels('n', [{ id: 'c', ts: T0 + 4, label: 0 }], T0 + 4);
      expect(await store.followLabels(0, 10)).toEqual([
        { model: 'm', seq: l1.seqs[0], record: { id: 'a', ts: T0 + 3, label: '1' }, receivedAt: T0 + 3 },
        { model: 'n', seq: l2.seqs[0], record: { id: 'c', ts: T0 + 4, label: 0 }, receivedAt: T0 + 4 },
      ]);
      expect(await store.followLabels(l1.seqs[0] as number, 10)).toHaveLength(1);
      expect(await store.lastLabelSeq()).toBe(l2.seqs[0]);
      await store.close();
    });

    it('the leader lease: held and renewed by one holder; on a shared store another takes it only when it lapses or is released, with the next epoch', async () => {
      const { store } = await factory();
      const first = await store.acquireLease('r1', 60_000);
      expect(first).toMatchObject({ holder: 'r1', mine: true });
      expect(first.epoch).toBeGreaterThan(0);
      expect(await store.acquireLease('r1', 60_000)).toMatchObject({ holder: 'r1', mine: true, epoch: first.epoch });
      if (store.shared) {
        // held: refused to another, who learns who holds it
        expect(await store.acquireLease('r2', 60_000)).toMatchObject({ holder: 'r1', mine: false, epoch: first.epoch });
        // released: taken at once, with the next epoch; the old holder is refused from then on
        await store.releaseLease('r1');
        const second = await store.acquireLease('r2', 1500);
        expect(second).toMatchObject({ holder: 'r2', mine: true, epoch: first.epoch + 1 });
        expect(await store.acquireLease('r1', 60_000)).toMatchObject({ holder: 'r2', mine: false });
        // lapsed (1.5 s of the database's time): taken by the next to ask
        await new Promise((r) => setTimeout(r, 1600));
        expect(await store.acquireLease('r1', 60_000)).toMatchObject({ holder: 'r1', mine: true, epoch: first.epoch + 2 });
        // releasing a lease one does not hold changes nothing
        await store.releaseLease('r2');
        expect(await store.acquireLease('r2', 60_000)).toMatchObject({ holder: 'r1', mine: false });
      }
      await store.close();
    });

    it("a leader's writes carry its fence: on a shared store a former leader's are refused once another holds the lease", async () => {
      const { store } = await factory();
      const l1 = await store.acquireLease('r1', 60_000);
      const f1 = { holder: 'r1', epoch: l1.epoch };
      await store.saveIncident(incident('i1'), { fence: f1 });
      await store.saveAction(action('a1', { incidentId: 'i1', reason: 'first' }), { fence: f1 });
      await store.saveCircuit({ model: 'fraud', state: 'open', since: T0, reason: 'r', incidentId: 'i1', probeUntil: null, manual: false, generation: 1 }, { fence: f1 });
      if (store.shared) {
        await store.releaseLease('r1');
        const l2 = await store.acquireLease('r2', 60_000);
        const stale = (p: Promise<void>) => expect(p).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_FENCED', statusCode: 409 });
        await stale(store.saveAction(action('a1', { incidentId: 'i1', reason: 'again' }), { fence: f1 }));
        await stale(store.saveIncident(incident('i1', { status: 'resolved', resolvedAt: T0 + 1 }), { fence: f1 }));
        await stale(store.saveCircuit({ model: 'fraud', state: 'closed', since: T0 + 1, reason: 'r', incidentId: null, probeUntil: null, manual: false, generation: 2 }, { fence: f1 }));
        // nothing of the refused writes is stored; the new leader's go through
        expect((await store.getAction('a1'))?.reason).toBe('first');
        expect((await store.getIncident('i1'))?.status).toBe('open');
        expect((await store.listCircuits())[0]?.state).toBe('open');
        await store.saveAction(action('a1', { incidentId: 'i1', reason: 'by r2' }), { fence: { holder: 'r2', epoch: l2.epoch } });
        expect((await store.getAction('a1'))?.reason).toBe('by r2');
      }
      await store.close();
    });

    it('keeps numeric predictions and labels numeric (regression)', async () => {
      const { store } = await factory();
      await store.insertPredictions('reg', [pred('r1', { prediction: 3.25, score: null })], T0);
      await store.insertLabels('reg', [{ id: 'r1', ts: T0 + 1, label: 4.5 }], T0 + 1);
      const r = await store.getPrediction('reg', 'r1');
      expect(r?.prediction).toBe(3.25);
      expect(r?.label).toEqual({ id: 'r1', ts: T0 + 1, label: 4.5 });
      await store.close();
    });

    it('never duplicates a re-sent id and never overwrites the first write', async () => {
      const { store } = await factory();
      await store.insertPredictions('m', [pred('a', { prediction: '1' })], T0);
      const again = await store.insertPredictions('m', [pred('b'), pred('a', { prediction: '0' }), pred('b')], T0 + 1);
      expect(again).toMatchObject({ inserted: 1, duplicates: [1, 2] });
      expect(again.seqs[1]).toBe(-1);
      expect(again.seqs[0]).toBeGreaterThan(0);
      expect((await store.getPrediction('m', 'a'))?.prediction).toBe('1');
      const labels1 = await store.insertLabels('m', [{ id: 'a', ts: T0, label: '1' }], T0);
      const labels2 = await store.insertLabels('m', [{ id: 'a', ts: T0, label: '0' }], T0);
      expect(labels1).toMatchObject({ inserted: 1, duplicates: [] });
      expect(labels2).toMatchObject({ inserted: 0, duplicates: [0] });
      expect((await store.getPrediction('m', 'a'))?.label?.label).toBe('1');
      const counts = await store.modelCounts('m');
      expect(counts.predictions).toBe(2);
      expect(counts.labels).toBe(1);
      await store.close();
    });

    it('gives strictly increasing sequence numbers and finds them by id', async () => {
      const { store } = await factory();
      const a = await store.insertPredictions('m', [pred('a'), pred('b')], T0);
      const b = await store.insertPredictions('m', [pred('c')], T0);
      const all = [...a.seqs, ...b.seqs];
      expect(all.every((s, i) => i === 0 || s > (all[i - 1] as number))).toBe(true);
      expect(await store.predictionSeqs('m', ['b', 'zz', 'c'])).toEqual([a.seqs[1], undefined, b.seqs[0]]);
      await store.close();
    });

    it('scans a model window in event-time order (ties in sequence order) with labels joined', async () => {
      const { store } = await factory();
      await store.insertPredictions('m', [pred('old', { ts: T0 - 10 }), pred('a', { ts: T0 + 5 }), pred('b', { ts: T0 }), pred('c', { ts: T0 + 5 })], T0);
      await store.insertPredictions('other', [pred('x')], T0);
      await store.insertLabels('m', [{ id: 'a', ts: T0 + 9, label: '0' }], T0);
      const rows: { id: string; seq: number; label: unknown; labelTs: unknown; features: unknown }[] = [];
      const n = await store.scanPredictions('m', T0, (r) => rows.push(r));
      expect(n).toBe(3);
      expect(rows.map((r) => [r.id, r.label, r.labelTs])).toEqual([['b', null, null], ['a', '0', T0 + 9], ['c', null, null]]);
      expect((rows[1]?.seq as number) < (rows[2]?.seq as number)).toBe(true);
      expect(rows[1]?.features).toEqual(pred('a').features);
      await store.close();
    });

    it('pages a model window in (event time, sequence) order after a cursor, up to a sequence, labels joined', async () => {
      const { store } = await factory();
      const layout = packLayout([{ name: 'amount', type: 'numeric' }]);
      expect(await store.lastPredictionSeq()).toBe(0);
      // event times with ties and out of insertion order; another model in between
      const tss = [5, 3, 5, 5, 1, 9, 3, 5, -20, 7];
      const first = await store.insertPredictions('m', tss.slice(0, 6).map((t, i) => pred(`p${i}`, { ts: T0 + t })), T0, layout);
      await store.insertPredictions('other', [pred('x', { ts: T0 + 4 })], T0, layout);
      const second = await store.insertPredictions('m', tss.slice(6).map((t, i) => pred(`p${i + 6}`, { ts: T0 + t })), T0, layout);
      await store.insertLabels('m', [{ id: 'p2', ts: T0 + 50, label: '0' }], T0);
      const seqs = [...first.seqs, ...second.seqs];
      const last = await store.lastPredictionSeq();
      expect(last).toBeGreaterThanOrEqual(Math.max(...seqs));
      const all = async (maxSeq: number, limit: number): Promise<WindowPageRow[]> => {
        const out: WindowPageRow[] = [];
        let after: { ts: number; seq: number } | undefined;
        for (;;) {
          const page = await store.windowPage('m', { fromTs: T0, maxSeq, limit, layout, ...(after === undefined ? {} : { after }) });
          expect(page.length).toBeLessThanOrEqual(limit);
          out.push(...page);
          const end = page[page.length - 1];
          if (page.length < limit || end === undefined) return out;
          after = { ts: end.ts, seq: end.seq };
        }
      };
      const expected = seqs
        .map((seq, i) => ({ seq, ts: T0 + (tss[i] as number) }))
        .filter((r) => r.ts >= T0)
        .sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      for (const limit of [1, 2, 3, 100]) expect((await all(last, limit)).map((r) => [r.ts, r.seq])).toEqual(expected.map((r) => [r.ts, r.seq]));
      // up to a sequence: the rows stored after it are left out
      const bound = first.seqs[5] as number;
      expect((await all(bound, 2)).map((r) => r.seq)).toEqual(expected.filter((r) => r.seq <= bound).map((r) => r.seq));
      const rows = await all(last, 4);
      const p2 = rows.find((r) => r.seq === first.seqs[2]);
      expect([p2?.label, p2?.labelTs]).toEqual(['0', T0 + 50]);
      expect(rows.filter((r) => r.label !== null)).toHaveLength(1);
      await store.close();
    });

    it('keeps the packed form beside the JSON: pages give it for its layout, the JSON record otherwise', async () => {
      const { store } = await factory();
      const features = [
        { name: 'amount', type: 'numeric' as const },
        { name: 'country', type: 'categorical' as const },
        { name: 'missing', type: 'numeric' as const },
      ];
      const layout = packLayout(features);
      const packedRec = pred('packed', { score: { '0': 0.3, '1': 0.7 }, latencyMs: 3, error: 'timeout', segment: 'eu' });
      await store.insertPredictions('m', [packedRec], T0, layout);
      await store.insertPredictions('m', [pred('json', { ts: T0 + 1 })], T0); // no layout: JSON only
      await store.insertLabels('m', [{ id: 'packed', ts: T0 + 2, label: '0' }], T0);
      const page = await store.windowPage('m', { fromTs: T0, maxSeq: await store.lastPredictionSeq(), limit: 10, layout });
      expect(page.map((r) => [isPacked(r), r.ts])).toEqual([
        [true, T0],
        [false, T0 + 1],
      ]);
      const [p, j] = page as [WindowPageRow, WindowPageRow];
      if (!isPacked(p) || isPacked(j)) throw new Error('unexpected kinds');
      expect({ ...p, packed: undefined }).toEqual({ seq: p.seq, ts: T0, version: 'v1', prediction: '1', latencyMs: 3, segment: 'eu', error: 'timeout', label: '0', labelTs: T0 + 2, packed: undefined });
      const reader = new PackedReader(layout);
      expect(reader.row(p.packed)).toBe(0.7);
      expect([reader.numeric(0), reader.numeric(1), reader.nextCategorical()]).toEqual([12.5, NaN, 'PL']);
      expect({ ...j, seq: 0 }).toEqual({ ...pred('json', { ts: T0 + 1 }), seq: 0, label: null, labelTs: null });
      // another feature list: every row as its JSON record; the JSON stays the source of truth
      const other = packLayout([...features, { name: 'new', type: 'numeric' }]);
      const again = await store.windowPage('m', { fromTs: T0, maxSeq: await store.lastPredictionSeq(), limit: 10, layout: other });
      expect(again.map(isPacked)).toEqual([false, false]);
      expect(again[0]).toMatchObject({ features: packedRec.features, score: packedRec.score });
      expect(await store.getPrediction('m', 'packed')).toEqual({ ...packedRec, receivedAt: T0, label: { id: 'packed', ts: T0 + 2, label: '0' } });
      await store.close();
    });

    it('keeps baselines per model, newest first, with a generation number', async () => {
      const { store } = await factory();
      expect(await store.baselineGeneration()).toBe(0);
      const b1 = await store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'file:a.csv', rows: 10, summary: '{"a":1}' });
      const b2 = await store.saveBaseline({ model: 'm', version: 'v2', createdAt: T0 + 1, source: 'api', rows: 20, summary: '{"b":2}' });
      await store.saveBaseline({ model: 'n', version: 'v1', createdAt: T0, source: 'api', rows: 1, summary: '{}' });
      expect((await store.listBaselines('m')).map((b) => [b.id, b.version, b.summary])).toEqual([[b2.id, 'v2', '{"b":2}'], [b1.id, 'v1', '{"a":1}']]);
      expect(await store.baselineGeneration()).toBeGreaterThan(b2.id);
      const meta = await store.saveBaseline({ model: 'q', version: 'v1', createdAt: T0, source: 'api', rows: 5, summary: JSON.stringify({ features: { a: {}, b: {} }, quality: { accuracy: 0.9 } }) });
      expect(await store.listBaselineMeta('q')).toEqual([{ id: meta.id, model: 'q', version: 'v1', createdAt: T0, source: 'api', rows: 5, features: ['a', 'b'], quality: { accuracy: 0.9 } }]);
      await store.close();
    });

    it('keeps one baseline per model version: a second is refused (409) unless replaced, atomically', async () => {
      const { store } = await factory();
      const f = (x: number[]): ReferenceValues => ({ kind: 'feature', name: 'x', sorted: Float64Array.from(x) });
      const first = await store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 2, summary: '{"first":true}' }, [f([1, 2])]);
      expect(first.replaced).toEqual([]);
      const other = await store.saveBaseline({ model: 'm', version: 'v2', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, [f([5])]);
      await store.saveBaseline({ model: 'n', version: 'v1', createdAt: T0, source: 'api', rows: 1, summary: '{}' }); // another model: its own versions
      const generation = await store.baselineGeneration();

      await expect(store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0 + 1, source: 'api', rows: 3, summary: '{"second":true}' }, [f([7, 8, 9])])).rejects.toMatchObject({
        code: 'VIGIL_ERR_BASELINE_EXISTS',
        statusCode: 409,
        details: { model: 'm', version: 'v1', ids: [first.id] },
      });
      expect(await store.baselineGeneration()).toBe(generation); // nothing stored
      expect((await store.listBaselines('m')).map((b) => b.id)).toEqual([other.id, first.id]);

      const second = await store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0 + 1, source: 'file:b.csv', rows: 3, summary: '{"second":true}' }, [f([7, 8, 9])], { replace: true });
      expect(second.replaced).toEqual([first.id]);
      expect(second.id).toBeGreaterThan(generation);
      expect(await store.baselineGeneration()).toBe(second.id);
      expect((await store.listBaselines('m')).map((b) => [b.id, b.version, b.summary])).toEqual([[second.id, 'v1', '{"second":true}'], [other.id, 'v2', '{}']]);
      // the old one's reference values went with it; the new one has its own
      expect(await store.readBaselineReferences(first.id, () => undefined)).toBe(0);
      const values: number[][] = [];
      await store.readBaselineReferences(second.id, (_k, _n, v) => values.push(Array.from(v)));
      expect(values).toEqual([[7, 8, 9]]);
      // replace on a version without a baseline simply stores it
      expect((await store.saveBaseline({ model: 'm', version: 'v3', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, [], { replace: true })).replaced).toEqual([]);
      // a refused replacement (bad reference values) keeps the old baseline
      await expect(store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, [f([2, 1])], { replace: true })).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_BAD_REFERENCE' });
      expect((await store.listBaselines('m')).find((b) => b.version === 'v1')?.id).toBe(second.id);
      await store.close();
    });

    it('keeps a baseline\'s reference values as exact float64 values, read into the caller\'s memory', async () => {
      const { store } = await factory();
      const extremes = new Float64Array([-Number.MAX_VALUE, -1e-300, -0, 0, Number.MIN_VALUE, 2 ** -1074 * 3, 1 / 3, 1, 1, 2 ** 53 + 2, Number.MAX_VALUE]);
      const big = Float64Array.from({ length: 32_000 }, (_, i) => (i - 16_000) * 1.000001 + 0.1);
      const refs: ReferenceValues[] = [
        { kind: 'feature', name: 'x', sorted: extremes },
        { kind: 'feature', name: 'big', sorted: big },
        { kind: 'feature', name: 'prediction', sorted: new Float64Array([5]) }, // a feature may have any name
        { kind: 'prediction', name: '', sorted: new Float64Array([0.1, 0.9]) },
        { kind: 'label', name: '', sorted: new Float64Array([-2.5, 7]) },
        { kind: 'segment', name: '["web","feature","x"]', sorted: new Float64Array([1, 2]) }, // a segment's (monitors/baseline.ts)
      ];
      const b = await store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 11, summary: '{"small":true}' }, refs);
      const other = await store.saveBaseline({ model: 'm', version: 'v2', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, [{ kind: 'feature', name: 'x', sorted: new Float64Array([9]) }]);
      const read = new Map<string, Float64Array>();
      const order: string[] = [];
      const n = await store.readBaselineReferences(b.id, (kind, name, values) => {
        order.push(`${kind}/${name}`);
        read.set(`${kind}/${name}`, values.slice()); // valid only during the call: copied
      });
      expect(n).toBe(6);
      expect(order).toEqual(['feature/big', 'feature/prediction', 'feature/x', 'label/', 'prediction/', 'segment/["web","feature","x"]']);
      for (const r of refs) {
        const got = read.get(`${r.kind}/${r.name}`) as Float64Array;
        expect(got.length).toBe(r.sorted.length);
        // bit for bit: -0 stays -0, subnormals stay
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(r.sorted.buffer, r.sorted.byteOffset, r.sorted.byteLength))).toBe(true);
      }
      expect(Object.is((read.get('feature/x') as Float64Array)[2], -0)).toBe(true);
      // a smaller reference read after a larger one gets exactly its own values
      const small: number[][] = [];
      expect(await store.readBaselineReferences(other.id, (_k, _n, values) => small.push(Array.from(values)))).toBe(1);
      expect(small).toEqual([[9]]);
      expect(await store.readBaselineReferences(9_999, () => undefined)).toBe(0);
      // an error thrown by the caller stops the read and reaches the caller; the store still works
      await expect(
        store.readBaselineReferences(b.id, () => {
          throw new Error('caller refused');
        }),
      ).rejects.toThrow('caller refused');
      expect(await store.readBaselineReferences(other.id, () => undefined)).toBe(1);
      // the summary stays as small as it was given
      expect((await store.listBaselines('m')).find((x) => x.id === b.id)?.summary).toBe('{"small":true}');
      await store.close();
    });

    it('refuses reference values that are empty, not finite, not ascending or given twice, and then stores nothing', async () => {
      const { store } = await factory();
      const save = (refs: ReferenceValues[]) => store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 1, summary: '{}' }, refs);
      const f = (sorted: number[], name = 'x', kind: ReferenceKind = 'feature'): ReferenceValues => ({ kind, name, sorted: Float64Array.from(sorted) });
      for (const refs of [
        [f([])],
        [f([1, NaN, 3])],
        [f([Number.NEGATIVE_INFINITY, 1])],
        [f([1, Number.POSITIVE_INFINITY])],
        [f([2, 1])],
        [f([1, 2]), f([3, 4])],
        [f([1, 2]), f([1, 2], 'y'), f([3], 'nope', 'label')],
      ]) {
        await expect(save(refs)).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_BAD_REFERENCE' });
      }
      expect(await store.baselineGeneration()).toBe(0);
      expect(await store.listBaselines('m')).toEqual([]);
      const ok = await save([f([1, 1, 2])]); // ties are ascending
      expect(await store.readBaselineReferences(ok.id, () => undefined)).toBe(1);
      await store.close();
    });

    it('keeps reference values across reopen', async () => {
      const h = await factory();
      const sorted = Float64Array.from({ length: 1000 }, (_, i) => Math.sqrt(i) - 10);
      const b = await h.store.saveBaseline({ model: 'm', version: 'v1', createdAt: T0, source: 'api', rows: 1000, summary: '{}' }, [{ kind: 'prediction', name: '', sorted }]);
      const store = h.reopen ? await h.reopen() : h.store;
      let got: Float64Array | undefined;
      await store.readBaselineReferences(b.id, (kind, name, values) => {
        expect([kind, name]).toEqual(['prediction', '']);
        got = values.slice();
      });
      expect(Array.from(got ?? [])).toEqual(Array.from(sorted));
      await store.close();
    });

    it('keeps silences: create, update, list the live ones, expire', async () => {
      const h = await factory();
      const s1 = { id: 's1', matchers: ['model="fraud"'], startsAt: T0, endsAt: T0 + 1000, createdBy: 'ops', comment: 'deploy', createdAt: T0 };
      await h.store.saveSilence(s1);
      await h.store.saveSilence({ ...s1, id: 's2', endsAt: T0 + 10, createdAt: T0 + 1 });
      expect((await h.store.listSilences(T0 + 20)).map((s) => s.id)).toEqual(['s1']);
      await h.store.saveSilence({ ...s1, comment: 'longer', endsAt: T0 + 5000 });
      expect((await h.store.listSilences()).map((s) => [s.id, s.comment])).toEqual([['s1', 'longer'], ['s2', 'deploy']]);
      expect(await h.store.expireSilence('s1', T0 + 100)).toBe(true);
      expect(await h.store.expireSilence('nope', T0 + 100)).toBe(false);
      expect((await h.store.listSilences(T0 + 100)).map((s) => s.id)).toEqual([]);
      const all = await h.store.listSilences();
      expect(all.find((s) => s.id === 's1')).toMatchObject({ endsAt: T0 + 100, matchers: ['model="fraud"'] });
      await h.store.close();
    });

    it('keeps the notification outbox across reopen', async () => {
      const h = await factory();
      await h.store.saveOutbox({ id: 'n2', receiver: 'slack', payload: '{"b":2}', attempts: 0, nextAttemptAt: T0 + 5, createdAt: T0 + 1 });
      await h.store.saveOutbox({ id: 'n1', receiver: 'hook', payload: '{"a":1}', attempts: 1, nextAttemptAt: T0 + 9, createdAt: T0 });
      await h.store.saveOutbox({ id: 'n2', receiver: 'slack', payload: '{"b":2}', attempts: 3, nextAttemptAt: T0 + 9, createdAt: T0 + 1 });
      await h.store.deleteOutbox('missing');
      const store = h.reopen ? await h.reopen() : h.store;
      expect((await store.listOutbox()).map((e) => [e.id, e.attempts])).toEqual([['n1', 1], ['n2', 3]]);
      await store.deleteOutbox('n1');
      expect((await store.listOutbox()).map((e) => e.id)).toEqual(['n2']);
      await store.close();
    });

    it('writes outbox entries in one transaction: saves and deletes together', async () => {
      const h = await factory();
      const e = (id: string, attempts = 0) => ({ id, receiver: 'am', payload: `{"id":"${id}"}`, attempts, nextAttemptAt: T0, createdAt: T0 });
      await h.store.writeOutbox([e('a'), e('b'), e('c')], []);
      await h.store.writeOutbox([e('b', 2), e('d')], ['a', 'missing']);
      await h.store.writeOutbox([], []);
      // A failing statement rolls the whole write back (an entry with a NULL receiver violates NOT NULL).
      await expect(h.store.writeOutbox([e('e'), { ...e('f'), receiver: null as unknown as string }], ['b'])).rejects.toThrow();
      const store = h.reopen ? await h.reopen() : h.store;
      expect((await store.listOutbox()).map((x) => [x.id, x.attempts])).toEqual([['b', 2], ['c', 0], ['d', 0]]);
      await store.close();
    });

    it('keys ids per model', async () => {
      const { store } = await factory();
      await store.insertPredictions('m1', [pred('same')], T0);
      const r = await store.insertPredictions('m2', [pred('same')], T0);
      expect(r.inserted).toBe(1);
      await store.close();
    });

    it('joins labels that arrive before or after their prediction', async () => {
      const { store } = await factory();
      await store.insertLabels('m', [{ id: 'early', ts: T0, label: '0' }], T0);
      await store.insertPredictions('m', [pred('early'), pred('late'), pred('never')], T0 + 10);
      await store.insertLabels('m', [{ id: 'late', ts: T0 + 86_400_000, label: '1' }], T0 + 86_400_000);
      expect((await store.getPrediction('m', 'early'))?.label?.label).toBe('0');
      expect((await store.getPrediction('m', 'late'))?.label?.label).toBe('1');
      expect((await store.getPrediction('m', 'never'))?.label).toBeNull();
      const c = await store.modelCounts('m');
      expect(c).toMatchObject({ predictions: 3, labels: 2, labeledPredictions: 2, lastLabelTs: T0 + 86_400_000, lastPredictionTs: T0 });
      await store.close();
    });

    it('counts per version with first and last event time', async () => {
      const { store } = await factory();
      await store.insertPredictions('m', [pred('1', { ts: T0 }), pred('2', { ts: T0 + 100, version: 'v2' }), pred('3', { ts: T0 + 50 })], T0);
      const c = await store.modelCounts('m');
      expect(c.versions).toEqual([
        { version: 'v1', predictions: 2, firstTs: T0, lastTs: T0 + 50 },
        { version: 'v2', predictions: 1, firstTs: T0 + 100, lastTs: T0 + 100 },
      ]);
      expect(c.lastPredictionTs).toBe(T0 + 100);
      const empty = await store.modelCounts('none');
      expect(empty).toEqual({ predictions: 0, labels: 0, labeledPredictions: 0, versions: [], lastPredictionTs: null, lastLabelTs: null });
      await store.close();
    });

    it('is atomic per batch and handles 25,000 rows in one call', async () => {
      const { store } = await factory();
      const batch = Array.from({ length: 25_000 }, (_, i) => pred(`id-${i}`, { ts: T0 + i }));
      expect((await store.insertPredictions('big', batch, T0)).inserted).toBe(25_000);
      expect((await store.modelCounts('big')).predictions).toBe(25_000);
      await store.close();
    });

    it('prunes rows older than the cut-off, across models, and keeps the rest', async () => {
      const { store } = await factory();
      const old = Array.from({ length: 12_345 }, (_, i) => pred(`old-${i}`, { ts: T0 - 1 - i }));
      await store.insertPredictions('m', [...old, pred('new', { ts: T0 })], T0);
      await store.insertPredictions('n', [pred('old', { ts: T0 - 5 }), pred('new', { ts: T0 + 5 })], T0);
      await store.insertLabels('m', [{ id: 'old-1', ts: T0 - 2, label: '1' }, { id: 'new', ts: T0, label: '0' }], T0);
      const r = await store.prune(T0);
      expect(r).toEqual({ predictions: 12_346, labels: 1 });
      expect((await store.modelCounts('m')).predictions).toBe(1);
      expect((await store.modelCounts('n')).predictions).toBe(1);
      expect(await store.getPrediction('m', 'new')).toBeDefined();
      expect(await store.prune(T0)).toEqual({ predictions: 0, labels: 0 });
      await store.close();
    });

    it('keeps small durable state', async () => {
      const h = await factory();
      expect(await h.store.getState('k')).toBeUndefined();
      await h.store.setState('k', 'v1', T0);
      await h.store.setState('k', 'v2', T0 + 1);
      expect(await h.store.getState('k')).toBe('v2');
      if (h.reopen) {
        const again = await h.reopen();
        expect(await again.getState('k')).toBe('v2');
        await again.close();
      } else await h.store.close();
    });

    it('keeps the rule history: series dictionary, appends in time order (merged per time), pruned and deleted', async () => {
      const h = await factory();
      const bytes = (...b: number[]) => new Uint8Array(b);
      await h.store.writeRuleHistory({
        series: [
          { id: 1, labels: '[["__name__","a"]]', writer: '' },
          { id: 2, labels: '[["__name__","b"]]', writer: 'rec' },
        ],
        deletedSeries: [],
        appends: [
          { t: T0 + 60_000, data: bytes(3, 4) },
          { t: T0, data: bytes(1, 2) },
        ],
        pruneBefore: T0,
      });
      // a second write for a time already stored appends to it; an empty append writes nothing
      await h.store.writeRuleHistory({ series: [], deletedSeries: [], appends: [{ t: T0 + 60_000, data: bytes(5) }, { t: T0 + 120_000, data: bytes() }], pruneBefore: T0 });
      expect(await h.store.readRuleHistory()).toEqual({
        series: [
          { id: 1, labels: '[["__name__","a"]]', writer: '' },
          { id: 2, labels: '[["__name__","b"]]', writer: 'rec' },
        ],
        appends: [
          { t: T0, data: bytes(1, 2) },
          { t: T0 + 60_000, data: bytes(3, 4, 5) },
        ],
      });
      await h.store.writeRuleHistory({ series: [{ id: 3, labels: '[]', writer: '' }], deletedSeries: [2, 99], appends: [], pruneBefore: T0 + 1 });
      const check = async (s: Store) =>
        expect(await s.readRuleHistory()).toEqual({
          series: [
            { id: 1, labels: '[["__name__","a"]]', writer: '' },
            { id: 3, labels: '[]', writer: '' },
          ],
          appends: [{ t: T0 + 60_000, data: bytes(3, 4, 5) }],
        });
      await check(h.store);
      if (h.reopen) {
        const again = await h.reopen();
        await check(again);
        await again.close();
      } else await h.store.close();
    });

    it('sums SLO minutes per SLO and minute, reads them in order from a minute, prunes before one', async () => {
      const h = await factory();
      await h.store.addSloMinutes([
        { slo: 'm-a', minute: 10, good: 3, total: 4 },
        { slo: 'm-a', minute: 12, good: 1, total: 1 },
        { slo: 'm-b', minute: 10, good: 0, total: 2 },
      ]);
      await h.store.addSloMinutes([{ slo: 'm-a', minute: 10, good: 0.5, total: 1 }]);
      await h.store.addSloMinutes([]);
      expect(await h.store.readSloMinutes('m-a', 0)).toEqual([
        { slo: 'm-a', minute: 10, good: 3.5, total: 5 },
        { slo: 'm-a', minute: 12, good: 1, total: 1 },
      ]);
      expect(await h.store.readSloMinutes('m-a', 11)).toEqual([{ slo: 'm-a', minute: 12, good: 1, total: 1 }]);
      await h.store.addSloMinutes([{ slo: 'm-a', minute: 130, good: 2, total: 2 }, { slo: 'm-a', minute: 179, good: 1, total: 3 }, { slo: 'm-a', minute: 180, good: 9, total: 9 }]);
      expect(await h.store.readSloHours('m-a', 0, 180)).toEqual([
        { hour: 0, good: 4.5, total: 6 },
        { hour: 2, good: 3, total: 5 },
      ]);
      expect(await h.store.readSloHours('m-a', 11, 131)).toEqual([{ hour: 0, good: 1, total: 1 }, { hour: 2, good: 2, total: 2 }]);
      await h.store.pruneSloMinutes(13);
      await h.store.pruneSloMinutes(0);
      expect(await h.store.pruneSloMinutes(131)).toBe(1);
      const check = async (s: Store) => expect(await s.readSloMinutes('m-a', 0)).toEqual([{ slo: 'm-a', minute: 179, good: 1, total: 3 }, { slo: 'm-a', minute: 180, good: 9, total: 9 }]);
      await check(h.store);
      if (h.reopen) {
        const again = await h.reopen();
        await check(again);
        await again.close();
      } else await h.store.close();
    });

    it('looks up the predictions of label ids', async () => {
      const { store } = await factory();
      await store.insertPredictions('m', [pred('a', { prediction: '1', segment: 'eu' }), pred('b', { prediction: 0 })], T0);
      expect(await store.predictionTargets('m', ['b', 'zz', 'a'])).toEqual([{ prediction: 0, segment: null }, undefined, { prediction: '1', segment: 'eu' }]);
      expect(await store.predictionTargets('other', ['a'])).toEqual([undefined]);
      await store.close();
    });

    it('refuses work once closed and reports it', async () => {
      const { store } = await factory();
      expect(store.healthy()).toBe(true);
      await store.close();
      expect(store.healthy()).toBe(false);
      await expect(store.insertPredictions('m', [pred('a')], T0)).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_CLOSED' });
      await store.close(); // closing twice is harmless
    });

    it('keeps every row across close and reopen', async () => {
      const h = await factory();
      if (!h.reopen) return void (await h.store.close());
      await h.store.insertPredictions('m', [pred('a'), pred('b')], T0);
      await h.store.insertLabels('m', [{ id: 'a', ts: T0, label: '1' }], T0);
      const again = await h.reopen();
      expect(await again.modelCounts('m')).toMatchObject({ predictions: 2, labels: 1, labeledPredictions: 1 });
      expect((await again.getPrediction('m', 'b'))?.features).toEqual(pred('b').features);
      await again.close();
    });

    it('keeps incidents and filters them by model, status, time, action and outcome', async () => {
      const h = await factory();
      const store = h.store;
      await store.saveIncident(incident('i1'));
      await store.saveIncident(incident('i2', { model: 'churn', fingerprint: 'fp2', firedAt: T0 + 10 }));
      await store.saveIncident(incident('i1', { status: 'resolved', resolvedAt: T0 + 5 })); // update in place
      await store.saveAction(action('a1', { incidentId: 'i1', status: 'succeeded', idempotencyKey: 'i1/rollback' }));
      await store.saveAction(action('a2', { incidentId: 'i2', action: 'breaker', type: 'circuit_breaker', status: 'skipped' }));
      expect(await store.getIncident('i1')).toEqual(incident('i1', { status: 'resolved', resolvedAt: T0 + 5 }));
      expect((await store.listIncidents({})).map((i) => i.id)).toEqual(['i2', 'i1']);
      expect((await store.listIncidents({ model: 'fraud' })).map((i) => i.id)).toEqual(['i1']);
      expect((await store.listIncidents({ status: 'open' })).map((i) => i.id)).toEqual(['i2']);
      expect((await store.listIncidents({ since: T0 + 1 })).map((i) => i.id)).toEqual(['i2']);
      expect((await store.listIncidents({ until: T0 + 1 })).map((i) => i.id)).toEqual(['i1']);
      expect((await store.listIncidents({ action: 'rollback' })).map((i) => i.id)).toEqual(['i1']);
      expect((await store.listIncidents({ outcome: 'skipped' })).map((i) => i.id)).toEqual(['i2']);
      expect((await store.listIncidents({ action: 'rollback', outcome: 'skipped' })).map((i) => i.id)).toEqual([]);
      expect((await store.listIncidents({ limit: 1 })).map((i) => i.id)).toEqual(['i2']);
      expect(await store.getIncident('nope')).toBeUndefined();
      await store.close();
    });

    it('keeps action records, updates them in place and never lets two share an idempotency key', async () => {
      const h = await factory();
      const store = h.store;
      const a = action('a1', { status: 'running', idempotencyKey: 'i1/rollback', plan: { from: '3', to: '2' }, startedAt: T0 });
      await store.saveAction(a);
      await store.saveAction({ ...a, status: 'succeeded', endedAt: T0 + 9, attempts: 2, details: { verified: true }, updatedAt: T0 + 9 });
      await store.saveAction(action('a2', { createdAt: T0 + 1, reason: 'silenced' }));
      await expect(store.saveAction(action('a3', { idempotencyKey: 'i1/rollback' }))).rejects.toMatchObject({ code: 'VIGIL_ERR_STORE_CONFLICT' });
      expect(await store.getAction('a1')).toEqual({ ...a, status: 'succeeded', endedAt: T0 + 9, attempts: 2, details: { verified: true }, updatedAt: T0 + 9 });
      expect((await store.listActions({})).map((x) => x.id)).toEqual(['a2', 'a1']);
      expect((await store.listActions({ status: 'succeeded' })).map((x) => x.id)).toEqual(['a1']);
      expect((await store.listActions({ incidentId: 'i1', model: 'fraud', action: 'rollback', since: T0, until: T0 + 1 })).map((x) => x.id)).toEqual(['a1']);
      expect(await store.listActions({ model: 'churn' })).toEqual([]);
      expect((await store.listActions({ incidentIds: ['i1', 'nope'] })).map((x) => x.id)).toEqual(['a2', 'a1']);
      expect(await store.listActions({ incidentIds: [] })).toEqual([]);
      await store.close();
    });

    it('prunes resolved incidents older than the cut-off with their action records, never open ones', async () => {
      const { store } = await factory();
      await store.saveIncident(incident('old', { status: 'resolved', resolvedAt: T0 - 10 }));
      await store.saveIncident(incident('recent', { fingerprint: 'fp-r', status: 'resolved', resolvedAt: T0 + 10 }));
      await store.saveIncident(incident('open', { fingerprint: 'fp-o', firedAt: T0 - 1_000_000 }));
      await store.saveAction(action('a-old', { incidentId: 'old', idempotencyKey: 'old/rollback', status: 'succeeded' }));
      await store.saveAction(action('a-old-skip', { incidentId: 'old' }));
      await store.saveAction(action('a-open', { incidentId: 'open' }));
      await store.saveAction(action('a-recent', { incidentId: 'recent' }));
      expect(await store.pruneIncidents(T0)).toEqual({ incidents: 1, actions: 2 });
      expect((await store.listIncidents({})).map((i) => i.id).sort()).toEqual(['open', 'recent']);
      expect((await store.listActions({})).map((a) => a.id).sort()).toEqual(['a-open', 'a-recent']);
      expect(await store.pruneIncidents(T0)).toEqual({ incidents: 0, actions: 0 });
      await store.close();
    });

    it('keeps circuit breakers across reopen', async () => {
      const h = await factory();
      const c = { model: 'fraud', state: 'half_open' as const, since: T0, reason: 'MLAccuracyDrop resolved', incidentId: 'i1', probeUntil: T0 + 600_000, manual: false, generation: 3 };
      await h.store.saveCircuit(c);
      await h.store.saveCircuit({ model: 'churn', state: 'open', since: T0, reason: 'admin', incidentId: null, probeUntil: null, manual: true, generation: 1 });
      const s = h.reopen ? await h.reopen() : h.store;
      expect(await s.listCircuits()).toEqual([{ model: 'churn', state: 'open', since: T0, reason: 'admin', incidentId: null, probeUntil: null, manual: true, generation: 1 }, c]);
      await s.close();
    });
  });
}
