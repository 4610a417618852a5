/**
 * The one place where real Redis, SSH and Slack objects are created and wired (DESIGN.md). Everything
 * else receives them. `startRuntime` builds the parts a role needs: the bot (receiver + dispatcher +
 * queue), the worker (jobs + SSH + notifier), or both.
 */
import type { Receiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
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
import { createMemoryRuntime, type MemoryRuntime } from './memory/memory-runtime.ts';
import { SCHEDULED_JOB_OPTS, startSampleJob } from './memory/schedule.ts';
import { Metrics } from './metrics.ts';
import { BullJobQueue, changeQueueName, READ_QUEUE } from './queue/job-queue.ts';
import { createCommandRedis, createWorkerRedis, describeRedisTarget, redisTargetFromEnv, waitForReady, withDeadline } from './queue/redis-connections.ts';
import { RedisHealth } from './queue/redis-health.ts';
import { reapplyOnReady, type RecoveryStep } from './queue/redis-recovery.ts';
import { createJobWorker } from './queue/worker.ts';
import { shutDown } from './shutdown.ts';
import { createBoltApp, createHttpReceiver, createSocketModeReceiver, type BoltApp } from './slack/bolt-app.ts';
import { RedisReplayMemory } from './slack/replay-guard.ts';
import { createSlackNotifier } from './slack/notifier.ts';
import { createStatusCollector } from './status/collect-status.ts';
import { createWatchStore, type WatchStore } from './status/watch-store.ts';
import { warningGauge } from './status/watch.ts';
import { serveRoutes, type Route } from './http-routes.ts';

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
  /** Worker side: waits through an outage (BullMQ workers, schedulers, job deps). */
  redis: Redis;
  /**
   * Command side: fails fast (no offline queue, 500 ms per command, nothing re-sent on reconnect).
   * Anything on the path of a Slack request that touches Redis uses this one.
   */
  commandRedis: Redis;
  health: RedisHealth;
  pool: SshPool;
  /** The reads queue on the worker-side connection. */
  queue: BullJobQueue;
  changeQueues: Map<string, BullJobQueue>;
  /** Worker-side store, audit log and flow (the bot side has its own on `commandRedis`). */
  store: RequestStore;
  audit: AuditLog;
  flow: RequestFlow;
  worker?: Worker;
  app?: BoltApp;
  /** Port the HTTP receiver listens on (0 when not listening). */
  port: number;
  /** Resolves when the re-apply after the latest reconnect is done. */
  recovered(): Promise<void>;
  stop(): Promise<void>;
}

/** Queues of one side (reads + one change queue per cluster) on one connection. */
interface QueueSet {
  reads: BullJobQueue;
  changes: Map<string, BullJobQueue>;
  all: BullJobQueue[];
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { env, config, logger, role } = options;
  const metrics = new Metrics();
  const target = redisTargetFromEnv(env);
  const address = describeRedisTarget(target);
  const health = new RedisHealth(address, logger.child({ component: 'redis' }), { onChange: (up) => metrics.redisUp.set(up ? 1 : 0) });
  const redis = createWorkerRedis(target);
  const commandRedis = createCommandRedis(target);
  health.watch('worker', redis);
  health.watch('command', commandRedis);
  await Promise.all([waitForReady(redis), waitForReady(commandRedis)]);
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

  // Queues: reads (status, plans, expiry, cancel, history) and one change queue per cluster, whose
  // global concurrency of 1 is the per-cluster lock across every worker process. Each side has its
  // own set: the command side's refuses within the ack bound, the worker side's waits for Redis.
  const makeQueues = (connection: Redis, failFast: boolean): QueueSet => {
    // With Sentinel an add counts once a replica has it: it then survives a failover (job-queue.ts).
    const replicas = target.kind === 'sentinel' ? { minReplicas: 1 } : {};
    const opts = { connection, prefix, ...(failFast ? { failFast: { redis: connection, address, ...replicas } } : {}) };
    const reads = new BullJobQueue(opts);
    const changes = new Map(config.clusters.map((c) => [c.name, new BullJobQueue(opts, changeQueueName(c.name))]));
    const all = [reads, ...changes.values()];
    for (const q of all) q.queue.on('error', (err) => health.noteError('queue', err));
    return { reads, changes, all };
  };
  const workerSide = makeQueues(redis, false);
  const commandSide = makeQueues(commandRedis, true);
  const applyConcurrency: RecoveryStep[] = [...workerSide.changes.values()].map((q) => ({
    name: `global concurrency of ${q.queue.name}`,
    run: () => q.queue.setGlobalConcurrency(1),
  }));
  for (const step of applyConcurrency) await step.run();

