import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { newFakeState, startFake, type Fault, type FakeHandler, type FakeServer, type FakeState, type RecordedRequest } from '../../src/sim/fake-http.js';

/**
 * Fake notification receivers: real servers on 127.0.0.1 speaking the documented shapes of a
 * generic webhook, a Slack incoming webhook, the Telegram Bot API `sendMessage`, PagerDuty Events
 * v2 and SMTP. Every request is recorded (`state.requests`); answers are scripted with
 * `state.faults` (status + body + headers, or hang) and `state.hangAll`; `down()` / `up()` stop and
 * restart the server on the same port.
 */

export interface Receiver<S extends FakeState> {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly state: S;
  /** Stops listening (connections refused) until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

async function restartable<S extends FakeState>(state: S, handler: FakeHandler): Promise<Receiver<S>> {
  let server: FakeServer<S> | undefined = await startFake(state, handler);
  const port = server.port;
  return {
    url: server.url,
    port,
    state,
    async down() {
      await server?.close();
      server = undefined;
    },
    async up() {
      server ??= await startFake(state, handler, port);
    },
    async close() {
      await server?.close();
      server = undefined;
    },
  };
}

const text = (status: number, body: string, headers: Record<string, string> = {}) => ({ status, body, raw: true, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

// ---------------------------------------------------------------------------------------------
// Generic webhook (Alertmanager webhook_configs receivers)

export interface FakeWebhookState extends FakeState {
  /** Accepted payloads (answered 200), in order. */
  payloads: unknown[];
}
export type FakeWebhook = Receiver<FakeWebhookState>;

/** Any POST is accepted with 200 and an empty body and its JSON kept in `state.payloads`. */
export function startFakeWebhook(): Promise<FakeWebhook> {
  const state: FakeWebhookState = { ...newFakeState(), payloads: [] };
  return restartable(state, (req) => {
    if (req.method !== 'POST') return text(405, 'method not allowed');
    state.payloads.push(req.json);
    return { status: 200 };
  });
}

// ---------------------------------------------------------------------------------------------
// Slack incoming webhook

export interface FakeSlackState extends FakeState {
  /** Accepted messages (answered `ok`), in order. */
  messages: { text?: string; blocks?: unknown[] }[];
}
export type FakeSlack = Receiver<FakeSlackState>;

/** Path of the fake's webhook (`<url>/services/T000/B000/XXXX`). */
export const SLACK_HOOK_PATH = '/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

/** Slack's rate-limit answer: 429, `Retry-After` in seconds, body `rate_limited`. */
export const slackRateLimited = (seconds: number | string): Fault => ({ status: 429, body: 'rate_limited', headers: { 'retry-after': String(seconds) } });

/**
 * `POST /services/…` with `{text, blocks?}`: `ok` (200 text/plain); errors as Slack gives them —
 * plain-text codes: 400 `invalid_payload` (not JSON), 400 `no_text`, 400 `invalid_blocks`, 404
 * `no_service` (another path).
 */
export function startFakeSlack(): Promise<FakeSlack> {
  const state: FakeSlackState = { ...newFakeState(), messages: [] };
  return restartable(state, (req) => {
    if (req.method !== 'POST') return text(405, 'invalid_method');
    if (req.path !== SLACK_HOOK_PATH) return text(404, 'no_service');
    const body = req.json as { text?: unknown; blocks?: unknown } | undefined;
    if (body === undefined || typeof body !== 'object' || body === null) return text(400, 'invalid_payload');
    const hasText = typeof body.text === 'string' && body.text !== '';
    if (!hasText && body.blocks === undefined) return text(400, 'no_text');
    if (body.blocks !== undefined) {
      if (!Array.isArray(body.blocks) || body.blocks.length > 50) return text(400, 'invalid_blocks');
      for (const b of body.blocks as { type?: unknown; text?: { type?: unknown; text?: unknown } }[]) {
        if (typeof b.type !== 'string') return text(400, 'invalid_blocks');
        const t = b.text?.text;
        if (b.type === 'section' && (typeof t !== 'string' || t.length > 3000)) return text(400, 'invalid_blocks');
        if (b.type === 'header' && (typeof t !== 'string' || t.length > 150 || b.text?.type !== 'plain_text')) return text(400, 'invalid_blocks');
      }
    }
    state.messages.push(body as { text?: string; blocks?: unknown[] });
    return text(200, 'ok');
  });
}

// ---------------------------------------------------------------------------------------------
// Slack Web API: chat.postMessage

