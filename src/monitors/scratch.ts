import { pagedBuffer } from './columns.js';

const ALIGN = 8;
const MIN_BLOCK = 1 << 20;

/**
 * The typed arrays of one model-window computation (its rows, the rows per version, labelled rows,
 * gathered columns), taken from one block that is reused from window to window instead of being
 * allocated per call. At the cycle bench's load those allocations were ~55 MB per cycle: garbage
 * that kept RSS tens of MB above its settled size after each cycle and left holes in the C heap.
 *
 * `release()` gives everything back at once, after a window's monitors are done: a view taken
 * before must not be read after it. A request that does not fit gets an ordinary array, and the
 * next round's block is made large enough for the whole round. `drop()` (end of the cycle) lets
 * the block go: between cycles it holds nothing. The block is paged memory (columns.ts), so
 * neither it nor its release touches the C heap. One Scratch serves one computation at a time.
 */
export class Scratch {
  private block: SharedArrayBuffer | ArrayBuffer | null = null;
  private used = 0;
  /** bytes asked for this round */
  private asked = 0;
  /** the largest round so far: the next block's size */
  private size: number;

  /** @param size the first block's size in bytes (e.g. the last cycle's `blockBytes`) */
  constructor(size: number = MIN_BLOCK) {
    this.size = Math.max(MIN_BLOCK, Math.ceil(size / MIN_BLOCK) * MIN_BLOCK);
  }

  /** `n` float64 zeros. */
  f64(n: number): Float64Array {
    const at = this.take(n * Float64Array.BYTES_PER_ELEMENT);
    return at < 0 ? new Float64Array(n) : new Float64Array(this.block as ArrayBufferLike, at, n).fill(0);
  }

  /** `n` int32 zeros. */
  i32(n: number): Int32Array {
    const at = this.take(n * Int32Array.BYTES_PER_ELEMENT);
    return at < 0 ? new Int32Array(n) : new Int32Array(this.block as ArrayBufferLike, at, n).fill(0);
  }

  /** Offset of `bytes` in the block, or -1 when they do not fit (an ordinary array then). */
  private take(bytes: number): number {
    const need = Math.ceil(bytes / ALIGN) * ALIGN;
    this.asked += need;
    if (this.block === null) this.block = pagedBuffer(this.size, true);
    if (this.used + need > this.block.byteLength) return -1;
    const at = this.used;
    this.used += need;
    return at;
  }

  /** Everything taken since the last release is free again (views of it must no longer be read). */
  release(): void {
    if (this.asked > this.size) {
      this.size = Math.ceil(this.asked / MIN_BLOCK) * MIN_BLOCK;
      this.block = null; // the next round takes a block that fits it
    }
    this.used = 0;
    this.asked = 0;
  }

  /** Releases, and lets the block go until the next take (between cycles). */
  drop(): void {
    this.release();
    this.block = null;
  }

  /** Bytes of the block the next round starts with. */
  get blockBytes(): number {
    return this.size;
  }
}
