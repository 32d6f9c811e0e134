/**
 * Traces of Vigil's own work (issue 17), with the official OpenTelemetry SDK, exported over
 * OTLP/HTTP as JSON (`tracing.otlp.endpoint`; off by default: then every span is the API's no-op
 * span and costs nothing). What is traced: each ingestion request (a child of the caller's span
 * when it sent a W3C `traceparent`), each evaluation cycle and its stages, each remediation action
 * and each notification delivery.
 *
 * Contexts are passed explicitly (`parent`), never through a global context manager: nothing here
 * registers itself globally, so Vigil embedded in another process leaves that process's
 * OpenTelemetry set-up alone.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { VigilConfig } from '../config/schema.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

export { SpanKind, type Context, type Link, type Span };

/** A span's parent (default: none, a root), kind, attributes and links to other traces. */
export interface SpanOptions {
  attributes?: Attributes;
  parent?: Context;
  kind?: SpanKind;
  links?: Link[];
}

export interface Tracing {
  /** Whether spans are recorded and exported (tracing.otlp.endpoint is set). */
  readonly enabled: boolean;
  /**
   * Runs `fn` in a span named `name` (a child of `parent` when given), ends it when `fn` settles,
   * and marks it failed when `fn` throws (the error is rethrown).
   */
  span<T>(name: string, o: SpanOptions, fn: (span: Span, ctx: Context) => Promise<T>): Promise<T>;
  /** The context a caller's W3C trace headers (`traceparent`, `tracestate`) carry; the root context without them. */
  extract(headers: Readonly<Record<string, string | string[] | undefined>>): Context;
  /** Exports what is buffered, then stops (at shutdown). */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

const getter = {
  keys: (h: Readonly<Record<string, string | string[] | undefined>>) => Object.keys(h),
  get: (h: Readonly<Record<string, string | string[] | undefined>>, key: string) => h[key.toLowerCase()],
};

/** Runs fn with a span of tracer (shared by the real and the no-op tracing). */
async function inSpan<T>(tracer: Tracer, name: string, o: SpanOptions, fn: (span: Span, ctx: Context) => Promise<T>): Promise<T> {
  const parent = o.parent ?? ROOT_CONTEXT;
  const span = tracer.startSpan(name, { kind: o.kind ?? SpanKind.INTERNAL, ...(o.attributes ? { attributes: o.attributes } : {}), ...(o.links && o.links.length > 0 ? { links: o.links } : {}) }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    return await fn(span, ctx);
  } catch (e) {
    span.recordException(e instanceof Error ? e : new Error(errorMessage(e)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
    throw e;
  } finally {
    span.end();
  }
}

/** Tracing as configured: recording and exporting, or the no-op tracer. */
export function createTracing(cfg: VigilConfig['tracing'], o: { version: string; instanceId: string; logger: Logger }): Tracing {
  const endpoint = cfg.otlp.endpoint;
  if (endpoint === undefined) {
    const noop = trace.getTracer('vigil'); // no provider registered: the API's no-op tracer
    return {
      enabled: false,
      span: (name, opts, fn) => inSpan(noop, name, opts, fn),
      extract: () => ROOT_CONTEXT,
      shutdown: async () => undefined,
    };
  }
  const log = o.logger.child({ component: 'tracing' });
  const exporter = logged(new OTLPTraceExporter({ url: endpoint, headers: cfg.otlp.headers, timeoutMillis: cfg.otlp.timeout }), log);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'vigil', 'service.version': o.version, 'service.instance.id': o.instanceId }),
    // a caller's sampled trace is kept; Vigil's own roots by the ratio
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.sample_ratio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  const tracer = provider.getTracer('vigil', o.version);
  log.info({ endpoint, sample_ratio: cfg.sample_ratio }, 'tracing: exporting spans over OTLP/HTTP');
  return {
    enabled: true,
    span: (name, opts, fn) => inSpan(tracer, name, opts, fn),
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, getter),
    shutdown: async () => {
      try {
        await provider.shutdown();
      } catch (e) {
        log.warn({ err: errorMessage(e) }, 'tracing: the last spans could not be exported');
      }
    },
  };
}

/** The exporter, saying in Vigil's log when a batch of spans could not be exported (once per run of failures) and when it can again. */
function logged(inner: SpanExporter, log: Logger): SpanExporter {
  let failing = false;
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0
        if (result.code !== 0 && !failing) log.warn({ spans: spans.length, err: result.error === undefined ? 'export failed' : errorMessage(result.error) }, 'tracing: spans could not be exported (dropped)');
        if (result.code === 0 && failing) log.info('tracing: exporting spans again');
        failing = result.code !== 0;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}
