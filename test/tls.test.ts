import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { debianTool } from './debian.js';
import { waitFor } from './processes.js';

/**
 * HTTPS with `server.tls` on the real `vigil serve` process: certificates made by the real
 * `openssl req -x509` in a temporary directory, real HTTPS requests, and a SIGHUP after the files
 * are replaced, after which new connections get the new certificate. Needs the build.
 */
const MAIN = join(import.meta.dirname, '../dist/src/main.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
const openssl = debianTool('openssl', 'openssl');

const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

const CERT = join(dir, 'cert.pem');
const KEY = join(dir, 'key.pem');

/** A self-signed certificate for 127.0.0.1 with this common name, written over CERT and KEY. */
function makeCertificate(cn: string): void {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', KEY, '-out', CERT],
    { stdio: 'ignore' },
  );
}

/** GET over a new TLS connection, trusting exactly the certificate now in CERT. */
function get(url: string, ca: Buffer): Promise<{ status: number; cn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      const cert = res.socket && 'getPeerCertificate' in res.socket ? (res.socket as import('node:tls').TLSSocket).getPeerCertificate() : undefined;
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn: String(cert?.subject?.CN ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(openssl.available)('server.tls', () => {
  it('serves HTTPS with the configured certificate and serves a replaced one after SIGHUP', async () => {
    makeCertificate('vigil-first');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `server:\n  port: 0\n  timeouts: { headers: 1s, body: 2s }\n  tls:\n    cert_file: ${CERT}\n    key_file: ${KEY}\nstorage:\n  path: ${join(dir, 'vigil.db')}\nmodels:\n  - { name: m, task: binary, features: [{ name: x, type: numeric }] }\n`);
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const lines: string[] = [];
    child.stderr?.on('data', (d) => lines.push(String(d)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
    const url = await waitFor('vigil started', async () => {
      for (const l of lines) {
        const m = /"msg":"vigil started".*"url":"([^"]+)"|"url":"([^"]+)".*"msg":"vigil started"/.exec(l);
        if (m) return m[1] ?? m[2];
      }
      return undefined;
    }, 30_000, () => lines.join('\n'));
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const first = await get(`${url}/healthz`, readFileSync(CERT));
    expect(first).toMatchObject({ status: 200, cn: 'vigil-first' });

    // A client that connects and never starts the TLS handshake is closed after the headers timeout.
    const stalled = await new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const s = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
      s.on('error', reject);
      s.on('close', () => resolve(performance.now() - t0));
    });
    expect(stalled).toBeGreaterThan(900);
    expect(stalled).toBeLessThan(15_000);

    // Renewed: new files in place, then SIGHUP.
    makeCertificate('vigil-renewed');
    const renewed = readFileSync(CERT);
    child.kill('SIGHUP');
    const after = await waitFor('the renewed certificate', async () => {
      const r = await get(`${url}/healthz`, renewed).catch(() => undefined);
      return r?.cn === 'vigil-renewed' ? r : undefined;
    }, 15_000, () => lines.join('\n'));
    expect(after.status).toBe(200);

    // A broken certificate file: the reload fails and the running certificate stays.
    writeFileSync(CERT, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    child.kill('SIGHUP');
    await waitFor('the failed reload', async () => (lines.some((l) => l.includes('configuration reload failed')) ? true : undefined), 15_000, () => lines.join('\n'));
    expect(lines.find((l) => l.includes('configuration reload failed'))).toContain('server.tls.cert_file');
    expect(await get(`${url}/healthz`, renewed)).toMatchObject({ status: 200, cn: 'vigil-renewed' });

    // Switching TLS off takes a restart: the reload says so, and HTTPS goes on.
    writeFileSync(config, readFileSync(config, 'utf8').replace(/  tls:\n.*\n.*\n/, ''));
    const reloaded = await new Promise<string>((resolve, reject) => {
      const req = request(`${url}/-/reload`, { method: 'POST', ca: renewed, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += String(d)));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(reloaded)).toMatchObject({ status: 'success', restart_required: ['server.tls'] });
    expect(await get(`${url}/healthz`, renewed)).toMatchObject({ status: 200, cn: 'vigil-renewed' });

    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', (code) => r(code)))).toBe(0);
  }, 60_000);
});
