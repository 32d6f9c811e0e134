import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { axeViolations, CHROMIUM, openBrowser, SCREENSHOTS } from './browser.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-report-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!CHROMIUM.available)('the HTML drift report in Chromium', () => {
  it('opens from a file with no error and no request, draws every feature with both distributions, and passes axe-core', async () => {
    const ref = ['amount,age,country'];
    const cur = ['amount,age,country'];
    for (let i = 0; i < 1000; i++) ref.push(`${100 + ((i * 37) % 61) - 30},${18 + (i % 60)},${['PL', 'DE', 'FR'][i % 3]}`);
    for (let i = 0; i < 700; i++) cur.push(`${120 + ((i * 37) % 61) - 30},${18 + (i % 60)},${['PL', 'DE', 'XX'][i % 3]}`);
    writeFileSync(join(dir, 'ref.csv'), ref.join('\n'));
    writeFileSync(join(dir, 'cur.csv'), cur.join('\n'));
    const out = join(dir, 'report.html');
    const code = await main(['report', '--reference', join(dir, 'ref.csv'), '--current', join(dir, 'cur.csv'), '--out', out], { stdout: () => undefined, stderr: () => undefined }, {});
    expect(code).toBe(0);
    const b = await openBrowser();
    try {
      await b.page.goto(`file://${out}`);
      // one chart per feature, each bin a reference and a current bar (the new category has a reference bar of 0 width)
      const charts = await b.page.$$eval('svg', (svgs) => svgs.map((s) => ({ label: s.getAttribute('aria-label'), ref: s.querySelectorAll('rect.ref').length, cur: s.querySelectorAll('rect.cur').length, width: s.getBoundingClientRect().width })));
      // most drifted first: country (a third of it new: high), amount (shifted: medium), age (stable)
      expect(charts.map((c) => c.label)).toEqual(['country: reference and current distributions', 'amount: reference and current distributions', 'age: reference and current distributions']);
      for (const c of charts) {
        expect(c.ref).toBeGreaterThan(1);
        expect(c.cur).toBe(c.ref);
        expect(c.width).toBeGreaterThan(300);
      }
      // the bars are drawn: the widest current bar of amount is wider than nothing
      const widest = await b.page.$$eval('svg[aria-label^="amount"] rect.cur', (rs) => Math.max(...rs.map((r) => r.getBoundingClientRect().width)));
      expect(widest).toBeGreaterThan(50);
      expect(await b.page.locator('text=XX (new)').count()).toBe(1);
      expect(await axeViolations(b.page)).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await b.page.screenshot({ path: join(SCREENSHOTS, 'drift-report.png'), fullPage: true });
      process.stdout.write(`screenshot: ${join(SCREENSHOTS, 'drift-report.png')}\n`);
      expect(b.problems).toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);
});