export interface FakeSlackApiState extends FakeState {
  /** The bot token it accepts. */
  token: string;
  /** Channels that exist (IDs or names). */
  channels: Set<string>;
  /** Posted messages, in order. */
  messages: { channel: string; text?: string; blocks?: unknown[] }[];
}
export type FakeSlackApi = Receiver<FakeSlackApiState>;

export const FAKE_SLACK_BOT_TOKEN = 'xoxb-0000000000-0000000000000-FAKEFAKEFAKEFAKEFAKEFAKE';

/** Slack's rate-limit answer for Web API methods: 429, Retry-After, `{"ok": false, "error": "ratelimited"}`. */
export const slackApiRateLimited = (retryAfter = '30'): Fault => ({ status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': retryAfter } });

/**
 * `POST /api/chat.postMessage` as Slack documents it (https://api.slack.com/methods/chat.postMessage):
 * the token in `Authorization: Bearer`; every answer HTTP 200 JSON — `{"ok": true, "channel", "ts",
 * "message"}`, or `{"ok": false, "error"}` with `not_authed` (no token), `invalid_auth` (another),
 * `channel_not_found`, `no_text` (neither text nor blocks), `invalid_blocks`, `msg_too_long`.
 */
export function startFakeSlackApi(): Promise<FakeSlackApi> {
  const state: FakeSlackApiState = { ...newFakeState(), token: FAKE_SLACK_BOT_TOKEN, channels: new Set(['C0123456789', '#ml-alerts']), messages: [] };
  const answer = (body: Record<string, unknown>) => ({ status: 200, body, headers: { 'content-type': 'application/json; charset=utf-8' } });
  return restartable(state, (req) => {
    if (req.path !== '/api/chat.postMessage') return answer({ ok: false, error: 'unknown_method' });
    const auth = String(req.headers.authorization ?? '');
    if (auth === '') return answer({ ok: false, error: 'not_authed' });
    if (auth !== `Bearer ${state.token}`) return answer({ ok: false, error: 'invalid_auth' });
    const body = req.json as { channel?: unknown; text?: unknown; blocks?: unknown } | undefined;
    if (body === undefined || body === null || typeof body !== 'object') return answer({ ok: false, error: 'invalid_arguments' });
    if (typeof body.channel !== 'string' || !state.channels.has(body.channel)) return answer({ ok: false, error: 'channel_not_found' });
    const hasText = typeof body.text === 'string' && body.text !== '';
    if (!hasText && body.blocks === undefined) return answer({ ok: false, error: 'no_text' });
    if (typeof body.text === 'string' && body.text.length > 40_000) return answer({ ok: false, error: 'msg_too_long' });
    if (body.blocks !== undefined && (!Array.isArray(body.blocks) || body.blocks.length > 50)) return answer({ ok: false, error: 'invalid_blocks' });
    state.messages.push({ channel: body.channel, ...(hasText ? { text: body.text as string } : {}), ...(Array.isArray(body.blocks) ? { blocks: body.blocks } : {}) });
    return answer({ ok: true, channel: 'C0123456789', ts: '1700000000.000100', message: { type: 'message', text: body.text } });
  });
}

// ---------------------------------------------------------------------------------------------
// Telegram Bot API

export interface FakeTelegramState extends FakeState {
  token: string;
  /** Accepted messages (text after HTML parsing). */
  messages: { chatId: number | string; text: string; html: string; messageId: number }[];
}
export type FakeTelegram = Receiver<FakeTelegramState>;

export const FAKE_TELEGRAM_TOKEN = '123456789:AAFakeTokenForVigilTests_abcdefghij';

/** Telegram's flood-control answer: 429 `{ok:false, error_code:429, parameters:{retry_after}}`. */
export const telegramRetryAfter = (seconds: number): Fault => ({
  status: 429,
  body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${seconds}`, parameters: { retry_after: seconds } },
});

export const telegramError = (code: number, description: string): Fault => ({ status: code, body: { ok: false, error_code: code, description } });

const TG_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'span', 'tg-spoiler', 'tg-emoji', 'blockquote']);

/** Parses Telegram HTML like the Bot API: known tags, balanced, only the four named entities. */
export function parseTelegramHtml(html: string): { text: string } | { error: string } {
  const stack: string[] = [];
  let out = '';
  for (let i = 0; i < html.length; ) {
    const c = html[i];
    if (c === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) return { error: `Can't find end of the entity starting at byte offset ${i}` };
      const raw = html.slice(i + 1, end);
      const closing = raw.startsWith('/');
      const name = /^\/?([a-z-]+)/.exec(raw)?.[1] ?? '';
      if (!TG_TAGS.has(name)) return { error: `Unsupported start tag "${name}" at byte offset ${i}` };
      if (closing) {
        if (stack.pop() !== name) return { error: `Unmatched end tag at byte offset ${i}, expected "</${stack.at(-1) ?? ''}>", found "</${name}>"` };
      } else stack.push(name);
      i = end + 1;
    } else if (c === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i, i + 12));
      if (m === null) return { error: `Unsupported HTML entity at byte offset ${i}` };
      const ent = m[1] ?? '';
      out += ent === 'lt' ? '<' : ent === 'gt' ? '>' : ent === 'amp' ? '&' : ent === 'quot' ? '"' : String.fromCodePoint(ent.startsWith('#x') ? parseInt(ent.slice(2), 16) : Number(ent.slice(1)));
      i += m[0].length;
    } else if (c === '>') {
      return { error: `Unexpected end tag at byte offset ${i}` };
    } else {
      out += c;
      i++;
    }
  }
  if (stack.length > 0) return { error: `Can't find end tag corresponding to start tag "${stack.at(-1) ?? ''}"` };
  return { text: out };
}

