import { describe, expect, it } from 'vitest';
import { PromqlError } from './errors.js';
import { SeriesIndex } from './series.js';
import { expectScalar, expectVector, load, run } from './testutil.contract.js';

// Expected results below are taken from Prometheus's own test data (the instant-evaluable subset),
// with each `load` series written at its value at the evaluation time:
//   promql/promqltest/testdata/operators.test, aggregators.test, functions.test
// Cases without a citation are Vigil's own, derived from promql/engine.go and functions.go.

// operators.test: `load 5m` ... `0+10x10` etc., evaluated at 50m.
const HTTP = new SeriesIndex(
  load(`
http_requests_total{job="api-server", instance="0", group="production"} 100
http_requests_total{job="api-server", instance="1", group="production"} 200
http_requests_total{job="api-server", instance="0", group="canary"} 300
http_requests_total{job="api-server", instance="1", group="canary"} 400
http_requests_total{job="app-server", instance="0", group="production"} 500
http_requests_total{job="app-server", instance="1", group="production"} 600
http_requests_total{job="app-server", instance="0", group="canary"} 700
http_requests_total{job="app-server", instance="1", group="canary"} 800
vector_matching_a{l="x"} 10
vector_matching_a{l="y"} 20
vector_matching_b{l="x"} 40
`),
);

type Case = readonly [expr: string, expected: readonly string[] | number];

function table(name: string, data: SeriesIndex, cases: readonly Case[], ordered = false): void {
  describe(name, () => {
    it.each(cases.map((c) => [c[0], c[1]] as const))('%s', (expr, want) => {
      const v = run(expr, data);
      if (typeof want === 'number') expectScalar(v, want);
      else expectVector(v, want, ordered);
    });
  });
}

// promql/promqltest/testdata/operators.test
table('operators.test: arithmetic, precedence, unary', HTTP, [
  ['SUM(http_requests_total) BY (job) - COUNT(http_requests_total) BY (job)', ['{job="api-server"} 996', '{job="app-server"} 2596']],
  ['2 - SUM(http_requests_total) BY (job)', ['{job="api-server"} -998', '{job="app-server"} -2598']],
  ['-http_requests_total{job="api-server",instance="0",group="production"}', ['{job="api-server",instance="0",group="production"} -100']],
  ['+http_requests_total{job="api-server",instance="0",group="production"}', ['http_requests_total{job="api-server",instance="0",group="production"} 100']],
  ['- - - SUM(http_requests_total) BY (job)', ['{job="api-server"} -1000', '{job="app-server"} -2600']],
  ['- - - 1', -1],
  ['-2^---1*3', -1.5],
  ['2/-2^---1*3+2', -10],
  ['-10^3 * - SUM(http_requests_total) BY (job) ^ -1', ['{job="api-server"} 1', '{job="app-server"} 0.38461538461538464']],
  ['1000 / SUM(http_requests_total) BY (job)', ['{job="api-server"} 1', '{job="app-server"} 0.38461538461538464']],
  ['SUM(http_requests_total) BY (job) - 2', ['{job="api-server"} 998', '{job="app-server"} 2598']],
  ['SUM(http_requests_total) BY (job) % 3', ['{job="api-server"} 1', '{job="app-server"} 2']],
  ['SUM(http_requests_total) BY (job) % 0.3', ['{job="api-server"} 0.1', '{job="app-server"} 0.2']],
  ['SUM(http_requests_total) BY (job) ^ 2', ['{job="api-server"} 1000000', '{job="app-server"} 6760000']],
  ['SUM(http_requests_total) BY (job) % 3 ^ 2', ['{job="api-server"} 1', '{job="app-server"} 8']],
  ['SUM(http_requests_total) BY (job) % 2 ^ (3 ^ 2)', ['{job="api-server"} 488', '{job="app-server"} 40']],
  ['SUM(http_requests_total) BY (job) % 2 ^ 3 ^ 2', ['{job="api-server"} 488', '{job="app-server"} 40']],
  ['SUM(http_requests_total) BY (job) % 2 ^ 3 ^ 2 ^ 2', ['{job="api-server"} 1000', '{job="app-server"} 2600']],
  ['COUNT(http_requests_total) BY (job) ^ COUNT(http_requests_total) BY (job)', ['{job="api-server"} 256', '{job="app-server"} 256']],
  ['SUM(http_requests_total) BY (job) / 0', ['{job="api-server"} +Inf', '{job="app-server"} +Inf']],
  ['http_requests_total{group="canary", instance="0", job="api-server"} / 0', ['{group="canary", instance="0", job="api-server"} +Inf']],
  ['-1 * http_requests_total{group="canary", instance="0", job="api-server"} / 0', ['{group="canary", instance="0", job="api-server"} -Inf']],
  ['0 * http_requests_total{group="canary", instance="0", job="api-server"} / 0', ['{group="canary", instance="0", job="api-server"} NaN']],
  ['0 * http_requests_total{group="canary", instance="0", job="api-server"} % 0', ['{group="canary", instance="0", job="api-server"} NaN']],
  ['SUM(http_requests_total) BY (job) + SUM(http_requests_total) BY (job)', ['{job="api-server"} 2000', '{job="app-server"} 5200']],
  ['(SUM((http_requests_total)) BY (job)) + SUM(http_requests_total) BY (job)', ['{job="api-server"} 2000', '{job="app-server"} 5200']],
  [
    'http_requests_total{job="api-server", group="canary"}',
    ['http_requests_total{group="canary", instance="0", job="api-server"} 300', 'http_requests_total{group="canary", instance="1", job="api-server"} 400'],
  ],
]);

