/**
 * The web UI: `GET /` (the page shell) and `GET /ui/app.js` (its client). Public: neither holds
 * data — the client reads the JSON API with the token the user gives (src/http/ui/shell.ts).
 */
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { packagePath } from '../../core/paths.js';
import type { ServerDeps } from '../server.js';
import { UI_CSP, uiShell } from '../ui/shell.js';

export const uiRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app) => {
  const publicAccess = { config: { access: 'public' as const } };
  // the pages: one shell, the client draws the page of its path
  for (const path of ['/', '/alerts', '/incidents']) {
    app.get(path, publicAccess, async (_req, reply) =>
      reply.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', UI_CSP).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'no-cache').send(uiShell()),
    );
  }
  // read once, at the first request (a file of the package: it does not change while Vigil runs)
  let client: Promise<string> | undefined;
  app.get('/ui/app.js', publicAccess, async (_req, reply) =>
    reply
      .header('Content-Type', 'text/javascript; charset=utf-8')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'no-cache')
      .send(await (client ??= readFile(packagePath('ui', 'app.js'), 'utf8'))),
  );
};
