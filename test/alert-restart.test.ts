import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { debianTool } from './debian.js';
import { startFakeWebhook, type FakeWebhook } from './fakes/fake-receivers.js';
import { Processes, freePort, waitFor } from './processes.js';

/**
 * Alerting across restarts of the real `vigil serve` process (SIGTERM and `kill -9`), on the same
 * SQLite file: a pending 1h `for` is restored as Prometheus restores it (ALERTS_FOR_STATE,
 * for_grace_period) instead of starting over; an alert that fires and resolves while
 * Alertmanager is down reaches the real Debian `prometheus-alertmanager`, firing then resolved,
 * once it starts. Needs the build (`npm test` runs it first).
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);

const dir = mkdtempSync(join(tmpdir(), 'vigil-alert-restart-'));
const procs = new Processes();
const running = new Set<Vigil>();
let hook: FakeWebhook | undefined;
let proxy: Server | undefined;
afterAll(async () => {
  for (const v of running) {
    v.child.kill('SIGKILL');
    await v.exited;
  }
  proxy?.close();
  await procs.stopAll();
  await hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Vigil {
  child: ChildProcess;
  url: string;
  /** Parsed JSON log lines. */
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `vigil serve` and resolves once it logged `vigil started`. */
async function startVigil(config: string): Promise<Vigil> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr?.on('data', (d) => raw.push(String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vigil did not start:\n${raw.join('\n')}`)), 30_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      raw.push(line);
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        logs.push(rec);
        if (rec.msg === 'vigil started' && typeof rec.url === 'string') {
          clearTimeout(timer);
          resolve(rec.url);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then(() => reject(new Error(`vigil exited early:\n${raw.join('\n')}`)));
  });
  const v = { child, url, logs, exited };
  running.add(v);
  return v;
}

async function stopVigil(v: Vigil, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  v.child.kill(signal);
  const r = await v.exited;
  running.delete(v);
  if (signal === 'SIGTERM') expect(r.code).toBe(0);
  else expect(r.signal).toBe('SIGKILL');
}

const getJson = async <T>(url: string): Promise<T> => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};

const postPredictions = async (v: Vigil, ids: string[]): Promise<void> => {
  const r = await fetch(`${v.url}/v1/models/m/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ids.map((id) => ({ id, prediction: 1, score: 0.9, features: { x: 1 } }))),
  });
  expect(r.status).toBe(200);
};

/** Reads the SQLite file as another process would (WAL: fine while Vigil runs). */
function query<T>(db: string, sql: string): T[] {
  const h = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return h.prepare(sql).all() as T[];
  } finally {
    h.close();
  }
}

type ApiAlert = { labels: Record<string, string>; state: string; activeAt: string };
const alertsOf = async (v: Vigil, name: string): Promise<ApiAlert[]> =>
  (await getJson<{ data: { alerts: ApiAlert[] } }>(`${v.url}/api/v1/alerts`)).data.alerts.filter((a) => a.labels.alertname === name);

const MODEL = 'models:\n  - name: m\n    task: binary\n    windows: [1h]\n    features:\n      - { name: x, type: numeric }\n';

