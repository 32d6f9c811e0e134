import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { axeViolations, CHROMIUM, openBrowser, SCREENSHOTS } from './browser.js';
import { testDaemon, type TestDaemon } from './harness.js';

const MIN = 60_000;
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h, 1d]
    min_samples: 20
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
      - { name: channel, type: categorical }
alerting: { bundled_rules: false }
`;

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * Ten cycles a minute apart ending now (the browser asks for the last hour by its own clock):
 * amounts shift upward and a new country appears, accuracy falls from 90% to 60%.
 */
async function servedWithHistory(): Promise<string> {
  const end = Date.now();
  t = await testDaemon(CONFIG, { now: end - 9 * MIN });
  const d = t.daemon;
  const post = (url: string, items: unknown) => d.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(items) });
  const ref = Array.from({ length: 500 }, (_, i) => ({ features: { amount: i % 100, country: ['PL', 'DE'][i % 2], channel: ['web', 'app'][i % 2] }, prediction: i % 2, score: i % 2 === 1 ? 0.8 : 0.2, label: i % 2 }));
  expect((await post('/v1/models/fraud/baselines?version=v1', ref)).statusCode).toBe(201);
  for (let c = 0; c < 10; c++) {
    const now = t.clock.now();
    const preds = Array.from({ length: 40 }, (_, i) => ({ id: `c${c}-${i}`, ts: now - 1000, model_version: 'v1', prediction: i % 2, score: i % 2 === 1 ? 0.8 : 0.2, features: { amount: 5 * c + (i % 100), country: i % 5 === 0 && c > 4 ? 'XX' : ['PL', 'DE'][i % 2], channel: ['web', 'app'][i % 2] } }));
    expect((await post('/v1/models/fraud/predictions', preds)).statusCode).toBe(200);
    // wrong: 10% at first, 40% by the end
    const wrongEvery = c < 5 ? 10 : 2.5;
    expect((await post('/v1/models/fraud/labels', preds.map((p, i) => ({ id: p.id, label: i % wrongEvery < 1 ? 1 - (i % 2) : i % 2 })))).statusCode).toBe(200);
    await d.cycle.run();
    if (c < 9) t.clock.advance(MIN);
  }
  await d.app.listen({ host: '127.0.0.1', port: 0 });
  const address = d.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

describe.skipIf(!CHROMIUM.available)('the model page in Chromium', () => {
  it("quality and drift over time from Vigil's history (uPlot), the features sorted by drift, each feature's distributions", async () => {
    const url = await servedWithHistory();
    const d = (t as TestDaemon).daemon;
    const b = await openBrowser({ width: 1400, height: 900 });
    try {
      // from the overview, the model's name links to its page
      await b.page.goto(url);
      await b.page.click('#models tbody tr[data-model="fraud"] th a');
      await b.page.waitForURL(`${url}/models/fraud`);
      await b.page.waitForSelector('#features tbody tr');
      await b.page.waitForSelector('figure.chart:nth-of-type(2) canvas');

      // each chart has one line per series the query API returns for it (uPlot's legend: the x series first)
      const series = async (query: string) => (await d.app.inject({ url: `/api/v1/query_range?query=${encodeURIComponent(query)}&start=${(Date.now() - 3_600_000) / 1000}&end=${Date.now() / 1000}&step=15` })).json().data.result.length as number;
      const sel = 'model="fraud",window="1h",segment=""';
      const expected = [(await series(`ml_model_accuracy{${sel}}`)) + (await series(`ml_model_estimated_accuracy{${sel}}`)), (await series(`ml_features_drifted{${sel}}`)) + (await series(`sum(ml_window_samples{${sel}})`))];
      expect(expected[0]).toBeGreaterThanOrEqual(1);
      expect(expected[1]).toBe(2);
      const legends = await b.page.$$eval('figure.chart', (figs) => figs.map((f) => f.querySelectorAll('.u-legend .u-series').length - 1));
      expect(legends).toEqual(expected);
      expect(await b.page.$$eval('figure.chart .u-legend .u-series th', (ths) => ths.map((th) => th.textContent))).toContain('accuracy v1');
      // the charts drew: pixels on every canvas
      type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };
      const drawn = await b.page.$$eval('figure.chart canvas', (cs) =>
        cs.map((e) => {
          const c = e as unknown as Canvas;
          const ctx = c.getContext('2d');
          if (ctx === null) return 0;
          const px = ctx.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < px.length; i += 4) if ((px[i] as number) > 0) n++;
          return n;
        }),
      );
      for (const n of drawn) expect(n).toBeGreaterThan(500);

      // the feature table: most drifted first, as the report's JSON
      const report = (await d.app.inject({ url: '/v1/models/fraud/report?window=1h', headers: { accept: 'application/json' } })).json();
      const shown = await b.page.$$eval('#features tbody tr', (trs) => [...new Set(trs.map((tr) => tr.getAttribute('data-feature')))]);
      expect(shown).toEqual(report.features.map((f: { feature: string }) => f.feature));
      expect(report.features[0].status).toBe('drift');
      expect(report.features.at(-1).feature).toBe('channel'); // unchanged: last
      expect(await b.page.textContent('section.feature h4 span')).toBe('drift'); // the first feature's
      // one distribution per feature, with the bins of the report: amount on its 10 quantile bins, the new country marked
      const bars = await b.page.$$eval('section.feature', (ss) => ss.map((s) => [s.getAttribute('data-feature'), s.querySelectorAll('rect.ref').length, s.querySelectorAll('rect.cur').length]));
      expect(bars).toEqual(report.features.map((f: { feature: string; distribution: { bins: unknown[] } }) => [f.feature, f.distribution.bins.length, f.distribution.bins.length]));
      expect(bars.find((x) => x[0] === 'amount')?.[1]).toBe(10);
      expect(await b.page.$eval('section.feature[data-feature="country"] svg text.new', (e) => e.firstChild?.textContent)).toBe('XX (new)');

      expect(await axeViolations(b.page)).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await b.page.screenshot({ path: join(SCREENSHOTS, 'model.png'), fullPage: true });
      process.stdout.write(`screenshot: ${join(SCREENSHOTS, 'model.png')}\n`);

      // another window: the URL keeps it, the charts and the report follow
      await b.page.selectOption('#window', '1d');
      await b.page.waitForURL(/window=1d/);
      await b.page.waitForSelector('figure.chart figcaption >> text=(window 1d)');
      await b.page.waitForSelector('#drift >> text=in the last 1d');
      expect(b.problems, b.problems.join('\n')).toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);

  it('an unknown model says so; a model without a baseline says what to do', async () => {
    t = await testDaemon(CONFIG, { now: Date.now() });
    await t.daemon.cycle.run();
    await t.daemon.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.daemon.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    const url = `http://127.0.0.1:${address.port}`;
    const b = await openBrowser();
    try {
      await b.page.goto(`${url}/models/nope`);
      await b.page.waitForSelector('main >> text=No model named "nope".');
      await b.page.goto(`${url}/models/fraud`);
      await b.page.waitForSelector('#drift >> text=has no baseline to compare with');
      // no data yet: each chart says so instead of drawing
      expect(await b.page.locator('figure.chart canvas').count()).toBe(0);
      expect(await b.page.locator('figure.chart p').count()).toBe(2);
      expect(await axeViolations(b.page)).toEqual([]);
      // the 409 of the report is the only failed request
      expect(b.problems.filter((p) => !p.includes('409'))).toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);
});
