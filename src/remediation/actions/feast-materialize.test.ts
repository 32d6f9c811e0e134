import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeFeast, type FakeFeast } from '../../../test/fakes/fake-feast.js';
import { VigilError } from '../../core/errors.js';
import { SourceError } from '../../ingest/sources/http.js';
import { FeastMaterializeSchema } from '../config.js';
import { describeFeastError } from '../../ingest/sources/feast.js';
import { createFeastMaterialize } from './feast-materialize.js';
import { testContext, TEST_NOW } from './test-context.js';

const cfg = (over: Record<string, unknown>) => FeastMaterializeSchema.parse({ type: 'feast_materialize', ...over });
const END_TS = new Date(TEST_NOW).toISOString();

describe('feast_materialize action (feature server)', () => {
  let feast: FakeFeast;
  let fresh: Map<string, number>;
  const deps = () => ({ freshness: () => fresh });

  beforeEach(async () => {
    feast = await startFakeFeast();
    for (const name of ['driver_stats', 'customer_profile']) {
      feast.state.views.set(name, { joinKey: 'id', features: ['f'], rows: new Map([['1', { values: { f: 1 }, ts: 0 }]]) });
    }
    fresh = new Map([
      ['driver_stats', 7_200],
      ['customer_profile', 30],
    ]);
  });
  afterEach(() => feast.close());

  it('POSTs /materialize-incremental with end_ts = now and the configured views, then waits for freshness', async () => {
    const action = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['driver_stats'], max_staleness: '10m', poll_interval: '15s', bearer_token: 'tok' }), deps());
    expect(action).toMatchObject({ type: 'feast_materialize', idempotent: true, needsModel: false });
    const ctx = testContext({
      action: 'refresh',
      // The freshness series catches up on the second reading after the request.
      onSleep: () => {
        fresh.set('driver_stats', ctx.sleeps.length >= 2 ? 12 : 3_000);
      },
    });
    const r = await action.execute(ctx);
    expect(feast.state.materializations).toEqual([{ path: '/materialize-incremental', body: { end_ts: END_TS, feature_views: ['driver_stats'] }, async: false }]);
    expect(feast.state.requests[0]?.headers.authorization).toBe('Bearer tok');
    expect(ctx.sleeps).toEqual([15_000, 15_000]);
    expect(r.outcome).toBe('succeeded');
    expect(r.details).toMatchObject({ mode: 'server', feature_views: ['driver_stats'], end_ts: END_TS, already_running: false, verified: true, freshness: { driver_stats: 12 }, polls: 3, status: 200 });
    expect(ctx.saved).toEqual([{ mode: 'server', feature_views: ['driver_stats'], end_ts: END_TS, materialized: true, already_running: false }]);
  });

  it('takes the view from the alert label, else materializes all views (feature_views omitted)', async () => {
    fresh.set('driver_stats', 1);
    const action = createFeastMaterialize(cfg({ url: `${feast.url}/` }), deps());
    await action.execute(testContext({ labels: { feature_view: 'customer_profile' } }));
    const r = await action.execute(testContext());
    expect(feast.state.materializations.map((m) => m.body)).toEqual([{ end_ts: END_TS, feature_views: ['customer_profile'] }, { end_ts: END_TS }]);
    // No view requested: every view with a reading must be fresh.
    expect(r.details).toMatchObject({ feature_views: 'all', freshness: { customer_profile: 30, driver_stats: 1 } });
  });

  it('409 (already running) is not a failure: it verifies and says so', async () => {
    feast.state.materializeRunning = true;
    fresh.set('driver_stats', 60);
    const action = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['driver_stats'] }), deps());
    const r = await action.execute(testContext());
    expect(feast.state.requests).toHaveLength(1);
    expect(feast.state.materializations).toHaveLength(0);
    expect(r.outcome).toBe('succeeded');
    expect(r.message).toMatch(/already running/);
    expect(r.details).toMatchObject({ already_running: true, status: 409, verified: true });
  });

  it('still stale when the signal aborts: the error names the view and how stale it is', async () => {
    const action = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['driver_stats', 'customer_profile'], max_staleness: '5m', poll_interval: '30s' }), deps());
    const ctx = testContext({ timeoutMs: 120_000, onSleep: () => void fresh.set('driver_stats', 4_000) });
    const err = (await action.execute(ctx).catch((e: unknown) => e)) as VigilError;
    expect(err).toBeInstanceOf(VigilError);
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_VERIFY_FAILED');
    expect(err.message).toMatch(/feature view driver_stats still 4000 s stale after materialization/);
    expect(err.message).not.toMatch(/customer_profile still/);
    expect(err.details).toMatchObject({ stale: { driver_stats: 4_000 }, max_staleness_s: 300 });
    expect(ctx.sleeps).toEqual([30_000, 30_000, 30_000, 30_000]);
  });

  it('no reading for a requested view is a non-retryable error saying what to configure', async () => {
    const action = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['driver_stats'] }), { freshness: () => new Map([['other_view', 1]]) });
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_NO_FRESHNESS');
    expect(err.message).toBe('no freshness reading for feature view driver_stats: configure a feast source (see README) or set verify_freshness: false');
    expect(err).not.toBeInstanceOf(SourceError);
    const all = createFeastMaterialize(cfg({ url: feast.url }), { freshness: () => new Map() });
    const e2 = (await all.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(e2.message).toMatch(/no freshness reading for any feature view/);
  });

  it('verify_freshness: false succeeds after the request without reading freshness', async () => {
    const action = createFeastMaterialize(cfg({ url: feast.url, verify_freshness: false }), {
      freshness: () => {
        throw new Error('must not be read');
      },
    });
    const r = await action.execute(testContext());
    expect(r.details).toMatchObject({ verified: false });
    expect(feast.state.materializations).toHaveLength(1);
  });

  it('FeastErrors (double-encoded JSON) are reported by their message; 5xx are retryable', async () => {
    const action = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['no_such_view'] }), deps());
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('FeatureViewNotFoundException: Feature view no_such_view does not exist in project demo');
    expect(err.message).not.toContain('\\"');
    feast.state.faults.push({ status: 500, body: JSON.stringify('connection to the online store lost') });
    const ok = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['driver_stats'] }), deps());
    const e5 = (await ok.execute(testContext()).catch((e: unknown) => e)) as SourceError;
    expect(e5).toMatchObject({ retryable: true, status: 500 });
    expect(e5.message).toContain(': connection to the online store lost');
    expect(describeFeastError(422, JSON.stringify({ detail: [{ loc: ['body', 'end_ts'], msg: 'Field required' }] }))).toEqual({ message: 'body.end_ts: Field required' });
  });

  it('a resumed attempt whose request went through only verifies', async () => {
    fresh.set('driver_stats', 5);
    const action = createFeastMaterialize(cfg({ url: feast.url, feature_views: ['driver_stats'] }), deps());
    const r = await action.execute(testContext({ plan: { mode: 'server', feature_views: ['driver_stats'], end_ts: '2024-05-01T11:59:00.000Z', materialized: true, already_running: false } }));
    expect(feast.state.requests).toHaveLength(0);
    expect(r.details).toMatchObject({ resumed: true, end_ts: '2024-05-01T11:59:00.000Z', verified: true });
  });

  it('describes itself without calling anything', () => {
    const action = createFeastMaterialize(cfg({ url: `${feast.url}/`, max_staleness: '15m' }), deps());
    const ctx = testContext({ labels: { feature_view: 'driver_stats' } });
    expect(action.describe({ model: ctx.model, alert: ctx.alert })).toEqual({
      mode: 'server',
      url: `${feast.url}/materialize-incremental`,
      feature_views: ['driver_stats'],
      verify_freshness: true,
      max_staleness_s: 900,
    });
    expect(feast.state.requests).toHaveLength(0);
  });
});

