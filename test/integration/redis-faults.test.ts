/**
 * SPEC §8, Redis faults, against a redis-server this file starts on its own port (never the shared
 * 6379) and kills, freezes and restarts empty: commands are answered within 1 s with what would work
 * and nothing refused runs later; /healthz and /metrics answer within 2 s; schedulers and the
 * per-cluster concurrency come back by themselves after a restart without persistence; the outage is
 * logged once; SIGTERM exits within shutdownGrace with Redis down (a real `vipbot all` process).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';
import type { RecordedCall } from '../../src/slack/local-web-api.ts';
import { LocalWebApi } from '../../src/slack/local-web-api.ts';
import { SIGNING_SECRET, startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { captureLogger, type LogLine } from '../support/capture-logger.ts';
import { freePort } from '../support/free-port.ts';
import { PrivateRedis, sleep } from '../support/private-redis.ts';

const lab = inject('lab');
const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let redis: PrivateRedis;
let bot: BotHarness;
let lines: LogLine[];
/** What the bot's Redis held before any fault, to compare with after. */
let before: { schedulers: string[]; concurrency: Record<string, number | null> };

const refusalText = (): string =>
  `:warning: queue unavailable — Redis at 127.0.0.1:${redis.port} is not answering, so nothing was queued — try again when Redis is back (operators: check that Redis is running and reachable)`;

async function redisState(): Promise<typeof before> {
  const schedulers = (await bot.runtime.queue.queue.getJobSchedulers()).map((s) => s.key).sort();
  const concurrency: Record<string, number | null> = {};
  for (const [cluster, q] of bot.runtime.changeQueues) concurrency[cluster] = await q.queue.getGlobalConcurrency();
  return { schedulers, concurrency };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${bot.url}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
  return performance.now() - started;
}

/** While Redis is away: the command is refused within 1 s, /healthz says 503 and /metrics answers, within 2 s. */
async function expectRefusedWithinBounds(): Promise<string> {
  const ack = await timed(() => bot.command('status'));
  expect(ack.value).toEqual({ status: 200, body: { response_type: 'ephemeral', text: refusalText() } });
  expect(ack.ms).toBeLessThan(1_000);
  const health = await timed(() => get('/healthz'));
  expect(health.value.status).toBe(503);
  expect(health.ms).toBeLessThan(2_000);
  const metrics = await timed(() => get('/metrics'));
  expect(metrics.value.status).toBe(200);
  expect(metrics.ms).toBeLessThan(2_000);
  return metrics.value.body;
}

/** Posts to the channel (not ephemeral refusals) since `at`. */
const postsSince = (at: number): RecordedCall[] => bot.webApi.calls.filter((c) => c.at >= at && (c.method === 'chat.postMessage' || c.method === 'files.uploadV2'));
const logged = (pattern: RegExp): LogLine[] => lines.filter((l) => pattern.test(l.msg));

beforeAll(async () => {
  redis = await PrivateRedis.start();
  const capture = captureLogger();
  lines = capture.lines;
  bot = await startBotHarness({ config: loadConfig(lab.configPath), redisUrl: redis.url, logger: capture.logger });
  before = await redisState();
});

afterAll(async () => {
  if (redis && !redis.running) await redis.start();
  redis?.resume();
  await bot?.stop();
  await redis?.stop();
});

describe('Redis faults (SPEC §8)', () => {
  it('starts with schedulers and per-cluster concurrency 1 (the baseline the recovery must restore)', () => {
    expect(before.schedulers.length).toBeGreaterThan(0);
    expect(Object.values(before.concurrency).every((c) => c === 1)).toBe(true);
  });

  it('Redis killed: /vip status answered within 1 s with what would work; /healthz 503 and /metrics within 2 s', async () => {
    await redis.stop();
    await until(() => bot.runtime.commandRedis.status !== 'ready', 2_000, 'the bot notices Redis is gone');
    expect(await expectRefusedWithinBounds()).toContain('vipbot_redis_up 0');
  });

  it('Redis back empty (no persistence): schedulers and concurrency re-applied within 10 s without a restart; nothing refused runs', async () => {
    // Three seconds of outage: ioredis retries many times; the log must still say it once.
    await sleep(3_000);
    const refusedAt = Date.now() - 5_000;
    await redis.start();
    const backMs = await until(async () => {
      await bot.runtime.recovered();
      return JSON.stringify(await redisState()) === JSON.stringify(before);
    }, 10_000, 'schedulers and concurrency back');
    expect(backMs).toBeLessThan(10_000);
    expect(await redisState()).toEqual(before);
    // The refused command stays refused: no status posted for it once Redis is back.
    await sleep(3_000);
    expect(postsSince(refusedAt)).toEqual([]);
    expect(logged(/is not answering/).length).toBe(1);
    expect(logged(/answering again/).length).toBe(1);
    expect(logged(/came back empty/).length).toBe(1);
    expect(logged(/re-applied/).length).toBe(1);
    // Nothing at error level while Redis was away (each was a stack trace per retry before).
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    // And the bot works again.
    const started = Date.now();
    const ack = await bot.command('status');
    expect(ack.body?.text).not.toContain('queue unavailable');
    await bot.waitForPost('vip_status', started);
  });

  it('Redis stalled (frozen, connections open): answered within 1 s; after it wakes, the refused command never runs', async () => {
    redis.pause();
    try {
      const frozenAt = Date.now();
      await expectRefusedWithinBounds();
      redis.resume();
      // Redis now reads the add that timed out, and right behind it the tombstone for it.
      await sleep(4_000);
      expect(postsSince(frozenAt)).toEqual([]);
      const counts = await bot.runtime.queue.queue.getJobCounts('waiting', 'active', 'delayed');
      expect(counts).toEqual({ waiting: 0, active: 0, delayed: expect.any(Number) as number });
    } finally {
      redis.resume();
    }
  });

  it('SIGTERM with Redis down: a real `vipbot all` exits within shutdownGrace, having logged the outage once', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'vipbot-faults-'));
    const webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT', userGroups: {} }).start();
    try {
      const doc = parseDocument(await readFile(lab.configPath, 'utf8'));
      doc.set('shutdownGrace', '3s');
      const configPath = join(tmp, 'vipbot.yaml');
      await writeFile(configPath, doc.toString());
      const port = await freePort();
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8',
        VIPBOT_CONFIG: configPath, REDIS_URL: redis.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: webApi.url, PORT: String(port), VIPBOT_QUEUE_PREFIX: `vipbot-test-sigterm-${port}`, LOG_LEVEL: 'info',
      };
      const child = spawn(process.execPath, [join(REPO_DIR, 'bin', 'vipbot.js'), 'all'], { cwd: REPO_DIR, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      await until(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
        return res?.status === 200;
      }, 30_000, `vipbot all answers /healthz (log: ${stderr.slice(-2000)})`);
      await redis.stop();
      await sleep(2_000);
      const started = performance.now();
      child.kill('SIGTERM');
      const [code] = await exited;
      const exitMs = performance.now() - started;
      expect(exitMs).toBeLessThan(3_000 + 2_000);
      expect(code).toBe(0);
      const logLines = stderr.split('\n').filter((l) => l.trim().startsWith('{'));
      expect(logLines.filter((l) => l.includes('is not answering')).length).toBe(1);
      expect(stderr).not.toContain('Unhandled error event');
    } finally {
      await webApi.stop();
      await rm(tmp, { recursive: true, force: true });
      if (!redis.running) await redis.start();
    }
  });
});
