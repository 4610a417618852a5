/**
 * Slack's side of the bench: signed `/vip` POSTs over a keep-alive agent (as Slack's own client
 * would keep connections), and a watcher on the local Web API stand-in that timestamps every
 * `vip_status` post with the bench's monotonic clock.
 */
import { Agent, request } from 'node:http';
import type { LocalWebApi, RecordedCall } from '../src/slack/local-web-api.ts';
import { signSlackRequest, slashCommandBody } from '../test/support/slack-signing.ts';
import { uniqueTrigger } from '../test/support/unique-trigger.ts';

export interface CommandResponse {
  status: number;
  body: string;
  /** request() to the end of the response body, ms. */
  latencyMs: number;
}

/** Sends signed slash commands to one bot. */
export class SlashClient {
  private readonly agent: Agent;

  constructor(private readonly baseUrl: string, private readonly secret: string, private readonly responseUrl: string, maxSockets = 20) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** POSTs `/vip <text>` signed as Slack signs it; the latency covers request to full response. */
  command(text: string, timeoutMs = 10_000): Promise<CommandResponse> {
    const body = uniqueTrigger(slashCommandBody({ text, userId: 'U0OPER1', channelId: 'C0VIPOPS', responseUrl: this.responseUrl }));
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      ...signSlackRequest(body, this.secret),
    };
    const url = new URL('/slack/events', this.baseUrl);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(url, { method: 'POST', headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), latencyMs: performance.now() - started }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer to /vip ${text} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A `vip_status` post as the stand-in received it, with the bench clock (performance.now()). */
export interface TimedPost {
  at: number;
  call: RecordedCall;
}

/** Watches the stand-in: every `vip_status` chat.postMessage and every ephemeral (failed job) message. */
export class PostWatcher {
  readonly posts: TimedPost[] = [];
  ephemerals = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly listener = (call: RecordedCall): void => {
    const now = performance.now();
    if (call.method === 'chat.postEphemeral') this.ephemerals++;
    const eventType = (call.args.metadata as { event_type?: unknown } | undefined)?.event_type;
    if (call.method === 'chat.postMessage' && eventType === 'vip_status') this.posts.push({ at: now, call });
    else return;
    const ready = this.waiters.filter((w) => this.posts.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.posts.length < w.count);
    for (const w of ready) w.resolve();
  };

  constructor(private readonly webApi: LocalWebApi) {
    webApi.on('call', this.listener);
  }

  /** Resolves once `count` vip_status posts have arrived in total. */
  waitForCount(count: number, timeoutMs: number): Promise<void> {
    if (this.posts.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { count, resolve: () => { clearTimeout(timer); resolve(); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`only ${this.posts.length} of ${count} vip_status posts (and ${this.ephemerals} ephemeral error messages) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Drops what was seen so far (and the stand-in's own record, which would otherwise grow). */
  reset(): void {
    this.posts.length = 0;
    this.ephemerals = 0;
    this.webApi.reset();
  }

  close(): void {
    this.webApi.off('call', this.listener);
  }
}

/** The parts of the vip_status payload the bench checks. */
export interface StatusPayloadCheck {
  clusters: number;
  nodes: number;
  unreachable: string[];
}

/** Reads a vip_status post's payload: how many clusters and nodes, and which nodes were unreachable. */
export function checkStatusPayload(call: RecordedCall): StatusPayloadCheck {
  const payload = (call.args.metadata as { event_payload?: { clusters?: Array<{ nodes?: Array<{ name?: string; reachable?: boolean }> }> } } | undefined)?.event_payload;
  const clusters = payload?.clusters ?? [];
  const nodes = clusters.flatMap((c) => c.nodes ?? []);
  return { clusters: clusters.length, nodes: nodes.length, unreachable: nodes.filter((n) => n.reachable !== true).map((n) => String(n.name)) };
}
