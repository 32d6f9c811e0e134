/**
 * One alerting rule's state machine, ported from Prometheus's rules/alerting.go (Eval,
 * needsSending, sendAlerts). Pure: the caller passes the query result and the evaluation time.
 */
import type { Sample } from '../../metrics/snapshot.js';
import type { AlertPayload, AlertRuleDef, AlertState, Labels, VectorSample } from '../types.js';
import { rfc3339, tableLinkForExpression } from './gofmt.js';
import { expandAlertTemplate } from './template.js';

/** How long a resolved alert is kept (and re-sent) — Prometheus's resolvedRetention. */
export const RESOLVED_RETENTION_MS = 15 * 60 * 1000;
export const ALERT_METRIC_NAME = 'ALERTS';
export const ALERT_FOR_STATE_METRIC_NAME = 'ALERTS_FOR_STATE';

export type RuleHealth = 'ok' | 'err' | 'unknown';

/** One alert instance (a label set of the rule's result). Times are epoch ms; undefined = Go's zero time. */
export interface Alert {
  readonly fingerprint: string;
  state: AlertState;
  readonly labels: Labels;
  annotations: Labels;
  value: number;
  activeAt: number;
  firedAt: number | undefined;
  resolvedAt: number | undefined;
  lastSentAt: number | undefined;
  validUntil: number | undefined;
  keepFiringSince: number | undefined;
}

export class RuleEvalError extends Error {
  override readonly name = 'RuleEvalError';
}

/** Sorted copy of a label set (Prometheus labels are always sorted by name). */
export function sortLabels(l: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(l).sort()) out[k] = l[k] ?? '';
  return out;
}

/** FNV-1a 64 over the sorted label set (name 0xff value 0xff …), as 16 hex digits. */
export function fingerprint(l: Labels): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  const feed = (bytes: Uint8Array) => {
    for (const b of bytes) {
      h ^= BigInt(b);
      h = (h * prime) & mask;
    }
  };
  const sep = new Uint8Array([0xff]);
  for (const k of Object.keys(l).sort()) {
    feed(Buffer.from(k, 'utf8'));
    feed(sep);
    feed(Buffer.from(l[k] ?? '', 'utf8'));
    feed(sep);
  }
  return h.toString(16).padStart(16, '0');
}

/** Go's labels.Labels.String(): {a="1", b="2"}. */
export function labelsString(l: Labels): string {
  return `{${Object.keys(l)
    .sort()
    .map((k) => `${k}=${JSON.stringify(l[k])}`)
    .join(', ')}}`;
}

export interface AlertingRuleOptions {
  readonly externalLabels?: Labels;
  readonly externalURL?: string;
  /** false until the `for` state has been restored (Prometheus writes no ALERTS series before). */
  readonly restored?: boolean;
}

export class AlertingRule {
  /** Alerts keyed by fingerprint: pending, firing, and resolved ones kept for RESOLVED_RETENTION_MS. */
  active = new Map<string, Alert>();
  health: RuleHealth = 'unknown';
  lastError: string | undefined;
  /** Epoch ms of the start of the last evaluation (undefined: never). */
  evaluationTimestamp: number | undefined;
  /** Duration of the last evaluation, ms. */
  evaluationDurationMs = 0;
  restored: boolean;
  private readonly externalLabels: Labels;
  private readonly externalURL: string;

  constructor(
    readonly def: AlertRuleDef,
    opts: AlertingRuleOptions = {},
  ) {
    this.externalLabels = opts.externalLabels ?? {};
    this.externalURL = opts.externalURL ?? '';
    this.restored = opts.restored ?? true;
  }

  get name(): string {
    return this.def.name;
  }

