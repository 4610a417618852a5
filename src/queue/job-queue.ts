/**
 * Queues (BullMQ on Redis). Read-only jobs (status, memory) share one queue; changes to a cluster go
 * to that cluster's own queue so they can be serialised per cluster (issue 3).
 *
 * On the command side a queue fails fast (SPEC §8): an add Redis does not confirm within the bound is a
 * coded `queue_unavailable` refusal, and nothing is left to run later. Redis refused or disconnected:
 * the fail-fast connection sent nothing. Redis stalled (the add was sent but not answered): the add
 * may still land when Redis wakes, so the job carries a one-off `enqueueToken` and a refusal leaves a
 * tombstone for that token, written on the same connection right behind the add — Redis applies the
 * two in order, before any worker can pick the job, and the worker drops a job whose token is
 * tombstoned (see worker.ts). The token, not the jobId, is tombstoned: a later add with the same
 * jobId (an approval tried again) is a new attempt and must run.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { JobRequest } from '../commands/command.ts';
import { VipbotError } from '../errors.ts';

export const READ_QUEUE = 'reads';

/** The change queue of one cluster (BullMQ queue names cannot contain ':'). */
export function changeQueueName(cluster: string): string {
  return `changes-${cluster}`;
}

/** What the command side needs from the queue. */
export interface JobQueue {
  enqueue(request: JobRequest): Promise<{ id: string }>;
}

/** The Redis calls a fail-fast queue makes besides BullMQ's (a real ioredis `Redis` fits). */
export interface FailFastRedis {
  readonly status: string;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  /** WAIT numreplicas timeout: how many replicas have every write so far (used with `minReplicas`). */
  wait?(replicas: number, timeoutMs: number): Promise<number>;
}

export interface FailFastOptions {
  /** The command-side connection (the same one the queue runs on). */
  redis: FailFastRedis;
  /** `host:port`, named in the refusal. */
  address: string;
  /** The whole add gets this long (default 600 ms: the ack is due within 1 s). */
  timeoutMs?: number;
  /**
   * Redis Sentinel: an add counts only once this many replicas have it (WAIT). Replication is
   * asynchronous; an add that reached only a master about to lose a failover would vanish after the
   * user was told it was queued. Unconfirmed, it is refused and tombstoned like a stalled one.
   */
  minReplicas?: number;
}

export interface QueueOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** Command side: refuse within the bound instead of waiting for Redis. */
  failFast?: FailFastOptions;
}

/** Key of the tombstone a refused add leaves for its token. */
export function refusedEnqueueKey(prefix: string, token: string): string {
  return `${prefix}:enqueue-refused:${token}`;
}

/** Job data field carrying the add's one-off token. */
export const ENQUEUE_TOKEN_FIELD = 'enqueueToken';
const TOMBSTONE_TTL_MS = 7 * 86_400_000;
const DEFAULT_ENQUEUE_TIMEOUT_MS = 600;
/** WAIT bound for a Sentinel add: replicas on a healthy link answer in well under a millisecond. */
const REPLICATION_WAIT_MS = 300;
/**
 * How long an add is held back (a delayed job) until Redis has confirmed it: past the add's bound and
 * the tombstone behind it — and with Sentinel past a failover's reconfiguration, since the tombstone
 * may have to wait for the connection to find the new master.
 */
const HOLD_MS = 2_000;
const SENTINEL_HOLD_MS = 10_000;

class NotReplicatedError extends Error {}

/**
 * The tombstone goes right behind the add on the same connection. When that connection just died (a
 * failover kills the old master's clients), it is written once the connection is back, which is in
 * time: the job is held for `holdMs` before any worker may start it.
 */
