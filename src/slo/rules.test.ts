import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRuleFile } from '../alerting/rules/index.js';
import { AlertingService } from '../alerting/service.js';
import { parseConfigText } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import type { Sample } from '../metrics/snapshot.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { debianTool } from '../../test/debian.js';
import { SLO_ALERT_NAME, sloRulesYaml } from './rules.js';

const promtool = debianTool('promtool', 'prometheus');
const config = parseConfigText(
  `models:
  - { name: fraud, task: binary, positive_class: 1, features: [{ name: x, type: numeric }] }
alerting: { bundled_rules: false }
slos:
  - name: availability
    model: fraud
    objective: 99
    sli: { type: errors }
    alerts: { labels: { team: risk } }
  - { name: quiet, model: fraud, objective: 99.9, sli: { type: errors }, alerts: { enabled: false } }
`,
  'vigil.yaml',
  {},
);
const dir = mkdtempSync(join(tmpdir(), 'vigil-slo-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// error ratios per window over 10 minutes (budget 1%): the 5m ratio burns at 20×; the 1h one at 20×
// for 5 minutes, then 0.1×; 2h and 1d at 5× (ticket: > 3×); the rest low.
const STEPS = 11;
const RATIOS: Record<string, (i: number) => number> = {
  '5m': () => 0.2,
  '30m': () => 0.001,
  '1h': (i) => (i < 5 ? 0.2 : 0.001),
  '2h': () => 0.05,
  '6h': () => 0.001,
  '1d': () => 0.05,
  '3d': () => 0.005,
};
const labels = (w: string) => ({ sloth_id: 'fraud-availability', sloth_service: 'fraud', sloth_slo: 'availability', sloth_window: w });
const samplesAt = (i: number): Sample[] => Object.entries(RATIOS).map(([w, f]) => ({ name: `slo:sli_error:ratio_rate${w}`, labels: labels(w), value: f(i) }));

describe('the SLO burn-rate rules', () => {
  it('are one group per SLO with alerts, page and ticket, that Vigil loads', () => {
    const text = sloRulesYaml(config.slos);
    const doc = parse(text) as { groups: Array<{ name: string; rules: Array<{ alert: string; labels: Record<string, string> }> }> };
    expect(doc.groups.map((g) => g.name)).toEqual(['vigil-slo-fraud-availability']);
    expect(doc.groups[0]!.rules.map((r) => [r.alert, r.labels.sloth_severity, r.labels.severity, r.labels.team])).toEqual([
      [SLO_ALERT_NAME, 'page', 'critical', 'risk'],
      [SLO_ALERT_NAME, 'ticket', 'warning', 'risk'],
    ]);
    expect(text).toContain('(slo:sli_error:ratio_rate5m{sloth_id="fraud-availability", sloth_service="fraud", sloth_slo="availability"} > (14.4 * 0.010000000000000009))');
    expect(parseRuleFile(text, 'slo.rules.yml', { defaultIntervalMs: 60_000 }).errors).toEqual([]);
  });

  it.runIf(promtool.available)('pass promtool check rules', () => {
    writeFileSync(join(dir, 'slo.rules.yml'), sloRulesYaml(config.slos));
    expect(execFileSync('promtool', ['check', 'rules', 'slo.rules.yml'], { cwd: dir, encoding: 'utf8' })).toContain('SUCCESS: 2 rules found');
  });

  it('fire in Vigil as the multiwindow policy says, and promtool test rules finds the same alerts', async () => {
    const { groups } = parseRuleFile(sloRulesYaml(config.slos), join(dir, 'slo.rules.yml'), { defaultIntervalMs: 60_000 });
    const store = new SqliteStore({ path: ':memory:', now: 0 });
    const service = new AlertingService({ store, logger: createLogger({ level: 'silent' }), config: () => config });
    await service.start(groups, 0);
    const tests: string[] = [];
    const fired: string[] = [];
    for (let i = 0; i < STEPS; i++) {
      await service.evaluate(samplesAt(i), i * 60_000);
      const firing = service.activeAlerts().filter((a) => a.alert.state === 'firing');
      fired.push(firing.map((a) => a.alert.labels.sloth_severity).sort().join('+'));
      const exp = firing
        .map((a) => {
          const { alertname: _, ...l } = a.alert.labels;
          const lines = (m: Record<string, string>) =>
            Object.keys(m)
              .sort()
              .map((k) => `              ${k}: ${JSON.stringify(m[k])}`)
              .join('\n');
          return `          - exp_labels:\n${lines(l)}\n            exp_annotations:\n${lines(a.alert.annotations)}`;
        })
        .join('\n');
      tests.push(`      - eval_time: ${i}m\n        alertname: ${SLO_ALERT_NAME}\n        exp_alerts:${firing.length === 0 ? ' []' : `\n${exp}`}`);
    }
    // page while both its 5m and 1h windows burn at > 14.4×; the ticket throughout (2h and 1d at 5×)
    expect(fired).toEqual([...Array(5).fill('page+ticket'), ...Array(6).fill('ticket')]);
    await store.close();
    if (!promtool.available) return;
    writeFileSync(join(dir, 'slo.rules.yml'), sloRulesYaml(config.slos));
    const file = [
      'rule_files: [slo.rules.yml]',
      'evaluation_interval: 1m',
      'tests:',
      '  - interval: 1m',
      '    external_url: ""',
      '    input_series:',
      ...Object.entries(RATIOS).map(([w, f]) => {
        const l = labels(w);
        const sel = Object.keys(l)
          .sort()
          .map((k) => `${k}="${l[k as keyof typeof l]}"`)
          .join(', ');
        return `      - series: 'slo:sli_error:ratio_rate${w}{${sel}}'\n        values: '${Array.from({ length: STEPS }, (_, i) => f(i)).join(' ')}'`;
      }),
      '    alert_rule_test:',
      ...tests,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'slo.test.yml'), file);
    try {
      expect(execFileSync('promtool', ['test', 'rules', 'slo.test.yml'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' })).toContain('SUCCESS');
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`promtool disagrees:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
  });
});
