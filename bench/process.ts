import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A JSON log line of the daemon. */
export type LogRecord = Record<string, unknown> & { msg?: string; url?: string };

export interface StartOptions {
  /** Resolve at this log message (default 'vigil started'; 'vigil listening; loading the hot windows' to watch the start-up). */
  until?: string;
  /** Every JSON log line, as it comes. */
  onLog?: (rec: LogRecord) => void;
}

/** Starts the built `vigil serve` in a child process and resolves with its URL. */
export async function startVigil(
  config: string,
  args: string[] = [],
  startTimeoutMs = 15_000,
  options: StartOptions = {},
): Promise<{ child: ChildProcess; url: string; stop: () => Promise<void> }> {
  const until = options.until ?? 'vigil started';
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  // as the image and npm start run the daemon (the young generation capped, two malloc arenas): docs/operations.md → Memory
  const child = spawn(process.execPath, ['--max-semi-space-size=16', main, 'serve', '--config', config, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { MALLOC_ARENA_MAX: '2', ...process.env },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a daemon behind
      reject(new Error(`vigil did not start within ${startTimeoutMs / 1000} s`));
    }, startTimeoutMs);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        return; // not a log line
      }
      options.onLog?.(rec);
      if (rec.msg === until && typeof rec.url === 'string') {
        clearTimeout(timer);
        resolve(rec.url);
      }
    });
    void exited.then(() => reject(new Error('vigil exited before it started')));
  });
  return {
    child,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export const median = (xs: number[]): number => quantile(xs, 0.5);
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

/** Resident MB of a process (Linux /proc; NaN elsewhere). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
