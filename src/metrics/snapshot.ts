import type { Metric } from 'prom-client';
import { CATALOG, type CatalogEntry } from './catalog.js';
import type { MetricsRegistry } from './registry.js';

/** One sample of a snapshot: a series (name + labels) and its value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * One immutable set of computed samples, published by an evaluation cycle. `/metrics` serves the
 * latest snapshot (a scrape never computes) and the rule engine evaluates against the same one.
 */
export class Snapshot {
  readonly byName: ReadonlyMap<string, readonly Sample[]>;
  constructor(
    readonly at: number,
    readonly samples: readonly Sample[],
  ) {
    const by = new Map<string, Sample[]>();
    for (const s of samples) {
      const list = by.get(s.name);
      if (list === undefined) by.set(s.name, [s]);
      else list.push(s);
    }
    this.byName = by;
  }

  static readonly EMPTY = new Snapshot(0, []);

  /** The value of one series, or undefined when absent. */
  value(name: string, labels: Readonly<Record<string, string>>): number | undefined {
    const keys = Object.keys(labels);
    return this.byName.get(name)?.find((s) => keys.length === Object.keys(s.labels).length && keys.every((k) => s.labels[k] === labels[k]))?.value;
  }
}

const SNAPSHOT_ENTRIES = new Map(CATALOG.filter((c) => c.origin === 'snapshot').map((c) => [c.name, c]));

/**
 * Collects samples for a snapshot. Only catalog families of origin `snapshot` are accepted, with
 * exactly the catalog's label names; NaN is never exported (absent means unknown). A later sample
 * of the same series replaces an earlier one.
 */
export class SnapshotBuilder {
  private readonly series = new Map<string, Sample>();

  add(name: string, labels: Readonly<Record<string, string>>, value: number): void {
    const entry = SNAPSHOT_ENTRIES.get(name);
    if (entry === undefined) throw new Error(`${name} is not a snapshot metric of the catalog`);
    if (Number.isNaN(value)) return;
    const keys = Object.keys(labels);
    if ((!entry.dynamicLabels && keys.length !== entry.labels.length) || !entry.labels.every((l) => l in labels)) {
      throw new Error(`${name} takes labels {${entry.labels.join(',')}}, got {${keys.join(',')}}`);
    }
    const id = entry.dynamicLabels ? keys.sort().map((k) => [k, labels[k]]) : entry.labels.map((l) => labels[l]);
    this.series.set(`${name}${JSON.stringify(id)}`, { name, labels, value });
  }

  addAll(samples: Iterable<Sample>): void {
    for (const s of samples) this.add(s.name, s.labels, s.value);
  }

  get size(): number {
    return this.series.size;
  }

  build(at: number): Snapshot {
    return new Snapshot(at, [...this.series.values()]);
  }
}

/** Registers every snapshot family of the catalog in the registries, served from `current()`. */
export function registerSnapshotFamilies(reg: MetricsRegistry, current: () => Snapshot): void {
  for (const entry of SNAPSHOT_ENTRIES.values()) reg.register(snapshotFamily(entry, current) as unknown as Metric);
}

function snapshotFamily(entry: CatalogEntry, current: () => Snapshot) {
  return {
    name: entry.name,
    help: entry.help,
    type: entry.type,
    aggregator: 'omit',
    // prom-client calls get() at scrape time: it only reads the published snapshot.
    get: async () => ({
      name: entry.name,
      help: entry.help,
      type: entry.type,
      aggregator: 'omit',
      values: (current().byName.get(entry.name) ?? []).map((s) => ({ labels: s.labels, value: s.value })),
    }),
    reset: () => undefined,
  };
}
