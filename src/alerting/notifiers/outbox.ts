import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Notification } from './notifier.js';

/**
 * The outbox: every notification handed to a receiver is persisted before the first attempt and
 * deleted once delivered, given up on or dropped, so a restart loses none
 * (`Dispatcher.restore()` re-sends what is left). The SQLite table lives with the store.
 */

export interface OutboxEntry {
  /** Unique id (random UUID). */
  id: string;
  /** Receiver name. */
  receiver: string;
  /** The {@link Notification} as JSON. */
  payload: string;
  /** Attempts made so far. */
  attempts: number;
  /** ms since the epoch: not before this. */
  nextAttemptAt: number;
  /** ms since the epoch: when the notification was created. */
  createdAt: number;
}

export interface OutboxStore {
  /** Inserts or replaces the entry with this id. */
  save(entry: OutboxEntry): Promise<void>;
  /** Deletes the entry; no error when it does not exist. */
  delete(id: string): Promise<void>;
  /** All entries, oldest `createdAt` first. */
  list(): Promise<OutboxEntry[]>;
  /** Saves and deletes entries together (one transaction in the store). */
  write(save: readonly OutboxEntry[], remove: readonly string[]): Promise<void>;
}

/**
 * Outbox writes in flight. A failed write is logged, never thrown: delivery goes on from memory, and
 * the entry is written again at its next change. `settled()` waits for every write issued so far.
 */
export class OutboxWrites {
  readonly #pending = new Set<Promise<void>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  track(p: Promise<void>): Promise<void> {
    const tracked = p.catch((e: unknown) => {
      this.#log.error({ err: errorMessage(e) }, 'outbox write failed');
    });
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return tracked;
  }

  get size(): number {
    return this.#pending.size;
  }

  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

/** The in-memory outbox (tests, and `storage` disabled). Entries are copied in and out. */
export class MemoryOutboxStore implements OutboxStore {
  readonly #entries = new Map<string, OutboxEntry>();

  save(entry: OutboxEntry): Promise<void> {
    this.#entries.set(entry.id, { ...entry });
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.#entries.delete(id);
    return Promise.resolve();
  }

  write(save: readonly OutboxEntry[], remove: readonly string[]): Promise<void> {
    for (const e of save) this.#entries.set(e.id, { ...e });
    for (const id of remove) this.#entries.delete(id);
    return Promise.resolve();
  }

  list(): Promise<OutboxEntry[]> {
    return Promise.resolve([...this.#entries.values()].map((e) => ({ ...e })).sort((a, b) => a.createdAt - b.createdAt));
  }

  get size(): number {
    return this.#entries.size;
  }
}

const labels = z.record(z.string(), z.string());
const status = z.enum(['firing', 'resolved']);

/** Shape check of a persisted notification (a damaged row is dropped, not sent half-read). */
export const NotificationSchema = z.object({
  receiver: z.string(),
  status,
  groupKey: z.string(),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels,
  externalURL: z.string(),
  alerts: z.array(
    z.object({
      status,
      labels,
      annotations: labels,
      startsAt: z.string(),
      endsAt: z.string(),
      generatorURL: z.string(),
      fingerprint: z.string(),
    }),
  ),
});

export function parseNotification(payload: string): Notification | undefined {
  try {
    const r = NotificationSchema.safeParse(JSON.parse(payload));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
