import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VigilError } from '../../core/errors.js';
import { SourceError } from '../../ingest/sources/http.js';
import { basicAuth, type RecordedRequest } from '../../sim/fake-http.js';
import { startFakeMlflow, type FakeMlflow } from '../../sim/fake-mlflow.js';
import { MlflowRollbackSchema } from '../config.js';
import type { KnownGoodVersions } from '../known-good.js';
import { createMlflowRollback } from './mlflow-rollback.js';
import { testContext, TEST_NOW } from './test-context.js';

const REG = 'fraud-clf';
const cfgOf = (url: string, over: Record<string, unknown> = {}) => MlflowRollbackSchema.parse({ type: 'mlflow_rollback', url, model_map: { fraud: REG }, ...over });

/** Vigil's known-good record: model → slot → versions, most recently healthy first. */
function knownGood(record: Record<string, Record<string, string[]>>): KnownGoodVersions {
  return { candidates: (model, slot) => record[model]?.[slot] ?? [] };
}

const writes = (reqs: readonly RecordedRequest[]) => reqs.filter((r) => r.method !== 'GET' && !r.path.endsWith('/get-latest-versions'));
const aliasPosts = (reqs: readonly RecordedRequest[]) => reqs.filter((r) => r.method === 'POST' && r.path.endsWith('/registered-models/alias'));

