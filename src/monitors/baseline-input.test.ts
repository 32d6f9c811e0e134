import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import type { ModelConfig } from '../config/schema.js';
import { mulberry32 } from '../core/random.js';
import { readRawTable, readTable } from '../ingest/read-table.js';
import { typeColumns } from '../ingest/tabular.js';
import { buildBaseline, buildBaselineFromColumns, columnsOfRows, type BuiltBaseline } from './baseline.js';
import { baselineColumnsKept, baselineColumnTypes, referenceFromTable, rowsFromTable } from './baseline-input.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-baseline-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modelOf = (yaml: string): ModelConfig => {
  const m = parseConfigText(`models:\n${yaml}`, 'test.yaml', {}).models[0];
  if (m === undefined) throw new Error('no model');
  return m;
};
const binary = modelOf(
  '  - name: fraud\n    task: binary\n    min_samples: 20\n    segments: { max: 3 }\n    features:\n      - { name: amount, type: numeric }\n      - { name: country, type: categorical }\n      - { name: unused, type: numeric }\n      - { name: constructor, type: categorical }\n',
);
const multiclass = modelOf('  - name: churn\n    task: multiclass\n    classes: [stay, churn, maybe]\n    features:\n      - { name: tenure, type: numeric }\n      - { name: plan, type: categorical }\n');
const regression = modelOf('  - name: price\n    task: regression\n    min_samples: 10\n    segments: { max: 2 }\n    features:\n      - { name: size, type: numeric }\n      - { name: area, type: categorical }\n');

/** A baseline as stored: its summary's JSON text and its reference values. */
const stored = (b: BuiltBaseline) => ({ summary: JSON.stringify(b.summary), references: b.references.map((r) => ({ kind: r.kind, name: r.name, sorted: Array.from(r.sorted) })) });

/**
 * Both paths over one file: rows of strings typed, rows as objects, buildBaseline (the path the CLI
 * took before) — and typed columns read streamed, checked per column, buildBaselineFromColumns.
 */
async function bothPaths(model: ModelConfig, path: string) {
  const jsonColumns = model.task === 'multiclass' ? ['score'] : [];
  const raw = await readRawTable(path, { jsonColumns });
  const types = baselineColumnTypes(model);
  const has = (c: string): boolean => raw.header.includes(c);
  const t = typeColumns(raw, { numeric: (types.numeric ?? []).filter(has), categorical: (types.categorical ?? []).filter(has) });
  const rowPath = rowsFromTable(model, t);
  const table = await readTable(path, { overrides: types, overridesIfPresent: true, keep: baselineColumnsKept(model), jsonColumns, chunkBytes: 97 });
  const columnPath = referenceFromTable(model, table);
  expect(columnPath.rejected).toEqual(rowPath.rejected);
  expect(columnPath.rows).toBe(rowPath.rows.length);
  // either both build, or both fail the same way (a quality metric refusing three classes for a binary model)
  const attempt = (build: () => BuiltBaseline): BuiltBaseline | string => {
    try {
      return build();
    } catch (e) {
      return String(e);
    }
  };
  const fromRows = rowPath.rows.length === 0 ? undefined : attempt(() => buildBaseline(model, rowPath.rows));
  const fromColumns = columnPath.rows === 0 ? undefined : attempt(() => buildBaselineFromColumns(model, columnPath.columns));
  if (typeof fromRows === 'string' || typeof fromColumns === 'string') {
    expect(fromColumns).toBe(fromRows);
    return { fromRows: undefined, fromColumns: undefined, rejected: columnPath.rejected, table, failed: fromRows as string };
  }
  return { fromRows, fromColumns, rejected: columnPath.rejected, table, failed: undefined };
}

