/**
 * Memory samples in Redis: one compact buffer per node per UTC day (`storage-codec.ts`) at
 * `<prefix>:mem:<node>:<dayIndex>`, expiring `memory.retention` after the end of its day, so retention
 * is Redis' own expiry and a time-range query reads only the days it covers.
 *
 * The codec encodes each record as a difference from the one before, so a sample cannot simply be
 * APPENDed: a write reads the day, adds the sample and writes it back under WATCH, retrying when
 * another worker wrote the same day in between. WATCH belongs to a connection, so writes go through
 * a dedicated connection, one at a time.
 */
import type { Redis } from 'ioredis';
import { isVipbotError } from '../errors.ts';
import { sortSamples, type MemorySample } from './sample.ts';
import { appendToDay, dayIndexesInRange, dayIndexOf, decodeDay, encodeDay, generateSyntheticYear } from './storage-codec.ts';

const DAY_MS = 86_400_000;
/**
 * WATCH conflicts need another writer on the same node and day at the same moment (overlapping rounds):
 * rare. A short random pause after a conflict keeps two busy writers from losing to each other forever.
 */
const MAX_WRITE_ATTEMPTS = 30;

/** What jobs need from the store (JobDeps.memory.store). */
export interface MemorySampleStore {
  /** Stores samples (any nodes, any days); samples already past retention are skipped. */
  append(samples: readonly MemorySample[]): Promise<MemoryAppendResult>;
  /** Samples of each node in [from, to], oldest first (nodes without samples map to []). */
  query(nodes: readonly string[], from: number, to: number): Promise<Map<string, MemorySample[]>>;
}

export interface MemoryAppendResult {
  stored: number;
  /** Older than memory.retention: they would expire at once. */
  expired: number;
  /** Day keys written. */
  days: number;
}

export interface MemoryStoreOptions {
  retentionMs: number;
  now?: () => number;
  /** Called for a day that cannot be decoded (another codec version, damage): it is skipped on read, replaced on write. */
  onCorruptDay?: (key: string, err: unknown) => void;
  /** Called with the store's own (WATCH) connection when it is made, so its errors are followed. */
  onConnection?: (connection: Redis) => void;
}

export class MemoryStore implements MemorySampleStore {
  private writer?: Redis;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: MemoryStoreOptions,
  ) {}

  /** `<prefix>:mem:<node>:<dayIndex>` (node names cannot contain `:`, see NAME_PATTERN). */
  keyFor(node: string, day: number): string {
    return `${this.prefix}:mem:${node}:${day}`;
  }

  /** Expiry of a day's key: retention after the day ends. */
  expiresAt(day: number): number {
    return (day + 1) * DAY_MS + this.options.retentionMs;
  }

  async append(samples: readonly MemorySample[]): Promise<MemoryAppendResult> {
    const now = (this.options.now ?? Date.now)();
    const groups = new Map<string, { node: string; day: number; samples: MemorySample[] }>();
    let expired = 0;
    for (const s of samples) {
      const day = dayIndexOf(Math.round(s.t / 1000) * 1000);
      if (this.expiresAt(day) <= now) {
        expired += 1;
        continue;
      }
      const key = this.keyFor(s.node, day);
      const group = groups.get(key) ?? { node: s.node, day, samples: [] };
      group.samples.push(s);
      groups.set(key, group);
    }
    // One write at a time on the WATCH connection (WATCH state is per connection).
    const run = this.writing.then(async () => {
      for (const [key, g] of groups) await this.writeDay(key, g.node, g.day, g.samples);
    });
    this.writing = run.catch(() => undefined);
    await run;
    return { stored: samples.length - expired, expired, days: groups.size };
  }

  private async writeDay(key: string, node: string, day: number, samples: readonly MemorySample[]): Promise<void> {
    if (!this.writer) {
      this.writer = this.redis.duplicate();
      this.options.onConnection?.(this.writer);
    }
    const w = this.writer;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      await w.watch(key);
      const existing = await w.getBuffer(key);
      let buf: Buffer;
      try {
        buf = appendToDay(existing ?? undefined, samples, node);
      } catch (err) {
        if (!isVipbotError(err)) throw err;
        // A day we cannot read is lost anyway; start it again rather than stop sampling for good.
        this.options.onCorruptDay?.(key, err);
        buf = encodeDay(samples);
      }
      const result = await w.multi().set(key, buf).pexpireat(key, this.expiresAt(day)).exec();
      if (result !== null) return;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * Math.min(attempt, 10)));
    }
    await w.unwatch();
    throw new Error(`could not write ${key}: it changed under every one of ${MAX_WRITE_ATTEMPTS} attempts`);
  }

  async query(nodes: readonly string[], from: number, to: number): Promise<Map<string, MemorySample[]>> {
    const days = dayIndexesInRange(from, to);
    const out = new Map<string, MemorySample[]>();
    if (nodes.length === 0) return out;
    const keys = nodes.flatMap((node) => days.map((day) => this.keyFor(node, day)));
    const values = await this.redis.mgetBuffer(...keys);
    nodes.forEach((node, n) => {
      const samples: MemorySample[] = [];
      days.forEach((_day, d) => {
        const buf = values[n * days.length + d];
        if (!buf) return;
        try {
          for (const s of decodeDay(buf, node)) if (s.t >= from && s.t <= to) samples.push(s);
        } catch (err) {
          this.options.onCorruptDay?.(keys[n * days.length + d]!, err);
        }
      });
      out.set(node, sortSamples(samples));
    });
    return out;
  }

  /** Closes the write connection (the shared one belongs to the caller). */
  async close(): Promise<void> {
    const w = this.writer;
    this.writer = undefined;
    if (w) await w.quit().catch(() => w.disconnect());
  }
}

/** What a synthetic year of one host costs in Redis. */
export interface RedisHostYear {
  samples: number;
  keys: number;
  /** Sum of the buffers' lengths (STRLEN). */
  payloadBytes: number;
  /** Sum of `MEMORY USAGE <key> SAMPLES 0`: payload plus Redis' per-key and expiry overhead. */
  redisBytes: number;
  bytesPerSample: number;
  /** redisBytes × 200 hosts, in MiB: the "tens of MB" question. */
  mibFor200Hosts: number;
}

/**
 * Stores a year of hourly samples of one synthetic host under `<prefix>:mem:<bench node>:*` (with the
 * real store, so the writes, keys and expiry are the production ones), measures what Redis holds for
 * them, and deletes them again. For `npm run bench` and the integration tests.
 */
export async function measureRedisBytesPerHostYear(redis: Redis, prefix: string, options: { sampleEveryMs?: number } = {}): Promise<RedisHostYear> {
  const node = `bench-year-${Math.random().toString(36).slice(2, 8)}`;
  const now = Date.now();
  const store = new MemoryStore(redis, prefix, { retentionMs: 400 * DAY_MS });
  const samples = generateSyntheticYear({ node, start: now - 365 * DAY_MS, ...(options.sampleEveryMs ? { sampleEveryMs: options.sampleEveryMs } : {}) });
  const keys: string[] = [];
  try {
    await store.append(samples);
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:mem:${node}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    let payloadBytes = 0;
    let redisBytes = 0;
    for (const key of keys) {
      payloadBytes += await redis.strlen(key);
      redisBytes += Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
    }
    return {
      samples: samples.length,
      keys: keys.length,
      payloadBytes,
      redisBytes,
      bytesPerSample: redisBytes / Math.max(1, samples.length),
      mibFor200Hosts: (redisBytes * 200) / (1024 * 1024),
    };
  } finally {
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    await store.close();
  }
}
