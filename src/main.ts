/**
 * The one place where real Redis, SSH and Slack objects are created and wired (DESIGN.md). Everything
 * else receives them. `startRuntime` builds the parts a role needs: the bot (receiver + dispatcher +
 * queue), the worker (jobs + SSH + notifier), or both.
 */
import type { Receiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { commands } from '../commands/index.ts';
import { changeJobs, readJobs } from '../jobs/index.ts';
import { RequestFlow, type ExecutionScheduler } from './approvals/request-flow.ts';
import { RequestStore } from './approvals/request-store.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AccessControl, type UserGroupDirectory } from './access/access-control.ts';
import { CommandDispatcher } from './commands/dispatch.ts';
import type { VipbotConfig } from './config/config.ts';
import type { Env } from './env.ts';
import { SshPool } from './hosts/ssh-pool.ts';
import type { JobDeps } from './jobs/job.ts';
import type { Logger } from './logger.ts';
import { createMemoryRuntime } from './memory/memory-runtime.ts';
import { Metrics } from './metrics.ts';
import { BullJobQueue, changeQueueName, READ_QUEUE } from './queue/job-queue.ts';
import { createJobWorker } from './queue/worker.ts';
import { createBoltApp, createHttpReceiver, createSocketModeReceiver, type BoltApp } from './slack/bolt-app.ts';
import { createSlackNotifier } from './slack/notifier.ts';
import { createStatusCollector } from './status/collect-status.ts';

export type Role = 'all' | 'bot' | 'worker';

export interface RuntimeOptions {
  role: Role;
  env: Env;
  config: VipbotConfig;
  logger: Logger;
  /** Overrides the receiver (the console passes its terminal receiver). */
  receiver?: Receiver;
  /** Skips auth.test when the bot's user id is known (console, tests). */
  botUserId?: string;
  /** Slack token; the console passes a local one. */
  token?: string;
}

export interface Runtime {
  metrics: Metrics;
  redis: Redis;
  pool: SshPool;
  queue: BullJobQueue;
  changeQueues: Map<string, BullJobQueue>;
  store: RequestStore;
  audit: AuditLog;
  flow: RequestFlow;
  worker?: Worker;
  app?: BoltApp;
  /** Port the HTTP receiver listens on (0 when not listening). */
  port: number;
  stop(): Promise<void>;
}

/** Graceful-shutdown bound: running jobs get this long to finish before connections close. */
const SHUTDOWN_GRACE_MS = 20_000;

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { env, config, logger, role } = options;
  const metrics = new Metrics();
  const redisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false } as const;
  const redis = new Redis(env.REDIS_URL, redisOptions);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection problem'));
  const connection = redis;
  const prefix = env.VIPBOT_QUEUE_PREFIX;

  const token = options.token ?? env.SLACK_BOT_TOKEN ?? '';
  const client = new WebClient(token, { ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}), retryConfig: { retries: 3 } });
  const notifier = createSlackNotifier(client);
  const pool = new SshPool({
    logger: logger.child({ component: 'ssh' }),
    onCommand: (info) => {
      metrics.sshLatency.observe({ command: info.id }, info.durationMs / 1000);
      if (info.error) metrics.sshErrors.inc({ code: info.error });
    },
  });

  const stops: Array<() => Promise<void>> = [];
  let worker: Worker | undefined;
  let app: BoltApp | undefined;
  let port = 0;

  // Queues: reads (status, plans, expiry, cancel, history) and one change queue per cluster, whose
  // global concurrency of 1 is the per-cluster lock across every worker process.
  const queue = new BullJobQueue({ connection, prefix });
  const changeQueues = new Map(config.clusters.map((c) => [c.name, new BullJobQueue({ connection, prefix }, changeQueueName(c.name))]));
  for (const q of changeQueues.values()) await q.queue.setGlobalConcurrency(1);
  stops.push(async () => {
    await queue.close();
    for (const q of changeQueues.values()) await q.close();
  });

  const directory: UserGroupDirectory = {
    async membersOf(groupId) {
      const res = await client.usergroups.users.list({ usergroup: groupId });
      return res.users ?? [];
    },
  };
  const access = new AccessControl(config.access, directory);
  const store = new RequestStore(redis, prefix);
  const audit = new AuditLog(redis, prefix);
  const scheduler: ExecutionScheduler = {
    async enqueueExecution(request) {
      const q = changeQueues.get(request.cluster);
      if (!q) throw new Error(`no change queue for cluster ${request.cluster}`);
      // jobId = request id: BullMQ keeps one job per id, so a duplicate approval cannot queue a second run.
      await q.queue.add('execute-request', { requestId: request.id }, { jobId: request.id, attempts: 3, backoff: { type: 'fixed', delay: 2_000 } });
    },
    async scheduleExpiry(request) {
      await queue.queue.add('expire-request', { requestId: request.id }, { jobId: `expire-${request.id}`, delay: Math.max(0, request.expiresAt - Date.now()) });
    },
  };
  const flow = new RequestFlow({ config, store, audit, notifier, access, scheduler, logger: logger.child({ component: 'approvals' }), metrics });

  if (role === 'all' || role === 'worker') {
    // Memory history: samples in Redis under the queue prefix, taken over the same SSH pool.
    const memory = createMemoryRuntime({ redis, prefix, config, runner: pool, logger });
    const deps: JobDeps = { config, notifier, status: createStatusCollector(config, pool), logger, metrics, store, audit, flow, runner: pool, memory: memory.deps };
    const workers = [
      createJobWorker(readJobs, deps, { connection, prefix, queueName: READ_QUEUE }),
      ...[...changeQueues.values()].map((q) => createJobWorker(changeJobs, deps, { connection, prefix, queueName: q.queue.name, concurrency: 1, changeQueue: true })),
    ];
    worker = workers[0];
    stops.push(async () => {
      // Stop taking work; let running jobs finish, bounded.
      await Promise.race([Promise.all(workers.map((w) => w.close())), delay(SHUTDOWN_GRACE_MS)]);
      await memory.close();
    });
    // Schedulers follow the config on every start: changed cron/channel/sampleEvery replace the old ones.
    await memory.reconcile(queue.queue);
  }

  if (role === 'all' || role === 'bot') {
    const q = queue;
    const dispatcher = new CommandDispatcher({ config, commands, access, queue, logger, metrics });
    const routes = [
      { path: '/healthz', method: 'GET' as const, handler: () => health(redis, config) },
      { path: '/metrics', method: 'GET' as const, handler: async () => ({ status: 200, contentType: metrics.registry.contentType, body: await collectMetrics(metrics, q) }) },
    ];
    const receiver = options.receiver
      ?? (env.SLACK_APP_TOKEN
        ? createSocketModeReceiver(env.SLACK_APP_TOKEN, env.PORT, { logger, routes, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}) })
        : createHttpReceiver({ signingSecret: env.SLACK_SIGNING_SECRET ?? '', logger, routes }));
    app = createBoltApp({ token, receiver, dispatcher, flow, logger, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}), ...(options.botUserId ? { botUserId: options.botUserId } : {}) });
    const server: unknown = await app.start(env.PORT);
    const address = (server as { address?: () => unknown } | undefined)?.address?.();
    port = typeof address === 'object' && address !== null && 'port' in address ? Number((address as { port: number }).port) : 0;
    const a = app;
    stops.unshift(() => a.stop().then(() => undefined));
    logger.info({ role, port, mode: options.receiver ? 'custom' : env.SLACK_APP_TOKEN ? 'socket' : 'http' }, 'vipbot listening');
  }

  let stopped = false;
  return {
    metrics, redis, pool, port, queue, changeQueues, store, audit, flow,
    ...(worker ? { worker } : {}),
    ...(app ? { app } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const stop of stops) {
        await stop().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
      }
      await pool.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

async function health(redis: Redis, config: VipbotConfig): Promise<{ status: number; contentType: string; body: string }> {
  let redisOk = false;
  let redisError: string | undefined;
  try {
    redisOk = (await Promise.race([redis.ping(), delay(1000).then(() => 'timeout')])) === 'PONG';
    if (!redisOk) redisError = 'no PONG within 1 s';
  } catch (err) {
    redisError = (err as Error).message;
  }
  const body = {
    ok: redisOk,
    redis: redisOk ? 'up' : `down: ${redisError ?? 'unknown'}`,
    config: { clusters: config.clusters.length, nodes: config.clusters.reduce((n, c) => n + c.nodes.length, 0) },
  };
  return { status: redisOk ? 200 : 503, contentType: 'application/json', body: JSON.stringify(body) };
}

async function collectMetrics(metrics: Metrics, queue: BullJobQueue): Promise<string> {
  try {
    const counts = await queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    for (const [state, n] of Object.entries(counts)) metrics.jobsByState.set({ queue: queue.queue.name, state }, n);
  } catch {
    // Redis down: /healthz says so; metrics still answer with what the process knows.
  }
  return metrics.registry.metrics();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
