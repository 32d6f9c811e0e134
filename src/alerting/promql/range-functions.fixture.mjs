#!/usr/bin/env node
// Regenerates range-functions.fixture.json: what the real Prometheus 2.42 engine (Debian's
// /usr/bin/promtool, `promtool test rules`) computes for every range function of
// range-functions.ts over hand-chosen series and windows.
//
//   node src/alerting/promql/range-functions.fixture.mjs [path/to/promtool]
//
// How the values are harvested: each case is a `promql_expr_test` whose `exp_samples` is a dummy
// sample that can never match, so promtool fails it and prints what the engine returned,
// "got: {labels} <value>, ..." with each value as strconv.FormatFloat(v, 'E', -1, 64) - the
// shortest representation that round-trips, which JavaScript's Number() parses back to the same
// double. A case whose evaluation fails (holt_winters' factor checks) prints "err: <message>"
// instead. Each test group is written to its own file under a temp dir and run on its own, and
// the failure blocks are matched to the cases in order (each case yields exactly one block).
//
// The fixture keeps the raw strings; range-functions.test.ts decodes them, selects each series'
// points in the closed window [eval - offset - range, eval - offset] as the engine does (stale
// markers dropped), calls the TypeScript function and compares with Object.is.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, 'range-functions.fixture.json');
const PROMTOOL = process.argv[2] ?? '/usr/bin/promtool';

// ---- durations --------------------------------------------------------------------------------

/** ms → a Prometheus duration ("7m30s", "1m1s123ms", "0s"), accepted in PromQL and in YAML. */
function dur(ms) {
  if (ms === 0) return '0s';
  const parts = [];
  let rest = ms;
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ]) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.join('');
}

const S = 1000;
const M = 60_000;

// ---- the series -------------------------------------------------------------------------------

