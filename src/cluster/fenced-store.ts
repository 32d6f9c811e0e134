/**
 * The store as the leader's remediation writes to it: every incident and action record carries
 * the leader's fence (src/cluster/leader.ts), so a former leader's late write — an action that
 * finishes after its process was paused past its lease — is refused by a shared store
 * (VIGIL_ERR_STORE_FENCED) instead of recording a second outcome.
 */
import type { Fence, Store } from '../store/store.js';

export function fencedStore(store: Store, fence: () => Fence | undefined): Store {
  const withFence = <T extends object>(o: T | undefined): T & { fence?: Fence } => {
    const f = fence();
    return f === undefined ? { ...(o ?? ({} as T)) } : { ...(o ?? ({} as T)), fence: f };
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'saveAction') return (a: Parameters<Store['saveAction']>[0], o?: { fence?: Fence }) => target.saveAction(a, withFence(o));
      if (prop === 'saveIncident') return (i: Parameters<Store['saveIncident']>[0], o?: { fence?: Fence }) => target.saveIncident(i, withFence(o));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
