import { ConfigSchema } from './schema.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, embeddedConfigPath, loadConfigFile, parseConfigText } from './load.js';
import { interpolate } from './interpolate.js';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/config');

/** Each bad fixture → the first problem's code, key path and line. */
const BAD: Record<string, { code: string; path: string; line: number }> = {
  'port-type.bad.yaml': { code: 'VIGIL_ERR_CONFIG_TYPE', path: 'server.port', line: 2 },
  'unknown-key.bad.yaml': { code: 'VIGIL_ERR_CONFIG_UNKNOWN_KEY', path: 'server.prot', line: 3 },
  'task-enum.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].task', line: 3 },
  'missing-name.bad.yaml': { code: 'VIGIL_ERR_CONFIG_REQUIRED', path: 'models[0].name', line: 2 },
  'duplicate-model.bad.yaml': { code: 'VIGIL_ERR_CONFIG_DUPLICATE', path: 'models[1].name', line: 4 },
  'duplicate-feature.bad.yaml': { code: 'VIGIL_ERR_CONFIG_DUPLICATE', path: 'models[0].features[1].name', line: 6 },
  'bad-duration.bad.yaml': { code: 'VIGIL_ERR_CONFIG_DURATION', path: 'evaluation_interval', line: 1 },
  'feature-type.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].features[0].type', line: 5 },
  'missing-env.bad.yaml': { code: 'VIGIL_ERR_CONFIG_ENV', path: 'server.tokens.ingest[0]', line: 3 },
  'yaml-syntax.bad.yaml': { code: 'VIGIL_ERR_CONFIG_YAML', path: '', line: 2 },
  'short-token.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'server.tokens.admin[0]', line: 3 },
  'positive-class-regression.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].positive_class', line: 4 },
  'window-retention.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].windows[1]', line: 6 },
  'model-name.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].name', line: 2 },
  'label-name.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].labels.team-name', line: 4 },
  'zero-interval.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'evaluation_interval', line: 1 },
  'duplicate-key.bad.yaml': { code: 'VIGIL_ERR_CONFIG_YAML', path: '', line: 3 },
  'cache-mb.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'storage.cache_mb', line: 3 },
  'reference-points.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'models[0].drift.reference_points', line: 5 },
  'empty.bad.yaml': { code: 'VIGIL_ERR_CONFIG_EMPTY', path: '', line: 1 },
  'rule-files-no-match.bad.yaml': { code: 'VIGIL_ERR_CONFIG_NO_MATCH', path: 'rule_files[0]', line: 5 },
  'postgres-no-url.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'storage.url', line: 2 },
  'postgres-url.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'storage.url', line: 3 },
  'sqlite-url.bad.yaml': { code: 'VIGIL_ERR_CONFIG_VALUE', path: 'storage.url', line: 3 },
};

