import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeMlflow, type FakeMlflow } from '../../sim/fake-mlflow.js';
import { basicAuth } from '../../sim/fake-http.js';
import { settings, testContext, testRunner } from '../../../test/fakes/source-harness.js';
import { createMlflowSource, MlflowClient, MlflowSourceSchema } from './mlflow.js';

let fake: FakeMlflow;
beforeEach(async () => {
  fake = await startFakeMlflow();
  fake.state.now = () => 1_790_000_000_000;
});
afterEach(async () => {
  await fake.close();
});

const cfg = (extra: Record<string, unknown> = {}) => MlflowSourceSchema.parse({ type: 'mlflow', name: 'registry', url: fake.url, ...extra });
const info = (model: string, version: string, stage: string) => ({ name: 'ml_model_info', labels: { model, version, stage }, value: 1 });

function seed(): void {
  fake.addModel('fraud', { aliases: { champion: '3', challenger: '4' } });
  fake.addVersion('fraud', { current_stage: 'Archived' });
  fake.addVersion('fraud');
  fake.addVersion('fraud', { current_stage: 'Production', tags: { owner: 'risk' } });
  fake.addVersion('fraud', { status: 'READY' });
  fake.addVersion('fraud', { status: 'PENDING_REGISTRATION' });
  fake.addModel('churn', { aliases: {} });
  fake.addVersion('churn', { current_stage: 'Staging' });
}

