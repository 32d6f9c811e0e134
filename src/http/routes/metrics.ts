import type { FastifyPluginAsync } from 'fastify';
import type { ServerDeps } from '../server.js';

/** `/metrics`: Prometheus text format, or OpenMetrics when the Accept header asks for it. */
export const metricsRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  app.get('/metrics', async (req, reply) => {
    const { contentType, body } = await deps.registry.exposition(req.headers.accept);
    return reply.header('Content-Type', contentType).header('Cache-Control', 'no-store').send(body);
  });
};