const tmp = mkdtempSync(join(tmpdir(), 'vigil-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function issuesOf(file: string, env: Record<string, string> = {}) {
  try {
    await loadConfigFile(file, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error(`${file} loaded, but it should not`);
}

describe('bad configuration files', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.bad.yaml'));

  it('every bad fixture has an expectation (and the other way round)', () => {
    expect(files.sort()).toEqual(Object.keys(BAD).sort());
  });

  it.each(Object.entries(BAD))('%s → %o', async (name, want) => {
    const file = join(FIXTURES, name);
    const issues = await issuesOf(file);
    const first = issues[0];
    expect(first).toMatchObject({ file, code: want.code, path: want.path, line: want.line });
    expect(first?.column).toBeGreaterThan(0);
  });
});

describe('good configuration files', () => {
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.good.yaml')))('%s loads', async (name) => {
    const { config } = await loadConfigFile(join(FIXTURES, name), {});
    expect(config.server.port).toBeGreaterThanOrEqual(0);
  });

  it('the bundled example loads', async () => {
    const { config } = await loadConfigFile(embeddedConfigPath(), {});
    expect(config.models.map((m) => m.task).sort()).toEqual(['binary', 'multiclass', 'regression']);
  });

  it('fills documented defaults', async () => {
    const { config } = await loadConfigFile(join(FIXTURES, 'minimal.good.yaml'), {});
    expect(config).toEqual({
      server: {
        address: '127.0.0.1',
        port: 9470,
        tokens: { read: [], ingest: [], admin: [] },
        max_batch_items: 10_000,
        max_body_bytes: 64 * 1024 * 1024,
        max_future_skew: 3_600_000,
        shutdown_timeout: 10_000,
        timeouts: { headers: 10_000, body: 30_000, idle: 72_000 },
        max_connections: 1024,
      },
      storage: { backend: 'sqlite', schema: 'vigil', pool_size: 10, startup_retry: 30_000, path: './data/vigil.db', retention: 30 * 86_400_000, prune_interval: 3_600_000, synchronous: 'normal', cache_mb: 4, audit_retention: 365 * 86_400_000 },
      log: { level: 'info', format: 'auto' },
      evaluation_interval: 30_000,
      compute_workers: 'auto',
      models: [],
      sources: [],
      rule_files: [],
      alerting: { bundled_rules: true, external_labels: {}, resend_delay: 60_000, for_grace_period: 600_000, for_outage_tolerance: 3_600_000, history: { retention: 3_600_000, max_samples: 5_000_000, persist: true } },
      alertmanagers: [],
      notifications: expect.objectContaining({ receivers: [], routes: [], group_by: ['alertname'], group_wait: 30_000, group_interval: 300_000, repeat_interval: 14_400_000 }),
      maintenance_windows: [],
      remediation: {
        dry_run: false,
        paused: false,
        allow_exec: false,
        actions: {},
        routes: [],
        loop_detection: { max_rollbacks: 3, window: 6 * 3_600_000 },
        circuit_breaker: { probe_period: 600_000, min_open: 60_000 },
      },
      slos: [],
      cluster: { lease: 15_000, shard: { count: 1, index: 0 } },
      tracing: { otlp: { headers: {}, timeout: 10_000 }, sample_ratio: 1 },
      kserve: { join_timeout: 30_000, max_pending: 100_000, max_pending_bytes: 64 * 1024 * 1024 },
    });
  });

  it('parses the full example with every section', async () => {
    const { config } = await loadConfigFile(join(FIXTURES, 'full.good.yaml'), { INGEST_TOKEN: 'from-the-environment-123' });
    expect(config.server.tokens.ingest).toEqual(['from-the-environment-123']);
    expect(config.storage.retention).toBe(90 * 86_400_000);
    const [fraud, churn, eta] = config.models;
    expect(fraud).toMatchObject({ positive_class: 'true', windows: [3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000], evaluation_interval: 300_000 });
    expect(fraud?.features[1]).toEqual({ name: 'merchant category', type: 'categorical' });
    expect(churn).toMatchObject({ classes: ['stay', 'churn', '3'], allow_unknown_features: true, windows: [3_600_000, 86_400_000], min_samples: 100 });
    expect(eta?.task).toBe('regression');
  });
});

