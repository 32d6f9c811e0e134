import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { debianTool } from './debian.js';

/**
 * Debian's Chromium driven by playwright-core (REFERENCE.md §13): headless, no sandbox (CI runs as
 * root), no background networking (the network is closed), a fresh profile. Under CI=true a
 * missing chromium fails (.ci/run installs it); elsewhere the browser tests skip saying so.
 */
export const CHROMIUM = debianTool('chromium', 'chromium');

/** Where the browser tests leave their screenshots (each test prints the path). */
export const SCREENSHOTS = join(tmpdir(), 'vigil-screenshots');

export interface Browser {
  page: Page;
  /** console errors and failed requests seen so far */
  problems: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1200, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  const ctx: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport,
  });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return {
    page,
    problems,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** axe-core's serious and critical violations on the page (WCAG 2 A/AA rules). */
export async function axeViolations(page: Page): Promise<string[]> {
  const { createRequire } = await import('node:module');
  const source = (await import('node:fs')).readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // evaluated through the DevTools protocol: the page's own CSP (no scripts) does not apply to it
  await page.evaluate(source);
  const result = (await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  })) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
