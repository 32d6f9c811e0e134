import type { Store } from '../src/store/store.js';

/**
 * A real store whose `method` rejects with `message` while `failing()` says so (a disk error, a
 * busy database): every other call goes to the real store.
 */
export function failingStore(real: Store, method: keyof Store, message: string, failing: () => boolean): Store {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === method && failing()) return async () => Promise.reject(new Error(message));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
