/**
 * Queues (BullMQ on Redis). Read-only jobs (status, memory) share one queue; changes to a cluster go
 * to that cluster's own queue so they can be serialised per cluster (issue 3).
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { JobRequest } from '../commands/command.ts';

export const READ_QUEUE = 'reads';

/** The change queue of one cluster (BullMQ queue names cannot contain ':'). */
export function changeQueueName(cluster: string): string {
  return `changes-${cluster}`;
}

/** What the command side needs from the queue. */
export interface JobQueue {
  enqueue(request: JobRequest): Promise<{ id: string }>;
}

export interface QueueOptions {
  connection: ConnectionOptions;
  prefix: string;
}

export class BullJobQueue implements JobQueue {
  readonly queue: Queue;

  constructor(options: QueueOptions, name = READ_QUEUE) {
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
    const job = await this.queue.add(request.name, request.data, request.jobId ? { jobId: request.jobId } : {});
    return { id: String(job.id) };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
