import { RE2JS } from 're2js';
import type { Labels } from '../types.js';
import type { LabelMatcher, MatchOp } from './ast.js';

export const METRIC_NAME = '__name__';

/** Prometheus `schema.IsMetadataLabel`: __name__, __type__, __unit__ are dropped with the metric name. */
/** A fresh, prototype-free label object (so a label named `constructor` is just a label). */
export function newLabels(): Record<string, string> {
  return new LabelSet();
}

/**
 * The objects label sets are: nothing inherited (a label may be named `__proto__`, `constructor`
 * or `toString`, and stays an own property), yet in V8's fast mode — an object from
 * Object.create(null) is a hash table from the start, ~400 bytes more per label set, and the
 * rule engine indexes every series of every snapshot (10,000 in the rules bench).
 */
const LabelSet = function LabelSet() {} as unknown as new () => Record<string, string>;
LabelSet.prototype = Object.create(null) as Record<string, string>;

/*
 * Per-label-set caches, keyed by object identity. Plain Maps, not WeakMaps: WeakMap insertion was
 * the bottleneck at 10^5 entries per evaluation. They are cleared when a new SeriesIndex is built
 * (a new snapshot) and when they grow past a bound, so they hold at most about one snapshot's worth
 * of evaluations; a cleared entry is only recomputed, never wrong.
 */
const namesCache = new Map<Labels, readonly string[]>();
const keyCache = new Map<Labels, string>();
const droppedCache = new Map<Labels, Labels>();
const MAX_CACHED = 2_000_000;

export function resetLabelCaches(): void {
  namesCache.clear();
  keyCache.clear();
  droppedCache.clear();
}

function bound(): void {
  if (keyCache.size > MAX_CACHED || namesCache.size > MAX_CACHED || droppedCache.size > MAX_CACHED) resetLabelCaches();
}

/** Label names in Prometheus order (sorted). Cached per label-set object. */
export function sortedNames(labels: Labels): readonly string[] {
  let names = namesCache.get(labels);
  if (names === undefined) {
    names = Object.keys(labels).sort(compareStrings);
    bound();
    namesCache.set(labels, names);
  }
  return names;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Records what is already known about a label set built in sorted order: its sorted names and key
 * (so neither is recomputed). `names` must be sorted and `key` must equal what labelsKey computes.
 */
export function seal(labels: Labels, names: readonly string[], key: string): Labels {
  bound();
  namesCache.set(labels, names);
  keyCache.set(labels, key);
  return labels;
}

/** Builds a label set from a source, keeping the names `keep` accepts (source order is sorted). */
export function pick(src: Labels, keep: (name: string) => boolean): Labels {
  const out = newLabels();
  const names: string[] = [];
  const parts: string[] = [];
  for (const n of sortedNames(src)) {
    if (!keep(n)) continue;
    const v = src[n] as string;
    out[n] = v;
    names.push(n);
    parts.push(part(n, v));
  }
  return seal(out, names, parts.join(''));
}

export function part(name: string, value: string): string {
  return `${name.length}:${name}${value.length}:${value}`;
}

/**
 * The key of a whole label set, from its sorted names. Joined, not concatenated with +=: a key
 * built by += is a rope that keeps every part alive as long as the key (cached with the label set)
 * — twice the memory of the flat string join makes.
 */
export function keyOfSorted(labels: Labels, names: readonly string[]): string {
  return names.map((n) => part(n, labels[n] as string)).join('');
}

/** An unambiguous key of a whole label set (equal keys ⇔ equal label sets). Cached per object. */
export function labelsKey(labels: Labels): string {
  let key = keyCache.get(labels);
  if (key === undefined) {
    key = keyOfSorted(labels, sortedNames(labels));
    keyCache.set(labels, key);
  }
  return key;
}

/** Key over only `names` (sorted) — Prometheus `BytesWithLabels` / `HashForLabels`. */
export function keyWith(labels: Labels, names: readonly string[]): string {
  let key = '';
  for (const n of names) {
    const v = labels[n];
    if (v !== undefined) key += part(n, v);
  }
  return key;
}

/** Key over all labels but `names` and `__name__` — Prometheus `BytesWithoutLabels` / `HashWithoutLabels`. */
export function keyWithout(labels: Labels, names: ReadonlySet<string>): string {
  let key = '';
  for (const n of sortedNames(labels)) {
    if (n === METRIC_NAME || names.has(n)) continue;
    key += part(n, labels[n] as string);
  }
  return key;
}

/** The label set without `__name__` (and the other metadata labels). Same object when none is present. */
export function dropMetricName(labels: Labels): Labels {
  if (labels[METRIC_NAME] === undefined && labels['__type__'] === undefined && labels['__unit__'] === undefined) return labels;
  let out = droppedCache.get(labels);
  if (out === undefined) {
    out = pick(labels, (n) => n !== '__name__' && n !== '__type__' && n !== '__unit__');
    droppedCache.set(labels, out);
  }
  return out;
}

/** Prometheus `Labels.String()`: `{a="b", c="d"}`. */
export function formatLabels(labels: Labels): string {
  return `{${sortedNames(labels)
    .map((n) => `${/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n) ? n : JSON.stringify(n)}=${JSON.stringify(labels[n])}`)
    .join(', ')}}`;
}

/** Compiles a Prometheus regex matcher: it must parse on its own, then runs fully anchored with `.` matching newlines. */
export function compileAnchoredRegex(re: string): (s: string) => boolean {
  RE2JS.compile(re); // throws on a syntax error, like syntax.Parse(v) in Prometheus
  const compiled = RE2JS.compile(`^(?s:${re})$`);
  return (s) => compiled.matches(s);
}

export function newMatcher(name: string, op: MatchOp, value: string): LabelMatcher {
  let matches: (v: string) => boolean;
  switch (op) {
    case '=':
      matches = (v) => v === value;
      break;
    case '!=':
      matches = (v) => v !== value;
      break;
    case '=~': {
      const re = compileAnchoredRegex(value);
      matches = re;
      break;
    }
    case '!~': {
      const re = compileAnchoredRegex(value);
      matches = (v) => !re(v);
      break;
    }
  }
  return { name, op, value, matches };
}
