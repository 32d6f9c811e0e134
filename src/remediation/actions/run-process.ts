import { spawn } from 'node:child_process';
import { VigilError } from '../../core/errors.js';

/**
 * Runs one program for a remediation action (`exec`, the `feast` CLI): argv without a shell,
 * output captured within a bound (head and tail kept), and stopped when the signal aborts —
 * SIGTERM to the process group, SIGKILL after a grace period. Resolves with the exit status
 * whatever it is; throws only when the program cannot start (ENOENT, EACCES…) or was stopped by
 * the signal.
 */

export interface RunProcessOptions {
  /** Program and arguments (no shell: nothing is interpreted). */
  readonly argv: readonly string[];
  /** The whole environment of the process; undefined: Vigil's own environment. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly cwd?: string | undefined;
  readonly signal: AbortSignal;
  /** After SIGTERM, SIGKILL when the process has not exited within this (default 2000 ms). */
  readonly killGraceMs?: number;
  /** Bytes kept of each of stdout and stderr (default 64 KiB): the first and the last half. */
  readonly maxOutputBytes?: number;
  /** For messages (`exec restart-serving`). */
  readonly what: string;
}

export interface ProcessResult {
  /** The exit code; null when a signal ended the process. */
  readonly exitCode: number | null;
  /** The signal that ended the process (not sent by us: that throws). */
  readonly exitSignal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Output was longer than the bound (the middle was dropped). */
  readonly truncated: boolean;
  readonly pid: number | undefined;
  readonly durationMs: number;
}

/** Keeps the first and the last `max / 2` bytes of a stream. */
class BoundedCapture {
  private head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer = Buffer.alloc(0);
  private total = 0;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const half = Math.floor(this.max / 2);
    let rest = chunk;
    if (this.headLen < half) {
      const take = rest.subarray(0, half - this.headLen);
      this.head.push(take);
      this.headLen += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length > 0) {
      const joined = Buffer.concat([this.tail, rest]);
      this.tail = joined.length > half ? joined.subarray(joined.length - half) : joined;
    }
  }

  get truncated(): boolean {
    return this.total > this.headLen + this.tail.length;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = this.tail.toString('utf8');
    if (!this.truncated) return head + tail;
    return `${head}\n… [${this.total - this.headLen - this.tail.length} bytes dropped] …\n${tail}`;
  }
}

/** The last `max` characters of a text (trimmed), for messages: the end of stderr says most. */
export function outputExcerpt(text: string, max = 400): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(t.length - max)}` : t;
}

const SPAWN_HINTS: Record<string, string> = {
  ENOENT: 'no such program (give an absolute path, or PATH in the environment)',
  EACCES: 'permission denied (is it executable?)',
  ENOTDIR: 'a part of the path is not a directory',
};

export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  const [program, ...args] = opts.argv;
  if (program === undefined || program === '') {
    return Promise.reject(new VigilError('VIGIL_ERR_REMEDIATION_SPAWN_FAILED', `${opts.what}: empty command`));
  }
  if (opts.signal.aborted) return Promise.reject(stoppedError(opts, opts.signal.reason, undefined, '', ''));
  const grace = opts.killGraceMs ?? 2_000;
  const max = opts.maxOutputBytes ?? 64 * 1024;
  const groupKill = process.platform !== 'win32';
  const started = Date.now();

  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(program, args, {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env === undefined ? {} : { env: { ...opts.env } }),
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      // Its own process group, so a stop reaches the programs it started too.
      detached: groupKill,
      windowsHide: true,
    });
    const out = new BoundedCapture(max);
    const err = new BoundedCapture(max);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));

    let stopping = false;
    let lastSignal: NodeJS.Signals = 'SIGTERM';
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

    const kill = (sig: NodeJS.Signals): void => {
      try {
        if (groupKill && child.pid !== undefined) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          /* already gone */
        }
      }
    };
    const onAbort = (): void => {
      if (stopping || exit !== undefined) return;
      stopping = true;
      kill('SIGTERM');
      killTimer = setTimeout(() => {
        lastSignal = 'SIGKILL';
        kill('SIGKILL');
      }, grace);
      killTimer.unref();
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });

    const finish = (): void => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (closeTimer !== undefined) clearTimeout(closeTimer);
      const stdout = out.text();
      const stderr = err.text();
      if (stopping) {
        // Whatever it started in its group goes too.
        if (groupKill) kill('SIGKILL');
        reject(stoppedError(opts, opts.signal.reason, child.pid, stdout, stderr, lastSignal));
        return;
      }
      resolve({
        exitCode: exit?.code ?? null,
        exitSignal: exit?.signal ?? null,
        stdout,
        stderr,
        truncated: out.truncated || err.truncated,
        pid: child.pid,
        durationMs: Date.now() - started,
      });
    };

    child.once('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      if (child.pid !== undefined && exit === undefined) {
        // An error after the start (a failed kill): the exit or close still settles it.
        return;
      }
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      if (killTimer !== undefined) clearTimeout(killTimer);
      const hint = (e.code !== undefined ? SPAWN_HINTS[e.code] : undefined) ?? e.message;
      reject(
        new VigilError('VIGIL_ERR_REMEDIATION_SPAWN_FAILED', `${opts.what}: cannot start ${program}: ${hint}${e.code !== undefined ? ` (${e.code})` : ''}`, {
          details: { program, ...(e.code === undefined ? {} : { errno: e.code }), ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) },
          cause: e,
        }),
      );
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Output pipes held open by a program it left running must not keep us waiting.
      closeTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, 500);
      closeTimer.unref();
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      exit ??= { code, signal };
      finish();
    });
  });
}

function stoppedError(opts: RunProcessOptions, reason: unknown, pid: number | undefined, stdout: string, stderr: string, killedWith?: NodeJS.Signals): VigilError {
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  const how = killedWith === undefined ? 'not started' : killedWith === 'SIGKILL' ? `killed with SIGKILL: still running ${opts.killGraceMs ?? 2_000}ms after SIGTERM` : 'stopped with SIGTERM';
  return new VigilError('VIGIL_ERR_REMEDIATION_ABORTED', `${opts.what}: ${how} (${why})`, {
    details: { ...(pid === undefined ? {} : { pid }), ...(killedWith === undefined ? {} : { killed_with: killedWith }), stdout: outputExcerpt(stdout), stderr: outputExcerpt(stderr) },
    cause: reason,
  });
}
