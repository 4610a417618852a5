/**
 * Runs the real bot in-process the way production does (HTTP receiver, BullMQ on real Redis, SSH to
 * the lab) with Slack's Web API replaced by the local stand-in, and drives it with signed requests.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type VipbotConfig } from '../../src/config/config.ts';
import { Env } from '../../src/env.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { startRuntime, type Role, type Runtime } from '../../src/main.ts';
import { LocalWebApi, type RecordedCall } from '../../src/slack/local-web-api.ts';
import { signSlackRequest, slashCommandBody } from './slack-signing.ts';
import { uniqueTrigger } from './unique-trigger.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';

export interface BotHarness {
  url: string;
  webApi: LocalWebApi;
  runtime: Runtime;
  config: VipbotConfig;
  prefix: string;
  /** POSTs a signed `/vip <text>` and returns the HTTP status and JSON ack. */
  command(text: string, opts?: { userId?: string; channelId?: string; secret?: string; timestamp?: number }): Promise<{ status: number; body: { text?: string; response_type?: string } | undefined }>;
  /** POSTs a signed reaction_added event (as Slack's Events API does), optionally as a retry. */
  react(ts: string, reaction: string, userId: string, opts?: { channelId?: string; eventId?: string; retryNum?: number }): Promise<{ status: number; eventId: string }>;
  /** Waits for the next chat.postMessage carrying metadata of that event type. */
  waitForPost(eventType: string, after?: number, timeoutMs?: number): Promise<RecordedCall>;
  stop(): Promise<void>;
}

export async function startBotHarness(opts: { configPath?: string; config?: VipbotConfig; redisUrl: string; role?: Role; logger?: Logger }): Promise<BotHarness> {
  const config = opts.config ?? loadConfig(opts.configPath!);
  const webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT', userGroups: {} }).start();
  const prefix = `vipbot-test-${randomBytes(4).toString('hex')}`;
  const env = Env.parse({
    REDIS_URL: opts.redisUrl,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: webApi.url,
    PORT: '0',
    VIPBOT_QUEUE_PREFIX: prefix,
  });
  const runtime = await startRuntime({ role: opts.role ?? 'all', env, config, logger: opts.logger ?? silentLogger() });
  const url = `http://127.0.0.1:${runtime.port}`;
  return {
    url, webApi, runtime, config, prefix,
    async command(text, o = {}) {
      const body = uniqueTrigger(slashCommandBody({ text, userId: o.userId ?? 'U0OPER1', channelId: o.channelId ?? 'C0VIPOPS', responseUrl: webApi.responseUrl }));
      const res = await fetch(`${url}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, o.secret ?? SIGNING_SECRET, o.timestamp) },
        body,
      });
      const raw = await res.text();
      return { status: res.status, body: raw ? (JSON.parse(raw) as { text?: string }) : undefined };
    },
    async react(ts, reaction, userId, o = {}) {
      const eventId = o.eventId ?? `Ev${randomBytes(6).toString('hex').toUpperCase()}`;
      const body = JSON.stringify({
        token: 'deprecated', team_id: 'T0LOCAL', api_app_id: 'A0VIPBOT', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000),
        event: { type: 'reaction_added', user: userId, reaction, item: { type: 'message', channel: o.channelId ?? 'C0VIPOPS', ts }, item_user: 'U0VIPBOT', event_ts: `${Date.now() / 1000}` },
      });
      const headers: Record<string, string> = { 'content-type': 'application/json', ...signSlackRequest(body, SIGNING_SECRET) };
      if (o.retryNum !== undefined) {
        headers['x-slack-retry-num'] = String(o.retryNum);
        headers['x-slack-retry-reason'] = 'http_timeout';
      }
      const res = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
      await res.text();
      return { status: res.status, eventId };
    },
    waitForPost(eventType, after = 0, timeoutMs = 15_000) {
      return webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= after && (c.args.metadata as { event_type?: string } | undefined)?.event_type === eventType, timeoutMs);
    },
    async stop() {
      await runtime.stop();
      await webApi.stop();
      await deleteKeys(opts.redisUrl, `${prefix}:*`);
    },
  };
}

/** Removes a test's Redis keys so runs leave nothing behind. */
export async function deleteKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
