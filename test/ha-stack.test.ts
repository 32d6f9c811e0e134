import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { debianTool } from './debian.js';
import { freshDatabase, postgresServer } from './postgres.js';
import { Processes, freePort, startServe, waitFor, type RunningVigil } from './processes.js';
import { hostPath, interpolateCompose, loadCompose, rewriteAddresses, ROOT, service, type ComposeFile } from './stack.js';

/**
 * The docker-compose `ha` profile, run natively on loopback ports: a fresh database on the tests'
 * PostgreSQL, two built `vigil serve` processes with the configuration the compose file mounts
 * for vigil-a and vigil-b (deploy/vigil/vigil-ha.yaml: its storage, cluster, token and
 * Alertmanager settings as they are; a test model and a rule that fires at once instead of the
 * demo's), the Debian `prometheus` with prometheus-ha.yml scraping both, the Debian
 * `prometheus-alertmanager` with the stack's alertmanager.yml, and the webhook sink behind it.
 * Both replicas fire the same alert and send it; Alertmanager holds it once and the sink gets one
 * notification.
 */
const MAIN = join(ROOT, 'dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
const prometheus = debianTool('prometheus', 'prometheus');
const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');
const server = await postgresServer();

const dir = mkdtempSync(join(tmpdir(), 'vigil-ha-stack-'));
const procs = new Processes();
const replicas: RunningVigil[] = [];
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const r of replicas) {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGTERM');
      await r.exited;
    }
  }
  await procs.stopAll();
  for (const drop of drops) await drop();
  rmSync(dir, { recursive: true, force: true });
});

const flag = (args: readonly string[] | undefined, name: string): string => {
  const a = (args ?? []).find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) throw new Error(`--${name} is missing`);
  return a.slice(name.length + 3);
};

/** A service's command line as it runs here: compose variables interpolated, addresses and mounted paths local. */
function localCommand(compose: ComposeFile, name: string, args: readonly string[], addresses: Record<string, string>): string[] {
  return rewriteAddresses(args.map((a) => interpolateCompose(a, {})), compose, addresses).map((a) => (a.startsWith('/') ? hostPath(compose, name, a) : a));
}

const ALERT = 'HaPairBusy';
/** The test's model and rule, in place of the demo's (whose drift takes minutes to show). */
const MODELS = [{ name: 'ha-demo', task: 'binary', positive_class: '1', windows: ['1h'], features: [{ name: 'x', type: 'numeric' }] }];
const RULES = `groups:
  - name: ha
    rules:
      - alert: ${ALERT}
        expr: max by (model) (ml_window_samples{model="ha-demo", window="1h", segment=""}) >= 30
        labels:
          severity: warning
`;

type AmAlert = { labels: Record<string, string>; receivers: { name: string }[]; status: { state: string } };
type AmGroup = { labels: Record<string, string>; receiver: { name: string }; alerts: AmAlert[] };
type SinkAlert = { receiver: string | null; status: string | null; labels: Record<string, string> };
type PromVector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };

