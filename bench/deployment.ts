/**
 * vipbot as it is scaled out (SPEC §9): one `vipbot bot` and N `vipbot worker` processes on one Redis
 * queue prefix, for the bench's 100-host phase. Always stopped, and their Redis keys deleted, afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { READ_QUEUE } from '../src/queue/job-queue.ts';
import type { LocalWebApi } from '../src/slack/local-web-api.ts';
import { BotProcess, deleteKeys, sleep } from './bot-process.ts';
import { SlashClient } from './slack.ts';
import { withBotTail } from './status-run.ts';

export interface DeploymentEnv {
  redisUrl: string;
  webApi: LocalWebApi;
  /** The caller's set of running processes (stopped on SIGINT). */
  live: Set<BotProcess>;
}

/** The running processes of one deployment and a Slack client signed for its bot. */
export interface Deployment {
  bot: BotProcess;
  workers: BotProcess[];
  client: SlashClient;
  prefix: string;
}

/** A `vipbot bot` and `count` `vipbot worker` processes on one queue prefix; always stopped and cleaned up. */
export async function withDeployment<T>(o: DeploymentEnv, configPath: string, secret: string, count: number, fn: (d: Deployment) => Promise<T>): Promise<T> {
  const prefix = `vipbot-bench-${randomBytes(4).toString('hex')}`;
  const common = { configPath, redisUrl: o.redisUrl, slackApiUrl: o.webApi.url, signingSecret: secret, prefix };
  const bot = new BotProcess({ ...common, role: 'bot' });
  const workers = Array.from({ length: count }, () => new BotProcess({ ...common, role: 'worker' }));
  const all = [bot, ...workers];
  for (const p of all) o.live.add(p);
  let client: SlashClient | undefined;
  try {
    await Promise.all(all.map((p) => p.start()));
    client = new SlashClient(bot.url, secret, o.webApi.responseUrl, 64);
    await waitForIdle(o.redisUrl, prefix, 180_000); // the workers' start-up memory sample round
    return await fn({ bot, workers, client, prefix });
  } catch (err) {
    throw withBotTail(err, all.find((p) => !p.alive) ?? bot);
  } finally {
    client?.close();
    await Promise.all(all.map((p) => p.stop()));
    for (const p of all) o.live.delete(p);
    await deleteKeys(o.redisUrl, `${prefix}:*`); // again: a process still running may have written some back
  }
}

/** Nothing waiting or running on the queue (delayed jobs, the schedulers' next rounds, do not count). */
export async function queueIdle(queue: Queue): Promise<boolean> {
  const c = await queue.getJobCounts('waiting', 'active', 'prioritized');
  return (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0;
}

/** Waits until the prefix's read queue has nothing waiting or running (bounded). */
async function waitForIdle(redisUrl: string, prefix: string, timeoutMs: number): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(READ_QUEUE, { connection, prefix });
  try {
    const deadline = Date.now() + timeoutMs;
    await sleep(500); // let the workers' start-up jobs land
    while (!(await queueIdle(queue))) {
      if (Date.now() > deadline) throw new Error(`the read queue was still busy ${timeoutMs} ms after the workers started`);
      await sleep(200);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export async function sumCpu(procs: readonly BotProcess[]): Promise<number> {
  return (await Promise.all(procs.map((p) => p.cpuMs()))).reduce((a, b) => a + b, 0);
}
