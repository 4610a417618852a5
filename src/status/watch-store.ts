/**
 * The watch's memory in Redis: the last warning set, so a restart or another worker does not repeat
 * (or miss) a post. A value that no longer parses counts as no state: the next round starts over.
 */
import { WatchState } from './watch.ts';

/** The Redis commands used (an ioredis client fits). */
export interface WatchRedis {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
}

export interface WatchStore {
  load(): Promise<WatchState | undefined>;
  save(state: WatchState): Promise<void>;
}

export function createWatchStore(redis: WatchRedis, prefix: string): WatchStore {
  const key = `${prefix}:status-watch:last`;
  return {
    async load() {
      const raw = await redis.get(key);
      if (raw === null) return undefined;
      try {
        const parsed = WatchState.safeParse(JSON.parse(raw));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    async save(state) {
      await redis.set(key, JSON.stringify(state));
    },
  };
}
