import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes } from './progress.js';

/** A terminal that keeps what is written to it, and a clock the test steps. */
function fakeTty() {
  const writes: string[] = [];
  let t = 1_000;
  return {
    writes,
    write: (s: string) => void writes.push(s),
    now: () => t,
    step: (ms: number) => void (t += ms),
    /** What the screen's last line shows: the text after the last carriage return, without the erase-line code. */
    screen: () => (writes.join('').split('\r').pop() ?? '').replace(/\x1b\[K/g, ''),
  };
}

describe('progress on a terminal: one line redrawn in place', () => {
  it('shows the stage, a bar with the percentage of bytes, the bytes, rows, rate and time; redraws at most every 100 ms', () => {
    const tty = fakeTty();
    const p = createProgress({ mode: 'bar', command: 'vigil baseline', write: tty.write, now: tty.now, columns: 200 });
    p.stage('reading train.csv', { totalBytes: 1_200_000_000 });
    expect(tty.writes).toHaveLength(1); // drawn at once
    expect(tty.screen()).toMatch(/^reading train\.csv {2}0\.0 s$/);
    // 50 updates 10 ms apart: half a second, so at most 5 more redraws
    for (let i = 1; i <= 50; i++) {
      tty.step(10);
      p.update({ bytes: i * 12_000_000, rows: i * 100_000 });
    }
    expect(tty.writes.length).toBeGreaterThanOrEqual(5);
    expect(tty.writes.length).toBeLessThanOrEqual(6);
    for (const w of tty.writes) expect(w.startsWith('\r') && w.endsWith('\x1b[K')).toBe(true); // in place, the old text erased
    // the last redraw was at 500 ms: 600 MB of 1.2 GB
    expect(tty.screen()).toBe('reading train.csv  [=========>          ] 50%  600 MB / 1.2 GB  5,000,000 rows  1.2 GB/s  0.5 s');
    p.done('5,000,000 rows read');
    expect(tty.writes.at(-1)).toBe('\r\x1b[K'); // cleared: nothing of it stays on the screen
    expect(tty.screen()).toBe('');
  });

  it('a stage without a known size shows rows and their rate; the line is cut to the terminal', () => {
    const tty = fakeTty();
    const p = createProgress({ mode: 'bar', command: 'vigil drift', write: tty.write, now: tty.now, columns: 40 });
    p.stage('summarizing 10,000,000 rows of the reference file');
    tty.step(2_000);
    p.update({ rows: 4_000_000 });
    expect(tty.screen()).toHaveLength(39);
    expect(tty.screen().endsWith('…')).toBe(true);
    const wide = createProgress({ mode: 'bar', command: 'vigil drift', write: tty.write, now: tty.now, columns: 120 });
    wide.stage('checking');
    tty.step(2_000);
    wide.update({ rows: 4_000_000 });
    expect(tty.screen()).toBe('checking  4,000,000 rows  2,000,000 rows/s  2.0 s');
  });

  it('clear() takes the bar away before other output; the next update draws it again', () => {
    const tty = fakeTty();
    const p = createProgress({ mode: 'bar', command: 'vigil baseline', write: tty.write, now: tty.now });
    p.stage('reading a.csv', { totalBytes: 100 });
    p.clear();
    expect(tty.screen()).toBe('');
    p.clear(); // nothing drawn: nothing written
    expect(tty.writes).toHaveLength(2);
    tty.step(100);
    p.update({ bytes: 100 });
    expect(tty.screen()).toMatch(/^reading a\.csv {2}\[=+\] 100% {2}100 B \/ 100 B/);
  });
});

describe('progress elsewhere: a quiet line per stage', () => {
  it('a line when a stage starts (with the file size) and one when it ends (rows, time, rate); updates write nothing', () => {
    const tty = fakeTty();
    const p = createProgress({ mode: 'lines', command: 'vigil baseline', write: tty.write, now: tty.now });
    p.stage('reading train.csv', { totalBytes: 1_234_000_000 });
    for (let i = 0; i < 100; i++) {
      tty.step(142);
      p.update({ bytes: i * 12_340_000, rows: i * 100_000 });
    }
    p.update({ bytes: 1_234_000_000, rows: 10_000_000 });
    p.done('10,000,000 rows read');
    p.stage('summarizing 10,000,000 rows');
    tty.step(3_100);
    p.done('summarized');
    p.stage('storing the baseline');
    p.done();
    expect(tty.writes.join('')).toBe(
      'vigil baseline: reading train.csv (1.2 GB)…\n' +
        'vigil baseline: 10,000,000 rows read in 14.2 s (87 MB/s)\n' +
        'vigil baseline: summarizing 10,000,000 rows…\n' +
        'vigil baseline: summarized in 3.1 s\n' +
        'vigil baseline: storing the baseline…\n',
    );
  });

  it("'off' says nothing", () => {
    const tty = fakeTty();
    const p = createProgress({ mode: 'off', command: 'vigil drift', write: tty.write, now: tty.now });
    p.stage('reading a.csv', { totalBytes: 10 });
    p.update({ bytes: 5 });
    p.done('done');
    p.clear();
    expect(tty.writes).toEqual([]);
  });

  it('bytes for people, in decimal units', () => {
    expect([0, 999, 1_000, 12_345, 999_999, 1_200_000_000, 88_575_303, 5e12].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 kB', '12 kB', '1.0 MB', '1.2 GB', '89 MB', '5.0 TB']);
  });
});