// promql/promqltest/testdata/operators.test
table('operators.test: and / or / unless, on / ignoring', HTTP, [
  [
    'http_requests_total{group="canary"} and http_requests_total{instance="0"}',
    ['http_requests_total{group="canary", instance="0", job="api-server"} 300', 'http_requests_total{group="canary", instance="0", job="app-server"} 700'],
  ],
  ['(http_requests_total{group="canary"} + 1) and http_requests_total{instance="0"}', ['{group="canary", instance="0", job="api-server"} 301', '{group="canary", instance="0", job="app-server"} 701']],
  [
    '(http_requests_total{group="canary"} + 1) and on(instance, job) http_requests_total{instance="0", group="production"}',
    ['{group="canary", instance="0", job="api-server"} 301', '{group="canary", instance="0", job="app-server"} 701'],
  ],
  [
    '(http_requests_total{group="canary"} + 1) and on(instance) http_requests_total{instance="0", group="production"}',
    ['{group="canary", instance="0", job="api-server"} 301', '{group="canary", instance="0", job="app-server"} 701'],
  ],
  [
    '(http_requests_total{group="canary"} + 1) and ignoring(group) http_requests_total{instance="0", group="production"}',
    ['{group="canary", instance="0", job="api-server"} 301', '{group="canary", instance="0", job="app-server"} 701'],
  ],
  [
    '(http_requests_total{group="canary"} + 1) and ignoring(group, job) http_requests_total{instance="0", group="production"}',
    ['{group="canary", instance="0", job="api-server"} 301', '{group="canary", instance="0", job="app-server"} 701'],
  ],
  [
    'http_requests_total{group="canary"} or http_requests_total{group="production"}',
    [
      'http_requests_total{group="canary", instance="0", job="api-server"} 300',
      'http_requests_total{group="canary", instance="0", job="app-server"} 700',
      'http_requests_total{group="canary", instance="1", job="api-server"} 400',
      'http_requests_total{group="canary", instance="1", job="app-server"} 800',
      'http_requests_total{group="production", instance="0", job="api-server"} 100',
      'http_requests_total{group="production", instance="0", job="app-server"} 500',
      'http_requests_total{group="production", instance="1", job="api-server"} 200',
      'http_requests_total{group="production", instance="1", job="app-server"} 600',
    ],
  ],
  [
    '(http_requests_total{group="canary"} + 1) or http_requests_total{instance="1"}',
    [
      '{group="canary", instance="0", job="api-server"} 301',
      '{group="canary", instance="0", job="app-server"} 701',
      '{group="canary", instance="1", job="api-server"} 401',
      '{group="canary", instance="1", job="app-server"} 801',
      'http_requests_total{group="production", instance="1", job="api-server"} 200',
      'http_requests_total{group="production", instance="1", job="app-server"} 600',
    ],
  ],
  [
    '(http_requests_total{group="canary"} + 1) or on(instance) (http_requests_total or cpu_count or vector_matching_a)',
    [
      '{group="canary", instance="0", job="api-server"} 301',
      '{group="canary", instance="0", job="app-server"} 701',
      '{group="canary", instance="1", job="api-server"} 401',
      '{group="canary", instance="1", job="app-server"} 801',
      'vector_matching_a{l="x"} 10',
      'vector_matching_a{l="y"} 20',
    ],
  ],
  [
    '(http_requests_total{group="canary"} + 1) or ignoring(l, group, job) (http_requests_total or cpu_count or vector_matching_a)',
    [
      '{group="canary", instance="0", job="api-server"} 301',
      '{group="canary", instance="0", job="app-server"} 701',
      '{group="canary", instance="1", job="api-server"} 401',
      '{group="canary", instance="1", job="app-server"} 801',
      'vector_matching_a{l="x"} 10',
      'vector_matching_a{l="y"} 20',
    ],
  ],
  [
    'http_requests_total{group="canary"} unless http_requests_total{instance="0"}',
    ['http_requests_total{group="canary", instance="1", job="api-server"} 400', 'http_requests_total{group="canary", instance="1", job="app-server"} 800'],
  ],
  ['http_requests_total{group="canary"} unless on(job) http_requests_total{instance="0"}', []],
  [
    'http_requests_total{group="canary"} unless on(job, instance) http_requests_total{instance="0"}',
    ['http_requests_total{group="canary", instance="1", job="api-server"} 400', 'http_requests_total{group="canary", instance="1", job="app-server"} 800'],
  ],
  [
    'http_requests_total{group="canary"} / on(instance,job) http_requests_total{group="production"}',
    ['{instance="0", job="api-server"} 3', '{instance="0", job="app-server"} 1.4', '{instance="1", job="api-server"} 2', '{instance="1", job="app-server"} 1.3333333333333333'],
  ],
  ['http_requests_total{group="canary"} unless ignoring(group, instance) http_requests_total{instance="0"}', []],
  [
    'http_requests_total{group="canary"} unless ignoring(group) http_requests_total{instance="0"}',
    ['http_requests_total{group="canary", instance="1", job="api-server"} 400', 'http_requests_total{group="canary", instance="1", job="app-server"} 800'],
  ],
  [
    'http_requests_total{group="canary"} / ignoring(group) http_requests_total{group="production"}',
    ['{instance="0", job="api-server"} 3', '{instance="0", job="app-server"} 1.4', '{instance="1", job="api-server"} 2', '{instance="1", job="app-server"} 1.3333333333333333'],
  ],
  ['count(http_requests_total AND ON (dummy) vector(1))', ['{} 8']],
  ['count(http_requests_total AND IGNORING (group, instance, job) vector(1))', ['{} 8']],
]);

// promql/promqltest/testdata/operators.test
table('operators.test: comparisons and bool', HTTP, [
  ['SUM(http_requests_total) BY (job) > 1000', ['{job="app-server"} 2600']],
  ['1000 < SUM(http_requests_total) BY (job)', ['{job="app-server"} 2600']],
  ['SUM(http_requests_total) BY (job) <= 1000', ['{job="api-server"} 1000']],
  ['SUM(http_requests_total) BY (job) != 1000', ['{job="app-server"} 2600']],
  ['SUM(http_requests_total) BY (job) == 1000', ['{job="api-server"} 1000']],
  ['SUM(http_requests_total) BY (job) == bool 1000', ['{job="api-server"} 1', '{job="app-server"} 0']],
  ['SUM(http_requests_total) BY (job) == bool SUM(http_requests_total) BY (job)', ['{job="api-server"} 1', '{job="app-server"} 1']],
  ['SUM(http_requests_total) BY (job) != bool SUM(http_requests_total) BY (job)', ['{job="api-server"} 0', '{job="app-server"} 0']],
  ['0 == bool 1', 0],
  ['1 == bool 1', 1],
  ['http_requests_total{job="api-server", instance="0", group="production"} == bool 100', ['{job="api-server", instance="0", group="production"} 1']],
  ['{job="app-server"} == 800', ['http_requests_total{group="canary", instance="1", job="app-server"} 800']],
]);

