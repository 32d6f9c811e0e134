import type { IngestKind } from '../ingestor.js';
import type { SourceContext, SourceResult } from './source.js';

/** Items per ingest() call (the HTTP API's default max batch). */
export const INGEST_BATCH = 10_000;

/** Hands items to ingest in batches; counts what was taken and what was rejected (logged, not fatal). */
export async function ingestAll(
  ctx: SourceContext,
  kind: IngestKind,
  model: string,
  items: readonly unknown[],
): Promise<NonNullable<SourceResult['ingested']>> {
  const counts = { predictions: 0, labels: 0, rejected: 0 };
  for (let i = 0; i < items.length; i += INGEST_BATCH) {
    const batch = items.slice(i, i + INGEST_BATCH);
    const r = await ctx.ingest(kind, model, batch);
    counts[kind] += r.accepted;
    counts.rejected += r.rejected.length;
    if (r.rejected.length > 0) {
      const first = r.rejected[0];
      ctx.logger.warn({ model, kind, rejected: r.rejected.length, first: first === undefined ? undefined : { ...first, index: first.index + i } }, 'source items rejected');
    }
  }
  return counts;
}
