import { readFileSync, writeFileSync } from 'node:fs';
import { parseConfigText } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { packagePath } from '../core/paths.js';
import { createDaemon } from '../daemon.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { endpointsSection, ENDPOINTS_SECTION, type OpenApiDocument } from './api-docs.js';

/**
 * `npm run docs`: rewrites docs/http-api.md's table of endpoints from the OpenAPI document of a
 * daemon built here (its routes: the configuration does not change them), never listening.
 */
const config = parseConfigText('models: []\n', 'docs.yaml', {});
const logger = createLogger({ level: 'silent' });
const daemon = createDaemon({
  initial: { config, file: packagePath('docs.yaml') },
  logger,
  clock: systemClock,
  env: {},
  openStore: () => new SqliteStore({ path: ':memory:', now: systemClock.now() }),
});
await daemon.app.ready();
const doc = daemon.app.swagger() as unknown as OpenApiDocument;
const file = packagePath('docs', 'http-api.md');
const text = readFileSync(file, 'utf8');
if (!ENDPOINTS_SECTION.test(text)) throw new Error(`${file} has no <!-- endpoints:start --> … <!-- endpoints:end --> section`);
const next = text.replace(ENDPOINTS_SECTION, endpointsSection(doc));
writeFileSync(file, next);
process.stdout.write(next === text ? 'docs/http-api.md endpoints already up to date\n' : 'docs/http-api.md endpoints updated\n');
await daemon.stop('docs written');
