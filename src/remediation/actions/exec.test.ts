import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VigilError } from '../../core/errors.js';
import { ExecActionSchema } from '../config.js';
import { createExecAction } from './exec.js';
import { testContext } from './test-context.js';

const NODE = process.execPath;
const cfg = (over: Record<string, unknown>) => ExecActionSchema.parse({ type: 'exec', ...over });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('exec action', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-exec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs argv without a shell, with exactly the configured environment plus VIGIL_*', async () => {
    const action = createExecAction(cfg({ command: [NODE, '-e', 'process.stdout.write(JSON.stringify({env: process.env, argv: process.argv.slice(1)}))', '--', '{{ $labels.model }}', '$(whoami); `id` *'], env: { FOO: 'bar', EMPTY: '' } }));
    expect(action).toMatchObject({ type: 'exec', idempotent: false, needsModel: false });
    const ctx = testContext({ model: 'fraud', incidentId: 'inc-42', idempotencyKey: 'inc-42:restart', action: 'restart' });
    const r = await action.execute(ctx);
    expect(r.outcome).toBe('succeeded');
    expect(r.details.exit_code).toBe(0);
    const printed = JSON.parse(String(r.details.stdout)) as { env: Record<string, string>; argv: string[] };
    expect(printed.env).toEqual({
      FOO: 'bar',
      EMPTY: '',
      VIGIL_MODEL: 'fraud',
      VIGIL_ALERTNAME: 'ModelAccuracyDrop',
      VIGIL_INCIDENT_ID: 'inc-42',
      VIGIL_IDEMPOTENCY_KEY: 'inc-42:restart',
      VIGIL_ACTION: 'restart',
    });
    // The template was expanded; shell syntax reached the program verbatim.
    expect(printed.argv).toEqual(['fraud', '$(whoami); `id` *']);
    expect(r.details.command).toEqual([NODE, '-e', expect.any(String), '--', 'fraud', '$(whoami); `id` *']);
  });

  it('a non-zero exit is a non-retryable error with the exit code and the stderr excerpt', async () => {
    const action = createExecAction(cfg({ command: [NODE, '-e', 'console.log("partial"); console.error("disk full on /var"); process.exit(3)'] }));
    const err = await action.execute(testContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VigilError);
    const e = err as VigilError;
    expect(e.code).toBe('VIGIL_ERR_REMEDIATION_EXEC_FAILED');
    expect(e.message).toMatch(/exited with code 3: disk full on \/var/);
    expect(e.details).toMatchObject({ exit_code: 3, stdout: 'partial', stderr: 'disk full on /var' });
    expect('retryable' in e).toBe(false);
  });

  it('aborting the signal stops the program: SIGTERM, then SIGKILL after 2 s when it ignores SIGTERM', async () => {
    const pidFile = join(dir, 'pid');
    const script = `require('fs').writeFileSync(process.argv[1], String(process.pid)); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`;
    const action = createExecAction(cfg({ command: [NODE, '-e', script, pidFile] }));
    const ctx = testContext();
    const started = Date.now();
    const p = action.execute(ctx).catch((e: unknown) => e);
    await waitFor(() => {
      try {
        return readFileSync(pidFile, 'utf8') !== '';
      } catch {
        return false;
      }
    });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    ctx.controller.abort(new Error('action timed out after 60000ms'));
    const err = (await p) as VigilError;
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(VigilError);
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_ABORTED');
    expect(err.message).toMatch(/SIGKILL/);
    expect(err.message).toMatch(/timed out/);
    expect(err.details).toMatchObject({ killed_with: 'SIGKILL' });
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(alive(pid)).toBe(false);
  });

  it('a program that honours SIGTERM is stopped at once', async () => {
    const action = createExecAction(cfg({ command: [NODE, '-e', 'setInterval(() => {}, 1000)'] }));
    const ctx = testContext();
    const started = Date.now();
    const p = action.execute(ctx).catch((e: unknown) => e);
    setTimeout(() => ctx.controller.abort(new Error('Vigil is stopping')), 300);
    const err = (await p) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_ABORTED');
    expect(err.details).toMatchObject({ killed_with: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(1_900);
  });

  it('a program that cannot start gives a clear error', async () => {
    const action = createExecAction(cfg({ command: [join(dir, 'no-such-program')] }));
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_SPAWN_FAILED');
    expect(err.message).toContain('no-such-program');
    expect(err.message).toContain('ENOENT');
  });

  it('a bare program name needs PATH in env (nothing is inherited)', async () => {
    const bare = createExecAction(cfg({ command: ['node', '-e', '0'] }));
    const err = (await bare.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_EXEC_FAILED');
    expect(err.message).toMatch(/PATH/);
    const nodeDir = NODE.slice(0, NODE.lastIndexOf('/'));
    const withPath = createExecAction(cfg({ command: ['node', '-e', 'process.stdout.write(process.env.PATH)'], env: { PATH: nodeDir } }));
    const r = await withPath.execute(testContext());
    expect(r.details.stdout).toBe(nodeDir);
  });

  it('an invalid argv template is refused by the schema, and at run time is a non-retryable error naming the element', async () => {
    expect(() => cfg({ command: [NODE, '{{ $labels.model'] })).toThrow(/not a valid template/);
    const action = createExecAction({ ...cfg({ command: [NODE] }), command: [NODE, '{{ $labels.model'] });
    const err = (await action.execute(testContext()).catch((e: unknown) => e)) as VigilError;
    expect(err.code).toBe('VIGIL_ERR_REMEDIATION_TEMPLATE');
    expect(err.message).toContain('command[1]');
  });

  it('runs in cwd and describes itself without running anything', async () => {
    const action = createExecAction(cfg({ command: [NODE, '-e', 'process.stdout.write(process.cwd())', '{{ $labels.model }}'], cwd: dir, env: { A: '1' } }));
    const r = await action.execute(testContext());
    expect(r.details.stdout).toBe(dir);
    const ctx = testContext({ model: 'churn' });
    expect(action.describe({ model: ctx.model, alert: ctx.alert })).toMatchObject({
      command: [NODE, '-e', 'process.stdout.write(process.cwd())', 'churn'],
      env_keys: ['A', 'VIGIL_ACTION', 'VIGIL_ALERTNAME', 'VIGIL_IDEMPOTENCY_KEY', 'VIGIL_INCIDENT_ID', 'VIGIL_MODEL'],
      cwd: dir,
    });
  });

  it('keeps a bounded excerpt of large output', async () => {
    const action = createExecAction(cfg({ command: [NODE, '-e', 'process.stdout.write("a".repeat(200000) + "THE-END")'] }));
    const r = await action.execute(testContext());
    expect(r.details.output_truncated).toBe(true);
    expect(String(r.details.stdout).length).toBeLessThanOrEqual(2_001);
    expect(String(r.details.stdout).endsWith('THE-END')).toBe(true);
  });
});
