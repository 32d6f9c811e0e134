/**
 * The packed form of a stored prediction: what a hot window needs of its features and score, as
 * bytes that load without parsing. It is written at ingestion beside the JSON, which stays the
 * source of truth (GET …/predictions/:id, features the model does not declare, rows stored before
 * the packed form existed). The start-up rebuild reads it instead of parsing the JSON: no JSON
 * text reaches JavaScript for those rows.
 *
 * The numeric values are stored, not their codes: codes depend on the baseline and on
 * drift.reference_points, which change without the rows changing; the values do not.
 *
 * Layout (little-endian):
 *   0  u32  format (PACKED_FORMAT)
 *   4  u32  layout key: FNV-1a of the model's feature list (names and types, in order). A row
 *           packed for another feature list (the configuration changed) takes the JSON path.
 *   8  f64  the window's score (binary: the score; multiclass: the predicted class's; NaN: none)
 *  16  f64  per numeric feature, in the model's order: the value (NaN: missing or null)
 *   …       per categorical feature, in order: u32 byte length (MISSING_STRING: missing or null),
 *           then the value's UTF-8 bytes
 *   …       multiclass layouts only (classScores): the class probabilities — u32 count
 *           (MISSING_STRING: the score is not a class → probability map), then per class u32 byte
 *           length, the class's UTF-8 bytes, f64 probability (NaN: not a finite number)
 *
 * A numeric value is packed as the JSON path reads it back: a number that JSON cannot hold (NaN,
 * ±Infinity: stored as null) as missing, a string as Number(string).
 */
import type { FeatureValue, PredictionRecord } from './store.js';

/** Version 1 of the layout above; another format takes the JSON path. */
export const PACKED_FORMAT = 0x5650_0001;
/** A categorical feature without value. */
export const MISSING_STRING = 0xffff_ffff;
/** Whether this machine stores float64 little-endian (the packed form's order): values are then read in place. */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
/** Bytes before the numeric values. */
export const PACKED_HEAD = 16;

/** What the packed form of a model's rows holds, in which order. */
export interface PackLayout {
  /** FNV-1a of the feature list */
  readonly key: number;
  /** format and key as the first 8 bytes of every row packed with this layout */
  readonly head: Uint8Array;
  /** names of the numeric features, in the model's order */
  readonly numeric: readonly string[];
  /** names of the categorical features, in the model's order */
  readonly categorical: readonly string[];
  /**
   * Every feature in the model's order: its name, its name as JSON text with the colon after it,
   * and where its value is packed (>= 0: that numeric value; < 0: categorical value -slot - 1).
   */
  readonly order: readonly { readonly name: string; readonly key: string; readonly slot: number }[];
  /** Multiclass: the rows carry every class's probability (the hot window's probability matrix). */
  readonly classScores: boolean;
}

const fnv1a = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

/**
 * The layout of a model's features (name and type each, in the configured order); with
 * `classScores` (multiclass models) the rows carry the class probabilities too, under another key:
 * a row packed without them (before, or for another task) is read from its JSON.
 */
export function packLayout(features: readonly { name: string; type: 'numeric' | 'categorical' }[], opts: { classScores?: boolean } = {}): PackLayout {
  const classScores = opts.classScores === true;
  const key = fnv1a(JSON.stringify(features.map((f) => [f.name, f.type])) + (classScores ? '\u0000class-scores' : ''));
  const head = new Uint8Array(8);
  const view = new DataView(head.buffer);
  view.setUint32(0, PACKED_FORMAT, true);
  view.setUint32(4, key, true);
  let numeric = 0;
  let categorical = 0;
  return {
    key,
    head,
    numeric: features.filter((f) => f.type === 'numeric').map((f) => f.name),
    categorical: features.filter((f) => f.type === 'categorical').map((f) => f.name),
    order: features.map((f) => ({ name: f.name, key: `${JSON.stringify(f.name)}:`, slot: f.type === 'numeric' ? numeric++ : -++categorical })),
    classScores,
  };
}

/** A model's layout: its features, and the class probabilities of a multiclass model. */
export const modelLayout = (m: { features: readonly { name: string; type: 'numeric' | 'categorical' }[]; task: string }): PackLayout =>
  packLayout(m.features, { classScores: m.task === 'multiclass' });

/**
 * Whether a prediction's features are held exactly by their packed form with this layout, so that
 * packedJson gives JSON.stringify(features), character for character: the features are the
 * layout's, in its order (the order JSON.stringify writes them in), each numeric one a number or
 * null, each categorical one a well-formed string or null.
 */
export function packsExactly(layout: PackLayout, features: PredictionRecord['features']): boolean {
  const order = layout.order;
  let k = 0;
  for (const name in features) {
    const f = order[k++];
    if (f === undefined || name !== f.name) return false;
    const v = features[name];
    if (v === null) continue;
    if (f.slot >= 0 ? typeof v !== 'number' : typeof v !== 'string' || !v.isWellFormed()) return false;
  }
  return k === order.length;
}