  const directory: UserGroupDirectory = {
    async membersOf(groupId) {
      const res = await client.usergroups.users.list({ usergroup: groupId });
      return res.users ?? [];
    },
  };
  const access = new AccessControl(config.access, directory);
  const makeFlow = (connection: Redis, queues: QueueSet): { store: RequestStore; audit: AuditLog; flow: RequestFlow } => {
    const store = new RequestStore(connection, prefix);
    const audit = new AuditLog(connection, prefix);
    const scheduler: ExecutionScheduler = {
      async enqueueExecution(request) {
        const q = queues.changes.get(request.cluster);
        if (!q) throw new Error(`no change queue for cluster ${request.cluster}`);
        // jobId = request id: BullMQ keeps one job per id, so a duplicate approval cannot queue a second run.
        await q.add('execute-request', { requestId: request.id }, { jobId: request.id, attempts: 3, backoff: { type: 'fixed', delay: 2_000 } });
      },
      async scheduleExpiry(request) {
        await queues.reads.add('expire-request', { requestId: request.id }, { jobId: `expire-${request.id}`, delay: Math.max(0, request.expiresAt - Date.now()) });
      },
    };
    const flow = new RequestFlow({ config, store, audit, notifier, access, scheduler, logger: logger.child({ component: 'approvals' }), metrics });
    return { store, audit, flow };
  };
  const workerFlow = makeFlow(redis, workerSide);

  let workers: Worker[] = [];
  let memory: MemoryRuntime | undefined;
  let app: BoltApp | undefined;
  let port = 0;
  const recoverySteps = [...applyConcurrency];

  if (role === 'all' || role === 'worker') {
    // Memory history: samples in Redis under the queue prefix, taken over the same SSH pool.
    const mem = createMemoryRuntime({ redis, prefix, config, runner: pool, logger, onConnection: (c) => health.watch('memory-writer', c) });
    memory = mem;
    const deps: JobDeps = { config, notifier, status: createStatusCollector(config, pool), logger, metrics, ...workerFlow, runner: pool, memory: mem.deps, watch: createWatchStore(redis, prefix) };
    const workerOptions = { connection: redis, prefix, health, tombstones: redis, ...(target.kind === 'sentinel' ? { exactlyOnce: { redis } } : {}) };
    workers = [
      createJobWorker(readJobs, deps, { ...workerOptions, queueName: READ_QUEUE }),
      ...[...workerSide.changes.values()].map((q) => createJobWorker(changeJobs, deps, { ...workerOptions, queueName: q.queue.name, concurrency: 1, changeQueue: true })),
    ];
    // Schedulers follow the config on every start: changed cron/channel/sampleEvery replace the old ones.
    await mem.reconcile(workerSide.reads.queue);
    const startRound = startSampleJob(Date.now(), config.memory.sampleEvery);
    if (startRound) await workerSide.reads.queue.add('memory-sample', {}, { ...SCHEDULED_JOB_OPTS, jobId: startRound.jobId });
    recoverySteps.push({ name: 'memory schedulers', run: () => mem.reconcile(workerSide.reads.queue, { quiet: true }) });
  }
  const recovery = await reapplyOnReady(redis, { prefix, steps: recoverySteps, logger: logger.child({ component: 'redis' }) });
  // vipbot_warnings comes from the watch's state in Redis, so every process reports the same series.
  const watchState = createWatchStore(commandRedis, prefix);
  let workerServer: { close(): Promise<void> } | undefined;
  if (role === 'worker') {
    // A worker serves /healthz and /metrics too (its SSH latency and job metrics live in this process).
    const routes: Route[] = [
      { path: '/healthz', handler: () => healthReport(commandRedis, address, config) },
      { path: '/metrics', handler: async () => ({ status: 200, contentType: metrics.registry.contentType, body: await collectMetrics(metrics, commandSide.reads, watchState) }) },
    ];
    const served = await serveRoutes(env.PORT, routes);
    workerServer = served;
    port = served.port;
    logger.info({ role, port }, 'vipbot worker serving /healthz and /metrics');
  }

