import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../../test/harness.js';
import { packagePath } from '../../core/paths.js';

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('the web UI routes', () => {
  it('one public page shell for every page, with its CSP; the client and uPlot served gzipped to a client that takes it', async () => {
    t = await testDaemon('server:\n  tokens:\n    read: ["read-token-0123456789abcdef"]\nmodels: []\n');
    const d = t.daemon;
    for (const path of ['/', '/alerts', '/incidents', '/models/fraud']) {
      const r = await d.app.inject({ url: path });
      expect(r.statusCode).toBe(200); // public although read tokens are on: no data in it
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.body).toContain('<script type="module" src="/ui/app.js"></script>');
    }
    const app = readFileSync(packagePath('ui', 'model.js'));
    const plain = await d.app.inject({ url: '/ui/model.js' });
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(app)).toBe(true);
    const gz = await d.app.inject({ url: '/ui/model.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(gz.rawPayload).equals(app)).toBe(true);
    const uplot = await d.app.inject({ url: '/ui/uplot.min.js', headers: { 'accept-encoding': 'gzip' } });
    expect(uplot.statusCode).toBe(200);
    expect(gunzipSync(uplot.rawPayload).toString('utf8')).toContain('uPlot');
    expect((await d.app.inject({ url: '/ui/uplot.min.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
    // anything else under /ui/ is no path at all (no file of the package is reachable by name)
    for (const name of ['nope.js', '..%2Fpackage.json', 'constructor']) {
      const r = await d.app.inject({ url: `/ui/${name}` });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('VIGIL_ERR_HTTP_NOT_FOUND');
    }
  });
});