describe('alert state across restarts of the vigil process', () => {
  it('a 1h `for` pending before a restart (SIGTERM, then kill -9) does not start over: activeAt shifts by the downtime, as Prometheus restores it', async () => {
    const db = join(dir, 'for.db');
    writeFileSync(join(dir, 'for.rules.yml'), 'groups:\n  - name: slow\n    rules:\n      - alert: LongPending\n        expr: ml_window_samples{window="1h"} > 0\n        for: 1h\n');
    const config = join(dir, 'for.yaml');
    writeFileSync(config, `server:\n  port: 0\nstorage:\n  path: ${db}\nevaluation_interval: 1s\nrule_files: [for.rules.yml]\nalerting:\n  bundled_rules: false\n${MODEL}`);

    let v = await startVigil(config);
    await postPredictions(v, ['p1']); // ml_window_samples comes from the store: it survives a restart
    const pending = await waitFor('LongPending pending', async () => (await alertsOf(v, 'LongPending')).find((a) => a.state === 'pending'));
    let activeAt = Date.parse(pending.activeAt);
    // Pending for a few evaluations before the restart.
    await waitFor('3 s of pending', async () => {
      const rules = await getJson<{ data: { groups: { lastEvaluation: string }[] } }>(`${v.url}/api/v1/rules`);
      return Date.parse(rules.data.groups[0]?.lastEvaluation ?? '') - activeAt >= 3000 ? true : undefined;
    });

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await stopVigil(v, signal);
      // What the last evaluation before going down persisted (Prometheus: the last ALERTS_FOR_STATE sample).
      const [row] = query<{ value: string }>(db, "SELECT value FROM state WHERE key = 'alerting.state'");
      const persisted = (JSON.parse(row?.value ?? '[]') as { labels: Record<string, string>; activeAt: number; evaluatedAt: number; state: string }[]).find((p) => p.labels.alertname === 'LongPending');
      expect(persisted).toMatchObject({ state: 'pending', activeAt });
      const downAt = persisted?.evaluatedAt as number;
      const sec = (ms: number) => Math.floor(ms / 1000) * 1000;

      const started = Date.now();
      v = await startVigil(config);
      // The group restores its `for` state at its second evaluation after the start (Prometheus does the same).
      const log = await waitFor('the `for` state restored', async () => v.logs.find((l) => l.msg === 'alert `for` state restored'), 30_000, () => JSON.stringify(v.logs.slice(-5)));
      const restoredAt = Date.parse(log.at as string);
      expect(restoredAt).toBeGreaterThanOrEqual(sec(started));
      const after = (await alertsOf(v, 'LongPending'))[0];
      expect(after?.state).toBe('pending');
      const newActiveAt = Date.parse(after?.activeAt ?? '');
      // remaining = for − (downAt − activeAt) ≥ grace period (10m): activeAt moves by the downtime, so
      // the time already spent pending is kept (to the second); starting over would put activeAt at
      // the first evaluation after the start, the time spent pending at the restore one evaluation.
      expect(newActiveAt).toBe(sec(activeAt) + (restoredAt - sec(downAt)));
      expect(restoredAt - newActiveAt).toBe(sec(downAt) - sec(activeAt));
      expect(restoredAt - newActiveAt).toBeGreaterThanOrEqual(2000);
      // ALERTS_FOR_STATE (whole seconds) says the same on /metrics once the cycle has published.
      const forState = await waitFor('ALERTS_FOR_STATE on /metrics', async () => /^ALERTS_FOR_STATE\{alertname="LongPending",[^}]*\} (\d+)$/m.exec(await (await fetch(`${v.url}/metrics`)).text())?.[1]);
      expect(Number(forState)).toBe(Math.floor(newActiveAt / 1000));
      activeAt = newActiveAt;
      // At least one evaluation persisted the restored state before the next stop.
      await waitFor('the restored state persisted', async () => {
        const [r] = query<{ value: string }>(db, "SELECT value FROM state WHERE key = 'alerting.state'");
        const p = (JSON.parse(r?.value ?? '[]') as { labels: Record<string, string>; activeAt: number; evaluatedAt: number }[]).find((x) => x.labels.alertname === 'LongPending');
        return p !== undefined && p.activeAt === newActiveAt && p.evaluatedAt > restoredAt ? true : undefined;
      });
    }
    await stopVigil(v, 'SIGTERM');
  }, 60_000);

  const alertmanager = debianTool('prometheus-alertmanager', 'prometheus-alertmanager');
  it.runIf(alertmanager.available)(
    'an alert that fires and resolves while Alertmanager is down survives a SIGTERM and a kill -9 of Vigil: the real Alertmanager gets it firing, then resolved',
    async () => {
      const db = join(dir, 'am.db');
      const [amPort, proxyPort] = [await freePort(), await freePort()];
      hook = await startFakeWebhook();
      writeFileSync(join(dir, 'am.rules.yml'), 'groups:\n  - name: blip\n    rules:\n      - alert: Blip\n        expr: ml_window_samples{window="1h"} == 1\n        labels: { severity: page }\n');
      const config = join(dir, 'am.yaml');
      writeFileSync(
        config,
        `server:\n  port: 0\nstorage:\n  path: ${db}\nevaluation_interval: 1s\nrule_files: [am.rules.yml]\nalerting:\n  bundled_rules: false\n` +
          `alertmanagers:\n  - url: http://127.0.0.1:${proxyPort}\n    name: am\n    resolve_after_replay: 5s\n    retry: { initial_backoff: 200ms, max_backoff: 1s }\n${MODEL}`,
      );

      // Alertmanager (and the proxy in front of it) are down: connections to the port are refused.
      let v = await startVigil(config);
      await postPredictions(v, ['p1']);
      const fired = await waitFor('Blip firing', async () => (await alertsOf(v, 'Blip')).find((a) => a.state === 'firing'));
      const startsAt = Date.parse(fired.activeAt); // no `for`: firedAt = activeAt
      type Row = { id: string; payload: string };
      const outbox = () => query<Row>(db, 'SELECT id, payload FROM outbox ORDER BY id');
      await waitFor('the firing alert in the outbox', async () => (outbox().some((r) => r.id.endsWith(':firing')) ? true : undefined));
      await postPredictions(v, ['p2']); // two samples: Blip resolves
      await waitFor('the resolution in the outbox', async () => (outbox().some((r) => r.id.endsWith(':resolved')) ? true : undefined));
      await waitFor('Blip resolved', async () => ((await alertsOf(v, 'Blip')).length === 0 ? true : undefined));
      const metrics = await (await fetch(`${v.url}/metrics`)).text();
      expect(metrics).toMatch(/^vigil_notifications_total\{receiver="am",outcome="retry"\} [1-9]/m);
      expect(metrics).not.toMatch(/^vigil_notifications_total\{receiver="am",outcome="(failure|dropped)"\} [1-9]/m);

      const held = outbox().map((r) => r.id.split(':').at(-1));
      await stopVigil(v, 'SIGTERM');
      expect(outbox().map((r) => r.id.split(':').at(-1))).toEqual(held);
      v = await startVigil(config); // restores the outbox, retries against the refused port …
      await waitFor('a retry after the restart', async () => (/^vigil_notifications_total\{receiver="am",outcome="retry"\} [1-9]/m.test(await (await fetch(`${v.url}/metrics`)).text()) ? true : undefined));
      await stopVigil(v, 'SIGKILL'); // … and dies between persisting and delivering
      const rows = outbox();
      expect(rows.map((r) => r.id.split(':').at(-1)).sort()).toEqual(['firing', 'resolved']);
      const resolvedAt = Date.parse((JSON.parse(rows.find((r) => r.id.endsWith(':resolved'))?.payload ?? '{}') as { alert: { endsAt: string } }).alert.endsAt);
      v = await startVigil(config);

      // Alertmanager starts, routing to the webhook with send_resolved; then the recording proxy.
      writeFileSync(
        join(dir, 'alertmanager.yml'),
        `route:\n  receiver: hook\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${hook.url}/am\n        send_resolved: true\n`,
      );
      procs.run('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${mkdtempSync(join(dir, 'am-'))}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);
      await waitFor('alertmanager ready', async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : undefined));
      const seen: { at: number; alerts: { labels: Record<string, string>; startsAt: string; endsAt: string }[] }[] = [];
      proxy = await recordingProxy(proxyPort, `http://127.0.0.1:${amPort}`, (body) => seen.push({ at: Date.now(), alerts: JSON.parse(body) as (typeof seen)[number]['alerts'] }));

      type Notified = { status: string; alerts: { status: string; labels: Record<string, string>; startsAt: string; endsAt: string }[] };
      const notified = () => (hook as FakeWebhook).state.payloads.map((p) => p as Notified);
      await waitFor('the webhook to get Blip resolved', async () => (notified().some((n) => n.alerts.some((a) => a.labels.alertname === 'Blip' && a.status === 'resolved')) ? true : undefined), 30_000, () => JSON.stringify({ seen, notified: notified() }));

      // What Vigil POSTed, in order: Blip firing (startsAt = firedAt), then resolved (endsAt = resolvedAt).
      const posted = seen.flatMap((s) => s.alerts.filter((a) => a.labels.alertname === 'Blip').map((a) => ({ at: s.at, startsAt: Date.parse(a.startsAt), endsAt: Date.parse(a.endsAt) })));
      expect(posted.length).toBeGreaterThanOrEqual(2);
      expect(posted.every((p) => p.startsAt === startsAt)).toBe(true);
      const firstResolved = posted.findIndex((p) => p.endsAt === resolvedAt);
      expect(firstResolved).toBeGreaterThan(0);
      expect(posted[0]?.endsAt).toBeGreaterThan(posted[0]?.at as number); // still firing when sent
      // The resolution followed resolve_after_replay (5s) after the firing was delivered.
      expect((posted[firstResolved]?.at as number) - (posted[0]?.at as number)).toBeGreaterThanOrEqual(4900);
      // The webhook: notified firing first, then resolved, with the alert's real start.
      const blip = notified().flatMap((n) => n.alerts.filter((a) => a.labels.alertname === 'Blip'));
      expect(blip.map((a) => a.status)).toEqual(['firing', 'resolved']);
      expect(blip.every((a) => Date.parse(a.startsAt) === startsAt)).toBe(true);
      expect(Date.parse(blip[1]?.endsAt ?? '')).toBe(resolvedAt);
      expect(blip[0]?.labels).toMatchObject({ alertname: 'Blip', model: 'm', severity: 'page' });
      // Delivered: the outbox is empty, nothing failed or was dropped.
      await waitFor('an empty outbox', async () => (outbox().length === 0 ? true : undefined));
      const m = await (await fetch(`${v.url}/metrics`)).text();
      expect(m).toMatch(/^vigil_notifications_total\{receiver="am",outcome="success"\} [1-9]/m);
      expect(m).not.toMatch(/^vigil_notifications_total\{receiver="am",outcome="(failure|dropped)"\} [1-9]/m);
      await stopVigil(v, 'SIGTERM');
    },
    60_000,
  );
});

/**
 * A recording HTTP proxy in front of the real Alertmanager: every request is forwarded and the
 * real answer (status, body) returned; the bodies of `POST /api/v2/alerts` are recorded in order.
 */
function recordingProxy(port: number, target: string, record: (body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && req.url === '/api/v2/alerts') record(body);
      fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }) })
        .then(async (r) => {
          const text = await r.text();
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
          res.end(text);
        })
        .catch((e: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(e));
        });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
