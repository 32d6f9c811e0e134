/**
 * Progress of long work (`vigil baseline`, `drift`, `report` on large files), on stderr only —
 * stdout stays what scripts parse. On a terminal, one line redrawn in place: the stage, a bar with
 * the percentage of bytes read when the total is known, the rows, the rate and the time, redrawn
 * at most every `intervalMs` (10 times a second) and cleared when the stage ends. Elsewhere (a
 * pipe, a log file, CI), one quiet line when a stage starts and one when it ends:
 *
 *   vigil baseline: reading train.csv (1.2 GB)…
 *   vigil baseline: 10,000,000 rows read in 14.2 s (85 MB/s)
 *
 * The reporter reads no clock: `now` is passed in (tests step it).
 */
import { systemClock } from '../core/clock.js';

/** 'bar': stderr is a terminal; 'lines': it is not; 'off': say nothing. */
export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  readonly mode: ProgressMode;
  /** What prefixes the lines: `vigil baseline`. */
  readonly command: string;
  readonly write: (s: string) => void;
  /** Milliseconds (any origin). */
  readonly now: () => number;
  /** The terminal's width (the bar is cut to it); default 80. */
  readonly columns?: number;
  /** The least time between two redraws of the bar; default 100 ms. */
  readonly intervalMs?: number;
}

export interface Progress {
  /** A stage starts: what it does (`reading train.csv`), and the bytes it will read when known. */
  stage(label: string, options?: { totalBytes?: number }): void;
  /** How far the stage is: bytes read, rows done (either or both). */
  update(done: { bytes?: number; rows?: number }): void;
  /** The stage ended; lines mode says `summary` (`10,000,000 rows read`) with its time (and rate, when bytes were read). */
  done(summary?: string): void;
  /** Takes the bar off the screen, before other output to stderr (the next update draws it again). */
  clear(): void;
}

const units = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Bytes for people, decimal units: 912 B, 12 kB, 1.2 GB. */
export function formatBytes(n: number): string {
  let x = n;
  let u = 0;
  while (x >= 999.5 && u < units.length - 1) {
    x /= 1000;
    u++;
  }
  return `${u === 0 || x >= 10 ? Math.round(x) : x.toFixed(1)} ${units[u]}`;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;

const CLEAR_LINE = '\r\x1b[K';
const BAR_WIDTH = 20;

/** A reporter; 'off' gives one that says nothing. */
export function createProgress(options: ProgressOptions): Progress {
  const { mode, command, write, now } = options;
  const interval = options.intervalMs ?? 100;
  let label = '';
  let total: number | undefined;
  let bytes: number | undefined;
  let rows: number | undefined;
  let started = 0;
  let lastDraw = -Infinity;
  let drawn = false;

  const rate = (elapsed: number): string | undefined => {
    if (elapsed <= 0) return undefined;
    if (bytes !== undefined) return `${formatBytes((bytes * 1000) / elapsed)}/s`;
    if (rows !== undefined) return `${count((rows * 1000) / elapsed)} rows/s`;
    return undefined;
  };

  const line = (t: number): string => {
    const elapsed = t - started;
    const parts = [label];
    if (total !== undefined && total > 0 && bytes !== undefined) {
      const f = Math.min(1, bytes / total);
      const fill = Math.round(f * BAR_WIDTH);
      parts.push(`[${'='.repeat(Math.max(0, fill - 1))}${fill > 0 ? (fill === BAR_WIDTH ? '=' : '>') : ''}${' '.repeat(BAR_WIDTH - fill)}] ${Math.floor(f * 100)}%`);
      parts.push(`${formatBytes(bytes)} / ${formatBytes(total)}`);
    } else if (bytes !== undefined) parts.push(formatBytes(bytes));
    if (rows !== undefined) parts.push(`${count(rows)} rows`);
    const r = rate(elapsed);
    if (r !== undefined) parts.push(r);
    parts.push(seconds(elapsed));
    const text = parts.join('  ');
    const width = Math.max(20, (options.columns ?? 80) - 1);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  };

  const draw = (t: number): void => {
    write(`\r${line(t)}\x1b[K`);
    drawn = true;
    lastDraw = t;
  };

  const clear = (): void => {
    if (!drawn) return;
    write(CLEAR_LINE);
    drawn = false;
  };

  if (mode === 'off') return { stage: () => undefined, update: () => undefined, done: () => undefined, clear: () => undefined };

  return {
    stage(next, o = {}) {
      label = next;
      total = o.totalBytes;
      bytes = undefined;
      rows = undefined;
      started = now();
      if (mode === 'lines') write(`${command}: ${label}${total === undefined ? '' : ` (${formatBytes(total)})`}…\n`);
      else draw(started);
    },
    update(d) {
      if (d.bytes !== undefined) bytes = d.bytes;
      if (d.rows !== undefined) rows = d.rows;
      if (mode !== 'bar') return;
      const t = now();
      if (t - lastDraw >= interval) draw(t);
    },
    done(summary) {
      if (mode === 'bar') {
        clear();
        return;
      }
      if (summary === undefined) return;
      const elapsed = now() - started;
      const r = bytes !== undefined ? rate(elapsed) : undefined;
      write(`${command}: ${summary} in ${seconds(elapsed)}${r === undefined ? '' : ` (${r})`}\n`);
    },
    clear,
  };
}

/** What a command's io says about progress (src/main.ts sets it from stderr; tests and embedders leave it out: 'off'). */
export interface ProgressIo {
  stderr: (s: string) => void;
  progress?: ProgressMode;
  columns?: number;
}

/** The reporter of a command, on its stderr, with the system clock. */
export const progressOf = (io: ProgressIo, command: string): Progress =>
  createProgress({ mode: io.progress ?? 'off', command, write: io.stderr, now: () => systemClock.now(), ...(io.columns === undefined ? {} : { columns: io.columns }) });
