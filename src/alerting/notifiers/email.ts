import { createTransport, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { z } from 'zod';
import { bool, receiverBase } from './config.js';
import { excerpt } from './http.js';
import { NotifyError, type Notification, type Notifier, type NotifierDeps } from './notifier.js';
import { alertTextLines, formatLabels, alertHeadline, orderedAlerts, title } from './render.js';
import { escapeAttr, escapeHtml } from './telegram.js';

/**
 * E-mail over SMTP (nodemailer), after Alertmanager's `email_configs`: `to`, `from`, `smarthost`
 * (`host:port`; port 465 = implicit TLS), optional auth, STARTTLS required unless `require_tls: false`.
 * SMTP 4xx replies and connection failures are retryable; 5xx replies and auth failures are not.
 */

const SMARTHOST_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export const EmailConfigSchema = z.strictObject({
  type: z.literal('email'),
  ...receiverBase(false),
  /** Recipients, comma-separated. */
  to: z.string().min(3),
  from: z.string().min(3),
  /** SMTP server `host:port`. */
  smarthost: z.string().regex(SMARTHOST_RE, 'must be host:port'),
  /** Name sent in EHLO/HELO. */
  hello: z.string().min(1).default('localhost'),
  auth_username: z.string().min(1).optional(),
  auth_password: z.string().optional(),
  /** Refuse to send unless the server offers STARTTLS (Alertmanager's default). */
  require_tls: bool().default(true),
  /** Accept any TLS certificate (testing only). */
  insecure_skip_verify: bool().default(false),
});
export type EmailConfig = z.output<typeof EmailConfigSchema>;

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export function buildPayload(n: Notification, cfg: Pick<EmailConfig, 'from' | 'to'>): EmailMessage {
  const alerts = orderedAlerts(n);
  const subject = title(n);
  const text = [subject, '', ...alerts.map((a) => alertTextLines(a).join('\n')).flatMap((b) => [b, '']), ...(n.externalURL === '' ? [] : [`Sent by Vigil: ${n.externalURL}`])]
    .join('\n')
    .trimEnd();
  const rows = alerts
    .map((a) => {
      const color = a.status === 'firing' ? '#d9534f' : '#5cb85c';
      const desc = a.annotations.description !== undefined && a.annotations.description !== a.annotations.summary ? `<br>${escapeHtml(a.annotations.description)}` : '';
      const links = [
        ...(a.annotations.runbook_url !== undefined ? [`<a href="${escapeAttr(a.annotations.runbook_url)}">Runbook</a>`] : []),
        ...(a.generatorURL !== '' ? [`<a href="${escapeAttr(a.generatorURL)}">Source</a>`] : []),
      ].join(' · ');
      return (
        `<tr><td style="border-left:4px solid ${color};padding:6px 10px">` +
        `<strong>${a.status === 'firing' ? 'FIRING' : 'RESOLVED'}</strong>: ${escapeHtml(alertHeadline(a))}${desc}` +
        `<br><code>${escapeHtml(formatLabels(a.labels))}</code><br>Started ${escapeHtml(a.startsAt)}` +
        `${a.status === 'resolved' ? `, ended ${escapeHtml(a.endsAt)}` : ''}${links === '' ? '' : `<br>${links}`}</td></tr>`
      );
    })
    .join('\n');
  const html =
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>` +
    `<h2>${escapeHtml(subject)}</h2>\n<table cellspacing="0" cellpadding="0">\n${rows}\n</table>` +
    `${n.externalURL === '' ? '' : `<p><a href="${escapeAttr(n.externalURL)}">Vigil</a></p>`}</body></html>`;
  return { from: cfg.from, to: cfg.to, subject, text, html, headers: { 'X-Vigil-Group-Key': n.groupKey } };
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

const PERMANENT_CODES = new Set(['EAUTH', 'ETLS', 'EENVELOPE', 'EMESSAGE', 'ECONFIG']);

/** Maps a nodemailer failure to a NotifyError (4xx / network: retryable; 5xx / auth / TLS: not). */
export function smtpError(e: unknown, where: string): NotifyError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as SmtpError;
  const reply = err.responseCode;
  const body = err.response === undefined ? undefined : excerpt(err.response);
  let retryable: boolean;
  if (reply !== undefined) retryable = reply >= 400 && reply < 500;
  else retryable = !PERMANENT_CODES.has(err.code ?? '');
  const suffix = err.code === 'EAUTH' ? 'AUTH' : err.code === 'ETIMEDOUT' ? 'TIMEOUT' : reply !== undefined ? 'REJECTED' : 'UNREACHABLE';
  return new NotifyError(`VIGIL_ERR_NOTIFY_EMAIL_${suffix}`, `email: ${where}: ${body ?? err.message ?? String(e)}${err.code === undefined ? '' : ` (${err.code})`}`, {
    retryable,
    status: reply,
    bodyExcerpt: body,
    cause: e,
  });
}

export function createEmailNotifier(cfg: EmailConfig, _deps: NotifierDeps = {}): Notifier {
  const m = SMARTHOST_RE.exec(cfg.smarthost);
  const host = (m?.[1] ?? '').replace(/^\[|\]$/g, '');
  const port = Number(m?.[2] ?? 25);
  const options: SMTPTransport.Options = {
    host,
    port,
    secure: port === 465,
    requireTLS: cfg.require_tls && port !== 465,
    name: cfg.hello,
    connectionTimeout: cfg.timeout,
    greetingTimeout: cfg.timeout,
    socketTimeout: cfg.timeout,
    tls: { rejectUnauthorized: !cfg.insecure_skip_verify },
    ...(cfg.auth_username === undefined ? {} : { auth: { user: cfg.auth_username, pass: cfg.auth_password ?? '' } }),
  };
  const transport: Transporter<SMTPTransport.SentMessageInfo> = createTransport(options);
  const where = `smtp://${cfg.smarthost}`;
  return {
    name: cfg.name,
    type: 'email',
    sendResolved: cfg.send_resolved,
    async send(n: Notification, signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw new NotifyError('VIGIL_ERR_NOTIFY_EMAIL_ABORTED', `email: sending to ${where} was cancelled`, { retryable: true });
      const msg = buildPayload(n, cfg);
      const sending = transport.sendMail(msg);
      sending.catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => {
        signal.addEventListener('abort', () => reject(new NotifyError('VIGIL_ERR_NOTIFY_EMAIL_ABORTED', `email: sending to ${where} was cancelled`, { retryable: true })), { once: true });
      });
      aborted.catch(() => undefined);
      let info: SMTPTransport.SentMessageInfo;
      try {
        info = await Promise.race([sending, aborted]);
      } catch (e) {
        if (e instanceof NotifyError) throw e;
        throw smtpError(e, where);
      }
      if (info.rejected.length > 0 && info.accepted.length === 0) {
        throw new NotifyError('VIGIL_ERR_NOTIFY_EMAIL_REJECTED', `email: ${where} rejected every recipient`, { retryable: false, bodyExcerpt: excerpt(info.response) });
      }
    },
    close(): Promise<void> {
      transport.close();
      return Promise.resolve();
    },
  };
}