/**
 * `POST /bot<token>/sendMessage {chat_id, text, parse_mode}` → `{ok:true, result:{message_id,…}}`;
 * errors `{ok:false, error_code, description}`: 401 wrong token, 404 unknown method, 400 empty or
 * too long text (over 4096 characters after entity parsing), 400 bad HTML.
 */
export function startFakeTelegram(token = FAKE_TELEGRAM_TOKEN): Promise<FakeTelegram> {
  const state: FakeTelegramState = { ...newFakeState(), token, messages: [] };
  const err = (code: number, description: string) => ({ status: code, body: { ok: false, error_code: code, description } });
  return restartable(state, (req: RecordedRequest) => {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.path);
    if (m === null) return err(404, 'Not Found');
    if (m[1] !== state.token) return err(401, 'Unauthorized');
    if (m[2] !== 'sendMessage') return err(404, 'Not Found: method not found');
    const body = req.json as { chat_id?: unknown; text?: unknown; parse_mode?: unknown } | undefined;
    if (body === undefined || typeof body !== 'object' || body === null) return err(400, 'Bad Request: message text is empty');
    if (typeof body.chat_id !== 'number' && typeof body.chat_id !== 'string') return err(400, 'Bad Request: chat_id is empty');
    if (typeof body.text !== 'string' || body.text === '') return err(400, 'Bad Request: message text is empty');
    let plain = body.text;
    if (body.parse_mode === 'HTML') {
      const parsed = parseTelegramHtml(body.text);
      if ('error' in parsed) return err(400, `Bad Request: can't parse entities: ${parsed.error}`);
      plain = parsed.text;
    }
    if (plain.length > 4096) return err(400, 'Bad Request: message is too long');
    const messageId = state.messages.length + 1;
    state.messages.push({ chatId: body.chat_id, text: plain, html: body.text, messageId });
    return { status: 200, body: { ok: true, result: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: { id: body.chat_id, type: 'group' }, text: plain } } };
  });
}

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2

export interface FakePagerDutyState extends FakeState {
  /** Accepted events, in order. */
  events: { event_action: string; dedup_key: string; body: Record<string, unknown> }[];
  /** Incident state per dedup key. */
  incidents: Map<string, 'triggered' | 'acknowledged' | 'resolved'>;
}
export type FakePagerDuty = Receiver<FakePagerDutyState>;

/** A routing key the fake accepts (32 characters, like real integration keys). */
export const FAKE_ROUTING_KEY = 'R0UT1NGK3Y0123456789ABCDEFGHIJKL';

/** PagerDuty's throttling answer (429, JSON body, no Retry-After by default). */
export const pagerDutyThrottled = (retryAfter?: string): Fault => ({
  status: 429,
  body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' },
  ...(retryAfter === undefined ? {} : { headers: { 'retry-after': retryAfter } }),
});

/**
 * `POST /v2/enqueue`: validates as PagerDuty does and answers 202
 * `{status:"success", message:"Event processed", dedup_key}`, or 400
 * `{status:"invalid event", message:"Event object is invalid", errors:[…]}`.
 */
