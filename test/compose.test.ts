import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runCheckConfig } from '../src/cli/check-config.js';
import { loadConfigFile } from '../src/config/load.js';
import { debianTool } from './debian.js';
import { COMPOSE_FILE, hostPath, interpolateCompose, loadCompose, rewriteAddresses, ROOT, service, type ComposeFile, type ComposeService } from './stack.js';

/**
 * The docker-compose stack without a Docker engine: `docker-compose config` accepts the file,
 * `promtool check config` and `amtool check-config` the configurations it mounts, Vigil's own
 * configuration loads with the stack's environment, and the Dockerfile / .dockerignore agree.
 * The `ha` profile too: PostgreSQL, two Vigil replicas with one configuration on it, a Prometheus
 * scraping both, the stack's Alertmanager receiving from both, the password only ever in a file.
 * test/stack-e2e.test.ts and test/ha-stack.test.ts run the same configurations with the real programs.
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

/** The compose file with what the `ha` profile uses besides test/stack.ts's fields: profiles and secrets. */
type ProfiledService = ComposeService & { profiles?: string[]; secrets?: (string | { source: string; target?: string })[] };
type ProfiledCompose = ComposeFile & { services: Record<string, ProfiledService>; secrets?: Record<string, { file?: string }> };
const ha = compose as ProfiledCompose;
const DEFAULT_SERVICES = ['alertmanager', 'grafana', 'mlflow', 'prometheus', 'simulator', 'vigil', 'webhook-sink'];
const HA_SERVICES = ['postgres', 'prometheus-ha', 'simulator-ha', 'vigil-a', 'vigil-b'];
const REPLICAS = ['vigil-a', 'vigil-b'];

/** The file in this repository a service's secret at `containerPath` comes from (/run/secrets/NAME). */
function secretHostPath(name: string, containerPath: string): string {
  for (const s of ha.services[name]?.secrets ?? []) {
    const source = typeof s === 'string' ? s : s.source;
    const target = typeof s === 'string' || s.target === undefined ? `/run/secrets/${source}` : s.target.startsWith('/') ? s.target : `/run/secrets/${s.target}`;
    const file = ha.secrets?.[source]?.file;
    if (target === containerPath && file !== undefined) return join(ROOT, file);
  }
  throw new Error(`service "${name}" has no secret from a file at ${containerPath}`);
}

/** A service's environment as compose sets it with nothing exported (the `${VAR:-default}` defaults). */
const composeEnv = (name: string): Record<string, string> => Object.fromEntries(Object.entries(service(compose, name).environment ?? {}).map(([k, v]) => [k, interpolateCompose(v, {})]));

/** The Vigil configuration file a service runs (`serve --config FILE`), in this repository. */
const vigilConfigFile = (name: string): string => {
  const cmd = service(compose, name).command ?? [];
  expect(cmd.slice(0, 2), name).toEqual(['serve', '--config']);
  return hostPath(compose, name, cmd[2] ?? '');
};

/** A Vigil configuration file as written (its `${VAR:-default}` values not interpolated). */
const rawVigil = (file: string) => parse(readFileSync(file, 'utf8')) as { storage: { url: string; password_file: string } };

/** Loads a replica's configuration with its compose environment, container paths mapped to this repository. */
async function loadReplica(name: string) {
  const file = vigilConfigFile(name);
  const passwordFile = interpolateCompose(rawVigil(file).storage.password_file, composeEnv(name));
  return loadConfigFile(file, {
    ...composeEnv(name),
    VIGIL_DEMO_RULES_DIR: join(ROOT, 'examples'),
    VIGIL_CONFIG_DIR: hostPath(compose, name, '/etc/vigil'),
    VIGIL_DB_PASSWORD_FILE: secretHostPath(name, passwordFile),
  });
}

