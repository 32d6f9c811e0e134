/**
 * The start-up rebuild alone (MonitorEngine.load over a filled bench store), for profiling:
 * `node dist/bench/rebuild-profile.js fill <db>` fills the store once (bench/cycle.ts's load),
 * `node --cpu-prof dist/bench/rebuild-profile.js load <db>` times engine.load on it.
 */
import { Writable } from 'node:stream';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { MonitorEngine } from '../src/monitors/engine.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { FEATURES, MODELS, fillBenchStore } from './cycle.js';
import { benchConfigText } from './cycle-load.js';

const [cmd, db] = process.argv.slice(2);
if (db === undefined) throw new Error('usage: rebuild-profile.js fill|load <db>');
if (cmd === 'fill') {
  await fillBenchStore(db, Date.now(), true);
} else {
  const config = parseConfigText(benchConfigText(MODELS, FEATURES), 'bench.yaml', {});
  const now = Date.now();
  const store = new SqliteStore({ path: db, now });
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const engine = new MonitorEngine({ store, logger, driftWorker: false });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await engine.load(config, now);
  const c = process.cpuUsage(c0);
  let rows = 0;
  for (const m of config.models) rows += engine.window(m.name)?.n ?? 0;
  process.stdout.write(`load: ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(2)} s, CPU ${((c.user + c.system) / 1e6).toFixed(2)} s, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB\n`);
  process.stdout.write(`pages: ${JSON.stringify(store.pages.counts)}\n`);
  await engine.close();
  await store.close();
}
