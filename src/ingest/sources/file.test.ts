import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settings, testContext, testRunner, validatingIngest } from '../../../test/fakes/source-harness.js';
import { createFileSource, FileSourceSchema, globToRegExp } from './file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-file-src-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const NOW = Date.UTC(2026, 10, 1, 12);
const cfg = (extra: Record<string, unknown> = {}) => FileSourceSchema.parse({ type: 'file', name: 'drop', path: dir, kind: 'predictions', model: 'fraud', ...extra });
/** Writes a file whose mtime is `ageMs` before NOW. */
function put(name: string, text: string, ageMs = 60_000): void {
  const p = join(dir, name);
  writeFileSync(p, text);
  const t = (NOW - ageMs) / 1000;
  utimesSync(p, t, t);
}

describe('file source', () => {
  it('reads a CSV once: default columns to item fields, every other column a feature, typed values', async () => {
    put('a.csv', 'id,ts,prediction,score,model_version,latency_ms,amount,country\n007,2026-11-01T11:00:00Z,1,0.9,3,12,12.5,DE\n8,1793530800000,0,0.1,3,,NA,\n');
    const src = createFileSource(cfg());
    const { ctx, rec, state } = testContext({ now: NOW });
    expect(await src.collect(ctx)).toEqual({ samples: [], ingested: { predictions: 2, labels: 0, rejected: 0 } });
    expect(rec.items()).toEqual([
      { id: '007', ts: '2026-11-01T11:00:00Z', model_version: '3', prediction: 1, score: 0.9, latency_ms: 12, features: { amount: 12.5, country: 'DE' } },
      { id: '8', ts: 1793530800000, model_version: '3', prediction: 0, score: 0.1, features: { amount: null, country: null } },
    ]);
    // a second run (and a restart: same state) does not read it again
    await src.collect(ctx);
    const again = createFileSource(cfg());
    await again.collect(testContext({ now: NOW + 60_000, state }).ctx);
    expect(rec.calls).toHaveLength(1);
  });

  it('reads NDJSON keeping JSON types: nested features (API shape) or flat records', async () => {
    put('b.ndjson', '{"id":"x1","prediction":"churn","score":{"churn":0.7,"stay":0.3},"features":{"tenure":3}}\n\n{"id":"x2","prediction":"stay","tenure":5,"plan":"pro","meta":{"a":1}}\nnot json\n');
    const src = createFileSource(cfg({ model: 'churn' }));
    const { ctx, rec } = testContext({ now: NOW });
    const r = await src.collect(ctx);
    expect(rec.items()).toEqual([
      { id: 'x1', prediction: 'churn', score: { churn: 0.7, stay: 0.3 }, features: { tenure: 3 } },
      { id: 'x2', prediction: 'stay', features: { tenure: 5, plan: 'pro' } },
    ]);
    expect(r.ingested).toEqual({ predictions: 2, labels: 0, rejected: 1 });
  });

  it('mapping, ignore_columns, score.<class> columns, labels kind', async () => {
    put('p.csv', 'req,pred,p_churn,score.stay,tenure,debug\nr1,churn,0.8,0.2,3,x\n');
    const src = createFileSource(cfg({ model: 'churn', mapping: { id: 'req', prediction: 'pred', 'score.churn': 'p_churn' }, ignore_columns: ['debug'] }));
    const { ctx, rec } = testContext({ now: NOW });
    await src.collect(ctx);
    expect(rec.items()).toEqual([{ id: 'r1', prediction: 'churn', score: { churn: 0.8, stay: 0.2 }, features: { tenure: 3 } }]);

    put('l.csv', 'id,label,ts,note\n1,1,2026-11-01T11:00:00Z,x\n2,0,,y\n');
    const labels = createFileSource(cfg({ name: 'labels', kind: 'labels', pattern: 'l.csv' }));
    const t2 = testContext({ now: NOW });
    await labels.collect(t2.ctx);
    expect(t2.rec.calls[0]?.kind).toBe('labels');
    expect(t2.rec.items()).toEqual([{ id: '1', label: 1, ts: '2026-11-01T11:00:00Z' }, { id: '2', label: 0 }]);
  });

  it('a file still being written waits until its size stops changing', async () => {
    put('grow.csv', 'id,prediction\n1,1\n', 0); // brand new: mtime = now
    const src = createFileSource(cfg());
    const { ctx, rec, state } = testContext({ now: NOW });
    await src.collect(ctx);
    expect(rec.calls).toHaveLength(0);
    expect(JSON.parse(state.get('files') ?? '{}')['grow.csv']).toMatchObject({ status: 'pending' });
    put('grow.csv', 'id,prediction\n1,1\n2,0\n', 0); // grew since the last look
    await src.collect(ctx);
    expect(rec.calls).toHaveLength(0);
    await src.collect(ctx); // unchanged since the last look: read
    expect(rec.items()).toEqual([
      { id: '1', prediction: 1 },
      { id: '2', prediction: 0 },
    ]);
  });

  it('matches the glob only, skips dot files and folders, moves read files to done_dir', async () => {
    put('a.csv', 'id,prediction\n1,1\n');
    put('b.txt', 'id,prediction\n2,1\n');
    put('.c.csv', 'id,prediction\n3,1\n');
    const src = createFileSource(cfg({ pattern: '*.csv', done_dir: 'done' }));
    const { ctx, rec, state } = testContext({ now: NOW });
    await src.collect(ctx);
    expect(rec.items()).toEqual([{ id: '1', prediction: 1 }]);
    expect(readdirSync(dir).sort()).toEqual(['.c.csv', 'b.txt', 'done']);
    expect(existsSync(join(dir, 'done', 'a.csv'))).toBe(true);
    await src.collect(ctx);
    expect(JSON.parse(state.get('files') ?? '')).toEqual({}); // moved files drop out of the state
    // a new file with the same name later is a new file
    put('a.csv', 'id,prediction\n9,0\n');
    await src.collect(ctx);
    expect(rec.items()).toHaveLength(2);
  });

  it('a broken file is an error naming it, recorded so it is not re-read; good files in the same run are kept', async () => {
    put('1-good.csv', 'id,prediction\n1,1\n', 120_000);
    put('2-bad.csv', 'id,id\n1,2\n', 60_000);
    const src = createFileSource(cfg());
    const t = testRunner([{ source: src, settings: settings(), fingerprint: '1' }], { clock: { now: () => NOW } });
    await t.runner.trigger('drop');
    expect(t.rec.items()).toEqual([{ id: '1', prediction: 1 }]);
    expect(t.runner.health()[0]).toMatchObject({ up: false, lastErrorCode: 'VIGIL_ERR_SOURCE_FILE' });
    expect(t.runner.health()[0]?.lastError).toContain('could not be read (not retried until they change): 2-bad.csv:1: duplicate column name "id"');
    await t.runner.trigger('drop');
    expect(t.runner.health()[0]?.up).toBe(true);
    expect(t.rec.calls).toHaveLength(1);
  });

  it('an ingest failure leaves the file unread for the next run; a missing folder is an error', async () => {
    put('a.csv', 'id,prediction\n1,1\n');
    let fail = true;
    const src = createFileSource(cfg());
    const { ctx } = testContext({
      now: NOW,
      ingest: async (kind, model, items) => {
        if (fail) throw new Error('database is locked');
        return { accepted: items.length, duplicates: [], rejected: [] };
      },
    });
    await expect(src.collect(ctx)).rejects.toThrow('database is locked');
    fail = false;
    expect((await src.collect(ctx)).ingested).toEqual({ predictions: 1, labels: 0, rejected: 0 });
    const missing = createFileSource(cfg({ path: join(dir, 'nope') }));
    await expect(missing.collect(ctx)).rejects.toThrow(/cannot list folder .*nope: ENOENT/);
  });

  it('globToRegExp', () => {
    expect(globToRegExp('*.{csv,ndjson}').test('a.csv')).toBe(true);
    expect(globToRegExp('*.{csv,ndjson}').test('a.ndjson')).toBe(true);
    expect(globToRegExp('*.{csv,ndjson}').test('a.json')).toBe(false);
    expect(globToRegExp('preds-??.csv').test('preds-01.csv')).toBe(true);
    expect(globToRegExp('[!x]*.csv').test('x1.csv')).toBe(false);
    expect(globToRegExp('a+b.csv').test('a+b.csv')).toBe(true);
  });
});

