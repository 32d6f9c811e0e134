import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';

/**
 * Arbitrary JSON, items and bytes, under random content types and encodings, thrown at the
 * ingestion endpoints: never a 5xx, never a crash, every error in the documented shape, and
 * exactly the accepted items stored (nothing of a rejected item or of a refused body).
 */

let t: TestDaemon;
beforeAll(async () => {
  t = await testDaemon();
});
afterAll(async () => {
  await t.close();
});

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'amount', 'country', 'tenure', 'km', 'id', 'ts', 'label', 'score'];
const scalar = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0, 1, 0.5, 'stay', 'churn', 'maybe', '__proto__', 1e308, 5e-324, 2 ** 53 + 2),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const key = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 5 }));
const object = (values: fc.Arbitrary<unknown>) => fc.dictionary(key, values, { maxKeys: 4 });
const time = fc.oneof(
  fc.date({ min: new Date(Date.UTC(1999, 0, 1)), max: new Date(Date.UTC(2026, 10, 1, 14)), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: 0, max: 2 ** 45 }),
  fc.constantFrom('2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-10-01T24:61:00Z', '2026-10-01', 'yesterday', ''),
);
/** A valid prediction or label for the model posted to, with at most one field replaced by anything (made in the property). */
class NearlyValid {
  constructor(
    readonly id: string,
    readonly change: [string, unknown] | null,
  ) {}
  item(model: string, kind: 'predictions' | 'labels'): Record<string, unknown> {
    const target = model === 'churn' ? 'stay' : model === 'eta' ? 2.5 : 1;
    const features = model === 'churn' ? { tenure: 3 } : model === 'eta' ? { km: 2 } : { amount: 1.5, country: 'PL' };
    const it: Record<string, unknown> = kind === 'labels' ? { id: this.id, label: target } : { id: this.id, prediction: target, features, model_version: 'v1' };
    // defineProperty: a changed field named __proto__ is an own key, as JSON.parse makes it
    if (this.change !== null) Object.defineProperty(it, this.change[0], { value: this.change[1], enumerable: true, writable: true, configurable: true });
    return it;
  }
}
const nearlyValid = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 6 }),
    change: fc.option(fc.tuple(fc.oneof(fc.constantFrom('id', 'ts', 'prediction', 'label', 'score', 'latency_ms', 'features', 'model_version'), key), fc.oneof(scalar, anyJson, time)), { freq: 2 }),
  })
  .map(({ id, change }) => new NearlyValid(id, change));
/** Items with the fields of a prediction or label, all with arbitrary values, or anything at all. */
const item = fc.oneof(
  { weight: 4, arbitrary: nearlyValid },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        id: fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.nat(), fc.constantFrom(2 ** 53 + 2, -1, 1.5, ''), anyJson),
        ts: fc.oneof(time, anyJson),
        model_version: fc.oneof(fc.constantFrom('v1', 'v2'), anyJson),
        features: fc.oneof(object(scalar), object(anyJson), anyJson),
        prediction: fc.oneof(scalar, anyJson),
        label: fc.oneof(scalar, anyJson),
        score: fc.oneof(fc.double({ min: 0, max: 1 }), object(fc.double({ min: 0, max: 1 })), scalar, anyJson),
        latency_ms: fc.oneof(fc.double(), scalar),
        segment: fc.oneof(fc.string({ maxLength: 4 }), anyJson),
        error: fc.oneof(fc.boolean(), fc.string({ maxLength: 4 }), anyJson),
        extra: anyJson,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