// promql/promqltest/testdata/operators.test — group_left / group_right ("load 5m" at 1m).
const NODES = new SeriesIndex(
  load(`
node_var{instance="abc",job="node"} 2
node_role{instance="abc",job="node",role="prometheus"} 1
node_cpu{instance="abc",job="node",mode="idle"} 3
node_cpu{instance="abc",job="node",mode="user"} 1
node_cpu{instance="def",job="node",mode="idle"} 8
node_cpu{instance="def",job="node",mode="user"} 2
random{foo="bar"} 1
threshold{instance="abc",job="node",target="a@b.com"} 0
`),
);
const CPU4 = (a: string, b: string, c: string, d: string, extra = ''): string[] => [
  `{instance="abc",job="node",mode="idle"${extra}} ${a}`,
  `{instance="abc",job="node",mode="user"${extra}} ${b}`,
  `{instance="def",job="node",mode="idle"${extra}} ${c}`,
  `{instance="def",job="node",mode="user"${extra}} ${d}`,
];
table('operators.test: many-to-one matching (group_left/group_right label copying)', NODES, [
  ['node_role * on (instance) group_right (role) node_var', ['{instance="abc",job="node",role="prometheus"} 2']],
  ['node_var * on (instance) group_left (role) node_role', ['{instance="abc",job="node",role="prometheus"} 2']],
  ['node_var * ignoring (role) group_left (role) node_role', ['{instance="abc",job="node",role="prometheus"} 2']],
  ['node_role * ignoring (role) group_right (role) node_var', ['{instance="abc",job="node",role="prometheus"} 2']],
  ['node_cpu * ignoring (role, mode) group_left (role) node_role', ['{instance="abc",job="node",mode="idle",role="prometheus"} 3', '{instance="abc",job="node",mode="user",role="prometheus"} 1']],
  ['node_cpu * on (instance) group_left (role) node_role', ['{instance="abc",job="node",mode="idle",role="prometheus"} 3', '{instance="abc",job="node",mode="user",role="prometheus"} 1']],
  ['node_cpu / on (instance) group_left sum by (instance,job)(node_cpu)', CPU4('.75', '.25', '.80', '.20')],
  ['sum by (mode, job)(node_cpu) / on (job) group_left sum by (job)(node_cpu)', ['{job="node",mode="idle"} 0.7857142857142857', '{job="node",mode="user"} 0.21428571428571427']],
  ['sum(sum by (mode, job)(node_cpu) / on (job) group_left sum by (job)(node_cpu))', ['{} 1.0']],
  ['node_cpu / ignoring (mode) group_left sum without (mode)(node_cpu)', CPU4('.75', '.25', '.80', '.20')],
  ['node_cpu / ignoring (mode) group_left(dummy) sum without (mode)(node_cpu)', CPU4('.75', '.25', '.80', '.20')],
  ['sum without (instance)(node_cpu) / ignoring (mode) group_left sum without (instance, mode)(node_cpu)', ['{job="node",mode="idle"} 0.7857142857142857', '{job="node",mode="user"} 0.21428571428571427']],
  ['node_cpu + on(dummy) group_left(foo) random*0', CPU4('3', '1', '8', '2', ',foo="bar"')],
  [
    'node_cpu > on(job, instance) group_left(target) threshold',
    ['node_cpu{instance="abc",job="node",mode="idle",target="a@b.com"} 3', 'node_cpu{instance="abc",job="node",mode="user",target="a@b.com"} 1'],
  ],
  [
    'node_cpu > on(job, instance) group_left(target) (threshold or on (job, instance) (sum by (job, instance)(node_cpu) * 0 + 1))',
    [
      'node_cpu{instance="abc",job="node",mode="idle",target="a@b.com"} 3',
      'node_cpu{instance="abc",job="node",mode="user",target="a@b.com"} 1',
      'node_cpu{instance="def",job="node",mode="idle"} 8',
      'node_cpu{instance="def",job="node",mode="user"} 2',
    ],
  ],
  // Binary operators drop the metric name.
  ['node_cpu + 2', CPU4('5', '3', '10', '4')],
  ['node_cpu - 2', CPU4('1', '-1', '6', '0')],
  ['node_cpu / 2', CPU4('1.5', '0.5', '4', '1')],
  ['node_cpu * 2', CPU4('6', '2', '16', '4')],
  ['node_cpu ^ 2', CPU4('9', '1', '64', '4')],
  ['node_cpu % 2', CPU4('1', '1', '0', '0')],
]);

// promql/promqltest/testdata/operators.test
table(
  'operators.test: on() / ignoring(), bool drops the name, atan2',
  new SeriesIndex(
    load(`
random{foo="bar"} 2
metricA{baz="meh"} 3
metricB{baz="meh"} 4
test_total{instance="localhost"} 50
test_smaller{instance="localhost"} 10
trigy 10
trigx 20
trigNaN NaN
`),
  ),
  [
    ['random + on() metricA', ['{} 5']],
    ['metricA + ignoring() metricB', ['{baz="meh"} 7']],
    ['metricA + metricB', ['{baz="meh"} 7']],
    ['test_total > bool test_smaller', ['{instance="localhost"} 1']],
    ['test_total > test_smaller', ['test_total{instance="localhost"} 50']],
    ['test_total < bool test_smaller', ['{instance="localhost"} 0']],
    ['test_total < test_smaller', []],
    ['trigy atan2 trigx', ['{} 0.4636476090008061']],
    ['trigy atan2 trigNaN', ['{} NaN']],
    ['10 atan2 20', 0.4636476090008061],
    ['10 atan2 NaN', NaN],
  ],
);

// operators.test: vector/scalar comparisons with NaN and ±Inf (the range cases, one step each).
const FLOATS = new SeriesIndex(
  load(`
v{i="1"} 1
v{i="3"} 3
v{i="nan"} NaN
v{i="inf"} +Inf
v{i="-inf"} -Inf
`),
);
table('operators.test: NaN / Inf in comparisons', FLOATS, [
  ['v == 3', ['v{i="3"} 3']],
  ['v != 3', ['v{i="1"} 1', 'v{i="nan"} NaN', 'v{i="inf"} +Inf', 'v{i="-inf"} -Inf']],
  ['v > 3', ['v{i="inf"} +Inf']],
  ['v <= 3', ['v{i="1"} 1', 'v{i="3"} 3', 'v{i="-inf"} -Inf']],
  ['v == bool 3', ['{i="1"} 0', '{i="3"} 1', '{i="nan"} 0', '{i="inf"} 0', '{i="-inf"} 0']],
  ['v == Inf', ['v{i="inf"} +Inf']],
  ['v == NaN', []],
  ['v == bool NaN', ['{i="1"} 0', '{i="3"} 0', '{i="nan"} 0', '{i="inf"} 0', '{i="-inf"} 0']],
  ['3 < v', ['v{i="inf"} +Inf']],
  ['3 >= v', ['v{i="1"} 1', 'v{i="3"} 3', 'v{i="-inf"} -Inf']],
  ['NaN == v', []],
  ['NaN == bool v', ['{i="1"} 0', '{i="3"} 0', '{i="nan"} 0', '{i="inf"} 0', '{i="-inf"} 0']],
  ['v{i="nan"} == bool v{i="nan"}', ['{i="nan"} 0']],
  ['v{i="nan"} != v{i="nan"}', ['v{i="nan"} NaN']],
]);

