/**
 * A baseline's reference values as PostgreSQL keeps them: little-endian float64 bytes in a bytea,
 * checked before they are stored, read back a chunk at a time into memory the store reuses.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a reference read per row: 4,096 values (32 KB; 64 KB of hex on the wire), so each piece dies young. */
export const REFERENCE_CHUNK_BYTES = 32_768;

/** Float64 values as little-endian bytes (on little-endian hosts a view of the same memory, no copy). */
export function leBytes(a: Float64Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const out = Buffer.alloc(a.byteLength);
  for (let i = 0; i < a.length; i++) out.writeDoubleLE(a[i] as number, i * 8);
  return out;
}

/** Reused memory for the values of one reference at a time, grown as needed. */
export class ReferenceScratch {
  private values = new Float64Array(0);

  /**
   * The values of `bytes` bytes given in `chunks` (in order), decoded into the scratch: a view
   * valid until the next call, or null when the chunks do not make exactly that many whole
   * float64 values.
   */
  decode(bytes: number, chunks: readonly Uint8Array[]): Float64Array | null {
    if (bytes <= 0 || bytes % 8 !== 0) return null;
    const n = bytes / 8;
    if (this.values.length < n) this.values = new Float64Array(2 ** Math.ceil(Math.log2(Math.max(n, 4096))));
    const out = this.values.subarray(0, n);
    const target = new Uint8Array(out.buffer, out.byteOffset, bytes);
    let at = 0;
    for (const c of chunks) {
      if (at + c.length > bytes) return null;
      target.set(c, at);
      at += c.length;
    }
    if (at !== bytes) return null;
    if (!LITTLE_ENDIAN) {
      const view = new DataView(out.buffer, out.byteOffset, bytes);
      out.set(Float64Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true)));
    }
    return out;
  }
}
