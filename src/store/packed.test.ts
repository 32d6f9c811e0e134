import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MISSING_STRING, PACKED_HEAD, Packer, PackedReader, packedFeatures, packedFor, packedJson, packLayout, packsExactly, windowScore } from './packed.js';
import type { PredictionRecord } from './store.js';

const FEATURES = [
  { name: 'amount', type: 'numeric' as const },
  { name: 'country', type: 'categorical' as const },
  { name: 'age', type: 'numeric' as const },
  { name: 'device', type: 'categorical' as const },
];

const rec = (features: PredictionRecord['features'], over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  id: 'a',
  ts: 1,
  version: 'v1',
  features,
  prediction: '1',
  score: 0.25,
  latencyMs: null,
  segment: null,
  error: null,
  ...over,
});

/** What a reader gives back of a packed record: score, numeric values, categorical values. */
function unpack(features: typeof FEATURES, bytes: Uint8Array): { score: number; numeric: number[]; categorical: (string | null)[] } {
  const layout = packLayout(features);
  expect(packedFor(layout, bytes)).toBe(true);
  const reader = new PackedReader(layout);
  const score = reader.row(bytes);
  return {
    score,
    numeric: layout.numeric.map((_, f) => reader.numeric(f)),
    categorical: layout.categorical.map(() => reader.nextCategorical()),
  };
}

