/**
 * The two kinds of Redis connection a process holds. Workers block on Redis and must wait through an
 * outage (BullMQ requires `maxRetriesPerRequest: null`); the command side answers Slack within 3 s and
 * must fail fast instead: an add that waited for Redis would run hours later, after Slack gave up.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redisAddress } from './redis-health.ts';

/**
 * A command on the command-side connection gets this long for its answer: the backstop. The paths on
 * a Slack request bound themselves tighter (enqueue 600 ms, /healthz and /metrics 1 s) and, unlike
 * ioredis's own timer, let a reply already in the socket win (see withDeadline).
 */
export const COMMAND_REDIS_TIMEOUT_MS = 1_000;

/** Options of the worker-side connection: waits for Redis, however long it is gone. */
export const WORKER_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: null,
  enableReadyCheck: true,
  // Back within 2 s of Redis returning, so schedulers and concurrency are re-applied well inside 10 s.
  retryStrategy: (times) => Math.min(200 * times, 2_000),
};

/** Options of the command-side connection: refuses at once when Redis is not there. */
export const COMMAND_REDIS_OPTIONS: RedisOptions = {
  // No offline queue: a command sent while disconnected is refused now, never sent on reconnect.
  enableOfflineQueue: false,
  commandTimeout: COMMAND_REDIS_TIMEOUT_MS,
  connectTimeout: 1_000,
  maxRetriesPerRequest: 1,
  // Commands in flight when the socket drops are not re-sent on reconnect: their callers were already
  // told they failed (ioredis re-sends them by default).
  autoResendUnfulfilledCommands: false,
  enableReadyCheck: true,
  retryStrategy: (times) => Math.min(200 * times, 1_000),
};

/** Where Redis is: one URL, or a Sentinel set that names the master (SPEC §9). */
export type RedisTarget =
  | { kind: 'url'; url: string; password?: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; password?: string; sentinelPassword?: string };

export function redisTargetFromEnv(env: {
  REDIS_URL: string;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
}): RedisTarget {
  const password = env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {};
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    const sentinels = env.REDIS_SENTINELS.split(',').map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(entry.slice(at + 1)) };
    });
    return { kind: 'sentinel', sentinels, name: env.REDIS_SENTINEL_NAME, ...password, ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}) };
  }
  return { kind: 'url', url: env.REDIS_URL, ...password };
}

/** For messages and logs: where Redis is, never a password. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === 'sentinel') return `master ${target.name} via sentinels ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return redisAddress(target.url);
}

/**
 * A write that reaches a replica (the old master, just demoted by a failover) answers READONLY: reconnect,
 * which asks the sentinels for the master again. Workers re-send the command; the command side does not
 * (its caller was already told it failed).
 */
function onReadOnly(resend: boolean): (err: Error) => boolean | 1 | 2 {
  return (err) => (err.message.startsWith('READONLY') ? (resend ? 2 : 1) : false);
}

function connect(target: RedisTarget, options: RedisOptions, resend: boolean): Redis {
  if (target.kind === 'url') return new Redis(target.url, { ...options, ...(target.password ? { password: target.password } : {}), reconnectOnError: onReadOnly(resend) });
  return new Redis({
    ...options,
    sentinels: target.sentinels,
    name: target.name,
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    // Follow +switch-master at once instead of waiting for the old master's socket to fail.
    failoverDetector: true,
    reconnectOnError: onReadOnly(resend),
  });
}

export function createWorkerRedis(target: RedisTarget | string): Redis {
  return connect(typeof target === 'string' ? { kind: 'url', url: target } : target, WORKER_REDIS_OPTIONS, true);
}

export function createCommandRedis(target: RedisTarget | string): Redis {
  return connect(typeof target === 'string' ? { kind: 'url', url: target } : target, COMMAND_REDIS_OPTIONS, false);
}

/** Resolves once the connection is ready (at start, Redis must be there before anything is served). */
export function waitForReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

/**
 * Settles with the promise, or rejects after `ms` with a "timed out" error naming what. After a
 * stretch without CPU, timers run before sockets are read: the deadline waits one turn of I/O, so a
 * reply already received wins over a deadline that passed while the process was not running.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(new Error(`${what} timed out after ${ms} ms`))), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
