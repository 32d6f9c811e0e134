/**
 * What the notification side reports. The daemon adapts it to the catalog:
 * `vigil_notifications_total{receiver,outcome}` for every call, and also
 * `vigil_notifications_dropped_total` when `outcome` is `dropped`.
 */
export type NotificationOutcome = 'success' | 'failure' | 'dropped' | 'retry';

export interface NotificationMetrics {
  notification(receiver: string, outcome: NotificationOutcome): void;
}

export const noopNotificationMetrics: NotificationMetrics = { notification: () => undefined };

/** Counts in memory (tests, `vigil report`). */
export class CountingNotificationMetrics implements NotificationMetrics {
  readonly counts = new Map<string, number>();

  notification(receiver: string, outcome: NotificationOutcome): void {
    const k = `${receiver}/${outcome}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  get(receiver: string, outcome: NotificationOutcome): number {
    return this.counts.get(`${receiver}/${outcome}`) ?? 0;
  }
}