  /**
   * Applies one evaluation result at `ts` (Prometheus's AlertingRule.Eval after the query).
   * Returns the ALERTS / ALERTS_FOR_STATE samples. Throws RuleEvalError (state untouched) when
   * two elements collide after the rule's labels are applied, and when `limit` is exceeded (then
   * every alert is dropped, as Prometheus does).
   */
  eval(result: readonly VectorSample[], ts: number, limit = 0): Sample[] {
    const fresh = new Map<string, Alert>();
    for (const smpl of result) {
      const data = {
        labels: smpl.labels,
        externalLabels: this.externalLabels,
        externalURL: this.externalURL,
        value: smpl.value,
      };
      const expand = (text: string) => expandAlertTemplate(text, this.def.name, data);
      const lb: Record<string, string> = { ...smpl.labels };
      delete lb['__name__'];
      for (const [k, v] of Object.entries(this.def.labels)) lb[k] = expand(v);
      lb['alertname'] = this.def.name;
      // Prometheus drops labels whose value is empty.
      for (const k of Object.keys(lb)) if (lb[k] === '') delete lb[k];
      const annotations: Record<string, string> = {};
      for (const k of Object.keys(this.def.annotations).sort()) annotations[k] = expand(this.def.annotations[k] ?? '');
      const labels = sortLabels(lb);
      const h = fingerprint(labels);
      if (fresh.has(h)) throw new RuleEvalError('vector contains metrics with the same labelset after applying alert labels');
      fresh.set(h, {
        fingerprint: h,
        state: 'pending',
        labels,
        annotations,
        value: smpl.value,
        activeAt: ts,
        firedAt: undefined,
        resolvedAt: undefined,
        lastSentAt: undefined,
        validUntil: undefined,
        keepFiringSince: undefined,
      });
    }

    for (const [h, a] of fresh) {
      const alert = this.active.get(h);
      if (alert !== undefined && alert.state !== 'inactive') {
        alert.value = a.value;
        alert.annotations = a.annotations;
        continue;
      }
      this.active.set(h, a);
    }

    const vec: Sample[] = [];
    let numActivePending = 0;
    const keepFiringFor = this.def.keepFiringForMs;
    for (const [fp, a] of [...this.active]) {
      if (!fresh.has(fp)) {
        let keepFiring = false;
        if (a.state === 'firing' && keepFiringFor > 0) {
          if (a.keepFiringSince === undefined) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < keepFiringFor) keepFiring = true;
        }
        // A pending alert that vanished is dropped; a resolved one is kept for the retention.
        if (a.state === 'pending' || (a.resolvedAt !== undefined && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) {
          this.active.delete(fp);
        }
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = undefined;
      }
      numActivePending++;
      if (a.state === 'pending' && ts - a.activeAt >= this.def.forMs) {
        a.state = 'firing';
        a.firedAt = ts;
      }
      if (this.restored) {
        vec.push(this.alertSample(a), this.forStateSample(a));
      }
    }

    if (limit > 0 && numActivePending > limit) {
      this.active = new Map();
      throw new RuleEvalError(`exceeded limit of ${limit} with ${numActivePending} alerts`);
    }
    return vec;
  }

  /** `ALERTS{alertname, alertstate, …labels} 1`. */
  alertSample(a: Alert): Sample {
    const labels = sortLabels({ ...this.def.labels, ...a.labels, alertname: this.def.name, alertstate: a.state });
    return { name: ALERT_METRIC_NAME, labels, value: 1 };
  }

  /** `ALERTS_FOR_STATE{alertname, …labels} = activeAt` in whole Unix seconds. */
  forStateSample(a: Alert): Sample {
    const labels = sortLabels({ ...this.def.labels, ...a.labels, alertname: this.def.name });
    return { name: ALERT_FOR_STATE_METRIC_NAME, labels, value: Math.floor(a.activeAt / 1000) };
  }

  /** The maximum state of the rule's alerts: firing > pending > inactive. */
  state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') s = 'pending';
    }
    return s;
  }

  /** Copies of the unresolved alerts (pending, firing, kept firing). */
  activeAlerts(): Alert[] {
    return this.currentAlerts().filter((a) => a.resolvedAt === undefined);
  }

  /** Copies of every alert, resolved ones included. */
  currentAlerts(): Alert[] {
    return [...this.active.values()].map((a) => ({ ...a }));
  }

  /**
   * Prometheus's sendAlerts: marks and returns (copies of) the alerts to send at `ts`.
   * Never pending; always when resolved since the last send; else when lastSentAt + resendDelay < ts.
   * validUntil = ts + 4 × max(interval, resendDelay).
   */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (!needsSending(a, ts, resendDelayMs)) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * Math.max(resendDelayMs, intervalMs);
      out.push({ ...a });
    }
    return out;
  }

  /** The generator URL Prometheus puts on its alerts. */
  generatorURL(): string {
    return this.externalURL.replace(/\/$/, '') + tableLinkForExpression(this.def.expr);
  }
}

export function needsSending(a: Alert, ts: number, resendDelayMs: number): boolean {
  if (a.state === 'pending') return false;
  // Resolved since the last send: send it (Go: ResolvedAt.After(LastSentAt), zero LastSentAt is earliest).
  if (a.resolvedAt !== undefined && (a.lastSentAt === undefined || a.resolvedAt > a.lastSentAt)) return true;
  return (a.lastSentAt ?? -Infinity) + resendDelayMs < ts;
}

/**
 * The Alertmanager payload Prometheus builds (rules/manager.go SendAlerts): startsAt = FiredAt,
 * endsAt = ResolvedAt if resolved else ValidUntil. External labels are added by the notifier
 * (Prometheus's notifier.Manager), for labels the alert does not already have.
 */
export function toAlertPayload(a: Alert, generatorURL: string, externalLabels: Labels = {}): AlertPayload {
  const labels: Record<string, string> = { ...a.labels };
  for (const [k, v] of Object.entries(externalLabels)) if (labels[k] === undefined || labels[k] === '') labels[k] = v;
  const endsAt = a.resolvedAt ?? a.validUntil;
  return {
    labels: sortLabels(labels),
    annotations: { ...a.annotations },
    startsAt: a.firedAt === undefined ? '0001-01-01T00:00:00Z' : rfc3339(a.firedAt),
    endsAt: endsAt === undefined ? '0001-01-01T00:00:00Z' : rfc3339(endsAt),
    generatorURL,
  };
}