describe('mlflow_rollback action, mode alias', () => {
  let mlflow: FakeMlflow;
  beforeEach(async () => {
    mlflow = await startFakeMlflow();
    mlflow.state.now = () => TEST_NOW;
    for (let i = 0; i < 3; i++) mlflow.addVersion(REG);
    const m = mlflow.state.models.get(REG);
    if (m) m.aliases.champion = '3';
  });
  afterEach(() => mlflow.close());
  const model = () => {
    const m = mlflow.state.models.get(REG);
    if (m === undefined) throw new Error('no model');
    return m;
  };

  it('moves the alias to the newest known-good version, tags the bad one and verifies', async () => {
    const good = knownGood({ fraud: { champion: ['3', '2', '1'] } });
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: good });
    expect(action).toMatchObject({ type: 'mlflow_rollback', idempotent: true, needsModel: true });
    const base = testContext({ model: 'fraud', incidentId: 'inc-9' });
    let requestsAtSave = -1;
    const ctx = {
      ...base,
      savePlan: async (p: Record<string, unknown>) => {
        requestsAtSave = mlflow.state.requests.length;
        await base.savePlan(p);
      },
    };
    const r = await action.execute(ctx);
    expect(r.outcome).toBe('succeeded');
    expect(r.details).toEqual({ registeredModel: REG, mode: 'alias', alias: 'champion', from: '3', to: '2', verified: true, source: 'history', moved: true });
    expect(model().aliases.champion).toBe('2');
    expect(model().versions[2]?.tags).toEqual({ 'vigil.rolled_back_at': new Date(TEST_NOW).toISOString(), 'vigil.rolled_back_to': '2', 'vigil.incident': 'inc-9' });
    expect(model().versions[1]?.tags).toEqual({});
    // The plan was saved before the first write.
    expect(base.saved).toEqual([expect.objectContaining({ registeredModel: REG, mode: 'alias', from: '3', to: '2', source: 'history', reason: expect.stringContaining('ModelAccuracyDrop') })]);
    expect(writes(mlflow.state.requests.slice(0, requestsAtSave))).toEqual([]);
    expect(aliasPosts(mlflow.state.requests).map((q) => q.json)).toEqual([{ name: REG, alias: 'champion', version: '2' }]);
    // Verified by reading the alias back after the writes.
    expect(mlflow.state.requests.at(-1)).toMatchObject({ method: 'GET', path: '/api/2.0/mlflow/registered-models/alias', query: { name: REG, alias: 'champion' } });
  });

  it('skips known-good versions that are gone or not READY', async () => {
    mlflow.addVersion(REG, { status: 'FAILED_REGISTRATION' });
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['3', '9', '4', '1'] } }) });
    const r = await action.execute(testContext());
    expect(r.details).toMatchObject({ from: '3', to: '1', skipped: ['9 (no longer in the registry)', '4 (status FAILED_REGISTRATION)'] });
    expect(model().aliases.champion).toBe('1');
  });

  it('a resumed attempt uses the saved plan and never moves the alias twice', async () => {
    // The known-good record still lists 3 first: recomputing after the move would pick 3 again.
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['3', '2'] } }) });
    let failedOnce = false;
    mlflow.state.intercept = (req) => {
      if (req.path.endsWith('/model-versions/set-tag') && !failedOnce) {
        failedOnce = true;
        return { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'try again' } };
      }
      return undefined;
    };
    const first = testContext();
    const err = (await action.execute(first).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({ retryable: true, status: 503, code: 'VIGIL_ERR_MLFLOW_TEMPORARILY_UNAVAILABLE' });
    expect(model().aliases.champion).toBe('2');
    expect(first.saved).toHaveLength(1);

    const second = testContext({ plan: first.saved[0] ?? {}, now: TEST_NOW + 5_000 });
    const r = await action.execute(second);
    expect(r.outcome).toBe('succeeded');
    expect(r.details).toMatchObject({ from: '3', to: '2', moved: false, resumed: true, verified: true });
    expect(second.saved).toEqual([]);
    expect(aliasPosts(mlflow.state.requests)).toHaveLength(1);
    expect(model().aliases.champion).toBe('2');
    // The tag carries the time the rollback was decided, the same on every attempt.
    expect(model().versions[2]?.tags['vigil.rolled_back_at']).toBe(new Date(TEST_NOW).toISOString());

    // A third run (a restart after success) changes nothing either.
    await action.execute(testContext({ plan: first.saved[0] ?? {} }));
    expect(aliasPosts(mlflow.state.requests)).toHaveLength(1);
  });

  it('a retry after the alias write failed moves it then', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    mlflow.state.intercept = (req) => (aliasPosts([req]).length === 1 && aliasPosts(mlflow.state.requests).length === 1 ? { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'db locked' } } : undefined);
    const first = testContext();
    const err = (await action.execute(first).catch((e: unknown) => e)) as SourceError;
    expect(err).toMatchObject({ retryable: true, status: 500 });
    expect(err.message).toContain('INTERNAL_ERROR: db locked');
    expect(model().aliases.champion).toBe('3');
    const r = await action.execute(testContext({ plan: first.saved[0] ?? {} }));
    expect(r.details).toMatchObject({ from: '3', to: '2', moved: true, resumed: true });
    expect(model().aliases.champion).toBe('2');
  });

  it('refuses and writes nothing without a known-good version and without a previous alias', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['3'] } }) });
    const ctx = testContext();
    const r = await action.execute(ctx);
    expect(r.outcome).toBe('refused');
    expect(r.message).toMatch(/^no known-good version of fraud-clf to roll back to from version 3: Vigil has no record of another version serving healthy as alias champion/);
    expect(r.message).toMatch(/no previous alias \(alias previous-champion is not set\)/);
    expect(r.details).toMatchObject({ registeredModel: REG, from: '3', verified: false });
    expect(writes(mlflow.state.requests)).toEqual([]);
    expect(ctx.saved).toEqual([]);
    expect(model().aliases).toEqual({ champion: '3' });

    // previous-champion at the current version is no target either.
    model().aliases['previous-champion'] = '3';
    const again = await action.execute(testContext());
    expect(again.outcome).toBe('refused');
    expect(again.message).toContain('alias previous-champion points at the current version 3');
  });

  it('refuses when the serving alias is not set', async () => {
    delete model().aliases.champion;
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    const r = await action.execute(testContext());
    expect(r.outcome).toBe('refused');
    expect(r.message).toContain(`alias champion is not set on model ${REG}`);
    // MLflow's own answer (SQL and file stores: mlflow/store/model_registry/{sqlalchemy,file}_store.py,
    // get_model_version_by_alias): 400 INVALID_PARAMETER_VALUE, not 404
    expect(r.details.registry_says).toMatch(/HTTP 400 .*: INVALID_PARAMETER_VALUE: Registered model alias champion not found\.$/);
    expect(writes(mlflow.state.requests)).toEqual([]);
  });

  it('takes a 404 RESOURCE_DOES_NOT_EXIST for a missing alias too (registries other than MLflow\'s own stores)', async () => {
    model().aliases['previous-champion'] = '1';
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({}) });
    mlflow.state.intercept = (req) =>
      req.method === 'GET' && req.path.endsWith('/registered-models/alias') && req.query.alias === 'champion'
        ? { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered model alias champion not found.' } }
        : undefined;
    const r = await action.execute(testContext());
    expect(r.outcome).toBe('refused');
    expect(r.message).toContain(`alias champion is not set on model ${REG}`);
    expect(writes(mlflow.state.requests)).toEqual([]);
  });

  it('another 400 INVALID_PARAMETER_VALUE is a failure, not a missing alias', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    mlflow.state.intercept = (req) =>
      req.method === 'GET' && req.path.endsWith('/registered-models/alias')
        ? { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: "Invalid alias name: 'champion'." } }
        : undefined;
    const r = await action.execute(testContext()).then(
      (x) => x,
      (e: unknown) => ({ outcome: 'threw', message: String(e) }),
    );
    expect(r.outcome).not.toBe('refused');
    expect(r.outcome).not.toBe('succeeded');
    expect(JSON.stringify(r)).toContain('Invalid alias name');
    expect(writes(mlflow.state.requests)).toEqual([]);
    expect(model().aliases.champion).toBe('3');
  });

  it('falls back to the previous alias', async () => {
    model().aliases['previous-champion'] = '1';
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({}) });
    const r = await action.execute(testContext());
    expect(r.details).toMatchObject({ from: '3', to: '1', source: 'previous_alias', verified: true });
    expect(model().aliases.champion).toBe('1');
  });

  it('uses the configured alias names and model names as they are without a model_map entry', async () => {
    mlflow.addModel('churn', { aliases: { prod: '2', 'prod-prev': '1' } });
    mlflow.addVersion('churn');
    mlflow.addVersion('churn');
    const action = createMlflowRollback(cfgOf(mlflow.url, { alias: 'prod', previous_alias: 'prod-prev' }), { knownGood: knownGood({}) });
    const r = await action.execute(testContext({ model: 'churn' }));
    expect(r.details).toMatchObject({ registeredModel: 'churn', alias: 'prod', from: '2', to: '1' });
    expect(mlflow.state.models.get('churn')?.aliases).toEqual({ prod: '1', 'prod-prev': '1' });
  });

  it('fails verification when the alias reads back at another version', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    // Another deployer moves the alias back between the write and the read-back.
    mlflow.state.intercept = (req) => {
      if (req.method === 'GET' && req.path.endsWith('/registered-models/alias') && aliasPosts(mlflow.state.requests).length > 0) model().aliases.champion = '3';
      return undefined;
    };
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err).toBeInstanceOf(VigilError);
    expect(err).not.toBeInstanceOf(SourceError);
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_VERIFY_FAILED');
    expect(err.message).toContain('reads back as version 3 instead of 2');
  });

  it('500 and 429 are retryable SourceErrors and nothing is planned or written', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    mlflow.state.faults.push({ status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'boom' } });
    const ctx = testContext();
    const e500 = (await action.execute(ctx).catch((e: unknown) => e)) as SourceError;
    expect(e500).toBeInstanceOf(SourceError);
    expect(e500).toMatchObject({ retryable: true, status: 500, code: 'VIGIL_ERR_MLFLOW_INTERNAL_ERROR' });
    mlflow.state.faults.push({ status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, headers: { 'retry-after': '3' } });
    const e429 = (await action.execute(ctx).catch((e: unknown) => e)) as SourceError;
    expect(e429).toMatchObject({ retryable: true, status: 429, retryAfterMs: 3_000, code: 'VIGIL_ERR_MLFLOW_REQUEST_LIMIT_EXCEEDED' });
    expect(ctx.saved).toEqual([]);
    expect(writes(mlflow.state.requests)).toEqual([]);
  });

  it('401 is not retryable and says to check the credentials; Bearer and Basic auth are sent', async () => {
    mlflow.state.authorization = 'Bearer right-token';
    const wrong = createMlflowRollback(cfgOf(mlflow.url, { bearer_token: 'wrong-token' }), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    const err = (await wrong.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect(err.message).toMatch(/check the action's bearer_token \/ basic_auth/);
    expect(model().aliases.champion).toBe('3');

    const right = createMlflowRollback(cfgOf(mlflow.url, { bearer_token: 'right-token' }), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    expect((await right.execute(testContext())).outcome).toBe('succeeded');

    mlflow.state.authorization = basicAuth('vigil', 'pw');
    const basic = createMlflowRollback(cfgOf(mlflow.url, { basic_auth: { username: 'vigil', password: 'pw' } }), { knownGood: knownGood({ fraud: { champion: ['1'] } }) });
    expect((await basic.execute(testContext())).details).toMatchObject({ from: '2', to: '1' });
  });

  it('an unreachable registry is a retryable error', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    await mlflow.close();
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.retryable).toBe(true);
    mlflow = await startFakeMlflow();
  });

  it('a saved plan for another model or mode is not applied', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['2'] } }) });
    const err = (await action.execute(testContext({ plan: { registeredModel: 'other', mode: 'alias', slot: 'champion', from: '3', to: '1' } })).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_PLAN_MISMATCH');
    expect(writes(mlflow.state.requests)).toEqual([]);
  });

  it('describes itself without calling the registry', () => {
    const action = createMlflowRollback(cfgOf(mlflow.url), { knownGood: knownGood({ fraud: { champion: ['3', '2'] } }) });
    const ctx = testContext();
    expect(action.describe({ model: ctx.model, alert: ctx.alert })).toEqual({
      registeredModel: REG,
      mode: 'alias',
      alias: 'champion',
      previous_alias: 'previous-champion',
      candidates: ['3', '2'],
    });
    expect(mlflow.state.requests).toEqual([]);
  });
});

