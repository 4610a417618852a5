import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AnyJobDefinition, JobDeps } from '../../../src/jobs/job.ts';
import { ENQUEUE_TOKEN_FIELD, refusedEnqueueKey } from '../../../src/queue/job-queue.ts';
import { createJobProcessor, tellRequesterOfFailure } from '../../../src/queue/worker.ts';
import { captureLogger } from '../../support/capture-logger.ts';

const REPLY = { channel: 'C0VIPOPS', userId: 'U0OPER1' };

function setup(tombstoned: string[] = []) {
  const { logger, lines } = captureLogger();
  const ran: unknown[] = [];
  const ephemerals: Array<{ channel: string; user: string; text: string }> = [];
  const job: AnyJobDefinition = {
    name: 'status',
    // Strict, as some job schemas are: the enqueue token must not reach it.
    data: z.object({ target: z.object({ kind: z.literal('all') }), reply: z.object({ channel: z.string(), userId: z.string() }) }).strict(),
    process: (data: unknown) => {
      ran.push(data);
      return Promise.resolve('ran');
    },
  };
  const notifier = { postEphemeral: (m: { channel: string; user: string; text: string }) => (ephemerals.push(m), Promise.resolve()) };
  const deps = { logger, notifier } as unknown as JobDeps;
  const tombstones = { exists: (key: string) => Promise.resolve(tombstoned.includes(key) ? 1 : 0) };
  const processJob = createJobProcessor([job], deps, { prefix: 'vb', tombstones });
  return { processJob, deps, lines, ran, ephemerals };
}

describe('job processor', () => {
  it('runs a job with the enqueue token taken out of its data', async () => {
    const { processJob, ran } = setup();
    const data = { target: { kind: 'all' }, reply: REPLY, [ENQUEUE_TOKEN_FIELD]: 't1' };
    expect(await processJob({ name: 'status', id: '1', data, attemptsMade: 0 })).toBe('ran');
    expect(ran).toEqual([{ target: { kind: 'all' }, reply: REPLY }]);
  });

  it('drops unrun a job whose add the requester was told had failed (tombstoned token)', async () => {
    const { processJob, ran, lines } = setup([refusedEnqueueKey('vb', 't2')]);
    const data = { target: { kind: 'all' }, reply: REPLY, [ENQUEUE_TOKEN_FIELD]: 't2' };
    expect(await processJob({ name: 'status', id: '2', data, attemptsMade: 0 })).toEqual({ dropped: 'enqueue_refused' });
    expect(ran).toEqual([]);
    expect(lines.map((l) => [l.level, l.jobId, l.msg])).toEqual([
      ['warn', '2', 'job dropped unrun: Redis confirmed its add too late and the requester was told nothing was queued'],
    ]);
  });

  it('data the schema rejects is logged with the zod issues and the requester is told; never silent', async () => {
    const { processJob, deps, lines, ran, ephemerals } = setup();
    const job = { name: 'status', id: '3', data: { target: { kind: 'everything' }, reply: REPLY }, attemptsMade: 0, opts: {} };
    const err = await processJob(job).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(ran).toEqual([]);
    expect(lines).toEqual([{
      level: 'error', jobId: '3', job: 'status', told: true, msg: 'job data rejected by its schema; not run',
      issues: [{ code: 'invalid_value', values: ['all'], path: ['target', 'kind'], message: 'Invalid input: expected "all"' }],
    }]);
    // What the Worker's 'failed' event then does with that error.
    tellRequesterOfFailure(job, err as Error, deps);
    expect(ephemerals).toEqual([{
      channel: 'C0VIPOPS', user: 'U0OPER1',
      text: ':x: `status` did not finish: its job data was not valid (target.kind: Invalid input: expected "all"), so it was not run — a vipbot bug: please report it with the bot\'s log',
    }]);
  });

  it('rejected data without a readable reply target is still logged, saying nobody could be told', async () => {
    const { processJob, lines } = setup();
    await processJob({ name: 'status', id: '4', data: { target: { kind: 'all' } }, attemptsMade: 0 }).catch(() => undefined);
    expect(lines.map((l) => [l.level, l.told, l.msg])).toEqual([['error', false, 'job data rejected by its schema; not run']]);
  });
});
