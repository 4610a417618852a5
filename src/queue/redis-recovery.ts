/**
 * What Redis must hold for the bot to work, put back on every reconnect (SPEC §8): a Redis restarted
 * without persistence comes back empty — no per-cluster global concurrency (the cluster lock across
 * workers), no job schedulers — and nothing would notice until the bot restarted. A marker key set at
 * start tells "Redis came back empty" from "Redis came back": the first means pending requests and
 * the audit log are gone, which is logged once (the README says why Redis needs AOF).
 */
import type { Logger } from '../logger.ts';

/** The ioredis calls used (a real `Redis` fits). */
export interface RecoveryRedis {
  on(event: 'ready', listener: () => void): unknown;
  set(key: string, value: string, nx: 'NX'): Promise<unknown>;
  exists(key: string): Promise<number>;
}

export interface RecoveryStep {
  /** For the log, e.g. "global concurrency of changes-orcl". */
  name: string;
  run(): Promise<unknown>;
}

export interface RedisRecovery {
  /** Resolves when the latest reconnect's steps are done (tests, shutdown). */
  settled(): Promise<void>;
}

/** Key whose absence after a reconnect means Redis lost its data. */
export function keptMarkerKey(prefix: string): string {
  return `${prefix}:redis-kept-since`;
}

/**
 * Sets the marker now and, on every later `ready`, checks it and runs the steps in order. Call once
 * the connection is first ready (startRuntime does, after applying the same steps itself).
 */
export async function reapplyOnReady(
  redis: RecoveryRedis,
  options: { prefix: string; steps: readonly RecoveryStep[]; logger: Pick<Logger, 'info' | 'warn'>; now?: () => number },
): Promise<RedisRecovery> {
  const { prefix, steps, logger } = options;
  const now = options.now ?? Date.now;
  const marker = keptMarkerKey(prefix);
  await redis.set(marker, String(now()), 'NX');
  let chain: Promise<void> = Promise.resolve();

  const recover = async (): Promise<void> => {
    const started = now();
    try {
      if ((await redis.exists(marker)) === 0) {
        logger.warn(
          { lost: ['pending change requests', 'audit log', 'memory samples', 'queued jobs'] },
          'Redis came back empty (restarted without persistence, or flushed): pending requests and the audit log are lost — run Redis with appendonly yes (README, "Faults")',
        );
        await redis.set(marker, String(now()), 'NX');
      }
      const reapplied: Record<string, unknown> = {};
      for (const step of steps) reapplied[step.name] = (await step.run()) ?? 'ok';
      logger.info({ reapplied, ms: now() - started }, 'Redis reconnected: concurrency and job schedulers re-applied');
    } catch (err) {
      // Redis went again mid-way: the next `ready` runs everything again.
      logger.warn({ err: (err as Error).message, reapplied: false }, 'Redis reconnected but dropped again before concurrency and schedulers were re-applied; retrying on the next reconnect');
    }
  };

  redis.on('ready', () => {
    chain = chain.then(recover);
  });
  return { settled: () => chain };
}