// promql/promqltest/testdata/aggregators.test (at 50m)
const AGG = new SeriesIndex(
  load(`
http_requests{job="api-server", instance="0", group="production"} 100
http_requests{job="api-server", instance="1", group="production"} 200
http_requests{job="api-server", instance="0", group="canary"} 300
http_requests{job="api-server", instance="1", group="canary"} 400
http_requests{job="app-server", instance="0", group="production"} 500
http_requests{job="app-server", instance="1", group="production"} 600
http_requests{job="app-server", instance="0", group="canary"} 700
http_requests{job="app-server", instance="1", group="canary"} 800
foo{job="api-server", instance="0", region="europe"} 900
foo{job="api-server"} 1000
label_grouping_test{a="aa", b="bb"} 100
label_grouping_test{a="a", b="abb"} 200
`),
);
const PROD = (a: string, b: string): string[] => [`{group="production", instance="0", job="api-server"} ${a}`, `{group="production", instance="1", job="api-server"} ${b}`];
table('aggregators.test: sum avg count min max by/without, stddev, stdvar', AGG, [
  ['SUM BY (group) (http_requests{job="api-server"})', ['{group="canary"} 700', '{group="production"} 300']],
  ['SUM BY (group) (((http_requests{job="api-server"})))', ['{group="canary"} 700', '{group="production"} 300']],
  ['avg by (group) (http_requests{job="api-server"})', ['{group="canary"} 350', '{group="production"} 150']],
  ['count by (group) (http_requests{job="api-server"})', ['{group="canary"} 2', '{group="production"} 2']],
  ['sum without (instance) (http_requests{job="api-server"})', ['{group="canary",job="api-server"} 700', '{group="production",job="api-server"} 300']],
  ['sum by () (http_requests{job="api-server"})', ['{} 1000']],
  ['sum(http_requests{job="api-server"})', ['{} 1000']],
  ['sum without () (http_requests{job="api-server",group="production"})', ['{group="production",job="api-server",instance="0"} 100', '{group="production",job="api-server",instance="1"} 200']],
  [
    'sum without (instance) (http_requests{job="api-server"} or foo)',
    ['{group="canary",job="api-server"} 700', '{group="production",job="api-server"} 300', '{region="europe",job="api-server"} 900', '{job="api-server"} 1000'],
  ],
  ['sum(http_requests) by (job) + min(http_requests) by (job) + max(http_requests) by (job) + avg(http_requests) by (job)', ['{job="app-server"} 4550', '{job="api-server"} 1750']],
  ['sum(sum by (group) (http_requests{job="api-server"})) by (job)', ['{} 1000']],
  ['SUM(http_requests)', ['{} 3600']],
  ['SUM(http_requests{instance="0"}) BY(job)', ['{job="api-server"} 400', '{job="app-server"} 1200']],
  ['SUM(http_requests) BY (job, nonexistent)', ['{job="api-server"} 1000', '{job="app-server"} 2600']],
  ['COUNT(http_requests) BY (job)', ['{job="api-server"} 4', '{job="app-server"} 4']],
  [
    'SUM(http_requests) BY (job, group)',
    ['{group="canary", job="api-server"} 700', '{group="canary", job="app-server"} 1500', '{group="production", job="api-server"} 300', '{group="production", job="app-server"} 1100'],
  ],
  ['AVG(http_requests) BY (job)', ['{job="api-server"} 250', '{job="app-server"} 650']],
  ['MIN(http_requests) BY (job)', ['{job="api-server"} 100', '{job="app-server"} 500']],
  ['MAX(http_requests) BY (job)', ['{job="api-server"} 400', '{job="app-server"} 800']],
  ['abs(-1 * http_requests{group="production",job="api-server"})', PROD('100', '200')],
  ['floor(0.004 * http_requests{group="production",job="api-server"})', PROD('0', '0')],
  ['ceil(0.004 * http_requests{group="production",job="api-server"})', PROD('1', '1')],
  ['round(0.004 * http_requests{group="production",job="api-server"})', PROD('0', '1')],
  ['round(-1 * (0.004 * http_requests{group="production",job="api-server"}))', PROD('0', '-1')],
  ['round(0.005 * http_requests{group="production",job="api-server"})', PROD('1', '1')],
  ['round(-1 * (0.005 * http_requests{group="production",job="api-server"}))', PROD('0', '-1')],
  ['round(1 + 0.005 * http_requests{group="production",job="api-server"})', PROD('2', '2')],
  ['round(-1 * (1 + 0.005 * http_requests{group="production",job="api-server"}))', PROD('-1', '-2')],
  ['round(0.0005 * http_requests{group="production",job="api-server"}, 0.1)', PROD('0.1', '0.1')],
  ['round(2.1 + 0.0005 * http_requests{group="production",job="api-server"}, 0.1)', PROD('2.2', '2.2')],
  ['round(5.2 + 0.0005 * http_requests{group="production",job="api-server"}, 0.1)', PROD('5.3', '5.3')],
  ['round(-1 * (5.2 + 0.0005 * http_requests{group="production",job="api-server"}), 0.1)', PROD('-5.2', '-5.3')],
  ['round(0.025 * http_requests{group="production",job="api-server"}, 5)', PROD('5', '5')],
  ['round(0.045 * http_requests{group="production",job="api-server"}, 5)', PROD('5', '10')],
  ['stddev(http_requests)', ['{} 229.12878474779']],
  ['stddev by (instance)(http_requests)', ['{instance="0"} 223.60679774998', '{instance="1"} 223.60679774998']],
  ['stdvar(http_requests)', ['{} 52500']],
  ['stdvar by (instance)(http_requests)', ['{instance="0"} 50000', '{instance="1"} 50000']],
  ['sum(label_grouping_test) by (a, b)', ['{a="a", b="abb"} 200', '{a="aa", b="bb"} 100']],
]);

// aggregators.test: min/max with NaN; stddev precision.
table(
  'aggregators.test: min/max skip NaN',
  new SeriesIndex(
    load(`
http_requests{job="api-server", instance="0", group="production"} 1
http_requests{job="api-server", instance="1", group="production"} 2
http_requests{job="api-server", instance="0", group="canary"} NaN
http_requests{job="api-server", instance="1", group="canary"} 3
http_requests{job="api-server", instance="2", group="canary"} 4
p{job="api-server", instance="0", group="production"} 13.3
p{job="api-server", instance="1", group="production"} 13.3
p{job="api-server", instance="0", group="canary"} 13.3
`),
  ),
  [
    ['max(http_requests)', ['{} 4']],
    ['min(http_requests)', ['{} 1']],
    ['max by (group) (http_requests)', ['{group="production"} 2', '{group="canary"} 4']],
    ['min by (group) (http_requests)', ['{group="production"} 1', '{group="canary"} 3']],
    ['stddev(p)', ['{} 0.0']],
    ['stdvar(p)', ['{} 0.0']],
  ],
);

