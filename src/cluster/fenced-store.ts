/**
 * The store as the leader's remediation writes to it: every incident, action and circuit record
 * carries the leader's fence (src/cluster/leader.ts), so a former leader's late write — an action
 * that finishes after its process was paused past its lease, a breaker it opens — is refused by a
 * shared store (VIGIL_ERR_STORE_FENCED) instead of recording a second outcome.
 *
 * An operator's writes (an acknowledgement, an approval, a circuit forced open or closed) are not
 * the leader's: they are taken by whichever replica the request reached, leader or not, and go
 * through `unfenced(store)`.
 */
import type { Fence, Store } from '../store/store.js';

const UNFENCED = Symbol('unfenced store');

/** The store under a fenced one (for an operator's writes), or the store itself. */
export const unfenced = (store: Store): Store => (store as Store & { [UNFENCED]?: Store })[UNFENCED] ?? store;

export function fencedStore(store: Store, fence: () => Fence | undefined): Store {
  const withFence = <T extends object>(o: T | undefined): T & { fence?: Fence } => {
    const f = fence();
    return f === undefined ? { ...(o ?? ({} as T)) } : { ...(o ?? ({} as T)), fence: f };
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'saveAction') return (a: Parameters<Store['saveAction']>[0], o?: { fence?: Fence }) => target.saveAction(a, withFence(o));
      if (prop === 'saveIncident') return (i: Parameters<Store['saveIncident']>[0], o?: { fence?: Fence }) => target.saveIncident(i, withFence(o));
      if (prop === 'saveCircuit') return (c: Parameters<Store['saveCircuit']>[0], o?: { fence?: Fence }) => target.saveCircuit(c, withFence(o));
      if (prop === UNFENCED) return target;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
