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
    /** Series of Vigil's recording rules (any name the rule files record; NaN kept, as Prometheus records it). */
    readonly recorded: readonly Sample[] = [],
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
  private readonly recorded = new Map<string, Sample>();

  add(name: string, labels: Readonly<Record<string, string>>, value: number): void {
    const entry = SNAPSHOT_ENTRIES.get(name);
    if (entry === undefined) throw new Error(`${name} is not a snapshot metric of the catalog`);
    if (Number.isNaN(value)) return;
    const keys = Object.keys(labels);
    const segment = entry.segmentable === true && 'segment' in labels ? 1 : 0;
    if ((!entry.dynamicLabels && keys.length !== entry.labels.length + segment) || !entry.labels.every((l) => l in labels)) {
      throw new Error(`${name} takes labels {${entry.labels.join(',')}}${entry.segmentable === true ? ' (and segment)' : ''}, got {${keys.join(',')}}`);
    }
    const id = entry.dynamicLabels ? keys.sort().map((k) => [k, labels[k]]) : [...entry.labels.map((l) => labels[l]), ...(segment === 1 ? [labels.segment] : [])];
    this.series.set(`${name}${JSON.stringify(id)}`, { name, labels, value });
  }

  addAll(samples: Iterable<Sample>): void {
    for (const s of samples) this.add(s.name, s.labels, s.value);
  }

  /** A recording rule's series: any name but a catalog family's (the rule loader refuses those). */
  addRecorded(samples: Iterable<Sample>): void {
    for (const s of samples) {
      if (SNAPSHOT_ENTRIES.has(s.name)) throw new Error(`${s.name} is a catalog metric, not a recorded one`);
      const id = Object.keys(s.labels)
        .sort()
        .map((k) => [k, s.labels[k]]);
      this.recorded.set(`${s.name}${JSON.stringify(id)}`, s);
    }
  }

  get size(): number {
    return this.series.size;
  }

  build(at: number): Snapshot {
    return new Snapshot(at, [...this.series.values()], [...this.recorded.values()]);
  }
}

/**
 * Serves every snapshot family of the catalog from `current()`: `/metrics` renders a snapshot once
 * (then reuses the text until the next snapshot), so a scrape never computes.
 */
export function registerSnapshotFamilies(reg: MetricsRegistry, current: () => Snapshot): void {
  reg.setSnapshotSource(current);
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const formatValue = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

/** The exposition text of a snapshot's families (HELP/TYPE for every catalog family, then its series). */
export function renderSnapshot(snapshot: Snapshot): string {
  const out: string[] = [];
  for (const entry of SNAPSHOT_ENTRIES.values()) {
    out.push(`# HELP ${entry.name} ${escapeHelp(entry.help)}`, `# TYPE ${entry.name} ${entry.type}`);
    for (const s of snapshot.byName.get(entry.name) ?? []) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      out.push(`${entry.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(s.value)}`);
    }
  }
  // Recording rules' series, one family per recorded name (typed gauge: valid in both text formats).
  const recorded = new Map<string, Sample[]>();
  for (const s of snapshot.recorded) {
    const list = recorded.get(s.name);
    if (list === undefined) recorded.set(s.name, [s]);
    else list.push(s);
  }
  for (const name of [...recorded.keys()].sort()) {
    out.push(`# HELP ${name} Recorded by a Vigil recording rule.`, `# TYPE ${name} gauge`);
    for (const s of recorded.get(name) ?? []) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      out.push(`${name}${labels === '' ? '' : `{${labels}}`} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