// aggregators.test: topk / bottomk (eval_ordered cases keep their order).
const TOPK = new SeriesIndex(
  load(`
http_requests{job="api-server", instance="0", group="production"} 100
http_requests{job="api-server", instance="1", group="production"} 200
http_requests{job="api-server", instance="2", group="production"} NaN
http_requests{job="api-server", instance="0", group="canary"} 300
http_requests{job="api-server", instance="1", group="canary"} 400
http_requests{job="app-server", instance="0", group="production"} 500
http_requests{job="app-server", instance="1", group="production"} 600
http_requests{job="app-server", instance="0", group="canary"} 700
http_requests{job="app-server", instance="1", group="canary"} 800
foo 3
`),
);
const TOP3 = [
  'http_requests{group="canary", instance="1", job="app-server"} 800',
  'http_requests{group="canary", instance="0", job="app-server"} 700',
  'http_requests{group="production", instance="1", job="app-server"} 600',
];
table(
  'aggregators.test: topk / bottomk (ordered)',
  TOPK,
  [
    ['topk(3, http_requests)', TOP3],
    ['topk((3), (http_requests))', TOP3],
    ['topk(5, http_requests{group="canary",job="app-server"})', ['http_requests{group="canary", instance="1", job="app-server"} 800', 'http_requests{group="canary", instance="0", job="app-server"} 700']],
    [
      'bottomk(3, http_requests)',
      [
        'http_requests{group="production", instance="0", job="api-server"} 100',
        'http_requests{group="production", instance="1", job="api-server"} 200',
        'http_requests{group="canary", instance="0", job="api-server"} 300',
      ],
    ],
    ['bottomk(5, http_requests{group="canary",job="app-server"})', ['http_requests{group="canary", instance="0", job="app-server"} 700', 'http_requests{group="canary", instance="1", job="app-server"} 800']],
    ['bottomk by (group) (2, http_requests{group="production"})', ['http_requests{group="production", instance="0", job="api-server"} 100', 'http_requests{group="production", instance="1", job="api-server"} 200']],
    [
      'topk(3, http_requests{job="api-server",group="production"})',
      [
        'http_requests{job="api-server", instance="1", group="production"} 200',
        'http_requests{job="api-server", instance="0", group="production"} 100',
        'http_requests{job="api-server", instance="2", group="production"} NaN',
      ],
    ],
    [
      'bottomk(3, http_requests{job="api-server",group="production"})',
      [
        'http_requests{job="api-server", instance="0", group="production"} 100',
        'http_requests{job="api-server", instance="1", group="production"} 200',
        'http_requests{job="api-server", instance="2", group="production"} NaN',
      ],
    ],
    ['bottomk(9999999999, http_requests{job="app-server",group="canary"})', ['http_requests{group="canary", instance="0", job="app-server"} 700', 'http_requests{group="canary", instance="1", job="app-server"} 800']],
    ['topk(scalar(foo), http_requests)', TOP3],
  ],
  true,
);
table('aggregators.test: topk / bottomk by group', TOPK, [
  ['topk by (group) (1, http_requests)', ['http_requests{group="production", instance="1", job="app-server"} 600', 'http_requests{group="canary", instance="1", job="app-server"} 800']],
  [
    'bottomk by (group) (2, http_requests)',
    [
      'http_requests{group="canary", instance="0", job="api-server"} 300',
      'http_requests{group="canary", instance="1", job="api-server"} 400',
      'http_requests{group="production", instance="0", job="api-server"} 100',
      'http_requests{group="production", instance="1", job="api-server"} 200',
    ],
  ],
  ['topk(0, http_requests)', []],
  ['topk(-1, http_requests)', []],
]);

// aggregators.test: count_values, quantile, group.
table(
  'aggregators.test: count_values',
  new SeriesIndex(
    load(`
version{job="api-server", instance="0", group="production"} 6
version{job="api-server", instance="1", group="production"} 6
version{job="api-server", instance="2", group="production"} 6
version{job="api-server", instance="0", group="canary"} 8
version{job="api-server", instance="1", group="canary"} 8
version{job="app-server", instance="0", group="production"} 6
version{job="app-server", instance="1", group="production"} 6
version{job="app-server", instance="0", group="canary"} 7
version{job="app-server", instance="1", group="canary"} 7
`),
  ),
  [
    ['count_values("version", version)', ['{version="6"} 5', '{version="7"} 2', '{version="8"} 2']],
    ['count_values((((("version")))), version)', ['{version="6"} 5', '{version="7"} 2', '{version="8"} 2']],
    [
      'count_values without (instance)("version", version)',
      ['{job="api-server", group="production", version="6"} 3', '{job="api-server", group="canary", version="8"} 2', '{job="app-server", group="production", version="6"} 2', '{job="app-server", group="canary", version="7"} 2'],
    ],
    ['count_values without (instance)("job", version)', ['{job="6", group="production"} 5', '{job="8", group="canary"} 2', '{job="7", group="canary"} 2']],
    ['count_values by (job, group)("job", version)', ['{job="6", group="production"} 5', '{job="8", group="canary"} 2', '{job="7", group="canary"} 2']],
    ['count_values("v", version * 1e21)', ['{v="6000000000000000000000"} 5', '{v="7000000000000000000000"} 2', '{v="8000000000000000000000"} 2']],
    ['count_values("v", version / 1e7)', ['{v="0.0000006"} 5', '{v="0.0000007"} 2', '{v="0.0000008"} 2']],
  ],
);

const QDATA = new SeriesIndex(
  load(`
data{test="two samples",point="a"} 0
data{test="two samples",point="b"} 1
data{test="three samples",point="a"} 0
data{test="three samples",point="b"} 1
data{test="three samples",point="c"} 2
data{test="uneven samples",point="a"} 0
data{test="uneven samples",point="b"} 1
data{test="uneven samples",point="c"} 4
foo .8
`),
);
table('aggregators.test: quantile, group', QDATA, [
  ['quantile without(point)(0.8, data)', ['{test="two samples"} 0.8', '{test="three samples"} 1.6', '{test="uneven samples"} 2.8']],
  ['quantile without(point)(scalar(foo), data)', ['{test="two samples"} 0.8', '{test="three samples"} 1.6', '{test="uneven samples"} 2.8']],
  ['quantile without(point)((scalar(foo)), data)', ['{test="two samples"} 0.8', '{test="three samples"} 1.6', '{test="uneven samples"} 2.8']],
  ['quantile without(point)(NaN, data)', ['{test="two samples"} NaN', '{test="three samples"} NaN', '{test="uneven samples"} NaN']],
  ['quantile without(point)(-1, data)', ['{test="two samples"} -Inf', '{test="three samples"} -Inf', '{test="uneven samples"} -Inf']],
  ['quantile without(point)(2, data)', ['{test="two samples"} +Inf', '{test="three samples"} +Inf', '{test="uneven samples"} +Inf']],
  ['group without(point)(data)', ['{test="two samples"} 1', '{test="three samples"} 1', '{test="uneven samples"} 1']],
  ['group(foo)', ['{} 1']],
]);

