/**
 * Runs queued jobs: looks up the job file by name, validates its data with the job's zod schema
 * (invalid or unknown → UnrecoverableError, never retried), times it and records the outcome.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { AnyJobDefinition, JobDeps } from '../jobs/job.ts';
import { isVipbotError } from '../errors.ts';
import { ReplyTarget } from '../jobs/reply-target.ts';
import { READ_QUEUE } from './job-queue.ts';

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
}

export function createJobWorker(jobs: readonly AnyJobDefinition[], deps: JobDeps, options: WorkerOptions): Worker {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const worker = new Worker(
    options.queueName ?? READ_QUEUE,
    async (job: Job, _token?: string, signal?: AbortSignal) => {
      const definition = byName.get(job.name);
      if (!definition) throw new UnrecoverableError(`no job type "${job.name}"`);
      const parsed = definition.data.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`invalid data for job "${job.name}": ${parsed.error.message}`);
      const log = deps.logger.child({ jobId: job.id, job: job.name });
      const end = deps.metrics?.jobDuration.startTimer({ job: job.name });
      try {
        const result: unknown = await definition.process(parsed.data, deps, {
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
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 8,
      autorun: true,
      ...(options.changeQueue ? { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 1 } : {}),
    },
  );
  worker.on('error', (err) => deps.logger.error({ err }, 'worker error'));
  // Nothing is swallowed into a log line: when a job gives up, the person who asked is told why.
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    const reply = ReplyTarget.safeParse((job.data as { reply?: unknown }).reply);
    if (!final || !reply.success) return;
    deps.notifier
      .postEphemeral({ channel: reply.data.channel, user: reply.data.userId, text: `:x: \`${job.name}\` did not finish: ${err.message}` })
      .catch((notifyErr: unknown) => deps.logger.error({ err: notifyErr, jobId: job.id }, 'could not tell the requester about a failed job'));
  });
  return worker;
}
