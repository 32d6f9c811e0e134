import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, renderCatalogMarkdown } from './catalog.js';

describe('metric catalog', () => {
  it('names follow Prometheus conventions', () => {
    for (const c of CATALOG) {
      // slo:…:… and sloth_slo_info: Sloth's recording-rule names, kept so Sloth's dashboards read Vigil's SLOs
      expect(c.name).toMatch(/^((ml|vigil|feast)_[a-z0-9_]+|ALERTS|ALERTS_FOR_STATE|slo:[a-z_]+:[a-z0-9_]+|sloth_slo_info)$/);
      if (c.type === 'counter') expect(c.name.endsWith('_total'), c.name).toBe(true);
      else expect(c.name.endsWith('_total'), c.name).toBe(false);
      if (c.unit === 'seconds') expect(c.name).toMatch(/_seconds$/);
      if (c.name.endsWith('_seconds')) expect(['seconds', 'timestamp_seconds']).toContain(c.unit);
      expect(c.help.length).toBeGreaterThan(10);
    }
    expect(new Set(CATALOG.map((c) => c.name)).size).toBe(CATALOG.length);
  });

  it('docs/metrics.md shows the catalog as it is (npm run docs regenerates it)', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../docs/metrics.md'), 'utf8');
    const section = /<!-- catalog:start -->\n([\s\S]*?)\n<!-- catalog:end -->/.exec(readme)?.[1];
    expect(section?.trim()).toBe(renderCatalogMarkdown().trim());
  });
});