describe('mlflow source', () => {
  it('exports ml_model_info for aliased and staged versions, paging through versions', async () => {
    seed();
    fake.state.authorization = 'Bearer mlflow-token';
    const src = createMlflowSource(cfg({ models: ['fraud', 'churn'], bearer_token: 'mlflow-token', page_size: 2 }));
    const { ctx } = testContext({ now: 1_790_000_100_000 });
    const r = await src.collect(ctx);
    expect(r.samples).toEqual([info('fraud', '4', 'challenger'), info('fraud', '3', 'champion'), info('fraud', '3', 'production'), info('fraud', '1', 'archived'), info('churn', '1', 'staging')]);
    const searches = fake.state.requests.filter((q) => q.path.endsWith('/model-versions/search'));
    expect(searches.map((q) => q.query.filter)).toEqual(["name='fraud'", "name='fraud'", "name='fraud'", "name='churn'"]);
    expect(searches.map((q) => q.query.max_results)).toEqual(['2', '2', '2', '2']);
    expect(searches[0]?.query.page_token).toBeUndefined();
    expect(searches[1]?.query.page_token).toBeTruthy();
    expect(fake.state.requests.every((q) => q.headers.authorization === 'Bearer mlflow-token')).toBe(true);

    const state = src.versions();
    expect(state?.at).toBe(1_790_000_100_000);
    const fraud = state?.models.get('fraud');
    expect(fraud?.aliases).toEqual({ champion: '3', challenger: '4' });
    expect(fraud?.versions.map((v) => v.version)).toEqual(['5', '4', '3', '2', '1']);
    expect(fraud?.versions[2]).toEqual({
      version: '3',
      stage: 'Production',
      aliases: ['champion'],
      status: 'READY',
      creationTimestamp: 1_790_000_000_000,
      lastUpdatedTimestamp: 1_790_000_000_000,
      runId: 'run3',
      source: 'models:/fraud/3',
      tags: { owner: 'risk' },
    });
    expect(fraud?.versions[0]?.status).toBe('PENDING_REGISTRATION');
  });

  it('searches all registered models (paged, with a filter), basic auth, string timestamps, model_map', async () => {
    seed();
    fake.addModel('fraud-shadow', { aliases: { champion: '1' } });
    fake.addVersion('fraud-shadow');
    fake.state.timestampsAsStrings = true;
    fake.state.authorization = basicAuth('alice', 'pw');
    const src = createMlflowSource(cfg({ basic_auth: { username: 'alice', password: 'pw' }, filter: "name LIKE 'fraud%'", page_size: 1, model_map: { 'fraud-shadow': 'fraud_shadow' } }));
    const r = await src.collect(testContext().ctx);
    expect(r.samples).toEqual([
      info('fraud', '4', 'challenger'),
      info('fraud', '3', 'champion'),
      info('fraud', '3', 'production'),
      info('fraud', '1', 'archived'),
      info('fraud_shadow', '1', 'champion'),
    ]);
    const searches = fake.state.requests.filter((q) => q.path.endsWith('/registered-models/search'));
    expect(searches).toHaveLength(2);
    expect(searches[0]?.query).toMatchObject({ filter: "name LIKE 'fraud%'", max_results: '1' });
    // aliases came with the search: no registered-models/get needed
    expect(fake.state.requests.filter((q) => q.path.endsWith('/registered-models/get'))).toHaveLength(0);
    expect(src.versions()?.models.get('fraud')?.versions[0]?.creationTimestamp).toBe(1_790_000_000_000);
  });

  it('follows registry changes: an alias moved back is seen on the next collection', async () => {
    seed();
    const src = createMlflowSource(cfg({ models: ['fraud'] }));
    const client = new MlflowClient({ url: fake.url });
    await src.collect(testContext().ctx);
    await client.post('/registered-models/alias', { name: 'fraud', alias: 'champion', version: '2' }, AbortSignal.timeout(2_000));
    const r = await src.collect(testContext().ctx);
    expect(r.samples).toContainEqual(info('fraud', '2', 'champion'));
    expect(r.samples).not.toContainEqual(info('fraud', '3', 'champion'));
  });

  it('MLflow error JSON becomes a coded error; auth failures are not retried', async () => {
    seed();
    const { ctx } = testContext();
    await expect(createMlflowSource(cfg({ models: ['nope'] })).collect(ctx)).rejects.toMatchObject({
      code: 'VIGIL_ERR_MLFLOW_RESOURCE_DOES_NOT_EXIST',
      message: expect.stringContaining('HTTP 404 from') as unknown,
    });
    await expect(createMlflowSource(cfg({ models: ['nope'] })).collect(ctx)).rejects.toThrow('RESOURCE_DOES_NOT_EXIST: Registered Model with name=nope not found');
    fake.state.authorization = 'Bearer right';
    await expect(createMlflowSource(cfg({ models: ['fraud'], bearer_token: 'wrong' })).collect(ctx)).rejects.toMatchObject({ code: 'VIGIL_ERR_MLFLOW_UNAUTHENTICATED', retryable: false });
  });

  it('garbage (HTML login page, wrong shape) names what was wrong', async () => {
    seed();
    const { ctx } = testContext();
    const src = createMlflowSource(cfg({ models: ['fraud'] }));
    fake.state.faults.push({ garbage: 'html' });
    await expect(src.collect(ctx)).rejects.toThrow('GET /registered-models/get: answer is not JSON but text/html');
    fake.state.faults.push({ garbage: 'json', body: { registered_model: { aliases: 'x' } } });
    await expect(src.collect(ctx)).rejects.toThrow(/registered-models\/get: unexpected answer shape: registered_model\.name: .*; registered_model\.aliases: /);
  });

  it('through the runner: 503 TEMPORARILY_UNAVAILABLE is retried; a hang times out and drops the samples', async () => {
    seed();
    const src = createMlflowSource(cfg({ models: ['churn'] }));
    const t = testRunner([{ source: src, settings: settings({ timeoutMs: 1_000, retries: 2, retryBackoffMs: 5 }), fingerprint: '1' }]);
    fake.state.faults.push({ status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'try later' } });
    await t.runner.trigger('registry');
    expect(t.runner.samples()).toEqual([info('churn', '1', 'staging')]);
    expect(t.logs.join('')).toContain('TEMPORARILY_UNAVAILABLE: try later');
    fake.state.faults.push({ hang: true });
    await t.runner.trigger('registry');
    expect(t.runner.samples()).toEqual([]);
    expect(t.runner.health()[0]).toMatchObject({ up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_TIMEOUT' });
    // the last good registry state stays readable for remediation
    expect(src.versions()?.models.get('churn')?.versions).toHaveLength(1);
  });

  it('the fake checks Content-Type and required fields on writes, as MLflow does', async () => {
    seed();
    const client = new MlflowClient({ url: fake.url });
    const signal = AbortSignal.timeout(2_000);
    await expect(client.post('/model-versions/transition-stage', { name: 'fraud', version: '2', stage: 'Production' }, signal)).rejects.toMatchObject({
      code: 'VIGIL_ERR_MLFLOW_INVALID_PARAMETER_VALUE',
    });
    await client.post('/model-versions/transition-stage', { name: 'fraud', version: '2', stage: 'production', archive_existing_versions: true }, signal);
    expect(fake.state.models.get('fraud')?.versions.map((v) => v.current_stage)).toEqual(['Archived', 'Production', 'Archived', 'None', 'None']);
    await client.call('DELETE', '/registered-models/alias', { name: 'fraud', alias: 'challenger' }, signal);
    expect(fake.state.models.get('fraud')?.aliases).toEqual({ champion: '3' });
  });
});
