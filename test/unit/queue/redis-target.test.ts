import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../../src/env.ts';
import { describeRedisTarget, redisTargetFromEnv } from '../../../src/queue/redis-connections.ts';

describe('Redis target from the environment (REDIS_URL or Sentinel)', () => {
  it('REDIS_URL alone: one server, described without its password', () => {
    const target = redisTargetFromEnv({ REDIS_URL: 'redis://:secret@198.51.100.5:6380/0' });
    expect(target).toEqual({ kind: 'url', url: 'redis://:secret@198.51.100.5:6380/0' });
    expect(describeRedisTarget(target)).toBe('198.51.100.5:6380');
  });

  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME: the sentinels, the master name and both passwords', () => {
    const target = redisTargetFromEnv({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'vipbot',
      REDIS_PASSWORD: 'p1',
      REDIS_SENTINEL_PASSWORD: 'p2',
    });
    expect(target).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }, { host: '::1', port: 26381 }],
      name: 'vipbot', password: 'p1', sentinelPassword: 'p2',
    });
    expect(describeRedisTarget(target)).toBe('master vipbot via sentinels 127.0.0.1:26379,127.0.0.1:26380,::1:26381');
  });

  it.each([
    [{ REDIS_SENTINELS: '127.0.0.1:26379' }, ['REDIS_SENTINEL_NAME: required with REDIS_SENTINELS: the master name the sentinels monitor']],
    [{ REDIS_SENTINEL_NAME: 'vipbot' }, ['REDIS_SENTINELS: required with REDIS_SENTINEL_NAME: host:port of each sentinel, comma-separated']],
    [{ REDIS_SENTINELS: '127.0.0.1', REDIS_SENTINEL_NAME: 'vipbot' }, ['REDIS_SENTINELS: use host:port of each sentinel, comma-separated (198.51.100.5:26379,198.51.100.6:26379)']],
  ])('names the setting that is missing or wrong: %j', (env, expected) => {
    expect(parseEnv(env, { slack: false }).problems.map((p) => `${p.setting}: ${p.message}`)).toEqual(expected);
  });
});
