import type { ModelConfig } from '../config/schema.js';
import { positiveClassOf } from '../config/schema.js';
import { CODE_MISSING, codeArrayFor, encodeInto, EMPTY_GRID, gridOf, type CodeArray, type CodeGrid } from '../stats/coded.js';
import type { NumericReferenceSummary } from '../stats/reference.js';
import { CODED_TESTS } from '../stats/drift-decision.js';
import { WORK_SLOT, workF64 } from '../stats/sample.js';
import type { LoadedBaseline } from './baseline.js';
import { growColumn, pagedBuffer } from './columns.js';
import { modelLayout, ownFeature, packedFor, windowScore, type PackedReader, type PackLayout } from '../store/packed.js';
import { isPacked, type FeatureValue, type LabelRecord, type PackedWindowRow, type PredictionRecord, type Target, type WindowPageRow, type WindowRow } from '../store/store.js';

/** A string ↔ small-integer dictionary (versions, classes, categories). */
export class Dictionary {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];
  code(v: string): number {
    let c = this.codes.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.codes.set(v, c);
      this.values.push(v);
    }
    return c;
  }
  lookup(v: string): number | undefined {
    return this.codes.get(v);
  }
}

/** A numeric column coded against one baseline's reference of the feature (stats/coded.ts). */
export interface CodedValues {
  /** the grid the codes refer to (EMPTY_GRID: no numeric reference for the feature) */
  readonly grid: CodeGrid;
  codes: CodeArray;
  /**
   * models[].segments, with a baseline that has segment references for the feature: every row
   * coded again, against its segment's reference (the model's for a segment without one), so a
   * segment's drift and data quality are measured against its own reference. Else null.
   */
  bySegment: SegmentCoded | null;
}

/** A numeric column coded row by row against each row's segment's reference (CodedValues.bySegment). */
export interface SegmentCoded {
  codes: CodeArray;
  /** the feature's numeric reference per segment value, from the coding baseline */
  readonly refs: ReadonlyMap<string, NumericReferenceSummary>;
  /** per window segment code: the grid its rows are coded against (filled as segments appear) */
  readonly grids: (CodeGrid | undefined)[];
}

/** A baseline's numeric references of a feature per segment value (empty: none). */
function segmentRefsOf(b: LoadedBaseline | undefined, feature: string): Map<string, NumericReferenceSummary> {
  const out = new Map<string, NumericReferenceSummary>();
  for (const [value, seg] of b?.segments ?? []) {
    const ref = seg.features.get(feature);
    if (ref?.kind === 'numeric') out.set(value, ref as NumericReferenceSummary);
  }
  return out;
}

export interface NumericColumn {
  kind: 'numeric';
  /** codes per coding baseline id (0: no baseline), in the order of ModelWindow.coding */
  coded: CodedValues[];
  /** the raw values as float32, only when a configured drift test needs them (JS distance, Wasserstein) */
  raw: Float32Array | null;
}
interface CategoricalColumn {
  kind: 'categorical';
  codes: Int32Array;
  dict: Dictionary;
}
export type FeatureColumn = NumericColumn | CategoricalColumn;

/** A window as a compute worker gets it (ModelWindow.wire). */
export interface WindowWire {
  n: number;
  coding: readonly number[];
  ts: Float64Array;
  version: Uint16Array;
  pred: Float64Array | Float32Array;
  score: Float64Array;
  label: Float64Array | Float32Array;
  latency: Float32Array;
  error: Uint8Array;
  segment: Uint16Array;
  proba: (Float64Array | null)[];
  versions: readonly string[];
  segments: readonly string[];
  classes: readonly string[];
  features: [string, { kind: 'numeric'; codes: CodeArray[]; segmentCodes: (CodeArray | null)[]; raw: Float32Array | null } | { kind: 'categorical'; codes: Int32Array; values: readonly string[] }][];
}

/** A feature's column with its name and its index in the model's features. */
interface NumericSlot {
  name: string;
  feature: number;
  col: NumericColumn;
}
interface CategoricalSlot {
  name: string;
  feature: number;
  col: CategoricalColumn;
}

