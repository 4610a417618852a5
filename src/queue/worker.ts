/**
 * Runs queued jobs: looks up the job file by name, validates its data with the job's zod schema
 * (invalid or unknown → UnrecoverableError, never retried, logged and told), times it and records the
 * outcome. A job whose add the command side reported as failed (a tombstoned `enqueueToken`, see
 * job-queue.ts) is dropped unrun: its requester was told nothing was queued.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { AnyJobDefinition, JobDeps } from '../jobs/job.ts';
import { isVipbotError } from '../errors.ts';
import { ReplyTarget } from '../jobs/reply-target.ts';
import { ENQUEUE_TOKEN_FIELD, READ_QUEUE, refusedEnqueueKey } from './job-queue.ts';
import type { RedisHealth } from './redis-health.ts';
import { onceNotifier, type ClaimRedis } from './once-notifier.ts';

/** Where the worker looks for tombstones of refused adds (a real ioredis `Redis` fits). */
export interface TombstoneReader {
  exists(key: string): Promise<number>;
}

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  queueName?: string;
  concurrency?: number;
  /**
   * A change queue: a killed worker's job is noticed quickly (short lock, frequent stall checks) and
   * handed to another worker once, where the journal lets it continue without applying twice.
   */
  changeQueue?: boolean;
  /** Connection errors go here (logged once per outage) instead of one log line each. */
  health?: Pick<RedisHealth, 'noteError'>;
  tombstones?: TombstoneReader;
  /** Redis Sentinel: Slack calls once per job across a failover (claims confirmed by a replica). */
  exactlyOnce?: { redis: ClaimRedis };
}

/** The parts of a BullMQ Job the processor reads (a real `Job` fits). */
export type RunnableJob = Pick<Job, 'name' | 'id' | 'data' | 'attemptsMade'>;

/** Most issues listed in a rejection (the log has all of them). */
const ISSUES_SHOWN = 3;

/** The processor a Worker runs: tombstone check, schema check, then the job's own `process`. */
export function createJobProcessor(jobs: readonly AnyJobDefinition[], deps: JobDeps, options: Pick<WorkerOptions, 'prefix' | 'tombstones' | 'exactlyOnce' | 'queueName'>) {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  return async (job: RunnableJob, signal?: AbortSignal): Promise<unknown> => {
    const log = deps.logger.child({ jobId: job.id, job: job.name });
    const { [ENQUEUE_TOKEN_FIELD]: token, ...data } = (typeof job.data === 'object' && job.data !== null ? job.data : {}) as Record<string, unknown>;
    if (typeof token === 'string' && options.tombstones && (await options.tombstones.exists(refusedEnqueueKey(options.prefix, token))) > 0) {
      log.warn('job dropped unrun: Redis confirmed its add too late and the requester was told nothing was queued');
      deps.metrics?.jobs.inc({ job: job.name, state: 'dropped' });
      return { dropped: 'enqueue_refused' };
    }
    const definition = byName.get(job.name);
    if (!definition) {
      log.error('job dropped: no job type of that name (a newer or older vipbot queued it?)');
      throw new UnrecoverableError(`vipbot has no job type "${job.name}" — a bot and worker of different versions share this Redis?`);
    }
    const parsed = definition.data.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues;
      const told = ReplyTarget.safeParse(data.reply).success;
      log.error({ issues, told }, 'job data rejected by its schema; not run');
      const shown = issues.slice(0, ISSUES_SHOWN).map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
      const more = issues.length > ISSUES_SHOWN ? ` (+${issues.length - ISSUES_SHOWN} more)` : '';
      throw new UnrecoverableError(`its job data was not valid (${shown}${more}), so it was not run — a vipbot bug: please report it with the bot's log`);
    }
    const end = deps.metrics?.jobDuration.startTimer({ job: job.name });
    try {
      // With Sentinel, each Slack call of the job happens once however often the job runs (once-notifier.ts).
      const once = options.exactlyOnce;
      const runDeps = once ? { ...deps, notifier: onceNotifier(deps.notifier, once.redis, `${options.prefix}:once:${options.queueName ?? READ_QUEUE}:${String(job.id)}`) } : deps;
      const result: unknown = await definition.process(parsed.data, runDeps, {
        jobId: String(job.id),
        attempt: job.attemptsMade + 1,
        signal: signal ?? new AbortController().signal,
        log,
      });
      deps.metrics?.jobs.inc({ job: job.name, state: 'completed' });
      return result;
    } catch (err) {
      deps.metrics?.jobs.inc({ job: job.name, state: 'failed' });
      log.error({ err }, 'job failed');
      // A coded error is a decision (refused, not found), not a glitch: retrying would not help.
      if (isVipbotError(err)) throw new UnrecoverableError(err.toUserText());
      throw err;
    } finally {
      end?.();
    }
  };
}

/** When a job gives up for good, the person who asked is told why (nothing swallowed into a log). */
export function tellRequesterOfFailure(job: Pick<Job, 'name' | 'id' | 'data' | 'attemptsMade' | 'opts'>, err: Error, deps: Pick<JobDeps, 'notifier' | 'logger'>): void {
  const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
  const reply = ReplyTarget.safeParse((job.data as { reply?: unknown } | undefined)?.reply);
  if (!final || !reply.success) return;
  deps.notifier
    .postEphemeral({ channel: reply.data.channel, user: reply.data.userId, text: `:x: \`${job.name}\` did not finish: ${err.message}` })
    .catch((notifyErr: unknown) => deps.logger.error({ err: notifyErr, jobId: job.id }, 'could not tell the requester about a failed job'));
}

export function createJobWorker(jobs: readonly AnyJobDefinition[], deps: JobDeps, options: WorkerOptions): Worker {
  const processJob = createJobProcessor(jobs, deps, options);
  const worker = new Worker(
    options.queueName ?? READ_QUEUE,
    (job: Job, _token?: string, signal?: AbortSignal) => processJob(job, signal),
    {
      connection: options.connection,
      prefix: options.prefix,
      // Recorded on each job as processedBy: which process ran it (scale-out, post-mortems).
      name: `${hostname()}:${process.pid}`,
      concurrency: options.concurrency ?? 8,
      autorun: true,
      ...(options.changeQueue ? { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 1 } : {}),
    },
  );
  worker.on('error', (err) => (options.health ? options.health.noteError('worker', err) : deps.logger.error({ err }, 'worker error')));
  worker.on('failed', (job, err) => {
    if (job) tellRequesterOfFailure(job, err, deps);
  });
  return worker;
}
