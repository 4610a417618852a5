import { describe, expect, it } from 'vitest';
import { onceNotifier, ReplicationError, type ClaimRedis } from '../../../src/queue/once-notifier.ts';
import type { Notifier, OutgoingMessage } from '../../../src/slack/notifier.ts';

class FakeClaims implements ClaimRedis {
  readonly kv = new Map<string, string>();
  replicas = 1;
  waits = 0;
  set(key: string, value: string, _px: 'PX', _ms: number, nx?: 'NX'): Promise<'OK' | null> {
    if (nx && this.kv.has(key)) return Promise.resolve(null);
    this.kv.set(key, value);
    return Promise.resolve('OK');
  }
  get(key: string) { return Promise.resolve(this.kv.get(key) ?? null); }
  del(key: string) { return Promise.resolve(this.kv.delete(key) ? 1 : 0); }
  wait() { this.waits++; return Promise.resolve(this.replicas); }
}

function recorder() {
  const posts: OutgoingMessage[] = [];
  const notifier = {
    post: (m: OutgoingMessage) => (posts.push(m), Promise.resolve({ channel: m.channel, ts: `1.${posts.length}` })),
    update: () => Promise.resolve(),
  } as unknown as Notifier;
  return { posts, notifier };
}

describe('onceNotifier (Slack calls once per job across a Sentinel failover)', () => {
  it('a job run twice posts once, and the second run gets the first post back to thread under', async () => {
    const redis = new FakeClaims();
    const { posts, notifier } = recorder();
    const first = await onceNotifier(notifier, redis, 'p:once:reads:7').post({ channel: 'C1', text: 'status' });
    const again = await onceNotifier(notifier, redis, 'p:once:reads:7').post({ channel: 'C1', text: 'status' });
    expect(posts).toHaveLength(1);
    expect(again).toEqual(first);
    expect(await onceNotifier(notifier, redis, 'p:once:reads:8').post({ channel: 'C1', text: 'other job' })).toEqual({ channel: 'C1', ts: '1.2' });
  });

  it('a claim no replica confirms: Slack is not called, the claim is dropped, the next run posts', async () => {
    const redis = new FakeClaims();
    redis.replicas = 0;
    const { posts, notifier } = recorder();
    await expect(onceNotifier(notifier, redis, 'p:once:reads:9').post({ channel: 'C1', text: 'x' })).rejects.toBeInstanceOf(ReplicationError);
    expect(redis.waits).toBe(10);
    expect(posts).toEqual([]);
    redis.replicas = 1;
    await onceNotifier(notifier, redis, 'p:once:reads:9').post({ channel: 'C1', text: 'x' });
    expect(posts).toHaveLength(1);
  });

  it('counts calls in order: the n-th call of a rerun matches the n-th of the first run', async () => {
    const redis = new FakeClaims();
    const { posts, notifier } = recorder();
    const run = async () => {
      const n = onceNotifier(notifier, redis, 'p:once:reads:3');
      await n.post({ channel: 'C1', text: 'one' });
      await n.post({ channel: 'C1', text: 'two' });
    };
    await run();
    await run();
    expect(posts.map((p) => p.text)).toEqual(['one', 'two']);
  });
});
