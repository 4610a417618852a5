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
  /** Sets the queue's memory schedulers from the config (workers call it at start). */
  reconcile(queue: SchedulerQueue): Promise<{ upserted: string[]; removed: string[] }>;
  close(): Promise<void>;
}

export function createMemoryRuntime(options: { redis: Redis; prefix: string; config: VipbotConfig; runner: NodeRunner; logger: Logger }): MemoryRuntime {
  const { redis, prefix, config, runner, logger } = options;
  const log = logger.child({ component: 'memory' });
  const store = new MemoryStore(redis, prefix, {
    retentionMs: config.memory.retention,
    onCorruptDay: (key, err) => log.warn({ key, err }, 'memory samples of one day cannot be decoded; skipped (rewritten on the next sample)'),
  });
  const sampler = createMemorySampler(config, runner);
  return {
    deps: { store, sampler },
    reconcile: (queue) => reconcileMemorySchedulers(queue, config.memory, { logger: log }),
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