/** Rows whose numeric values are coded together, feature by feature, at most (see appendRows). */
const CHUNK_ROWS = 1024;
/**
 * The same in a bulk load (the rebuild): 8,192 rows of 70 features are coded in ~20-30 ms. Fewer
 * rows at a time cost more: each feature's reference (80 KB at 10,000 points) is read back into
 * the cache once per flush (2,048 rows: 1.5 s more at the bench load of 800,000 rows).
 */
const BULK_ROWS = 8192;

/** Whether the model's numeric drift tests need the raw values (not computable from codes). */
export const needsRawValues = (model: ModelConfig): boolean => model.drift.numeric_tests.some((t) => !CODED_TESTS.includes(t));

type Column = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/** A row's segment code when it has none. */
export const SEGMENT_NONE = 0;
/**
 * A row's segment code when the window's segment dictionary is full (SEGMENT_CODES values): it
 * counts among the pooled (`other`) rows.
 */
export const SEGMENT_OVERFLOW = 0xffff;
/** Distinct segment values a window codes (codes 1 … SEGMENT_CODES); more are SEGMENT_OVERFLOW. */
export const SEGMENT_CODES = 0xfffe;

/**
 * Multiclass: the classes whose probabilities a window keeps per row (8 bytes a row each, as posted); a
 * score map's classes beyond them are not kept, and the rows' probability matrix is incomplete.
 */
export const MAX_PROBA_CLASSES = 32;

/** Rows added at a time at most before the capacity grows geometrically (by a quarter). */
const GROW_STEP = 16_384;

/**
 * The hot window of one model: every prediction of the last `horizonMs` (the longest window) in
 * compact columns — so a cycle never re-reads or re-parses stored rows. Numeric features are held
 * as codes against the feature's reference in each coding baseline (stats/coded.ts): exact for KS,
 * PSI (quantile bins), completeness and the reference range, 2 bytes per value for references of
 * up to 32,766 points (4 beyond); without a baseline the codes only tell missing, ±Infinity and
 * finite. The raw values are kept as well, as float32 (about 7 significant digits), only when a
 * configured drift test needs them (JS distance, Wasserstein-1). A window is coded against the
 * baselines given at construction: when drift needs another one, the engine rebuilds the window
 * from the store. Categories are held as int32 codes, classes as codes, and rows in
 * store-sequence order (a label finds its row by binary search on the sequence).
 *
 * Numeric feature columns live on SharedArrayBuffers (see the drift worker, drift-pool.ts). Every
 * column is on paged memory and grows in place (columns.ts): no copy, no freed remains in the C heap.
 *
 * Memory: about 49 bytes per row (41 for classifiers) + per row and numeric feature 2 bytes per coding baseline
 * (+ 4 with raw values), 4 per categorical feature, 8 per class of a multiclass model's posted
 * probabilities; the capacity grows by 16,384 rows at a time,
 * or by a quarter beyond 65,536 rows.
 */
export class ModelWindow {
  n = 0;
  private cap = 0;
  seq = new Float64Array(0);
  ts = new Float64Array(0);
  version = new Uint16Array(0);
  /** Regression: the value; classifiers: the class code (float32: exact for codes). */
  pred: Float64Array | Float32Array;
  /** Binary: probability of the positive class; multiclass: probability of the predicted class. */
  score = new Float64Array(0);
  /** Regression: the value; classifiers: the class code (float32: exact for codes); NaN = no label yet. */
  label: Float64Array | Float32Array;
  latency = new Float32Array(0);
  error = new Uint8Array(0);
  /**
   * Multiclass: per class code, each row's posted probability of that class (NaN: not posted) —
   * the probability matrix of log loss, ROC AUC and the label-free estimate. Empty for other tasks.
   */
  proba: (Float64Array | null)[] = [];
  /** The row's segment: SEGMENT_NONE, 1 + its code in `segments`, or SEGMENT_OVERFLOW. */
  segment = new Uint16Array(0);
  readonly features = new Map<string, FeatureColumn>();
  readonly versions = new Dictionary();
  /** The segment values seen since the window was built (never shrinks: at most SEGMENT_CODES). */
  readonly segments = new Dictionary();
  readonly classes = new Dictionary();
  /** Last event time at which each feature had a value (freshness). */
  readonly featureLastTs = new Map<string, number>();
  lastPredictionTs: number | null = null;
  lastLabelTs: number | null = null;
  readonly positiveCode: number;
  /** Ids of the baselines the numeric columns are coded against (0: none, codes without reference). */
  readonly coding: number[];
  /** The packed form of the model's rows (store/packed.ts): the same feature order as the slots below. */
  readonly layout: PackLayout;
  /** Numeric and categorical features in the model's order (the packed layout's). */
  private readonly numeric: NumericSlot[] = [];
  private readonly categorical: CategoricalSlot[] = [];
  /** Per feature of the model: last event time with a value (featureLastTs before syncLastTs). */
  private readonly lastTs: Float64Array;
  /** Rows from here on have their numeric values in the coding buffer, not coded yet. */
  private pendingFrom = 0;
  /** Whether some numeric column is coded by segment too (CodedValues.bySegment). */
  private readonly hasSegmentCoding: boolean;
  /** Work arrays of codeBySegment (grown as needed, reused). */
  private gathered = new Float64Array(0);
  private gatheredCodes = new Uint32Array(0);
  /** A bulk load's coding buffer (beginBulk), else null. */
  private bulk: Float64Array | null = null;

