import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCheckConfig } from '../cli/check-config.js';
import { parseConfigText } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import { debianTool } from '../../test/debian.js';
import { BASE_CONFIG, testDaemon, writeConfig, type TestDaemon } from '../../test/harness.js';
import { Processes, freePort, waitFor } from '../../test/processes.js';
import { ModelShard, SHARD_STATE_KEY, shardOf, shardPart, splitByShard } from './shard.js';

describe('shardOf is Prometheus’s hashmod', () => {
  it('the hashmod cases of Prometheus’s own tests', () => {
    // prometheus/prometheus model/relabel/relabel_test.go (at d15adb9ad7), TestRelabel — its only
    // two hashmod cases, both `modulus: 1000`: "baz" → "976" (line 257), "foo\nbar" → "734" (line 275).
    expect(shardOf('baz', 1000)).toBe(976);
    expect(shardOf('foo\nbar', 1000)).toBe(734);
  });

  it('the shards the real Prometheus gives (2.42, Debian: hashmod relabelling of targets labelled model=…, read from /api/v1/targets)', () => {
    // [name, modulus 3, 7, 1000, 4294967311 (> 2³²: the whole uint64 matters)]
    const PROMETHEUS: [string, number, number, number, number][] = [
      ['fraud', 0, 1, 304, 3024692770],
      ['churn', 0, 0, 780, 3279709341],
      ['eta', 1, 2, 823, 338010645],
      ['baz', 2, 5, 976, 1742524559],
      ['credit-risk', 2, 4, 210, 1825442469],
      ['recsys.v2', 2, 1, 87, 1290302439],
      ['A', 2, 3, 825, 2742196366],
      ['ranker_2024', 1, 5, 740, 893313525],
    ];
    for (const [name, m3, m7, m1000, big] of PROMETHEUS) {
      expect([shardOf(name, 3), shardOf(name, 7), shardOf(name, 1000), shardOf(name, 4294967311)], name).toEqual([m3, m7, m1000, big]);
    }
  });

  it('matches md5 → last 8 bytes, big-endian → modulo, computed another way (hex digits, BigInt)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (name, count) => {
        const hex = createHash('md5').update(Buffer.from(name, 'utf8')).digest('hex');
        expect(shardOf(name, count)).toBe(Number(BigInt(`0x${hex.slice(16)}`) % BigInt(count)));
      }),
    );
  });

  it('one shard: every name is shard 0; a count below 1 or not an integer is refused', () => {
    expect(['a', 'b', ''].map((n) => shardOf(n, 1))).toEqual([0, 0, 0]);
    expect(() => shardOf('a', 0)).toThrow(RangeError);
    expect(() => shardOf('a', 1.5)).toThrow(RangeError);
  });
});

describe('splitting a list of models', () => {
  const names = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 24 }), { maxLength: 60 });

  it('every name falls in exactly one shard, and the shards together are the whole list, in its order', () => {
    fc.assert(
      fc.property(names, fc.integer({ min: 1, max: 16 }), (list, count) => {
        const parts = Array.from({ length: count }, (_, index) => splitByShard(list, { count, index }));
        for (const name of list) expect(parts.filter((p) => p.mine.includes(name))).toHaveLength(1);
        expect(parts.flatMap((p) => p.mine).sort()).toEqual([...list].sort());
        for (const [index, p] of parts.entries()) {
          expect(p.mine.every((n) => shardOf(n, count) === index)).toBe(true);
          expect([...p.mine, ...p.others].sort()).toEqual([...list].sort());
          expect(p.mine).toEqual(list.filter((n) => p.mine.includes(n))); // list order kept
        }
      }),
    );
  });

  it('spreads names over the shards', () => {
    const list = Array.from({ length: 3000 }, (_, i) => `model-${i}`);
    for (let index = 0; index < 3; index++) expect(splitByShard(list, { count: 3, index }).mine.length).toBeGreaterThan(900);
  });
});

