import type { ModelConfig } from '../config/schema.js';
import type { LoadedBaseline } from './baseline.js';
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
}

/** Row indexes grouped by model version (version name → rows). */
export function byVersion(v: WindowView): Map<string, Int32Array> {
  const counts = new Map<number, number>();
  for (const i of v.rows) counts.set(v.w.version[i] as number, (counts.get(v.w.version[i] as number) ?? 0) + 1);
  const out = new Map<string, Int32Array>();
  const fill = new Map<number, number>();
  for (const [code, n] of counts) {
    out.set(v.w.versions.values[code] as string, new Int32Array(n));
    fill.set(code, 0);
  }
  for (const i of v.rows) {
    const code = v.w.version[i] as number;
    const k = fill.get(code) as number;
    (out.get(v.w.versions.values[code] as string) as Int32Array)[k] = i;
    fill.set(code, k + 1);
  }
  return out;
}

/** The rows that have a label. */
export function labelled(v: WindowView, rows: Int32Array): Int32Array {
  let n = 0;
  for (const i of rows) if (!Number.isNaN(v.w.label[i] as number)) n++;
  const out = new Int32Array(n);
  let k = 0;
  for (const i of rows) if (!Number.isNaN(v.w.label[i] as number)) out[k++] = i;
  return out;
}

export const gather = (col: ArrayLike<number>, rows: Int32Array): Float64Array => {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = col[rows[k] as number] as number;
  return out;
};
