import type { ModelConfig, VigilConfig } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { IngestListener } from '../ingest/ingestor.js';
import type { Sample } from '../metrics/snapshot.js';
import { PackedReader } from '../store/packed.js';
import { isPacked, type BaselineRecord, type LabelRecord, type PredictionRecord, type Store } from '../store/store.js';
import { loadBaseline, type LoadedBaseline } from './baseline.js';
import { ComputePool, type ComputePoolOptions } from './compute-pool.js';
import { computeWindowSamples } from './compute.js';
import { freshnessMonitor } from './data-quality.js';
import { estimateTrust } from './estimate.js';
import { DriftPool, type DriftPoolOptions } from './drift-pool.js';
import { Scratch } from './scratch.js';
import { emitSegmentCardinality, planSegments, type SegmentPlan } from './segments.js';
import type { Emit, WindowView } from './view.js';
import { ModelWindow, needsRawValues, SEGMENT_CODES } from './window.js';

export { MONITORS } from './compute.js';

interface Held {
  w: ModelWindow;
  key: string;
}

/**
 * What ingestion stores while a model's window is rebuilt. The scan reads the rows stored before
 * it began (sequence <= maxSeq, read when it begins); every prediction stored after that has a
 * higher sequence and is told to the engine after its commit, so it is kept here and appended
 * when the scan is done — predictions told here with a sequence <= maxSeq (committed before the
 * scan began, told after) are in the scan and skipped. Labels told during the rebuild are applied
 * again after it (setting the same label twice is harmless; the scan may have missed it).
 */
interface CatchUp {
  maxSeq: number;
  records: PredictionRecord[];
  seqs: number[];
  labels: { seq: number | undefined; label: LabelRecord }[];
}

/** A progress line at most this often while one model's window loads. */
const PROGRESS_EVERY_MS = 5_000;

/** Lets timers, I/O and requests run (after the current ones), then goes on. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How long a cycle computes before it lets the event loop run (see cycleSliceMs). */
export const CYCLE_SLICE_MS = 10;

/** A function that yields to the event loop when `sliceMs` has passed since it last did. */
function slicer(sliceMs: number): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < sliceMs) return;
    await yieldToEventLoop();
    last = performance.now();
  };
}

const windowKey = (m: ModelConfig): string =>
  JSON.stringify([m.task, m.features, m.classes ?? null, m.positive_class ?? null, Math.max(...m.windows), needsRawValues(m), m.drift.reference_points, m.segments !== undefined]);

/** The versions of the rows in a window. */
function presentVersions(w: ModelWindow): string[] {
  const seen = new Uint8Array(w.versions.values.length);
  for (let i = 0; i < w.n; i++) seen[w.version[i] as number] = 1;
  return w.versions.values.filter((_, c) => seen[c] === 1);
}

/** Baseline ids of a window's coding (0: none). */
const idOf = (b: LoadedBaseline | undefined): number => b?.record.id ?? 0;

/**
 * Holds every model's hot window (rebuilt from the store at start-up, then fed by ingestion) and
 * computes every monitor for every model and window into samples for the cycle's snapshot.
 */
export class MonitorEngine implements IngestListener {
  private readonly held = new Map<string, Held>();
  /** Per model: the rebuilds running (what ingestion stores meanwhile reaches them). */
  private readonly catchingUp = new Map<string, CatchUp[]>();
  /** Per model: its usable baselines, newest first, and the baseline generation they were loaded at. */
  private readonly baselines = new Map<string, LoadedBaseline[]>();
  private readonly loadedAt = new Map<string, { gen: number; points: number }>();
  /** Per model: the samples of its last computation and when (for per-model evaluation intervals). */
  private readonly lastSamples = new Map<string, { at: number; samples: Sample[] }>();
  private readonly log: Logger;
  /** Monitor failures since start, by monitor (exported as vigil_cycle_stage_errors_total). */
  readonly failures = new Map<string, number>();

