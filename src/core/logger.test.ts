import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyLogs } from './logger.js';

const capture = () => {
  const chunks: string[] = [];
  const destination = new Writable({
    write: (c: Buffer, _e, cb) => {
      chunks.push(c.toString('utf8'));
      cb();
    },
  });
  return { destination, text: () => chunks.join('') };
};

describe('log.format', () => {
  it('auto is pretty on a terminal and JSON otherwise; pretty and json are what they say', () => {
    expect(prettyLogs('auto', true)).toBe(true);
    expect(prettyLogs('auto', false)).toBe(false);
    expect(prettyLogs('pretty', false)).toBe(true);
    expect(prettyLogs('json', true)).toBe(false);
  });

  it('json: one JSON object a line with the level name, the service and the fields', () => {
    const c = capture();
    createLogger({ format: 'auto', isTTY: false, destination: c.destination }).child({ component: 'alerting' }).info({ alertname: 'X' }, 'alert firing');
    const line = JSON.parse(c.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', service: 'vigil', component: 'alerting', alertname: 'X', msg: 'alert firing' });
  });

  it('pretty: time, level and message on one line, the fields below; no colours off a terminal; secrets redacted as in JSON', () => {
    const c = capture();
    createLogger({ format: 'pretty', isTTY: false, destination: c.destination }).child({ component: 'alerting' }).info({ alertname: 'X', token: 'hunter2' }, 'alert firing');
    const text = c.text();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d\d\d\] INFO: alert firing\n/);
    expect(text).toContain('component: "alerting"');
    expect(text).toContain('alertname: "X"');
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('\u001b['); // no ANSI colours
    expect(text).not.toMatch(/"service"|pid|hostname/);
  });
});
