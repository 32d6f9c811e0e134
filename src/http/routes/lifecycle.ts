import type { FastifyPluginAsync } from 'fastify';
import type { ConfigIssue } from '../../config/load.js';
import type { ServerDeps } from '../server.js';

export type ReloadOutcome =
  | { ok: true; file: string; restartRequired: string[] }
  | { ok: false; file: string; issues: readonly ConfigIssue[]; message: string };

/** `POST|PUT /-/reload` (admin): reloads the configuration, as Prometheus's lifecycle API does. */
export const lifecycleRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  const admin = { config: { access: 'admin' as const } };
  const handler = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const r = await deps.reload();
    if (r.ok) return reply.send({ status: 'success', file: r.file, restart_required: r.restartRequired });
    return reply.status(400).send({
      status: 'error',
      error: { code: 'VIGIL_ERR_CONFIG_INVALID', message: `reload failed, the running configuration is kept: ${r.message}`, issues: r.issues },
    });
  };
  app.post('/-/reload', admin, handler);
  app.put('/-/reload', admin, handler);
};
