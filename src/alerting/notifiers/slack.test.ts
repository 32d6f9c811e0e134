import { describe, expect, it } from 'vitest';
import { SLACK_HOOK_PATH, slackRateLimited, startFakeSlack } from '../../../test/fakes/fake-receivers.js';
import { alert, notification, notifierContract } from './notifier.contract.js';
import { buildPayload, createSlackNotifier, escapeSlack, SlackConfigSchema } from './slack.js';

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