describe.runIf(prometheus.available && alertmanager.available && server.available)('the docker-compose ha profile, natively', () => {
  it('two replicas on one PostgreSQL, Prometheus scraping both (one leader), both alerting one Alertmanager: one alert, one notification', async () => {
    const compose = loadCompose();
    const [aPort, bPort, promPort, amPort, sinkPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const promUrl = `http://127.0.0.1:${promPort}`;
    const amUrl = `http://127.0.0.1:${amPort}`;
    const sinkUrl = `http://127.0.0.1:${sinkPort}`;
    const addresses = {
      'vigil-a:9470': `127.0.0.1:${aPort}`,
      'vigil-b:9470': `127.0.0.1:${bPort}`,
      'localhost:9090': `127.0.0.1:${promPort}`,
      'alertmanager:9093': `127.0.0.1:${amPort}`,
      'webhook-sink:8080': `127.0.0.1:${sinkPort}`,
    };

    // The webhook sink, as the compose service runs it.
    const [sinkCmd, ...sinkArgs] = localCommand(compose, 'webhook-sink', service(compose, 'webhook-sink').entrypoint ?? [], addresses);
    expect(sinkCmd).toBe('node');
    procs.run(process.execPath, sinkArgs, { env: { ...process.env, PORT: String(sinkPort), HOST: '127.0.0.1' } });

    // Alertmanager with the stack's alertmanager.yml: notifications after 1s, a changed group
    // re-notified after 2s (so a second copy of the alert, were it kept apart, would show at once).
    const amConfig = rewriteAddresses(parse(readFileSync(hostPath(compose, 'alertmanager', flag(service(compose, 'alertmanager').command, 'config.file')), 'utf8')) as { route: Record<string, unknown> }, compose, addresses);
    amConfig.route.group_wait = '1s';
    amConfig.route.group_interval = '2s';
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(amConfig));
    procs.run('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${mkdtempSync(join(dir, 'am-'))}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);

    // The profile's Prometheus with prometheus-ha.yml and the rule files mounted next to it; 1s intervals.
    const promConfig = rewriteAddresses(
      parse(readFileSync(hostPath(compose, 'prometheus-ha', flag(service(compose, 'prometheus-ha').command, 'config.file')), 'utf8')) as {
        global: Record<string, unknown>;
        rule_files: string[];
        scrape_configs: { job_name: string; authorization?: { credentials_file: string }; static_configs: { targets: string[] }[] }[];
      },
      compose,
      addresses,
    );
    promConfig.global.scrape_interval = '1s';
    promConfig.global.evaluation_interval = '1s';
    promConfig.rule_files = promConfig.rule_files.map((f) => hostPath(compose, 'prometheus-ha', f));
    const vigilJob = promConfig.scrape_configs.find((j) => j.job_name === 'vigil');
    if (vigilJob?.authorization === undefined) throw new Error('the vigil scrape job sends no token');
    expect(vigilJob.static_configs.flatMap((c) => c.targets).sort()).toEqual([`127.0.0.1:${aPort}`, `127.0.0.1:${bPort}`].sort());
    vigilJob.authorization.credentials_file = hostPath(compose, 'prometheus-ha', vigilJob.authorization.credentials_file);
    const readToken = readFileSync(vigilJob.authorization.credentials_file, 'utf8').trim();
    writeFileSync(join(dir, 'prometheus.yml'), stringify(promConfig));
    procs.run('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${mkdtempSync(join(dir, 'tsdb-'))}`, `--web.listen-address=127.0.0.1:${promPort}`]);

    // The replicas' configuration: the file both compose replicas run, with the test's model and rule.
    const a = service(compose, 'vigil-a');
    const b = service(compose, 'vigil-b');
    expect(b.command).toEqual(a.command);
    const haConfigFile = hostPath(compose, 'vigil-a', a.command?.[2] ?? '');
    const haConfig = parse(readFileSync(haConfigFile, 'utf8')) as Record<string, unknown> & { storage: { backend: string }; alerting: Record<string, unknown> };
    expect(haConfig.storage.backend).toBe('postgres');
    writeFileSync(join(dir, 'ha.rules.yml'), RULES);
    const config = join(dir, 'vigil-ha.yaml');
    writeFileSync(config, stringify({ ...haConfig, models: MODELS, rule_files: ['ha.rules.yml'], alerting: { ...haConfig.alerting, bundled_rules: false } }));

    // One fresh database; the password from a file, as the compose secret gives it (the tests'
    // PostgreSQL trusts loopback, so any password does: what matters is that none is logged).
    const db = await freshDatabase(server);
    drops.push(db.drop);
    const password = `ha-stack-secret-${Math.random().toString(36).slice(2, 10)}`;
    writeFileSync(join(dir, 'vigil-db-password'), `${password}\n`);

    const replicaEnv = (name: string, port: number): Record<string, string> => {
      const url = `http://127.0.0.1:${port}`;
      const external = name === 'vigil-a' ? 'VIGIL_A_EXTERNAL_URL' : 'VIGIL_B_EXTERNAL_URL';
      const composeEnv = Object.fromEntries(Object.entries(service(compose, name).environment ?? {}).map(([k, v]) => [k, interpolateCompose(v, { [external]: url })]));
      return {
        ...rewriteAddresses(composeEnv, compose, addresses),
        VIGIL_ADDRESS: '127.0.0.1',
        VIGIL_PORT: String(port),
        VIGIL_DB_URL: db.url,
        VIGIL_DB_PASSWORD_FILE: join(dir, 'vigil-db-password'),
        VIGIL_EVALUATION_INTERVAL: '1s',
        VIGIL_CONFIG_DIR: hostPath(compose, name, '/etc/vigil'), // the token files
      };
    };
    const envA = replicaEnv('vigil-a', aPort);
    expect(envA.VIGIL_ALERTMANAGER_URL).toBe(amUrl);
    expect(replicaEnv('vigil-b', bPort).VIGIL_ALERTMANAGER_URL).toBe(amUrl);
    // both at once: the migrations run once, under their advisory lock
    replicas.push(...(await Promise.all([startServe(MAIN, config, { env: envA, timeoutMs: 60_000 }), startServe(MAIN, config, { env: replicaEnv('vigil-b', bPort), timeoutMs: 60_000 })])));
    const [va, vb] = replicas as [RunningVigil, RunningVigil];
    expect([va.url, vb.url]).toEqual([`http://127.0.0.1:${aPort}`, `http://127.0.0.1:${bPort}`]);

    const ready = async (url: string) => ((await fetch(url)).ok ? true : undefined);
    await waitFor('prometheus ready', () => ready(`${promUrl}/-/ready`), 30_000);
    await waitFor('alertmanager ready', () => ready(`${amUrl}/-/ready`), 30_000);
    await waitFor('webhook sink ready', () => ready(`${sinkUrl}/healthz`), 30_000);
    const read = { headers: { authorization: `Bearer ${readToken}` } };
    const getJson = async <T>(url: string, init: RequestInit = {}): Promise<T> => {
      const r = await fetch(url, init);
      if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const promQuery = (q: string) => getJson<PromVector>(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);

    // One leader between them, as each says on /readyz.
    const roles = await waitFor('one leader and one follower', async () => {
      const r = await Promise.all([va, vb].map(async (v) => (await getJson<{ role?: string }>(`${v.url}/readyz`)).role));
      return [...r].sort().join() === 'follower,leader' ? r : undefined;
    }, 60_000);
    expect(roles).toHaveLength(2);

    // Prometheus scrapes both (with the read token) and sees one leader: vigil_leader sums to 1.
    await waitFor('Prometheus to scrape both replicas', async () => {
      const t = await getJson<{ data: { activeTargets: { labels: Record<string, string>; health: string }[] } }>(`${promUrl}/api/v1/targets`);
      const up = t.data.activeTargets.filter((x) => x.labels.job === 'vigil' && x.health === 'up').map((x) => x.labels.instance).sort();
      return up.join() === [`127.0.0.1:${aPort}`, `127.0.0.1:${bPort}`].sort().join() ? true : undefined;
    }, 60_000);
    const leaders = await waitFor('vigil_leader of both replicas in Prometheus', async () => {
      const q = await promQuery('vigil_leader{job="vigil"}');
      return q.data.result.length === 2 && q.data.result.reduce((n, r) => n + Number(r.value[1]), 0) === 1 ? q.data.result : undefined;
    }, 60_000);
    expect(leaders.map((r) => r.value[1]).sort()).toEqual(['0', '1']);
    expect((await promQuery('sum(vigil_leader{job="vigil"})')).data.result[0]?.value[1]).toBe('1');

    // Predictions spread over both replicas, with the ingest token; each follows the other's from the database.
    const ingest = envA.VIGIL_INGEST_TOKEN ?? '';
    expect(ingest).not.toBe('');
    const preds = Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, ts: Date.now() - 1000, model_version: 'v1', prediction: i % 2, score: 0.7, features: { x: i } }));
    for (const [v, part] of [[va, preds.slice(0, 15)], [vb, preds.slice(15)]] as const) {
      const posted = await fetch(`${v.url}/v1/models/ha-demo/predictions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest}` }, body: JSON.stringify(part) });
      expect(posted.status).toBe(200);
    }
    // both export the same ml_ series (but the freshness gauges: seconds since, at each one's own cycle)
    const mlLines = async (v: RunningVigil): Promise<string[]> =>
      (await (await fetch(`${v.url}/metrics`, read)).text())
        .split('\n')
        .filter((l) => l.startsWith('ml_') && !/^ml_\w+_freshness_seconds\{/.test(l))
        .sort();
    const same = await waitFor('the same ml_ series on both replicas', async () => {
      const [la, lb] = await Promise.all([mlLines(va), mlLines(vb)]);
      // a cycle of each has computed its windows over the 30 rows, and they agree on every line
      const computed = la.some((l) => l.startsWith('ml_predictions_total{') && l.endsWith(' 30')) && la.some((l) => l.startsWith('ml_window_samples{') && l.endsWith(' 30'));
      return computed && la.join('\n') === lb.join('\n') ? la : undefined;
    }, 60_000);
    expect(same.filter((l) => l.startsWith('ml_window_samples{') && l.endsWith(' 30')).length).toBeGreaterThan(0);
    const perInstance = await waitFor('30 predictions on both replicas, in Prometheus', async () => {
      const q = await promQuery('sum by (instance) (ml_predictions_total{job="vigil", model="ha-demo"})');
      return q.data.result.length === 2 && q.data.result.every((r) => r.value[1] === '30') ? q.data.result : undefined;
    }, 60_000);
    expect(perInstance.map((r) => r.metric.instance).sort()).toEqual([`127.0.0.1:${aPort}`, `127.0.0.1:${bPort}`].sort());

    // Both replicas fire the alert, and both deliver it to Alertmanager.
    for (const v of [va, vb]) {
      await waitFor(`${ALERT} firing on ${v.url}`, async () => {
        const alerts = (await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(`${v.url}/api/v1/alerts`, read)).data.alerts;
        return alerts.some((x) => x.labels.alertname === ALERT && x.state === 'firing') ? true : undefined;
      }, 60_000);
    }
    const delivered = async (v: RunningVigil): Promise<number> =>
      (await (await fetch(`${v.url}/metrics`, read)).text())
        .split('\n')
        .filter((l) => l.startsWith('vigil_notifications_total{') && l.includes(`receiver="alertmanager:127.0.0.1:${amPort}"`) && l.includes('outcome="success"'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    for (const v of [va, vb]) await waitFor(`${v.url} to deliver to Alertmanager`, async () => ((await delivered(v)) > 0 ? true : undefined), 60_000);

    // Alertmanager holds one alert, in one group: the two copies have the same labels.
    const filter = `filter=${encodeURIComponent(`alertname="${ALERT}"`)}`;
    const held = await waitFor(`${ALERT} in Alertmanager`, async () => {
      const list = await getJson<AmAlert[]>(`${amUrl}/api/v2/alerts?${filter}`);
      return list.length > 0 ? list : undefined;
    }, 30_000);
    expect(held).toHaveLength(1);
    expect(held[0]?.labels).toEqual({ alertname: ALERT, model: 'ha-demo', severity: 'warning', stack: 'ha' });
    expect(held[0]?.status.state).toBe('active');
    expect(held[0]?.receivers.map((r) => r.name)).toEqual(['webhook-sink']);
    const groups = (await getJson<AmGroup[]>(`${amUrl}/api/v2/alerts/groups?${filter}`)).filter((g) => g.alerts.some((x) => x.labels.alertname === ALERT));
    expect(groups).toHaveLength(1);
    expect(groups[0]?.labels).toEqual({ alertname: ALERT, model: 'ha-demo' });
    expect(groups[0]?.alerts).toHaveLength(1);

    // The sink gets one notification for it, and no second one after several group intervals.
    const notified = async () => (await getJson<{ alerts: SinkAlert[] }>(`${sinkUrl}/`)).alerts.filter((x) => x.labels.alertname === ALERT);
    const first = await waitFor(`the webhook sink to receive ${ALERT}`, async () => {
      const n = await notified();
      return n.length > 0 ? n : undefined;
    }, 30_000);
    expect(first[0]?.receiver).toBe('webhook-sink');
    expect(first[0]?.status).toBe('firing');
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await notified()).toHaveLength(1);
    // still one alert, though both replicas keep sending it
    expect(await getJson<AmAlert[]>(`${amUrl}/api/v2/alerts?${filter}`)).toHaveLength(1);

    // The password came from the file and never reached a log line.
    expect(va.lines.join('\n') + vb.lines.join('\n')).not.toContain(password);
  }, 240_000);
});