describe('the configuration a shard monitors', () => {
  // with count 2: fraud and churn are shard 0, eta shard 1 (Prometheus: see above)
  const text = `cluster:
  shard: { count: 2, index: 0 }
${BASE_CONFIG}sources:
  - { name: fraud-files, type: file, path: /tmp/in, kind: predictions, model: fraud }
  - { name: eta-files, type: file, path: /tmp/in, kind: predictions, model: eta }
  - { name: eta-labels, type: http_json, url: "http://x/labels", kind: labels, model: eta }
  - { name: registry, type: mlflow, url: "http://mlflow:5000", models: [fraud, eta-registered], model_map: { eta-registered: eta } }
  - { name: registry-eta, type: mlflow, url: "http://mlflow:5000", models: [eta] }
  - { name: registry-all, type: mlflow, url: "http://mlflow:5000", filter: "name LIKE 'x%'" }
  - { name: prom, type: prometheus, url: "http://prom:9090", queries: [{ metric: ml_feature_freshness_seconds, query: "up", labels: { model: eta, feature: km } }] }
slos:
  - { name: errors, model: fraud, objective: 99, sli: { type: errors } }
  - { name: errors, model: eta, objective: 99, sli: { type: errors } }
`;

  it('keeps its models, their SLOs and the sources that ingest for them; narrows mlflow lists; keeps sources tied to no model', () => {
    const config = parseConfigText(text, 's.yaml', {});
    const { config: part, elsewhere } = shardPart(config, config.cluster.shard);
    expect(part.models.map((m) => m.name)).toEqual(['fraud', 'churn']);
    expect(part.slos.map((s) => s.model)).toEqual(['fraud']);
    expect(part.sources.map((s) => s.name)).toEqual(['fraud-files', 'registry', 'registry-all', 'prom']);
    expect(part.sources.find((s) => s.name === 'registry')).toMatchObject({ models: ['fraud'] });
    expect([...elsewhere]).toEqual([['eta', 1]]);
    expect(Object.isFrozen(part)).toBe(true);
    expect(part.models[0]).toBe(config.models[0]); // the same model objects

    const other = shardPart(config, { count: 2, index: 1 }).config;
    expect(other.models.map((m) => m.name)).toEqual(['eta']);
    expect(other.sources.map((s) => s.name)).toEqual(['eta-files', 'eta-labels', 'registry', 'registry-eta', 'registry-all', 'prom']);
    expect(other.sources.find((s) => s.name === 'registry')).toMatchObject({ models: ['eta-registered'] });
  });

  it('one shard: the configuration itself', () => {
    const config = parseConfigText(BASE_CONFIG, 's.yaml', {});
    expect(shardPart(config, { count: 1, index: 0 }).config).toBe(config);
    const loaded = { config, file: 's.yaml' };
    expect(new ModelShard(config.cluster.shard).apply(loaded)).toBe(loaded);
  });
});

