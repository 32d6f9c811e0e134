/** The notification side of Vigil's alerting: direct notifiers, the dispatcher and the Alertmanager sender. */
export { type Notification, type NotificationAlert, type NotificationStatus, type Notifier, type NotifierDeps, NotifyError, isNotifyError, isRetryableError } from './notifier.js';
export { LabelMatcher, type MatchType, parseMatcher, parseMatchers, parseMatcherList, matchesAll, formatMatchers } from './matchers.js';
export { fingerprint, hashKey } from './fingerprint.js';
export { type NotificationMetrics, type NotificationOutcome, noopNotificationMetrics, CountingNotificationMetrics } from './metrics.js';
export { type OutboxEntry, type OutboxStore, MemoryOutboxStore, parseNotification } from './outbox.js';
export { BoundedQueue } from './queue.js';
export { type RetryPolicy, type Sleep, DEFAULT_RETRY, realSleep, backoffMs } from './sender.js';
export { ReceiverConfigSchema, type ReceiverConfig, type ReceiverType, NOTIFIER_FACTORIES, RECEIVER_TYPES, createNotifier, createNotifiers } from './registry.js';
export { WebhookConfigSchema, type WebhookConfig, type WebhookPayload, buildPayload as buildWebhookPayload, createWebhookNotifier } from './webhook.js';
export { SlackConfigSchema, type SlackConfig, type SlackPayload, buildPayload as buildSlackPayload, createSlackNotifier, escapeSlack } from './slack.js';
export {
  TelegramConfigSchema,
  type TelegramConfig,
  type TelegramPayload,
  buildPayload as buildTelegramPayload,
  createTelegramNotifier,
  escapeHtml,
  escapeAttr,
  truncateHtml,
  TELEGRAM_MAX_TEXT,
} from './telegram.js';
export {
  PagerDutyConfigSchema,
  type PagerDutyConfig,
  type PagerDutyEvent,
  buildPayload as buildPagerDutyPayload,
  createPagerDutyNotifier,
  mapSeverity,
  dedupKey,
} from './pagerduty.js';
export { EmailConfigSchema, type EmailConfig, type EmailMessage, buildPayload as buildEmailPayload, createEmailNotifier } from './email.js';
export {
  NotificationsConfigSchema,
  type NotificationsConfig,
  RouteSchema,
  type RouteConfig,
  Dispatcher,
  type DispatcherOptions,
  type DispatcherStateStore,
  type DispatchAlert,
  type ResolvedRoute,
  resolveRoutes,
  matchRoutes,
} from './dispatcher.js';
export {
  AlertmanagerSender,
  AlertmanagerConfigSchema,
  AlertmanagersConfigSchema,
  type AlertmanagerConfig,
  type AlertmanagerSenderOptions,
  alertmanagerName,
  isAlertmanagerOutboxId,
  ALERTMANAGER_OUTBOX_PREFIX,
  AlertmanagerRetrySchema,
  MAX_BATCH_SIZE,
} from './alertmanager.js';
export { title } from './render.js';