/** The categorical values of a packed row, in the layout's order (null: missing). */
function packedCategoricals(layout: PackLayout, bytes: Uint8Array, view: DataView): (string | null)[] {
  const cats = new Array<string | null>(layout.categorical.length);
  if (cats.length === 0) return cats;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = PACKED_HEAD + 8 * layout.numeric.length;
  for (let c = 0; c < cats.length; c++) {
    const n = view.getUint32(at, true);
    at += 4;
    if (n === MISSING_STRING) cats[c] = null;
    else {
      cats[c] = buf.toString('utf8', at, at + n);
      at += n;
    }
  }
  return cats;
}

/**
 * The features as JSON.parse(packedJson(layout, bytes)) gives them, without the text: the layout's
 * features in its order, each numeric one a number (-0 as 0, as JSON writes it) or null, each
 * categorical one a string or null (only where packsExactly said the packed form is exact).
 */
export function packedFeatures(layout: PackLayout, bytes: Uint8Array): Record<string, FeatureValue> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, FeatureValue> = {};
  const cats = packedCategoricals(layout, bytes, view);
  for (const f of layout.order) {
    let value: FeatureValue;
    if (f.slot >= 0) {
      const v = view.getFloat64(PACKED_HEAD + 8 * f.slot, true);
      value = Number.isNaN(v) ? null : v === 0 ? 0 : v;
    } else value = cats[-f.slot - 1] as string | null;
    // an own property whatever the name, as JSON.parse makes it ("__proto__" too)
    if (f.name === '__proto__') Object.defineProperty(out, f.name, { value, enumerable: true, writable: true, configurable: true });
    else out[f.name] = value;
  }
  return out;
}

/** A layout's definition, from which packLayout makes it again: its features (name, type) in order, and classScores. */
export interface LayoutDefinition {
  features: { name: string; type: 'numeric' | 'categorical' }[];
  classScores: boolean;
}

export const layoutDefinition = (layout: PackLayout): LayoutDefinition => ({
  features: layout.order.map((f) => ({ name: f.name, type: f.slot >= 0 ? 'numeric' : 'categorical' })),
  classScores: layout.classScores,
});

/** The layout key of packed bytes (their format is PACKED_FORMAT), or undefined. */
export function packedKey(bytes: Uint8Array): number | undefined {
  if (bytes.length < PACKED_HEAD) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(0, true) === PACKED_FORMAT ? view.getUint32(4, true) : undefined;
}

/** The features' JSON text, rebuilt from their packed form (only where packsExactly said it is exact). */
export function packedJson(layout: PackLayout, bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cats = packedCategoricals(layout, bytes, view);
  let out = '{';
  const order = layout.order;
  for (let k = 0; k < order.length; k++) {
    const f = order[k] as PackLayout['order'][number];
    if (k > 0) out += ',';
    out += f.key;
    if (f.slot >= 0) {
      const v = view.getFloat64(PACKED_HEAD + 8 * f.slot, true);
      // a finite number's JSON text is its String() (both Number::toString; -0 is "0")
      out += Number.isNaN(v) ? 'null' : v;
    } else {
      const v = cats[-f.slot - 1];
      out += v === null || v === undefined ? 'null' : JSON.stringify(v);
    }
  }
  return `${out}}`;
}

/**
 * A feature's value by own key: a feature named constructor / toString / __proto__ is an ordinary
 * name, never Object.prototype's member (src/ingest/events.ts stores it as an own property).
 */
export const ownFeature = (features: PredictionRecord['features'], name: string): FeatureValue | undefined =>
  Object.hasOwn(features, name) ? features[name] : undefined;

/** The score a window keeps for a prediction: binary the score, multiclass the predicted class's (NaN: none). */
export function windowScore(r: Pick<PredictionRecord, 'score' | 'prediction'>): number {
  if (r.score === null) return NaN;
  if (typeof r.score === 'number') return r.score;
  // own keys only: a class named constructor / __proto__ is not Object.prototype's
  const c = String(r.prediction);
  return Object.hasOwn(r.score, c) ? (r.score[c] as number) : NaN;
}

