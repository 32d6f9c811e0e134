import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'never.db');
const config = join(dir, 'vigil.yaml');
writeFileSync(config, `server:\n  port: 0\nstorage:\n  path: ${db}\nmodels:\n  - { name: m, task: binary }\n`);

const run = async (argv: string[], env: Record<string, string> = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) }, env);
  return { code, out: out.join(''), err: err.join('') };
};

const COMMANDS = ['serve', 'check-config', 'drift', 'baseline', 'slo', 'simulate', 'demo-registry', 'version'];

describe('vigil --help', () => {
  it('the top level lists every command, exit 0 (and exit 2 with no command at all)', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.out).toContain(`  ${c} `);
    }
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('Usage: vigil <command>');
  });

  it.each(COMMANDS)('%s answers --help, -h and "vigil help %s" with its usage, exit 0, and starts nothing', async (command) => {
    const outs: string[] = [];
    for (const argv of [[command, '--help'], [command, '-h'], ['help', command], [command, '--config', join(dir, 'missing.yaml'), '--help']]) {
      const r = await run(argv);
      expect(r, argv.join(' ')).toMatchObject({ code: 0, err: '' });
      expect(r.out).toMatch(new RegExp(`^Usage: vigil ${command}\\b`));
      expect(r.out).toContain('--help');
      outs.push(r.out);
    }
    expect(new Set(outs).size).toBe(1);
    expect(existsSync(db)).toBe(false);
  });

  it('names every flag of a command in its usage', async () => {
    const r = await run(['baseline', '--help']);
    for (const f of ['--config', '--model', '--version', '--from', '--replace', '--allow-bad-lines']) expect(r.out).toContain(f);
    expect((await run(['serve', '--help'])).out).toMatch(/--drift-after DURATION[\s\S]*--sim-rate N/);
  });
});

