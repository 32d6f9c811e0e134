import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TEST_CATALOG } from '../../../test/fakes/source-harness.js';
import { checkSources, createRunnableSources, createSource, isMlflowSource, SourceConfigSchema, sourceSchedule, type SourceConfig } from './config.js';

const parse = (raw: unknown[]) => z.array(SourceConfigSchema).parse(raw);
const issues = (raw: unknown[], opts: Parameters<typeof checkSources>[2] = { catalog: TEST_CATALOG }) => {
  const schema = z.array(SourceConfigSchema).superRefine((s, ctx) => checkSources(s, ctx, opts));
  return schema.safeParse(raw).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
};

const ALL = [
  { type: 'http_json', name: 'preds', url: 'http://serving/preds', kind: 'predictions', model: 'fraud', interval: '1m' },
  { type: 'file', name: 'drop', path: '/data/in', kind: 'labels', model: 'fraud', cron: '*/5 * * * *' },
  { type: 'prometheus', name: 'prom', url: 'http://prom:9090', queries: [{ query: 'up', metric: 'ml_prediction_latency_p95_seconds', labels: { model: 'fraud' } }] },
  { type: 'feast', name: 'feast', metrics_url: 'http://feast:8000/metrics', timeout: '5s', retries: '0' },
  { type: 'mlflow', name: 'registry', url: 'http://mlflow:5000', models: ['fraud'], retry_backoff: '250ms' },
];

describe('source config', () => {
  it('parses every type with the common defaults and builds each source through the typed factory map', () => {
    const cfgs = parse(ALL);
    expect(cfgs.map((c) => [c.type, c.timeout, c.retries, c.retry_backoff])).toEqual([
      ['http_json', 10_000, 2, 1_000],
      ['file', 10_000, 2, 1_000],
      ['prometheus', 10_000, 2, 1_000],
      ['feast', 5_000, 0, 1_000],
      ['mlflow', 10_000, 2, 250],
    ]);
    expect(cfgs.map((c) => sourceSchedule(c))).toEqual([{ everyMs: 60_000 }, { cron: '*/5 * * * *' }, { everyMs: 30_000 }, { everyMs: 30_000 }, { everyMs: 30_000 }]);
    const sources = cfgs.map((c) => createSource(c));
    expect(sources.map((s) => [s.name, s.type])).toEqual([
      ['preds', 'http_json'],
      ['drop', 'file'],
      ['prom', 'prometheus'],
      ['feast', 'feast'],
      ['registry', 'mlflow'],
    ]);
    expect(sources.filter(isMlflowSource).map((s) => s.versions())).toEqual([null]);
    const runnable = createRunnableSources(cfgs);
    expect(runnable[3]?.settings).toEqual({ schedule: { everyMs: 30_000 }, timeoutMs: 5_000, retries: 0, retryBackoffMs: 1_000 });
    expect(runnable[0]?.fingerprint).toBe(JSON.stringify(cfgs[0]));
  });

  it('refuses an unknown type, unknown keys, a bad cron and a bad duration, naming each', () => {
    const r = z.array(SourceConfigSchema).safeParse([
      { type: 'kafka', name: 'k' },
      { type: 'mlflow', name: 'm', url: 'http://m', colour: 'red' },
      { type: 'mlflow', name: 'm2', url: 'http://m', cron: '61 * * * *' },
      { type: 'mlflow', name: 'm3', url: 'http://m', interval: '5 minutes' },
      { type: 'mlflow', name: 'bad name!', url: 'http://m' },
    ]);
    const msgs = r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs).toEqual([
      '0.type: unknown source type: must be one of http_json, file, prometheus, feast, mlflow',
      '1: Unrecognized key: "colour"',
      '2.cron: not a valid node-cron expression (e.g. "*/5 * * * *", seconds optional)',
      '3.interval: not a valid duration "5 minutes" (use e.g. 30s, 5m, 1h30m, 7d)',
      '4.name: must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit',
    ]);
  });

  it('checkSources: unique names, known models, catalog metrics with fitting labels', () => {
    expect(issues(ALL, { catalog: TEST_CATALOG, models: ['fraud'] })).toEqual([]);
    expect(
      issues(
        [
          ...ALL,
          { type: 'mlflow', name: 'prom', url: 'http://m' },
          { type: 'file', name: 'f2', path: '/x', kind: 'labels', model: 'churn' },
          { type: 'prometheus', name: 'p2', url: 'http://p', queries: [{ query: 'q', metric: 'nope_metric' }, { query: 'q', metric: 'ml_prediction_latency_p95_seconds', label_map: { job: 'job' } }] },
          { type: 'http_json', name: 'h2', url: 'http://h', kind: 'samples', samples: [{ metric: 'ml_feature_freshness_seconds', labels: { model: 'm', team: 'x' }, value_path: 'v' }] },
        ],
        { catalog: TEST_CATALOG, models: ['fraud'] },
      ),
    ).toEqual([
      'sources.5.name: duplicate source name "prom" (first at sources[2])',
      'sources.6.model: unknown model "churn": it is not in models',
      'sources.7.queries.0.metric: nope_metric is not a metric sources can export (not a snapshot family of the metric catalog)',
      'sources.7.queries.1.label_map: ml_prediction_latency_p95_seconds takes labels {model}: not allowed job',
      'sources.8.samples.0.labels: ml_feature_freshness_seconds takes labels {model,feature}: missing feature; not allowed team (give each in labels or label_paths)',
    ]);
  });

  it('the union type narrows on type', () => {
    const c = parse([ALL[4]])[0] as SourceConfig;
    if (c.type === 'mlflow') expect(c.page_size).toBe(100);
    else throw new Error('expected mlflow');
  });
});
