import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { VigilError } from '../core/errors.js';
import { closeWithoutReading } from './transport.js';

/**
 * Bearer-token checks, run in `onRequest`: before a byte of the body is read, so a request
 * without a valid token costs a header parse, whatever its body (docs/security.md).
 *
 * Roles, ordered `read` < `ingest` < `admin`: a token of a higher role is accepted wherever a
 * lower one is. Each route says what it needs with `config: { access }`:
 *
 * - `public`: always open (`/healthz`, `/readyz`, the runbooks).
 * - `read` (the default for GET/HEAD): needs a token once any `read` token is configured.
 * - `raw` (stored raw data: a prediction's features): needs a token once any token is configured.
 * - `ingest` (writes) and `admin` (reload, overrides, approvals): need a token of that role once
 *   any token is configured. Routes of other methods default to `admin`, so a new write route is
 *   closed until it says otherwise.
 *
 * With no token configured at all the API is open (the demo).
 */
export type Role = 'read' | 'ingest' | 'admin';
export type Access = 'public' | 'read' | 'raw' | 'ingest' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (src/http/auth.ts). */
    access?: Access;
  }
}

type Tokens = ServerConfig['tokens'];

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function matches(presented: string, tokens: readonly string[]): boolean {
  const p = digest(presented);
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(p, digest(t)) || ok; // constant time over the list
  return ok;
}

/** The role a request needs for `access` under these tokens, or null when it needs none. */
export function requiredRole(tokens: Tokens, access: Access): Role | null {
  const any = tokens.read.length + tokens.ingest.length + tokens.admin.length > 0;
  if (access === 'public' || !any) return null;
  if (access === 'read') return tokens.read.length > 0 ? 'read' : null;
  if (access === 'raw') return 'read';
  return access;
}

/** Throws 401 (no bearer token) or 403 (not valid for the role) unless the request may pass. */
export function checkToken(tokens: Tokens, access: Access, authorization: string | undefined): void {
  const role = requiredRole(tokens, access);
  if (role === null) return;
  const m = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (m === null) {
    throw new VigilError('VIGIL_ERR_AUTH_MISSING', 'this endpoint needs "Authorization: Bearer <token>"', { statusCode: 401 });
  }
  const allowed = role === 'admin' ? tokens.admin : role === 'ingest' ? [...tokens.ingest, ...tokens.admin] : [...tokens.read, ...tokens.ingest, ...tokens.admin];
  if (!matches(m[1] as string, allowed)) {
    throw new VigilError('VIGIL_ERR_AUTH_FORBIDDEN', `the token is not valid for ${role} endpoints`, { statusCode: 403 });
  }
}

/** The access a route declared, or its method's default. */
export const accessOf = (req: FastifyRequest): Access =>
  req.routeOptions.config?.access ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'admin');

/**
 * The server-wide `onRequest` hook. A refused request that carries a body is answered with
 * `Connection: close`, and the rest of its body is never read (closeWithoutReading).
 */
export const authenticate =
  (tokens: () => Tokens) =>
  async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      checkToken(tokens(), accessOf(req), req.headers.authorization);
    } catch (e) {
      if ((e as VigilError).statusCode === 401) void reply.header('WWW-Authenticate', 'Bearer realm="vigil"');
      if ((req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined) {
        void reply.header('Connection', 'close');
        closeWithoutReading(req.raw.socket);
      }
      throw e;
    }
  };