async function leaveTombstone(redis: FailFastRedis, key: string, holdMs: number, minReplicas?: number): Promise<void> {
  const deadline = Date.now() + holdMs - 250;
  for (;;) {
    try {
      await redis.set(key, '1', 'PX', TOMBSTONE_TTL_MS);
      // With Sentinel the tombstone counts once a replica has it: written to a master that is losing a
      // failover it would vanish, while the add may already be on the new master. Written again then.
      if (!minReplicas || ((await redis.wait?.(minReplicas, REPLICATION_WAIT_MS)) ?? 0) >= minReplicas) return;
      throw new NotReplicatedError(`tombstone ${key} not on a replica yet`);
    } catch {
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The BullMQ call enqueue makes (a real `Queue` fits; unit tests pass a fake). */
export interface QueueAdd {
  add(name: string, data: unknown, opts?: JobsOptions): Promise<{ id?: string | undefined; promote?: () => Promise<void> }>;
}

/**
 * Adds a job or throws `queue_unavailable`: refused at once when the connection is not ready, and
 * after `timeoutMs` when Redis does not confirm; a sent-but-unconfirmed add is tombstoned.
 */
export async function addOrRefuse(queue: QueueAdd, prefix: string, failFast: FailFastOptions, name: string, data: Record<string, unknown>, opts: JobsOptions): Promise<{ id: string }> {
  const refusal = (cause?: unknown): VipbotError => new VipbotError(
    'queue_unavailable',
    cause instanceof NotReplicatedError
      ? `queue unavailable — Redis at ${failFast.address} is failing over (the add reached no replica), so nothing was queued`
      : `queue unavailable — Redis at ${failFast.address} is not answering, so nothing was queued`,
    'try again when Redis is back (operators: check that Redis is running and reachable)',
    { cause },
  );
  if (failFast.redis.status !== 'ready') throw refusal(new Error(`connection ${failFast.redis.status}`));
  const token = randomUUID();
  const timeoutMs = failFast.timeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    // After a stretch without CPU, timers run before the socket is read: give the reply that may be
    // waiting there one turn of I/O first, or a busy bot would refuse adds Redis already confirmed.
    timer = setTimeout(() => setImmediate(() => resolve('timeout')), timeoutMs);
  });
  // The job waits (delayed) until Redis confirmed it (with Sentinel: until a replica has it), and is
  // then released: a refusal's tombstone always lands before any worker can start it — even when Redis
  // ran the add and stalled before answering. A job that is delayed anyway (an expiry) keeps its delay.
  const holdMs = failFast.minReplicas ? SENTINEL_HOLD_MS : HOLD_MS;
  const hold = !(opts.delay && opts.delay > 0);
  const added = queue.add(name, { ...data, [ENQUEUE_TOKEN_FIELD]: token }, hold ? { ...opts, delay: holdMs } : opts);
  try {
    const result = await Promise.race([added, timedOut]);
    if (result === 'timeout') throw new Error(`Redis did not confirm the add within ${timeoutMs} ms`);
    if (failFast.minReplicas) {
      const replicated = (await failFast.redis.wait?.(failFast.minReplicas, REPLICATION_WAIT_MS)) ?? 0;
      if (replicated < failFast.minReplicas) throw new NotReplicatedError(`the add reached ${replicated} of ${failFast.minReplicas} replica(s) within ${REPLICATION_WAIT_MS} ms`);
    }
    // Confirmed: release it now. Should that fail, it still runs when the hold ends.
    if (hold) await result.promote?.().catch(() => undefined);
    return { id: String(result.id) };
  } catch (err) {
    // The add may be waiting in Redis's input: the tombstone goes right behind it. Its own failure is
    // moot (nothing was sent either, or Redis will read both).
    added.catch(() => undefined);
    void leaveTombstone(failFast.redis, refusedEnqueueKey(prefix, token), holdMs, failFast.minReplicas);
    throw refusal(err);
  } finally {
    clearTimeout(timer);
  }
}

export class BullJobQueue implements JobQueue {
  readonly queue: Queue;

  constructor(private readonly options: QueueOptions, name = READ_QUEUE) {
    this.queue = new Queue(name, {
      connection: options.connection,
      prefix: options.prefix,
      defaultJobOptions: {
        // Read jobs are cheap to redo; results are posted once they run.
        attempts: 2,
        backoff: { type: 'fixed', delay: 500 },
        removeOnComplete: { count: 500, age: 86_400 },
        removeOnFail: { count: 1000, age: 7 * 86_400 },
      },
    });
  }

  async enqueue(request: JobRequest): Promise<{ id: string }> {
    return this.add(request.name, request.data, request.jobId ? { jobId: request.jobId } : {});
  }

  /** Adds one job; on a fail-fast queue, within the bound or as a `queue_unavailable` refusal. */
  async add(name: string, data: Record<string, unknown>, opts: JobsOptions = {}): Promise<{ id: string }> {
    if (this.options.failFast) return addOrRefuse(this.queue, this.options.prefix, this.options.failFast, name, data, opts);
    const job = await this.queue.add(name, data, opts);
    return { id: String(job.id) };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
