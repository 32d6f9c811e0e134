import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { debianTool } from './debian.js';
import { dashboardExpressions, dashboardFiles, loadDashboard, substituteVariables } from './grafana.js';
import { Processes, freePort, waitFor } from './processes.js';
import { hostPath, interpolateCompose, loadCompose, rewriteAddresses, ROOT, service, type ComposeFile } from './stack.js';

/**
 * The docker-compose stack, run natively on loopback ports: the built `vigil serve` with the
 * compose configuration, `vigil simulate` as the compose simulator runs it (drift after 1s), the
 * Debian `prometheus` with the prometheus.yml the compose file mounts and `prometheus-alertmanager`
 * with its alertmanager.yml (both adapted: host:port addresses → 127.0.0.1 ports, 1s intervals),
 * and the webhook sink. The simulator's drift fires DemoFeatureDrift in Vigil and in Prometheus;
 * Alertmanager receives it from both and the sink gets the notification. Every dashboard query
 * is then accepted by the real Prometheus.
 */
const MAIN = join(ROOT, 'dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
const prometheus = debianTool('prometheus', 'prometheus');
const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');

const dir = mkdtempSync(join(tmpdir(), 'vigil-stack-'));
const procs = new Processes();
afterAll(async () => {
  await procs.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const flag = (args: readonly string[] | undefined, name: string): string => {
  const a = (args ?? []).find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) throw new Error(`--${name} is missing`);
  return a.slice(name.length + 3);
};

/** A service's command line as it runs here: compose variables interpolated, addresses and mounted paths local. */
function localCommand(compose: ComposeFile, name: string, args: readonly string[], env: Record<string, string>, addresses: Record<string, string>): string[] {
  return rewriteAddresses(args.map((a) => interpolateCompose(a, env)), compose, addresses).map((a) => (a.startsWith('/') ? hostPath(compose, name, a) : a));
}

/** Vigil's read token (deploy/vigil/tokens/read.token): reads and /metrics need it in the stack. */
let vigilToken = '';
const auth = (url: string): RequestInit => (vigilToken !== '' && url.startsWith('http://127.0.0.1') ? { headers: { authorization: `Bearer ${vigilToken}` } } : {});

const getJson = async <T>(url: string): Promise<T> => {
  const r = await fetch(url, auth(url));
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};

type PromAlert = { labels: Record<string, string>; state: string };
type AmAlert = { labels: Record<string, string>; receivers: { name: string }[] };
type SinkAlert = { receiver: string | null; status: string | null; labels: Record<string, string> };

describe.runIf(prometheus.available && alertmanager.available)('the docker-compose stack, natively', () => {
  it('simulator drift → DemoFeatureDrift fires in Vigil and Prometheus → Alertmanager → webhook sink', async () => {
    const compose = loadCompose();
    const [vigilPort, promPort, amPort, sinkPort, registryPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const registryUrl = `http://127.0.0.1:${registryPort}`;
    const vigilUrl = `http://127.0.0.1:${vigilPort}`;
    const promUrl = `http://127.0.0.1:${promPort}`;
    const amUrl = `http://127.0.0.1:${amPort}`;
    const sinkUrl = `http://127.0.0.1:${sinkPort}`;
    const addresses = {
      'vigil:9470': `127.0.0.1:${vigilPort}`,
      'prometheus:9090': `127.0.0.1:${promPort}`,
      'localhost:9090': `127.0.0.1:${promPort}`,
      'alertmanager:9093': `127.0.0.1:${amPort}`,
      'webhook-sink:8080': `127.0.0.1:${sinkPort}`,
      'mlflow:5000': `127.0.0.1:${registryPort}`,
    };

    // The registry (the demo's fake MLflow), as the compose service runs it, on loopback.
    const registryArgs = localCommand(compose, 'mlflow', service(compose, 'mlflow').command ?? [], {}, addresses);
    const option = (name: string, value: string) => {
      const i = registryArgs.indexOf(name);
      expect(i).toBeGreaterThan(-1);
      registryArgs[i + 1] = value;
    };
    option('--port', String(registryPort));
    option('--address', '127.0.0.1');
    // It reads deploy/vigil/vigil.yaml, token files included (/etc/vigil in the containers).
    procs.run(process.execPath, [MAIN, ...registryArgs], { env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', VIGIL_CONFIG_DIR: hostPath(compose, 'mlflow', '/etc/vigil') } });

    // The webhook sink, as the compose service runs it.
    const sink = service(compose, 'webhook-sink');
    const [sinkCmd, ...sinkArgs] = localCommand(compose, 'webhook-sink', sink.entrypoint ?? [], {}, addresses);
    expect(sinkCmd).toBe('node');
    procs.run(process.execPath, sinkArgs, { env: { ...process.env, PORT: String(sinkPort), HOST: '127.0.0.1' } });

    // Alertmanager with the mounted alertmanager.yml; notifications after 1s instead of 10s.
    const amConfig = rewriteAddresses(parse(readFileSync(hostPath(compose, 'alertmanager', flag(service(compose, 'alertmanager').command, 'config.file')), 'utf8')) as { route: Record<string, unknown> }, compose, addresses);
    amConfig.route.group_wait = '1s';
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(amConfig));
    procs.run('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${mkdtempSync(join(dir, 'am-'))}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);

    // Prometheus with the mounted prometheus.yml and the rule files mounted next to it; 1s intervals.
    const promConfig = rewriteAddresses(
      parse(readFileSync(hostPath(compose, 'prometheus', flag(service(compose, 'prometheus').command, 'config.file')), 'utf8')) as {
        global: Record<string, unknown>;
        rule_files: string[];
        scrape_configs: { job_name: string; authorization?: { credentials_file: string } }[];
      },
      compose,
      addresses,
    );
    promConfig.global.scrape_interval = '1s';
    promConfig.global.evaluation_interval = '1s';
    promConfig.rule_files = promConfig.rule_files.map((f) => hostPath(compose, 'prometheus', f));
    // The scrape job sends Vigil's read token from the file the compose file mounts.
    const vigilJob = promConfig.scrape_configs.find((j) => j.job_name === 'vigil');
    if (vigilJob?.authorization === undefined) throw new Error('the vigil scrape job sends no token');
    vigilJob.authorization.credentials_file = hostPath(compose, 'prometheus', vigilJob.authorization.credentials_file);
    vigilToken = readFileSync(vigilJob.authorization.credentials_file, 'utf8').trim();
    writeFileSync(join(dir, 'prometheus.yml'), stringify(promConfig));
    procs.run('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${mkdtempSync(join(dir, 'tsdb-'))}`, `--web.listen-address=127.0.0.1:${promPort}`]);

    // Vigil with the compose command, configuration and environment, on loopback.
    const vigil = service(compose, 'vigil');
    const vigilEnv: Record<string, string> = {
      VIGIL_EXTERNAL_URL: vigilUrl,
      VIGIL_LOG_LEVEL: 'warn',
      ...rewriteAddresses(Object.fromEntries(Object.entries(vigil.environment ?? {}).map(([k, v]) => [k, interpolateCompose(v, { VIGIL_EXTERNAL_URL: vigilUrl, VIGIL_LOG_LEVEL: 'warn' })])), compose, addresses),
      VIGIL_ADDRESS: '127.0.0.1',
      VIGIL_PORT: String(vigilPort),
      VIGIL_DB: join(dir, 'vigil.db'),
      VIGIL_EVALUATION_INTERVAL: '1s',
      VIGIL_DEMO_RULES_DIR: join(ROOT, 'examples'), // baked into the image at /app/examples
      VIGIL_CONFIG_DIR: hostPath(compose, 'vigil', '/etc/vigil'), // the token files
    };
    expect(vigilEnv.VIGIL_ALERTMANAGER_URL).toBe(amUrl);
    procs.run(process.execPath, [MAIN, ...localCommand(compose, 'vigil', vigil.command ?? [], {}, addresses)], { env: { ...process.env, ...vigilEnv } });

    const ready = async (url: string) => ((await fetch(url)).ok ? true : undefined);
    await waitFor('vigil ready', () => ready(`${vigilUrl}/readyz`), 30_000);
    await waitFor('prometheus ready', () => ready(`${promUrl}/-/ready`), 30_000);
    await waitFor('alertmanager ready', () => ready(`${amUrl}/-/ready`), 30_000);
    await waitFor('webhook sink ready', () => ready(`${sinkUrl}/healthz`), 30_000);
    await waitFor('registry ready', () => ready(`${registryUrl}/api/2.0/mlflow/registered-models/search`), 30_000);

    // The simulator, as the compose service runs it, with drift after 1s.
    const sim = service(compose, 'simulator');
    const simEnv = Object.fromEntries(Object.entries(sim.environment ?? {}).map(([k, v]) => [k, interpolateCompose(v, {})]));
    expect(simEnv.VIGIL_TOKEN).toBeTruthy(); // it posts with the ingest token
    procs.run(process.execPath, [MAIN, ...localCommand(compose, 'simulator', sim.command ?? [], { VIGIL_DRIFT_AFTER: '1s' }, addresses)], { env: { ...process.env, ...vigilEnv, ...simEnv } });

    // Without the read token Vigil refuses reads and scrapes; Prometheus's scrape job has it.
    expect((await fetch(`${vigilUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${vigilUrl}/api/v1/alerts`)).status).toBe(401);

    // Prometheus scrapes Vigil and has the ML series of every model.
    await waitFor('Prometheus to scrape Vigil', async () => {
      const t = await getJson<{ data: { activeTargets: { labels: Record<string, string>; health: string }[] } }>(`${promUrl}/api/v1/targets`);
      return t.data.activeTargets.some((x) => x.labels.job === 'vigil' && x.health === 'up') ? true : undefined;
    }, 60_000);
    const models = await waitFor('ML series in Prometheus', async () => {
      const q = await getJson<{ data: { result: { metric: Record<string, string> }[] } }>(`${promUrl}/api/v1/query?query=${encodeURIComponent('count by (model) (ml_feature_drift_score{window="5m"})')}`);
      const m = q.data.result.map((r) => r.metric.model).sort();
      return m.length === 3 ? m : undefined;
    }, 60_000);
    expect(models).toEqual(['churn-risk', 'delivery-eta', 'fraud-detector']);

    // The alert fires in Vigil and in Prometheus (same rule file, `for: 30s`).
    const firing = (alerts: PromAlert[]) => alerts.filter((a) => a.labels.alertname === 'DemoFeatureDrift' && a.state === 'firing');
    const inVigil = await waitFor('DemoFeatureDrift firing in Vigil', async () => {
      const f = firing((await getJson<{ data: { alerts: PromAlert[] } }>(`${vigilUrl}/api/v1/alerts`)).data.alerts);
      return f.length > 0 ? f : undefined;
    }, 120_000);
    const inProm = await waitFor('DemoFeatureDrift firing in Prometheus', async () => {
      const f = firing((await getJson<{ data: { alerts: PromAlert[] } }>(`${promUrl}/api/v1/alerts`)).data.alerts);
      return f.length > 0 ? f : undefined;
    }, 120_000);
    expect(inVigil.every((a) => a.labels.model !== undefined && a.labels.feature !== undefined)).toBe(true);
    expect(inProm.every((a) => a.labels.model !== undefined && a.labels.feature !== undefined)).toBe(true);

    // Alertmanager holds it, routed to the webhook sink. Both Vigil and Prometheus sent it: their
    // copies have the same labels (the rule aggregates job/instance away), so Alertmanager keeps
    // one alert per label set; each sender's own counter shows its deliveries.
    const amAlerts = await waitFor('DemoFeatureDrift in Alertmanager', async () => {
      const list = await getJson<AmAlert[]>(`${amUrl}/api/v2/alerts?filter=${encodeURIComponent('alertname="DemoFeatureDrift"')}`);
      return list.length > 0 ? list : undefined;
    }, 60_000);
    expect(amAlerts.every((a) => a.receivers.some((r) => r.name === 'webhook-sink'))).toBe(true);
    const sent = async (url: string, re: RegExp): Promise<number> =>
      (await (await fetch(url, auth(url))).text()).split('\n').filter((l) => re.test(l)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    await waitFor('Vigil to have delivered alerts to Alertmanager', async () =>
      (await sent(`${vigilUrl}/metrics`, /^vigil_notifications_total\{.*receiver="alertmanager:.*outcome="success"/)) > 0 ? true : undefined,
    60_000);
    await waitFor('Prometheus to have delivered alerts to Alertmanager', async () =>
      (await sent(`${promUrl}/metrics`, /^prometheus_notifications_sent_total\{/)) > 0 ? true : undefined,
    60_000);

    // …and the sink received the notification.
    const received = await waitFor('the webhook sink to receive DemoFeatureDrift', async () => {
      const s = await getJson<{ alerts: SinkAlert[] }>(`${sinkUrl}/`);
      const mine = s.alerts.filter((a) => a.labels.alertname === 'DemoFeatureDrift');
      return mine.length > 0 ? mine : undefined;
    }, 60_000);
    expect(received[0]?.receiver).toBe('webhook-sink');
    expect(received[0]?.status).toBe('firing');

    // The accuracy drop of the deployed version 2 makes Vigil roll fraud-detector back in the
    // registry and open its circuit breaker; the simulator then serves version 1.
    const champion = async () =>
      (await getJson<{ model_version: { version: string } }>(`${registryUrl}/api/2.0/mlflow/registered-models/alias?name=fraud-detector&alias=champion`)).model_version.version;
    expect(['1', '2']).toContain(await champion());
    await waitFor('the rollback of fraud-detector in the registry', async () => ((await champion()) === '1' ? true : undefined), 150_000);
    // the alias moves before the action's record says succeeded: wait for the record too
    let incidents: { incidents: { alertname: string; actions: { action: string; status: string }[] }[] } = { incidents: [] };
    await waitFor('the rollback recorded as succeeded', async () => {
      incidents = await getJson(`${vigilUrl}/v1/incidents?model=fraud-detector&action=rollback`);
      return incidents.incidents[0]?.actions.every((a) => a.status !== 'running') ? true : undefined;
    }, 30_000);
    expect(incidents.incidents[0]?.actions.map((a) => `${a.action}:${a.status}`), JSON.stringify(incidents)).toEqual(['open-circuit:succeeded', 'rollback:succeeded']);
    expect((await getJson<{ state: string }>(`${vigilUrl}/v1/models/fraud-detector/circuit`)).state).toBe('open');
    await waitFor('Prometheus to see the open circuit', async () => {
      const q = await getJson<{ data: { result: { value: [number, string] }[] } }>(`${promUrl}/api/v1/query?query=${encodeURIComponent('ml_circuit_breaker_state{model="fraud-detector"}')}`);
      return q.data.result[0]?.value[1] === '1' ? true : undefined;
    }, 30_000);

    // Every dashboard query runs in the real Prometheus.
    const values = { model: '.*', version: '.*', slo: '.*', segment: '.*', window: '5m', vigil_url: vigilUrl, __rate_interval: '1m', __interval: '15s', __range: '5m' };
    const rejected: string[] = [];
    let withData = 0;
    for (const file of dashboardFiles()) {
      for (const { where, expr } of dashboardExpressions(loadDashboard(file))) {
        const query = substituteVariables(expr, values);
        const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
        if (body.status !== 'success') rejected.push(`${file} ${where}: ${body.error ?? r.status}`);
        else if ((body.data?.result.length ?? 0) > 0) withData++;
      }
    }
    expect(rejected).toEqual([]);
    expect(withData).toBeGreaterThan(20);
  }, 420_000);
});
