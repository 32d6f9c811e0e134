import { VigilError } from '../../core/errors.js';
import { expandTemplate } from '../../alerting/engine/template.js';
import type { ActionContext, RemediationAction, TriggerAlert } from '../action.js';
import type { ExecActionConfig } from '../config.js';
import { outputExcerpt, runProcess } from './run-process.js';

/**
 * `exec`: runs a program (argv, no shell) when a routed alert fires. Every argv element is a
 * template (`{{ $labels.model }}`, Prometheus alert-template semantics). The environment is exactly
 * `env` plus VIGIL_MODEL, VIGIL_ALERTNAME, VIGIL_INCIDENT_ID, VIGIL_IDEMPOTENCY_KEY and
 * VIGIL_ACTION — nothing is inherited from Vigil, so the program needs an absolute path or PATH
 * in `env` (a bare program name without PATH in `env` is refused rather than looked up in Vigil's
 * PATH). Stopped with SIGTERM (SIGKILL 2 s later) when the action's timeout passes. Exit code 0
 * succeeds; anything else fails (not retried: the program may have done part of its work).
 */

const KILL_GRACE_MS = 2_000;

/** Expands every argv element; a template error names the element. */
export function expandArgv(command: readonly string[], alert: Pick<TriggerAlert, 'labels'>, action: string): string[] {
  return command.map((arg, i) => {
    const r = expandTemplate(arg, `${action}.command[${i}]`, { labels: alert.labels, externalLabels: {}, externalURL: '', value: 0 });
    if (r.error !== undefined) {
      throw new VigilError('VIGIL_ERR_REMEDIATION_TEMPLATE', `exec ${action}: command[${i}] is not a valid template: ${r.error}`, { details: { path: `command[${i}]` } });
    }
    return r.text;
  });
}

export function execEnvironment(cfg: ExecActionConfig, ctx: Pick<ActionContext, 'model' | 'alert' | 'incidentId' | 'idempotencyKey' | 'action'>): Record<string, string> {
  return {
    ...cfg.env,
    VIGIL_MODEL: ctx.model,
    VIGIL_ALERTNAME: ctx.alert.alertname,
    VIGIL_INCIDENT_ID: ctx.incidentId,
    VIGIL_IDEMPOTENCY_KEY: ctx.idempotencyKey,
    VIGIL_ACTION: ctx.action,
  };
}

export function createExecAction(cfg: ExecActionConfig): RemediationAction {
  return {
    type: 'exec',
    idempotent: false,
    needsModel: false,

    describe(ctx) {
      let argv: string[] | undefined;
      let templateError: string | undefined;
      try {
        argv = expandArgv(cfg.command, ctx.alert, 'exec');
      } catch (e) {
        templateError = (e as Error).message;
      }
      return {
        command: argv ?? cfg.command,
        ...(templateError === undefined ? {} : { template_error: templateError }),
        env_keys: [...Object.keys(cfg.env), 'VIGIL_MODEL', 'VIGIL_ALERTNAME', 'VIGIL_INCIDENT_ID', 'VIGIL_IDEMPOTENCY_KEY', 'VIGIL_ACTION'].sort(),
        ...(cfg.cwd === undefined ? {} : { cwd: cfg.cwd }),
        timeout_ms: cfg.timeout,
      };
    },

    async execute(ctx) {
      const argv = expandArgv(cfg.command, ctx.alert, ctx.action);
      const program = argv[0] ?? '';
      const what = `exec ${ctx.action}`;
      if (program === '') throw new VigilError('VIGIL_ERR_REMEDIATION_EXEC_FAILED', `${what}: the program (command[0]) expands to an empty string`);
      if (!program.includes('/') && !program.includes('\\') && cfg.env.PATH === undefined) {
        throw new VigilError(
          'VIGIL_ERR_REMEDIATION_EXEC_FAILED',
          `${what}: "${program}" is not an absolute path and env has no PATH: the process inherits nothing from Vigil — give the program's full path or PATH in env`,
          { details: { program } },
        );
      }
      const res = await runProcess({ argv, env: execEnvironment(cfg, ctx), cwd: cfg.cwd, signal: ctx.signal, killGraceMs: KILL_GRACE_MS, what });
      const details: Record<string, unknown> = {
        command: argv,
        exit_code: res.exitCode,
        ...(res.exitSignal === null ? {} : { exit_signal: res.exitSignal }),
        duration_ms: res.durationMs,
        stdout: outputExcerpt(res.stdout, 2_000),
        stderr: outputExcerpt(res.stderr, 2_000),
        ...(res.truncated ? { output_truncated: true } : {}),
      };
      if (res.exitCode === 0) {
        return { outcome: 'succeeded', message: `${program} exited with code 0`, details };
      }
      const how = res.exitCode === null ? `was ended by signal ${res.exitSignal ?? '?'}` : `exited with code ${res.exitCode}`;
      const err = outputExcerpt(res.stderr);
      throw new VigilError('VIGIL_ERR_REMEDIATION_EXEC_FAILED', `${what}: ${program} ${how}${err === '' ? ' (no stderr)' : `: ${err}`}`, { details });
    },
  };
}
