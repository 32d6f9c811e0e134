import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** Child processes of real programs (Prometheus, Alertmanager) started by a test, stopped by PID. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    let err = '';
    c.stderr?.on('data', (d) => (err = (err + String(d)).slice(-4000)));
    c.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`${cmd} exited ${code}: ${err}\n`);
    });
    this.children.push(c);
    return c;
  }

  async stopAll(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
}

/** The first port the kernel hands to outgoing connections (Linux; 32768 elsewhere). */
function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 11_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/**
 * A port free on 127.0.0.1 for a program a test starts a moment later (Prometheus, Alertmanager,
 * PostgreSQL). Drawn at random below the kernel's ephemeral range: a port the kernel picked for
 * bind(0) could be taken in the meantime by any outgoing connection of the test run (it failed CI
 * once: Prometheus "address already in use"); below that range only another test's draw can.
 */
export async function freePort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralStart() - 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high}`);
}

/** Polls `fn` until it returns a value (not undefined), or fails after `ms` with `detail()`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000, detail?: () => string): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < ms) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${detail ? `\n${detail()}` : ''}`);
}

/** A `vigil serve` child process a test started (startServe). */
export interface RunningVigil {
  child: ChildProcess;
  url: string;
  /** its stdout lines and stderr chunks, as they came */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the built `vigil serve --config config` (`main`: dist/src/main.js) and resolves with its
 * URL once it logs "vigil started"; rejects if it exits first or takes longer than `timeoutMs`.
 */
export async function startServe(main: string, config: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunningVigil> {
  const child = spawn(process.execPath, [main, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }) });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr?.on('data', (d) => lines.push(String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vigil did not start:\n${lines.join('\n')}`)), opts.timeoutMs ?? 15_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      lines.push(line);
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string };
        if (rec.msg === 'vigil started' && rec.url) {
          clearTimeout(timer);
          resolve(rec.url);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then(() => reject(new Error(`vigil exited early:\n${lines.join('\n')}`)));
  });
  return { child, url, lines, exited };
}