// promql/promqltest/testdata/functions.test (label_replace, label_join, clamp, absent, sort, vector/scalar, sgn, ...)
const FN = new SeriesIndex(
  load(`
testmetric{src="source-value-10",dst="original-destination-value"} 0
testmetric{src="source-value-20",dst="original-destination-value"} 1
testmetric1{src="a",dst="b"} 0
testmetric2{src="a",dst="b"} 1
test_clamp{src="clamp-a"} -50
test_clamp{src="clamp-b"} 0
test_clamp{src="clamp-c"} 100
lj{src="a",src1="b",src2="c",dst="original-destination-value"} 0
lj{src="d",src1="e",src2="f",dst="original-destination-value"} 1
http_requests{job="api-server", instance="0", group="production"} 100
http_requests{job="api-server", instance="1", group="production"} 200
http_requests{job="api-server", instance="0", group="canary"} 300
http_requests{job="api-server", instance="1", group="canary"} 400
http_requests{job="api-server", instance="2", group="canary"} NaN
http_requests{job="app-server", instance="0", group="production"} 500
http_requests{job="app-server", instance="1", group="production"} 600
http_requests{job="app-server", instance="0", group="canary"} 700
http_requests{job="app-server", instance="1", group="canary"} 800
sgn_in{src="a"} -3
sgn_in{src="b"} 0
sgn_in{src="c"} 4
`),
);
table('functions.test: label_replace / label_join', FN, [
  [
    'label_replace(testmetric, "dst", "destination-value-$1", "src", "source-value-(.*)")',
    ['testmetric{src="source-value-10",dst="destination-value-10"} 0', 'testmetric{src="source-value-20",dst="destination-value-20"} 1'],
  ],
  [
    'label_replace(testmetric, "dst", "destination-value-$1", "src", "value-(.*)")',
    ['testmetric{src="source-value-10",dst="original-destination-value"} 0', 'testmetric{src="source-value-20",dst="original-destination-value"} 1'],
  ],
  [
    'label_replace(testmetric, "dst", "destination-value-$1", "src", "(?:source-value-)(.*)")',
    ['testmetric{src="source-value-10",dst="destination-value-10"} 0', 'testmetric{src="source-value-20",dst="destination-value-20"} 1'],
  ],
  [
    'label_replace(testmetric, "dst", "value-$1", "nonexistent-src", ".*")',
    ['testmetric{src="source-value-10",dst="value-"} 0', 'testmetric{src="source-value-20",dst="value-"} 1'],
  ],
  [
    'label_replace(testmetric, "dst", "value-$1", "nonexistent-src", "(.*)")',
    ['testmetric{src="source-value-10",dst="value-"} 0', 'testmetric{src="source-value-20",dst="value-"} 1'],
  ],
  ['label_replace(testmetric, "dst", "", "dst", ".*")', ['testmetric{src="source-value-10"} 0', 'testmetric{src="source-value-20"} 1']],
  ['label_replace(testmetric, "dst", "$$1", "src", ".*")', ['testmetric{src="source-value-10",dst="$1"} 0', 'testmetric{src="source-value-20",dst="$1"} 1']],
  [
    'label_replace(testmetric, "dst", "${1}x-$2$1x", "src", "source-(value)-(.*)")',
    ['testmetric{src="source-value-10",dst="valuex-10"} 0', 'testmetric{src="source-value-20",dst="valuex-20"} 1'],
  ],
  [
    'label_replace(testmetric, "dst", "$name-$other", "src", "source-value-(?P<name>.*)")',
    ['testmetric{src="source-value-10",dst="10-"} 0', 'testmetric{src="source-value-20",dst="20-"} 1'],
  ],
  ['label_replace(testmetric, "__name__", "renamed", "src", ".*-10")', ['renamed{src="source-value-10",dst="original-destination-value"} 0', 'testmetric{src="source-value-20",dst="original-destination-value"} 1']],
  [
    'label_join(lj, "dst", "-", "src", "src1", "src2")',
    ['lj{src="a",src1="b",src2="c",dst="a-b-c"} 0', 'lj{src="d",src1="e",src2="f",dst="d-e-f"} 1'],
  ],
  ['label_join(lj, "dst", "-", "src", "nonexistent", "src2")', ['lj{src="a",src1="b",src2="c",dst="a--c"} 0', 'lj{src="d",src1="e",src2="f",dst="d--f"} 1']],
  ['label_join(lj, "dst", ", ")', ['lj{src="a",src1="b",src2="c"} 0', 'lj{src="d",src1="e",src2="f"} 1']],
  ['label_join(lj, "dst", "", "emptysrc", "emptysrc1")', ['lj{src="a",src1="b",src2="c"} 0', 'lj{src="d",src1="e",src2="f"} 1']],
]);

table('functions.test: clamp, sgn, vector, scalar, time, absent, math', FN, [
  ['clamp_max(test_clamp, 75)', ['{src="clamp-a"} -50', '{src="clamp-b"} 0', '{src="clamp-c"} 75']],
  ['clamp_min(test_clamp, -25)', ['{src="clamp-a"} -25', '{src="clamp-b"} 0', '{src="clamp-c"} 100']],
  ['clamp_max(clamp_min(test_clamp, -20), 70)', ['{src="clamp-a"} -20', '{src="clamp-b"} 0', '{src="clamp-c"} 70']],
  ['clamp_max((clamp_min(test_clamp, (-20))), (70))', ['{src="clamp-a"} -20', '{src="clamp-b"} 0', '{src="clamp-c"} 70']],
  ['clamp(test_clamp, -25, 75)', ['{src="clamp-a"} -25', '{src="clamp-b"} 0', '{src="clamp-c"} 75']],
  ['clamp(test_clamp, 5, -5)', []],
  ['clamp(test_clamp, NaN, 0)', ['{src="clamp-a"} NaN', '{src="clamp-b"} NaN', '{src="clamp-c"} NaN']],
  ['clamp(test_clamp, 0, NaN)', ['{src="clamp-a"} NaN', '{src="clamp-b"} NaN', '{src="clamp-c"} NaN']],
  ['clamp(test_clamp, 5, 5)', ['{src="clamp-a"} 5', '{src="clamp-b"} 5', '{src="clamp-c"} 5']],
  ['sgn(sgn_in)', ['{src="a"} -1', '{src="b"} 0', '{src="c"} 1']],
  ['vector(1)', ['{} 1']],
  ['vector(time())', ['{} 0']],
  ['scalar(sgn_in)', NaN],
  ['scalar(sgn_in{src="c"})', 4],
  ['scalar(nonexistent)', NaN],
  ['time()', 0],
  ['absent(nonexistent)', ['{} 1']],
  ['absent(nonexistent{job="testjob", instance="testinstance", method=~".x"})', ['{instance="testinstance", job="testjob"} 1']],
  ['absent(nonexistent{job="testjob",job="testjob2",foo="bar"})', ['{foo="bar"} 1']],
  ['absent(nonexistent{job="testjob",job!="testjob2",foo="bar"})', ['{foo="bar"} 1']],
  ['absent(nonexistent{job="testjob",job=~"testjob2",foo="bar"})', ['{foo="bar"} 1']],
  ['absent(sum(nonexistent{job="testjob", instance="testinstance"}))', ['{} 1']],
  ['absent(((nonexistent{job="testjob", instance="testinstance"})))', ['{instance="testinstance", job="testjob"} 1']],
  ['absent(http_requests)', []],
  ['absent(sum(http_requests))', []],
  ['absent(nonexistent{job=""})', ['{} 1']],
  ['absent({__name__="nonexistent", job="a"})', ['{job="a"} 1']],
  ['exp(vector(0))', ['{} 1']],
  ['ln(vector(1))', ['{} 0']],
  ['log2(vector(8))', ['{} 3']],
  ['log10(vector(1000))', ['{} 3']],
  ['sqrt(vector(16))', ['{} 4']],
  ['deg(vector(3.141592653589793))', ['{} 180']],
  ['rad(vector(180))', ['{} 3.141592653589793']],
  ['pi()', Math.PI],
]);