describe('feast_materialize action (CLI)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-feast-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs [...command, materialize-incremental, END_TS, -v VIEW …] without a shell', async () => {
    const out = join(dir, 'argv.json');
    const script = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1))); console.log('Materializing 2 feature views')`;
    const fresh = new Map([
      ['driver_stats', 10],
      ['customer profile', 20],
    ]);
    const action = createFeastMaterialize(cfg({ command: [process.execPath, '-e', script, '--', '-c', '/repo'], feature_views: ['driver_stats', 'customer profile'] }), { freshness: () => fresh });
    const r = await action.execute(testContext());
    const argv = JSON.parse(readFileSync(out, 'utf8')) as string[];
    expect(argv).toEqual(['-c', '/repo', 'materialize-incremental', END_TS.replace(/Z$/, '+00:00'), '-v', 'driver_stats', '-v', 'customer profile']);
    // what datetime.fromisoformat takes before Python 3.11 (the 3.7-3.10 docs: YYYY-MM-DD[*HH[:MM[:SS[.fff[fff]]]][+HH:MM[:SS[.ffffff]]]]),
    // which feast's CLI parses END_TS with (feast/cli.py, materialize_incremental_command): no "Z"
    expect(argv[3]).toMatch(/^\d{4}-\d{2}-\d{2}.\d{2}(:\d{2}(:\d{2}(\.\d{3}(\d{3})?)?)?)?([+-]\d{2}:\d{2}(:\d{2}(\.\d{6})?)?)?$/);
    expect(new Date(argv[3] as string).getTime()).toBe(TEST_NOW);
    expect(r.details).toMatchObject({ mode: 'command', exit_code: 0, stdout: 'Materializing 2 feature views', verified: true });
    const ctx = testContext();
    expect(action.describe({ model: ctx.model, alert: ctx.alert })).toMatchObject({
      command: [process.execPath, '-e', script, '--', '-c', '/repo', 'materialize-incremental', '<now>', '-v', 'driver_stats', '-v', 'customer profile'],
    });
  });

  it('a failing CLI is a non-retryable error with its stderr', async () => {
    const action = createFeastMaterialize(cfg({ command: [process.execPath, '-e', 'console.error("FeatureViewNotFoundException: nope"); process.exit(1)', '--'] }), { freshness: () => new Map() });
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_FEAST_FAILED');
    expect(err.message).toMatch(/exited with code 1: FeatureViewNotFoundException: nope/);
  });
});