describe('a sharded daemon', () => {
  let t: TestDaemon | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const SHARDED = (index: number) => `server:\n  port: 0\ncluster:\n  shard: { count: 2, index: ${index} }\n${BASE_CONFIG}`;
  const P = [{ id: 'p1', model_version: 'v1', features: { km: 3 }, prediction: 1.5 }];
  const post = (d: TestDaemon, model: string, body: unknown = P) =>
    d.daemon.app.inject({ method: 'POST', url: `/v1/models/${model}/predictions`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  it('answers 421 VIGIL_ERR_MODEL_OTHER_SHARD for a configured model of another shard, takes its own, 404 for a model configured nowhere', async () => {
    t = await testDaemon(SHARDED(0));
    const other = await post(t, 'eta');
    expect(other.statusCode).toBe(421);
    expect(other.json()).toEqual({
      error: {
        code: 'VIGIL_ERR_MODEL_OTHER_SHARD',
        message: 'model "eta" is monitored by shard 1 of 2, not by this process (shard 0 of 2): send it to shard 1\'s replicas',
        model: 'eta',
        shard: 1,
        this_shard: 0,
        shard_count: 2,
      },
    });
    const labels = await t.daemon.app.inject({ method: 'POST', url: '/v1/models/eta/labels', headers: { 'content-type': 'application/json' }, payload: '[{"id":"p1","label":2}]' });
    expect(labels.statusCode).toBe(421);
    expect((await t.daemon.app.inject({ url: '/v1/models/eta' })).statusCode).toBe(421);

    const mine = await post(t, 'fraud', [{ id: 'p1', model_version: 'v1', features: { amount: 3, country: 'PL' }, prediction: 1, score: 0.9 }]);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toMatchObject({ accepted: 1 });

    const unknown = await post(t, 'nowhere');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('VIGIL_ERR_MODEL_UNKNOWN');

    expect((await t.daemon.app.inject({ url: '/v1/models' })).json().models.map((m: { name: string }) => m.name)).toEqual(['fraud', 'churn']);
    expect(t.daemon.config().models.map((m) => m.name)).toEqual(['fraud', 'churn']);
  });

  it('the other shard takes what the first refuses', async () => {
    t = await testDaemon(SHARDED(1));
    expect((await post(t, 'eta')).statusCode).toBe(200);
    expect((await post(t, 'fraud')).json().error).toMatchObject({ code: 'VIGIL_ERR_MODEL_OTHER_SHARD', shard: 0, this_shard: 1 });
  });

  it('cluster.shard is restart-only: a reload that changes it says so and keeps the start-up split; models added on reload are split by it', async () => {
    t = await testDaemon(SHARDED(0));
    writeConfig(t, `${SHARDED(1)}  - { name: recsys.v2, task: regression, windows: [1h] }\n  - { name: ranker_2024, task: regression, windows: [1h] }\n`);
    const r = await t.daemon.app.inject({ method: 'POST', url: '/-/reload' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().restart_required).toEqual(['cluster.shard']);
    // still shard 0 of 2: recsys.v2 is shard 1, ranker_2024 shard 0
    expect(t.daemon.config().models.map((m) => m.name)).toEqual(['fraud', 'churn', 'ranker_2024']);
    expect((await post(t, 'eta')).statusCode).toBe(421);
    expect((await post(t, 'recsys.v2')).json().error).toMatchObject({ code: 'VIGIL_ERR_MODEL_OTHER_SHARD', shard: 1, this_shard: 0 });
  });

  it('marks its store at start-up, logs its models, and refuses a store another shard of the same count marked', async () => {
    t = await testDaemon(SHARDED(0));
    await t.daemon.start();
    expect(await t.daemon.store.getState(SHARD_STATE_KEY)).toBe('{"count":2,"index":0}');
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'this shard monitors these models');
    expect(line).toMatchObject({ shard: 0, shard_count: 2, models: ['fraud', 'churn'], other_shards: 1 });

    const logger = createLogger({ level: 'silent' });
    const config = t.daemon.config();
    await expect(new ModelShard({ count: 2, index: 1 }).claimStore(t.daemon.store, config, t.clock.now(), logger)).rejects.toMatchObject({
      code: 'VIGIL_ERR_CLUSTER_SHARD_STORE',
      message: expect.stringContaining('this store belongs to shard 0 of 2, and this process is shard 1 of 2'),
    });
    // another count is a reshard: taken over (with a warning)
    await new ModelShard({ count: 3, index: 1 }).claimStore(t.daemon.store, config, t.clock.now(), logger);
    expect(await t.daemon.store.getState(SHARD_STATE_KEY)).toBe('{"count":3,"index":1}');
  });

  it('start() fails on a store of another shard group', async () => {
    t = await testDaemon(SHARDED(1));
    await t.daemon.store.setState(SHARD_STATE_KEY, '{"count":2,"index":0}', t.clock.now());
    await expect(t.daemon.start()).rejects.toMatchObject({ code: 'VIGIL_ERR_CLUSTER_SHARD_STORE' });
  });
});

describe('vigil check-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-shard-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the shard assignment when sharding is configured, and nothing about it otherwise', async () => {
    const file = join(dir, 'vigil.yaml');
    const out: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(`ERR ${s}`) };
    writeFileSync(file, `alerting:\n  bundled_rules: false\ncluster:\n  shard: { count: 3, index: 1 }\n${BASE_CONFIG}`);
    expect(await runCheckConfig([file], io, {})).toBe(0);
    // modulus 3 (Prometheus, above): fraud 0, churn 0, eta 1 — shard 2 has none
    expect(out[1]).toBe(`${file}: shard 1 of 3 (cluster.shard) monitors 1 of 3 model(s): eta; shard 0: fraud, churn; 1 other shard(s) without a model; this shard group needs its store to itself (storage.path ./data/vigil.db)\n`);

    out.length = 0;
    writeFileSync(file, `alerting:\n  bundled_rules: false\n${BASE_CONFIG}`);
    expect(await runCheckConfig([file], io, {})).toBe(0);
    expect(out).toHaveLength(1);
  });
});