const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('a training file summarized from its columns = from its rows as objects', () => {
  it('binary, with segments, labels, scores, an unused feature and ignored columns', async () => {
    const lines = ['amount,country,prediction,score,label,segment,extra'];
    for (let i = 0; i < 300; i++) lines.push(`${i % 7 === 0 ? 'NA' : i * 1.5},${['PL', 'DE', '', 'FR'][i % 4]},${i % 4 === 0 ? 1 : 0},${((i * 37) % 100) / 100},${i % 5 === 0 ? 1 : 0},${i < 150 ? 'web' : i < 270 ? '007' : 'pos'},x`);
    const { fromRows, fromColumns } = await bothPaths(binary, write('binary.csv', lines.join('\n')));
    expect(fromRows).toBeDefined();
    expect(stored(fromColumns as BuiltBaseline)).toEqual(stored(fromRows as BuiltBaseline));
    // every segment value with at least min_samples (20) rows
    expect(Object.keys(fromColumns?.summary.segments ?? {})).toEqual(['web', '007', 'pos']);
    expect(fromColumns?.summary.calibration).toBeDefined();
  });

  it('binary: bad rows (a score out of range, an infinite score) rejected with the same line and reason', async () => {
    const text = 'amount,country,prediction,score,label\n1,PL,1,0.5,1\n\n2,DE,0,1.5,0\n3,DE,0,inf,0\n4,PL,1,-0.1,1\n5,"P\nL",1,0.9,1\n';
    const { fromRows, fromColumns, rejected } = await bothPaths(binary, write('bad.csv', text));
    expect(rejected.map((r) => [r.line, r.field, r.reason])).toEqual([
      [4, 'score', 'must be <= 1'],
      [6, 'score', 'must be >= 0'],
    ]);
    expect(stored(fromColumns as BuiltBaseline)).toEqual(stored(fromRows as BuiltBaseline));
  });

  it('multiclass: {class: probability} maps from NDJSON objects, unknown classes and bad maps rejected', async () => {
    const rows = [];
    const r = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const c = ['stay', 'churn', 'maybe'][i % 3] as string;
      const p = r();
      const score = i % 17 === 0 ? { stay: 1.5 } : i % 19 === 0 ? { gone: 0.5 } : { stay: p / 2, churn: (1 - p) / 2, maybe: 0.5 };
      rows.push(JSON.stringify({ tenure: i % 11 === 0 ? null : i, plan: ['a', 'b'][i % 2], prediction: i % 23 === 0 ? 'nope' : ['stay', 'churn', 'maybe'][(i + (i % 4)) % 3], score, label: c }));
    }
    const { fromRows, fromColumns, rejected } = await bothPaths(multiclass, write('mc.ndjson', rows.join('\n')));
    expect(rejected.length).toBeGreaterThan(10);
    expect(stored(fromColumns as BuiltBaseline)).toEqual(stored(fromRows as BuiltBaseline));
    expect(fromColumns?.summary.classCalibrations).toBeDefined();
  });

  it('multiclass: the maps as JSON text in CSV cells', async () => {
    const cell = (o: object) => `"${JSON.stringify(o).replace(/"/g, '""')}"`;
    const lines = ['tenure,plan,prediction,score,label'];
    for (let i = 0; i < 60; i++) lines.push(`${i},${i % 2 ? 'a' : 'b'},${['stay', 'churn'][i % 2]},${i % 9 === 0 ? 'not json' : cell({ stay: (i % 10) / 10, churn: 1 - (i % 10) / 10, maybe: 0 })},${['stay', 'churn', 'maybe'][i % 3]}`);
    const { fromRows, fromColumns, rejected } = await bothPaths(multiclass, write('mc.csv', lines.join('\n')));
    expect(rejected.map((x) => x.line)).toEqual([2, 11, 20, 29, 38, 47, 56]);
    expect(stored(fromColumns as BuiltBaseline)).toEqual(stored(fromRows as BuiltBaseline));
  });

  it('regression: a score column is refused on every row that has one; segments', async () => {
    const lines = ['size,area,prediction,label,score,segment'];
    for (let i = 0; i < 80; i++) lines.push(`${i},${['n', 's'][i % 2]},${i * 2.5},${i % 6 === 0 ? '' : i * 2.4},${i % 10 === 0 ? 0.3 : ''},${['a', 'b', 'c'][i % 3]}`);
    const { fromRows, fromColumns, rejected } = await bothPaths(regression, write('reg.csv', lines.join('\n')));
    expect(rejected.map((x) => [x.line, x.field, x.reason])).toEqual(Array.from({ length: 8 }, (_, k) => [k * 10 + 2, 'score', 'must be null']));
    expect(stored(fromColumns as BuiltBaseline)).toEqual(stored(fromRows as BuiltBaseline));
    expect(Object.keys(fromColumns?.summary.segments ?? {})).toEqual(['a', 'b', 'c']);
  });

  it('Parquet (arrow-rs): the features it has, the label column', async () => {
    const path = new URL('../../test/fixtures/parquet/sample-snappy.parquet', import.meta.url).pathname;
    const { fromRows, fromColumns } = await bothPaths(binary, path);
    expect(stored(fromColumns as BuiltBaseline)).toEqual(stored(fromRows as BuiltBaseline));
  });

  it('randomized tables of every task: the same baseline and the same rejected rows', async () => {
    const models = [binary, multiclass, regression];
    let built = 0;
    for (let seed = 1; seed <= 45; seed++) {
      const r = mulberry32(seed);
      const model = models[seed % 3] as ModelConfig;
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
      const n = 1 + Math.floor(r() * 250);
      const names = model.task === 'multiclass' ? ['tenure', 'plan'] : model.task === 'binary' ? ['amount', 'country', 'constructor'] : ['size', 'area'];
      const cols = [...names.filter(() => r() < 0.9), 'prediction', 'label', ...(r() < 0.8 ? ['score'] : []), ...(r() < 0.6 ? ['segment'] : [])];
      const classes = model.task === 'multiclass' ? ['stay', 'churn', 'maybe', 'gone'] : ['0', '1', 'yes'];
      const value = (c: string): string => {
        if (r() < 0.08) return pick(['', 'NA', 'null']);
        switch (c) {
          case 'amount':
          case 'tenure':
          case 'size':
            return pick([String(Math.round(r() * 1000) / 10), String(Math.floor(r() * 5)), 'inf', '-0', '1e3']);
          case 'prediction':
          case 'label':
            return model.task === 'regression' ? pick([String(r() * 10), 'inf', String(Math.floor(r() * 3))]) : pick(classes.slice(0, r() < 0.95 ? 2 : classes.length));
          case 'score':
            if (model.task === 'multiclass') {
              const p = r();
              return `"${JSON.stringify(r() < 0.05 ? { stay: 2 } : { stay: p, churn: 1 - p, ...(r() < 0.9 ? { maybe: 0 } : {}) }).replace(/"/g, '""')}"`;
            }
            return pick([String(Math.round(r() * 1000) / 1000), String(Math.round(r() * 1000) / 1000), '1.2', '-inf', '1', '0']);
          case 'segment':
            return r() < 0.02 ? 'x'.repeat(130) : pick(['web', 'pos', 'app', ' web ']);
          default:
            return pick(['PL', 'DE', ' FR', 'PL', '0']);
        }
      };
      const lines = [cols.join(',')];
      for (let i = 0; i < n; i++) lines.push(cols.map(value).join(','));
      const { fromRows, fromColumns } = await bothPaths(model, write(`random-${seed}.csv`, lines.join(r() < 0.5 ? '\n' : '\r\n')));
      expect(fromColumns === undefined ? undefined : stored(fromColumns), `seed ${seed}`).toEqual(fromRows === undefined ? undefined : stored(fromRows));
      if (fromColumns !== undefined) built++;
    }
    expect(built).toBeGreaterThan(30); // most tables build (the others fail the same way on both paths)
  });
});

