import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURES, MODELS, ROWS, fillBenchStore } from './cycle.js';
import { benchConfigText, residentByKind } from './cycle-load.js';
import { median, startVigil } from './process.js';

const INTERVAL_S = 10;
const WATCH_S = 90;

/** Resident MB of a process (Linux /proc; NaN elsewhere). */
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * The real daemon at the cycle bench's load: `vigil serve` — every module, the HTTP server, the
 * bundled alert rules, the scheduler — with 8 binary models × 70 numeric features, 20,000-row
 * baselines and 100,000 stored predictions per model (80 % labelled), which it rebuilds into its
 * hot windows at start-up as after a restart. It then runs a cycle every 10 s and answers
 * scrapes. Its RSS is read from /proc every second for 90 s, as it runs: no forced GC.
 */
export async function benchDaemon(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-daemon-'));
  try {
    const db = join(dir, 'vigil.db');
    const t0 = performance.now();
    await fillBenchStore(db, Date.now(), true);
    const filled = performance.now() - t0;
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `server: { port: 0 }\nstorage: { path: ${db} }\nevaluation_interval: ${INTERVAL_S}s\n${benchConfigText(MODELS, FEATURES)}`);
    const t1 = performance.now();
    const vigil = await startVigil(config, [], 300_000);
    const started = performance.now() - t1;
    const pid = vigil.child.pid as number;
    try {
      const atStart = rssMb(pid);
      const samples: number[] = [];
      let series = 0;
      for (let s = 0; s < WATCH_S; s++) {
        await new Promise((r) => setTimeout(r, 1000));
        samples.push(rssMb(pid));
        if (s % 15 === 14) {
          const text = await (await fetch(`${vigil.url}/metrics`)).text();
          series = text.split('\n').filter((l) => l.startsWith('ml_feature_drift_score{')).length;
        }
      }
      const last30 = samples.slice(-30);
      const kinds = residentByKind(pid);
      const mb = (b: number): string => (b / 1048576).toFixed(0);
      print(
        `daemon RSS: vigil serve holding ${MODELS} models × ${FEATURES} features × ${ROWS.toLocaleString('en')}-row windows (20,000-row baselines; rebuilt from the store in ${(started / 1000).toFixed(1)} s; store filled in ${(filled / 1000).toFixed(0)} s), a cycle every ${INTERVAL_S} s, ${series} drift-score series on /metrics: ` +
          `${atStart.toFixed(0)} MB when started; over the next ${WATCH_S} s median ${median(samples).toFixed(0)} MB, max ${Math.max(...samples).toFixed(0)} MB, min ${Math.min(...samples).toFixed(0)} MB; last 30 s ${Math.min(...last30).toFixed(0)}–${Math.max(...last30).toFixed(0)} MB, no forced GC ` +
          `(at the end: files ${mb(kinds.file)} MB, C heap ${mb(kinds.cHeap)} MB, anonymous ${mb(kinds.anon)} MB: the data, V8's heap, the threads' stacks; README → Operations → Memory)`,
      );
    } finally {
      await vigil.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
