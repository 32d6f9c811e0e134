import { VigilError } from '../../core/errors.js';
import { expandTemplate } from '../../alerting/engine/template.js';
import { excerpt, httpRequest, safeUrl } from '../../ingest/sources/http.js';
import type { ActionContext, RemediationAction, TriggerAlert } from '../action.js';
import type { WebhookActionConfig } from '../config.js';

/**
 * `webhook`: POST (or PUT) JSON to any URL when a routed alert fires. Headers `Idempotency-Key`
 * (stable for the incident and action: a receiver can drop a repeated delivery), `X-Vigil-Incident`
 * and `X-Vigil-Action`, plus the configured headers and auth. The body is the configured JSON with
 * every string in it expanded as a template (`{{ $labels.model }}`, Prometheus alert-template
 * semantics), or by default the alert, model, action, incident id and idempotency key. A non-2xx
 * answer throws the HTTP client's SourceError (retryable for 408/429/5xx and network errors).
 * Not idempotent from Vigil's side: an interrupted delivery is not repeated after a restart.
 */

const templateData = (alert: Pick<TriggerAlert, 'labels'>) => ({ labels: alert.labels, externalLabels: {}, externalURL: '', value: 0 });

/** Expands every string leaf of a JSON value; a template error names its path (`body.text`, `body.items[2]`). */
export function expandBody(value: unknown, alert: Pick<TriggerAlert, 'labels'>, action: string, path = 'body'): unknown {
  if (typeof value === 'string') {
    const r = expandTemplate(value, `${action}.${path}`, templateData(alert));
    if (r.error !== undefined) {
      throw new VigilError('VIGIL_ERR_REMEDIATION_TEMPLATE', `webhook ${action}: ${path} is not a valid template: ${r.error}`, { details: { path } });
    }
    return r.text;
  }
  if (Array.isArray(value)) return value.map((v, i) => expandBody(v, alert, action, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandBody(v, alert, action, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
    return out;
  }
  return value;
}

/** The body sent when none is configured. */
export function defaultWebhookBody(ctx: Pick<ActionContext, 'action' | 'model' | 'incidentId' | 'idempotencyKey' | 'alert'>): Record<string, unknown> {
  return {
    version: '1',
    action: ctx.action,
    model: ctx.model,
    incident_id: ctx.incidentId,
    idempotency_key: ctx.idempotencyKey,
    alert: {
      alertname: ctx.alert.alertname,
      labels: { ...ctx.alert.labels },
      annotations: { ...ctx.alert.annotations },
      fired_at: new Date(ctx.alert.firedAt).toISOString(),
    },
  };
}

export function createWebhookAction(cfg: WebhookActionConfig): RemediationAction {
  const where = safeUrl(cfg.url);
  return {
    type: 'webhook',
    idempotent: false,
    needsModel: false,

    describe(ctx) {
      const base = { url: where, method: cfg.method };
      if (cfg.body === undefined) return { ...base, body: 'default (alert, model, action, incident id, idempotency key)' };
      try {
        return { ...base, body: expandBody(cfg.body, ctx.alert, 'webhook') };
      } catch (e) {
        return { ...base, template_error: (e as Error).message };
      }
    },

    async execute(ctx) {
      const body = cfg.body === undefined ? defaultWebhookBody(ctx) : expandBody(cfg.body, ctx.alert, ctx.action);
      const res = await httpRequest({
        method: cfg.method,
        url: cfg.url,
        headers: {
          ...cfg.headers,
          'Idempotency-Key': ctx.idempotencyKey,
          'X-Vigil-Incident': ctx.incidentId,
          'X-Vigil-Action': ctx.action,
        },
        auth: cfg,
        body,
        signal: ctx.signal,
        timeoutMs: cfg.timeout,
        now: ctx.now(),
        what: `webhook ${ctx.action}`,
        maxBytes: 1024 * 1024,
      });
      return {
        outcome: 'succeeded',
        message: `${cfg.method} ${where} answered ${res.status}`,
        details: { url: where, method: cfg.method, status: res.status, ...(res.text === '' ? {} : { response: excerpt(res.text, 500) }) },
      };
    },
  };
}
