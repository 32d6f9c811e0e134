/**
 * Leader election among replicas sharing a store (issue 14): a lease row in the database
 * (Store.acquireLease), not a session advisory lock — a leader paused by SIGSTOP keeps its
 * session open, and with it such a lock, for as long as it is paused; a lease lapses on the
 * database's clock whatever the holder does.
 *
 * The holder renews every third of the lease. It counts itself leader only until its lease could
 * have lapsed as seen from here: from the moment it *asked* (before the database granted it) plus
 * the lease, less a safety margin for clock rate differences — so a renewal that fails or hangs
 * makes it step down before anyone else can take over. What it writes as leader carries its
 * epoch (`epoch()`), which the store compares with the lease's: a leader that was paused past its
 * lease and resumes is refused by its stale epoch even before its next renewal tells it.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Fence, Lease, Store } from '../store/store.js';

export interface LeaderOptions {
  store: Store;
  /** This replica's name in the lease (unique: host, pid and a random part). */
  id: string;
  /** How long a lease lasts unless renewed (default 15 s): the longest a dead leader is waited for. */
  leaseMs?: number;
  logger: Logger;
  /** Monotonic milliseconds (performance.now by default; tests step it). */
  monotonic?: () => number;
  /** Told each time this replica becomes leader (with its epoch) or stops being one. */
  onChange?: (leader: boolean, epoch: number) => void;
}

/** The part of a lease kept back for clock rate differences between this host and the database. */
const SAFETY = 0.1;

export class LeaderElector {
  private validUntil = Number.NEGATIVE_INFINITY;
  private currentEpoch = 0;
  private lastLease: Lease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wasLeader = false;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: LeaderOptions) {
    this.log = o.logger.child({ component: 'leader' });
    this.now = o.monotonic ?? (() => performance.now());
  }

  get leaseMs(): number {
    return this.o.leaseMs ?? 15_000;
  }

  /** This replica may act as leader now: it holds a lease that cannot have lapsed yet. */
  isLeader(): boolean {
    const leader = this.now() < this.validUntil;
    if (this.wasLeader && !leader) this.changed(false);
    return leader;
  }

  /** The epoch of this replica's lease while it leads (0 before it ever did). */
  epoch(): number {
    return this.currentEpoch;
  }

  /**
   * What this replica's automated writes carry once it has led (Store Fence): its lease as it was
   * granted. A write made after another replica took the lease over — an action finishing after a
   * pause — is refused by the store. Undefined before it ever led.
   */
  fence(): Fence | undefined {
    return this.currentEpoch > 0 ? { holder: this.o.id, epoch: this.currentEpoch } : undefined;
  }

  /** Who holds the lease, as last seen. */
  holder(): string | null {
    return this.lastLease?.holder ?? null;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule(this.leaseMs / 3)), ms);
    this.timer.unref?.();
  }

  /** Asks for (or renews) the lease once (or waits for the request running now). */
  tick(): Promise<void> {
    this.running ??= this.ask().finally(() => (this.running = undefined));
    return this.running;
  }

  private async ask(): Promise<void> {
    const asked = this.now();
    try {
      const lease = await this.o.store.acquireLease(this.o.id, this.leaseMs);
      this.lastLease = lease;
      if (lease.mine) {
        this.validUntil = asked + this.leaseMs * (1 - SAFETY);
        if (!this.wasLeader || lease.epoch !== this.currentEpoch) {
          this.currentEpoch = lease.epoch;
          this.changed(true);
        }
      } else {
        this.validUntil = Number.NEGATIVE_INFINITY;
        if (this.wasLeader) this.changed(false);
      }
    } catch (e) {
      // not renewed: leader only until what was granted before could have lapsed (isLeader)
      this.log.warn({ err: errorMessage(e), leader: this.isLeader() }, 'cannot renew the leader lease');
    }
  }

  private changed(leader: boolean): void {
    this.wasLeader = leader;
    if (leader) this.log.info({ id: this.o.id, epoch: this.currentEpoch, leaseMs: this.leaseMs }, 'this replica leads');
    else this.log.warn({ id: this.o.id, epoch: this.currentEpoch, holder: this.holder() }, 'this replica no longer leads');
    this.o.onChange?.(leader, this.currentEpoch);
  }

  /** Stops renewing; a leader lets its lease go so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
    if (this.isLeader()) {
      this.validUntil = Number.NEGATIVE_INFINITY;
      this.changed(false);
      await this.o.store.releaseLease(this.o.id).catch((e: unknown) => this.log.warn({ err: errorMessage(e) }, 'cannot release the leader lease'));
    }
  }
}
