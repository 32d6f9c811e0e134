import { z } from 'zod';
import { httpUrl, int, receiverBase } from './config.js';
import { postRequest } from './http.js';
import { NotifyError, type Notification, type Notifier, type NotifierDeps } from './notifier.js';

/** A Web API error answer (HTTP 4xx/5xx, e.g. 429 {"ok": false, "error": "ratelimited"}): its error named. */
function describeWebApi(text: string): { message: string } | undefined {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    return typeof j.error === 'string' ? { message: j.error } : undefined;
  } catch {
    return undefined;
  }
}
import { alertHeadline, formatLabels, orderedAlerts, title, truncate } from './render.js';

/**
 * Slack, two ways (Alertmanager's `slack_configs` default: `send_resolved: false`):
 * - an incoming webhook: `POST <api_url> {text, blocks}`; Slack answers the plain text `ok`, and
 *   errors are plain-text codes with a 4xx (`invalid_payload`, `channel_not_found`, …), 429 with
 *   Retry-After when rate limited;
 * - the Web API with a bot `token`: `POST https://slack.com/api/chat.postMessage {channel, text,
 *   blocks}` with `Authorization: Bearer <token>`; Slack answers HTTP 200 with `{"ok": true, …}`
 *   or `{"ok": false, "error": "channel_not_found"}` (an error, named), and HTTP 429 with
 *   Retry-After and `{"ok": false, "error": "ratelimited"}` when rate limited
 *   (https://api.slack.com/methods/chat.postMessage, https://api.slack.com/apis/rate-limits).
 */

/** The Web API method Vigil posts with (`token`). */
export const SLACK_POST_MESSAGE_URL = 'https://slack.com/api/chat.postMessage';

/** Web API errors worth another attempt (Slack's transient ones); the others are not retried. */
const SLACK_TRANSIENT = new Set(['ratelimited', 'rate_limited', 'request_timeout', 'service_unavailable', 'fatal_error', 'internal_error']);

const isWebApiUrl = (url: string): boolean => {
  try {
    return /^\/api\/[a-z]+\.[A-Za-z.]+$/.test(new URL(url).pathname);
  } catch {
    return false;
  }
};

export const SlackConfigSchema = z
  .strictObject({
    type: z.literal('slack'),
    ...receiverBase(false),
    /** The incoming-webhook URL (`https://hooks.slack.com/services/…`), a secret; with `token`: the Web API method (default chat.postMessage). */
    api_url: httpUrl().optional(),
    /** A bot token (`xoxb-…`, a secret): post with the Web API (chat.postMessage) instead of a webhook; needs `channel`. */
    token: z.string().min(1).optional(),
    /** The channel (ID or name); required with `token`; an override of legacy webhooks (ignored by app webhooks). */
    channel: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    icon_emoji: z.string().min(1).optional(),
    /** Most alerts listed one by one; the rest are summed up in one line. */
    max_alerts: int().pipe(z.number().min(1).max(45)).default(20),
  })
  .superRefine((c, ctx) => {
    if (c.token !== undefined) {
      if (c.channel === undefined) ctx.addIssue({ code: 'custom', path: ['channel'], message: 'the Web API (token) needs the channel to post to (an ID like C0123456789, or a name)' });
      return;
    }
    if (c.api_url === undefined) ctx.addIssue({ code: 'custom', path: ['api_url'], message: 'an incoming-webhook URL (https://hooks.slack.com/services/…), or a bot token in token' });
    else if (isWebApiUrl(c.api_url)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: `${c.api_url.replace(/\?.*$/, '')} is a Slack Web API method: it needs a bot token (token) and a channel; an incoming webhook looks like https://hooks.slack.com/services/…` });
    }
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
      const webApi = cfg.token !== undefined;
      const url = cfg.api_url ?? SLACK_POST_MESSAGE_URL;
      const res = await postRequest({
        url,
        body: buildPayload(n, cfg),
        ...(webApi ? { contentType: 'application/json; charset=utf-8', bearerToken: cfg.token } : {}),
        timeoutMs: cfg.timeout,
        signal,
        what: 'slack',
        ...(deps.now === undefined ? {} : { now: deps.now }),
        ...(webApi ? { describeError: (_status: number, text: string) => describeWebApi(text) } : {}),
      });
      if (!webApi) return;
      // The Web API answers HTTP 200 for its own errors: {"ok": false, "error": "…"}
      let answer: { ok?: unknown; error?: unknown; warning?: unknown };
      try {
        answer = JSON.parse(res.text) as typeof answer;
      } catch {
        throw new NotifyError('VIGIL_ERR_SLACK_API', `slack: the Web API answered something else than JSON: ${res.text.slice(0, 200)}`, { status: res.status, retryable: true });
      }
      if (answer.ok === true) return;
      const error = typeof answer.error === 'string' ? answer.error : '(no error named)';
      throw new NotifyError('VIGIL_ERR_SLACK_API', `slack: chat.postMessage refused: ${error}`, { status: res.status, bodyExcerpt: error, retryable: SLACK_TRANSIENT.has(error) });
    },
  };
}
