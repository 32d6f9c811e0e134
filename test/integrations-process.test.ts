import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOtlp, type FakeOtlp } from './fakes/fake-otlp.js';
import { startServe, waitFor, type RunningVigil } from './processes.js';

/**
 * Issue 17's integrations through a real `vigil serve` process: a KServe InferenceService's logger
 * posting its request and response CloudEvents (binary mode, KServe's headers and sample bodies:
 * kserve/kserve docs/samples/logger/basic/README.md) in two requests, joined into predictions; the
 * process's spans exported to an OTLP receiver, the caller's traceparent kept with a prediction
 * and shown as an exemplar in the OpenMetrics exposition.
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);

let vigil: RunningVigil | undefined;
let otlp: FakeOtlp | undefined;
const dirs: string[] = [];
afterEach(async () => {
  if (vigil !== undefined && vigil.child.exitCode === null) {
    vigil.child.kill('SIGTERM');
    await vigil.exited;
  }
  await otlp?.close();
  vigil = otlp = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ID = '0009174a-24a8-4603-b098-09c8799950e9';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const ce = (type: 'request' | 'response', time: string): Record<string, string> => ({
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': ID,
  'ce-type': `org.kubeflow.serving.inference.${type}`,
  'ce-source': 'http://localhost:9081/',
  'ce-time': time,
  'ce-inferenceservicename': 'sklearn-iris',
  'ce-namespace': 'default',
  'ce-component': 'predictor',
  'ce-endpoint': 'default',
});

describe('integrations through a real vigil serve', () => {
  it('a KServe logger\'s request and response events become predictions; spans reach the OTLP receiver; a traceparent is kept and is an exemplar', async () => {
    otlp = await startFakeOtlp();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-integrations-'));
    dirs.push(dir);
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `server:\n  port: 0\nstorage:\n  path: ${join(dir, 'vigil.db')}\nevaluation_interval: 1s\ncompute_workers: 0\ntracing:\n  otlp:\n    endpoint: ${otlp.url}\n` +
        'rule_files: []\nalerting: { bundled_rules: false }\n' +
        'models:\n  - name: iris\n    task: multiclass\n    classes: ["0", "1", "2"]\n    windows: [1h]\n    features:\n' +
        '      - { name: sepal_length, type: numeric }\n      - { name: sepal_width, type: numeric }\n      - { name: petal_length, type: numeric }\n      - { name: petal_width, type: numeric }\n' +
        '    kserve: { inference_service: sklearn-iris }\n',
    );
    vigil = await startServe(MAIN, config, { timeoutMs: 30_000 });
    const url = vigil.url;
    const now = new Date().toISOString();
    // the request event first, then the response: two POSTs, as KServe's logger sends them
    const req = await fetch(`${url}/v1/kserve/events`, { method: 'POST', headers: ce('request', now), body: JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] }) });
    expect(req.status).toBe(202);
    expect(await req.json()).toMatchObject({ accepted_events: 1, joined_predictions: 0, pending: 1 });
    const res = await fetch(`${url}/v1/kserve/events`, { method: 'POST', headers: ce('response', now), body: JSON.stringify({ predictions: [1, 1] }) });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted_events: 1, joined_predictions: 2, stored: 2, pending: 0 });
    const stored = (await (await fetch(`${url}/v1/models/iris/predictions/${ID}%2F0`)).json()) as { prediction: unknown; features: Record<string, number> };
    expect(stored).toMatchObject({ prediction: '1', features: { sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 } });
    // an ordinary ingestion from a traced caller: its trace kept with the prediction, an exemplar on its latency
    const traced = await fetch(`${url}/v1/models/iris/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      body: JSON.stringify([{ id: 'traced', prediction: '2', latency_ms: 7, features: { sepal_length: 5, sepal_width: 3, petal_length: 1, petal_width: 0.2 } }]),
    });
    expect(traced.status).toBe(200);
    expect(((await (await fetch(`${url}/v1/models/iris/predictions/traced`)).json()) as { traceparent: string }).traceparent).toBe(`00-${TRACE}-00f067aa0ba902b7-01`);
    const om = await (await fetch(`${url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    expect(om).toMatch(new RegExp(`^ml_prediction_latency_seconds_bucket\\{[^}]*model="iris"[^}]*\\} \\d+ # \\{[^}]*trace_id="${TRACE}"`, 'm'));
    // the process's spans: its cycles and the traced ingestion, in the caller's trace
    await waitFor('the spans at the receiver', async () => {
      const names = new Set(otlp?.spans.map((s) => s.name));
      return names.has('cycle') && names.has('cycle monitors') && otlp?.spans.some((s) => s.name === 'ingest predictions' && s.traceId === TRACE) ? true : undefined;
    }, 30_000);
    expect(otlp.spans.every((s) => s.resource['service.name'] === 'vigil')).toBe(true);
  });
});
