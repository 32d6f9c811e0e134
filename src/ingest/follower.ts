/**
 * A replica's view of what every replica stores (storage.backend: postgres): it reads the rows
 * stored since the last ones it has seen — by sequence number, which the store gives in commit
 * order, so none is missed — and hands them to the ingestor's listeners (the hot windows, the SLO
 * counts) and counters, in the store's order. Every replica sees the same rows in the same order,
 * whichever replica took the request, so their windows hold the same rows and export the same
 * series (the Prometheus HA-pair model: scrape both, Alertmanager deduplicates).
 *
 * A short poll (`intervalMs`): one query a kind when nothing is new. A pass reads a page of labels
 * first, then the predictions up to now, and delivers the predictions before those labels — a
 * label is stored after its prediction, so the prediction is in the window when the label comes.
 * A store that does not answer (its database restarting) is logged and tried again at the next
 * tick; nothing a pass does may crash the daemon.
 */
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import type { Store } from '../store/store.js';
import type { Ingestor } from './ingestor.js';

export interface FollowerOptions {
  store: Store;
  ingestor: Ingestor;
  logger: Logger;
  /** Between passes when nothing is new (default 100 ms). */
  intervalMs?: number;
  /** Rows a query (default 2,000). */
  pageRows?: number;
  /** Told, per batch of rows delivered, how long ago (s) a replica stored it (vigil_follower_lag_seconds). */
  lag?: (seconds: number) => void;
  /** ms since the epoch (default Date.now). */
  now?: () => number;
}

export class Follower {
  private predictionSeq = 0;
  private labelSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private failing = false;
  private readonly log: Logger;

  constructor(private readonly o: FollowerOptions) {
    this.log = o.logger.child({ component: 'follower' });
  }

  /** The last sequence numbers delivered: predictions, labels. */
  position(): { predictions: number; labels: number } {
    return { predictions: this.predictionSeq, labels: this.labelSeq };
  }

  /** Follows from after these sequence numbers (what the hot windows' load will read covers the rest). */
  start(afterPredictionSeq: number, afterLabelSeq: number): void {
    this.predictionSeq = afterPredictionSeq;
    this.labelSeq = afterLabelSeq;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule(this.o.intervalMs ?? 100));
    }, ms);
    this.timer.unref?.();
  }

  /** One pass (or the one running): every row stored since the last pass. Returns the rows delivered. */
  poll(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    const page = this.o.pageRows ?? 2000;
    let delivered = 0;
    try {
      for (;;) {
        const labels = await this.o.store.followLabels(this.labelSeq, page);
        for (;;) {
          const rows = await this.o.store.followPredictions(this.predictionSeq, page);
          if (rows.length === 0) break;
          await this.o.ingestor.deliver('predictions', rows);
          this.observe(rows);
          this.predictionSeq = (rows[rows.length - 1] as { seq: number }).seq;
          delivered += rows.length;
          if (rows.length < page) break;
        }
        if (labels.length > 0) {
          await this.o.ingestor.deliver('labels', labels);
          this.observe(labels);
          this.labelSeq = (labels[labels.length - 1] as { seq: number }).seq;
          delivered += labels.length;
        }
        if (labels.length < page) break;
      }
      if (this.failing) this.log.info({ position: this.position() }, 'following the store again');
      this.failing = false;
    } catch (e) {
      // the rows not delivered are read again at the next pass (the position moves only after delivery)
      if (!this.failing) this.log.warn({ err: errorMessage(e), position: this.position() }, 'cannot follow the store; retrying');
      this.failing = true;
    }
    return delivered;
  }

  /** One observation per batch a replica stored (its rows share their receivedAt), not per row: cheaper, the same lags. */
  private observe(rows: readonly { receivedAt: number }[]): void {
    const lag = this.o.lag;
    if (lag === undefined) return;
    const now = (this.o.now ?? Date.now)();
    let last = Number.NaN;
    for (const r of rows) {
      if (r.receivedAt === last) continue;
      last = r.receivedAt;
      lag(Math.max(0, now - r.receivedAt) / 1000);
    }
  }

  /** Stops after the pass running now, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }
}
