import { z } from 'zod';
import { BasicAuthSchema, httpUrl, int, receiverBase } from './config.js';
import { postRequest } from './http.js';
import type { Notification, Notifier, NotifierDeps } from './notifier.js';

/**
 * Generic webhook: POSTs Alertmanager's webhook payload, version "4", so receivers written for
 * Alertmanager (`webhook_configs`) work unchanged. Any 2xx is success.
 */

export const WebhookConfigSchema = z.strictObject({
  type: z.literal('webhook'),
  ...receiverBase(true),
  url: httpUrl(),
  bearer_token: z.string().min(1).optional(),
  basic_auth: BasicAuthSchema.optional(),
  /** Most alerts in one payload; the rest are counted in `truncatedAlerts`. 0 = all. */
  max_alerts: int().pipe(z.number().min(0)).default(0),
});
export type WebhookConfig = z.output<typeof WebhookConfigSchema>;

/** Alertmanager's webhook message (notify/webhook `Message`, version 4). */
export interface WebhookPayload {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
}

export function buildPayload(n: Notification, maxAlerts = 0): WebhookPayload {
  const kept = maxAlerts > 0 ? n.alerts.slice(0, maxAlerts) : n.alerts;
  return {
    receiver: n.receiver,
    status: n.status,
    alerts: kept.map((a) => ({
      status: a.status,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
    groupLabels: { ...n.groupLabels },
    commonLabels: { ...n.commonLabels },
    commonAnnotations: { ...n.commonAnnotations },
    externalURL: n.externalURL,
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: n.alerts.length - kept.length,
  };
}

export function createWebhookNotifier(cfg: WebhookConfig, deps: NotifierDeps = {}): Notifier {
  return {
    name: cfg.name,
    type: 'webhook',
    sendResolved: cfg.send_resolved,
    async send(n: Notification, signal: AbortSignal): Promise<void> {
      await postRequest({
        url: cfg.url,
        body: buildPayload(n, cfg.max_alerts),
        bearerToken: cfg.bearer_token,
        basicAuth: cfg.basic_auth,
        timeoutMs: cfg.timeout,
        signal,
        what: 'webhook',
        ...(deps.now === undefined ? {} : { now: deps.now }),
      });
    },
  };
}
