import type { Store } from '../src/store/store.js';

/**
 * A real store whose `method` rejects with `message` (or the error it makes) while `failing()`
 * says so (a disk error, a database that does not answer): every other call goes to the real store.
 */
export function failingStore(real: Store, method: keyof Store, message: string | (() => Error), failing: () => boolean): Store {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === method && failing()) return async () => Promise.reject(typeof message === 'string' ? new Error(message) : message());
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
