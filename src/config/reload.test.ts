import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, testDaemon, writeConfig, type TestDaemon } from '../../test/harness.js';

/** The configuration checks that need the file system (rule_files) on a hot reload. */
let t: TestDaemon;
beforeEach(async () => {
  t = await testDaemon();
});
afterEach(async () => {
  await t.close();
});

describe('reload with a rule_files entry that matches nothing', () => {
  it('keeps the running configuration and answers which entry and why', async () => {
    writeConfig(t, `rule_files: [team/*.rules.yml]\n${BASE_CONFIG}  - name: added\n    task: binary\n`);
    const r = await t.daemon.app.inject({ method: 'POST', url: '/-/reload' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.issues).toEqual([
      { file: t.configFile, line: 3, column: 14, path: 'rule_files[0]', code: 'VIGIL_ERR_CONFIG_NO_MATCH', message: `no file matches "team/*.rules.yml" (looked in ${t.dir})` },
    ]);
    expect(t.daemon.config().rule_files).toEqual([]);
    expect((await t.daemon.app.inject({ url: '/v1/models/added' })).statusCode).toBe(404);
    expect(t.logs.join('')).toContain('rule_files[0]: no file matches');

    // once the file exists, the same configuration loads
    writeFileSync(join(t.dir, 'team.rules.yml'), 'groups: []\n');
    writeConfig(t, `rule_files: [team.rules.yml]\n${BASE_CONFIG}  - name: added\n    task: binary\n`);
    expect((await t.daemon.app.inject({ method: 'POST', url: '/-/reload' })).statusCode).toBe(200);
    expect((await t.daemon.app.inject({ url: '/v1/models/added' })).statusCode).toBe(200);
  });
});