type Body =
  | { kind: 'items'; items: unknown[] }
  | { kind: 'mutated'; items: unknown[]; at: number; insert: string }
  | { kind: 'json'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'deep'; depth: number; closed: boolean; line: boolean };

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('items' as const), items: fc.array(item, { maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mutated' as const), items: fc.array(item, { minLength: 1, maxLength: 4 }), at: fc.nat(), insert: fc.constantFrom('', ',', '}', '[', '"', 'x', '\n', '\\') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), text: fc.json({ maxDepth: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 1000, max: 60_000 }), closed: fc.boolean(), line: fc.boolean() }) },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/x-ndjson',
  'application/jsonl',
  'application/json; charset=latin1',
  'text/plain',
  'multipart/form-data; boundary=x',
  undefined,
] as const;
const ENCODINGS = [undefined, 'identity', 'gzip', 'deflate', 'br', 'compress', 'gzip (but sent plain)'] as const;

let run = 0;
/** The nearly valid items made for the model and kind; string ids made unique per run, so a rejected item's id can be looked for in the store. */
const materialize = (items: unknown[], model: string, kind: 'predictions' | 'labels'): unknown[] =>
  items.map((x) => {
    const it = x instanceof NearlyValid ? x.item(model, kind) : x;
    if (it === null || typeof it !== 'object' || Array.isArray(it) || !Object.hasOwn(it, 'id')) return it;
    const id = (it as { id: unknown }).id;
    return typeof id === 'string' && id !== '' ? { ...it, id: `r${run}-${id}` } : it; // a copy: fast-check may reuse the value
  });

function text(b: Body, ndjson: boolean): Buffer {
  switch (b.kind) {
    case 'items':
      return Buffer.from(ndjson ? b.items.map((i) => JSON.stringify(i)).join('\n') : JSON.stringify(b.items));
    case 'mutated': {
      const s = ndjson ? b.items.map((i) => JSON.stringify(i)).join('\n') : JSON.stringify(b.items);
      const at = b.at % (s.length + 1);
      return Buffer.from(`${s.slice(0, at)}${b.insert}${s.slice(at + (b.insert === '' ? 1 : 0))}`);
    }
    case 'json':
      return Buffer.from(b.text);
    case 'bytes':
      return Buffer.from(b.bytes);
    case 'deep': {
      const nested = '['.repeat(b.depth) + (b.closed ? ']'.repeat(b.depth) : '');
      return Buffer.from(b.line ? `{"id":"r${run}-deep-ok","prediction":1}\n${nested}` : `[{"id":"r${run}-deep-ok","prediction":1},${nested}]`);
    }
  }
}

function encode(buf: Buffer, enc: (typeof ENCODINGS)[number]): Buffer {
  if (enc === 'gzip') return gzipSync(buf);
  if (enc === 'deflate') return deflateSync(buf);
  if (enc === 'br') return brotliCompressSync(buf);
  return buf;
}

const stored = async (model: string, kind: 'predictions' | 'labels'): Promise<number> => {
  const m = (await t.daemon.app.inject({ url: `/v1/models/${model}` })).json() as { predictions: number; labels_received: number };
  return kind === 'predictions' ? m.predictions : m.labels_received;
};

describe('ingestion under arbitrary input (property)', () => {
  it('never answers 5xx, never crashes, stores exactly the accepted items', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(0, 4)) }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(4)) }),
        fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ENCODINGS.slice(0, 5)) }, { weight: 1, arbitrary: fc.constantFrom(...ENCODINGS.slice(5)) }),
        fc.constantFrom('predictions' as const, 'labels' as const),
        fc.constantFrom('fraud', 'churn', 'eta'),
        async (b0, type, enc, kind, model) => {
          run++;
          const b = b0.kind === 'items' || b0.kind === 'mutated' ? { ...b0, items: materialize(b0.items, model, kind) } : b0;
          const ndjson = type === 'application/x-ndjson' || type === 'application/jsonl';
          const payload = encode(text(b, ndjson), enc);
          const before = await stored(model, kind);
          const r = await t.daemon.app.inject({
            method: 'POST',
            url: `/v1/models/${model}/${kind}`,
            headers: { ...(type === undefined ? {} : { 'content-type': type }), ...(enc === undefined ? {} : { 'content-encoding': enc.split(' ')[0] as string }) },
            payload,
          });
          expect(r.statusCode).toBeLessThan(500);
          const answer = r.json() as { accepted: number; duplicates: unknown[]; rejected: { index: number; id?: string }[]; error?: { code: string; message: string } };
          const after = await stored(model, kind);
          if (r.statusCode === 200 || r.statusCode === 207 || r.statusCode === 422) {
            // counts add up, the status says which case it is, and exactly the accepted were stored
            expect(after - before).toBe(answer.accepted);
            const taken = answer.accepted + answer.duplicates.length;
            expect(r.statusCode).toBe(answer.rejected.length === 0 ? 200 : taken > 0 ? 207 : 422);
            if (b.kind === 'items' && type !== undefined && !type.includes('latin1') && !type.startsWith('text') && !type.startsWith('multipart') && enc !== 'compress' && enc !== 'gzip (but sent plain)') {
              expect(taken + answer.rejected.length).toBe(b.items.length);
              // a rejected item whose id no other item of the batch carries is not in the store
              const rejected = new Set(answer.rejected.map((x) => x.index));
              const otherIds = new Set(b.items.filter((_, i) => !rejected.has(i)).map((i) => String((i as { id?: unknown } | null)?.id)));
              for (const x of answer.rejected.slice(0, 3)) {
                if (kind === 'predictions' && x.id !== undefined && x.id.startsWith(`r${run}-`) && !otherIds.has(x.id)) {
                  expect((await t.daemon.app.inject({ url: `/v1/models/${model}/predictions/${encodeURIComponent(x.id)}` })).statusCode).toBe(404);
                }
              }
            }
          } else {
            // a refused body: the documented error shape, nothing stored
            expect(r.statusCode).toBeGreaterThanOrEqual(400);
            expect(Object.keys(answer)).toEqual(['error']);
            expect(answer.error?.code).toMatch(/^VIGIL_ERR_[A-Z_]+$/);
            expect(after).toBe(before);
          }
          expect((await t.daemon.app.inject({ url: '/healthz' })).statusCode).toBe(200);
        },
      ),
      { numRuns: 250 },
    );
  }, 120_000);
});