describe('bad command lines: exit 2 with a message naming the flag, before anything starts', () => {
  const cases: [string[], string][] = [
    [['serve', '--config', config, '--simulate', '--drift-after', 'soon'], 'vigil serve: --drift-after: "soon" is not a duration (use e.g. 30s, 2m, 1h30m)'],
    [['serve', '--config', config, '--simulate', '--sim-rate', 'abc'], 'vigil serve: --sim-rate: "abc" is not a number'],
    [['serve', '--config', config, '--simulate', '--sim-rate', '0'], 'vigil serve: --sim-rate: must be greater than 0 (got 0)'],
    [['serve', '--config', config, '--simulate', '--sim-rate', 'Infinity'], 'vigil serve: --sim-rate: "Infinity" is not a number'],
    [['serve', '--config', config, '--drift-after', '1m'], 'vigil serve: --drift-after applies only with --simulate'],
    [['serve', '--confg', config], 'vigil serve: unknown option --confg; did you mean --config?'],
    [['serve', '--config'], 'vigil serve: --config needs a value'],
    [['serve', '--config', join(dir, 'nope.yaml')], `vigil serve: --config: no such file: ${join(dir, 'nope.yaml')}`],
    [['serve', '--config', dir], `vigil serve: --config: not a file: ${dir}`],
    [['serve', '--simulate=yes', '--config', config], 'vigil serve: --simulate is a switch and takes no value'],
    [['serve', 'now'], 'vigil serve: unexpected argument "now" (flags start with --)'],
    [['simulate', '--url', 'notaurl'], 'vigil simulate: --url: "notaurl" is not a URL (use e.g. http://127.0.0.1:9470)'],
    [['simulate', '--url', 'ftp://127.0.0.1/'], 'vigil simulate: --url: "ftp://127.0.0.1/" must be an http:// or https:// URL'],
    [['simulate'], 'vigil simulate: --url is required'],
    [['simulate', '--url', 'http://127.0.0.1:1', '--rate', '-1'], 'vigil simulate: --rate: "-1" looks like a flag; to give it as the value, write --rate=-1'],
    [['simulate', '--url', 'http://127.0.0.1:1', '--rate=-1'], 'vigil simulate: --rate: must be greater than 0 (got -1)'],
    [['simulate', '--url', 'http://127.0.0.1:1', '--duration', '0s'], 'vigil simulate: --duration: must be longer than 0s'],
    [['simulate', '--url', 'http://127.0.0.1:1', '--registry-url', 'mlflow:5000'], 'vigil simulate: --registry-url: "mlflow:5000" must be an http:// or https:// URL'],
    [['demo-registry', '--port', '70000'], 'vigil demo-registry: --port: "70000" is not a port number (0-65535)'],
    [['demo-registry', '--port', 'http'], 'vigil demo-registry: --port: "http" is not a port number (0-65535)'],
    [['baseline', '--model', 'm', '--version', 'v'], 'vigil baseline: --from is required'],
    [['baseline', '--model', 'm', '--version', '', '--from', config], 'vigil baseline: --version: must not be empty'],
    [['baseline', '--model', 'm', '--version', 'v', '--from', join(dir, 'train.csv')], `vigil baseline: --from: no such file: ${join(dir, 'train.csv')}`],
    [['check-config'], 'vigil check-config: expected FILE…'],
    [['version', '--short'], 'vigil version: unknown option --short'],
  ];
  it.each(cases)('%j', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`${message}\nRun "vigil ${argv[0]} --help" for its options.\n`);
    expect(existsSync(db)).toBe(false);
  });

  it('checks VIGIL_REGISTRY_URL like the flag it stands for', async () => {
    const r = await run(['simulate', '--url', 'http://127.0.0.1:1', '--config', config], { VIGIL_REGISTRY_URL: 'localhost' });
    expect(r).toMatchObject({ code: 2, err: 'vigil simulate: environment variable VIGIL_REGISTRY_URL: "localhost" is not a URL (use e.g. http://127.0.0.1:9470)\n' });
    const s = await run(['serve', '--config', config, '--simulate'], { VIGIL_REGISTRY_URL: 'ftp://x/' });
    expect(s).toMatchObject({ code: 2, err: expect.stringContaining('VIGIL_REGISTRY_URL: "ftp://x/" must be an http:// or https:// URL') });
    expect(existsSync(db)).toBe(false);
  });

  it('an unknown command suggests the nearest one', async () => {
    const r = await run(['chek-config', config]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^vigil: unknown command "chek-config"; did you mean "check-config"\?/);
    expect((await run(['help', 'servr'])).err).toContain('did you mean "serve"?');
  });

  it('a configuration with problems is exit 2 with every problem, before anything starts', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `storage:\n  path: ${db}\nmodels:\n  - { name: m, task: binary }\n  - { name: m, task: binary }\nrule_files: [nothing-here/*.yml]\n`);
    for (const argv of [['serve', '--config', bad], ['check-config', bad], ['baseline', '--config', bad, '--model', 'm', '--version', 'v', '--from', bad]]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(`${bad}:5:13: models[1].name: duplicate model name "m" (first at models[0]) (VIGIL_ERR_CONFIG_DUPLICATE)`);
      // rule files matter where rules are loaded (serve, check-config), not to `vigil baseline`
      const noMatch = `${bad}:6:14: rule_files[0]: no file matches "nothing-here/*.yml" (looked in ${dir}) (VIGIL_ERR_CONFIG_NO_MATCH)`;
      if (argv[0] === 'baseline') expect(r.err).not.toContain(noMatch);
      else expect(r.err).toContain(noMatch);
    }
    expect(existsSync(db)).toBe(false);
  });

  it('version prints the version', async () => {
    const r = await run(['version']);
    expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/^vigil \d+\.\d+\.\d+/) });
    expect((await run(['--version'])).out).toBe(r.out);
  });
});

describe('vigil slo rules', () => {
  it('prints the burn-rate rules of the configuration (the embedded demo by default); a bad subcommand or config exits 2', async () => {
    const demo = await run(['slo', 'rules']);
    expect(demo.code).toBe(0);
    expect(demo.out).toContain('- name: vigil-slo-fraud-detector-availability');
    expect(demo.out).toContain('alert: MLSLOErrorBudgetBurn');
    const none = await run(['slo', 'rules', '--config', config]);
    expect(none).toMatchObject({ code: 0, out: expect.stringContaining('groups: []') });
    expect(none.err).toContain('no slos: section');
    expect((await run(['slo', 'check'])).code).toBe(2);
    const bad = join(dir, 'bad-slo.yaml');
    writeFileSync(bad, 'models: []\nslos:\n  - { name: a, model: nope, objective: 99, sli: { type: errors } }\n');
    const r = await run(['slo', 'rules', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('slos[0].model');
  });
});