/** Writes records' packed forms into a reused buffer, one at a time. */
export class Packer {
  private buf = Buffer.alloc(4096);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);

  /**
   * The packed form of `r`: a view of this packer's buffer, valid until the next call.
   */
  pack(layout: PackLayout, r: PredictionRecord): Uint8Array {
    const features = r.features;
    const num = layout.numeric;
    const cat = layout.categorical;
    let size = PACKED_HEAD + 8 * num.length;
    for (let f = 0; f < cat.length; f++) {
      const v = ownFeature(features, cat[f] as string);
      size += 4 + (v === null || v === undefined ? 0 : Buffer.byteLength(String(v), 'utf8'));
    }
    const scores = layout.classScores && r.score !== null && typeof r.score === 'object' ? r.score : null;
    if (layout.classScores) {
      size += 4;
      if (scores !== null) for (const c in scores) if (Object.hasOwn(scores, c)) size += 12 + Buffer.byteLength(c, 'utf8');
    }
    if (size > this.buf.length) {
      this.buf = Buffer.alloc(Math.max(size, 2 * this.buf.length));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    const view = this.view;
    view.setUint32(0, PACKED_FORMAT, true);
    view.setUint32(4, layout.key, true);
    const score = windowScore(r);
    view.setFloat64(8, Number.isFinite(score) ? score : NaN, true); // as JSON holds it: a non-finite number is null
    let at = PACKED_HEAD;
    for (let f = 0; f < num.length; f++) {
      const v = ownFeature(features, num[f] as string);
      view.setFloat64(at, typeof v === 'number' ? (Number.isFinite(v) ? v : NaN) : typeof v === 'string' ? Number(v) : NaN, true);
      at += 8;
    }
    for (let f = 0; f < cat.length; f++) {
      const v = ownFeature(features, cat[f] as string);
      if (v === null || v === undefined) {
        view.setUint32(at, MISSING_STRING, true);
        at += 4;
      } else {
        const n = this.buf.write(String(v), at + 4, 'utf8');
        view.setUint32(at, n, true);
        at += 4 + n;
      }
    }
    if (layout.classScores) {
      if (scores === null) {
        view.setUint32(at, MISSING_STRING, true);
        at += 4;
      } else {
        const countAt = at;
        let count = 0;
        at += 4;
        for (const c in scores) {
          if (!Object.hasOwn(scores, c)) continue;
          const n = this.buf.write(c, at + 4, 'utf8');
          view.setUint32(at, n, true);
          const p = scores[c];
          view.setFloat64(at + 4 + n, typeof p === 'number' && Number.isFinite(p) ? p : NaN, true);
          at += 12 + n;
          count++;
        }
        view.setUint32(countAt, count, true);
      }
    }
    return this.buf.subarray(0, at);
  }
}

/** Whether `bytes` starts with the head of `layout` (packed by this format for this feature list). */
export function packedFor(layout: PackLayout, bytes: Uint8Array): boolean {
  if (bytes.length < PACKED_HEAD + 8 * layout.numeric.length) return false;
  const h = layout.head;
  for (let i = 0; i < 8; i++) if (bytes[i] !== h[i]) return false;
  return true;
}

/**
 * Reads packed rows: the score, the numeric values and the categorical values of one row at a time.
 * The row must be packed for the layout (packedFor).
 */
export class PackedReader {
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView | null = null;
  /** The row as a Buffer (its categorical values are decoded from it), made once per row when needed. */
  private buf: Buffer | null = null;
  /** The row's whole ArrayBuffer as float64 (the values read in place when 8-aligned), reused across rows of one buffer. */
  private f64: Float64Array = new Float64Array(0);
  /** Index of the row's first 8 bytes in f64; -1: not aligned, read through a DataView. */
  private base = -1;
  private at = 0;

  constructor(readonly layout: PackLayout) {}

  /** Starts reading a row; returns its window score. */
  row(bytes: Uint8Array): number {
    this.bytes = bytes;
    this.at = PACKED_HEAD + 8 * this.layout.numeric.length;
    this.view = null;
    this.buf = null;
    if (LITTLE_ENDIAN && (bytes.byteOffset & 7) === 0) {
      // a page's rows share one buffer: one Float64Array over it instead of a DataView per row
      if (this.f64.buffer !== bytes.buffer) this.f64 = new Float64Array(bytes.buffer, 0, bytes.buffer.byteLength >> 3);
      this.base = bytes.byteOffset >> 3;
      return this.f64[this.base + 1] as number;
    }
    this.base = -1;
    return this.dataView().getFloat64(8, true);
  }

  private dataView(): DataView {
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view;
  }

  /** The f-th numeric value of the row (NaN: missing). */
  numeric(f: number): number {
    return this.base >= 0 ? (this.f64[this.base + 2 + f] as number) : this.dataView().getFloat64(PACKED_HEAD + 8 * f, true);
  }

  /**
   * The row's class probabilities (multiclass layouts), after its categorical values were read:
   * `fn(class, probability)` for each (NaN: not a finite number); nothing when the score is not a map.
   */
  classScores(fn: (cls: string, p: number) => void): void {
    const view = this.dataView();
    const count = view.getUint32(this.at, true);
    this.at += 4;
    if (count === MISSING_STRING) return;
    const b = this.bytes;
    this.buf ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    for (let k = 0; k < count; k++) {
      const n = view.getUint32(this.at, true);
      const cls = this.buf.toString('utf8', this.at + 4, this.at + 4 + n);
      fn(cls, view.getFloat64(this.at + 4 + n, true));
      this.at += 12 + n;
    }
  }

  /** The next categorical value of the row, in the layout's order (null: missing). */
  nextCategorical(): string | null {
    const n = this.dataView().getUint32(this.at, true);
    this.at += 4;
    if (n === MISSING_STRING) return null;
    const b = this.bytes;
    this.buf ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}
