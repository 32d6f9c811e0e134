import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The built script of a worker thread: `name` beside the calling module when that module is built
 * (dist/), else — running from sources (tests) — the same file under dist/ of the package, at the
 * caller's path relative to the package root. Null when there is none (not built).
 *
 * @param callerUrl the caller's import.meta.url
 * @param name the worker's built file name, e.g. `drift-worker.js`
 */
export function locateBuiltWorker(callerUrl: string, name: string): string | null {
  const here = fileURLToPath(callerUrl);
  const beside = join(dirname(here), name);
  if (here.endsWith('.js') && existsSync(beside)) return beside;
  let d = dirname(here);
  const rel: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(d, 'package.json'))) {
      const built = join(d, 'dist', ...rel, name);
      return existsSync(built) ? built : null;
    }
    const up = dirname(d);
    if (up === d) break;
    rel.unshift(d.slice(up.length + 1));
    d = up;
  }
  return null;
}

/**
 * Starts the worker with the parent's node options (inherited), except --input-type, which node
 * refuses for a worker started from a file (`node --input-type=module -e …`); an explicit option
 * list must hold only options valid in a worker, else none are passed.
 */
export function startWorker(file: string | URL, options: WorkerOptions = {}): Worker {
  if (!process.execArgv.some((a) => a.startsWith('--input-type'))) return new Worker(file, options);
  try {
    return new Worker(file, { ...options, execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
  } catch {
    return new Worker(file, { ...options, execArgv: [] });
  }
}

/**
 * Starts the worker (startWorker) and wires it: its messages to `onMessage`; an 'error', and an
 * 'exit' (as "<name> exited with code N"), to `onLost` — which may so be told twice; both are
 * given the worker. Throws what the Worker constructor throws.
 */
export function superviseWorker<M>(file: string | URL, options: WorkerOptions, name: string, onMessage: (m: M, w: Worker) => void, onLost: (e: Error, w: Worker) => void): Worker {
  const w = startWorker(file, options);
  w.on('message', (m: M) => onMessage(m, w));
  w.on('error', (e: Error) => onLost(e, w));
  w.on('exit', (code: number) => onLost(new Error(`${name} exited with code ${code}`), w));
  return w;
}

/**
 * A pool's supervised workers, or null when its script is missing (not built) or cannot start —
 * said once in the log ("<name> script not found (not built?); <fallback>"), the work then staying
 * on the main thread.
 */
export class PoolWorkers {
  private warned = false;

  constructor(
    readonly file: string | URL | null,
    private readonly name: string,
    private readonly fallback: string,
    private readonly log: Logger,
  ) {}

  start<M>(onMessage: (m: M, w: Worker) => void, onLost: (e: Error, w: Worker) => void): Worker | null {
    if (this.file === null) {
      if (!this.warned) this.log.warn(`${this.name} script not found (not built?); ${this.fallback}`);
      this.warned = true;
      return null;
    }
    try {
      return superviseWorker(this.file, {}, this.name, onMessage, onLost);
    } catch (e) {
      if (!this.warned) this.log.warn({ err: errorMessage(e) }, `${this.name} cannot start; ${this.fallback}`);
      this.warned = true;
      return null;
    }
  }
}
