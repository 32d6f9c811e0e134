import { z } from 'zod';
import { EmailConfigSchema, createEmailNotifier } from './email.js';
import type { Notifier, NotifierDeps } from './notifier.js';
import { PagerDutyConfigSchema, createPagerDutyNotifier } from './pagerduty.js';
import { SlackConfigSchema, createSlackNotifier } from './slack.js';
import { TelegramConfigSchema, createTelegramNotifier } from './telegram.js';
import { WebhookConfigSchema, createWebhookNotifier } from './webhook.js';

/**
 * The receiver kinds, keyed by `type`. Adding a schema to the union without a factory (or the
 * reverse) is a compile error.
 */

export const ReceiverConfigSchema = z.discriminatedUnion('type', [WebhookConfigSchema, SlackConfigSchema, TelegramConfigSchema, PagerDutyConfigSchema, EmailConfigSchema]);
export type ReceiverConfig = z.output<typeof ReceiverConfigSchema>;
export type ReceiverType = ReceiverConfig['type'];
type ConfigOf<T extends ReceiverType> = Extract<ReceiverConfig, { type: T }>;

export type NotifierFactory<T extends ReceiverType> = (cfg: ConfigOf<T>, deps: NotifierDeps) => Notifier;

export const NOTIFIER_FACTORIES: { readonly [T in ReceiverType]: NotifierFactory<T> } = {
  webhook: createWebhookNotifier,
  slack: createSlackNotifier,
  telegram: createTelegramNotifier,
  pagerduty: createPagerDutyNotifier,
  email: createEmailNotifier,
};

export const RECEIVER_TYPES = Object.keys(NOTIFIER_FACTORIES) as ReceiverType[];

export function createNotifier(cfg: ReceiverConfig, deps: NotifierDeps = {}): Notifier {
  const factory = NOTIFIER_FACTORIES[cfg.type] as NotifierFactory<ReceiverType>;
  return factory(cfg as never, deps);
}

export function createNotifiers(receivers: readonly ReceiverConfig[], deps: NotifierDeps = {}): Notifier[] {
  return receivers.map((r) => createNotifier(r, deps));
}