table(
  'functions.test: sort / sort_desc (NaN last)',
  FN,
  [
    [
      'sort(http_requests{job="api-server"})',
      [
        'http_requests{group="production", instance="0", job="api-server"} 100',
        'http_requests{group="production", instance="1", job="api-server"} 200',
        'http_requests{group="canary", instance="0", job="api-server"} 300',
        'http_requests{group="canary", instance="1", job="api-server"} 400',
        'http_requests{group="canary", instance="2", job="api-server"} NaN',
      ],
    ],
    [
      'sort_desc(http_requests{job="api-server"})',
      [
        'http_requests{group="canary", instance="1", job="api-server"} 400',
        'http_requests{group="canary", instance="0", job="api-server"} 300',
        'http_requests{group="production", instance="1", job="api-server"} 200',
        'http_requests{group="production", instance="0", job="api-server"} 100',
        'http_requests{group="canary", instance="2", job="api-server"} NaN',
      ],
    ],
  ],
  true,
);

describe('selectors', () => {
  const data = new SeriesIndex(
    load(`
m{a="1", b="x"} 1
m{a="2", b="y"} 2
m{a="3"} 3
other{a="1"} 10
`),
  );
  it.each([
    ['m{a="1"}', ['m{a="1", b="x"} 1']],
    ['m{a!="1"}', ['m{a="2", b="y"} 2', 'm{a="3"} 3']],
    ['m{a=~"1|2"}', ['m{a="1", b="x"} 1', 'm{a="2", b="y"} 2']],
    ['m{a=~"1|"}', ['m{a="1", b="x"} 1']],
    ['m{b=~"x|"}', ['m{a="1", b="x"} 1', 'm{a="3"} 3']],
    ['m{b=""}', ['m{a="3"} 3']],
    ['m{b!=""}', ['m{a="1", b="x"} 1', 'm{a="2", b="y"} 2']],
    ['m{a!~"[12]"}', ['m{a="3"} 3']],
    ['m{a=~"."}', ['m{a="1", b="x"} 1', 'm{a="2", b="y"} 2', 'm{a="3"} 3']],
    ['m{a=~"1.*"}', ['m{a="1", b="x"} 1']],
    ['m{a=~"(?i)X|1"}', ['m{a="1", b="x"} 1']],
    ['{__name__="m", a="3"}', ['m{a="3"} 3']],
    ['{__name__=~"m|other", a="1"}', ['m{a="1", b="x"} 1', 'other{a="1"} 10']],
    ['{__name__!="m", a=~".+"}', ['other{a="1"} 10']],
    ['{"m", a="2"}', ['m{a="2", b="y"} 2']],
    ['m{"a"="3"}', ['m{a="3"} 3']],
    ['nonexistent', []],
  ] as const)('%s', (expr, want) => expectVector(run(expr, data), want));

  it('matches regexes fully anchored (no partial match) and lets . match a newline', () => {
    const d = new SeriesIndex([
      { name: 'n', labels: { v: 'abc' }, value: 1 },
      { name: 'n', labels: { v: 'a\nb' }, value: 2 },
    ]);
    expectVector(run('n{v=~"b"}', d), []);
    const one = run('n{v=~"a.b"}', d);
    expect(one.type === 'vector' ? one.samples.map((s) => s.value) : []).toEqual([2]);
    const r = run('n{v=~"a.b|abc"}', d);
    expect(r.type === 'vector' ? r.samples.map((s) => s.value).sort() : []).toEqual([1, 2]);
  });

  it('treats an empty label value as an absent label and the sample name as __name__', () => {
    const d = new SeriesIndex([{ name: 'e', labels: { a: '', b: 'x' }, value: 1 }]);
    expectVector(run('e{a=""}', d), ['e{b="x"} 1']);
    expectVector(run('e', d), ['e{b="x"} 1']);
  });
});

describe('__name__ dropping (name_label_dropping.test)', () => {
  const d = new SeriesIndex(load('metric{env="1"} 120\nanother_metric{env="1"} 180'));
  it.each([
    ['metric{env="1"}', ['metric{env="1"} 120']],
    ['-metric', ['{env="1"} -120']],
    ['metric + another_metric', ['{env="1"} 300']],
    ['metric <= another_metric', ['metric{env="1"} 120']],
    ['metric <= bool another_metric', ['{env="1"} 1']],
    ['metric + 1', ['{env="1"} 121']],
    ['metric > 1', ['metric{env="1"} 120']],
    ['metric > bool 1', ['{env="1"} 1']],
    ['1 < metric', ['metric{env="1"} 120']],
    ['abs(metric)', ['{env="1"} 120']],
    ['clamp_max(metric, 10)', ['{env="1"} 10']],
    ['round(metric)', ['{env="1"} 120']],
    ['sort(metric)', ['metric{env="1"} 120']],
    ['label_replace(metric, "x", "y", "", "")', ['metric{env="1", x="y"} 120']],
    ['metric and another_metric', ['metric{env="1"} 120']],
    ['metric unless on(env) another_metric', []],
    ['topk(1, metric)', ['metric{env="1"} 120']],
    ['sum by (__name__) (metric)', ['metric 120']],
    ['sum without (env) (metric)', ['{} 120']],
    ['+metric', ['metric{env="1"} 120']],
    ['(metric)', ['metric{env="1"} 120']],
  ] as const)('%s', (expr, want) => expectVector(run(expr, d), want));
});

