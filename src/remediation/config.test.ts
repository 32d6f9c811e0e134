import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../config/load.js';

const load = (remediation: string) => parseConfigText(`models: [{ name: fraud, task: binary }]\nremediation:\n${remediation}`, 'vigil.yaml', {});

function issues(remediation: string): string[] {
  try {
    load(remediation);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('remediation configuration', () => {
  it('applies the defaults of each action kind', () => {
    const r = load(`
  actions:
    rollback: { type: mlflow_rollback, url: 'http://mlflow:5000' }
    breaker: { type: circuit_breaker }
    hook: { type: webhook, url: 'http://hooks' }
  routes:
    - actions: [breaker, rollback]
`).remediation;
    expect(r.actions.rollback).toMatchObject({ mode: 'alias', alias: 'champion', previous_alias: 'previous-champion', cooldown: 1_800_000, max_runs: 3, timeout: 120_000, retries: 3, dry_run: false, require_approval: false });
    expect(r.actions.breaker).toMatchObject({ cooldown: 0, max_runs: 100, retries: 0 });
    expect(r.actions.hook).toMatchObject({ method: 'POST', cooldown: 600_000 });
    expect(r.routes).toEqual([{ matchers: [], actions: ['breaker', 'rollback'], continue: false }]);
    expect(r.circuit_breaker).toEqual({ probe_period: 600_000, min_open: 60_000 });
  });

  it('reports every problem at its line: unknown actions, programs without allow_exec, feast url xor command, bad templates and matchers', () => {
    expect(
      issues(`
  actions:
    run: { type: exec, command: ['/bin/true', '{{ $labels.model'] }
    feast-both: { type: feast_materialize, url: 'http://feast', command: [feast] }
    feast-none: { type: feast_materialize }
    hook: { type: webhook, url: 'http://hooks', body: { items: ['ok', '{{ if }}'] } }
  routes:
    - matchers: ['model=~"("']
      actions: [run, nope]
`),
    ).toEqual([
      '5:18 remediation.actions.run.type: runs a program: set remediation.allow_exec: true to allow it',
      '5:47 remediation.actions.run.command[1]: not a valid template: template: template:1: unclosed action',
      '6:49 remediation.actions.feast-both.url: give either url (the feature server) or command (the feast CLI), exactly one',
      '6:74 remediation.actions.feast-both.command: runs a program: set remediation.allow_exec: true to allow it',
      '7:17 remediation.actions.feast-none.url: give either url (the feature server) or command (the feast CLI), exactly one',
      '8:71 remediation.actions.hook.body.items[1]: not a valid template: template: template:1: missing value for if',
      expect.stringMatching(/^10:18 remediation\.routes\[0\]\.matchers\[0\]: invalid regular expression in matcher model=~"\("/),
      '11:22 remediation.routes[0].actions[1]: unknown action "nope" (define it under remediation.actions)',
    ]);
    expect(issues(`\n  allow_exec: true\n  actions:\n    run: { type: exec, command: ['/usr/bin/env'] }\n`)).toEqual([]);
  });
});
