import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, startVigil } from './process.js';

const RUNS = 5;
const WARM_UP_MS = 50_000;

interface Load {
  /** bytes over the wire (headers included) and decoded, of the page and everything it loaded */
  transfer: number;
  decoded: number;
  requests: number;
  /** ms from navigation start: first contentful paint, and the page's data drawn */
  fcp: number;
  ready: number;
}

/**
 * The web UI's page weight and first render time: each page loaded cold (a new browser profile,
 * nothing cached) in Debian's Chromium against the demo (`serve --simulate` on the embedded demo
 * configuration, after a minute of traffic), RUNS times; medians printed. Not a timed test.
 */
export async function benchUi(print: (line: string) => void): Promise<void> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    print('ui: playwright-core is not installed (a dev dependency): skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-ui-'));
  const config = fileURLToPath(new URL('../../examples/vigil.yaml', import.meta.url));
  const env = { VIGIL_PORT: '0', VIGIL_DB: join(dir, 'demo.db') };
  Object.assign(process.env, env);
  const vigil = await startVigil(config, ['--simulate', '--drift-after', '0s']);
  try {
    print(`ui: the demo is running at ${vigil.url}; ${WARM_UP_MS / 1000} s of traffic first…`);
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    const pages: [string, string, string][] = [
      ['overview', '/', '#models tbody tr'],
      ['model', '/models/fraud-detector', 'figure.chart canvas, figure.chart p'],
      ['alerts', '/alerts', '#main h2'],
      ['incidents', '/incidents', '#main :is(#incidents, p)'],
      ['runbook', '/runbooks/MLFeatureDrift', 'h1'],
      ['drift report', '/v1/models/fraud-detector/report', 'h1'],
    ];
    print('ui: page                 transfer   decoded  requests   first paint   data drawn (medians of cold loads)');
    for (const [name, path, ready] of pages) {
      const loads: Load[] = [];
      for (let i = 0; i < RUNS; i++) {
        const profile = mkdtempSync(join(dir, 'profile-'));
        const ctx = await chromium.launchPersistentContext(profile, {
          executablePath: '/usr/bin/chromium',
          headless: true,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
          viewport: { width: 1400, height: 900 },
        });
        try {
          const page = await ctx.newPage();
          await page.goto(`${vigil.url}${path}`);
          await page.waitForSelector(ready);
          loads.push(
            (await page.evaluate(() => {
              // the browser's Performance API (no DOM types in this program)
              type Timing = { transferSize: number; decodedBodySize: number };
              const p = globalThis.performance as unknown as { getEntriesByType(t: string): Timing[]; getEntriesByName(n: string): { startTime: number }[]; now(): number };
              const all = [...p.getEntriesByType('navigation'), ...p.getEntriesByType('resource')];
              return {
                transfer: all.reduce((n, r) => n + r.transferSize, 0),
                decoded: all.reduce((n, r) => n + r.decodedBodySize, 0),
                requests: all.length,
                fcp: p.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
                ready: p.now(),
              };
            })) as Load,
          );
        } finally {
          await ctx.close();
          rmSync(profile, { recursive: true, force: true });
        }
      }
      const m = (k: keyof Load) => median(loads.map((l) => l[k]));
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      print(`ui: ${name.padEnd(18)} ${kb(m('transfer')).padStart(9)} ${kb(m('decoded')).padStart(9)} ${String(m('requests')).padStart(9)} ${`${m('fcp').toFixed(0)} ms`.padStart(13)} ${`${m('ready').toFixed(0)} ms`.padStart(12)}`);
    }
  } finally {
    await vigil.stop();
    for (const k of Object.keys(env)) delete process.env[k];
    rmSync(dir, { recursive: true, force: true });
  }
}
