import { readFileSync, writeFileSync } from 'node:fs';
import { packagePath } from '../core/paths.js';
import { renderCatalogMarkdown } from './catalog.js';

/** `npm run docs`: rewrites the metric catalog section of docs/metrics.md from the catalog data. */
const file = packagePath('docs', 'metrics.md');
const text = readFileSync(file, 'utf8');
const next = text.replace(/<!-- catalog:start -->\n[\s\S]*?\n<!-- catalog:end -->/, `<!-- catalog:start -->\n${renderCatalogMarkdown()}\n<!-- catalog:end -->`);
writeFileSync(file, next);
process.stdout.write(next === text ? 'docs/metrics.md catalog already up to date\n' : 'docs/metrics.md catalog updated\n');
