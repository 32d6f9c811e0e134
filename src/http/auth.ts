import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { VigilError } from '../core/errors.js';

/**
 * Bearer-token checks. Roles: `ingest` (writes: predictions, labels, …) and `admin` (reload,
 * overrides, approvals). An admin token is accepted wherever an ingest token is. When no token of
 * any kind is configured, the API is open (the demo); as soon as one is, writes need a token.
 */
export type Role = 'ingest' | 'admin';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function matches(presented: string, tokens: readonly string[]): boolean {
  const p = digest(presented);
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(p, digest(t)) || ok; // constant time over the list
  return ok;
}

export function checkToken(tokens: ServerConfig['tokens'], role: Role, authorization: string | undefined): void {
  const open = tokens.ingest.length === 0 && tokens.admin.length === 0;
  if (open) return;
  const m = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (m === null) {
    throw new VigilError('VIGIL_ERR_AUTH_MISSING', 'this endpoint needs "Authorization: Bearer <token>"', { statusCode: 401 });
  }
  const presented = m[1] as string;
  const allowed = role === 'admin' ? tokens.admin : [...tokens.ingest, ...tokens.admin];
  if (!matches(presented, allowed)) {
    throw new VigilError('VIGIL_ERR_AUTH_FORBIDDEN', `the token is not valid for ${role} endpoints`, { statusCode: 403 });
  }
}

/** A Fastify preHandler requiring a role. */
export const requireRole =
  (tokens: () => ServerConfig['tokens'], role: Role) =>
  async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      checkToken(tokens(), role, req.headers.authorization);
    } catch (e) {
      if ((e as VigilError).statusCode === 401) void reply.header('WWW-Authenticate', 'Bearer realm="vigil"');
      throw e;
    }
  };