  /**
   * @param baselines the baselines to code numeric values against (none: codes without reference,
   *   enough for completeness); their numeric reference summaries must stay as they are.
   */
  constructor(
    readonly model: ModelConfig,
    baselines: readonly LoadedBaseline[] = [],
  ) {
    const raw = needsRawValues(model);
    const Target = model.task === 'regression' ? Float64Array : Float32Array;
    this.pred = new Target(0);
    this.label = new Target(0);
    this.coding = baselines.length === 0 ? [0] : baselines.map((b) => b.record.id);
    model.features.forEach((f, feature) => {
      if (f.type === 'numeric') {
        const coded = (baselines.length === 0 ? [undefined] : baselines).map((b): CodedValues => {
          const ref = b?.features.get(f.name);
          const grid = ref?.kind === 'numeric' ? gridOf(ref) : EMPTY_GRID;
          const refs = model.segments === undefined ? new Map<string, NumericReferenceSummary>() : segmentRefsOf(b, f.name);
          // the codes' width: the widest of the grids a row may be coded against
          const widest = [...refs.values()].map(gridOf).reduce((w, g) => (g.codes > w.codes ? g : w), grid);
          return { grid, codes: codeArrayFor(grid, 0, true), bySegment: refs.size === 0 ? null : { codes: codeArrayFor(widest, 0, true), refs, grids: [] } };
        });
        const col: NumericColumn = { kind: 'numeric', coded, raw: raw ? new Float32Array(new SharedArrayBuffer(0)) : null };
        this.features.set(f.name, col);
        this.numeric.push({ name: f.name, feature, col });
      } else {
        const col: CategoricalColumn = { kind: 'categorical', codes: new Int32Array(0), dict: new Dictionary() };
        this.features.set(f.name, col);
        this.categorical.push({ name: f.name, feature, col });
      }
    });
    this.layout = modelLayout(model);
    this.hasSegmentCoding = this.numeric.some((s) => s.col.coded.some((c) => c.bySegment !== null));
    this.lastTs = new Float64Array(model.features.length).fill(-Infinity);
    if (model.task === 'multiclass') for (const c of model.classes ?? []) this.classes.code(c);
    this.positiveCode = model.task === 'binary' ? this.classes.code(positiveClassOf(model)) : -1;
  }