  if (role === 'all' || role === 'bot') {
    const botFlow = makeFlow(commandRedis, commandSide);
    const dispatcher = new CommandDispatcher({ config, commands, access, queue: commandSide.reads, logger, metrics });
    const routes = [
      { path: '/healthz', method: 'GET' as const, handler: () => healthReport(commandRedis, address, config) },
      { path: '/metrics', method: 'GET' as const, handler: async () => ({ status: 200, contentType: metrics.registry.contentType, body: await collectMetrics(metrics, commandSide.reads, watchState) }) },
    ];
    const receiver = options.receiver
      ?? (env.SLACK_APP_TOKEN
        ? createSocketModeReceiver(env.SLACK_APP_TOKEN, env.PORT, { logger, routes, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}) })
        // Replays are remembered on the fail-fast connection: with Redis down the request passes to the
        // dispatcher, which answers "queue unavailable" at once (nothing can be queued then anyway).
        : createHttpReceiver({ signingSecret: env.SLACK_SIGNING_SECRET ?? '', logger, routes, replayMemory: new RedisReplayMemory(commandRedis, prefix) }));
    app = createBoltApp({ token, receiver, dispatcher, flow: botFlow.flow, logger, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}), ...(options.botUserId ? { botUserId: options.botUserId } : {}) });
    const server: unknown = await app.start(env.PORT);
    const listening = (server as { address?: () => unknown } | undefined)?.address?.();
    port = typeof listening === 'object' && listening !== null && 'port' in listening ? Number((listening as { port: number }).port) : 0;
    logger.info({ role, port, mode: options.receiver ? 'custom' : env.SLACK_APP_TOKEN ? 'socket' : 'http' }, 'vipbot listening');
  }

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    health.stop();
    await workerServer?.close();
    await shutDown({
      // The last half second is the process's own exit (cli.ts exits at shutdownGrace regardless).
      graceMs: Math.max(1_000, config.shutdownGrace - 500),
      logger,
      ...(app ? { app } : {}),
      workers,
      queues: [...workerSide.all, ...commandSide.all],
      ...(memory ? { memory } : {}),
      pool,
      connections: [redis, commandRedis],
    });
  };
  return {
    metrics, redis, commandRedis, health, pool, port, queue: workerSide.reads, changeQueues: workerSide.changes, ...workerFlow,
    ...(workers[0] ? { worker: workers[0] } : {}),
    ...(app ? { app } : {}),
    recovered: () => recovery.settled(),
    stop: () => (stopping ??= stop()),
  };
}

/** Every Redis call on these routes is bounded: they answer within 2 s with Redis down or stalled. */
const ROUTE_REDIS_BOUND_MS = 1_000;

async function healthReport(commandRedis: Redis, address: string, config: VipbotConfig): Promise<{ status: number; contentType: string; body: string }> {
  let redisError: string | undefined;
  if (commandRedis.status !== 'ready') {
    redisError = `not connected (${commandRedis.status})`;
  } else {
    try {
      const pong = await withDeadline(commandRedis.ping(), ROUTE_REDIS_BOUND_MS, 'PING');
      if (pong !== 'PONG') redisError = `PING answered ${pong}`;
    } catch (err) {
      redisError = (err as Error).message;
    }
  }
  const ok = redisError === undefined;
  const body = {
    ok,
    redis: ok ? 'up' : `down: Redis at ${address}: ${redisError}`,
    config: { clusters: config.clusters.length, nodes: config.clusters.reduce((n, c) => n + c.nodes.length, 0) },
  };
  return { status: ok ? 200 : 503, contentType: 'application/json', body: JSON.stringify(body) };
}

async function collectMetrics(metrics: Metrics, queue: BullJobQueue, watch: WatchStore): Promise<string> {
  try {
    const [counts, state] = await withDeadline(
      Promise.all([queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'), watch.load()]),
      ROUTE_REDIS_BOUND_MS,
      'job counts and watch state',
    );
    for (const [state, n] of Object.entries(counts)) metrics.jobsByState.set({ queue: queue.queue.name, state }, n);
    metrics.warnings.reset();
    for (const w of warningGauge(state)) metrics.warnings.set({ cluster: w.cluster, code: w.code }, w.value);
  } catch {
    // Redis down: /healthz and vipbot_redis_up say so; metrics still answer with what the process knows.
  }
  return metrics.registry.metrics();
}
