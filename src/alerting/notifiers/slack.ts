import { z } from 'zod';
import { httpUrl, int, receiverBase } from './config.js';
import { postRequest } from './http.js';
import type { Notification, Notifier, NotifierDeps } from './notifier.js';
import { alertHeadline, formatLabels, orderedAlerts, title, truncate } from './render.js';

/**
 * Slack incoming webhook: `POST <api_url> {text, blocks}`; Slack answers the plain text `ok`, and
 * errors are plain-text codes with a 4xx (`invalid_payload`, `channel_not_found`, …), 429 with
 * Retry-After when rate limited. Alertmanager's `slack_configs` default: `send_resolved: false`.
 */

export const SlackConfigSchema = z.strictObject({
  type: z.literal('slack'),
  ...receiverBase(false),
  /** The incoming-webhook URL (`https://hooks.slack.com/services/…`); a secret. */
  api_url: httpUrl(),
  /** Overrides of legacy webhooks (ignored by app webhooks). */
  channel: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  icon_emoji: z.string().min(1).optional(),
  /** Most alerts listed one by one; the rest are summed up in one line. */
  max_alerts: int().pipe(z.number().min(1).max(45)).default(20),
});
export type SlackConfig = z.output<typeof SlackConfigSchema>;

/** Slack's limits: section text 3000 characters, header 150, 50 blocks, message text 40 000. */
export const SLACK_SECTION_MAX = 3000;
export const SLACK_HEADER_MAX = 150;

export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
  channel?: string;
  username?: string;
  icon_emoji?: string;
}

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  | { type: 'divider' };

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<url|text>` link; `|` and `>` cannot appear in the URL part. */
const link = (url: string, text: string): string => `<${url.replace(/[|>]/g, encodeURIComponent)}|${escapeSlack(text)}>`;

export function buildPayload(n: Notification, cfg: Pick<SlackConfig, 'channel' | 'username' | 'icon_emoji'> & { max_alerts?: number } = {}): SlackPayload {
  const heading = title(n);
  const alerts = orderedAlerts(n);
  const max = cfg.max_alerts ?? 20;
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(heading, SLACK_HEADER_MAX), emoji: true } }];
  for (const a of alerts.slice(0, max)) {
    const lines = [`${a.status === 'firing' ? ':red_circle:' : ':white_check_mark:'} *${escapeSlack(alertHeadline(a))}*`];
    const desc = a.annotations.description;
    if (desc !== undefined && desc !== a.annotations.summary) lines.push(escapeSlack(desc));
    lines.push(`\`${escapeSlack(formatLabels(a.labels))}\``);
    const links = [
      ...(a.annotations.runbook_url !== undefined ? [link(a.annotations.runbook_url, 'Runbook')] : []),
      ...(a.generatorURL !== '' ? [link(a.generatorURL, 'Source')] : []),
    ];
    if (links.length > 0) lines.push(links.join(' · '));
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), SLACK_SECTION_MAX) } });
  }
  if (alerts.length > max) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `… and ${alerts.length - max} more alerts` } });
  const context = [`Receiver *${escapeSlack(n.receiver)}*`];
  if (n.externalURL !== '') context.push(link(n.externalURL, 'Vigil'));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });

  // `text` is the notification / fallback text: the title and the headlines.
  const fallback = [heading, ...alerts.slice(0, max).map((a) => `${a.status === 'firing' ? '•' : '✓'} ${alertHeadline(a)}`)].join('\n');
  return {
    text: truncate(escapeSlack(fallback), 3000),
    blocks,
    ...(cfg.channel === undefined ? {} : { channel: cfg.channel }),
    ...(cfg.username === undefined ? {} : { username: cfg.username }),
    ...(cfg.icon_emoji === undefined ? {} : { icon_emoji: cfg.icon_emoji }),
  };
}

export function createSlackNotifier(cfg: SlackConfig, deps: NotifierDeps = {}): Notifier {
  return {
    name: cfg.name,
    type: 'slack',
    sendResolved: cfg.send_resolved,
    async send(n: Notification, signal: AbortSignal): Promise<void> {
      await postRequest({
        url: cfg.api_url,
        body: buildPayload(n, cfg),
        timeoutMs: cfg.timeout,
        signal,
        what: 'slack',
        ...(deps.now === undefined ? {} : { now: deps.now }),
      });
    },
  };
}
