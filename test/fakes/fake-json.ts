import { newFakeState, startFake, type FakeReply, type FakeServer, type FakeState } from '../../src/sim/fake-http.js';

/** A generic JSON endpoint: `routes` maps a path to the reply (faults come first). */
export interface FakeJsonState extends FakeState {
  routes: Map<string, FakeReply>;
}

export type FakeJson = FakeServer<FakeJsonState>;

export async function startFakeJson(port = 0): Promise<FakeJson> {
  const state: FakeJsonState = { ...newFakeState(), routes: new Map() };
  return startFake(state, (req) => state.routes.get(req.path) ?? { status: 404, body: { error: `no route ${req.path}` } }, port);
}
