/**
 * A bounded FIFO: pushing onto a full queue drops (and returns) the oldest item, as Prometheus'
 * notifier queue does — the newest state of the world is what matters to an on-call engineer.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  #items: T[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Appends; returns the items dropped to make room (oldest first). */
  push(...items: T[]): T[] {
    this.#items.push(...items);
    const over = this.#items.length - this.capacity;
    return over > 0 ? this.#items.splice(0, over) : [];
  }

  shift(): T | undefined {
    return this.#items.shift();
  }

  /** Takes up to `n` items from the head. */
  take(n: number): T[] {
    return this.#items.splice(0, n);
  }

  /** Puts items back at the head (after a failed batch), dropping the oldest beyond capacity. */
  unshift(...items: T[]): T[] {
    this.#items.unshift(...items);
    const over = this.#items.length - this.capacity;
    return over > 0 ? this.#items.splice(0, over) : [];
  }

  clear(): T[] {
    return this.#items.splice(0);
  }

  toArray(): readonly T[] {
    return [...this.#items];
  }
}