describe('mlflow_rollback action, mode stage', () => {
  let mlflow: FakeMlflow;
  beforeEach(async () => {
    mlflow = await startFakeMlflow();
    mlflow.state.now = () => TEST_NOW;
    // Version 1 was archived most recently (it served after 2): the newest Archived is 1, not 2.
    mlflow.addVersion(REG, { current_stage: 'Archived', last_updated_timestamp: TEST_NOW - 1_000 });
    mlflow.addVersion(REG, { current_stage: 'Archived', last_updated_timestamp: TEST_NOW - 50_000 });
    mlflow.addVersion(REG, { current_stage: 'Production', last_updated_timestamp: TEST_NOW - 500 });
    mlflow.addVersion(REG, { current_stage: 'Staging' });
  });
  afterEach(() => mlflow.close());
  const stages = () => mlflow.state.models.get(REG)?.versions.map((v) => v.current_stage);
  const transitions = () => mlflow.state.requests.filter((r) => r.path.endsWith('/model-versions/transition-stage'));

  it('without history: the newest Archived version by last update goes to Production, archiving the others', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url, { mode: 'stage' }), { knownGood: knownGood({}) });
    const r = await action.execute(testContext());
    expect(r.outcome).toBe('succeeded');
    expect(r.details).toEqual({ registeredModel: REG, mode: 'stage', stage: 'Production', from: '3', to: '1', verified: true, source: 'archived', moved: true });
    expect(transitions().map((q) => q.json)).toEqual([{ name: REG, version: '1', stage: 'Production', archive_existing_versions: true }]);
    expect(stages()).toEqual(['Production', 'Archived', 'Archived', 'Staging']);
    expect(mlflow.state.models.get(REG)?.versions[2]?.tags).toMatchObject({ 'vigil.rolled_back_to': '1', 'vigil.incident': 'inc-0001' });
  });

  it("Vigil's own history is preferred over the newest Archived version", async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url, { mode: 'stage' }), { knownGood: knownGood({ fraud: { Production: ['3', '2'] } }) });
    const r = await action.execute(testContext());
    expect(r.details).toMatchObject({ from: '3', to: '2', source: 'history' });
    expect(stages()).toEqual(['Archived', 'Production', 'Archived', 'Staging']);
  });

  it('a resumed attempt does not transition again', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url, { mode: 'stage' }), { knownGood: knownGood({}) });
    const first = testContext();
    await action.execute(first);
    const r = await action.execute(testContext({ plan: first.saved[0] ?? {} }));
    expect(r.details).toMatchObject({ from: '3', to: '1', moved: false, resumed: true, verified: true });
    expect(transitions()).toHaveLength(1);
  });

  it('refuses without history and without an Archived version; and when nothing is in Production', async () => {
    for (const v of mlflow.state.models.get(REG)?.versions ?? []) if (v.current_stage === 'Archived') v.current_stage = 'None';
    const action = createMlflowRollback(cfgOf(mlflow.url, { mode: 'stage' }), { knownGood: knownGood({ fraud: { Production: ['3'] } }) });
    const r = await action.execute(testContext());
    expect(r.outcome).toBe('refused');
    expect(r.message).toMatch(/no known-good version of fraud-clf .* and no READY Archived version/);
    for (const v of mlflow.state.models.get(REG)?.versions ?? []) v.current_stage = 'None';
    const none = await action.execute(testContext());
    expect(none.message).toBe(`no version of model ${REG} is in stage Production: nothing to roll back`);
    expect(transitions()).toEqual([]);
    expect(writes(mlflow.state.requests)).toEqual([]);
  });

  it('fails verification when the old version is still in Production', async () => {
    const action = createMlflowRollback(cfgOf(mlflow.url, { mode: 'stage' }), { knownGood: knownGood({}) });
    // A registry that ignores archive_existing_versions.
    mlflow.state.intercept = (req) => {
      if (req.path.endsWith('/transition-stage') && req.json !== null && typeof req.json === 'object') (req.json as Record<string, unknown>).archive_existing_versions = false;
      return undefined;
    };
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_VERIFY_FAILED');
    expect(err.message).toContain('version 3 in Production');
  });
});
