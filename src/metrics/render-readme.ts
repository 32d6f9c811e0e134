import { readFileSync, writeFileSync } from 'node:fs';
import { packagePath } from '../core/paths.js';
import { renderCatalogMarkdown } from './catalog.js';

/** `npm run docs`: rewrites the README's metric catalog section from the catalog data. */
const file = packagePath('README.md');
const text = readFileSync(file, 'utf8');
const next = text.replace(/<!-- catalog:start -->\n[\s\S]*?\n<!-- catalog:end -->/, `<!-- catalog:start -->\n${renderCatalogMarkdown()}\n<!-- catalog:end -->`);
writeFileSync(file, next);
process.stdout.write(next === text ? 'README catalog already up to date\n' : 'README catalog updated\n');
