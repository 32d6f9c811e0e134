import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMlflow, type FakeMlflow } from '../../sim/fake-mlflow.js';
import { startFakePrometheus, vector, type FakePrometheus } from '../../../test/fakes/fake-prometheus.js';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';

let t: TestDaemon | undefined;
let mlflow: FakeMlflow | undefined;
let prom: FakePrometheus | undefined;
afterEach(async () => {
  await t?.close();
  await mlflow?.close();
  await prom?.close();
  t = mlflow = prom = undefined;
});

const QUERY = 'histogram_quantile(0.95, sum by (le, model) (rate(http_request_duration_seconds_bucket[5m])))';

describe('pull sources inside the daemon', () => {
  it('source samples reach the snapshot; a hanging source goes down without breaking the cycle', async () => {
    mlflow = await startFakeMlflow();
    mlflow.addModel('fraud', { aliases: { champion: '2' } });
    mlflow.addVersion('fraud');
    mlflow.addVersion('fraud');
    prom = await startFakePrometheus();
    prom.state.results.set(QUERY, vector([{ model: 'fraud' }, '0.123']));
    t = await testDaemon(`
models:
  - { name: fraud, task: binary, windows: [1h] }
sources:
  - name: registry
    type: mlflow
    url: ${mlflow.url}
    models: [fraud]
  - name: serving
    type: prometheus
    url: ${prom.url}
    timeout: 300ms
    retries: 0
    queries:
      - query: '${QUERY}'
        metric: ml_prediction_latency_p95_seconds
        labels: { version: all, window: 5m }
`);
    await t.daemon.scheduler.trigger('source:registry');
    await t.daemon.scheduler.trigger('source:serving');
    await t.daemon.cycle.run();
    const snap = t.daemon.snapshot();
    expect(snap.value('ml_model_info', { model: 'fraud', version: '2', stage: 'champion' })).toBe(1);
    expect(snap.value('ml_prediction_latency_p95_seconds', { model: 'fraud', version: 'all', window: '5m' })).toBe(0.123);
    let text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('vigil_source_up{source="serving"} 1');

    prom.state.hangAll = true;
    await t.daemon.scheduler.trigger('source:serving');
    const r = await t.daemon.cycle.run();
    expect(r.failed).toEqual([]);
    expect(t.daemon.snapshot().value('ml_prediction_latency_p95_seconds', { model: 'fraud', version: 'all', window: '5m' })).toBeUndefined();
    expect(t.daemon.snapshot().value('ml_model_info', { model: 'fraud', version: '2', stage: 'champion' })).toBe(1);
    text = (await t.daemon.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('vigil_source_up{source="serving"} 0');
    expect(text).toContain('vigil_source_scrape_errors_total{source="serving"} 1');
    prom.state.hangAll = false;
  });

  it('a source naming an unknown model or a metric outside the catalog is a configuration error', async () => {
    const { parseConfigText } = await import('../../config/load.js');
    expect(() =>
      parseConfigText(
        'models:\n  - { name: m, task: binary }\nsources:\n  - { name: s, type: http_json, url: "http://127.0.0.1:1/x", kind: predictions, model: nope }\n',
        'x.yaml',
        {},
      ),
    ).toThrow(/sources\[0\]\.model/);
  });
});
