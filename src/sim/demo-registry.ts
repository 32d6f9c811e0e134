import type { Logger } from '../core/logger.js';
import { startFakeMlflow, type FakeMlflow } from './fake-mlflow.js';

/**
 * The DEMO model registry: an in-memory FAKE of the MLflow Model Registry REST API (the same
 * fake the tests use, src/sim/fake-mlflow.ts), so the demo can show a real rollback over HTTP
 * without an MLflow server. Each demo model has version 1 (the previous champion) and version 2
 * (just deployed): aliases `champion` → 2 and `previous-champion` → 1. Nothing is persisted.
 * Never point production remediation at it.
 */
export const DEMO_REGISTRY_PORT = 9471;

export async function startDemoRegistry(opts: { models: readonly string[]; port?: number; host?: string; logger?: Logger }): Promise<FakeMlflow> {
  const registry = await startFakeMlflow(opts.port ?? DEMO_REGISTRY_PORT, opts.host ?? '127.0.0.1');
  for (const name of opts.models) {
    registry.addModel(name, { description: 'Vigil demo model (fake registry)', tags: { 'vigil.demo': 'true' } });
    registry.addVersion(name, { description: 'previous champion', tags: { 'vigil.demo': 'true' } });
    registry.addVersion(name, { description: 'just deployed', tags: { 'vigil.demo': 'true' } });
    const m = registry.state.models.get(name);
    if (m !== undefined) Object.assign(m.aliases, { champion: '2', 'previous-champion': '1' });
  }
  opts.logger?.info({ url: registry.url, models: opts.models }, 'demo model registry (a fake MLflow, in memory) started');
  return registry;
}
