/**
 * Issue 8's row: ack latency of `/vip status` while Redis is down (SPEC §8: answered within Slack's
 * 3 s, target p99 < 1 s, with the "queue unavailable" refusal). The bot runs against a redis-server
 * of the bench's own on a free loopback port (the shared one on 6379 is never stopped), which is
 * killed for the measurement and started again (empty) so the bot can be stopped and cleaned up.
 */
import type { LocalWebApi } from '../src/slack/local-web-api.ts';
import { PrivateRedis } from '../test/support/private-redis.ts';
import { BotProcess, sleep } from './bot-process.ts';
import { SlashClient } from './slack.ts';
import { ms, percentile } from './stats.ts';

export interface RedisDownAcks {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers that were not the refusal (should be none). */
  wrong: number;
}

const REQUESTS = 50;
const CONCURRENCY = 5;
export const REDIS_DOWN_P99_TARGET_MS = 1_000;

export async function benchAckRedisDown(configPath: string, secret: string, webApi: LocalWebApi, log: (line: string) => void): Promise<RedisDownAcks> {
  const redis = await PrivateRedis.start();
  const bot = new BotProcess({ configPath, redisUrl: redis.url, slackApiUrl: webApi.url, signingSecret: secret });
  try {
    await bot.start();
    const client = new SlashClient(bot.url, secret, webApi.responseUrl, CONCURRENCY);
    try {
      // Warm-up through the same HTTP, signature, Bolt and dispatcher code (the JIT of a fresh process).
      for (let i = 0; i < 20; i++) await client.command('help');
      await redis.stop();
      await waitForUnhealthy(bot.url);
      log(`redis-down: Redis on port ${redis.port} stopped; ${REQUESTS} signed /vip status, ${CONCURRENCY} in flight`);
      const latencies: number[] = [];
      let wrong = 0;
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          next++;
          const res = await client.command('status');
          latencies.push(res.latencyMs);
          if (res.status !== 200 || !res.body.includes('queue unavailable')) wrong++;
        }
      }));
      return { n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), wrong };
    } finally {
      client.close();
    }
  } finally {
    if (!redis.running) await redis.start();
    await bot.stop();
    await redis.stop();
  }
}

export function formatRedisDownRow(r: RedisDownAcks): string {
  const pass = r.p99 < REDIS_DOWN_P99_TARGET_MS && r.wrong === 0;
  return `ack /vip status, Redis down (${r.n} signed): p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, max ${ms(r.max)}; target p99 < 1 s: ${pass ? 'PASS' : 'FAIL'}`
    + (r.wrong ? ` (${r.wrong} answers were not the "queue unavailable" refusal)` : '');
}

async function waitForUnhealthy(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res) await res.arrayBuffer();
    if (res?.status === 503) return;
    await sleep(50);
  }
  throw new Error('the bot did not report Redis down on /healthz within 10 s');
}