const prometheus = debianTool('prometheus', 'prometheus');

describe.runIf(prometheus.available)('the split in the real Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-shard-prom-'));
  const procs = new Processes();
  let server: Server | undefined;
  afterAll(async () => {
    await procs.stopAll();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const NAMES = [
    ...['fraud', 'churn', 'eta', 'credit-risk', 'recsys.v2', 'A', 'ranker_2024', 'ünïcode-模型', 'a b', '0'],
    ...Array.from({ length: 40 }, (_, i) => `model-${i}`),
  ];

  /** The relabel rules of docs/operations.md's "Sharding" (for shard 1 of 3). */
  const documented = (): unknown => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/operations.md'), 'utf8');
    const section = doc.slice(doc.indexOf('#### Sharding'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    if (block === undefined) throw new Error('no yaml block in the Sharding section');
    return (parseYaml(block) as { metric_relabel_configs: unknown }).metric_relabel_configs;
  };

  it('hashmod of the model label gives shardOf, and the documented rules keep exactly shard 1 of 3’s series and those without a model', async () => {
    const metricsPort = await freePort();
    const exposition = [
      ...NAMES.map((n) => `vigil_shard_probe{model="${n}"} 1`),
      'vigil_shard_probe_unlabelled 1',
      '',
    ].join('\n');
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition));
    await new Promise<void>((resolve) => server?.listen(metricsPort, '127.0.0.1', resolve));

    const promPort = await freePort();
    const config = {
      global: { scrape_interval: '1s' },
      scrape_configs: [
        // target relabelling: Prometheus computes the shard of every name (the targets are never reached)
        {
          job_name: 'targets',
          scrape_interval: '1h',
          static_configs: NAMES.map((n, i) => ({ targets: [`127.0.0.1:${i + 1}`], labels: { model: n } })),
          relabel_configs: [
            { source_labels: ['model'], action: 'hashmod', modulus: 3, target_label: 'shard3' },
            { source_labels: ['model'], action: 'hashmod', modulus: 1000, target_label: 'h1000' },
          ],
        },
        // the documented metric relabelling, on series labelled model=…
        { job_name: 'shard1', static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }], metric_relabel_configs: documented() },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
    procs.run('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${mkdtempSync(join(dir, 'tsdb-'))}`, `--web.listen-address=127.0.0.1:${promPort}`]);
    const api = `http://127.0.0.1:${promPort}`;

    type Target = { labels: Record<string, string> };
    const targets = await waitFor('the targets', async () => {
      const r = (await (await fetch(`${api}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
      const t = r.data.activeTargets.filter((x) => x.labels.job === 'targets');
      return t.length === NAMES.length ? t : undefined;
    });
    const byName = new Map(targets.map((x) => [x.labels.model as string, [Number(x.labels.shard3), Number(x.labels.h1000)]]));
    expect(byName.size).toBe(NAMES.length);
    for (const n of NAMES) expect(byName.get(n), n).toEqual([shardOf(n, 3), shardOf(n, 1000)]);

    type Series = { metric: Record<string, string> };
    const query = async (q: string): Promise<Series[]> =>
      ((await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: Series[] } }).data.result;
    const kept = await waitFor('the scrape of shard 1', async () => {
      const r = await query('{__name__=~"vigil_shard_probe.*", job="shard1"}');
      return r.length > 0 ? r : undefined;
    });
    expect(kept.filter((s) => s.metric.__name__ === 'vigil_shard_probe_unlabelled')).toHaveLength(1);
    const models = kept.filter((s) => s.metric.__name__ === 'vigil_shard_probe').map((s) => s.metric.model);
    expect(models.sort()).toEqual(splitByShard(NAMES, { count: 3, index: 1 }).mine.sort());
    expect(kept.every((s) => Object.keys(s.metric).every((k) => !k.startsWith('__tmp')))).toBe(true);
  }, 60_000);
});
