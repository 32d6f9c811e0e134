import type { ModelConfig } from '../config/schema.js';
import type { LoadedBaseline } from './baseline.js';
import type { Scratch } from './scratch.js';
import type { ModelWindow } from './window.js';

/** Adds one sample to the cycle's snapshot (SnapshotBuilder.add). */
export type Emit = (name: string, labels: Record<string, string>, value: number) => void;

/** One model's rows in one rolling window, as every monitor sees them. */
export interface WindowView {
  readonly model: ModelConfig;
  readonly w: ModelWindow;
  /** The window's label value, e.g. `1h`. */
  readonly window: string;
  /** Row indexes into `w` with event time in the window. */
  readonly rows: Int32Array;
  readonly now: number;
  /** The baseline drift is measured against: the one of the model's current version. */
  readonly baseline: LoadedBaseline | undefined;
  /** A version's own baseline, else the model's latest. */
  baselineFor(version: string): LoadedBaseline | undefined;
  /** Where this window's monitors take their row and column arrays (released after them). */
  readonly scratch: Scratch;
}

const versionRows = new WeakMap<WindowView, Map<string, Int32Array>>();

/** Row indexes grouped by model version (version name → rows); computed once per view. */
export function byVersion(v: WindowView): Map<string, Int32Array> {
  let out = versionRows.get(v);
  if (out !== undefined) return out;
  const counts = new Map<number, number>();
  for (const i of v.rows) counts.set(v.w.version[i] as number, (counts.get(v.w.version[i] as number) ?? 0) + 1);
  out = new Map<string, Int32Array>();
  const fill = new Map<number, number>();
  for (const [code, n] of counts) {
    out.set(v.w.versions.values[code] as string, v.scratch.i32(n));
    fill.set(code, 0);
  }
  for (const i of v.rows) {
    const code = v.w.version[i] as number;
    const k = fill.get(code) as number;
    (out.get(v.w.versions.values[code] as string) as Int32Array)[k] = i;
    fill.set(code, k + 1);
  }
  versionRows.set(v, out);
  return out;
}

/** The rows that have a label. */
export function labelled(v: WindowView, rows: Int32Array): Int32Array {
  let n = 0;
  for (const i of rows) if (!Number.isNaN(v.w.label[i] as number)) n++;
  const out = v.scratch.i32(n);
  let k = 0;
  for (const i of rows) if (!Number.isNaN(v.w.label[i] as number)) out[k++] = i;
  return out;
}

/** The values of a column at these rows (from the view's scratch). */
export const gather = (v: WindowView, col: ArrayLike<number>, rows: Int32Array): Float64Array => {
  const out = v.scratch.f64(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = col[rows[k] as number] as number;
  return out;
};