  /** The drift worker (null: drift on the main thread only). */
  readonly driftPool: DriftPool | null;
  /** The block size the last cycle's scratch needed (each cycle takes its own Scratch, see scratch.ts). */
  private scratchBytes = 0;
  /** The models whose cycle is running, and the labels that arrived meanwhile (applied at its end). */
  private readonly computing = new Map<string, { w: ModelWindow; seq: number | undefined; label: LabelRecord }[]>();
  /** The compute workers (null: cycles on the main thread, in slices). */
  readonly computePool: ComputePool | null;
  /** Main-thread computations one after the other (they share the cycle's scratch). */
  private mainChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      store: Store;
      logger: Logger;
      onMonitorError?: (monitor: string) => void;
      /** The drift worker thread: options, or false for none (default: one worker, used for large windows). */
      driftWorker?: DriftPoolOptions | false;
      /** Rows per page of a rebuild (default: about 32,000 values, from the model's feature count). */
      rebuildPageRows?: number;
      /**
       * A cycle yields to the event loop once this long has passed since it last did (default
       * CYCLE_SLICE_MS), between models, windows, monitors and the steps of a monitor (drift and
       * data-quality features): requests are answered and ingestion goes on while it runs; the
       * labels that arrive meanwhile wait for the end of their model's computation. Infinity: never.
       */
      cycleSliceMs?: number;
      /**
       * The compute workers: each model's windows computed in a worker thread while the main thread
       * ingests and serves (compute-pool.ts); false or absent: on the main thread, in slices.
       */
      compute?: ComputePoolOptions | false;
    },
  ) {
    this.log = deps.logger.child({ component: 'monitors' });
    this.driftPool = deps.driftWorker === false ? null : new DriftPool(this.log, deps.driftWorker ?? {});
    this.computePool = deps.compute === undefined || deps.compute === false ? null : new ComputePool(this.log, deps.compute);
  }

  /** Terminates the compute and drift workers (shutdown). */
  async close(): Promise<void> {
    await Promise.all([this.driftPool?.close(), this.computePool?.close()]);
  }

  /**
   * Rebuilds the hot window of a model from the store, its numeric values coded against the
   * baselines drift can use for the versions in it (a second pass when the rows show versions
   * whose baseline was not expected). Yields to the event loop between pages of rows (see scan);
   * what is ingested meanwhile reaches the new window exactly once (see CatchUp).
   */
  async rebuild(model: ModelConfig, now: number): Promise<ModelWindow> {
    const w = await this.rebuildUnless(model, now, () => false);
    if (w === null) throw new Error('a rebuild without a stop condition stopped'); // cannot happen
    return w;
  }

  /** rebuild(), or null when `stop` said to stop between two pages (the model keeps the window it had, if any). */
  private async rebuildUnless(model: ModelConfig, now: number, stop: () => boolean): Promise<ModelWindow | null> {
    const catchUp: CatchUp = { maxSeq: 0, records: [], seqs: [], labels: [] };
    const list = this.catchingUp.get(model.name) ?? [];
    list.push(catchUp);
    this.catchingUp.set(model.name, list);
    try {
      await this.loadBaselines([model]);
      const t0 = performance.now();
      const before = this.held.get(model.name)?.w;
      let coding = this.codingFor(model.name, before === undefined ? [] : presentVersions(before));
      let scanned = await this.scan(model, now, coding, catchUp, stop);
      if (scanned === null) return null;
      const needed = this.codingFor(model.name, presentVersions(scanned.w));
      if (needed.some((b) => !coding.includes(b))) {
        coding = needed;
        scanned = await this.scan(model, now, coding, catchUp, stop);
        if (scanned === null) return null;
      }
      // Synchronously from here: what was ingested during the scan (stored after it began), then
      // the window is held, and ingestion appends to it directly.
      const w = scanned.w;
      const late = catchUp.seqs.flatMap((seq, k) => (seq > catchUp.maxSeq ? [k] : []));
      w.append(
        late.map((k) => catchUp.records[k] as PredictionRecord),
        late.map((k) => catchUp.seqs[k] as number),
      );
      w.sortBySeq(); // the store gives them in event-time order
      for (const { seq, label } of catchUp.labels) this.applyLabel(w, seq, label);
      this.held.set(model.name, { w, key: windowKey(model) });
      const ms = performance.now() - t0;
      this.log.info(
        {
          model: model.name,
          rows: w.n,
          packed: scanned.packed,
          json: scanned.json,
          ingested: late.length,
          ms: Math.round(ms),
          rowsPerSecond: Math.round(w.n / Math.max(ms / 1000, 1e-3)),
          horizon: formatDuration(Math.max(...model.windows)),
          baselines: w.coding,
        },
        'hot window loaded',
      );
      return w;
    } finally {
      const rest = (this.catchingUp.get(model.name) ?? []).filter((c) => c !== catchUp);
      if (rest.length === 0) this.catchingUp.delete(model.name);
      else this.catchingUp.set(model.name, rest);
    }
  }

  /**
   * The baselines a window of these versions must be coded against: each version's baseline (the
   * model's newest when there is no version yet). Empty when the model has none.
   */
  private codingFor(model: string, versions: readonly string[]): LoadedBaseline[] {
    const out = new Set<LoadedBaseline>();
    if (versions.length === 0) {
      const newest = this.baselinesOf(model)[0];
      if (newest !== undefined) out.add(newest);
    }
    for (const v of versions) {
      const b = this.baselineFor(model, v);
      if (b !== undefined) out.add(b);
    }
    return [...out].sort((a, b) => b.record.id - a.record.id);
  }

  /**
   * Reads a model's stored rows into a new window, a page at a time (each page its own query), and
   * yields to the event loop after each page: requests are answered and ingestion stores rows
   * meanwhile. Only rows stored before the scan began are read (sequence <= catchUp.maxSeq): the
   * later ones reach the rebuild through ingestion (CatchUp). Rows packed with the model's
   * layout are read from their bytes, the others (stored before the packed form, or for another
   * feature list) from their JSON. Null when `stop` says to stop.
   */
  private async scan(model: ModelConfig, now: number, coding: readonly LoadedBaseline[], catchUp: CatchUp, stop: () => boolean): Promise<{ w: ModelWindow; packed: number; json: number } | null> {
    const w = new ModelWindow(model, coding);
    w.beginBulk(); // numeric values coded 8,192 rows at a time, across pages
    const reader = new PackedReader(w.layout);
    catchUp.maxSeq = await this.deps.store.lastPredictionSeq();
    const fromTs = now - Math.max(...model.windows);
    // about 32,000 values a page (~440 rows of 70 features): read and coded in ~5-10 ms of CPU, so
    // a request waits far less than 50 ms even on a busy machine (and the page's rows die young)
    const limit = this.deps.rebuildPageRows ?? Math.max(64, Math.min(4_096, Math.floor(32_768 / (model.features.length + 4))));
    let after: { ts: number; seq: number } | undefined;
    let packed = 0;
    let json = 0;
    let progressAt = performance.now();
    for (;;) {
      if (stop()) return null;
      const rows = await this.deps.store.windowPage(model.name, { fromTs, maxSeq: catchUp.maxSeq, limit, layout: w.layout, ...(after === undefined ? {} : { after }) });
      w.appendPage(rows, reader);
      for (const r of rows) if (isPacked(r)) packed++;
      json = w.n - packed;
      const last = rows[rows.length - 1];
      if (rows.length < limit || last === undefined) break;
      after = { ts: last.ts, seq: last.seq };
      if (performance.now() - progressAt >= PROGRESS_EVERY_MS) {
        progressAt = performance.now();
        this.log.info({ model: model.name, rows: w.n }, 'loading the hot window');
      }
      await yieldToEventLoop();
    }
    w.endBulk();
    return { w, packed, json };
  }

  /**
   * Loads every configured model's window (start-up), one model after the other; each rebuild
   * yields to the event loop between pages of rows, so requests are served and ingestion goes on
   * meanwhile (what is stored during a model's rebuild reaches its window exactly once, see
   * CatchUp). `stop` is asked between pages: when it says so (the daemon is stopping), the
   * loading ends there and the remaining models are not loaded.
   */
  async load(config: VigilConfig, now: number, stop: () => boolean = () => false): Promise<void> {
    const t0 = performance.now();
    let rows = 0;
    for (const m of config.models) {
      if (stop()) return;
      const w = await this.rebuildUnless(m, now, stop);
      if (w === null) return;
      rows += w.n;
      await yieldToEventLoop();
    }
    const ms = performance.now() - t0;
    this.log.info({ models: config.models.length, rows, ms: Math.round(ms), rowsPerSecond: Math.round(rows / Math.max(ms / 1000, 1e-3)) }, 'hot windows loaded');
  }

  window(model: string): ModelWindow | undefined {
    return this.held.get(model)?.w;
  }

  predictions(model: ModelConfig, records: readonly PredictionRecord[], seqs: readonly number[]): void {
    for (const c of this.catchingUp.get(model.name) ?? []) {
      for (let i = 0; i < records.length; i++) {
        c.records.push(records[i] as PredictionRecord);
        c.seqs.push(seqs[i] as number);
      }
    }
    const h = this.held.get(model.name);
    if (h === undefined || h.key !== windowKey(model)) return; // rebuilt from the store at the next cycle
    h.w.append(records, seqs);
  }

  async labels(model: ModelConfig, records: readonly LabelRecord[]): Promise<void> {
    if (this.held.get(model.name) === undefined && !this.catchingUp.has(model.name)) return;
    const seqs = await this.deps.store.predictionSeqs(
      model.name,
      records.map((r) => r.id),
    );
    // after the lookup: the window held now, and the rebuilds running now
    for (const c of this.catchingUp.get(model.name) ?? []) records.forEach((label, i) => c.labels.push({ seq: seqs[i], label }));
    const h = this.held.get(model.name);
    if (h === undefined) return;
    // the model's cycle is running (it yields between monitors): its labels wait for its end, so
    // that every monitor of the cycle sees the same labels
    const deferred = this.computing.get(model.name);
    if (deferred !== undefined) records.forEach((label, i) => deferred.push({ w: h.w, seq: seqs[i], label }));
    else records.forEach((label, i) => this.applyLabel(h.w, seqs[i], label));
  }

  /** A label into a window: on its prediction's row, or (prediction unknown yet) only its time. */
  private applyLabel(w: ModelWindow, seq: number | undefined, label: LabelRecord): void {
    if (seq === undefined) {
      if (w.lastLabelTs === null || label.ts > w.lastLabelTs) w.lastLabelTs = label.ts; // label before its prediction
    } else w.setLabel(seq, label);
  }

  /**
   * Loads the baselines of these models when the store has new ones (or they were never loaded).
   * Per model, only the newest baseline of each version is kept (no other can be chosen), and a
   * baseline already loaded is reused, never parsed again (windows are coded against its
   * summaries); summaries are read from the store only when there is a new baseline to parse.
   */
  private async loadBaselines(models: readonly ModelConfig[]): Promise<void> {
    const gen = await this.deps.store.baselineGeneration();
    for (const m of models) {
      const points = m.drift.reference_points;
      const at = this.loadedAt.get(m.name);
      if (at?.gen === gen && at.points === points) continue;
      // loaded with another number of reference points: parsed again (and the window rebuilt, windowKey)
      const known = new Map(at?.points === points ? (this.baselines.get(m.name) ?? []).map((b) => [b.record.id, b]) : []);
      let records: Map<number, BaselineRecord> | undefined; // summaries, read only when something is to be parsed
      const loaded: LoadedBaseline[] = [];
      const versions = new Set<string>();
      for (const meta of await this.deps.store.listBaselineMeta(m.name)) {
        if (versions.has(meta.version)) continue; // an older baseline of a version that has a newer one: never used
        let b = known.get(meta.id);
        if (b === undefined) {
          records ??= new Map((await this.deps.store.listBaselines(m.name)).map((r) => [r.id, r]));
          const rec = records.get(meta.id);
          if (rec === undefined) continue;
          try {
            b = await loadBaseline(this.deps.store, rec, points);
          } catch (e) {
            this.log.error({ model: m.name, baseline: rec.id, err: errorMessage(e) }, 'baseline cannot be read; skipped');
            continue;
          }
        }
        versions.add(meta.version);
        loaded.push(b);
      }
      this.baselines.set(m.name, loaded);
      this.loadedAt.set(m.name, { gen, points });
    }
  }

  /** A version's own newest baseline, else the model's newest. */
  baselineFor(model: string, version: string): LoadedBaseline | undefined {
    const list = this.baselines.get(model) ?? [];
    return list.find((b) => b.record.version === version) ?? list[0];
  }

  baselinesOf(model: string): readonly LoadedBaseline[] {
    return this.baselines.get(model) ?? [];
  }

  /**
   * A model's rows of the last `durMs` as its monitors see them (the drift report): the hot window,
   * the baseline of the version serving most recently (the cycle's), arrays from `scratch`.
   * Undefined before the window is loaded. Read it synchronously: ingestion appends meanwhile.
   */
  viewOf(m: ModelConfig, durMs: number, now: number, scratch: Scratch): WindowView | undefined {
    const w = this.held.get(m.name)?.w;
    return w === undefined ? undefined : this.viewAt(m, w, durMs, now, this.currentBaseline(m, w), scratch);
  }

  /** The baseline drift is measured against: the version serving most recently's (the model's newest before any row). */
  private currentBaseline(m: ModelConfig, w: ModelWindow): LoadedBaseline | undefined {
    const current = w.n > 0 ? (w.versions.values[w.version[w.n - 1] as number] as string) : undefined;
    return current === undefined ? this.baselinesOf(m.name)[0] : this.baselineFor(m.name, current);
  }

  /** One window of a model as its monitors see it. */
  private viewAt(m: ModelConfig, w: ModelWindow, durMs: number, now: number, baseline: LoadedBaseline | undefined, scratch: Scratch): WindowView {
    return {
      model: m,
      w,
      window: formatDuration(durMs),
      rows: w.rows(now - durMs, now, (n) => scratch.i32(n)),
      now,
      baseline,
      baselineFor: (version) => this.baselineFor(m.name, version),
      scratch,
    };
  }

  /**
   * Computes every monitor of every model; returns the samples for the snapshot, in the models'
   * order. Each model is prepared on the main thread (its window evicted, rebuilt when its coding
   * changed; freshness and baseline series), then its windows are computed by a compute worker
   * while the next model is prepared — or on the main thread, in slices, without workers or when
   * a worker cannot take it.
   */
  async compute(config: VigilConfig, now: number): Promise<Sample[]> {
    await this.loadBaselines(config.models);
    const configured = new Set(config.models.map((m) => m.name));
    for (const name of [...this.held.keys()]) {
      if (!configured.has(name)) {
        this.held.delete(name); // removed from the configuration: its series disappear
        this.lastSamples.delete(name);
      }
    }
    const pool = this.computePool?.usable === true ? this.computePool : null;
    pool?.retain([...this.baselines.values()].flat());
    // The arrays of each main-thread model-window computation come from one block reused from window to window.
    const scratch = new Scratch(this.scratchBytes);
    const tick = slicer(this.deps.cycleSliceMs ?? CYCLE_SLICE_MS);
    const perModel: Promise<Sample[]>[] = [];
    try {
      for (const m of config.models) {
        await tick();
        perModel.push((await this.startOne(m, now, scratch, tick, pool)).done);
      }
      return (await Promise.all(perModel)).flat();
    } finally {
      await Promise.allSettled(perModel);
      await this.mainChain;
      scratch.drop(); // nothing of it held between cycles
      this.scratchBytes = scratch.blockBytes;
    }
  }

  /**
   * Starts one model's computation: resolves, once it is prepared and handed over, with `done`, a
   * promise of its samples (its last ones while its own evaluation interval has not passed). Never rejects:
   * a failure is counted and logged, and the model has the samples computed before it.
   */
  private async startOne(m: ModelConfig, now: number, scratch: Scratch, tick: () => Promise<void>, pool: ComputePool | null): Promise<{ done: Promise<Sample[]> }> {
    const interval = m.evaluation_interval;
    const last = this.lastSamples.get(m.name);
    if (interval !== undefined && last !== undefined && now - last.at < interval) return { done: Promise.resolve(last.samples) };
    const samples: Sample[] = [];
    const emit: Emit = (name, labels, value) => samples.push({ name, labels, value });
    const deferred: { w: ModelWindow; seq: number | undefined; label: LabelRecord }[] = [];
    this.computing.set(m.name, deferred);
    const finish = (): Sample[] => {
      if (this.computing.get(m.name) === deferred) this.computing.delete(m.name);
      for (const d of deferred) this.applyLabel(d.w, d.seq, d.label);
      this.lastSamples.set(m.name, { at: now, samples });
      return samples;
    };
    let prepared: { w: ModelWindow; baseline: LoadedBaseline | undefined; segments: SegmentPlan | null };
    try {
      prepared = await this.prepareModel(m, now, emit);
    } catch (e) {
      this.failed('model', m.name, e);
      return { done: Promise.resolve(finish()) };
    }
    const { w, baseline, segments } = prepared;
    const onMain = (): Promise<void> => {
      const run = this.mainChain.then(() => this.computeWindowsOnMain(m, w, now, baseline, segments, scratch, emit, tick));
      this.mainChain = run.catch(() => undefined);
      return run;
    };
    if (pool === null) {
      // without workers: one model after the other, as before
      try {
        await onMain();
      } catch (e) {
        this.failed('model', m.name, e);
      }
      return { done: Promise.resolve(finish()) };
    }
    const done = pool
      .run({ model: m, now, wire: w.wire(), baselines: this.baselinesOf(m.name), baseline, segments })
      .then(async (r) => {
        if (r === null) return onMain(); // no worker could take it: here, in slices
        for (const f of r.failures) this.failed(f.monitor, m.name, Object.assign(new Error(f.message), { stack: f.stack }));
        for (const x of r.samples) samples.push(x);
      })
      .catch((e: unknown) => this.failed('model', m.name, e))
      .then(finish);
    return { done };
  }

  private failed(monitor: string, model: string, e: unknown): void {
    this.failures.set(monitor, (this.failures.get(monitor) ?? 0) + 1);
    this.deps.onMonitorError?.(monitor);
    this.log.error({ monitor, model, err: errorMessage(e), stack: e instanceof Error ? e.stack : undefined }, 'monitor failed');
  }

  /**
   * A model's window as of `now`: evicted, rebuilt when it must be coded against other baselines;
   * emits its size, freshness, baseline and segment-cap series. Returns it with the baseline drift
   * is measured against (the current version's) and the cycle's segment plan.
   */
  private async prepareModel(m: ModelConfig, now: number, emit: Emit): Promise<{ w: ModelWindow; baseline: LoadedBaseline | undefined; segments: SegmentPlan | null }> {
    let h = this.held.get(m.name);
    if (h === undefined || h.key !== windowKey(m)) h = { w: await this.rebuild(m, now), key: windowKey(m) };
    let w = h.w;
    const from = now - Math.max(...m.windows);
    w.evict(from);
    // The window must be coded against the baseline of each version in it (drift and data quality
    // read the codes): a new baseline, or a version with its own, means a rebuild from the store.
    const coding = this.codingFor(m.name, presentVersions(w)).map(idOf);
    if (coding.length === 0) coding.push(0);
    if (coding.some((id) => !w.coding.includes(id))) {
      w = await this.rebuild(m, now);
      w.evict(from);
    } else w.retainCoding(new Set(coding));
    // The segment dictionary never shrinks: full of values long evicted, new ones would all be
    // pooled. Rebuilt from the store (live values only) once most of its values are gone.
    let segments = planSegments(m, w);
    if (segments !== null && w.segments.values.length >= SEGMENT_CODES && segments.distinct < SEGMENT_CODES / 2) {
      this.log.info({ model: m.name, values: w.segments.values.length }, 'segment dictionary full of evicted values: rebuilding the hot window');
      w = await this.rebuild(m, now);
      w.evict(from);
      segments = planSegments(m, w);
    }
    emit('vigil_hot_window_rows', { model: m.name }, w.n);
    emit('vigil_hot_window_bytes', { model: m.name }, w.bytes());
    freshnessMonitor(m.name, w, now, emit);

    const baseline = this.currentBaseline(m, w);
    for (const version of w.versions.values) {
      const b = this.baselineFor(m.name, version);
      if (b === undefined) continue;
      emit('vigil_baseline_info', { model: m.name, version, baseline_version: b.record.version, source: b.record.source }, 1);
      for (const [metric, value] of Object.entries(b.quality)) emit('ml_model_quality_baseline', { model: m.name, version, metric }, value);
      if (m.task !== 'regression') estimateTrust(m, version, b, emit);
    }
    if (segments !== null) emitSegmentCardinality(m.name, segments, emit);
    return { w, baseline, segments };
  }

  /** Every window of a model on the main thread, in slices (tick), its samples into `emit`. */
  private async computeWindowsOnMain(
    m: ModelConfig,
    w: ModelWindow,
    now: number,
    baseline: LoadedBaseline | undefined,
    segments: SegmentPlan | null,
    scratch: Scratch,
    emit: Emit,
    tick: () => Promise<void>,
  ): Promise<void> {
    for (const dur of m.windows) {
      await tick();
      try {
        const view = this.viewAt(m, w, dur, now, baseline, scratch);
        const samples = await computeWindowSamples(view, this.driftPool, tick, (monitor, e) => this.failed(monitor, m.name, e), segments);
        for (const x of samples) emit(x.name, x.labels, x.value);
      } finally {
        scratch.release(); // the window's arrays are not read after its monitors
      }
    }
  }
}
