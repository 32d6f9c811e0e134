import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigFile } from '../src/config/load.js';
import { debianTool } from './debian.js';
import { COMPOSE_FILE, hostPath, interpolateCompose, loadCompose, rewriteAddresses, ROOT, service } from './stack.js';

/**
 * The docker-compose stack without a Docker engine: `docker-compose config` accepts the file,
 * `promtool check config` and `amtool check-config` the configurations it mounts, Vigil's own
 * configuration loads with the stack's environment, and the Dockerfile / .dockerignore agree.
 * test/stack-e2e.test.ts runs the same configurations with the real programs.
 */
const compose = loadCompose();
const dockerCompose = debianTool('docker-compose', 'docker-compose');
const promtool = debianTool('promtool', 'prometheus');
const amtool = debianTool('amtool', 'prometheus-alertmanager');
const dir = mkdtempSync(join(tmpdir(), 'vigil-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flag = (args: readonly string[] | undefined, name: string): string => {
  const a = (args ?? []).find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) throw new Error(`--${name} is missing`);
  return a.slice(name.length + 3);
};

describe.runIf(dockerCompose.available)('docker-compose', () => {
  it('docker-compose config accepts docker-compose.yml', () => {
    const out = execFileSync('docker-compose', ['-f', COMPOSE_FILE, 'config'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const resolved = parse(out) as { services: Record<string, { image?: string; command?: string[] }> };
    expect(Object.keys(resolved.services).sort()).toEqual(['alertmanager', 'grafana', 'mlflow', 'prometheus', 'simulator', 'vigil', 'webhook-sink']);
    expect(resolved.services.simulator?.command).toContain('2m');
  });
});

describe('the compose file', () => {
  it('pins every image to a version and builds Vigil\'s from the Dockerfile', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:(v?\d+\.\d+\.\d+|\$\{VIGIL_IMAGE_TAG:-dev\})$/);
      if (s.image?.startsWith('vigil:')) expect(s.build, name).toEqual({ context: '.' });
    }
  });

  it('gives every long-running service a healthcheck and uses only declared named volumes', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'simulator') {
        expect(s.healthcheck?.disable).toBe(true); // a client: nothing listens
        continue;
      }
      expect(s.healthcheck?.test?.[0], name).toBe('CMD');
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0] as string;
        if (src.startsWith('.')) expect(existsSync(join(ROOT, src)), `${name}: ${src}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name}: ${src}`).toContain(src);
      }
    }
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['alertmanager-data', 'grafana-data', 'prometheus-data', 'vigil-data']);
  });

  it('runs the demo simulator by default against Vigil, and the registry with demo-registry; both Vigil and the simulator use it', () => {
    const sim = service(compose, 'simulator').command ?? [];
    expect(sim.slice(0, 3)).toEqual(['simulate', '--url', 'http://vigil:9470']);
    expect(sim.slice(sim.indexOf('--registry-url'))).toEqual(['--registry-url', 'http://mlflow:5000']);
    expect(service(compose, 'mlflow').command).toEqual(['demo-registry', '--port', '5000', '--address', '0.0.0.0', '--config', '/etc/vigil/vigil.yaml']);
    expect(service(compose, 'vigil').environment?.VIGIL_REGISTRY_URL).toBe('http://mlflow:5000');
  });

  it('Grafana: anonymous viewers, provisioning and dashboards mounted', () => {
    const env = service(compose, 'grafana').environment ?? {};
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    expect(existsSync(hostPath(compose, 'grafana', env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? ''))).toBe(true);
    expect(hostPath(compose, 'grafana', '/etc/grafana/provisioning')).toBe(join(ROOT, 'deploy/grafana/provisioning'));
  });

  it('Vigil\'s compose configuration loads, listening on 0.0.0.0 and sending to the stack\'s Alertmanager', async () => {
    const vigil = service(compose, 'vigil');
    expect(vigil.command?.slice(0, 2)).toEqual(['serve', '--config']);
    const configFile = hostPath(compose, 'vigil', vigil.command?.[2] ?? '');
    const env = Object.fromEntries(Object.entries(vigil.environment ?? {}).map(([k, v]) => [k, interpolateCompose(v, {})]));
    const { config } = await loadConfigFile(configFile, { ...env, VIGIL_DEMO_RULES_DIR: join(ROOT, 'examples'), VIGIL_CONFIG_DIR: hostPath(compose, 'vigil', '/etc/vigil') });
    expect(config.server.address).toBe('0.0.0.0');
    expect(config.server.port).toBe(9470);
    expect(config.storage.path).toBe('/var/lib/vigil/vigil.db');
    expect(config.alertmanagers.map((a) => a.url)).toEqual(['http://alertmanager:9093']);
    expect(config.rule_files).toEqual([join(ROOT, 'examples/demo.rules.yml')]);
    expect(config.models.map((m) => m.name)).toEqual(['fraud-detector', 'churn-risk', 'delivery-eta']);
    // The Prometheus scrape target is this very address.
    const prom = parse(readFileSync(hostPath(compose, 'prometheus', flag(service(compose, 'prometheus').command, 'config.file')), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    expect(prom.scrape_configs.find((s) => s.job_name === 'vigil')?.static_configs[0]?.targets).toEqual([`vigil:${config.server.port}`]);
  });

  it('Vigil has a read token that Prometheus\'s scrape job sends from the same file, and the simulator Vigil\'s ingest token', async () => {
    const vigil = service(compose, 'vigil');
    const env = Object.fromEntries(Object.entries(vigil.environment ?? {}).map(([k, v]) => [k, interpolateCompose(v, {})]));
    const { config } = await loadConfigFile(hostPath(compose, 'vigil', vigil.command?.[2] ?? ''), {
      ...env,
      VIGIL_DEMO_RULES_DIR: join(ROOT, 'examples'),
      VIGIL_CONFIG_DIR: hostPath(compose, 'vigil', '/etc/vigil'),
    });
    const prom = parse(readFileSync(hostPath(compose, 'prometheus', flag(service(compose, 'prometheus').command, 'config.file')), 'utf8')) as {
      scrape_configs: { job_name: string; authorization?: { type?: string; credentials_file?: string } }[];
    };
    const authorization = prom.scrape_configs.find((s) => s.job_name === 'vigil')?.authorization;
    expect(authorization?.type).toBe('Bearer');
    const tokenFile = hostPath(compose, 'prometheus', authorization?.credentials_file ?? '');
    expect(tokenFile).toBe(hostPath(compose, 'vigil', '/etc/vigil/tokens/read.token'));
    expect(config.server.tokens.read).toEqual([readFileSync(tokenFile, 'utf8').trim()]);
    const simToken = interpolateCompose(service(compose, 'simulator').environment?.VIGIL_TOKEN ?? '', {});
    expect(config.server.tokens.ingest).toEqual([simToken]);
  });
});

