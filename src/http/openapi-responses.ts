/**
 * The answers of the API as the OpenAPI document describes them (GET /openapi.json), by route
 * (`METHOD /url` as registered, `:param` form) and status. They are merged into the document by
 * @fastify/swagger's transform (server.ts) and never given to the routes themselves: a Fastify
 * route's `schema.response` would also serialize its answers, dropping any field it does not list.
 * openapi.test.ts checks that real answers validate against them.
 */

/** Every error answer of the API (docs/http-errors.md). */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', pattern: '^VIGIL_ERR_[A-Z0-9_]+$' },
        message: { type: 'string' },
      },
      additionalProperties: true,
    },
  },
} as const;

export interface DocumentedResponse {
  description: string;
  /** The JSON body's schema (JSON Schema 2020-12, as OpenAPI 3.1 takes it); none: not JSON. */
  schema?: object;
  /** The media type when the body is not JSON (text/plain, text/html, …). */
  type?: string;
}

export type RouteResponses = Partial<Record<number | 'default', DocumentedResponse>>;

/** Documented routes, by `METHOD /url`. A route missing here is described without its answers. */
export const RESPONSES: Record<string, RouteResponses> = {
  'GET /healthz': { 200: { description: 'The process is alive', schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } }, additionalProperties: false } } },
};

/** A route's answers in OpenAPI's form (the error shape for every 4xx/5xx as `default`). */
export function responsesOf(method: string, url: string): Record<string, unknown> | undefined {
  const documented = RESPONSES[`${method} ${url}`];
  if (documented === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(documented)) {
    if (r === undefined) continue;
    out[status] = {
      description: r.description,
      content: { [r.type ?? 'application/json']: { schema: r.schema ?? { type: 'string' } } },
    };
  }
  out.default ??= { description: 'An error (docs/http-errors.md)', content: { 'application/json': { schema: ERROR_SCHEMA } } };
  return out;
}
