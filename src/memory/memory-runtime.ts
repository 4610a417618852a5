/**
 * The memory feature's live parts — the Redis store, the SSH sampler and the schedulers — built once
 * by src/main.ts (the one place that wires Redis and SSH) and handed to jobs as `JobDeps.memory`.
 */
import type { Redis } from 'ioredis';
import type { VipbotConfig } from '../config/config.ts';
import { VipbotError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NodeRunner } from '../status/collect-node-facts.ts';
import { createMemorySampler, type MemorySampler } from './collect-memory-sample.ts';
import { MemoryStore, type MemorySampleStore } from './memory-store.ts';
import { reconcileMemorySchedulers, type SchedulerQueue } from './scheduler-runtime.ts';

/** What memory jobs use (JobDeps.memory). */
export interface MemoryDeps {
  store: MemorySampleStore;
  sampler: MemorySampler;
}

export interface MemoryRuntime {
  deps: MemoryDeps;
  /** Sets the queue's memory schedulers from the config (workers call it at start and on every reconnect). */
  reconcile(queue: SchedulerQueue, options?: { quiet?: boolean }): Promise<{ upserted: string[]; removed: string[] }>;
  close(): Promise<void>;
}

export interface MemoryRuntimeOptions {
  redis: Redis;
  prefix: string;
  config: VipbotConfig;
  runner: NodeRunner;
  logger: Logger;
  /** Each Redis connection the store makes of its own (main.ts follows their health). */
  onConnection?: (connection: Redis) => void;
}

export function createMemoryRuntime(options: MemoryRuntimeOptions): MemoryRuntime {
  const { redis, prefix, config, runner, logger } = options;
  const log = logger.child({ component: 'memory' });
  const store = new MemoryStore(redis, prefix, {
    retentionMs: config.memory.retention,
    onCorruptDay: (key, err) => log.warn({ key, err }, 'memory samples of one day cannot be decoded; skipped (rewritten on the next sample)'),
    ...(options.onConnection ? { onConnection: options.onConnection } : {}),
  });
  const sampler = createMemorySampler(config, runner);
  return {
    deps: { store, sampler },
    // Quiet on a reconnect: the recovery logs one line for everything it re-applied.
    reconcile: (queue, o) => reconcileMemorySchedulers(queue, config.memory, { ...(o?.quiet ? {} : { logger: log }), ...(config.status ? { watch: config.status } : {}) }),
    close: () => store.close(),
  };
}

/** The memory deps, or a coded error for a process wired without them (a worker built by hand). */
export function requireMemoryDeps(deps: { memory?: MemoryDeps }): MemoryDeps {
  if (!deps.memory) {
    throw new VipbotError('memory_not_configured', 'this worker has no memory store or sampler', 'run the worker through startRuntime (src/main.ts), which wires them');
  }
  return deps.memory;
}