  private ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.cap) return;
    let cap = Math.max(1024, this.cap);
    while (cap < need) cap += Math.max(GROW_STEP, cap >> 2);
    this.eachColumn((col, empty) => growColumn(col, cap, empty)); // in place when it can (columns.ts)
    this.cap = cap;
  }

  /**
   * Calls `fn` with every column and the value of an empty row in it (what append does not write
   * stays so: no label, no latency, a missing feature), and keeps the column `fn` returns (the
   * same one, or a grown one).
   */
  private eachColumn(fn: <T extends Column>(col: T, empty: number) => T): void {
    this.seq = fn(this.seq, 0);
    this.ts = fn(this.ts, 0);
    this.version = fn(this.version, 0);
    this.pred = fn(this.pred, 0);
    this.score = fn(this.score, NaN);
    this.label = fn(this.label, NaN);
    this.latency = fn(this.latency, NaN);
    this.error = fn(this.error, 0);
    this.segment = fn(this.segment, SEGMENT_NONE);
    for (let c = 0; c < this.proba.length; c++) {
      const col = this.proba[c];
      if (col !== null && col !== undefined) this.proba[c] = fn(col, NaN);
    }
    for (const col of this.features.values()) {
      if (col.kind === 'numeric') {
        for (const c of col.coded) {
          c.codes = fn(c.codes, CODE_MISSING);
          if (c.bySegment !== null) c.bySegment.codes = fn(c.bySegment.codes, CODE_MISSING);
        }
        if (col.raw !== null) col.raw = fn(col.raw, NaN);
      } else col.codes = fn(col.codes, -1);
    }
  }

  private target(v: Target): number {
    return this.model.task === 'regression' ? (v as number) : this.classes.code(String(v));
  }

  /** Appends stored predictions (in sequence order), with their labels when already joined. */
  append(records: readonly (PredictionRecord | WindowRow)[], seqs: readonly number[]): void {
    const num = this.numeric;
    const cat = this.categorical;
    this.appendRows(records.length, (k, i, vals, stride, c) => {
      const r = records[k] as PredictionRecord & Partial<WindowRow>;
      this.setRow(i, seqs[k] as number, r.ts, r.version, r.prediction, windowScore(r), r.latencyMs, r.error, r.label ?? null, r.labelTs ?? null, r.segment);
      if (this.model.task === 'multiclass' && r.score !== null && typeof r.score === 'object') {
        const scores = r.score;
        for (const c in scores) if (Object.hasOwn(scores, c)) this.setProba(i, c, scores[c] as number);
      }
      const features = r.features;
      for (let f = 0; f < num.length; f++) {
        const v = ownFeature(features, (num[f] as NumericSlot).name);
        vals[f * stride + c] = v === null || v === undefined ? NaN : typeof v === 'number' ? v : Number(v);
      }
      for (let f = 0; f < cat.length; f++) {
        const v = ownFeature(features, (cat[f] as CategoricalSlot).name);
        this.setCategory(f, i, r.ts, v === null || v === undefined ? null : String(v));
      }
    });
  }

  /**
   * Appends a page of stored rows as the rebuild reads them: packed ones from their bytes (no JSON),
   * the others from their records — the same columns as append() gives for the same rows.
   */
  appendPage(rows: readonly WindowPageRow[], reader: PackedReader): void {
    if (reader.layout.key !== this.layout.key) throw new Error('appendPage: the reader is for another feature layout');
    const records: WindowRow[] = [];
    const seqs: number[] = [];
    // runs of packed rows, and runs of JSON rows through append(), in the page's order
    let k = 0;
    while (k < rows.length) {
      const start = k;
      if (isPacked(rows[k] as WindowPageRow)) {
        while (k < rows.length && isPacked(rows[k] as WindowPageRow)) k++;
        this.appendPacked(rows, start, k - start, reader);
      } else {
        records.length = 0;
        seqs.length = 0;
        while (k < rows.length && !isPacked(rows[k] as WindowPageRow)) {
          const r = rows[k++] as WindowRow;
          records.push(r);
          seqs.push(r.seq);
        }
        this.append(records, seqs);
      }
    }
  }

  private appendPacked(rows: readonly WindowPageRow[], from: number, n: number, reader: PackedReader): void {
    const nNum = this.numeric.length;
    const nCat = this.categorical.length;
    const classScores = reader.layout.classScores && this.model.task === 'multiclass';
    this.appendRows(n, (k, i, vals, stride, c) => {
      const r = rows[from + k] as PackedWindowRow;
      if (!packedFor(reader.layout, r.packed)) throw new Error(`packed row ${r.seq} is not of the window's feature layout`);
      const score = reader.row(r.packed);
      this.setRow(i, r.seq, r.ts, r.version, r.prediction, score, r.latencyMs, r.error, r.label, r.labelTs, r.segment);
      for (let f = 0; f < nNum; f++) vals[f * stride + c] = reader.numeric(f);
      for (let f = 0; f < nCat; f++) this.setCategory(f, i, r.ts, reader.nextCategorical());
      if (classScores) reader.classScores((cls, p) => this.setProba(i, cls, p));
    });
  }

  /** Everything of row i but its features. */
  private setRow(
    i: number,
    seq: number,
    ts: number,
    version: string,
    prediction: Target,
    score: number,
    latencyMs: number | null,
    error: string | null,
    label: Target | null,
    labelTs: number | null,
    segment: string | null,
  ): void {
    this.seq[i] = seq;
    this.ts[i] = ts;
    this.version[i] = this.versions.code(version);
    this.pred[i] = this.target(prediction);
    this.score[i] = score;
    this.latency[i] = latencyMs ?? NaN;
    this.error[i] = error === null ? 0 : 1;
    this.segment[i] = typeof segment === 'string' ? this.segmentCode(segment) : SEGMENT_NONE;
    if (label !== null) this.label[i] = this.target(label);
    if (this.lastPredictionTs === null || ts > this.lastPredictionTs) this.lastPredictionTs = ts;
    if (labelTs !== null && (this.lastLabelTs === null || labelTs > this.lastLabelTs)) this.lastLabelTs = labelTs;
  }

  /** Row i's probability of class `cls` (multiclass), in the class's column (made on first sight). */
  private setProba(i: number, cls: string, p: number): void {
    let code = this.classes.lookup(cls);
    if (code === undefined) {
      if (this.classes.values.length >= MAX_PROBA_CLASSES) return;
      code = this.classes.code(cls);
    }
    if (code >= MAX_PROBA_CLASSES) return;
    let col = this.proba[code];
    if (col === null || col === undefined) {
      while (this.proba.length <= code) this.proba.push(null);
      col = growColumn(new Float64Array(0), this.cap, NaN);
      this.proba[code] = col;
    }
    col[i] = typeof p === 'number' && Number.isFinite(p) ? p : NaN;
  }

  private segmentCode(v: string): number {
    const known = this.segments.lookup(v);
    if (known !== undefined) return known + 1;
    return this.segments.values.length < SEGMENT_CODES ? this.segments.code(v) + 1 : SEGMENT_OVERFLOW;
  }

  private setCategory(f: number, i: number, ts: number, v: string | null): void {
    if (v === null) return;
    const slot = this.categorical[f] as CategoricalSlot;
    slot.col.codes[i] = slot.col.dict.code(v);
    if (ts > (this.lastTs[slot.feature] as number)) this.lastTs[slot.feature] = ts;
  }

  /**
   * Appends n rows: `fill(k, i, vals, stride, c)` writes the k-th into row i, and its numeric
   * values (NaN: missing) into vals[f * stride + c] for numeric feature f. Numeric values are
   * coded many rows at a time, feature by feature (encodeInto): one feature's reference stays in
   * the cache while its values are coded — 1.5-2x faster than row by row. Outside a bulk load the
   * rows of this call are coded before it returns; in one (beginBulk), once BULK_ROWS are pending.
   */
  private appendRows(n: number, fill: (k: number, i: number, vals: Float64Array, stride: number, c: number) => void): void {
    if (n === 0) return;
    this.ensure(n);
    const bulk = this.bulk;
    const stride = bulk === null ? Math.min(n, CHUNK_ROWS) : BULK_ROWS;
    const vals = bulk ?? workF64(WORK_SLOT.codeChunk, this.numeric.length * stride); // the work array: in this call only
    if (bulk === null) this.pendingFrom = this.n;
    for (let k = 0; k < n; k++) {
      if (this.n - this.pendingFrom === stride) this.codePending(vals, stride);
      const i = this.n++;
      fill(k, i, vals, stride, i - this.pendingFrom);
    }
    if (bulk === null) {
      this.codePending(vals, stride);
      this.syncLastTs();
    }
  }

  /** Codes the pending rows' numeric values (rows pendingFrom … n-1, at vals[f * stride + 0 …]). */
  private codePending(vals: Float64Array, stride: number): void {
    const first = this.pendingFrom;
    const count = this.n - first;
    const lastTs = this.lastTs;
    const groups = this.hasSegmentCoding ? this.segmentGroups(first, count) : null;
    for (let f = 0; f < this.numeric.length; f++) {
      const slot = this.numeric[f] as NumericSlot;
      const at = f * stride;
      for (const cv of slot.col.coded) {
        encodeInto(cv.grid, vals, at, count, cv.codes, first);
        if (cv.bySegment !== null && groups !== null) this.codeBySegment(cv.bySegment, cv.grid, vals, at, first, groups);
      }
      const raw = slot.col.raw;
      if (raw !== null) for (let c = 0; c < count; c++) raw[first + c] = vals[at + c] as number;
      let last = lastTs[slot.feature] as number;
      for (let c = 0; c < count; c++) {
        const x = vals[at + c] as number;
        const t = this.ts[first + c] as number;
        if (t > last && x === x) last = t;
      }
      lastTs[slot.feature] = last;
    }
    this.pendingFrom = this.n;
  }

  /** featureLastTs from lastTs, in the model's feature order (the order freshness is emitted in). */
  private syncLastTs(): void {
    const features = this.model.features;
    for (let f = 0; f < features.length; f++) {
      const t = this.lastTs[f] as number;
      const name = (features[f] as { name: string }).name;
      if (t !== -Infinity && t !== this.featureLastTs.get(name)) this.featureLastTs.set(name, t);
    }
  }

  /**
   * A bulk load (the rebuild): numeric values are coded BULK_ROWS rows at a time across appends,
   * in a buffer held until endBulk() — which must be called before the window is read.
   */
  beginBulk(): void {
    if (this.bulk !== null) return;
    this.pendingFrom = this.n; // nothing is pending outside a bulk load
    // paged, not malloc'd: a freed 4.6 MB malloc block (70 features) raised glibc's mmap threshold
    // and left ~12 MB more C heap resident in the daemon bench
    this.bulk = new Float64Array(pagedBuffer(8 * this.numeric.length * BULK_ROWS, false));
  }

  /** Codes what the bulk load left pending and drops its buffer. */
  endBulk(): void {
    const bulk = this.bulk;
    if (bulk === null) return;
    this.codePending(bulk, BULK_ROWS);
    this.bulk = null;
    this.syncLastTs();
  }

  /** Row of a sequence number (binary search), or -1. */
  rowOf(seq: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.seq[mid] as number;
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Sets the label of the prediction with this sequence number (if it is in the window). */
  setLabel(seq: number, label: LabelRecord): boolean {
    if (this.lastLabelTs === null || label.ts > this.lastLabelTs) this.lastLabelTs = label.ts;
    const i = this.rowOf(seq);
    if (i < 0) return false;
    this.label[i] = this.target(label.label);
    return true;
  }

  /**
   * Puts the rows in sequence order (rowOf's binary search needs it) when they were appended in
   * another one — a rebuild from the store reads them in event-time order. Every column is
   * permuted in place through one reused buffer. Returns whether anything moved.
   */
  sortBySeq(): boolean {
    const n = this.n;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) if ((this.seq[i] as number) < (this.seq[i - 1] as number)) sorted = false;
    if (sorted) return false;
    const seq = this.seq;
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    perm.sort((a, b) => (seq[a] as number) - (seq[b] as number));
    const tmp = new Float64Array(n);
    this.eachColumn((col) => {
      for (let i = 0; i < n; i++) tmp[i] = col[perm[i] as number] as number;
      for (let i = 0; i < n; i++) col[i] = tmp[i] as number;
      return col;
    });
    return true;
  }

  /** Drops rows whose event time is before `beforeTs` (keeps sequence order). */
  evict(beforeTs: number): number {
    const n = this.n;
    const ts = this.ts;
    let kept = 0;
    for (let r = 0; r < n; r++) if ((ts[r] as number) >= beforeTs) kept++;
    if (kept === n) return 0;
    // Column by column, the event times last (every other column is compacted by them); the rows
    // freed at the end are emptied as new capacity is: append writes only what a row has.
    this.eachColumn((col, empty) => {
      if (col === ts) return col;
      let w = 0;
      for (let r = 0; r < n; r++) if ((ts[r] as number) >= beforeTs) col[w++] = col[r] as number;
      col.fill(empty, kept, n);
      return col;
    });
    let w = 0;
    for (let r = 0; r < n; r++) if ((ts[r] as number) >= beforeTs) ts[w++] = ts[r] as number;
    ts.fill(0, kept, n);
    this.n = kept;
    return n - kept;
  }

  /** Rows with event time in [fromTs, toTs], in sequence order (in an array from `alloc`). */
  rows(fromTs: number, toTs: number, alloc: (n: number) => Int32Array = (n) => new Int32Array(n)): Int32Array {
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      const t = this.ts[i] as number;
      if (t >= fromTs && t <= toTs) count++;
    }
    const out = alloc(count);
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      const t = this.ts[i] as number;
      if (t >= fromTs && t <= toTs) out[k++] = i;
    }
    return out;
  }

  /**
   * The codes of a numeric column against a coding baseline (undefined: the window has no
   * baselines), if coded so; with `segment`, the codes of that segment's rows against its own
   * reference when the baseline has one for the feature (else the model's codes).
   */
  codedFor(col: NumericColumn, baselineId: number | undefined, segment?: string): CodedValues | undefined {
    const k = this.coding.indexOf(baselineId ?? 0);
    const cv = k < 0 ? undefined : col.coded[k];
    if (cv === undefined || segment === undefined || cv.bySegment === null) return cv;
    const ref = cv.bySegment.refs.get(segment);
    return ref === undefined ? cv : { grid: gridOf(ref), codes: cv.bySegment.codes, bySegment: null };
  }

  /**
   * The pending rows first … first+count-1 grouped by segment code: `order` lists their offsets
   * group after group, `codes[g]` is group g's segment code and `starts[g]` its first index in
   * `order` (starts has one more entry, the end). Computed once per chunk for every feature.
   */
  private segmentGroups(first: number, count: number): { order: Int32Array; codes: number[]; starts: number[] } {
    const seen = new Map<number, number>(); // segment code → group
    const sizes: number[] = [];
    const codes: number[] = [];
    const groupOf = new Int32Array(count);
    for (let c = 0; c < count; c++) {
      const code = this.segment[first + c] as number;
      let g = seen.get(code);
      if (g === undefined) {
        g = codes.length;
        seen.set(code, g);
        codes.push(code);
        sizes.push(0);
      }
      groupOf[c] = g;
      sizes[g] = (sizes[g] as number) + 1;
    }
    const starts: number[] = [0];
    for (const n of sizes) starts.push((starts[starts.length - 1] as number) + n);
    const fill = starts.slice(0, -1);
    const order = new Int32Array(count);
    for (let c = 0; c < count; c++) {
      const g = groupOf[c] as number;
      order[fill[g] as number] = c;
      fill[g] = (fill[g] as number) + 1;
    }
    return { order, codes, starts };
  }

  /**
   * Codes one feature's pending values (vals[at + offset]) against each row's segment grid: the
   * values gathered group by group, each group coded in one run (encodeInto, as the model's
   * codes are — 2.5x faster than value by value), the codes scattered back to their rows.
   */
  private codeBySegment(bs: SegmentCoded, modelGrid: CodeGrid, vals: Float64Array, at: number, first: number, groups: { order: Int32Array; codes: number[]; starts: number[] }): void {
    const { order, codes, starts } = groups;
    const n = order.length;
    if (this.gathered.length < n) {
      this.gathered = new Float64Array(n);
      this.gatheredCodes = new Uint32Array(n);
    }
    const g = this.gathered;
    const out = this.gatheredCodes;
    for (let j = 0; j < n; j++) g[j] = vals[at + (order[j] as number)] as number;
    for (let k = 0; k < codes.length; k++) {
      const from = starts[k] as number;
      encodeInto(this.segmentGrid(bs, modelGrid, codes[k] as number), g, from, (starts[k + 1] as number) - from, out, from);
    }
    const dst = bs.codes;
    for (let j = 0; j < n; j++) dst[first + (order[j] as number)] = out[j] as number;
  }

  /** The grid a row of this segment code is coded against in `bs`: its segment's reference, else the model's. */
  private segmentGrid(bs: SegmentCoded, modelGrid: CodeGrid, code: number): CodeGrid {
    if (code === SEGMENT_NONE || code === SEGMENT_OVERFLOW) return modelGrid;
    let g = bs.grids[code];
    if (g === undefined) {
      const ref = bs.refs.get(this.segments.values[code - 1] as string);
      g = ref === undefined ? modelGrid : gridOf(ref);
      bs.grids[code] = g;
    }
    return g;
  }

  /** Stops coding against baselines not in `keep` (frees their columns); never drops the last one. */
  retainCoding(keep: ReadonlySet<number>): void {
    const idx = this.coding.map((id, k) => (keep.has(id) ? k : -1)).filter((k) => k >= 0);
    if (idx.length === 0 || idx.length === this.coding.length) return;
    for (const col of this.features.values()) if (col.kind === 'numeric') col.coded = idx.map((k) => col.coded[k] as CodedValues);
    const ids = idx.map((k) => this.coding[k] as number);
    this.coding.length = 0;
    this.coding.push(...ids);
  }

  /**
   * What a compute worker reads of the window (compute-pool.ts): its first n rows' columns — the
   * same memory (SharedArrayBuffers), not copied — and its dictionaries' values. Ingestion appends
   * rows after n meanwhile; eviction and labels wait for the computation (the engine).
   */
  wire(): WindowWire {
    const features: WindowWire['features'] = [];
    for (const [name, col] of this.features) {
      features.push(
        col.kind === 'numeric'
          ? [name, { kind: 'numeric', codes: col.coded.map((c) => c.codes), segmentCodes: col.coded.map((c) => c.bySegment?.codes ?? null), raw: col.raw }]
          : [name, { kind: 'categorical', codes: col.codes, values: col.dict.values }],
      );
    }
    return {
      n: this.n,
      coding: this.coding,
      ts: this.ts,
      version: this.version,
      pred: this.pred,
      score: this.score,
      label: this.label,
      latency: this.latency,
      error: this.error,
      segment: this.segment,
      proba: this.proba,
      versions: this.versions.values,
      segments: this.segments.values,
      classes: this.classes.values,
      features,
    };
  }

  /**
   * A read-only window over a wired one (in a compute worker): what the monitors read — columns,
   * dictionaries, codes with their grids (from the same baselines' summaries: the same grids) —
   * and nothing to append with. Freshness is not in it (the main thread emits it).
   */
  static fromWire(model: ModelConfig, wire: WindowWire, baseline: (id: number) => LoadedBaseline | undefined): ModelWindow {
    const w = Object.create(ModelWindow.prototype) as ModelWindow;
    const dict = (values: readonly string[]): Dictionary => {
      const d = new Dictionary();
      for (const v of values) d.code(v);
      return d;
    };
    const features = new Map<string, FeatureColumn>();
    for (const [name, f] of wire.features) {
      if (f.kind === 'categorical') features.set(name, { kind: 'categorical', codes: f.codes, dict: dict(f.values) });
      else {
        const coded = f.codes.map((codes, k): CodedValues => {
          const b = baseline(wire.coding[k] as number);
          const ref = b?.features.get(name);
          const segmentCodes = f.segmentCodes[k] ?? null;
          return {
            grid: ref?.kind === 'numeric' ? gridOf(ref) : EMPTY_GRID,
            codes,
            bySegment: segmentCodes === null ? null : { codes: segmentCodes, refs: segmentRefsOf(b, name), grids: [] },
          };
        });
        features.set(name, { kind: 'numeric', coded, raw: f.raw });
      }
    }
    const classes = dict(wire.classes);
    Object.assign(w, {
      model,
      n: wire.n,
      cap: wire.n,
      seq: new Float64Array(0),
      ts: wire.ts,
      version: wire.version,
      pred: wire.pred,
      score: wire.score,
      label: wire.label,
      latency: wire.latency,
      error: wire.error,
      segment: wire.segment,
      proba: wire.proba,
      segments: dict(wire.segments),
      features,
      versions: dict(wire.versions),
      classes,
      featureLastTs: new Map<string, number>(),
      lastPredictionTs: null,
      lastLabelTs: null,
      positiveCode: model.task === 'binary' ? classes.code(positiveClassOf(model)) : -1,
      coding: [...wire.coding],
      layout: modelLayout(model),
    });
    return w;
  }

  /** Bytes held by the columns. */
  bytes(): number {
    let b = this.cap * (8 * 3 + 2 + 4 + 1 + 2 + 2 * this.pred.BYTES_PER_ELEMENT) + this.segments.values.length * 48;
    for (const col of this.features.values()) {
      if (col.kind === 'numeric') {
        for (const c of col.coded) b += c.codes.byteLength + (c.bySegment?.codes.byteLength ?? 0);
        if (col.raw !== null) b += this.cap * 4;
      } else b += this.cap * 4 + col.dict.values.length * 48;
    }
    for (const col of this.proba) if (col !== null) b += col.byteLength;
    return b;
  }
}
