import { describe, expect, it } from 'vitest';
import { FAKE_SLACK_BOT_TOKEN, SLACK_HOOK_PATH, slackApiRateLimited, slackRateLimited, startFakeSlack, startFakeSlackApi } from '../../../test/fakes/fake-receivers.js';
import { alert, deliverOnce, notification, notifierContract, steppedTime } from './notifier.contract.js';
import { NotifyError } from './notifier.js';
import { buildPayload, createSlackNotifier, escapeSlack, SLACK_POST_MESSAGE_URL, SlackConfigSchema } from './slack.js';

const cfg = (url: string, extra: Record<string, unknown> = {}) => SlackConfigSchema.parse({ type: 'slack', name: 'team', api_url: url, ...extra });

describe('slack buildPayload', () => {
  it('has the title as text and blocks with one section per alert', () => {
    const p = buildPayload(notification());
    expect(p.text.split('\n')[0]).toBe('[FIRING:2] AccuracyDrop (fraud-v2 critical)');
    expect(p.text).toContain('• AccuracyDrop on fraud-v2');
    expect(p.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[FIRING:2] AccuracyDrop (fraud-v2 critical)', emoji: true } });
    const sections = p.blocks.filter((b) => b.type === 'section');
    expect(sections).toHaveLength(2);
    const second = sections[1];
    expect(second?.type === 'section' ? second.text.text : '').toContain('accuracy 0.82 &lt; 0.9');
    expect(second?.type === 'section' ? second.text.text : '').toContain('<http://vigil.example:9470/api/v1/rules?rule_name=AccuracyDrop|Source>');
    expect(p.blocks.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Receiver *team* · <http://vigil.example:9470|Vigil>' }] });
    expect(p).not.toHaveProperty('channel');
  });

  it('escapes &, < and > (Slack control characters) in text', () => {
    expect(escapeSlack('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    const n = notification({ alerts: [alert({ alertname: 'X' }, { annotations: { summary: '<!channel> p95 > 2s & rising' } })], commonLabels: { alertname: 'X' }, groupLabels: { alertname: 'X' } });
    const p = buildPayload(n);
    expect(p.text).toContain('&lt;!channel&gt; p95 &gt; 2s &amp; rising');
    expect(JSON.stringify(p.blocks)).not.toContain('<!channel>');
  });

  it('says RESOLVED when all alerts are resolved, and passes channel/username/icon overrides', () => {
    const n = notification({ alerts: [alert({ alertname: 'AccuracyDrop' }, { status: 'resolved' })] });
    const p = buildPayload(n, { channel: '#ml-alerts', username: 'vigil', icon_emoji: ':rotating_light:' });
    expect(p.text.startsWith('[RESOLVED] AccuracyDrop')).toBe(true);
    expect(p).toMatchObject({ channel: '#ml-alerts', username: 'vigil', icon_emoji: ':rotating_light:' });
  });

  it('keeps within Slack limits: max_alerts sections plus a summary line, sections ≤ 3000 chars', () => {
    const alerts = Array.from({ length: 30 }, (_, i) => alert({ alertname: 'Drift', feature: `f${i}` }, { fingerprint: String(i).padStart(16, '0'), annotations: { summary: 'x'.repeat(5000) } }));
    const p = buildPayload(notification({ alerts }), { max_alerts: 20 });
    const sections = p.blocks.filter((b) => b.type === 'section');
    expect(sections).toHaveLength(21);
    expect(sections.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '… and 10 more alerts' } });
    for (const s of sections) expect(s.type === 'section' && s.text.text.length <= 3000).toBe(true);
    expect(p.blocks.length).toBeLessThanOrEqual(50);
  });

  it('config: send_resolved defaults to false (Alertmanager slack_configs)', () => {
    expect(cfg('https://hooks.slack.com/services/T/B/X').send_resolved).toBe(false);
  });
});

notifierContract({
  type: 'slack',
  start: startFakeSlack,
  create: (fake, o) => createSlackNotifier(cfg(`${fake.url}${SLACK_HOOK_PATH}`, { name: o.name, timeout: `${o.timeoutMs}ms` }), { now: o.now }),
  delivered: (fake) => fake.state.messages.length,
  clientError: { fault: { status: 404, body: 'channel_not_found' }, status: 404, excerpt: 'channel_not_found' },
  serverError: { status: 500, body: 'rollup_error' },
  rateLimit: { fault: slackRateLimited(30), delayMs: 30_000 },
});

describe('slack notifier against the fake: validation', () => {
  it('the fake accepts what buildPayload produces and rejects a wrong hook path with no_service', async () => {
    const fake = await startFakeSlack();
    try {
      await createSlackNotifier(cfg(`${fake.url}${SLACK_HOOK_PATH}`)).send(notification(), new AbortController().signal);
      expect(fake.state.messages[0]?.text).toContain('[FIRING:2]');
      const err = await createSlackNotifier(cfg(`${fake.url}/services/wrong`))
        .send(notification(), new AbortController().signal)
        .catch((e: unknown) => e as { status: number; bodyExcerpt: string; retryable: boolean; message: string });
      expect(err).toMatchObject({ status: 404, bodyExcerpt: 'no_service', retryable: false });
      expect((err as unknown as Error).message).not.toContain('/services/wrong');
    } finally {
      await fake.close();
    }
  });
});

describe('slack Web API (chat.postMessage with a bot token)', () => {
  const api = (url: string, extra: Record<string, unknown> = {}) => SlackConfigSchema.parse({ type: 'slack', name: 'team', token: FAKE_SLACK_BOT_TOKEN, channel: 'C0123456789', api_url: `${url}/api/chat.postMessage`, ...extra });

  it('config: a Web API method URL without a token is refused, naming token; a token needs a channel; the default method URL', () => {
    const bad = SlackConfigSchema.safeParse({ type: 'slack', name: 'team', api_url: 'https://slack.com/api/chat.postMessage' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['token'] });
    expect(bad.error?.issues[0]?.message).toContain('is a Slack Web API method: it needs a bot token (token) and a channel');
    const noChannel = SlackConfigSchema.safeParse({ type: 'slack', name: 'team', token: 'xoxb-1' });
    expect(noChannel.error?.issues[0]).toMatchObject({ path: ['channel'] });
    const neither = SlackConfigSchema.safeParse({ type: 'slack', name: 'team' });
    expect(neither.error?.issues[0]).toMatchObject({ path: ['api_url'] });
    expect(SlackConfigSchema.parse({ type: 'slack', name: 'team', token: 'xoxb-1', channel: '#ml' }).api_url).toBeUndefined(); // chat.postMessage at slack.com
    expect(SLACK_POST_MESSAGE_URL).toBe('https://slack.com/api/chat.postMessage');
  });

  it('posts with the bot token to the channel; {"ok": false} answers are failures naming the error', async () => {
    const fake = await startFakeSlackApi();
    try {
      await createSlackNotifier(api(fake.url)).send(notification(), new AbortController().signal);
      expect(fake.state.messages).toHaveLength(1);
      expect(fake.state.messages[0]).toMatchObject({ channel: 'C0123456789', text: expect.stringContaining('[FIRING:2]') });
      expect(fake.state.requests[0]?.headers.authorization).toBe(`Bearer ${FAKE_SLACK_BOT_TOKEN}`);

      const fail = async (extra: Record<string, unknown>) =>
        createSlackNotifier(api(fake.url, extra))
          .send(notification(), new AbortController().signal)
          .then(() => null)
          .catch((e: unknown) => e as NotifyError);
      const unknownChannel = await fail({ channel: 'C9999999999' });
      expect(unknownChannel).toBeInstanceOf(NotifyError);
      expect(unknownChannel).toMatchObject({ code: 'VIGIL_ERR_SLACK_API', status: 200, retryable: false, bodyExcerpt: 'channel_not_found' });
      expect(unknownChannel?.message).toBe('slack: chat.postMessage refused: channel_not_found');
      expect(await fail({ token: 'xoxb-wrong' })).toMatchObject({ bodyExcerpt: 'invalid_auth', retryable: false });
      expect(fake.state.messages).toHaveLength(1);
      expect(JSON.stringify(unknownChannel)).not.toContain(FAKE_SLACK_BOT_TOKEN);
    } finally {
      await fake.close();
    }
  });

  it('rate limited (429, Retry-After, "ratelimited"): retried after the delay Slack names, then delivered', async () => {
    const fake = await startFakeSlackApi();
    try {
      fake.state.faults.push(slackApiRateLimited('12'));
      const time = steppedTime();
      const { metrics } = await deliverOnce(createSlackNotifier(api(fake.url)), time);
      expect(time.delays).toEqual([12_000]);
      expect(fake.state.messages).toHaveLength(1);
      expect(metrics.get('team', 'success')).toBe(1);
      const err = await createSlackNotifier(api(fake.url))
        .send(notification(), new AbortController().signal)
        .then(() => null, (e: unknown) => e as NotifyError);
      expect(err).toBeNull();
      fake.state.faults.push(slackApiRateLimited('3'));
      const limited = await createSlackNotifier(api(fake.url))
        .send(notification(), new AbortController().signal)
        .then(() => null, (e: unknown) => e as NotifyError);
      expect(limited).toMatchObject({ status: 429, retryable: true, retryAfterMs: 3_000 });
      expect(limited?.message).toContain('ratelimited');
    } finally {
      await fake.close();
    }
  });
});
