import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { embeddedConfigPath, loadConfigFile, parseConfigText } from '../config/load.js';
import type { ModelConfig } from '../config/schema.js';
import { createLogger } from '../core/logger.js';
import { testDaemon, type TestDaemon } from '../../test/harness.js';
import { ModelWorld, Simulator } from './simulator.js';

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('the demo simulator', () => {
  it('posts baselines, predictions and delayed labels over HTTP, then injects drift and an accuracy drop', async () => {
    const demo = await loadConfigFile(embeddedConfigPath(), {});
    // the embedded demo models, with 1h windows
    const yaml = `models:\n${demo.config.models
      .map((m) => `  - name: ${m.name}\n    task: ${m.task}\n    ${m.classes ? `classes: [${m.classes.join(', ')}]\n    ` : ''}windows: [1h]\n    min_samples: 50\n    features:\n${m.features.map((f) => `      - { name: ${f.name}, type: ${f.type} }`).join('\n')}`)
      .join('\n')}\n`;
    t = await testDaemon(yaml, { now: Date.now() });
    const url = await t.daemon.app.listen({ host: '127.0.0.1', port: 0 });
    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const clock = { now: () => t!.clock.now() };
    const sim = new Simulator({ url, models: t.daemon.config().models, rate: 100, labelDelayMs: 0, labelShare: 1, driftAfterMs: 3000, seed: 1, tickMs: 1000 }, { logger, clock });
    await sim.postBaselines(2000);
    sim.start();
    sim.stop(); // we tick by hand
    for (let i = 0; i < 3; i++) {
      await sim.tick();
      t.clock.advance(1000);
    }
    await sim.tick(); // labels of the last batch
    await t.daemon.cycle.run();
    const before = t.daemon.snapshot();
    const acc = (s: typeof before) => s.value('ml_model_accuracy', { model: 'fraud-detector', version: 'v1', window: '1h' });
    const accBefore = acc(before) as number;
    expect(accBefore).toBeGreaterThan(0.6);
    expect(sim.sent.failures).toBe(0);

    t.clock.advance(60_000); // past drift_after: only drifted traffic from now on
    for (let i = 0; i < 6; i++) {
      await sim.tick();
      t.clock.advance(1000);
    }
    await sim.tick();
    await t.daemon.cycle.run();
    const after = t.daemon.snapshot();
    expect(acc(after) as number).toBeLessThan(accBefore);
    expect(after.value('ml_features_drifted', { model: 'fraud-detector', window: '1h' }) as number).toBeGreaterThan(0);
    expect(after.value('ml_feature_new_category_ratio', { model: 'churn-risk', feature: 'plan', window: '1h' }) as number).toBeGreaterThan(0.05);
    expect(sim.sent.predictions).toBe(3 * 11 * 100);
  });

  it('posts its baselines again on a second run (npm start twice on the same store): each version is replaced, none fails', async () => {
    const demo = await loadConfigFile(embeddedConfigPath(), {});
    const yaml = `models:\n${demo.config.models
      .map((m) => `  - name: ${m.name}\n    task: ${m.task}\n    ${m.classes ? `classes: [${m.classes.join(', ')}]\n    ` : ''}windows: [1h]\n    features:\n${m.features.map((f) => `      - { name: ${f.name}, type: ${f.type} }`).join('\n')}`)
      .join('\n')}\n`;
    t = await testDaemon(yaml, { now: Date.now() });
    const url = await t.daemon.app.listen({ host: '127.0.0.1', port: 0 });
    const warnings: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, cb) => void (warnings.push(String(c)), cb()) }) });
    const list = async () =>
      Promise.all(demo.config.models.map(async (m) => (await t!.daemon.app.inject({ url: `/v1/models/${m.name}/baselines` })).json().baselines as { id: number; version: string; quality: Record<string, number> }[]));
    const sim = () => new Simulator({ url, models: t!.daemon.config().models, rate: 10, labelDelayMs: 0, labelShare: 1, driftAfterMs: 60_000, seed: 1, tickMs: 1000 }, { logger, clock: t!.clock });
    await sim().postBaselines(300);
    const first = await list();
    await sim().postBaselines(300);
    const second = await list();
    expect(warnings).toEqual([]);
    first.forEach((b, i) => {
      expect(b.map((x) => x.version)).toEqual(['v1']);
      expect(second[i]?.map((x) => x.version)).toEqual(['v1']);
      expect(second[i]?.[0]?.id).toBeGreaterThan(b[0]?.id as number);
    });
    // the multiclass model's rows carry {class: probability} scores, and its reference quality is there
    const multiclass = demo.config.models.findIndex((m) => m.task === 'multiclass');
    expect(Object.keys(second[multiclass]?.[0]?.quality ?? {})).toContain('accuracy');
  });
});

describe('simulated segments', () => {
  it('a model with segments gets channels at their shares, drawn apart: the rest of its traffic is the same', () => {
    const config = parseConfigText(
      `models:
  - { name: fraud, task: binary, positive_class: 1, features: [{ name: amount, type: numeric }, { name: country, type: categorical }] }
  - { name: fraud-segmented, task: binary, positive_class: 1, segments: { max: 3 }, features: [{ name: amount, type: numeric }, { name: country, type: categorical }] }
`,
      'sim.yaml',
      {},
    );
    const [plain, segmented] = config.models as [ModelConfig, ModelConfig];
    const a = new ModelWorld(plain, 7);
    const b = new ModelWorld({ ...segmented, name: plain.name }, 7);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const x = a.next(i, false);
      const y = b.next(i, false);
      const { segment, ...rest } = y.prediction;
      expect(rest).toEqual(x.prediction);
      expect(y.label).toBe(x.label);
      expect(x.prediction.segment).toBeUndefined();
      counts.set(segment as string, (counts.get(segment as string) ?? 0) + 1);
    }
    const share = (s: string) => (counts.get(s) ?? 0) / 20_000;
    expect([...counts.keys()].sort()).toEqual(['mobile', 'partner', 'pos', 'web']);
    expect(share('web')).toBeCloseTo(0.45, 1);
    expect(share('mobile')).toBeCloseTo(0.3, 1);
    expect(share('pos')).toBeCloseTo(0.2, 1);
    expect(share('partner')).toBeCloseTo(0.05, 1);
  });
});
