import type { Tracing } from '../core/tracing.js';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { isVigilError, VigilError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Ingestor } from '../ingest/ingestor.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { MonitorEngine } from '../monitors/engine.js';
import type { AlertingService } from '../alerting/service.js';
import type { Silences } from '../alerting/silences.js';
import type { Remediator } from '../remediation/runner.js';
import type { Store } from '../store/store.js';
import { installBodyHandling } from './body.js';
import { clientError, errorAnswer, frameworkError, notFound, routeMethods } from './errors.js';
import { alertingRoutes } from './routes/alerting.js';
import { baselineRoutes } from './routes/baselines.js';
import { healthRoutes } from './routes/health.js';
import fastifySwagger from '@fastify/swagger';
import { vigilVersion } from '../core/version.js';
import { responsesOf } from './openapi-responses.js';
import { SUMMARIES } from './openapi-summaries.js';
import { openapiRoutes } from './routes/openapi.js';
import { kserveRoutes } from './routes/kserve.js';
import { ingestRoutes } from './routes/ingest.js';
import { lifecycleRoutes, type ReloadOutcome } from './routes/lifecycle.js';
import { metricsRoutes } from './routes/metrics.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { modelRoutes } from './routes/models.js';
import { overviewRoutes } from './routes/overview.js';
import { uiRoutes } from './routes/ui.js';
import { remediationRoutes } from './routes/remediation.js';
import { authenticate } from './auth.js';
import { listenerOptions, type TlsMaterial } from './transport.js';

export interface ServerDeps {
  logger: Logger;
  /** The running configuration (replaced on reload). */
  config: () => VigilConfig;
  store: Store;
  registry: MetricsRegistry;
  ingestor: Ingestor;
  engine: MonitorEngine;
  alerting: AlertingService;
  silences: Silences;
  remediation: Remediator;
  /** The last cycle's snapshot (what /metrics serves). */
  snapshot: () => Snapshot;
  clock: Clock;
  /** Reloads the configuration; a bad one keeps the running config and says why. */
  reload: () => Promise<ReloadOutcome>;
  /** Readiness: config loaded, store open, not shutting down. */
  /** Ready or not (and why not); `role`: leader or follower among replicas sharing a store (a single process leads). */
  readiness: () => { ready: boolean; reasons: string[]; role?: 'leader' | 'follower' };
  /** Fixed at start: changing them needs a restart. */
  bodyLimit: number;
  /** Spans of the requests that do work (ingestion); none when absent. */
  tracing?: Tracing;
  /** HTTPS with this certificate (read by readTls); whether TLS is on is fixed at start. */
  tls?: TlsMaterial | null;
}

const registered = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** The routes of an app buildServer made: method and URL (`:param` form), HEAD ones included. */
export const listRoutes = (app: FastifyInstance): readonly { method: string; url: string }[] => registered.get(app) ?? [];

/** Builds the HTTP API. Never listens: the caller does (tests use `inject`). */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    // Slow-client timeouts as configured at start (the daemon applies reloads: src/http/transport.ts).
    ...listenerOptions(deps.config().server, deps.tls ?? null),
    loggerInstance: deps.logger.child({ component: 'http' }),
    // Per-request lines are ours (onResponse below): debug, or warn for 5xx.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    // While closing, requests get 503 from our own hook below (the documented error shape),
    // not Fastify's built-in answer.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: 'array' } },
    // errors before routing (bad URL) and on the socket (HTTP parser) in the documented shape too
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
  }) as unknown as FastifyInstance;

  // Shutting down: new requests on kept-alive connections get 503 and the connection closes
  // (in-flight ones finish; `close()` stops accepting new connections).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return;
    void reply.header('Connection', 'close');
    throw new VigilError('VIGIL_ERR_HTTP_CLOSING', 'Vigil is shutting down; retry on another instance or after the restart', { statusCode: 503 });
  });
  // Tokens first: checked when the headers are in, before any byte of the body is read or parsed.
  app.addHook('onRequest', authenticate(() => deps.config().server.tokens));
  // `Expect: 100-continue` (curl's default above 1 MiB): Node would answer 100 before Vigil sees
  // the request; instead the client is told to send its body only once the token has passed.
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.addHook('preParsing', async (req, reply, payload) => {
    if (/^\s*100-continue\s*$/i.test(req.headers.expect ?? '') && !reply.raw.headersSent) reply.raw.writeContinue();
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const data = { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) req.log.warn(data, 'request failed');
    else req.log.debug(data, 'request');
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, body, unexpected } = errorAnswer(err, req);
    // a temporary refusal (the store's database does not answer): when to try again
    const retry = isVigilError(err) ? err.details?.retryAfterSeconds : undefined;
    if (typeof retry === 'number') void reply.header('Retry-After', String(retry));
    if (unexpected) {
      if (isVigilError(err)) req.log.error({ err, code: err.code }, 'request error');
      else req.log.error({ err }, 'unexpected error');
    }
    return reply.status(status).send(body);
  });

  // Every route, as registered (listRoutes: what the OpenAPI document must describe).
  const routes: { method: string; url: string }[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (opts) => {
    for (const m of Array.isArray(opts.method) ? opts.method : [opts.method]) routes.push({ method: String(m), url: opts.url ?? opts.path ?? '' });
  });
  // Before the routes: JSON/NDJSON parsing, encodings, limits; the routes' paths for 405.
  installBodyHandling(app, deps.bodyLimit);
  app.setNotFoundHandler(notFound(routeMethods(app)));

  // The OpenAPI document is made from the routes registered after it (routes/openapi.ts serves it).
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vigil',
        version: vigilVersion(),
        description: 'Monitoring of machine-learning models in production: ingestion, drift and quality, alerts, remediation.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'server.tokens: ingest, read or admin (docs/security.md)' } } },
      security: [{ bearer: [] }],
    },
    // the documented answers (openapi-responses.ts) and summaries (openapi-summaries.ts) go into
    // the document only, never into the route
    transform: ({ schema, url, route }) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const key = `${String(methods[0])} ${route.url}`;
      const documented = responsesOf(String(methods[0]), route.url);
      const text = SUMMARIES[key];
      const merged = {
        ...(schema ?? {}),
        ...(text === undefined ? {} : { summary: text.summary, ...(text.description === undefined ? {} : { description: text.description }) }),
        ...(documented === undefined ? {} : { response: documented }),
      };
      return { schema: merged as typeof schema, url };
    },
  });
  void app.register(healthRoutes, { deps });
  void app.register(metricsRoutes, { deps });
  void app.register(ingestRoutes, { deps });
  void app.register(kserveRoutes, { deps });
  void app.register(modelRoutes, { deps });
  void app.register(overviewRoutes, { deps });
  void app.register(uiRoutes, { deps });
  void app.register(baselineRoutes, { deps });
  void app.register(alertingRoutes, { deps });
  void app.register(lifecycleRoutes, { deps });
  void app.register(remediationRoutes, { deps });
  void app.register(openapiRoutes, { deps });
  return app;
}
