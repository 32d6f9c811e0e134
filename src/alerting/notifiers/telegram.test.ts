import { describe, expect, it } from 'vitest';
import { FAKE_TELEGRAM_TOKEN, parseTelegramHtml, startFakeTelegram, telegramError, telegramRetryAfter } from '../../../test/fakes/fake-receivers.js';
import { alert, notification, notifierContract } from './notifier.contract.js';
import { buildPayload, createTelegramNotifier, escapeAttr, escapeHtml, TelegramConfigSchema, TELEGRAM_MAX_TEXT, truncateHtml } from './telegram.js';

const cfg = (apiUrl: string, extra: Record<string, unknown> = {}) =>
  TelegramConfigSchema.parse({ type: 'telegram', name: 'team', bot_token: FAKE_TELEGRAM_TOKEN, chat_id: -1001234567890, api_url: apiUrl, ...extra });

describe('telegram buildPayload', () => {
  it('sends HTML with the chat id and the title in bold', () => {
    const p = buildPayload(notification(), { chat_id: -100123 });
    expect(p.parse_mode).toBe('HTML');
    expect(p.chat_id).toBe(-100123);
    expect(p.disable_notification).toBe(false);
    expect(p.text.startsWith('<b>🔥 [FIRING:2] AccuracyDrop (fraud-v2 critical)</b>')).toBe(true);
    expect(p.text).toContain('<code>alertname="AccuracyDrop", model="fraud-v2", severity="critical", window="1h"</code>');
    expect(p.text).toContain('<a href="http://vigil.example:9470/api/v1/rules?rule_name=AccuracyDrop">Source</a>');
    expect('error' in parseTelegramHtml(p.text)).toBe(false);
  });

  it('escapes &, <, > (and " in attributes)', () => {
    expect(escapeHtml('a<b>&"c"')).toBe('a&lt;b&gt;&amp;"c"');
    expect(escapeAttr('http://x/?a="1"&b=<2>')).toBe('http://x/?a=&quot;1&quot;&amp;b=&lt;2&gt;');
    const n = notification({ alerts: [alert({ alertname: 'X' }, { annotations: { summary: 'p95 <script> & "quotes" > 2s' } })] });
    const p = buildPayload(n, { chat_id: 1 });
    expect(p.text).toContain('p95 &lt;script&gt; &amp; "quotes" &gt; 2s');
    const parsed = parseTelegramHtml(p.text);
    expect('text' in parsed && parsed.text.includes('p95 <script> & "quotes" > 2s')).toBe(true);
  });

  it('truncates to 4096 characters without breaking tags or entities', () => {
    const alerts = Array.from({ length: 200 }, (_, i) => alert({ alertname: 'Drift', feature: `f&<${i}>` }, { fingerprint: String(i).padStart(16, '0'), annotations: { summary: `drift on <feature> ${i} & more` } }));
    const p = buildPayload(notification({ alerts }), { chat_id: 1 });
    expect(p.text.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
    expect(p.text.length).toBeGreaterThan(TELEGRAM_MAX_TEXT - 100);
    expect(p.text).toMatch(/…(<\/[a-z]+>)*$/);
    expect('error' in parseTelegramHtml(p.text)).toBe(false);
  });

  it('truncateHtml closes open tags and never cuts an entity or a surrogate pair', () => {
    expect(truncateHtml('<b>abcdef</b>', 100)).toBe('<b>abcdef</b>');
    const cut = truncateHtml('<b>abc&amp;def</b>', 12);
    expect(cut.length).toBeLessThanOrEqual(12);
    expect(cut).toBe('<b>abc…</b>');
    expect(truncateHtml('x😀😀😀', 4)).toBe('x😀…');
    for (let max = 5; max < 60; max++) {
      const t = truncateHtml('<b>title &amp; more</b>\n<code>a=&quot;b&quot;</code> <a href="http://x/?a=1&amp;b=2">link</a>', max);
      expect(t.length).toBeLessThanOrEqual(max);
      expect('error' in parseTelegramHtml(t)).toBe(false);
    }
  });

  it('config: send_resolved defaults to true; validates the token and chat id', () => {
    const c = cfg('https://api.telegram.org');
    expect(c.send_resolved).toBe(true);
    expect(c.parse_mode).toBe('HTML');
    expect(TelegramConfigSchema.safeParse({ type: 'telegram', name: 'x', bot_token: 'nope', chat_id: 1 }).success).toBe(false);
    expect(TelegramConfigSchema.safeParse({ type: 'telegram', name: 'x', bot_token: FAKE_TELEGRAM_TOKEN, chat_id: '@ml_alerts' }).success).toBe(true);
    expect(TelegramConfigSchema.parse({ type: 'telegram', name: 'x', bot_token: FAKE_TELEGRAM_TOKEN, chat_id: '-42' }).chat_id).toBe(-42);
  });
});

notifierContract({
  type: 'telegram',
  start: () => startFakeTelegram(),
  create: (fake, o) => createTelegramNotifier(cfg(fake.url, { name: o.name, timeout: `${o.timeoutMs}ms` }), { now: o.now }),
  delivered: (fake) => fake.state.messages.length,
  clientError: { fault: telegramError(400, 'Bad Request: chat not found'), status: 400, excerpt: 'chat not found' },
  serverError: telegramError(502, 'Bad Gateway'),
  rateLimit: { fault: telegramRetryAfter(12), delayMs: 12_000 },
});

describe('telegram notifier against the fake', () => {
  it('delivers long, escaped messages the Bot API accepts; a wrong token is a 401 with the description', async () => {
    const fake = await startFakeTelegram();
    try {
      const alerts = Array.from({ length: 100 }, (_, i) => alert({ alertname: 'Drift', feature: `f<${i}>` }, { fingerprint: String(i).padStart(16, '0') }));
      await createTelegramNotifier(cfg(fake.url)).send(notification({ alerts }), new AbortController().signal);
      expect(fake.state.messages[0]?.text).toContain('f<0>');
      expect(fake.state.requests[0]?.path).toBe(`/bot${FAKE_TELEGRAM_TOKEN}/sendMessage`);

      const err = await createTelegramNotifier(cfg(fake.url, { bot_token: '1:wrong' }))
        .send(notification(), new AbortController().signal)
        .catch((e: unknown) => e as { status: number; retryable: boolean; message: string });
      expect(err).toMatchObject({ status: 401, retryable: false });
      expect((err as unknown as Error).message).toContain('Unauthorized');
      expect((err as unknown as Error).message).not.toContain('1:wrong');
    } finally {
      await fake.close();
    }
  });
});