describe('buildBaselineFromColumns', () => {
  it('with release, frees the feature columns as it summarizes them, and builds the same baseline', async () => {
    const model = modelOf('  - name: m\n    task: binary\n    features:\n      - { name: a, type: numeric }\n      - { name: b, type: categorical }\n');
    const lines = ['a,b,prediction,score,label'];
    for (let i = 0; i < 100; i++) lines.push(`${i},${i % 3},${i % 2},${(i % 10) / 10},${i % 3 === 0 ? 1 : 0}`);
    const path = write('release.csv', lines.join('\n'));
    const read = async () => referenceFromTable(model, await readTable(path, { overrides: baselineColumnTypes(model), overridesIfPresent: true })).columns;
    const kept = buildBaselineFromColumns(model, await read());
    const columns = await read();
    const released = buildBaselineFromColumns(model, columns, { release: true });
    expect(stored(released)).toEqual(stored(kept));
    expect((columns.features.get('a') as Float64Array).length).toBe(0);
    expect(columns.label).toBeDefined();
  });

  it('rows as objects and the same rows as columns: one builder; a row without an own feature has none (no inherited "constructor")', () => {
    const rows = [
      { features: { amount: 1, country: 'PL' }, prediction: '1', score: 0.7, label: '1' },
      { features: { amount: 2 }, prediction: '0', score: 0.2, label: '1' },
    ];
    const built = buildBaseline(binary, rows);
    expect(built.summary.features.constructor).toBeUndefined();
    expect(stored(buildBaselineFromColumns(binary, columnsOfRows(binary, rows)))).toEqual(stored(built));
  });
});
