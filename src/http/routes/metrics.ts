import type { FastifyPluginAsync } from 'fastify';
import type { ServerDeps } from '../server.js';

/** `/metrics`: Prometheus text format, or OpenMetrics when the Accept header asks for it. */
export const metricsRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  app.get('/metrics', async (req, reply) => {
    const registry = deps.registry.forAccept(req.headers.accept);
    const body = await registry.metrics();
    return reply.header('Content-Type', registry.contentType).header('Cache-Control', 'no-store').send(body);
  });
};
