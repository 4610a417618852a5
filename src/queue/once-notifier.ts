/**
 * Slack side effects exactly once per job, across a Redis Sentinel failover. Replication is
 * asynchronous: a job a worker finished on a master that then lost a failover is still waiting on the
 * new master and runs again. So, with Sentinel, each Slack call of a job first claims
 * `<prefix>:once:<queue>:<jobId>:<n>` (the n-th call of that job) and waits until a replica has the
 * claim: a claim already there means the call was made before, and it is skipped; a claim no replica
 * confirms means this master may be about to lose it, and the job fails (retryably) without calling
 * Slack, to run on the new master.
 */
import type { Notifier } from '../slack/notifier.ts';

/** The Redis calls a claim makes (a real ioredis `Redis` fits). */
export interface ClaimRedis {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
  wait(replicas: number, timeoutMs: number): Promise<number>;
}

const PENDING = 'pending';

const CLAIM_TTL_MS = 7 * 86_400_000;
/**
 * Right after a failover the new master has no replica until the sentinels turn the old master into
 * one (a second or two): a claim waits that long for a replica before the job gives up and retries.
 */
const REPLICATION_WAIT_MS = 1_000;
const REPLICATION_WAITS = 10;

export class ReplicationError extends Error {
  constructor(key: string, replicated: number) {
    super(`the claim ${key} reached ${replicated} replica(s): Redis may be failing over; the job runs again on the new master`);
    this.name = 'ReplicationError';
  }
}

/** A notifier for one run of one job whose calls each happen once, however often the job runs. */
export function onceNotifier(inner: Notifier, redis: ClaimRedis, keyPrefix: string, replicas = 1): Notifier {
  let seq = 0;
  // The call's result is kept with the claim, so a run that skips a post still threads under it.
  const once = async <T>(call: () => Promise<T>, skipped: T): Promise<T> => {
    const key = `${keyPrefix}:${seq++}`;
    const claimed = await redis.set(key, PENDING, 'PX', CLAIM_TTL_MS, 'NX');
    if (claimed === null) {
      const kept = await redis.get(key);
      return kept && kept !== PENDING ? (JSON.parse(kept) as { result: T }).result : skipped;
    }
    let replicated = 0;
    for (let i = 0; i < REPLICATION_WAITS && replicated < replicas; i++) replicated = await redis.wait(replicas, REPLICATION_WAIT_MS);
    if (replicated < replicas) {
      // Slack was not called: let the next run claim it afresh.
      await redis.del(key).catch(() => undefined);
      throw new ReplicationError(key, replicated);
    }
    const result = await call();
    await redis.set(key, JSON.stringify({ result: result ?? null }), 'PX', CLAIM_TTL_MS);
    return result;
  };
  return {
    // A skipped post returns no message: callers that thread under it then post in the channel.
    post: (m) => once(() => inner.post(m), { channel: m.channel, ts: '' }),
    postEphemeral: (m) => once(() => inner.postEphemeral(m), undefined),
    update: (m) => once(() => inner.update(m), undefined),
    addReaction: (channel, ts, name) => once(() => inner.addReaction(channel, ts, name), undefined),
    uploadFile: (f) => once(() => inner.uploadFile(f), undefined),
    respond: (url, m) => once(() => inner.respond(url, m), undefined),
  };
}