const dockerComposeConfig = (...args: string[]): string =>
  execFileSync('docker-compose', ['-f', COMPOSE_FILE, ...args, 'config'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe.runIf(dockerCompose.available)('docker-compose', () => {
  it('docker-compose config accepts docker-compose.yml; the default stack is the services outside any profile', () => {
    const resolved = parse(dockerComposeConfig()) as { services: Record<string, ProfiledService> };
    // `up` without --profile starts the services without a profile; docker-compose 1.x lists the
    // others here too (with their profile), Compose v2 leaves them out
    const byDefault = Object.entries(resolved.services).filter(([, s]) => s.profiles === undefined).map(([n]) => n);
    expect(byDefault.sort()).toEqual(DEFAULT_SERVICES);
    for (const n of Object.keys(resolved.services).filter((x) => !byDefault.includes(x))) {
      expect(HA_SERVICES).toContain(n);
      expect(resolved.services[n]?.profiles, n).toEqual(['ha']);
    }
    expect(resolved.services.simulator?.command).toContain('2m');
  });

  it('docker-compose --profile ha config accepts it: the default stack, PostgreSQL, two replicas, their Prometheus and simulator', () => {
    const out = dockerComposeConfig('--profile', 'ha');
    const resolved = parse(out) as { services: Record<string, ProfiledService & { depends_on?: Record<string, { condition: string }> }>; secrets?: Record<string, { file: string }> };
    expect(Object.keys(resolved.services).sort()).toEqual([...DEFAULT_SERVICES, ...HA_SERVICES].sort());
    for (const name of HA_SERVICES) expect(resolved.services[name]?.profiles, name).toEqual(['ha']);
    // the replicas: one image and one command, after PostgreSQL is healthy
    const [a, b] = REPLICAS.map((n) => resolved.services[n]);
    expect(a?.image).toBe(resolved.services.vigil?.image);
    expect(b?.image).toBe(a?.image);
    expect(b?.command).toEqual(a?.command);
    for (const r of [a, b]) {
      expect(r?.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(Object.keys(r?.depends_on ?? {})).toContain('alertmanager');
    }
    // the secret resolves to a file that exists; the password itself is nowhere in the output
    const secretFile = resolved.secrets?.['vigil-db-password']?.file ?? '';
    expect(existsSync(secretFile)).toBe(true);
    expect(out).not.toContain(readFileSync(secretFile, 'utf8').trim());
  });
});

describe('the compose file', () => {
  it('pins every image to a version and builds Vigil\'s from the Dockerfile', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      // PostgreSQL numbers its releases major.minor (15.14): pinned to the minor release and Debian release
      if (s.image?.startsWith('postgres:')) expect(s.image, name).toMatch(/^postgres:\d+\.\d+-bookworm$/);
      else expect(s.image, name).toMatch(/^[\w./-]+:(v?\d+\.\d+\.\d+|\$\{VIGIL_IMAGE_TAG:-dev\})$/);
      if (s.image?.startsWith('vigil:')) expect(s.build, name).toEqual({ context: '.' });
    }
  });

  it('gives every long-running service a healthcheck and uses only declared named volumes', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'simulator' || name === 'simulator-ha') {
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
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['alertmanager-data', 'grafana-data', 'postgres-data', 'prometheus-data', 'prometheus-ha-data', 'vigil-data']);
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

type PromConfig = {
  global?: { external_labels?: Record<string, string> };
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { job_name: string; authorization?: { type?: string; credentials_file?: string }; static_configs: { targets: string[] }[] }[];
};
const promConfig = (name: string): PromConfig => parse(readFileSync(hostPath(compose, name, flag(service(compose, name).command, 'config.file')), 'utf8')) as PromConfig;

describe('the compose `ha` profile', () => {
  it('holds PostgreSQL, two Vigil replicas, their Prometheus and simulator; Alertmanager is the stack\'s, in every profile', () => {
    expect(Object.entries(ha.services).filter(([, s]) => s.profiles !== undefined).map(([n]) => n).sort()).toEqual(HA_SERVICES);
    for (const n of HA_SERVICES) expect(ha.services[n]?.profiles, n).toEqual(['ha']);
    expect(ha.services.alertmanager?.profiles).toBeUndefined();
    expect(ha.services['webhook-sink']?.profiles).toBeUndefined();
    // published on ports of their own, beside the default stack's
    const published = Object.values(ha.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(published).size).toBe(published.length);
  });

  it('PostgreSQL 15: official image, the password from the secret file, pg_isready, a named volume', () => {
    const pg = ha.services.postgres as ProfiledService;
    expect(pg.image).toMatch(/^postgres:15\./);
    const env = pg.environment ?? {};
    expect(env.POSTGRES_PASSWORD).toBeUndefined();
    expect(secretHostPath('postgres', env.POSTGRES_PASSWORD_FILE ?? '')).toBe(join(ROOT, 'deploy/postgres/vigil-db-password'));
    expect(pg.healthcheck?.test?.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(pg.healthcheck?.test).toEqual(expect.arrayContaining(['-U', env.POSTGRES_USER, '-d', env.POSTGRES_DB]));
    expect(pg.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(pg.ports).toBeUndefined(); // only the replicas connect
  });

  it('both replicas run the same image, command, configuration and secret, after PostgreSQL is healthy, and each sends to the stack\'s Alertmanager', () => {
    const [a, b] = REPLICAS.map((n) => service(compose, n)) as [ProfiledService, ProfiledService];
    expect(a.image).toBe(service(compose, 'vigil').image);
    expect(b.image).toBe(a.image);
    expect(b.command).toEqual(a.command);
    expect(b.volumes).toEqual(a.volumes);
    expect(b.secrets).toEqual(a.secrets);
    expect(vigilConfigFile('vigil-a')).toBe(join(ROOT, 'deploy/vigil/vigil-ha.yaml'));
    expect(vigilConfigFile('vigil-b')).toBe(vigilConfigFile('vigil-a'));
    for (const n of REPLICAS) {
      expect(service(compose, n).depends_on, n).toMatchObject({ postgres: { condition: 'service_healthy' }, alertmanager: { condition: 'service_started' } });
      expect(composeEnv(n).VIGIL_ALERTMANAGER_URL, n).toBe(composeEnv('vigil').VIGIL_ALERTMANAGER_URL);
    }
    expect(composeEnv('vigil-a').VIGIL_EXTERNAL_URL).not.toBe(composeEnv('vigil-b').VIGIL_EXTERNAL_URL);
  });

  it('the replicas\' configuration: PostgreSQL with the password from the secret, a 15s lease, alerts to the stack\'s Alertmanager', async () => {
    const password = readFileSync(join(ROOT, 'deploy/postgres/vigil-db-password'), 'utf8').trim();
    const { config: a } = await loadReplica('vigil-a');
    const { config: b } = await loadReplica('vigil-b');
    for (const c of [a, b]) {
      expect(c.storage.backend).toBe('postgres');
      expect(c.storage.url).toBe('postgres://vigil@postgres:5432/vigil');
      expect(c.storage.password_file).toBe(password); // the schema reads the file: its content
      expect(c.storage.schema).toBe('vigil');
      expect(c.cluster.lease).toBe(15_000);
      expect(c.server.address).toBe('0.0.0.0');
      expect(c.server.port).toBe(9470);
      expect(c.alertmanagers.map((x) => x.url)).toEqual(['http://alertmanager:9093']);
      expect(c.rule_files).toEqual([join(ROOT, 'examples/demo.rules.yml')]);
    }
    expect(b.storage).toEqual(a.storage);
    // the database the URL names is the one the postgres service creates, for the user it creates
    const pg = service(compose, 'postgres').environment ?? {};
    const url = new URL(a.storage.url ?? '');
    expect([url.hostname, url.port, url.username, url.pathname]).toEqual(['postgres', '5432', pg.POSTGRES_USER, `/${pg.POSTGRES_DB}`]);
    // the simulator reads its models from the default stack's vigil.yaml: the same ones
    const sim = service(compose, 'simulator-ha').command ?? [];
    expect(sim.slice(0, 3)).toEqual(['simulate', '--url', 'http://vigil-a:9470']);
    const { config: simConfig } = await loadConfigFile(hostPath(compose, 'simulator-ha', sim[sim.indexOf('--config') + 1] ?? ''), {
      VIGIL_DEMO_RULES_DIR: join(ROOT, 'examples'),
      VIGIL_CONFIG_DIR: hostPath(compose, 'simulator-ha', '/etc/vigil'),
    }, { ruleFiles: false });
    expect(simConfig.models).toEqual(a.models);
    expect(interpolateCompose(service(compose, 'simulator-ha').environment?.VIGIL_TOKEN ?? '', {})).toBe(a.server.tokens.ingest[0]);
  });

  it('passes vigil check-config (the rule files it names included)', async () => {
    const file = vigilConfigFile('vigil-a');
    const out: string[] = [];
    const err: string[] = [];
    const env = {
      ...composeEnv('vigil-a'),
      VIGIL_DEMO_RULES_DIR: join(ROOT, 'examples'),
      VIGIL_CONFIG_DIR: hostPath(compose, 'vigil-a', '/etc/vigil'),
      VIGIL_DB_PASSWORD_FILE: secretHostPath('vigil-a', '/run/secrets/vigil-db-password'),
    };
    const code = await runCheckConfig([file], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, env);
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/: OK — 3 model\(s\)/);
  });

  it('the password is only ever a file: never in the compose file, the Vigil configuration or the URL', () => {
    const password = readFileSync(join(ROOT, 'deploy/postgres/vigil-db-password'), 'utf8').trim();
    expect(password.length).toBeGreaterThan(8);
    for (const f of [COMPOSE_FILE, vigilConfigFile('vigil-a'), hostPath(compose, 'prometheus-ha', flag(service(compose, 'prometheus-ha').command, 'config.file'))]) {
      expect(readFileSync(f, 'utf8'), f).not.toContain(password);
    }
    const raw = rawVigil(vigilConfigFile('vigil-a')).storage;
    expect(new URL(interpolateCompose(raw.url, {})).password).toBe('');
    expect(interpolateCompose(raw.password_file, {})).toBe('/run/secrets/vigil-db-password');
    for (const n of ['postgres', ...REPLICAS]) {
      expect(Object.values(service(compose, n).environment ?? {}).join('\n'), n).not.toContain(password);
      expect(secretHostPath(n, '/run/secrets/vigil-db-password'), n).toBe(join(ROOT, 'deploy/postgres/vigil-db-password'));
    }
  });

  it('its Prometheus scrapes both replicas with their read token and evaluates the default stack\'s rules, labelled as the replicas label their alerts', async () => {
    const prom = promConfig('prometheus-ha');
    const vigilJob = prom.scrape_configs.find((s) => s.job_name === 'vigil');
    expect(vigilJob?.static_configs.flatMap((c) => c.targets).sort()).toEqual(REPLICAS.map((n) => `${n}:9470`));
    expect(vigilJob?.authorization?.type).toBe('Bearer');
    expect(hostPath(compose, 'prometheus-ha', vigilJob?.authorization?.credentials_file ?? '')).toBe(hostPath(compose, 'vigil-a', '/etc/vigil/tokens/read.token'));
    expect(prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))).toEqual(['alertmanager:9093']);
    // the same rule files, from the same files of this repository, as the default Prometheus
    const dflt = promConfig('prometheus');
    expect(prom.rule_files).toEqual(dflt.rule_files);
    for (const f of prom.rule_files) expect(hostPath(compose, 'prometheus-ha', f), f).toBe(hostPath(compose, 'prometheus', f));
    // its alerts carry the label the replicas put on theirs
    const { config } = await loadReplica('vigil-a');
    expect(prom.global?.external_labels).toEqual(config.alerting.external_labels);
    expect(Object.keys(config.alerting.external_labels).length).toBeGreaterThan(0);
    expect(service(compose, 'prometheus-ha').image).toBe(service(compose, 'prometheus').image);
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

describe.runIf(promtool.available)('promtool check config (the `ha` profile)', () => {
  it('accepts the mounted prometheus-ha.yml with the rule files it loads', () => {
    const cfg = promConfig('prometheus-ha');
    const local = {
      ...cfg,
      rule_files: cfg.rule_files.map((f) => hostPath(compose, 'prometheus-ha', f)),
      scrape_configs: cfg.scrape_configs.map((s) =>
        s.authorization?.credentials_file === undefined ? s : { ...s, authorization: { ...s.authorization, credentials_file: hostPath(compose, 'prometheus-ha', s.authorization.credentials_file) } },
      ),
    };
    const addresses = { 'vigil-a:9470': '127.0.0.1:9471', 'vigil-b:9470': '127.0.0.1:9472', 'alertmanager:9093': '127.0.0.1:9093', 'localhost:9090': '127.0.0.1:9091' };
    writeFileSync(join(dir, 'prometheus-ha.yml'), stringify(rewriteAddresses(local, compose, addresses)));
    const out = execFileSync('promtool', ['check', 'config', join(dir, 'prometheus-ha.yml')], { encoding: 'utf8' });
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