describe('every problem at once', () => {
  it('reports all problems of a file, in file order, each with line and column', async () => {
    const file = join(tmp, 'many.yaml');
    writeFileSync(file, 'server:\n  port: high\n  bogus: 1\nevaluation_interval: soon\nmodels:\n  - name: m\n    task: nope\n  - task: binary\n');
    const issues = await issuesOf(file);
    expect(issues.map((i) => [i.line, i.path, i.code])).toEqual([
      [2, 'server.port', 'VIGIL_ERR_CONFIG_TYPE'],
      [3, 'server.bogus', 'VIGIL_ERR_CONFIG_UNKNOWN_KEY'],
      [4, 'evaluation_interval', 'VIGIL_ERR_CONFIG_DURATION'],
      [7, 'models[0].task', 'VIGIL_ERR_CONFIG_VALUE'],
      [8, 'models[1].name', 'VIGIL_ERR_CONFIG_REQUIRED'],
    ]);
  });

  it('reports a duplicate model name together with the other problems, not only when the rest is valid', async () => {
    const file = join(tmp, 'dup-and-more.yaml');
    writeFileSync(file, 'server:\n  port: high\nmodels:\n  - { name: a, task: binary }\n  - { name: a, task: bogus, windows: [1h, 1h] }\n  - { name: b, task: binary, features: [{ name: x, type: numeric }, { name: x, type: nope }] }\n');
    const issues = await issuesOf(file);
    expect(issues.map((i) => [i.line, i.path, i.code])).toEqual([
      [2, 'server.port', 'VIGIL_ERR_CONFIG_TYPE'],
      [5, 'models[1].name', 'VIGIL_ERR_CONFIG_DUPLICATE'],
      [5, 'models[1].task', 'VIGIL_ERR_CONFIG_VALUE'],
      [5, 'models[1].windows[1]', 'VIGIL_ERR_CONFIG_DUPLICATE'],
      [6, 'models[2].features[1].name', 'VIGIL_ERR_CONFIG_DUPLICATE'],
      [6, 'models[2].features[1].type', 'VIGIL_ERR_CONFIG_VALUE'],
    ]);
  });

  it('says when the file cannot be read', async () => {
    const issues = await issuesOf(join(tmp, 'nope.yaml'));
    expect(issues[0]).toMatchObject({ code: 'VIGIL_ERR_CONFIG_READ', message: expect.stringContaining('file not found') });
  });
});

describe('empty files', () => {
  it.each([['', 'empty'], ['\n\n   \n', 'blank lines'], ['# just a comment\n# and another\n', 'comments'], ['~\n', 'a bare null'], ['{}\n', 'an empty mapping'], ['# nothing yet\n{}\n', 'a comment and {}']])('%j (%s) is an error that says what to write', (text) => {
    expect(() => parseConfigText(text, 'e.yaml', {})).toThrow(ConfigError);
    try {
      parseConfigText(text, 'e.yaml', {});
    } catch (e) {
      const [issue, ...rest] = (e as ConfigError).issues;
      expect(rest).toEqual([]);
      expect(issue).toMatchObject({ file: 'e.yaml', line: 1, column: 1, code: 'VIGIL_ERR_CONFIG_EMPTY' });
      expect(issue?.message).toContain('models: [{name: fraud, task: binary}]');
    }
  });

  it('a file that sets a key is not empty, even with no models: every other key has its default', () => {
    expect(parseConfigText('models: []\n', 'e.yaml', {}).models).toEqual([]);
  });
});

