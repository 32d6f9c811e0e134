/**
 * Segment monitoring (models[].segments): the per-window monitors again on the rows of each of the
 * `max` most frequent segment values of the hot window, the less frequent ones pooled as `other`,
 * their series labelled `segment`. The cap bounds the series: a model with F features and W windows
 * gains at most (max + 1) × W × (about 3F + 20) series, whatever the number of segment values sent.
 */
import type { ModelConfig } from '../config/schema.js';
import type { LoadedBaseline } from './baseline.js';
import type { Emit, WindowView } from './view.js';
import { SEGMENT_NONE, SEGMENT_OVERFLOW, type ModelWindow } from './window.js';

/** The `segment` label of the pooled rows (a sent value `other` beyond the top values is among them). */
export const OTHER_SEGMENT = 'other';

/** Which rows go to which segment series in this cycle (the same for every window of the model). */
export interface SegmentPlan {
  /** The `segment` label per slot: the most frequent values (by rows, then by value), then `other` when some are pooled. */
  readonly names: readonly string[];
  /** Per segment code (window.segment, SEGMENT_OVERFLOW apart): its slot, -1 for rows without a segment. */
  readonly slotOf: Int32Array;
  /** The slot of SEGMENT_OVERFLOW rows (values past the window's dictionary): `other`'s, or -1. */
  readonly overflowSlot: number;
  /** Distinct segment values in the hot window (a lower bound when the dictionary overflowed). */
  readonly distinct: number;
  /** How many of them are pooled into `other`. */
  readonly pooled: number;
  /** Rows of the hot window in `other`. */
  readonly pooledRows: number;
}

/**
 * The segment plan of a model's hot window (every row of it: the longest window), or null when the
 * model has no segments configured. A value named `other` is one of the top values like any other;
 * when values are pooled, the pool takes the label `other` and such a value joins it.
 */
export function planSegments(model: ModelConfig, w: ModelWindow): SegmentPlan | null {
  const max = model.segments?.max;
  if (max === undefined) return null;
  const k = w.segments.values.length;
  const counts = new Float64Array(k + 1);
  let overflow = 0;
  const seg = w.segment;
  for (let i = 0; i < w.n; i++) {
    const c = seg[i] as number;
    if (c === SEGMENT_OVERFLOW) overflow++;
    else counts[c] = (counts[c] as number) + 1;
  }
  const present: number[] = [];
  for (let c = 1; c <= k; c++) if ((counts[c] as number) > 0) present.push(c);
  const value = (c: number): string => w.segments.values[c - 1] as string;
  present.sort((a, b) => (counts[b] as number) - (counts[a] as number) || (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0));
  const pooledCodes = present.length > max ? present.slice(max) : [];
  const top = present.length > max ? present.slice(0, max) : present;
  const slotOf = new Int32Array(k + 1).fill(-1);
  const names: string[] = [];
  let otherSlot = -1;
  const other = (): number => {
    if (otherSlot < 0) {
      otherSlot = names.length;
      names.push(OTHER_SEGMENT);
    }
    return otherSlot;
  };
  const pooling = pooledCodes.length > 0 || overflow > 0;
  for (const c of top) {
    if (pooling && value(c) === OTHER_SEGMENT) slotOf[c] = other();
    else {
      slotOf[c] = names.length;
      names.push(value(c));
    }
  }
  let pooledRows = overflow;
  for (const c of pooledCodes) {
    slotOf[c] = other();
    pooledRows += counts[c] as number;
  }
  const overflowSlot = overflow > 0 ? other() : -1;
  slotOf[SEGMENT_NONE] = -1;
  return { names, slotOf, overflowSlot, distinct: present.length + (overflow > 0 ? 1 : 0), pooled: pooledCodes.length + (overflow > 0 ? 1 : 0), pooledRows };
}

/** The cap's series of a model (main thread, once a cycle): values seen, values pooled. */
export function emitSegmentCardinality(model: string, plan: SegmentPlan, emit: Emit): void {
  emit('ml_segment_values', { model }, plan.distinct);
  emit('ml_segment_values_pooled', { model }, plan.pooled);
}

/** A window's rows split by segment slot: one view per segment with rows, in slot order. */
export function segmentViews(v: WindowView, plan: SegmentPlan): { segment: string; view: WindowView }[] {
  const slots = plan.names.length;
  const counts = new Int32Array(slots);
  const seg = v.w.segment;
  const slotOfRow = (i: number): number => {
    const c = seg[i] as number;
    return c === SEGMENT_OVERFLOW ? plan.overflowSlot : c < plan.slotOf.length ? (plan.slotOf[c] as number) : -1;
  };
  const rows = v.rows;
  for (let k = 0; k < rows.length; k++) {
    const s = slotOfRow(rows[k] as number);
    if (s >= 0) counts[s] = (counts[s] as number) + 1;
  }
  const arrays = Array.from({ length: slots }, (_, s) => v.scratch.i32(counts[s] as number));
  const fill = new Int32Array(slots);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k] as number;
    const s = slotOfRow(i);
    if (s < 0) continue;
    (arrays[s] as Int32Array)[fill[s] as number] = i;
    fill[s] = (fill[s] as number) + 1;
  }
  const out: { segment: string; view: WindowView }[] = [];
  for (let s = 0; s < slots; s++) {
    if ((counts[s] as number) === 0) continue;
    const segment = plan.names[s] as string;
    const rows = arrays[s] as Int32Array;
    // a segment the current version's baseline has references for reads them (`other` mixes segments: the model's)
    const own = segment === OTHER_SEGMENT && plan.pooled > 0 ? undefined : v.baseline?.segments?.get(segment);
    const parentFor = v.baselineFor.bind(v);
    out.push({
      segment,
      view:
        own === undefined || v.baseline === undefined
          ? { ...v, rows }
          : {
              ...v,
              rows,
              baseline: segmentBaseline(v.baseline, segment),
              baselineFor: (version) => {
                const b = parentFor(version);
                return b === undefined ? undefined : b.segments?.has(segment) === true ? segmentBaseline(b, segment) : b;
              },
              segmentRef: segment,
            },
    });
  }
  return out;
}

const segmentBaselines = new WeakMap<LoadedBaseline, Map<string, LoadedBaseline>>();

/** A baseline as one of its segments sees it: the segment's references and quality (cached per baseline and segment). */
export function segmentBaseline(b: LoadedBaseline, segment: string): LoadedBaseline {
  let bySegment = segmentBaselines.get(b);
  if (bySegment === undefined) segmentBaselines.set(b, (bySegment = new Map()));
  let out = bySegment.get(segment);
  if (out === undefined) {
    const ref = b.segments?.get(segment);
    if (ref === undefined) return b;
    out = { record: b.record, features: ref.features, ...(ref.prediction ? { prediction: ref.prediction } : {}), ...(ref.label ? { label: ref.label } : {}), quality: ref.quality };
    bySegment.set(segment, out);
  }
  return out;
}
