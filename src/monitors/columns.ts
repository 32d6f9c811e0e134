/**
 * Memory for the daemon's large numeric arrays (hot-window columns, baseline reference values):
 * SharedArrayBuffers created with a `maxByteLength` (growable), which V8 maps from the operating
 * system page by page instead of taking them from malloc.
 *
 * Why: the process holds hundreds of MB of such arrays. Taken from malloc, a column that grows
 * (a new, larger copy; the old one freed at the next GC) or a reference read through a transient
 * driver buffer leaves holes in the C heap that the allocator keeps resident — measured at tens of
 * MB of RSS at the cycle bench's load. A paged buffer goes back to the system as a whole when it is
 * collected, and a window column grows IN PLACE within its reservation (address space only, no
 * memory: 4x its size, at least 1 MiB), so ingestion no longer copies columns at all.
 *
 * When the engine refuses a reservation (address-space limits), plain buffers are used, as before.
 */

type Column = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

interface ResizableBuffer {
  readonly byteLength: number;
  readonly maxByteLength?: number;
  readonly growable?: boolean;
  grow?(bytes: number): void;
}

/** The largest maxByteLength V8 accepts (Node 20: 2^32). */
const MAX_RESERVE = 2 ** 32;
const MIN_RESERVE = 2 ** 20;

const hasShared = typeof SharedArrayBuffer !== 'undefined';

/** A buffer of `bytes` (zeroed) that may grow in place to `maxBytes`: paged, not malloc'd (see above). */
export function pagedBuffer(bytes: number, shared: boolean, maxBytes: number = bytes): ArrayBuffer | SharedArrayBuffer {
  const max = Math.min(MAX_RESERVE, Math.max(bytes, maxBytes));
  const Ctor = (shared && hasShared ? SharedArrayBuffer : ArrayBuffer) as unknown as new (bytes: number, options?: { maxByteLength: number }) => ArrayBuffer | SharedArrayBuffer;
  if (bytes <= max) {
    try {
      return new Ctor(bytes, { maxByteLength: max });
    } catch {
      // reservation refused: a plain buffer below
    }
  }
  return new Ctor(bytes);
}

/**
 * Float64 values on shared, paged memory (the drift worker reads them without a copy). A view of
 * fixed length: a length-tracking one (no length given) is compiled as variable-length, which cost
 * the cycle bench ~30 % in the reference lookups.
 */
export const pagedF64 = (length: number): Float64Array => new Float64Array(pagedBuffer(length * Float64Array.BYTES_PER_ELEMENT, true), 0, length);

const isSharedBuffer = (b: ArrayBufferLike): boolean => hasShared && b instanceof SharedArrayBuffer;

/**
 * `a` with room for `n` elements (n ≥ a.length): the same memory grown in place when its buffer
 * can, else a copy on a new growable SharedArrayBuffer that can grow 4x in place. Always shared,
 * also for columns no other thread reads: V8 (Node 20) compiles fixed-length views on a growable
 * SharedArrayBuffer like plain typed arrays, while views on a resizable ArrayBuffer are bounds-checked
 * on every access (4x slower in a summing loop). Elements from a.length on are `fill` (default 0).
 * `a` itself stays valid: a computation that holds it keeps reading the same values.
 */
export function growColumn<T extends Column>(a: T, n: number, fill?: number): T {
  const Ctor = a.constructor as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T;
  const bytes = n * a.BYTES_PER_ELEMENT;
  const buf = a.buffer as unknown as ResizableBuffer;
  let b: T;
  if (a.byteOffset === 0 && isSharedBuffer(a.buffer) && buf.growable === true && bytes <= (buf.maxByteLength ?? 0)) {
    if (buf.byteLength < bytes) buf.grow?.(bytes);
    b = new Ctor(a.buffer, 0, n);
  } else {
    b = new Ctor(pagedBuffer(bytes, true, Math.max(MIN_RESERVE, bytes * 4)), 0, n);
    b.set(a);
  }
  if (fill !== undefined && fill !== 0) b.fill(fill, a.length);
  return b;
}
