import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/logger.js';
import { openPostgres } from '../src/store/open.js';
import { modelLayout } from '../src/store/packed.js';
import { isPacked } from '../src/store/store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { freshDatabase, postgresServer } from './postgres.js';

const server = await postgresServer();
const dir = mkdtempSync(join(tmpdir(), 'vigil-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 6);
const CONFIG = `
models:
  - name: fraud
    task: binary
    positive_class: "1"
    windows: [1d]
    features:
      - { name: amount, type: numeric }
      - { name: country, type: categorical }
rule_files: []
alerting: { bundled_rules: false }
`;

function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) }, env).then((code) => ({ code, out, err }));
}

describe.skipIf(!server.available)('vigil migrate (SQLite → PostgreSQL)', () => {
  it('copies every table into an empty database, verifies the counts, and refuses a database that holds data', async () => {
    const path = join(dir, 'vigil.db');
    const configFile = join(dir, 'vigil.yaml');
    writeFileSync(configFile, CONFIG);
    const model = parseConfigText(CONFIG, configFile, {}).models[0]!;
    const layout = modelLayout(model);
    // a SQLite store as the daemon leaves it: two batches of predictions, labels, a baseline, the audit trail, state
    const src = new SqliteStore({ path, now: T0, pageReader: 'main', writer: 'main' });
    const preds = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `p${from + i}`, ts: T0 + from + i, version: 'v1', features: { amount: from + i, country: i % 2 ? 'PL' : 'DE' }, prediction: String(i % 2), score: 0.25 + (i % 2) / 2, latencyMs: 10, segment: i % 3 === 0 ? 'web' : null, error: null }));
    await src.insertPredictions('fraud', preds(0, 2500), T0 + 1000, layout);
    await src.insertPredictions('fraud', preds(2500, 10), T0 + 2000, layout);
    await src.insertPredictions('legacy', [{ id: 'x', ts: T0, version: 'v0', features: { a: 1 }, prediction: 3.5, score: null, latencyMs: null, segment: null, error: 'timeout' }], T0);
    await src.insertLabels('fraud', Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, ts: T0 + 5000, label: String(i % 2) })), T0 + 5000);
    await src.saveBaseline({ model: 'fraud', version: 'v1', createdAt: T0, source: 'api', rows: 3, summary: '{"features":{}}' }, [{ kind: 'feature', name: 'amount', sorted: Float64Array.of(1, 2, 3) }]);
    await src.saveIncident({ id: 'i1', fingerprint: 'f', alertname: 'A', model: 'fraud', labels: { alertname: 'A' }, annotations: {}, firedAt: T0, resolvedAt: null, status: 'open', createdAt: T0 });
    await src.saveAction({ id: 'a1', incidentId: 'i1', idempotencyKey: 'i1/rollback', model: 'fraud', action: 'rollback', type: 'mlflow_rollback', status: 'succeeded', reason: 'r', createdAt: T0, startedAt: T0, endedAt: T0 + 1, expiresAt: null, attempts: 1, error: null, details: { from: '2' }, plan: { to: '1' }, decidedBy: null, updatedAt: T0 + 1 });
    await src.saveCircuit({ model: 'fraud', state: 'open', since: T0, reason: 'r', incidentId: 'i1', probeUntil: null, manual: false, generation: 3 });
    await src.saveSilence({ id: 's1', matchers: ['model="fraud"'], startsAt: T0, endsAt: T0 + 3_600_000, createdBy: 'me', comment: 'c', createdAt: T0 });
    await src.writeOutbox([{ id: 'o1', receiver: 'team', payload: '{}', attempts: 2, nextAttemptAt: T0, createdAt: T0 }], []);
    await src.setState('alerting', '{"x":1}', T0);
    await src.writeRuleHistory({ series: [{ id: 1, labels: '[["__name__","up"]]', writer: '' }], deletedSeries: [], appends: [{ t: T0, data: new Uint8Array(12) }], pruneBefore: 0 });
    await src.addSloMinutes([{ slo: 'avail', minute: 29_000_000, good: 9, total: 10 }]);
    await src.close();

    const db = await freshDatabase(server);
    try {
      const r = await run(['migrate', '--from', `sqlite:${path}`, '--to', db.url, '--config', configFile]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^fraud: predictions\s+2510 copied$/m);
      expect(r.out).toMatch(/^fraud: labelled predictions\s+100 copied$/m);
      expect(r.out).toMatch(/^legacy: predictions\s+1 copied$/m);
      for (const what of ['baselines', 'baseline reference values', 'incidents', 'action records', 'circuits', 'silences', 'outbox entries', 'rule history samples', 'SLO minutes', 'state keys']) {
        expect(r.out).toMatch(new RegExp(`^${what}\\s+\\d+ copied$`, 'm'));
      }
      expect(r.out).toContain(`(2,511 predictions)`);

      // what PostgreSQL holds reads back as SQLite held it
      const pgStore = await openPostgres(db.url, { schema: 'vigil', logger: createLogger({ level: 'silent' }), now: T0 });
      try {
        const p = await pgStore.getPrediction('fraud', 'p3');
        expect(p).toMatchObject({ id: 'p3', ts: T0 + 3, version: 'v1', features: { amount: 3, country: 'PL' }, prediction: '1', score: 0.75, latencyMs: 10, segment: 'web', receivedAt: T0 + 1000, label: { id: 'p3', ts: T0 + 5000, label: '1' } });
        expect((await pgStore.getPrediction('fraud', 'p2505'))?.receivedAt).toBe(T0 + 2000);
        expect(await pgStore.getPrediction('legacy', 'x')).toMatchObject({ prediction: 3.5, error: 'timeout', score: null });
        // the config's models are stored packed too (the hot-window rebuild reads no JSON)
        const page = await pgStore.windowPage('fraud', { fromTs: 0, maxSeq: Number.MAX_SAFE_INTEGER, limit: 5, layout });
        expect(page.every(isPacked)).toBe(true);
        expect((await pgStore.listBaselineMeta('fraud')).map((b) => b.version)).toEqual(['v1']);
        expect((await pgStore.getAction('a1'))?.plan).toEqual({ to: '1' });
        expect(await pgStore.getState('alerting')).toBe('{"x":1}');
      } finally {
        await pgStore.close();
      }

      // again into the same database: refused, nothing written
      const again = await run(['migrate', '--from', `sqlite:${path}`, '--to', db.url]);
      expect(again.code).toBe(2);
      expect(again.err).toContain('already holds data: migrate into an empty database or schema');
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('names what is wrong: the source, the target URL (its password never shown)', async () => {
    expect(await run(['migrate', '--from', './x.db', '--to', 'postgres://a@b/c'])).toMatchObject({ code: 2, err: 'vigil migrate: --from must be sqlite:PATH, not "./x.db"\n' });
    expect(await run(['migrate', '--from', 'sqlite:./x.db', '--to', 'mysql://u:hunter2@h/d'])).toMatchObject({ code: 2, err: 'vigil migrate: --to must be a postgres:// URL, not "mysql://u:***@h/d"\n' });
    const path = join(dir, 'empty.db');
    await new SqliteStore({ path, now: T0, pageReader: 'main', writer: 'main' }).close();
    const down = await run(['migrate', '--from', `sqlite:${path}`, '--to', 'postgres://vigil:hunter2@127.0.0.1:1/vigil']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^vigil migrate: --to: cannot open postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/vigil: /);
    expect(down.err).not.toContain('hunter2');
  }, 60_000);
});
