/** Small recording fakes for unit tests of the command side. */
import type { JobRequest } from '../../src/commands/command.ts';
import type { JobQueue } from '../../src/queue/job-queue.ts';
import type { UserGroupDirectory } from '../../src/access/access-control.ts';

export class RecordingQueue implements JobQueue {
  readonly jobs: JobRequest[] = [];
  async enqueue(request: JobRequest): Promise<{ id: string }> {
    this.jobs.push(request);
    return { id: String(this.jobs.length) };
  }
}

export class FakeDirectory implements UserGroupDirectory {
  readonly lookups: string[] = [];
  constructor(private readonly groups: Record<string, string[]> = {}) {}
  async membersOf(groupId: string): Promise<string[]> {
    this.lookups.push(groupId);
    return this.groups[groupId] ?? [];
  }
}