describe('file source items pass the real validation', () => {
  it('CSV and NDJSON rows become items the ModelValidator accepts (types as the HTTP API expects)', async () => {
    const v = validatingIngest([
      { name: 'fraud', task: 'binary', features: [{ name: 'amount', type: 'numeric' }, { name: 'country', type: 'categorical' }, { name: 'zip', type: 'categorical' }] },
      { name: 'eta', task: 'regression', features: [{ name: 'km', type: 'numeric' }] },
    ]);
    put('fraud-a.csv', 'id,ts,model_version,prediction,score,latency_ms,amount,country,zip\n1,2026-11-01T11:00:00Z,7,1,0.9,12.5,10,DE,01067\n2,1793530800000,7,0,0.2,,NA,,\n');
    put('fraud-b.ndjson', '{"id":"3","ts":"2026-11-01T11:00:00Z","model_version":"7","prediction":1,"score":0.5,"features":{"amount":3,"country":"FR","zip":null}}\n');
    put('eta-c.csv', 'id,prediction,km\n1,12.5,3.2\n');
    put('fraud-labels.csv', 'id,label,ts\n1,1,2026-11-01T11:30:00Z\n');
    const { ctx } = testContext({ now: NOW, ingest: v.ingest });
    expect((await createFileSource(cfg({ pattern: 'fraud-?.{csv,ndjson}' })).collect(ctx)).ingested).toEqual({ predictions: 3, labels: 0, rejected: 0 });
    expect((await createFileSource(cfg({ name: 'eta', model: 'eta', pattern: 'eta-*' })).collect(ctx)).ingested).toEqual({ predictions: 1, labels: 0, rejected: 0 });
    expect((await createFileSource(cfg({ name: 'l', kind: 'labels', pattern: 'fraud-labels.csv' })).collect(ctx)).ingested).toEqual({ predictions: 0, labels: 1, rejected: 0 });
    expect(v.rejected).toEqual([]);
    expect(v.accepted).toHaveLength(5);
    // a column the model does not know is a feature the validator refuses: rejected items, counted, not a failure
    put('fraud-x.csv', 'id,prediction,colour\n9,1,red\n');
    const r = await createFileSource(cfg({ name: 'x', pattern: 'fraud-x.csv' })).collect(ctx);
    expect(r.ingested).toEqual({ predictions: 0, labels: 0, rejected: 1 });
    expect(v.rejected[0]?.field).toContain('colour');
  });
});