describe('unknown keys', () => {
  const messages = (text: string): string[] => {
    try {
      parseConfigText(text, 'u.yaml', {});
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.line}:${i.path}: ${i.message}`);
    }
    throw new Error('loaded');
  };

  it('suggest the known key at that path (models, sources and notifiers by their type, actions in a map)', () => {
    const text = [
      'srever: {}',
      'models:',
      '  - { name: a, task: binary, windws: [1h], drift: { alpah: 0.1 } }',
      'sources:',
      '  - { name: s, type: http_json, kind: predictions, model: a, url: "http://x", intreval: 1m }',
      'notifications:',
      '  receivers:',
      '    - { name: h, type: webhook, url: "http://x", send_resolvd: true }',
      'remediation:',
      '  actions:',
      '    rb: { type: mlflow_rollback, url: "http://x", aliass: champion }',
    ].join('\n');
    expect(messages(text)).toEqual([
      '1:srever: unknown key "srever"; did you mean "server"?',
      '3:models[0].windws: unknown key "windws"; did you mean "windows"?',
      '3:models[0].drift.alpah: unknown key "alpah"; did you mean "alpha"?',
      '5:sources[0].intreval: unknown key "intreval"; did you mean "interval"?',
      '8:notifications.receivers[0].send_resolvd: unknown key "send_resolvd"; did you mean "send_resolved"?',
      '11:remediation.actions.rb.aliass: unknown key "aliass"; did you mean "alias"?',
    ]);
  });

  it('list the known keys when none is close', () => {
    expect(messages('log:\n  colour: true\n')).toEqual(['2:log.colour: unknown key "colour" (known here: level, format)']);
  });
});

describe('rule_files', () => {
  it('an entry that matches no file is an error at its line; entries that match load', async () => {
    const d = mkdtempSync(join(tmp, 'rules-'));
    writeFileSync(join(d, 'a.rules.yml'), 'groups: []\n');
    const file = join(d, 'vigil.yaml');
    writeFileSync(file, `models: [{ name: m, task: binary }]\nrule_files:\n  - "*.rules.yml"\n  - a.rules.yml\n  - missing.yml\n  - ${join(d, 'sub')}/*.yml\nlog: { levl: info }\n`);
    const issues = await issuesOf(file);
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [5, 'rule_files[2]', 'VIGIL_ERR_CONFIG_NO_MATCH', `rule file not found: ${join(d, 'missing.yml')}`],
      [6, 'rule_files[3]', 'VIGIL_ERR_CONFIG_NO_MATCH', `no file matches "${join(d, 'sub')}/*.yml" (looked in ${d})`],
      [7, 'log.levl', 'VIGIL_ERR_CONFIG_UNKNOWN_KEY', 'unknown key "levl"; did you mean "level"?'],
    ]);
    writeFileSync(file, 'models: [{ name: m, task: binary }]\nrule_files: ["*.rules.yml", a.rules.yml]\n');
    expect((await loadConfigFile(file, {})).config.rule_files).toEqual(['*.rules.yml', 'a.rules.yml']);
  });
});

describe('${VAR} interpolation', () => {
  it('substitutes, defaults and escapes', () => {
    expect(interpolate('a ${X} b', { X: '1' })).toEqual({ value: 'a 1 b', missing: [] });
    expect(interpolate('${X:-fallback}', {})).toEqual({ value: 'fallback', missing: [] });
    expect(interpolate('${X:-fallback}', { X: '' })).toEqual({ value: 'fallback', missing: [] });
    expect(interpolate('$${X} costs $5', { X: '1' })).toEqual({ value: '${X} costs $5', missing: [] });
    expect(interpolate('${A}${B}', { A: 'x' })).toEqual({ value: 'x', missing: ['B'] });
  });

  it('interpolates values, keeps numbers typed, never touches keys or injects YAML', () => {
    const cfg = parseConfigText('server:\n  port: ${PORT}\n  address: "${ADDR}"\nstorage:\n  path: ${P}\n', 'x.yaml', {
      PORT: '9999',
      ADDR: '0.0.0.0',
      P: '/tmp/a.db\nevil: true',
    });
    expect(cfg.server.port).toBe(9999);
    expect(cfg.server.address).toBe('0.0.0.0');
    expect(cfg.storage.path).toBe('/tmp/a.db\nevil: true');
  });

  it('keeps secrets that look like numbers as strings', () => {
    const cfg = parseConfigText('server:\n  tokens:\n    ingest:\n      - ${T}\n', 'x.yaml', { T: '12345678901234567890' });
    expect(cfg.server.tokens.ingest).toEqual(['12345678901234567890']);
  });

  it('reports a missing variable at its position', () => {
    expect(() => parseConfigText('log:\n  level: ${LEVEL}\n', 'x.yaml', {})).toThrow(/x\.yaml:2:10: log\.level: environment variable LEVEL is not set/);
  });

  it('a file with $$ keeps a literal dollar', () => {
    const cfg = parseConfigText('models:\n  - name: m\n    task: binary\n    description: "costs $$5 per ${UNIT}"\n', 'x.yaml', { UNIT: 'call' });
    expect(cfg.models[0]?.description).toBe('costs $5 per call');
  });
});

/** Every key name anywhere in a zod schema (objects inside arrays, records, unions, pipes, defaults…). */
function schemaKeys(schema: unknown, out = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return out;
  seen.add(schema);
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (def === undefined) return out;
  if (def.type === 'object') {
    for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
      out.add(k);
      schemaKeys(v, out, seen);
    }
  }
  for (const key of ['innerType', 'in', 'out', 'element', 'valueType', 'left', 'right']) schemaKeys(def[key], out, seen);
  for (const o of (def.options as unknown[] | undefined) ?? []) schemaKeys(o, out, seen);
  return out;
}

describe('the configuration reference (docs/configuration.md) documents every default', () => {
  it('every key of the configuration schema, at any depth, is named in the configuration reference', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
    const named = new Set<string>();
    for (const m of readme.matchAll(/`([^`\n]+)`/g)) for (const w of (m[1] as string).split(/[^A-Za-z0-9_]+/)) if (w !== '') named.add(w);
    const keys = [...schemaKeys(ConfigSchema)];
    expect(keys.length).toBeGreaterThan(150);
    expect(keys.filter((k) => !named.has(k)).sort()).toEqual([]);
  });

  it('each key of the schema appears in the configuration reference', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
    const keys = [
      'server.address', 'server.port', 'server.external_url', 'server.tokens.read', 'server.tokens.ingest', 'server.tokens.admin', 'server.token_files.read',
      'server.token_files.ingest', 'server.token_files.admin', 'server.timeouts.headers', 'server.timeouts.body', 'server.timeouts.idle',
      'server.max_connections', 'server.tls.cert_file', 'server.tls.key_file', 'server.max_batch_items',
      'server.max_body_bytes', 'server.max_future_skew', 'server.shutdown_timeout', 'storage.backend', 'storage.url', 'storage.password_file',
      'storage.schema', 'storage.pool_size', 'storage.startup_retry', 'cluster.lease', 'cluster.shard.count', 'cluster.shard.index', 'storage.path', 'storage.retention',
      'storage.prune_interval', 'storage.synchronous', 'log.level', 'evaluation_interval', 'models[].name', 'models[].task',
      'models[].positive_class', 'models[].classes', 'models[].description', 'models[].labels', 'models[].features',
      'models[].allow_unknown_features', 'models[].windows', 'models[].min_samples', 'models[].evaluation_interval',
      'models[].decision_threshold', 'models[].drift.numeric_tests', 'models[].drift.categorical_tests', 'models[].drift.alpha', 'models[].drift.reference_points',
      'models[].business.tp', 'models[].business.cost_per_prediction', 'models[].experiment.control',
      'sources[].name', 'sources[].type', 'sources[].interval', 'sources[].cron', 'sources[].timeout', 'sources[].retries',
      'sources[].retry_backoff', 'sources[].bearer_token',
    ];
    for (const k of keys) expect(readme, `docs/configuration.md lacks ${k}`).toContain(`\`${k}\``);
  });
});

