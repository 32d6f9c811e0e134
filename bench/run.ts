import { benchBaselineBig } from './baseline-big.js';
import { benchCycle, benchSweep } from './cycle.js';
import { benchDaemon } from './daemon.js';
import { benchEdge } from './edge.js';
import { benchHa } from './ha.js';
import { benchIngest } from './ingest.js';
import { benchIngestPostgres } from './ingest-pg.js';
import { benchMetrics } from './metrics.js';
import { benchPromql } from './promql.js';
import { benchSegments } from './segments.js';
import { benchSlo } from './slo.js';
import { benchDrift } from './stats-drift.js';
import { benchQuality } from './stats-quality.js';
import { benchUi } from './ui.js';

/** `npm run bench`: prints figures. Never a timed test. */
const print = (line: string): void => void process.stdout.write(`${line}\n`);
const only = process.argv[2];

const benches: Record<string, (p: (l: string) => void) => Promise<void>> = {
  ingest: benchIngest,
  'ingest-pg': benchIngestPostgres,
  ha: benchHa,
  metrics: benchMetrics,
  cycle: benchCycle,
  sweep: benchSweep,
  daemon: benchDaemon,
  edge: benchEdge,
  promql: benchPromql,
  segments: benchSegments,
  slo: benchSlo,
  drift: benchDrift,
  quality: benchQuality,
  ui: benchUi,
  // only when asked for by name: ha fills a database with the cycle bench's store (minutes); baseline-big writes a file of more than 1 GB
  'baseline-big': benchBaselineBig,
};
/** Benches a plain `npm run bench` leaves out. */
const ON_REQUEST = new Set(['baseline-big', 'ha']);

print(`vigil bench — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, run] of Object.entries(benches)) {
  if (only !== undefined ? only !== name : ON_REQUEST.has(name)) continue;
  await run(print);
}
