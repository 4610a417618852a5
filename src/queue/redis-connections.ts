/**
 * The two kinds of Redis connection a process holds. Workers block on Redis and must wait through an
 * outage (BullMQ requires `maxRetriesPerRequest: null`); the command side answers Slack within 3 s and
 * must fail fast instead: an add that waited for Redis would run hours later, after Slack gave up.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** A command on the command-side connection gets this long for its answer. */
export const COMMAND_REDIS_TIMEOUT_MS = 500;

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

export function createWorkerRedis(url: string): Redis {
  return new Redis(url, WORKER_REDIS_OPTIONS);
}

export function createCommandRedis(url: string): Redis {
  return new Redis(url, COMMAND_REDIS_OPTIONS);
}

/** Resolves once the connection is ready (at start, Redis must be there before anything is served). */
export function waitForReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

/** Settles with the promise, or rejects after `ms` with a "timed out" error naming what. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
