import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The Python client's own tests (clients/python/tests, pytest) against the built daemon: they start
 * a real `vigil serve` with this Node and dist/src/main.js. Python is Debian's (/usr/bin/python3 with
 * python3-pytest): under CI=true a missing pytest fails the run (.ci/run installs it); elsewhere the
 * test is skipped with a message saying what to install, as test/debian.ts does for programs.
 */
const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
const PYTHON = '/usr/bin/python3';

function pytestAvailable(): { available: boolean; reason: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import pytest'], { stdio: 'ignore' });
  if (probe.status === 0) return { available: true, reason: '' };
  const reason = `${PYTHON} -m pytest is not available: apt-get install -y python3-pytest`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI must have it; .ci/run installs it)`);
  process.stderr.write(`skipping: ${reason}\n`);
  return { available: false, reason };
}

const pytest = pytestAvailable();

describe.runIf(pytest.available)('the Python client (clients/python)', () => {
  it('passes its pytest suite against the real daemon', () => {
    const run = spawnSync(PYTHON, ['-m', 'pytest', 'clients/python/tests', '-q', '-p', 'no:cacheprovider'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 170_000,
      // no __pycache__ left in the tree; the daemon the tests start runs on this very Node
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', VIGIL_NODE: process.execPath, VIGIL_MAIN: MAIN },
    });
    if (run.status !== 0) process.stdout.write(`pytest exited ${String(run.status ?? run.signal)}:\n${run.stdout}\n${run.stderr}\n`);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\d+ passed/);
  }, 180_000);
});
