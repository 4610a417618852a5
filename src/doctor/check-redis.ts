/**
 * Redis checks: reachable, `appendonly yes` (pending approvals and the audit log survive a restart) and
 * `maxmemory-policy noeviction` (BullMQ's keys must never be evicted). Read from INFO rather than
 * CONFIG GET, which managed Redis services often disable.
 */
import { withDeadline } from '../queue/redis-connections.ts';
import { fail, pass, type CheckGroup, type CheckResult } from './doctor.ts';

/** The part of an ioredis client this needs. */
export interface RedisInfoSource {
  info(section: string): Promise<string>;
}

export function parseRedisInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

export function redisChecks(redis: RedisInfoSource, where: string, timeoutMs = 3_000): CheckGroup {
  return {
    name: 'redis',
    async run(): Promise<CheckResult[]> {
      let info: Record<string, string>;
      try {
        const [persistence, memory, server] = await withDeadline(Promise.all([redis.info('persistence'), redis.info('memory'), redis.info('server')]), timeoutMs, 'INFO');
        info = { ...parseRedisInfo(persistence), ...parseRedisInfo(memory), ...parseRedisInfo(server) };
      } catch (err) {
        return [fail('redis reachable', `Redis at ${where} is not answering: ${err instanceof Error ? err.message : String(err)}`, `start Redis or fix REDIS_URL / REDIS_SENTINELS (now ${where})`)];
      }
      const results = [pass('redis reachable', `Redis ${info.redis_version ?? '?'} at ${where}`)];
      results.push(
        info.aof_enabled === '1'
          ? pass('redis appendonly', 'appendonly yes')
          : fail('redis appendonly', 'appendonly no: a Redis restart loses pending approvals, queued jobs and the audit log', 'set `appendonly yes` in redis.conf (or `redis-cli CONFIG SET appendonly yes` and `CONFIG REWRITE`)'),
      );
      const policy = info.maxmemory_policy ?? 'unknown';
      results.push(
        policy === 'noeviction'
          ? pass('redis maxmemory-policy', 'noeviction')
          : fail('redis maxmemory-policy', `maxmemory-policy ${policy}: under memory pressure Redis may evict queue and approval keys`, 'set `maxmemory-policy noeviction` in redis.conf (or `redis-cli CONFIG SET maxmemory-policy noeviction` and `CONFIG REWRITE`)'),
      );
      return results;
    },
  };
}
