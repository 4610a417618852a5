/**
 * A local stand-in for the Slack Web API, reached through `SLACK_API_URL`. It answers the methods the
 * bot calls, records every call, and emits it — the console prints them, tests assert on them. It
 * binds to 127.0.0.1 only.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded Web API call: the method and its arguments with JSON fields decoded. */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** Set for chat.postMessage / chat.postEphemeral / files uploads: what the call created. */
  ts?: string;
  /** The bearer token the call carried (bot token for Web API calls, app token for apps.connections.open). */
  token?: string;
  at: number;
}

export interface LocalWebApiOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** User group id → member user ids, for usergroups.users.list. */
  userGroups?: Record<string, string[]>;
  /** Channels the bot is not a member of: chat.postMessage there fails with not_in_channel. */
  notInChannels?: string[];
  /** Socket Mode: the WebSocket URL apps.connections.open hands out (a local server of the caller's). */
  socketModeUrl?: string;
  /** Bot tokens Slack would refuse (revoked, wrong workspace): every call with one answers invalid_auth. */
  invalidTokens?: string[];
}

// Fields that WebClient sends JSON-encoded inside form bodies.
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'files', 'users']);

export class LocalWebApi extends EventEmitter<{ call: [RecordedCall] }> {
  readonly calls: RecordedCall[] = [];
  readonly uploads = new Map<string, Buffer>();
  private server?: Server;
  private tsCounter = 0;
  private fileCounter = 0;
  private port = 0;

  constructor(readonly options: LocalWebApiOptions = {}) {
    super();
  }

  /** Base URL to use as SLACK_API_URL (ends with `/api/`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A response_url-style endpoint that records what is posted to it as `response_url` calls. */
  get responseUrl(): string {
    return `http://127.0.0.1:${this.port}/response`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'internal_error', detail: String(err) }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Calls of one method, oldest first. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Forgets recorded calls (between tests). */
  reset(): void {
    this.calls.length = 0;
  }

  /** Resolves with the first call (already recorded or future) matching the predicate. */
  waitForCall(predicate: (call: RecordedCall) => boolean, timeoutMs = 15_000): Promise<RecordedCall> {
    const existing = this.calls.find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('call', listener);
        reject(new Error(`no matching Slack API call within ${timeoutMs} ms; calls so far: ${this.calls.map((c) => c.method).join(', ') || 'none'}`));
      }, timeoutMs);
      const listener = (call: RecordedCall): void => {
        if (!predicate(call)) return;
        clearTimeout(timer);
        this.off('call', listener);
        resolve(call);
      };
      this.on('call', listener);
    });
  }

  private nextTs(): string {
    this.tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');

    if (url.pathname.startsWith('/upload/')) {
      this.uploads.set(url.pathname.slice('/upload/'.length), raw);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    const method = url.pathname === '/response' ? 'response_url' : url.pathname.replace(/^\/api\//, '');
    const args = decodeBody(raw, String(req.headers['content-type'] ?? ''));
    for (const [key, value] of url.searchParams) args[key] ??= value;
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
    const call: RecordedCall = { method, args, at: Date.now(), ...(bearer ? { token: bearer } : {}) };
    const body = this.answer(call);
    this.calls.push(call);
    this.emit('call', call);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private answer(call: RecordedCall): Record<string, unknown> {
    const o = this.options;
    const args = call.args;
    if (call.token && o.invalidTokens?.includes(call.token)) return { ok: false, error: 'invalid_auth' };
    switch (call.method) {
      case 'apps.connections.open':
        // Only an app-level token may open a Socket Mode connection, as on Slack.
        if (!call.token?.startsWith('xapp-')) return { ok: false, error: 'invalid_auth' };
        return o.socketModeUrl ? { ok: true, url: o.socketModeUrl } : { ok: false, error: 'socket_mode_not_enabled' };
      case 'auth.test':
        return { ok: true, url: 'https://vipbot-local.slack.invalid/', team: 'local', user: 'vipbot', team_id: o.teamId ?? 'T0LOCAL', user_id: o.botUserId ?? 'U0VIPBOT', bot_id: o.botId ?? 'B0VIPBOT' };
      case 'chat.postMessage': {
        const channel = String(args.channel ?? '');
        if (o.notInChannels?.includes(channel)) return { ok: false, error: 'not_in_channel' };
        call.ts = this.nextTs();
        return { ok: true, channel, ts: call.ts, message: { ...args, ts: call.ts, user: o.botUserId ?? 'U0VIPBOT' } };
      }
      case 'chat.postEphemeral':
        call.ts = this.nextTs();
        return { ok: true, message_ts: call.ts };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'reactions.add':
      case 'chat.delete':
      case 'response_url':
        return { ok: true };
      case 'usergroups.users.list': {
        const users = o.userGroups?.[String(args.usergroup ?? '')];
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'conversations.info': {
        const channel = String(args.channel ?? '');
        return { ok: true, channel: { id: channel, name: channel.toLowerCase(), is_member: !o.notInChannels?.includes(channel) } };
      }
      case 'users.info':
        return { ok: true, user: { id: args.user, name: String(args.user).toLowerCase(), real_name: String(args.user) } };
      case 'files.getUploadURLExternal': {
        this.fileCounter += 1;
        const fileId = `F0LOCAL${this.fileCounter}`;
        return { ok: true, file_id: fileId, upload_url: `http://127.0.0.1:${this.port}/upload/${fileId}` };
      }
      case 'files.completeUploadExternal': {
        const files = Array.isArray(args.files) ? (args.files as Array<{ id: string; title?: string }>) : [];
        call.ts = this.nextTs();
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function decodeBody(raw: Buffer, contentType: string): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (!text) return {};
  if (contentType.includes('application/json')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { _raw: text };
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (JSON_FIELDS.has(key)) {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // Not JSON after all: keep the text.
      }
    }
    out[key] = value;
  }
  return out;
}
