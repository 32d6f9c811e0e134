import type { Logger } from '../../core/logger.js';
import type { Sample } from '../../metrics/snapshot.js';
import type { IngestKind, IngestResult } from '../ingestor.js';

/**
 * A pull source: something Vigil reads on a schedule (an HTTP JSON endpoint, a folder of files,
 * a Prometheus server, a Feast feature server, an MLflow registry). One file per kind, each behind
 * this interface. The runner (runner.ts) gives every collection a timeout (`signal`), retries with
 * backoff, counts errors and tracks health: a source never breaks the cycle or the process.
 */
export interface SourceContext {
  /** ms since the epoch, for this collection. */
  readonly now: number;
  /** Aborted when the collection times out or Vigil stops: pass it to every request. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Validates and stores predictions/labels exactly as the HTTP API does. */
  ingest(kind: IngestKind, model: string, items: readonly unknown[]): Promise<IngestResult>;
  /** Small durable state for the source (e.g. which files were read), namespaced per source. */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string): Promise<void>;
}

/** What one collection produced. */
export interface SourceResult {
  /** Samples for the snapshot (catalog families of origin `snapshot`); they replace the source's previous ones. */
  samples: Sample[];
  /** Items handed to ingest(), for logs. */
  ingested?: { predictions: number; labels: number; rejected: number };
}

export interface Source {
  readonly name: string;
  readonly type: string;
  collect(ctx: SourceContext): Promise<SourceResult>;
}
