import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSmtp, type FakeSmtp } from '../../../test/fakes/fake-receivers.js';
import { buildPayload, createEmailNotifier, EmailConfigSchema } from './email.js';
import { deliverOnce, notification, steppedTime } from './notifier.contract.js';
import { NotifyError } from './notifier.js';

const cfg = (smarthost: string, extra: Record<string, unknown> = {}) =>
  EmailConfigSchema.parse({ type: 'email', name: 'team', to: 'oncall@example.com, ml@example.com', from: 'vigil@example.com', smarthost, require_tls: false, ...extra });

/** The decoded text of a MIME message part, good enough for assertions (quoted-printable soft breaks removed). */
const unfold = (data: string) => data.replace(/=\r\n/g, '').replace(/=3D/g, '=').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

describe('email buildPayload', () => {
  it('renders subject (Alertmanager __subject), text and escaped HTML', () => {
    const m = buildPayload(notification(), { from: 'vigil@example.com', to: 'oncall@example.com' });
    expect(m.subject).toBe('[FIRING:2] AccuracyDrop (fraud-v2 critical)');
    expect(m.text).toContain('FIRING: Accuracy of fraud-v2 below 0.9 (24h)');
    expect(m.text).toContain('Description: accuracy 0.82 < 0.9');
    expect(m.text).toContain('Labels: alertname="AccuracyDrop", model="fraud-v2", severity="critical", window="1h"');
    expect(m.html).toContain('accuracy 0.82 &lt; 0.9');
    expect(m.html).not.toContain('0.82 < 0.9');
    expect(m.headers['X-Vigil-Group-Key']).toBe('{}/{severity="critical"}:{alertname="AccuracyDrop"}');
  });

  it('config: send_resolved false and require_tls true by default (Alertmanager email_configs)', () => {
    const c = EmailConfigSchema.parse({ type: 'email', name: 'm', to: 'a@b.c', from: 'v@b.c', smarthost: 'smtp.example.com:587' });
    expect(c.send_resolved).toBe(false);
    expect(c.require_tls).toBe(true);
    expect(EmailConfigSchema.safeParse({ type: 'email', name: 'm', to: 'a@b.c', from: 'v@b.c', smarthost: 'smtp.example.com' }).success).toBe(false);
  });
});

describe('email notifier against a local SMTP server', () => {
  let smtp: FakeSmtp | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  it('delivers the message: envelope, headers, text and html', async () => {
    smtp = await startFakeSmtp();
    const n = createEmailNotifier(cfg(smtp.smarthost, { hello: 'vigil.test' }));
    await n.send(notification(), new AbortController().signal);
    await n.close?.();
    expect(smtp.messages).toHaveLength(1);
    const msg = smtp.messages[0];
    expect(msg?.helo).toBe('vigil.test');
    expect(msg?.from).toBe('vigil@example.com');
    expect(msg?.to).toEqual(['oncall@example.com', 'ml@example.com']);
    const data = unfold(msg?.data ?? '');
    expect(data).toMatch(/^Subject: \[FIRING:2\] AccuracyDrop \(fraud-v2 critical\)$/m);
    expect(data).toMatch(/^X-Vigil-Group-Key: /m);
    expect(data).toContain('Content-Type: text/plain');
    expect(data).toContain('Content-Type: text/html');
    expect(data).toContain('Description: accuracy 0.82 < 0.9');
  });

  it('authenticates when auth_username is set', async () => {
    smtp = await startFakeSmtp();
    smtp.credentials = { username: 'vigil', password: 'hunter2' };
    await createEmailNotifier(cfg(smtp.smarthost, { auth_username: 'vigil', auth_password: 'hunter2' })).send(notification(), new AbortController().signal);
    expect(smtp.messages[0]?.auth).toEqual({ username: 'vigil', password: 'hunter2' });
    const err = await createEmailNotifier(cfg(smtp.smarthost, { auth_username: 'vigil', auth_password: 'wrong' }))
      .send(notification(), new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect(err).toMatchObject({ retryable: false, status: 535, code: 'VIGIL_ERR_NOTIFY_EMAIL_AUTH' });
  });

  it('a permanent 5xx rejection is not retried', async () => {
    smtp = await startFakeSmtp();
    smtp.faults.push({ command: 'RCPT', code: 550, text: '5.1.1 <oncall@example.com>: Recipient address rejected' });
    const err = await createEmailNotifier(cfg(smtp.smarthost, { to: 'oncall@example.com' }))
      .send(notification(), new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, status: 550 });
    expect((err as NotifyError).bodyExcerpt).toContain('Recipient address rejected');
  });

  it('a transient 4xx is retried and then delivered', async () => {
    smtp = await startFakeSmtp();
    smtp.faults.push({ command: 'MAIL', code: 451, text: '4.3.0 Try again later' });
    const time = steppedTime();
    const { metrics } = await deliverOnce(createEmailNotifier(cfg(smtp.smarthost)), time);
    expect(metrics.get('team', 'retry')).toBe(1);
    expect(metrics.get('team', 'success')).toBe(1);
    expect(time.delays).toEqual([1000]);
    expect(smtp.messages).toHaveLength(1);
  });

  it('a server that is down is retryable; one that never greets times out', async () => {
    smtp = await startFakeSmtp();
    const host = smtp.smarthost;
    await smtp.down();
    const err = await createEmailNotifier(cfg(host)).send(notification(), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    await smtp.up();
    smtp.faults.push({ command: 'CONNECT', hang: true });
    const started = Date.now();
    const hung = await createEmailNotifier(cfg(host, { timeout: '300ms' })).send(notification(), new AbortController().signal).catch((e: unknown) => e);
    expect(hung).toMatchObject({ retryable: true });
    expect(Date.now() - started).toBeLessThan(3000);
    await createEmailNotifier(cfg(host)).send(notification(), new AbortController().signal);
    expect(smtp.messages).toHaveLength(1);
  });

  it('refuses to send without STARTTLS when require_tls is on', async () => {
    smtp = await startFakeSmtp();
    const err = await createEmailNotifier(cfg(smtp.smarthost, { require_tls: true })).send(notification(), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect(smtp.messages).toHaveLength(0);
  });
});