describe('cluster.shard', () => {
  const issuesOfText = (text: string): string[] => {
    try {
      parseConfigText(text, 'shard.yaml', {});
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message} (${i.code})`);
    }
    throw new Error('loaded');
  };

  it('defaults to one shard (every model), and takes count and index, also from the environment', () => {
    expect(parseConfigText('models: []\n', 's.yaml', {}).cluster.shard).toEqual({ count: 1, index: 0 });
    expect(parseConfigText('models: []\ncluster:\n  shard: { count: 3, index: 2 }\n', 's.yaml', {}).cluster.shard).toEqual({ count: 3, index: 2 });
    expect(parseConfigText('models: []\ncluster:\n  shard:\n    count: 4\n    index: ${SHARD}\n', 's.yaml', { SHARD: '3' }).cluster.shard).toEqual({ count: 4, index: 3 });
  });

  it('count 0, an index not below count, a negative or fractional index: errors naming the key with file:line', () => {
    expect(issuesOfText('models: []\ncluster:\n  lease: 15s\n  shard:\n    count: 0\n    index: 0\n')).toEqual([
      'shard.yaml:5: cluster.shard.count: at least 1 (VIGIL_ERR_CONFIG_VALUE)',
    ]);
    expect(issuesOfText('models: []\ncluster:\n  shard:\n    count: 3\n    index: 3\n')).toEqual([
      'shard.yaml:5: cluster.shard.index: must be less than count (3): the shards are numbered 0 to 2 (VIGIL_ERR_CONFIG_VALUE)',
    ]);
    expect(issuesOfText('models: []\ncluster:\n  shard: { count: 2, index: 7 }\n')).toEqual([
      'shard.yaml:3: cluster.shard.index: must be less than count (2): the shards are numbered 0 to 1 (VIGIL_ERR_CONFIG_VALUE)',
    ]);
    expect(issuesOfText('models: []\ncluster:\n  shard:\n    count: 2\n    index: -1\n')).toEqual(['shard.yaml:5: cluster.shard.index: at least 0 (VIGIL_ERR_CONFIG_VALUE)']);
    expect(issuesOfText('models: []\ncluster:\n  shard:\n    count: 2.5\n    index: 0\n')).toEqual([expect.stringMatching(/^shard\.yaml:4: cluster\.shard\.count: /)]);
  });

  it('count and index are both required once shard is given; unknown keys are named', () => {
    expect(issuesOfText('models: []\ncluster:\n  shard:\n    count: 3\n')).toEqual(['shard.yaml:4: cluster.shard.index: required key "index" is missing (VIGIL_ERR_CONFIG_REQUIRED)']);
    expect(issuesOfText('models: []\ncluster:\n  shard:\n    count: 3\n    index: 0\n    modulus: 3\n')).toEqual([
      expect.stringMatching(/^shard\.yaml:6: cluster\.shard\.modulus: unknown key "modulus"/),
    ]);
  });
});

describe('slos', () => {
  const MODELS = `models:
  - { name: fraud, task: binary, positive_class: 1, windows: [1h], features: [{ name: x, type: numeric }] }
  - { name: eta, task: regression, windows: [1h], features: [{ name: x, type: numeric }] }
`;
  const issues = (slos: string) => {
    try {
      parseConfigText(`${MODELS}slos:\n${slos}`, 's.yaml', {});
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
    }
  };

  it('load with their defaults', () => {
    const c = parseConfigText(`${MODELS}slos:\n  - { name: availability, model: fraud, objective: 99.5, sli: { type: errors } }\n`, 's.yaml', {});
    expect(c.slos).toEqual([{ name: 'availability', model: 'fraud', description: '', objective: 99.5, period: '30d', sli: { type: 'errors' }, alerts: { enabled: true, labels: {}, for: 0 } }]);
  });

  it('name the field of every problem, with its line', () => {
    expect(
      issues(`  - { name: Bad_Name, model: fraud, objective: 100, sli: { type: errors } }
  - { name: a, model: nope, objective: 99, sli: { type: errors } }
  - { name: b, model: eta, objective: 99, sli: { type: correctness } }
  - { name: c, model: fraud, objective: 99, sli: { type: quality, metric: rmse, window: 2h, min: 1 } }
  - { name: d, model: fraud, objective: 99, sli: { type: quality, metric: accuracy, window: 1h } }
  - { name: e, model: fraud, objective: 99, period: 7d, sli: { type: latency } }
  - { name: f, model: fraud, objective: 99, sli: { type: errors } }
  - { name: f, model: fraud, objective: 99, sli: { type: errors } }
`),
    ).toEqual([
      expect.stringMatching(/^5: slos\[0\]\.name: .*lowercase letters, digits and dashes/),
      expect.stringMatching(/^5: slos\[0\]\.objective: /),
      expect.stringMatching(/^6: slos\[1\]\.model: unknown model "nope"/),
      expect.stringMatching(/^7: slos\[2\]\.sli\.type: correctness needs a classification model/),
      expect.stringMatching(/^8: slos\[3\]\.sli\.metric: model "fraud" \(binary\) has no rmse/),
      expect.stringMatching(/^8: slos\[3\]\.sli\.window: model "fraud" has no such window/),
      expect.stringMatching(/^9: slos\[4\]\.sli\.min: set exactly one of min/),
      expect.stringMatching(/^10: slos\[5\]\.period: must be one of "28d", "30d"/),
      expect.stringMatching(/^10: slos\[5\]\.sli\.threshold: /),
      expect.stringMatching(/^12: slos\[7\]\.name: duplicate SLO "f" for model "fraud" \(first at slos\[6\]\)/),
    ]);
  });
});

describe('segments', () => {
  const doc = (segments: string, slos = '') =>
    `models:\n  - { name: fraud, task: binary, positive_class: 1, windows: [1h], features: [{ name: x, type: numeric }]${segments} }\n  - { name: plain, task: binary, positive_class: 1, windows: [1h], features: [{ name: x, type: numeric }] }\n${slos}`;
  const issues = (text: string) => {
    try {
      parseConfigText(text, 'g.yaml', {});
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
    }
  };

  it('models[].segments.max is 1 to 100; unknown keys are refused', () => {
    expect(parseConfigText(doc(', segments: { max: 5 }'), 'g.yaml', {}).models[0]?.segments).toEqual({ max: 5 });
    expect(parseConfigText(doc(''), 'g.yaml', {}).models[0]?.segments).toBeUndefined();
    expect(issues(doc(', segments: { max: 0 }'))).toEqual([expect.stringMatching(/^2: models\[0\]\.segments\.max: /)]);
    expect(issues(doc(', segments: { max: 101 }'))).toEqual([expect.stringMatching(/^2: models\[0\]\.segments\.max: /)]);
    expect(issues(doc(', segments: { max: 3, top: 2 }'))).toEqual(['2: models[0].segments.top: unknown key "top" (known here: max)']);
  });

  it('an SLO of a segment: any SLI but freshness; a quality SLI needs the model to have segments', () => {
    const slos = `slos:
  - { name: a, model: fraud, segment: eu, objective: 99, sli: { type: errors } }
  - { name: b, model: plain, segment: eu, objective: 99, sli: { type: correctness } }
  - { name: c, model: fraud, segment: eu, objective: 99, sli: { type: quality, metric: accuracy, window: 1h, min: 0.9 } }
  - { name: d, model: plain, segment: eu, objective: 99, sli: { type: quality, metric: accuracy, window: 1h, min: 0.9 } }
  - { name: e, model: fraud, segment: eu, objective: 99, sli: { type: freshness, max_age: 5m } }
  - { name: f, model: fraud, segment: '', objective: 99, sli: { type: errors } }
`;
    expect(issues(doc(', segments: { max: 3 }', slos))).toEqual([
      expect.stringMatching(/^8: slos\[3\]\.segment: a quality SLI per segment reads the segment's series: set models\[\]\.segments on model "plain"/),
      expect.stringMatching(/^9: slos\[4\]\.segment: a freshness SLI is per model/),
      expect.stringMatching(/^10: slos\[5\]\.segment: /),
    ]);
  });
});

describe('maintenance window times', () => {
  const doc = (starts: string) =>
    `models: []\nmaintenance_windows:\n  - name: deploy\n    matchers: ['model="fraud"']\n    starts_at: "${starts}"\n    ends_at: "2026-03-01T02:00:00Z"\n`;

  it('are RFC 3339 checked against the calendar: 2026-02-30 is an error at its line, not 2 March', () => {
    try {
      parseConfigText(doc('2026-02-30T01:00:00Z'), 'm.yaml', {});
      expect.unreachable('an impossible date was accepted');
    } catch (e) {
      expect((e as ConfigError).issues).toMatchObject([{ file: 'm.yaml', line: 5, path: 'maintenance_windows[0].starts_at' }]);
      expect((e as ConfigError).issues[0]?.message).toContain('has no day 30 in 2026-02');
    }
  });

  it('a valid time loads as epoch milliseconds', () => {
    expect(parseConfigText(doc('2026-02-28T23:00:00+01:00'), 'm.yaml', {}).maintenance_windows[0]?.starts_at).toBe(Date.UTC(2026, 1, 28, 22));
  });
});

describe('kserve (models[].kserve and the top-level join settings)', () => {
  const issuesOf = (text: string): string[] => {
    try {
      parseConfigText(text, 'kserve.yaml', {});
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message} (${i.code})`);
    }
    throw new Error('loaded');
  };
  const MODEL = 'models:\n  - name: iris\n    task: multiclass\n    features:\n      - { name: a, type: numeric }\n      - { name: b, type: numeric }\n';

  it('defaults: join_timeout 30s, max_pending 100000; the block is optional, version_from auto', () => {
    const cfg = parseConfigText(`${MODEL}    kserve: { inference_service: sklearn-iris, features: [b, a], prediction: predict, score: 1 }\n`, 'k.yaml', {});
    expect(cfg.kserve).toEqual({ join_timeout: 30_000, max_pending: 100_000, max_pending_bytes: 64 * 1024 * 1024 });
    expect(cfg.models[0]?.kserve).toEqual({ inference_service: 'sklearn-iris', features: ['b', 'a'], prediction: 'predict', score: 1, version_from: 'auto' });
    expect(parseConfigText('models: []\nkserve:\n  join_timeout: 2m\n  max_pending: 10\n', 'k.yaml', {}).kserve).toEqual({ join_timeout: 120_000, max_pending: 10, max_pending_bytes: 64 * 1024 * 1024 });
  });

  it('errors name the file, line and key: unknown or repeated feature names, a score on regression, a service mapped twice, bad values', () => {
    expect(issuesOf(`${MODEL}    kserve:\n      features: [a, c, a]\n`)).toEqual([
      'kserve.yaml:8: models[0].kserve.features[1]: "c" is not one of the model\'s features (models[].features) (VIGIL_ERR_CONFIG_VALUE)',
      'kserve.yaml:8: models[0].kserve.features[2]: duplicate feature name "a" (first at kserve.features[0]) (VIGIL_ERR_CONFIG_DUPLICATE)',
    ]);
    expect(issuesOf('models:\n  - name: eta\n    task: regression\n    kserve:\n      score: proba\n')).toEqual([
      'kserve.yaml:5: models[0].kserve.score: score applies to binary and multiclass models only (task is regression) (VIGIL_ERR_CONFIG_VALUE)',
    ]);
    const twice = `${MODEL}    kserve: { inference_service: svc }\n  - name: other\n    task: binary\n    kserve:\n      inference_service: svc\n`;
    expect(issuesOf(twice)).toEqual([
      'kserve.yaml:11: models[1].kserve.inference_service: InferenceService "svc" is already mapped to models[0]: give each model its own endpoint (VIGIL_ERR_CONFIG_DUPLICATE)',
    ]);
    // the same service on two endpoints is fine
    expect(parseConfigText(`${MODEL}    kserve: { inference_service: svc }\n  - name: canary\n    task: multiclass\n    kserve: { inference_service: svc, endpoint: canary }\n`, 'k.yaml', {}).models).toHaveLength(2);
    const bad = issuesOf('models: []\nkserve:\n  join_timeout: soon\n  max_pending: 0\n  other: 1\n');
    expect(bad).toHaveLength(3);
    expect(bad.join('\n')).toContain('kserve.yaml:3: kserve.join_timeout');
    expect(bad.join('\n')).toContain('kserve.yaml:4: kserve.max_pending');
    expect(bad.join('\n')).toContain('other');
    expect(issuesOf(`${MODEL}    kserve:\n      version_from: header\n`)[0]).toContain('kserve.yaml:8: models[0].kserve.version_from');
  });
});