export function startFakePagerDuty(): Promise<FakePagerDuty> {
  const state: FakePagerDutyState = { ...newFakeState(), events: [], incidents: new Map() };
  return restartable(state, (req) => {
    if (req.path !== '/v2/enqueue') return { status: 404, body: { status: 'not found', message: 'Not Found' } };
    const invalid = (errors: string[]) => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });
    const ev = req.json as Record<string, unknown> | undefined;
    if (ev === undefined || typeof ev !== 'object' || ev === null || Array.isArray(ev)) return { status: 400, body: { status: 'invalid request', message: 'Invalid JSON', errors: ['Could not parse JSON'] } };
    const errors: string[] = [];
    if (typeof ev.routing_key !== 'string') errors.push("'routing_key' is missing or blank");
    else if (ev.routing_key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    const action = ev.event_action;
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') errors.push("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')");
    const dk = ev.dedup_key;
    if (dk !== undefined && (typeof dk !== 'string' || dk.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
    if (action === 'trigger') {
      const p = ev.payload as Record<string, unknown> | undefined;
      if (p === undefined || typeof p !== 'object' || p === null) errors.push("'payload' is missing or blank");
      else {
        if (typeof p.summary !== 'string' || p.summary === '') errors.push("'payload.summary' is missing or blank");
        else if (p.summary.length > 1024) errors.push("'payload.summary' is too long (maximum 1024 characters)");
        if (typeof p.source !== 'string' || p.source === '') errors.push("'payload.source' is missing or blank");
        if (!['critical', 'error', 'warning', 'info'].includes(String(p.severity))) errors.push("'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')");
        if (p.timestamp !== undefined && Number.isNaN(Date.parse(String(p.timestamp)))) errors.push("'payload.timestamp' is invalid");
      }
    } else if (action !== undefined && (typeof dk !== 'string' || dk === '')) errors.push("'dedup_key' is missing or blank");
    if (errors.length > 0) return invalid(errors);
    const key = typeof dk === 'string' && dk !== '' ? dk : randomUUID().replace(/-/g, '');
    state.events.push({ event_action: String(action), dedup_key: key, body: ev });
    state.incidents.set(key, action === 'trigger' ? 'triggered' : action === 'acknowledge' ? 'acknowledged' : 'resolved');
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
  });
}

// ---------------------------------------------------------------------------------------------
// SMTP

export interface SmtpMessage {
  helo: string;
  from: string;
  to: string[];
  /** The DATA section, dot-unstuffed, without the final `.`. */
  data: string;
  auth?: { username: string; password: string };
}

/** A scripted reply replacing the normal one for the next matching command (`CONNECT` = greeting). */
export interface SmtpFault {
  command: 'CONNECT' | 'EHLO' | 'MAIL' | 'RCPT' | 'DATA' | 'DOT' | 'AUTH';
  /** Reply code and text, e.g. 451 `4.3.0 try again later`, 550 `5.1.1 no such user`. */
  code?: number;
  text?: string;
  /** Never answer this command. */
  hang?: boolean;
}

export interface FakeSmtp {
  readonly host: string;
  readonly port: number;
  /** `host:port` for the e-mail notifier's `smarthost`. */
  readonly smarthost: string;
  readonly messages: SmtpMessage[];
  readonly faults: SmtpFault[];
  /** Commands as received, in order (`EHLO x`, `MAIL FROM:<a>`, …). */
  readonly commands: string[];
  /** Require AUTH PLAIN/LOGIN with these credentials before MAIL. */
  credentials: { username: string; password: string } | null;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A minimal SMTP server (RFC 5321 subset: EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS). */
export async function startFakeSmtp(): Promise<FakeSmtp> {
  const messages: SmtpMessage[] = [];
  const faults: SmtpFault[] = [];
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const fake: FakeSmtp = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get smarthost() {
      return `127.0.0.1:${port}`;
    },
    messages,
    faults,
    commands,
    credentials: null,
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
    async up() {
      if (server === undefined) await listen(port);
    },
    async close() {
      await fake.down();
    },
  };

  const takeFault = (command: SmtpFault['command']): SmtpFault | undefined => {
    const i = faults.findIndex((f) => f.command === command);
    return i < 0 ? undefined : faults.splice(i, 1)[0];
  };

  function session(socket: Socket): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    const reply = (code: number, text: string) => socket.write(`${code} ${text}\r\n`);
    let helo = '';
    let from: string | undefined;
    let to: string[] = [];
    let authed: { username: string; password: string } | undefined;
    let mode: 'command' | 'data' | 'auth-login-user' | 'auth-login-pass' = 'command';
    let loginUser = '';
    let dataLines: string[] = [];
    let buffer = '';

    /** Answers with the scripted fault if any; true when the command was handled by it. */
    const faulted = (command: SmtpFault['command']): boolean => {
      const f = takeFault(command);
      if (f === undefined) return false;
      if (f.hang !== true) reply(f.code ?? 451, f.text ?? '4.3.0 Temporary failure');
      return true;
    };

