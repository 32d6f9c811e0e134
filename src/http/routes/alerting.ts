import { readdir, readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { packagePath } from '../../core/paths.js';
import { VigilError } from '../../core/errors.js';
import { rulesQueryFromParams } from '../../alerting/engine/index.js';
import { parseQueryDuration, parseQueryTime, QUERY_TIMEOUT_MS, QueryApiError, type QueryData } from '../../alerting/promql/query.js';
import { Silences, type SilenceInput } from '../../alerting/silences.js';
import type { ServerDeps } from '../server.js';
import { markdownPage, markdownTitle, PAGE_CSP } from '../ui/markdown.js';

/** Whether a request prefers HTML: a browser lists text/html in Accept; curl and fetch accept anything (they get the Markdown). */
const wantsHtml = (accept: string | undefined): boolean => accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Prometheus-compatible `GET /api/v1/rules`, `GET /api/v1/alerts`, `/api/v1/query` and
 * `/api/v1/query_range` (same JSON shapes and filters, so the same jq one-liners work), silences (`/v1/silences`, admin token), and the
 * runbooks the alerts link to (`/runbooks/<AlertName>`).
 */
export const alertingRoutes: FastifyPluginAsync<{ deps: ServerDeps }> = async (app, { deps }) => {
  app.get('/api/v1/rules', async (req, reply) => {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '');
    const r = deps.alerting.rulesResponse(rulesQueryFromParams(params));
    return reply.status(r.status === 'success' ? 200 : 400).send(r);
  });

  app.get('/api/v1/alerts', async () => {
    const r = deps.alerting.alertsResponse();
    const now = deps.clock.now();
    // Vigil addition: which silences / maintenance windows suppress each alert's notifications.
    return { ...r, data: { alerts: r.data.alerts.map((a) => ({ ...a, silencedBy: deps.silences.silencedBy(a.labels, now) })) } };
  });

  // Prometheus's query API over Vigil's history (src/alerting/promql/query.ts): GET with the
  // parameters in the URL, or POST with them in a form body (Grafana's default), as Prometheus.
  const read = { access: 'read' } as const;
  const queryRoutes = async (scope: FastifyInstance): Promise<void> => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1 << 20 }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    const params = (req: FastifyRequest): Record<string, string> => {
      const out: Record<string, string> = Object.fromEntries(new URLSearchParams(req.url.split('?')[1] ?? ''));
      if (req.body !== null && typeof req.body === 'object') Object.assign(out, req.body);
      return out;
    };
    const answer = (reply: FastifyReply, run: () => QueryData) => {
      try {
        return reply.send({ status: 'success', data: run() });
      } catch (e) {
        if (!(e instanceof QueryApiError)) throw e;
        return reply.status(e.statusCode).send({ status: 'error', errorType: e.errorType, error: e.message });
      }
    };
    // `timeout` may shorten Vigil's limit (QUERY_TIMEOUT_MS), not lengthen it: a query holds the event loop
    const timeoutOf = (p: Record<string, string>): number => (p.timeout === undefined || p.timeout === '' ? QUERY_TIMEOUT_MS : Math.min(QUERY_TIMEOUT_MS, parseQueryDuration(p.timeout, 'timeout')));
    const instant = async (req: FastifyRequest, reply: FastifyReply) =>
      answer(reply, () => {
        const p = params(req);
        const t = p.time === undefined || p.time === '' ? deps.clock.now() : parseQueryTime(p.time, 'time');
        return deps.alerting.queryApi(p.query, t, timeoutOf(p));
      });
    const range = async (req: FastifyRequest, reply: FastifyReply) =>
      answer(reply, () => {
        const p = params(req);
        const start = parseQueryTime(p.start ?? '', 'start');
        const end = parseQueryTime(p.end ?? '', 'end');
        const step = parseQueryDuration(p.step ?? '', 'step');
        return deps.alerting.queryRangeApi(p.query, start, end, step, timeoutOf(p));
      });
    scope.get('/api/v1/query', instant);
    scope.post('/api/v1/query', { config: read }, instant);
    scope.get('/api/v1/query_range', range);
    scope.post('/api/v1/query_range', { config: read }, range);
  };
  await app.register(queryRoutes);

  const admin = { access: 'admin' } as const;
  app.post('/v1/silences', { config: admin, schema: { body: { type: 'object', required: ['matchers', 'endsAt', 'createdBy', 'comment'] } } }, async (req) => {
    const s = await deps.silences.create(req.body as SilenceInput);
    return { silenceID: s.id };
  });

  app.get('/v1/silences', async () => ({
    silences: deps.silences.list().map(({ record, state }) => ({
      id: record.id,
      matchers: record.matchers,
      startsAt: iso(record.startsAt),
      endsAt: iso(record.endsAt),
      createdBy: record.createdBy,
      comment: record.comment,
      status: { state },
    })),
    maintenance_windows: deps.config().maintenance_windows.map((w) => ({
      name: w.name,
      matchers: w.matchers,
      startsAt: iso(w.starts_at),
      endsAt: iso(w.ends_at),
      status: { state: Silences.state({ startsAt: w.starts_at, endsAt: w.ends_at }, deps.clock.now()) },
    })),
  }));

  app.delete('/v1/silences/:id', { config: admin, schema: { params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } } }, async (req) => {
    await deps.silences.expire((req.params as { id: string }).id);
    return { status: 'expired' };
  });

  // Public: the runbooks are the repository's own documents, linked from notifications that are
  // opened in a browser, which sends no bearer token.
  // The runbooks' index: every runbook with its title, as a page for a browser, as JSON otherwise.
  app.get('/runbooks', { config: { access: 'public' } }, async (req, reply) => {
    const names = (await readdir(packagePath('runbooks'))).filter((f) => /^[A-Za-z0-9_]{1,80}\.md$/.test(f)).map((f) => f.slice(0, -3)).sort();
    const list = await Promise.all(names.map(async (name) => ({ name, title: markdownTitle(await readFile(packagePath('runbooks', `${name}.md`), 'utf8'), name), url: `/runbooks/${name}` })));
    if (!wantsHtml(req.headers.accept)) return reply.header('Vary', 'Accept').send({ runbooks: list });
    const md = ['# Runbooks', '', 'What each alert of the bundled rules means, and what to do.', '', ...list.map((r) => `- [${r.name}](${r.url})${r.title === r.name ? '' : ` — ${r.title}`}`)].join('\n');
    return reply
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Content-Security-Policy', PAGE_CSP)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Vary', 'Accept')
      .send(markdownPage(md, { title: 'Runbooks', nav: 'Vigil · runbooks' }));
  });

  // A runbook: a page for a browser (rendered, src/http/ui/markdown.ts); `/runbooks/<Name>.md` or
  // another Accept gets the Markdown.
  app.get('/runbooks/:name', { config: { access: 'public' } }, async (req, reply) => {
    const asked = (req.params as { name: string }).name;
    const raw = asked.endsWith('.md');
    const name = asked.replace(/\.md$/, '');
    if (!/^[A-Za-z0-9_]{1,80}$/.test(name)) throw new VigilError('VIGIL_ERR_RUNBOOK_UNKNOWN', `no runbook "${name}"`, { statusCode: 404 });
    let text: string;
    try {
      text = await readFile(packagePath('runbooks', `${name}.md`), 'utf8');
    } catch {
      throw new VigilError('VIGIL_ERR_RUNBOOK_UNKNOWN', `no runbook "${name}"`, { statusCode: 404 });
    }
    // a browser (Accept: text/html, not an explicit .md) gets the page; anything else the Markdown
    if (!raw && wantsHtml(req.headers.accept)) {
      return reply
        .header('Content-Type', 'text/html; charset=utf-8')
        .header('Content-Security-Policy', PAGE_CSP)
        .header('X-Content-Type-Options', 'nosniff')
        .send(markdownPage(text, { title: name, nav: `Vigil runbook · ${name}` }));
    }
    return reply.header('Content-Type', 'text/markdown; charset=utf-8').header('Vary', 'Accept').send(text);
  });
};
