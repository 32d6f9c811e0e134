import { z } from 'zod';
import { httpUrl, receiverBase } from './config.js';
import { hashKey } from './fingerprint.js';
import { postRequest } from './http.js';
import type { Notification, Notifier, NotifierDeps } from './notifier.js';
import { alertTextLines, orderedAlerts, title, truncate } from './render.js';

/**
 * PagerDuty Events API v2: `trigger` while the group has firing alerts, `resolve` when all are
 * resolved, both with the same `dedup_key` (SHA-256 of the group key, as Alertmanager), so
 * PagerDuty keeps one incident per group. The answer is 202 `{status: "success", dedup_key}`.
 */

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/**
 * After a 429 without Retry-After (PagerDuty sends none: its Events API limits each integration
 * key per minute and asks clients to back off): 1 min, 2, 4, then every 8 min, within the
 * notification's retry deadline.
 */
export const PAGERDUTY_RATE_LIMIT_BACKOFF = { initialMs: 60_000, maxMs: 8 * 60_000 } as const;
export const PAGERDUTY_SUMMARY_MAX = 1024;

export const PagerDutyConfigSchema = z.strictObject({
  type: z.literal('pagerduty'),
  ...receiverBase(true),
  /** The Events API v2 integration key of the service; a secret. */
  routing_key: z.string().min(1),
  url: httpUrl().default(PAGERDUTY_EVENTS_URL),
  /** `payload.source`; default: the host of `server.external_url`, else `vigil`. */
  source: z.string().min(1).optional(),
  /** Fixed severity; default: mapped from the alerts' `severity` label. */
  severity: z.enum(['critical', 'error', 'warning', 'info']).optional(),
  /** `payload.component`; default: the common `model` label. */
  component: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  class: z.string().min(1).optional(),
  client: z.string().min(1).default('Vigil'),
});
export type PagerDutyConfig = z.output<typeof PagerDutyConfigSchema>;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: { href: string; text: string }[];
}

const SEVERITY_MAP: Record<string, PagerDutySeverity> = {
  critical: 'critical',
  crit: 'critical',
  page: 'critical',
  p1: 'critical',
  error: 'error',
  high: 'error',
  major: 'error',
  p2: 'error',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  minor: 'warning',
  p3: 'warning',
  info: 'info',
  low: 'info',
  none: 'info',
  p4: 'info',
  p5: 'info',
};
const RANK: Record<PagerDutySeverity, number> = { critical: 3, error: 2, warning: 1, info: 0 };

/** Maps a `severity` label value to PagerDuty's four severities (unknown or absent: `error`). */
export function mapSeverity(label: string | undefined): PagerDutySeverity {
  return (label === undefined ? undefined : SEVERITY_MAP[label.trim().toLowerCase()]) ?? 'error';
}

/** The group's severity: its common `severity` label, else the highest among its firing alerts. */
export function groupSeverity(n: Notification): PagerDutySeverity {
  if (n.commonLabels.severity !== undefined) return mapSeverity(n.commonLabels.severity);
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const sev = (firing.length > 0 ? firing : n.alerts).map((a) => mapSeverity(a.labels.severity));
  return sev.reduce<PagerDutySeverity>((best, s) => (RANK[s] > RANK[best] ? s : best), sev[0] ?? 'error');
}

/** The dedup key of a group: hex SHA-256 of its group key (Alertmanager's `GroupKey.Hash()`). */
export const dedupKey = (n: Notification): string => hashKey(n.groupKey);

function defaultSource(externalURL: string): string {
  try {
    return new URL(externalURL).host || 'vigil';
  } catch {
    return 'vigil';
  }
}

export function buildPayload(
  n: Notification,
  cfg: Pick<PagerDutyConfig, 'routing_key'> & Partial<Pick<PagerDutyConfig, 'source' | 'severity' | 'component' | 'group' | 'class' | 'client'>>,
): PagerDutyEvent {
  const key = dedupKey(n);
  if (n.status === 'resolved') return { routing_key: cfg.routing_key, event_action: 'resolve', dedup_key: key };
  const alerts = orderedAlerts(n);
  const firing = alerts.filter((a) => a.status === 'firing');
  const resolved = alerts.filter((a) => a.status === 'resolved');
  const earliest = firing.map((a) => a.startsAt).sort()[0];
  const component = cfg.component ?? n.commonLabels.model;
  const links = [...new Set(firing.map((a) => a.annotations.runbook_url).filter((u): u is string => u !== undefined))].map((href) => ({ href, text: 'Runbook' }));
  if (n.externalURL !== '') links.push({ href: n.externalURL, text: 'Vigil' });
  return {
    routing_key: cfg.routing_key,
    event_action: 'trigger',
    dedup_key: key,
    payload: {
      summary: truncate(title(n), PAGERDUTY_SUMMARY_MAX),
      source: cfg.source ?? defaultSource(n.externalURL),
      severity: cfg.severity ?? groupSeverity(n),
      ...(earliest === undefined ? {} : { timestamp: earliest }),
      ...(component === undefined ? {} : { component }),
      ...(cfg.group === undefined ? {} : { group: cfg.group }),
      ...(cfg.class === undefined ? {} : { class: cfg.class }),
      custom_details: {
        firing: firing.map((a) => alertTextLines(a).join('\n')).join('\n\n'),
        resolved: resolved.map((a) => alertTextLines(a).join('\n')).join('\n\n'),
        num_firing: firing.length,
        num_resolved: resolved.length,
        group_labels: { ...n.groupLabels },
        common_labels: { ...n.commonLabels },
      },
    },
    client: cfg.client ?? 'Vigil',
    ...(n.externalURL === '' ? {} : { client_url: n.externalURL }),
    ...(links.length > 0 ? { links } : {}),
  };
}

function describe(text: string): { message: string } | undefined {
  try {
    const v = JSON.parse(text) as { message?: unknown; errors?: unknown };
    if (typeof v !== 'object' || v === null || typeof v.message !== 'string') return undefined;
    const errors = Array.isArray(v.errors) ? v.errors.map(String) : [];
    return { message: errors.length > 0 ? `${v.message}: ${errors.join('; ')}` : v.message };
  } catch {
    return undefined;
  }
}

export function createPagerDutyNotifier(cfg: PagerDutyConfig, deps: NotifierDeps = {}): Notifier {
  return {
    name: cfg.name,
    type: 'pagerduty',
    sendResolved: cfg.send_resolved,
    rateLimitBackoff: PAGERDUTY_RATE_LIMIT_BACKOFF,
    async send(n: Notification, signal: AbortSignal): Promise<void> {
      await postRequest({
        url: cfg.url,
        body: buildPayload(n, cfg),
        timeoutMs: cfg.timeout,
        signal,
        what: 'pagerduty',
        ...(deps.now === undefined ? {} : { now: deps.now }),
        describeError: (_status, text) => describe(text),
      });
    },
  };
}