    const checkAuth = (username: string, password: string) => {
      if (fake.credentials === null || (fake.credentials.username === username && fake.credentials.password === password)) {
        authed = { username, password };
        reply(235, '2.7.0 Authentication successful');
      } else reply(535, '5.7.8 Authentication credentials invalid');
    };

    const onLine = (line: string): void => {
      if (mode === 'data') {
        if (line === '.') {
          mode = 'command';
          if (faulted('DOT')) return;
          messages.push({ helo, from: from ?? '', to, data: dataLines.join('\r\n'), ...(authed === undefined ? {} : { auth: authed }) });
          reply(250, `2.0.0 Ok: queued as ${randomUUID().slice(0, 8).toUpperCase()}`);
          from = undefined;
          to = [];
          dataLines = [];
        } else dataLines.push(line.startsWith('..') ? line.slice(1) : line);
        return;
      }
      if (mode === 'auth-login-user') {
        loginUser = Buffer.from(line, 'base64').toString('utf8');
        mode = 'auth-login-pass';
        reply(334, Buffer.from('Password:').toString('base64'));
        return;
      }
      if (mode === 'auth-login-pass') {
        mode = 'command';
        checkAuth(loginUser, Buffer.from(line, 'base64').toString('utf8'));
        return;
      }
      commands.push(line);
      const verb = (line.split(' ')[0] ?? '').toUpperCase();
      switch (verb) {
        case 'EHLO':
          if (faulted('EHLO')) return;
          helo = line.slice(5).trim();
          socket.write(`250-fake-smtp.local Hello ${helo}\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n`);
          return;
        case 'HELO':
          helo = line.slice(5).trim();
          reply(250, 'fake-smtp.local');
          return;
        case 'AUTH': {
          if (faulted('AUTH')) return;
          const [, mech = '', initial] = line.split(' ');
          if (mech.toUpperCase() === 'PLAIN') {
            if (initial === undefined) {
              reply(504, '5.5.4 initial response required');
              return;
            }
            const [, user = '', pass = ''] = Buffer.from(initial, 'base64').toString('utf8').split('\0');
            checkAuth(user, pass);
          } else if (mech.toUpperCase() === 'LOGIN') {
            mode = 'auth-login-user';
            reply(334, Buffer.from('Username:').toString('base64'));
          } else reply(504, '5.5.4 Unrecognized authentication type');
          return;
        }
        case 'MAIL': {
          if (faulted('MAIL')) return;
          if (fake.credentials !== null && authed === undefined) {
            reply(530, '5.7.0 Authentication required');
            return;
          }
          const m = /^MAIL FROM:\s*<([^>]*)>/i.exec(line);
          if (m === null) {
            reply(501, '5.5.4 Syntax: MAIL FROM:<address>');
            return;
          }
          from = m[1] ?? '';
          to = [];
          reply(250, '2.1.0 Ok');
          return;
        }
        case 'RCPT': {
          if (faulted('RCPT')) return;
          if (from === undefined) {
            reply(503, '5.5.1 Error: need MAIL command');
            return;
          }
          const m = /^RCPT TO:\s*<([^>]*)>/i.exec(line);
          if (m === null) {
            reply(501, '5.5.4 Syntax: RCPT TO:<address>');
            return;
          }
          to.push(m[1] ?? '');
          reply(250, '2.1.5 Ok');
          return;
        }
        case 'DATA':
          if (faulted('DATA')) return;
          if (to.length === 0) {
            reply(503, '5.5.1 Error: need RCPT command');
            return;
          }
          mode = 'data';
          reply(354, 'End data with <CR><LF>.<CR><LF>');
          return;
        case 'RSET':
          from = undefined;
          to = [];
          reply(250, '2.0.0 Ok');
          return;
        case 'NOOP':
          reply(250, '2.0.0 Ok');
          return;
        case 'QUIT':
          socket.end('221 2.0.0 Bye\r\n');
          return;
        case 'STARTTLS':
          reply(454, '4.7.0 TLS not available');
          return;
        default:
          reply(502, '5.5.2 Error: command not recognized');
      }
    };

    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        onLine(line);
      }
    });
    if (!faulted('CONNECT')) reply(220, 'fake-smtp.local ESMTP Vigil test server');
  }

  async function listen(p: number): Promise<void> {
    const s = createServer(session);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.address() as AddressInfo).port;
  }

  await listen(0);
  return fake;
}
