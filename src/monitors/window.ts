import type { ModelConfig } from '../config/schema.js';
import { positiveClassOf } from '../config/schema.js';
import type { FeatureValue, LabelRecord, PredictionRecord, Target, WindowRow } from '../store/store.js';

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

interface NumericColumn {
  kind: 'numeric';
  values: Float32Array;
}
interface CategoricalColumn {
  kind: 'categorical';
  codes: Int32Array;
  dict: Dictionary;
}
type FeatureColumn = NumericColumn | CategoricalColumn;

const grow = <T extends Float64Array | Float32Array | Int32Array | Uint16Array | Uint8Array>(a: T, n: number, fill?: number): T => {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
};

/**
 * A numeric feature column grown onto a new SharedArrayBuffer, so the drift worker reads the rows
 * without a copy. The old buffer is left as it was: a computation already started keeps reading it.
 */
const growShared = (a: Float32Array, n: number): Float32Array => {
  const b = new Float32Array(new SharedArrayBuffer(n * Float32Array.BYTES_PER_ELEMENT));
  b.set(a);
  b.fill(NaN, a.length);
  return b;
};

/**
 * The hot window of one model: every prediction of the last `horizonMs` (the longest window) in
 * compact columns — so a cycle never re-reads or re-parses stored rows. Numeric features are held
 * as float32 (about 7 significant digits), categories as int32 codes, classes as codes, and rows
 * in store-sequence order (a label finds its row by binary search on the sequence).
 *
 * Numeric feature columns live on SharedArrayBuffers (see the drift worker, drift-pool.ts).
 *
 * Memory: about 29 bytes per row + 4 bytes per row and feature.
 */
export class ModelWindow {
  n = 0;
  private cap = 0;
  seq = new Float64Array(0);
  ts = new Float64Array(0);
  version = new Uint16Array(0);
  /** Regression: the value; classifiers: the class code. */
  pred = new Float64Array(0);
  /** Binary: probability of the positive class; multiclass: probability of the predicted class. */
  score = new Float64Array(0);
  /** Regression: the value; classifiers: the class code; NaN = no label yet. */
  label = new Float64Array(0);
  labelTs = new Float64Array(0);
  latency = new Float32Array(0);
  error = new Uint8Array(0);
  readonly features = new Map<string, FeatureColumn>();
  readonly versions = new Dictionary();
  readonly classes = new Dictionary();
  /** Last event time at which each feature had a value (freshness). */
  readonly featureLastTs = new Map<string, number>();
  lastPredictionTs: number | null = null;
  lastLabelTs: number | null = null;
  readonly positiveCode: number;

  constructor(readonly model: ModelConfig) {
    for (const f of model.features) {
      this.features.set(
        f.name,
        f.type === 'numeric' ? { kind: 'numeric', values: new Float32Array(0) } : { kind: 'categorical', codes: new Int32Array(0), dict: new Dictionary() },
      );
    }
    if (model.task === 'multiclass') for (const c of model.classes ?? []) this.classes.code(c);
    this.positiveCode = model.task === 'binary' ? this.classes.code(positiveClassOf(model)) : -1;
  }

  private ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.cap) return;
    let cap = Math.max(1024, this.cap);
    while (cap < need) cap *= 2;
    this.seq = grow(this.seq, cap);
    this.ts = grow(this.ts, cap);
    this.version = grow(this.version, cap);
    this.pred = grow(this.pred, cap);
    this.score = grow(this.score, cap, NaN);
    this.label = grow(this.label, cap, NaN);
    this.labelTs = grow(this.labelTs, cap, NaN);
    this.latency = grow(this.latency, cap, NaN);
    this.error = grow(this.error, cap);
    for (const col of this.features.values()) {
      if (col.kind === 'numeric') col.values = growShared(col.values, cap);
      else col.codes = grow(col.codes, cap, -1);
    }
    this.cap = cap;
  }

  private target(v: Target): number {
    return this.model.task === 'regression' ? (v as number) : this.classes.code(String(v));
  }

  /** Appends stored predictions (in sequence order), with their labels when already joined. */
  append(records: readonly (PredictionRecord | WindowRow)[], seqs: readonly number[]): void {
    this.ensure(records.length);
    for (let k = 0; k < records.length; k++) {
      const r = records[k] as PredictionRecord & Partial<WindowRow>;
      const i = this.n++;
      this.seq[i] = seqs[k] as number;
      this.ts[i] = r.ts;
      this.version[i] = this.versions.code(r.version);
      this.pred[i] = this.target(r.prediction);
      this.score[i] = this.scoreOf(r);
      this.latency[i] = r.latencyMs ?? NaN;
      this.error[i] = r.error === null ? 0 : 1;
      if (r.label !== undefined && r.label !== null) {
        this.label[i] = this.target(r.label);
        this.labelTs[i] = r.labelTs ?? NaN;
      }
      for (const [name, col] of this.features) {
        const v: FeatureValue | undefined = r.features[name];
        if (v === null || v === undefined) continue;
        if (col.kind === 'numeric') col.values[i] = v as number;
        else col.codes[i] = col.dict.code(String(v));
        if (r.ts > (this.featureLastTs.get(name) ?? -Infinity)) this.featureLastTs.set(name, r.ts);
      }
      if (this.lastPredictionTs === null || r.ts > this.lastPredictionTs) this.lastPredictionTs = r.ts;
      if (r.labelTs !== undefined && r.labelTs !== null && (this.lastLabelTs === null || r.labelTs > this.lastLabelTs)) this.lastLabelTs = r.labelTs;
    }
  }

  private scoreOf(r: PredictionRecord): number {
    if (r.score === null) return NaN;
    if (typeof r.score === 'number') return r.score;
    const p = r.score[String(r.prediction)];
    return p === undefined ? NaN : p;
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
    this.labelTs[i] = label.ts;
    return true;
  }

  /** Drops rows whose event time is before `beforeTs` (keeps sequence order). */
  evict(beforeTs: number): number {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      if ((this.ts[r] as number) < beforeTs) continue;
      if (w !== r) this.move(r, w);
      w++;
    }
    const dropped = this.n - w;
    this.n = w;
    return dropped;
  }

  private move(from: number, to: number): void {
    this.seq[to] = this.seq[from] as number;
    this.ts[to] = this.ts[from] as number;
    this.version[to] = this.version[from] as number;
    this.pred[to] = this.pred[from] as number;
    this.score[to] = this.score[from] as number;
    this.label[to] = this.label[from] as number;
    this.labelTs[to] = this.labelTs[from] as number;
    this.latency[to] = this.latency[from] as number;
    this.error[to] = this.error[from] as number;
    for (const col of this.features.values()) {
      if (col.kind === 'numeric') col.values[to] = col.values[from] as number;
      else col.codes[to] = col.codes[from] as number;
    }
  }

  /** Rows with event time in [fromTs, toTs], in sequence order. */
  rows(fromTs: number, toTs: number): Int32Array {
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      const t = this.ts[i] as number;
      if (t >= fromTs && t <= toTs) count++;
    }
    const out = new Int32Array(count);
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      const t = this.ts[i] as number;
      if (t >= fromTs && t <= toTs) out[k++] = i;
    }
    return out;
  }

  /** Bytes held by the columns. */
  bytes(): number {
    let b = this.cap * (8 * 6 + 2 + 4 + 1);
    for (const col of this.features.values()) b += this.cap * 4 + (col.kind === 'categorical' ? col.dict.values.length * 48 : 0);
    return b;
  }
}
