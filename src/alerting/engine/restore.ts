/**
 * Alert state persistence and Prometheus's `for` state restoration (rules/group.go
 * RestoreForState). Prometheus reads the last ALERTS_FOR_STATE sample of each active alert
 * from its TSDB; Vigil reads the persisted alerts instead: `evaluatedAt` is the sample's
 * timestamp (downAt) and `activeAt` (whole seconds) its value.
 */
import type { AlertState, Labels } from '../types.js';
import type { AlertingRule } from './alerting-rule.js';

/** What one persisted alert holds. Times are epoch ms; null = never. */
export interface PersistedAlert {
  /** The rule the alert belongs to. */
  readonly ruleKey: { readonly file: string; readonly group: string; readonly rule: string };
  /** fingerprint(labels): the alert's identity. */
  readonly fingerprint: string;
  /** The alert's labels (alertname included). */
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: AlertState;
  readonly activeAt: number;
  readonly firedAt: number | null;
  readonly resolvedAt: number | null;
  readonly lastSentAt: number | null;
  readonly validUntil: number | null;
  readonly keepFiringSince: number | null;
  readonly value: number;
  /** When this state was last written by an evaluation (Prometheus: the ALERTS_FOR_STATE sample time). */
  readonly evaluatedAt: number;
}

/** Persistence, injected (the SQLite implementation lives elsewhere). */
export interface AlertStateStore {
  load(): Promise<PersistedAlert[]>;
  save(alerts: PersistedAlert[]): Promise<void>;
}

export interface RestoreOptions {
  /** Rules with `for` below this are not restored (Prometheus --rules.alert.for-grace-period, 10m). */
  readonly forGracePeriodMs: number;
  /** State older than this is ignored (--rules.alert.for-outage-tolerance, 1h). */
  readonly outageToleranceMs: number;
}

export type RestoreOutcome = 'skipped-short-for' | 'no-series' | 'restored';

/**
 * Restores the `for` state of `rule`'s current alerts at `ts` (restart time), then marks the
 * rule restored. Per alert with a matching persisted, still-active state no older than the
 * outage tolerance: remaining = for − (downAt − activeAt);
 *  - remaining ≤ 0: nothing (the alert was firing; it fires again at the next true evaluation);
 *  - remaining < grace: activeAt = ts + grace − for (fires `grace` after the restart);
 *  - else: activeAt shifted forward by the downtime (ts − downAt).
 */
export function restoreForState(rule: AlertingRule, ts: number, persisted: readonly PersistedAlert[], opts: RestoreOptions): RestoreOutcome {
  const holdMs = rule.def.forMs;
  if (holdMs < opts.forGracePeriodMs) {
    rule.restored = true;
    return 'skipped-short-for';
  }
  const mint = ts - opts.outageToleranceMs;
  const series = new Map<string, PersistedAlert>();
  for (const p of persisted) {
    if (p.labels['alertname'] !== rule.name) continue;
    // Only series with a sample in [ts - outageTolerance, ts]; a resolved/vanished alert is a stale marker.
    if (p.evaluatedAt < mint || p.evaluatedAt > ts) continue;
    const prev = series.get(p.fingerprint);
    if (prev === undefined || prev.evaluatedAt <= p.evaluatedAt) series.set(p.fingerprint, p);
  }
  if (series.size === 0) {
    rule.restored = true;
    return 'no-series';
  }
  for (const a of rule.active.values()) {
    const s = series.get(a.fingerprint);
    if (s === undefined) continue;
    if (s.state === 'inactive') continue; // stale marker: the alert was not active
    const downAt = Math.floor(s.evaluatedAt / 1000) * 1000;
    let restoredActiveAt = Math.floor(s.activeAt / 1000) * 1000;
    const timeSpentPending = downAt - restoredActiveAt;
    const timeRemainingPending = holdMs - timeSpentPending;
    if (timeRemainingPending <= 0) {
      // It was firing when Vigil went down; the next evaluation sets it firing again if still true.
    } else if (timeRemainingPending < opts.forGracePeriodMs) {
      restoredActiveAt = ts + opts.forGracePeriodMs - holdMs;
    } else {
      restoredActiveAt = restoredActiveAt + (ts - downAt);
    }
    a.activeAt = restoredActiveAt;
  }
  rule.restored = true;
  return 'restored';
}
