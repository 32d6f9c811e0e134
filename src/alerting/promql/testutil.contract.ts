/** Shared test helpers (excluded from the build like other *.contract.ts): promqltest-style series text → samples, result comparison. */
import { expect } from 'vitest';
import type { Sample } from '../../metrics/snapshot.js';
import type { PromqlValue, VectorSample } from '../types.js';
import { evaluate } from './eval.js';
import { parsePromql } from './parse.js';
import { SeriesIndex } from './series.js';

function parseValue(s: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** `name{a="b", c="d"} 12` → labels (with __name__ when a name is given) and value. */
export function parseLine(line: string): { name: string; labels: Record<string, string>; value: number } {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{[^}]*\})?\s+(\S+)\s*$/.exec(line);
  if (m === null) throw new Error(`bad series line: ${line}`);
  const labels: Record<string, string> = {};
  for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"/g)) labels[lm[1] as string] = lm[2] as string;
  return { name: m[1] ?? '', labels, value: parseValue(m[3] as string) };
}

export function load(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const { name, labels, value } = parseLine(l);
      return { name, labels, value };
    });
}

export function run(expr: string, samples: readonly Sample[] | SeriesIndex, timeMs = 0): PromqlValue {
  const series = samples instanceof SeriesIndex ? samples : new SeriesIndex(samples);
  return evaluate(parsePromql(expr), { series, timeMs });
}

const plain = (s: VectorSample): { labels: Record<string, string>; value: number } => ({
  labels: Object.fromEntries(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1))),
  value: s.value,
});

function sameNumber(actual: number, want: number): void {
  if (Number.isNaN(want)) expect(actual).toBeNaN();
  else if (!Number.isFinite(want)) expect(actual).toBe(want);
  else expect(actual).toBeCloseTo(want, Math.abs(want) > 1e6 ? 0 : 9);
}

/** Asserts a vector result equals the expected lines (promqltest format); unordered unless `ordered`. */
export function expectVector(value: PromqlValue, lines: readonly string[], ordered = false): void {
  expect(value.type).toBe('vector');
  if (value.type !== 'vector') return;
  const want = lines.map((l) => {
    const { name, labels, value: v } = parseLine(l);
    const all: Record<string, string> = { ...labels };
    if (name !== '') all['__name__'] = name;
    return { labels: Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1))), value: v };
  });
  let got = value.samples.map(plain);
  const key = (x: { labels: Record<string, string> }): string => JSON.stringify(x.labels);
  if (!ordered) {
    got = [...got].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    want.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  }
  expect(got.map((g) => g.labels)).toEqual(want.map((w) => w.labels));
  got.forEach((g, i) => sameNumber(g.value, (want[i] as { value: number }).value));
}

export function expectScalar(value: PromqlValue, want: number): void {
  expect(value.type).toBe('scalar');
  if (value.type === 'scalar') sameNumber(value.value, want);
}