describe('the packed form of a prediction (packed.ts)', () => {
  it('gives back the numeric values, categories and window score; missing and null alike', () => {
    const packer = new Packer();
    const layout = packLayout(FEATURES);
    const cases: [PredictionRecord, ReturnType<typeof unpack>][] = [
      [rec({ amount: 12.5, country: 'PL', age: -0, device: '' }), { score: 0.25, numeric: [12.5, -0], categorical: ['PL', ''] }],
      [rec({ amount: null, country: null }), { score: 0.25, numeric: [NaN, NaN], categorical: [null, null] }],
      [rec({ amount: 5e-324, age: 1.7976931348623157e308, country: 'Zürich 🚀', device: 7, extra: 'kept in the JSON only' }), { score: 0.25, numeric: [5e-324, 1.7976931348623157e308], categorical: ['Zürich 🚀', '7'] }],
      // as the JSON holds them: a non-finite number is null, a string is read with Number()
      [rec({ amount: Infinity, age: '3.5' }), { score: 0.25, numeric: [NaN, 3.5], categorical: [null, null] }],
      [rec({ amount: NaN, age: 'x' }, { score: null }), { score: NaN, numeric: [NaN, NaN], categorical: [null, null] }],
      [rec({}, { prediction: 'b', score: { a: 0.1, b: 0.7, c: 0.2 } }), { score: 0.7, numeric: [NaN, NaN], categorical: [null, null] }],
      [rec({}, { prediction: 'z', score: { a: 0.1 } }), { score: NaN, numeric: [NaN, NaN], categorical: [null, null] }],
    ];
    for (const [r, want] of cases) {
      const bytes = packer.pack(layout, r);
      expect(unpack(FEATURES, bytes)).toEqual(want);
      // not 8-aligned: read through a DataView instead of in place, the same values
      const odd = new Uint8Array(bytes.length + 3);
      odd.set(bytes, 3);
      expect(unpack(FEATURES, odd.subarray(3))).toEqual(want);
    }
    // one reader over the rows of one page, aligned and not, in turn (as the rebuild reads them)
    const page = new Uint8Array(4096);
    const offsets = [0, 200, 403, 1024];
    offsets.forEach((at, k) => page.set(packer.pack(layout, (cases[k] as (typeof cases)[number])[0]), at));
    const reader = new PackedReader(layout);
    offsets.forEach((at, k) => {
      const score = reader.row(page.subarray(at));
      const want = (cases[k] as (typeof cases)[number])[1];
      expect({ score, numeric: layout.numeric.map((_, f) => reader.numeric(f)), categorical: layout.categorical.map(() => reader.nextCategorical()) }).toEqual(want);
    });
    // numbers as their exact bits
    const bits = unpack(FEATURES, packer.pack(layout, rec({ amount: 0.1 + 0.2 }))).numeric[0] as number;
    expect(Object.is(bits, 0.1 + 0.2)).toBe(true);
  });

  it('holds the layout: another feature list (order, type, name) has another key, and its rows are not read as this one\'s', () => {
    const packer = new Packer();
    const layout = packLayout(FEATURES);
    const others = [[...FEATURES].reverse(), FEATURES.map((f) => (f.name === 'age' ? { ...f, type: 'categorical' as const } : f)), FEATURES.slice(1), [...FEATURES, { name: 'x', type: 'numeric' as const }]];
    const bytes = packer.pack(layout, rec({ amount: 1, country: 'PL' })).slice();
    for (const o of others) {
      const l = packLayout(o);
      expect(l.key).not.toBe(layout.key);
      expect(packedFor(l, bytes)).toBe(false);
    }
    expect(packLayout(FEATURES.map((f) => ({ ...f }))).key).toBe(layout.key);
    expect(packedFor(layout, bytes.subarray(0, PACKED_HEAD))).toBe(false); // too short for its numeric values
  });

  it('is as large as its values: 16 bytes of head, 8 per numeric feature, 4 + UTF-8 per category', () => {
    const packer = new Packer();
    const layout = packLayout(FEATURES);
    expect(packer.pack(layout, rec({ country: 'PL' })).length).toBe(PACKED_HEAD + 16 + 4 + 2 + 4);
    const long = 'é'.repeat(5000); // grows the packer's buffer
    const b = packer.pack(layout, rec({ country: long }));
    expect(b.length).toBe(PACKED_HEAD + 16 + 4 + 10_000 + 4);
    expect(unpack(FEATURES, b).categorical).toEqual([long, null]);
    expect(new DataView(b.buffer, b.byteOffset).getUint32(PACKED_HEAD + 16 + 4 + 10_000, true)).toBe(MISSING_STRING);
  });

  it('windowScore: the binary score, the predicted class\'s probability, NaN when none', () => {
    expect(windowScore({ score: 0.3, prediction: '1' })).toBe(0.3);
    expect(windowScore({ score: { '1': 0.6, '2': 0.4 }, prediction: 1 })).toBe(0.6);
    expect(windowScore({ score: null, prediction: 3.5 })).toBeNaN();
  });

  it('rebuilds the features\' JSON text from the packed form, character for character, exactly where packsExactly says it can', () => {
    const layout = packLayout(FEATURES);
    const packer = new Packer();
    const numeric = fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.constant('1.5'), fc.constant(-0));
    const categorical = fc.oneof(fc.string({ unit: 'binary' }), fc.constant(null), fc.constant(3), fc.constant('\ud800'));
    const value = fc.oneof(numeric, categorical);
    // the layout's features in its order; or some missing, some extra, shuffled
    const inOrder = fc.record({ amount: numeric, country: categorical, age: numeric, device: categorical });
    const messy = fc
      .record({ amount: numeric, country: categorical, age: numeric, device: categorical, extra: value }, { requiredKeys: [] })
      .chain((f) => fc.shuffledSubarray(Object.keys(f), { minLength: Object.keys(f).length }).map((keys) => Object.fromEntries(keys.map((k) => [k, f[k as keyof typeof f]]))));
    const features = fc.oneof(inOrder, messy);
    let exact = 0;
    fc.assert(
      fc.property(features, (f) => {
        const features = f as PredictionRecord['features'];
        const ok = packsExactly(layout, features);
        const bytes = packer.pack(layout, rec(features));
        const text = packedJson(layout, bytes);
        if (ok) {
          exact++;
          expect(text).toBe(JSON.stringify(features));
          // the object without the text (the PostgreSQL store's rows without JSON): what parsing the JSON gives
          expect(packedFeatures(layout, bytes)).toStrictEqual(JSON.parse(text));
        }
        // exact means: the layout's own features in its order, numbers or null, well-formed strings or null
        const keys = Object.keys(features);
        const expected =
          keys.join() === 'amount,country,age,device' &&
          [features.amount, features.age].every((v) => v === null || typeof v === 'number') &&
          [features.country, features.device].every((v) => v === null || (typeof v === 'string' && v.isWellFormed()));
        expect(ok).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
    expect(exact).toBeGreaterThan(100);
    // a feature named __proto__ (an own property, as ingestion stores it) and numeric-looking names
    const odd = packLayout([
      { name: '__proto__', type: 'numeric' },
      { name: 'a"b', type: 'categorical' },
    ]);
    const f: Record<string, number | string> = {};
    Object.defineProperty(f, '__proto__', { value: 2.5, enumerable: true, writable: true, configurable: true });
    f['a"b'] = 'x\ny';
    expect(packsExactly(odd, f)).toBe(true);
    expect(packedJson(odd, packer.pack(odd, rec(f)))).toBe(JSON.stringify(f));
    expect(packedFeatures(odd, packer.pack(odd, rec(f)))).toStrictEqual(JSON.parse(JSON.stringify(f)));
    expect(Object.keys(packedFeatures(odd, packer.pack(odd, rec(f))))).toEqual(['__proto__', 'a"b']);
    // JSON.stringify writes integer-like names first: not the layout's order, so not exact
    const ints = packLayout([
      { name: 'b', type: 'numeric' },
      { name: '1', type: 'numeric' },
    ]);
    expect(packsExactly(ints, { b: 1, 1: 2 })).toBe(false);
  });
});
