import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, testDaemon, writeConfig, type TestDaemon } from '../../../test/harness.js';

let t: TestDaemon;
beforeEach(async () => {
  t = await testDaemon();
});
afterEach(async () => {
  await t.close();
});

const reload = () => t.daemon.app.inject({ method: 'POST', url: '/-/reload' });
const metric = async (name: string) =>
  Number((await t.daemon.app.inject({ url: '/metrics' })).body.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);

describe('POST /-/reload', () => {
  it('applies a good configuration: a new model becomes known', async () => {
    writeConfig(t, `${BASE_CONFIG}  - name: new-model\n    task: binary\n    windows: [1h]\n`);
    const r = await reload();
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'success', restart_required: [] });
    expect((await t.daemon.app.inject({ url: '/v1/models/new-model' })).statusCode).toBe(200);
    expect(await metric('vigil_config_last_reload_successful')).toBe(1);
  });

  it('keeps the running configuration when the new one is bad, and says why', async () => {
    writeConfig(t, `${BASE_CONFIG}  - name: broken\n    task: nonsense\n`);
    const r = await reload();
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.status).toBe('error');
    expect(body.error.message).toContain('running configuration is kept');
    expect(body.error.issues[0]).toMatchObject({ path: 'models[3].task', code: 'VIGIL_ERR_CONFIG_VALUE', line: 24 });
    expect((await t.daemon.app.inject({ url: '/v1/models/fraud' })).statusCode).toBe(200);
    expect((await t.daemon.app.inject({ url: '/v1/models/broken' })).statusCode).toBe(404);
    expect(await metric('vigil_config_last_reload_successful')).toBe(0);
    expect(t.logs.join('')).toContain('configuration reload failed; keeping the running configuration');
  });

  it('says which changes need a restart', async () => {
    writeConfig(t, `server:\n  port: 1234\n${BASE_CONFIG}`);
    const r = await reload();
    expect(r.json().restart_required).toEqual(['server.port']);
  });

  it('rebuilds item validation for changed features', async () => {
    writeConfig(t, BASE_CONFIG.replace('{ name: country, type: categorical }', '{ name: country, type: categorical }\n      - { name: device, type: categorical }'));
    expect((await reload()).statusCode).toBe(200);
    const r = await t.daemon.app.inject({
      method: 'POST',
      url: '/v1/models/fraud/predictions',
      headers: { 'content-type': 'application/json' },
      payload: '[{"id":"a","prediction":1,"features":{"device":"ios"}}]',
    });
    expect(r.json().accepted).toBe(1);
  });
});
