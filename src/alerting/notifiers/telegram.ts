import { z } from 'zod';
import { bool, httpUrl, int, receiverBase } from './config.js';
import { excerpt, postRequest } from './http.js';
import { NotifyError, type Notification, type Notifier, type NotifierDeps } from './notifier.js';
import { alertHeadline, formatLabels, orderedAlerts, title } from './render.js';

/**
 * Telegram Bot API `sendMessage` with HTML parse mode. Text is escaped (`&`, `<`, `>`; also `"` in
 * attributes) and cut to 4096 characters without breaking a tag or an entity. Errors are
 * `{ok: false, error_code, description, parameters?: {retry_after}}`; 429's `retry_after` is honoured.
 */

export const TELEGRAM_MAX_TEXT = 4096;

export const TelegramConfigSchema = z.strictObject({
  type: z.literal('telegram'),
  ...receiverBase(true),
  /** The bot token from @BotFather; a secret. */
  bot_token: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF…'),
  /** Numeric chat id (negative for groups) or `@channelusername`. */
  chat_id: z.union([int(), z.string().regex(/^@[A-Za-z0-9_]{5,}$/, 'must be a number or @channelusername')]),
  api_url: httpUrl().default('https://api.telegram.org'),
  parse_mode: z.literal('HTML').default('HTML'),
  disable_notifications: bool().default(false),
  /** Forum topic to post in. */
  message_thread_id: int().optional(),
});
export type TelegramConfig = z.output<typeof TelegramConfigSchema>;

export interface TelegramPayload {
  chat_id: number | string;
  text: string;
  parse_mode: 'HTML';
  disable_notification: boolean;
  link_preview_options: { is_disabled: true };
  message_thread_id?: number;
}

/** Escapes text for Telegram's HTML parse mode: `&`, `<`, `>`. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (`href="…"`): also `"`. */
export function escapeAttr(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/**
 * Cuts HTML to at most `max` UTF-16 code units: never inside a tag, an entity or a surrogate
 * pair, appends `…` and closes the tags still open.
 */
export function truncateHtml(html: string, max: number): string {
  if (html.length <= max) return html;
  const ell = '…';
  const stack: string[] = [];
  const closers = (s: readonly string[]) => s.map((t) => `</${t}>`).reverse().join('');
  let safe = 0;
  let safeStack: string[] = [];
  let i = 0;
  while (i < html.length) {
    if (i + ell.length + closers(stack).length <= max) {
      safe = i;
      safeStack = [...stack];
    } else if (i > max) break;
    const c = html[i];
    if (c === '<') {
      const end = html.indexOf('>', i);
      const tag = html.slice(i + 1, end < 0 ? html.length : end);
      const name = /^\/?\s*([a-zA-Z-]+)/.exec(tag)?.[1]?.toLowerCase() ?? '';
      if (tag.startsWith('/')) {
        const at = stack.lastIndexOf(name);
        if (at >= 0) stack.splice(at, 1);
      } else if (!tag.endsWith('/')) stack.push(name);
      i = end < 0 ? html.length : end + 1;
    } else if (c === '&') {
      const end = html.indexOf(';', i);
      i = end < 0 || end - i > 10 ? i + 1 : end + 1;
    } else {
      const code = html.charCodeAt(i);
      i += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    }
  }
  return `${html.slice(0, safe)}${ell}${closers(safeStack)}`;
}

const a = (href: string, text: string): string => `<a href="${escapeAttr(href)}">${escapeHtml(text)}</a>`;

export function buildText(n: Notification): string {
  const parts = [`<b>${n.status === 'firing' ? '🔥' : '✅'} ${escapeHtml(title(n))}</b>`];
  for (const al of orderedAlerts(n)) {
    const lines = [`<b>${al.status === 'firing' ? 'FIRING' : 'RESOLVED'}</b>: ${escapeHtml(alertHeadline(al))}`];
    const desc = al.annotations.description;
    if (desc !== undefined && desc !== al.annotations.summary) lines.push(escapeHtml(desc));
    lines.push(`<code>${escapeHtml(formatLabels(al.labels))}</code>`);
    const links = [
      ...(al.annotations.runbook_url !== undefined ? [a(al.annotations.runbook_url, 'Runbook')] : []),
      ...(al.generatorURL !== '' ? [a(al.generatorURL, 'Source')] : []),
    ];
    if (links.length > 0) lines.push(links.join(' | '));
    parts.push(lines.join('\n'));
  }
  return truncateHtml(parts.join('\n\n'), TELEGRAM_MAX_TEXT);
}

export function buildPayload(n: Notification, cfg: Pick<TelegramConfig, 'chat_id'> & Partial<Pick<TelegramConfig, 'disable_notifications' | 'message_thread_id'>>): TelegramPayload {
  return {
    chat_id: cfg.chat_id,
    text: buildText(n),
    parse_mode: 'HTML',
    disable_notification: cfg.disable_notifications ?? false,
    link_preview_options: { is_disabled: true },
    ...(cfg.message_thread_id === undefined ? {} : { message_thread_id: cfg.message_thread_id }),
  };
}

interface TelegramAnswer {
  ok?: boolean;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

function parseAnswer(text: string): TelegramAnswer | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as TelegramAnswer) : undefined;
  } catch {
    return undefined;
  }
}

export function createTelegramNotifier(cfg: TelegramConfig, deps: NotifierDeps = {}): Notifier {
  const url = `${cfg.api_url.replace(/\/+$/, '')}/bot${cfg.bot_token}/sendMessage`;
  return {
    name: cfg.name,
    type: 'telegram',
    sendResolved: cfg.send_resolved,
    async send(n: Notification, signal: AbortSignal): Promise<void> {
      const res = await postRequest({
        url,
        body: buildPayload(n, cfg),
        timeoutMs: cfg.timeout,
        signal,
        what: 'telegram',
        ...(deps.now === undefined ? {} : { now: deps.now }),
        describeError: (status, text) => {
          const ans = parseAnswer(text);
          if (ans === undefined) return undefined;
          const retryAfter = ans.parameters?.retry_after;
          const migrate = ans.parameters?.migrate_to_chat_id;
          return {
            message: `${ans.description ?? `error ${ans.error_code ?? status}`}${migrate === undefined ? '' : ` (the group moved: set chat_id to ${migrate})`}`,
            ...(typeof retryAfter === 'number' ? { retryAfterMs: retryAfter * 1000, retryable: true } : {}),
          };
        },
      });
      const ans = parseAnswer(res.text);
      if (ans?.ok !== true) {
        throw new NotifyError('VIGIL_ERR_NOTIFY_TELEGRAM_HTTP', `telegram: answer without ok=true: ${ans?.description ?? excerpt(res.text)}`, {
          status: res.status,
          bodyExcerpt: excerpt(res.text),
        });
      }
    },
  };
}
