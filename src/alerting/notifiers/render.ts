import type { Notification, NotificationAlert } from './notifier.js';

/**
 * Text shared by the human-facing notifiers (Slack, Telegram, e-mail, PagerDuty summary), after
 * Alertmanager's default templates: the `__subject` title and one block per alert.
 */

const sortedValues = (labels: Readonly<Record<string, string>>, except: ReadonlySet<string> = new Set()): string[] =>
  Object.keys(labels)
    .filter((k) => !except.has(k))
    .sort()
    .map((k) => labels[k] ?? '');

/**
 * Alertmanager's `__subject`: `[FIRING:2] <group label values> (<other common label values>)`,
 * `[RESOLVED] …` when every alert is resolved.
 */
export function title(n: Notification): string {
  const firing = n.alerts.filter((a) => a.status === 'firing').length;
  const head = n.status === 'firing' ? `[FIRING:${firing}]` : '[RESOLVED]';
  const group = sortedValues(n.groupLabels).join(' ');
  const groupNames = new Set(Object.keys(n.groupLabels));
  const rest = sortedValues(n.commonLabels, groupNames);
  return [head, group, rest.length > 0 ? `(${rest.join(' ')})` : ''].filter((s) => s !== '').join(' ');
}

/** `a="b", c="d"` sorted by name. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k] ?? ''}"`)
    .join(', ');
}

/** The one-line headline of an alert: its summary annotation, else its alertname. */
export function alertHeadline(a: NotificationAlert): string {
  return a.annotations.summary ?? a.annotations.description ?? a.labels.alertname ?? '(no alertname)';
}

/** Plain-text lines describing one alert (used by the text e-mail and as a base for the others). */
export function alertTextLines(a: NotificationAlert): string[] {
  const lines = [`${a.status === 'firing' ? 'FIRING' : 'RESOLVED'}: ${alertHeadline(a)}`];
  const desc = a.annotations.description;
  if (desc !== undefined && desc !== a.annotations.summary) lines.push(`Description: ${desc}`);
  lines.push(`Labels: ${formatLabels(a.labels)}`);
  lines.push(`Started: ${a.startsAt}`);
  if (a.status === 'resolved') lines.push(`Ended: ${a.endsAt}`);
  const runbook = a.annotations.runbook_url;
  if (runbook !== undefined) lines.push(`Runbook: ${runbook}`);
  if (a.generatorURL !== '') lines.push(`Source: ${a.generatorURL}`);
  return lines;
}

/** Firing alerts first (in their given order), then resolved ones. */
export function orderedAlerts(n: Notification): NotificationAlert[] {
  return [...n.alerts.filter((a) => a.status === 'firing'), ...n.alerts.filter((a) => a.status === 'resolved')];
}

/** Cuts `text` to at most `max` UTF-16 code units, ending with `…`, never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}
