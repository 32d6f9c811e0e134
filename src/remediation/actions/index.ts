import type { ActionType, RemediationAction } from '../action.js';
import { createCircuitBreakerAction, type CircuitBreakers } from '../circuit.js';
import type { ActionConfig } from '../config.js';
import type { KnownGoodVersions } from '../known-good.js';
import { createExecAction } from './exec.js';
import { createFeastMaterialize } from './feast-materialize.js';
import { createMlflowRollback } from './mlflow-rollback.js';
import { createWebhookAction } from './webhook.js';

/** What the action kinds need from the daemon. */
export interface ActionDeps {
  circuits: CircuitBreakers;
  knownGood: KnownGoodVersions;
  /** feature view → seconds since its last update */
  freshness: () => ReadonlyMap<string, number>;
}

type Factory<T extends ActionType> = (cfg: Extract<ActionConfig, { type: T }>, deps: ActionDeps) => RemediationAction;

/** One factory per action kind: a kind without one is a compile error. */
const FACTORIES: { [T in ActionType]: Factory<T> } = {
  mlflow_rollback: (cfg, deps) => createMlflowRollback(cfg, { knownGood: deps.knownGood }),
  circuit_breaker: (_cfg, deps) => createCircuitBreakerAction(deps.circuits),
  feast_materialize: (cfg, deps) => createFeastMaterialize(cfg, { freshness: deps.freshness }),
  webhook: (cfg) => createWebhookAction(cfg),
  exec: (cfg) => createExecAction(cfg),
};

/** The configured actions by name. */
export function createActions(configs: Readonly<Record<string, ActionConfig>>, deps: ActionDeps): Map<string, RemediationAction> {
  const out = new Map<string, RemediationAction>();
  for (const [name, cfg] of Object.entries(configs)) out.set(name, (FACTORIES[cfg.type] as Factory<typeof cfg.type>)(cfg as never, deps));
  return out;
}
