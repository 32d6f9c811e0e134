import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from './load.js';

/** The `server` section's edge settings: token files, timeouts, TLS files (docs/security.md). */
const dir = mkdtempSync(join(tmpdir(), 'vigil-server-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const issues = (text: string) => {
  try {
    parseConfigText(text, 'vigil.yaml', {});
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => ({ line: i.line, path: i.path, code: i.code, message: i.message }));
    throw e;
  }
  throw new Error('the configuration was accepted');
};

describe('server.token_files', () => {
  it('adds the token in each file (surrounding whitespace ignored) to its role', () => {
    writeFileSync(join(dir, 'read.token'), 'read-token-from-a-file-0001\n');
    const cfg = parseConfigText(`server:\n  tokens:\n    read: ["read-token-inline-000001"]\n  token_files:\n    read: [${join(dir, 'read.token')}]\n`, 'vigil.yaml', {});
    expect(cfg.server.tokens).toEqual({ read: ['read-token-inline-000001', 'read-token-from-a-file-0001'], ingest: [], admin: [] });
  });

  it('a missing file or one without a usable token is an error naming the key and line', () => {
    writeFileSync(join(dir, 'short.token'), 'short\n');
    expect(issues(`server:\n  token_files:\n    ingest:\n      - ${join(dir, 'nope.token')}\n    admin: [${join(dir, 'short.token')}]\n`)).toEqual([
      { line: 4, path: 'server.token_files.ingest[0]', code: 'VIGIL_ERR_CONFIG_VALUE', message: `cannot read the token file ${join(dir, 'nope.token')}: ENOENT` },
      { line: 5, path: 'server.token_files.admin[0]', code: 'VIGIL_ERR_CONFIG_VALUE', message: `the token file ${join(dir, 'short.token')} must hold one token of at least 16 characters` },
    ]);
  });
});

describe('server.timeouts and server.max_connections', () => {
  it('parse durations; headers may not be longer than body', () => {
    const cfg = parseConfigText('server:\n  timeouts: { headers: 2s, body: 1m, idle: 5s }\n  max_connections: 0\n', 'vigil.yaml', {});
    expect(cfg.server.timeouts).toEqual({ headers: 2000, body: 60_000, idle: 5000 });
    expect(cfg.server.max_connections).toBe(0);
    expect(issues('server:\n  timeouts:\n    headers: 1m\n    body: 30s\n')).toEqual([
      expect.objectContaining({ path: 'server.timeouts.headers', line: 3, code: 'VIGIL_ERR_CONFIG_VALUE' }),
    ]);
    expect(issues('server:\n  timeouts:\n    idle: 0s\n')[0]).toMatchObject({ path: 'server.timeouts.idle', line: 3 });
  });
});

describe('server.tls', () => {
  it('an unreadable or unusable file is an error naming the key', () => {
    writeFileSync(join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    expect(issues(`server:\n  tls:\n    cert_file: ${join(dir, 'missing.pem')}\n    key_file: ${join(dir, 'bad.pem')}\n`)).toEqual([
      expect.objectContaining({ path: 'server.tls.cert_file', code: 'VIGIL_ERR_CONFIG_VALUE', message: `cannot read ${join(dir, 'missing.pem')}: ENOENT` }),
    ]);
    expect(issues(`server:\n  tls:\n    cert_file: ${join(dir, 'bad.pem')}\n    key_file: ${join(dir, 'bad.pem')}\n`)).toEqual([
      expect.objectContaining({ path: 'server.tls.cert_file', message: expect.stringContaining('are not a usable PEM certificate and key') }),
    ]);
    expect(issues('server:\n  tls:\n    cert_file: x.pem\n')[0]).toMatchObject({ path: 'server.tls.key_file' });
  });
});
