/**
 * The web UI: `GET /`, `/alerts`, `/incidents`, `/models/<name>` (the page shell) and `GET /ui/*` (its
 * client and uPlot). Public: neither holds
 * data — the client reads the JSON API with the token the user gives (src/http/ui/shell.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync } from 'fastify';
import { packagePath } from '../../core/paths.js';
import { VigilError } from '../../core/errors.js';
import type { ServerDeps } from '../server.js';
import { UI_CSP, uiShell } from '../ui/shell.js';

const require = createRequire(import.meta.url);

export const uiRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app) => {
  const publicAccess = { config: { access: 'public' as const } };
  // the pages: one shell, the client draws the page of its path
  for (const path of ['/', '/alerts', '/incidents', '/models/:model']) {
    app.get(path, publicAccess, async (_req, reply) =>
      reply.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', UI_CSP).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'no-cache').send(uiShell()),
    );
  }
  // the client's files and uPlot's (src/http/ui/shell.ts), read once at the first request (files
  // of the package: they do not change while Vigil runs), sent gzipped to a client that takes it
  const files: Record<string, { path: string; type: string }> = {
    'app.js': { path: packagePath('ui', 'app.js'), type: 'text/javascript' },
    'common.js': { path: packagePath('ui', 'common.js'), type: 'text/javascript' },
    'model.js': { path: packagePath('ui', 'model.js'), type: 'text/javascript' },
    'uplot.min.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
    'uplot.min.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
  };
  const cache = new Map<string, Promise<{ raw: Buffer; gz: Buffer }>>();
  const load = (name: string, path: string) => {
    let hit = cache.get(name);
    if (hit === undefined) {
      hit = readFile(path).then((raw) => ({ raw, gz: gzipSync(raw, { level: 9 }) }));
      hit.catch(() => cache.delete(name));
      cache.set(name, hit);
    }
    return hit;
  };
  app.get('/ui/:file', { ...publicAccess, schema: { params: { type: 'object', properties: { file: { type: 'string', maxLength: 64 } } } } }, async (req, reply) => {
    const name = (req.params as { file: string }).file;
    const f = Object.hasOwn(files, name) ? files[name] : undefined;
    if (f === undefined) {
      // as any unknown path
      throw new VigilError('VIGIL_ERR_HTTP_NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0] ?? ''}`, { statusCode: 404 });
    }
    const { raw, gz } = await load(name, f.path);
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    void reply.header('Content-Type', `${f.type}; charset=utf-8`).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'no-cache').header('Vary', 'Accept-Encoding');
    if (gzip) void reply.header('Content-Encoding', 'gzip');
    return reply.send(gzip ? gz : raw);
  });
};