describe.runIf(promtool.available)('promtool check config', () => {
  const prometheus = service(compose, 'prometheus');
  const file = hostPath(compose, 'prometheus', flag(prometheus.command, 'config.file'));

  it('accepts the mounted prometheus.yml (syntax)', () => {
    const out = execFileSync('promtool', ['check', 'config', '--syntax-only', file], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('accepts it with the rule files it loads (mounted from rules/ and examples/)', () => {
    const cfg = parse(readFileSync(file, 'utf8')) as { rule_files: string[] };
    const local = {
      ...cfg,
      rule_files: cfg.rule_files.map((f) => hostPath(compose, 'prometheus', f)),
      // promtool checks that the credentials files exist: the mounted token file, here.
      scrape_configs: (cfg as unknown as { scrape_configs: { authorization?: { credentials_file?: string } }[] }).scrape_configs.map((s) =>
        s.authorization?.credentials_file === undefined ? s : { ...s, authorization: { ...s.authorization, credentials_file: hostPath(compose, 'prometheus', s.authorization.credentials_file) } },
      ),
    };
    const addresses = { 'vigil:9470': '127.0.0.1:9470', 'alertmanager:9093': '127.0.0.1:9093', 'localhost:9090': '127.0.0.1:9090' };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(rewriteAddresses(local, compose, addresses)));
    const out = execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS: 2 rule files found');
  });
});

describe.runIf(amtool.available)('amtool check-config', () => {
  it('accepts the mounted alertmanager.yml', () => {
    const file = hostPath(compose, 'alertmanager', flag(service(compose, 'alertmanager').command, 'config.file'));
    const out = execFileSync('amtool', ['check-config', file], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
    expect(out).toContain('1 receivers');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));

  it('multi-stage on one base image, non-root, health-checked on /healthz, node as PID 1 (exec form)', () => {
    expect(lines.filter((l) => l.startsWith('FROM ${NODE_IMAGE} AS ')).length).toBe(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD \[.*\/healthz/m);
    // the young generation capped as Node 20 had it (docs/operations.md → Memory), as npm start and the vigil bin do
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--max-semi-space-size=16", "\/app\/dist\/src\/main\.js"\]$/m);
    expect(readFileSync(join(ROOT, 'src/main.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=16');
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start).toContain('node --max-semi-space-size=16 dist/src/main.js serve');
    expect(dockerfile).toMatch(/^VOLUME \["\/etc\/vigil", "\/var\/lib\/vigil"\]$/m);
    expect(dockerfile).toContain('npm prune --omit=dev');
  });

  it('copies only what .dockerignore lets into the build context, and all of it exists', () => {
    const allowed = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const s of sources) {
      expect(allowed, s).toContain(s);
      expect(existsSync(join(ROOT, s)), s).toBe(true);
    }
  });
});