describe('evaluation errors Prometheus raises (VIGIL_ERR_PROMQL_EXEC)', () => {
  const d = new SeriesIndex(
    load(`
a{x="1", y="1"} 1
a{x="1", y="2"} 2
b{x="1"} 10
b{x="2"} 20
testmetric1{src="a",dst="b"} 0
testmetric2{src="a",dst="b"} 1
`),
  );
  const cases: readonly [string, RegExp][] = [
    ['b + on(x) a', /found duplicate series for the match group \{x="1"\} on the right hand-side of the operation: \[\{__name__="a", x="1", y="2"\}, \{__name__="a", x="1", y="1"\}\];many-to-many matching not allowed: matching labels must be unique on one side/],
    ['a + on(x) group_right b', /on the left hand-side of the operation.*many-to-many matching not allowed/],
    ['a + on(x) b', /^multiple matches for labels: many-to-one matching must be explicit \(group_left\/group_right\)$/],
    ['-{__name__=~"testmetric1|testmetric2"}', /^vector cannot contain metrics with the same labelset$/],
    ['{__name__=~"testmetric1|testmetric2"} + 1', /^vector cannot contain metrics with the same labelset$/],
    ['abs({__name__=~"testmetric1|testmetric2"})', /^vector cannot contain metrics with the same labelset$/],
    ['label_replace(a, "y", "", "", "")', /^vector cannot contain metrics with the same labelset$/],
    ['topk(NaN, a)', /^Parameter value is NaN$/],
    ['topk(1e19, a)', /^Scalar value 1e\+19 overflows int64$/],
    ['count_values("", a)', /^invalid label name ""$/],
  ];
  it.each(cases)('%s', (expr, re) => {
    let err: unknown;
    try {
      run(expr, d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PromqlError);
    expect((err as PromqlError).code).toBe('VIGIL_ERR_PROMQL_EXEC');
    expect((err as PromqlError).message).toMatch(re);
  });

  it('many-to-one: grouping labels must ensure unique matches', () => {
    const g = new SeriesIndex(
      load(`
c{x="1", y="1", z="a"} 1
c{x="1", y="1", z="b"} 2
one{x="1"} 10
`),
    );
    expectVector(run('c * on(x) group_left one', g), ['{x="1", y="1", z="a"} 10', '{x="1", y="1", z="b"} 20']);
    const h = new SeriesIndex(load('c{x="1", z="a"} 1\nc{x="1", z="b"} 2\none{x="1"} 10'));
    expect(() => run('sum without (z) (c) * on(x) group_left one', h)).not.toThrow();
    const dup = new SeriesIndex(load('c{x="1", z="a"} 1\nd{x="1", z="a"} 2\none{x="1"} 10'));
    // {__name__=~"c|d"} * … drops the names: two results with the same labels for one match group.
    expect(() => run('{__name__=~"c|d"} * on(x) group_left one', dup)).toThrow(/multiple matches for labels: grouping labels must ensure unique matches/);
  });
});

describe('scalars, strings, literals', () => {
  const d = new SeriesIndex([]);
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['2 ^ -1', 0.5],
    ['-1 ^ 0.5', -1],
    ['1 ^ NaN', 1],
    ['NaN ^ 0', 1],
    ['(-1) ^ Inf', 1],
    ['0x1F', 31],
    ['1_000', 1000],
    ['010', 8],
    ['09', 9],
    ['.5e1', 5],
    ['5m', 300],
    ['1h30m', 5400],
    ['500ms', 0.5],
    ['Inf', Infinity],
    ['-inf', -Infinity],
    ['5 % 3', 2],
    ['-5 % 3', -2],
    ['5 % Inf', 5],
    ['1 / 0', Infinity],
    ['1 > bool 0', 1],
    ['NaN != bool NaN', 1],
    ['NaN == bool NaN', 0],
  ] as const)('%s', (expr, want) => expectScalar(run(expr, d), want));

  it('evaluates string literals with Go escapes', () => {
    expect(run('"a\\tb\\u00e9\\x41\\101"', d)).toEqual({ type: 'string', value: 'a\tbéAA' });
    expect(run("'it\\'s'", d)).toEqual({ type: 'string', value: "it's" });
    expect(run('`raw\\n`', d)).toEqual({ type: 'string', value: 'raw\\n' });
  });

  it('time() is the evaluation time in seconds', () => {
    expectScalar(run('time()', d, 1_700_000_123_456), 1_700_000_123.456);
  });

  it('date functions (UTC) default to time()', () => {
    const t = Date.UTC(2024, 1, 29, 13, 45, 7);
    expectVector(run('hour()', d, t), ['{} 13']);
    expectVector(run('minute()', d, t), ['{} 45']);
    expectVector(run('month()', d, t), ['{} 2']);
    expectVector(run('year()', d, t), ['{} 2024']);
    expectVector(run('day_of_month()', d, t), ['{} 29']);
    expectVector(run('day_of_week()', d, t), ['{} 4']);
    expectVector(run('day_of_year()', d, t), ['{} 60']);
    expectVector(run('days_in_month()', d, t), ['{} 29']);
    expectVector(run('year(vector(0))', d, t), ['{} 1970']);
    expectVector(run('days_in_month(vector(1709251200))', d, t), ['{} 31']);
  });
});

describe('subexpression memo (per SeriesIndex and time)', () => {
  it('keeps NaN, ±Inf, -0 literals and evaluation times apart', () => {
    const d = new SeriesIndex(load('v{i="1"} 1'));
    expectVector(run('v == bool NaN', d), ['{i="1"} 0']);
    expectVector(run('v == bool Inf', d), ['{i="1"} 0']);
    expectVector(run('v == bool 1', d), ['{i="1"} 1']);
    expectScalar(run('1 / -0', d), -Infinity);
    expectScalar(run('1 / 0', d), Infinity);
    expectScalar(run('time()', d, 1000), 1);
    expectScalar(run('time()', d, 2000), 2);
    expectVector(run('vector(time()) > bool 1', d, 1000), ['{} 0']);
    expectVector(run('vector(time()) > bool 1', d, 2000), ['{} 1']);
  });
});

describe('label names that are Object.prototype members', () => {
  it('are labels like any other: matched, kept, set and grouped by, never inherited', () => {
    const d = new SeriesIndex(load('v{constructor="a", toString="b"} 1\nv{constructor="c"} 2\nw{} 3'));
    expectVector(run('v{toString=""}', d), ['v{constructor="c"} 2']);
    expectVector(run('w{constructor=""}', d), ['w{} 3']);
    expectVector(run('sum by (constructor) (v)', d), ['{constructor="a"} 1', '{constructor="c"} 2']);
    const set = run('label_replace(w, "__proto__", "p", "", "")', d);
    expect(set.type).toBe('vector');
    if (set.type !== 'vector') return;
    expect(set.samples.map((x) => x.value)).toEqual([3]);
    const labels = set.samples[0]?.labels as Record<string, string>;
    expect(Object.keys(labels).sort()).toEqual(['__name__', '__proto__']);
    expect(Object.hasOwn(labels, '__proto__')).toBe(true);
    expect('hasOwnProperty' in labels).toBe(false);
  });
});
