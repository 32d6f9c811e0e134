import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../src/config/load.js';
import type { Clock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';
import { createDaemon, type Daemon } from '../src/daemon.js';
import type { Store } from '../src/store/store.js';

/** A clock tests step by hand. */
export class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const BASE_CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h]
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
  - name: churn
    task: multiclass
    classes: [stay, churn, maybe]
    windows: [1h]
    features:
      - { name: tenure, type: numeric }
  - name: eta
    task: regression
    windows: [1h]
    features:
      - { name: km, type: numeric }
`;

export interface TestDaemon {
  daemon: Daemon;
  dir: string;
  configFile: string;
  clock: ManualClock;
  logs: string[];
  close: () => Promise<void>;
}

/** A daemon on a temporary directory (config file + SQLite file), never listening. */
export async function testDaemon(
  yaml: string = BASE_CONFIG,
  opts: { openStore?: (path: string) => Store; now?: number; clock?: Clock; files?: Readonly<Record<string, string>> } = {},
): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-test-'));
  // Files the configuration names (rule files): written first, since a rule_files entry that
  // matches no file is a configuration error.
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
  const configFile = join(dir, 'vigil.yaml');
  writeFileSync(configFile, `storage:\n  path: ${join(dir, 'vigil.db')}\n${yaml}`);
  const clock = new ManualClock(opts.now ?? Date.UTC(2026, 10, 1, 12));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const initial = await loadConfigFile(configFile, {});
  const daemon = createDaemon({
    initial,
    logger,
    clock: opts.clock ?? clock,
    env: {},
    ...(opts.openStore ? { openStore: () => (opts.openStore as (p: string) => Store)(join(dir, 'vigil.db')) } : {}),
  });
  await daemon.alerting.start(configFile);
  await daemon.slos.apply((opts.clock ?? clock).now());
  await daemon.remediation.start();
  await daemon.app.ready();
  return {
    daemon,
    dir,
    configFile,
    clock,
    logs,
    close: async () => {
      await daemon.stop('test over');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ndjson = (items: unknown[]): string => items.map((i) => JSON.stringify(i)).join('\n');

export function writeConfig(t: TestDaemon, yaml: string): void {
  writeFileSync(t.configFile, `storage:\n  path: ${join(t.dir, 'vigil.db')}\n${yaml}`);
}
