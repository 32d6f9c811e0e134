import type { FastifyPluginAsync } from 'fastify';
import type { ServerDeps } from '../server.js';

/** `/healthz`: the process is alive. `/readyz`: config loaded, store open, not shutting down. */
export const healthRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  const open = { config: { access: 'public' as const } };
  app.get('/healthz', open, async () => ({ status: 'ok' }));
  app.get('/readyz', open, async (_req, reply) => {
    const r = deps.readiness();
    const role = r.role === undefined ? {} : { role: r.role };
    return reply.status(r.ready ? 200 : 503).send(r.ready ? { status: 'ready', ...role } : { status: 'not ready', reasons: r.reasons, ...role });
  });
};
