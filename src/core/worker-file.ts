import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

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