/** A deterministic pseudo-random sequence (LCG), so the fixture regenerates identically. */
function lcg(seed) {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Values for the sort stress group: NaNs, duplicates, ±0, ±Inf, sorted and reversed runs. */
function sortStressValues() {
  const rnd = lcg(42);
  const pool = ['NaN', '-0', '0', '1', '2', '2.5', '-3', '7', '0.001', 'Inf', '-Inf', '1e300', '-2.75', '13', '0.1'];
  const out = [];
  for (let i = 0; i < 60; i++) out.push(pool[Math.floor(rnd() * pool.length)]); // random, many NaNs
  for (let i = 0; i < 60; i++) out.push(i % 17 === 5 ? 'NaN' : String(i * 0.5 - 7)); // rising, a few NaNs
  for (let i = 0; i < 60; i++) out.push(i === 30 ? 'NaN' : String(100 - i * 1.25)); // falling, one NaN
  for (let i = 0; i < 60; i++) out.push(['-0', '0', '0', '-0', '1', 'NaN', '-0'][Math.floor(rnd() * 7)]); // dups
  for (let i = 0; i < 40; i++) out.push(rnd() < 0.5 ? 'NaN' : String(Math.round(rnd() * 1000) / 8)); // half NaN
  return out.join(' ');
}

/** Values for the 15s group: float counters with a reset, a gauge, and a noisy series. */
function scrapeValues(kind) {
  const rnd = lcg(kind === 'counter' ? 7 : kind === 'gauge' ? 8 : 9);
  const out = [];
  let c = 1234.5;
  for (let i = 0; i < 90; i++) {
    if (kind === 'counter') {
      if (i === 41) c = 0.75; // a counter reset to a small value
      else c += Math.round(rnd() * 50000) / 100;
      out.push(String(c));
    } else if (kind === 'gauge') {
      out.push(String(Math.round((Math.sin(i / 5) * 100 + rnd() * 10) * 1000) / 1000));
    } else {
      out.push(i % 13 === 3 ? '_' : String((rnd() - 0.5) * 1e-6));
    }
  }
  return out.join(' ');
}

const GROUPS = [
  {
    name: 'minute',
    intervalMs: M,
    series: {
      counter: '0 10 20 30 45 60 80 100 130 160 200 250 300 360 420 500 580 660 750 850',
      counter_resets: '5 10 15 3 8 13 20 2 7 12 30 1 4 9 9 9 0 3 6 10',
      reset_to_zero: '100 200 0 50 100 0 0 30 60 90 0 10 20 30 40 0 0 0 5 10',
      high_start: '1000 1010 1020 1030 1040 1050 1060 1070 1080 1090 1100 1110 1120 1130 1140 1150 1160 1170 1180 1190',
      low_start: '1 5 9 13 17 21 25 29 33 37 41 45 49 53 57 61 65 69 73 77',
      negative_counter: '-10 -5 0 5 -20 -15 -10 -30 -25 -20 -15 -10 -5 0 5 10 15 20 25 30',
      gauge: '-5 -3 -10 4 -2 7 -8 0.5 -0.25 3 1e-3 -7 2 2 2 -1 6 -6 1 0',
      irregular: '1 _ _ 4 5 _ 9 _ _ _ 20 _ 21 22 _ _ _ _ _ 40',
      sparse: '_ _ _ _ 42 _ _ _ _ _ _ _ 7 _ _ _ _ _ _ _',
      nan_inf: '1 NaN 3 Inf 5 -Inf 7 NaN NaN 10 Inf Inf 2 -Inf -Inf 3 NaN 4 Inf -Inf',
      inf_first: 'Inf 1 2 3 Inf 4 -Inf 5 6 NaN 7 8 9 10 11 12 13 14 15 16',
      large: '1e308 1.5e308 -1e308 1.7e308 1.79e308 1.79e308 -1.79e308 1e308 1.7976931348623157e308 1.7976931348623157e308 1e300 -1e300 5e307 9e307 1.2e308 1.3e308 -1.6e308 1.6e308 1e308 1e308',
      fractions: '0.1 0.2 0.3 0.7 1.1 1.3 1.9 2.6 3.3 3.4 3.45 3.9 4.4 5 5.1 5.15 6.7 7.7 8.8 9.9',
      constant: '3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3',
      constant_inf: 'Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf Inf',
      all_nan: 'NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN',
      stale: '1 2 stale 4 5 stale stale 8 9 10 stale 12 13 14 15 stale 17 18 19 stale',
      signed_zero: '-0 0 -0 -0 0 -0 0 0 -0 -0 -0 0 -0 0 0 0 -0 -0 -0 0',
      tiny: '1e-300 2e-300 5e-324 1e-310 3e-300 -1e-300 4e-300 5e-300 6e-300 1e-320 7e-300 8e-300 9e-300 1e-299 2e-299 3e-299 4e-299 5e-299 6e-299 7e-299',
    },
    // [eval, range, offset] in ms (a fourth element 'quantiles' limits a window to quantile_over_time).
    windows: [
      [7 * M + 30 * S, 5 * M, 0], // cuts between samples
      [10 * M, 5 * M, 0], // samples exactly on both edges
      [10 * M, 5 * M, 90 * S], // offset: range end is not the evaluation time
      [4 * M, 1 * M, 0], // two samples, on the edges
      [4 * M + 30 * S, 1 * M, 0], // one sample
      [19 * M + 59 * S + 999, 61_123, 0], // odd range: Duration.Seconds() double rounding
      [15 * M, 15 * M, 0], // 16 samples
      [12 * M + 20 * S, 4 * M + 50 * S, 20 * S],
      [0, 1 * M, 0], // only the sample at t=0
      [25 * M, 10 * M, 5 * M], // beyond the data's end
      [19 * M + 1, 4 * M + 1, 0], // start 1ms after a sample
      [14 * M + 29 * S, 7 * M + 59 * S, 1], // 1ms offset
    ],
  },
  {
    name: 'scrape15s',
    intervalMs: 15 * S,
    series: {
      counter: scrapeValues('counter'),
      gauge: scrapeValues('gauge'),
      noise: scrapeValues('noise'),
    },
    windows: [
      [4 * M + 7 * S, 1 * M, 0],
      [10 * M, 2 * M, 0],
      [10 * M + 14 * S + 500, 5 * M, 0],
      [13 * M + 14 * S + 500, 1234, 0],
      [15 * M + 1 * S, 15 * M, 30 * S],
      [22 * M, 20 * S, 0],
      [11 * M + 7 * S, 3 * M + 3 * S + 3, 7 * S + 7],
    ],
  },
  {
    name: 'seven-seconds',
    intervalMs: 7 * S,
    series: {
      counter: '3 3 4 10 11 11 12 0 1 5 8 8 8 9 20 20 21 0 0 2 3 3 7 7 9 11 15 16 17 17 30 31 33 35 40 41 50 51 53 56',
      gauge: '5.5 -2.25 3.125 0 _ _ 7 7.5 8 _ 1e10 1e10 -1e10 2 2 _ 3 4 5 6 7 -7 1 1 1 NaN 1 1 2 3 -0 4 5 6 7 8 9 10 11 12',
      bursty: '1 _ _ _ _ _ 2 3 4 _ _ _ _ _ _ _ _ 10 11 _ 12 _ _ 13 _ _ _ _ _ _ _ _ _ _ _ 20 21 22 23 24',
    },
    windows: [
      [1 * M + 40 * S, 30 * S, 0],
      [1 * M + 40 * S, 1 * M, 0],
      [2 * M + 27 * S, 1 * M + 10 * S, 0],
      [3 * M + 30 * S, 35 * S, 0],
      [4 * M + 33 * S, 7777, 0],
      [2 * M + 20 * S, 299_999, 5 * S],
    ],
  },
  {
    name: 'sort-stress',
    intervalMs: 1 * S,
    series: { values: sortStressValues() },
    windows: [
      [11 * S, 12 * S, 0], // 12 values: insertion sort
      [12 * S, 12 * S, 0], // 13 values: pdqsort
      [59 * S, 49 * S, 0], // 50 values: Tukey ninther
      [1 * M + 13 * S, 1 * M, 0],
      [2 * M, 2 * M, 0], // random + rising runs
      [3 * M + 30 * S, 1 * M, 0], // falling run
      [4 * M, 1 * M, 0], // duplicates and signed zeros
      [4 * M + 39 * S, 59 * S, 0], // half NaN
      [4 * M + 39 * S, 4 * M + 39 * S, 0], // everything (280 values)
      [95 * S + 500, 5137, 0], // ranges whose Duration.Seconds() is not ms / 1000
      [110 * S, 1118, 0],
      // Sliding windows of assorted sizes, for quantile_over_time's sort (see SORT_PHIS).
      ...[13, 20, 33, 49, 57, 64, 75, 99, 128, 150, 201].flatMap((size, i) => [
        [(size + 7 * i) * S, size * S - 1, 0, 'quantiles'],
        [(279 - 11 * i) * S, size * S, 0, 'quantiles'],
      ]),
    ],
  },
];

// ---- the functions ----------------------------------------------------------------------------

/** [PromQL function, args before the range vector, args after it] (args as PromQL literals). */
const FUNCTIONS = [
  ['rate', [], []],
  ['increase', [], []],
  ['delta', [], []],
  ['irate', [], []],
  ['idelta', [], []],
  ['deriv', [], []],
  ['predict_linear', [], ['300']],
  ['predict_linear', [], ['-90.5']],
  ['holt_winters', [], ['0.3', '0.6']],
  ['holt_winters', [], ['0.9', '0.05']],
  ['changes', [], []],
  ['resets', [], []],
  ['avg_over_time', [], []],
  ['min_over_time', [], []],
  ['max_over_time', [], []],
  ['sum_over_time', [], []],
  ['count_over_time', [], []],
  ['last_over_time', [], []],
  ['stddev_over_time', [], []],
  ['stdvar_over_time', [], []],
  ['present_over_time', [], []],
  ['quantile_over_time', ['0'], []],
  ['quantile_over_time', ['0.25'], []],
  ['quantile_over_time', ['0.5'], []],
  ['quantile_over_time', ['0.9'], []],
  ['quantile_over_time', ['1'], []],
  ['quantile_over_time', ['-0.5'], []],
  ['quantile_over_time', ['1.5'], []],
  ['quantile_over_time', ['NaN'], []],
];

/** More φ for the sort stress group: each probes other positions of the sorted values. */
const SORT_PHIS = ['0.05', '0.1', '0.15', '0.2', '0.3', '0.35', '0.4', '0.45', '0.55', '0.6', '0.65', '0.7', '0.75', '0.8', '0.85', '0.95', '0.99'];

/** holt_winters factors that 2.42 rejects (and a few it lets through), over the minute group. */
const HOLT_WINTERS_FACTORS = [
  ['1.0078125', '0.5'], // %f rounds half to even: 1.007812
  ['0.5', '-0.0078125'], // -0.007812
  ['0', '0.5'],
  ['-0', '0.5'], // -0.000000
  ['1', '0.5'],
  ['0.5', '1'],
  ['0.5', '0'],
  ['1e22', '0.5'], // no exponent form with %f
  ['-5e-7', '0.5'],
  ['2.5000005', '0.5'],
  ['Inf', '0.5'],
  ['0.5', '-Inf'],
  ['NaN', '0.5'], // NaN passes both comparisons: no error
  ['0.5', 'NaN'],
  ['0.999999', '0.000001'],
];

// ---- building, running, parsing ---------------------------------------------------------------

function callExpr(fn, before, after, rangeMs, offsetMs) {
  const sel = `m[${dur(rangeMs)}]${offsetMs ? ` offset ${dur(offsetMs)}` : ''}`;
  return `${fn}(${[...before, sel, ...after].join(', ')})`;
}

function buildCases(group) {
  const cases = [];
  for (const [evalMs, rangeMs, offsetMs, only] of group.windows) {
    for (const [fn, before, after] of FUNCTIONS) {
      if (only === 'quantiles' && fn !== 'quantile_over_time') continue;
      cases.push({ fn, args: [...before, ...after], evalMs, rangeMs, offsetMs, expr: callExpr(fn, before, after, rangeMs, offsetMs) });
    }
    if (group.name === 'sort-stress') {
      for (const phi of SORT_PHIS) {
        cases.push({ fn: 'quantile_over_time', args: [phi], evalMs, rangeMs, offsetMs, expr: callExpr('quantile_over_time', [phi], [], rangeMs, offsetMs) });
      }
    }
  }
  // promtool loads the input series step by step up to the largest eval_time of the group, in
  // steps of evaluation_interval (1m), before it runs any promql_expr_test: samples after the last
  // whole minute <= the largest eval_time would silently be missing. A last case evaluated past
  // every sample makes sure all of them are loaded; it is dropped from the fixture.
  const lastSampleMs = Math.max(...Object.values(group.series).map((values) => (values.trim().split(/\s+/).length - 1) * group.intervalMs));
  const sentinelMs = (Math.floor(lastSampleMs / M) + 2) * M;
  cases.push({ fn: 'count_over_time', args: [], evalMs: sentinelMs, rangeMs: sentinelMs, offsetMs: 0, expr: `count_over_time(m[${dur(sentinelMs)}])`, sentinel: true });
  if (group.name === 'minute') {
    for (const [sf, tf] of HOLT_WINTERS_FACTORS) {
      const [evalMs, rangeMs, offsetMs] = [10 * M, 5 * M, 0];
      cases.push({ fn: 'holt_winters', args: [sf, tf], evalMs, rangeMs, offsetMs, expr: callExpr('holt_winters', [], [sf, tf], rangeMs, offsetMs) });
    }
  }
  return cases;
}

function yamlFor(group, cases) {
  const lines = ['evaluation_interval: 1m', 'tests:', `  - interval: ${dur(group.intervalMs)}`, '    input_series:'];
  for (const [name, values] of Object.entries(group.series)) {
    lines.push(`      - series: 'm{s="${name}"}'`, `        values: '${values}'`);
  }
  lines.push('    promql_expr_test:');
  for (const c of cases) {
    lines.push(
      `      - expr: '${c.expr}'`,
      `        eval_time: ${dur(c.evalMs)}`,
      '        exp_samples:',
      `          - labels: '{never="matches"}'`,
      '            value: 0',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The samples promtool loads for a `values` string: index × interval, '_' absent, stale dropped. */
function samplesOf(values, intervalMs) {
  const out = [];
  values
    .trim()
    .split(/\s+/)
    .forEach((v, i) => {
      if (v === '_' || v === 'stale') return;
      out.push([i * intervalMs, v]);
    });
  return out;
}

const BLOCK = /^ {4}expr: "([^"]*)", time: ([^,\n]+),(?: err: (.*)|\n {8}exp: .*\n {8}got: (.*))$/gm;
const SAMPLE = /\{([^}]*)\} ([^,\s]+)/g;

function parseOutput(text, cases) {
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length !== cases.length) {
    throw new Error(`expected ${cases.length} failure blocks from promtool, parsed ${blocks.length}:\n${text.slice(0, 3000)}`);
  }
  return blocks.map((m, i) => {
    const c = cases[i];
    if (m[1] !== c.expr) throw new Error(`block ${i} is for ${m[1]}, expected ${c.expr}`);
    const out = { fn: c.fn, args: c.args, evalMs: c.evalMs, rangeMs: c.rangeMs, offsetMs: c.offsetMs, expr: c.expr };
    if (m[3] !== undefined) return { ...out, error: m[3] };
    const results = {};
    const named = [];
    if (m[4] !== 'nil') {
      for (const s of m[4].matchAll(SAMPLE)) {
        const labels = Object.fromEntries([...s[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        if (labels.s === undefined) throw new Error(`sample without s label in ${m[4]}`);
        results[labels.s] = s[2];
        if (labels.__name__ !== undefined) named.push(labels.s);
      }
    }
    return { ...out, results, named };
  });
}

/** JSON with one series or one case per line, so that a regenerated fixture diffs readably. */
function render(fixture) {
  const j = JSON.stringify;
  const groups = fixture.groups.map((g) => {
    const series = Object.entries(g.series).map(([name, samples]) => `    ${j(name)}: ${j(samples)}`);
    const cases = g.cases.map((c) => `    ${j(c)}`);
    return [
      `  {"name": ${j(g.name)}, "intervalMs": ${j(g.intervalMs)},`,
      '   "series": {',
      series.join(',\n'),
      '   },',
      '   "cases": [',
      cases.join(',\n'),
      '   ]}',
    ].join('\n');
  });
  return `{"comment": ${j(fixture.comment)},\n "promtool": ${j(fixture.promtool)},\n "groups": [\n${groups.join(',\n')}\n]}\n`;
}

function main() {
  const version = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`cannot run ${PROMTOOL}: ${version.stderr || version.error}`);
  const versionLine = `${version.stdout}${version.stderr}`.split('\n')[0].trim();
  if (!/version 2\.42\./.test(versionLine)) throw new Error(`expected Prometheus 2.42 promtool, got: ${versionLine}`);

  const dir = mkdtempSync(join(tmpdir(), 'vigil-range-fixture-'));
  try {
    const groups = GROUPS.map((group) => {
      const cases = buildCases(group);
      const file = join(dir, `${group.name}.yml`);
      writeFileSync(file, yamlFor(group, cases));
      const run = spawnSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      if (run.status !== 1) throw new Error(`promtool exited ${run.status} for ${group.name}:\n${run.stdout}${run.stderr}`);
      const all = parseOutput(`${run.stdout}\n${run.stderr}`, cases);
      const parsed = all.filter((_, i) => !cases[i].sentinel);
      // The sentinel's counts prove that every sample was loaded.
      const sentinel = all[cases.findIndex((c) => c.sentinel)];
      for (const [name, values] of Object.entries(group.series)) {
        const want = samplesOf(values, group.intervalMs).length;
        if (Number(sentinel.results[name]) !== want) throw new Error(`${group.name}/${name}: promtool loaded ${sentinel.results[name]} samples, expected ${want}`);
      }
      const series = Object.fromEntries(Object.entries(group.series).map(([name, values]) => [name, samplesOf(values, group.intervalMs)]));
      return { name: group.name, intervalMs: group.intervalMs, series, cases: parsed };
    });
    const fixture = {
      comment:
        'Generated by range-functions.fixture.mjs from `promtool test rules` (Prometheus 2.42). Do not edit. ' +
        'series: name -> [tMs, value as loaded] (stale markers and gaps omitted). ' +
        "cases: results maps series name -> value as strconv.FormatFloat(v, 'E', -1, 64); a series absent from results had no output sample; " +
        'named lists the series whose output kept __name__; error is the evaluation error text.',
      promtool: versionLine,
      groups,
    };
    writeFileSync(OUT, render(fixture));
    const n = groups.reduce((a, g) => a + g.cases.length, 0);
    process.stdout.write(`wrote ${OUT}: ${groups.length} groups, ${n} cases\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
