import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { executePlan } from '../src/approvals/execute-plan.ts';
import { FINAL_STATES } from '../src/approvals/types.ts';
import { resolveNode } from '../src/config/config.ts';
import type { JobDefinition } from '../src/jobs/job.ts';
import { formatStep } from '../src/slack/render-request.ts';

export const ExecuteRequestData = z.object({ requestId: z.string().regex(/^[a-z0-9]{6}$/) });
export type ExecuteRequestData = z.infer<typeof ExecuteRequestData>;

/**
 * Runs an approved request on its cluster's queue (one at a time per cluster, across all workers).
 * Safe to run again for the same request: a finished request is left alone, a running one resumes
 * from its journal.
 */
export const executeRequestJob: JobDefinition<ExecuteRequestData> = {
  name: 'execute-request',
  data: ExecuteRequestData,
  async process(data, deps, ctx) {
    const request = await deps.store.get(data.requestId);
    if (!request) throw new UnrecoverableError(`request ${data.requestId} not found`);
    if (FINAL_STATES.includes(request.state)) return { state: request.state, skipped: true };
    if (request.state === 'pending') throw new UnrecoverableError(`request ${data.requestId} is not approved`);
    const cluster = deps.config.clusters.find((c) => c.name === request.cluster);
    if (!cluster) throw new UnrecoverableError(`cluster ${request.cluster} is no longer in the config`);
    const lockMs = request.plan.convergeTimeoutMs * 2 + 5 * 60_000;
    if (!(await deps.store.lockCluster(cluster.name, request.id, lockMs))) {
      // Another change holds the cluster (only possible across misconfigured queues): try again later.
      throw new Error(`cluster ${cluster.name} is busy with request ${(await deps.store.lockHolder(cluster.name)) ?? '?'}`);
    }
    try {
      let running = request;
      if (request.state === 'approved') {
        const moved = await deps.store.transition(request.id, ['approved'], 'running');
        if (!moved.ok) return { skipped: true };
        running = moved.request;
        // The durable record first, then Slack.
        await deps.flow.audit(running, 'started');
        await deps.flow.refresh(running);
      }
      const started = Date.now();
      const outcome = await executePlan(running, {
        runner: deps.runner,
        nodes: cluster.nodes.map((n) => resolveNode(deps.config, cluster, n)),
        journal: deps.store.journal(request.id),
        progress: (step, detail) => deps.flow.thread(running, formatStep(step, detail)),
      });
      const moved = await deps.store.transition(request.id, ['running'], outcome.state, { outcome: outcome.summary });
      const finished = moved.ok ? moved.request : { ...running, state: outcome.state, outcome: outcome.summary };
      await deps.flow.audit(finished, 'finished', { durationMs: Date.now() - started, detail: { outcome, diff: running.plan.diff, commands: outcome.commands } });
      await deps.flow.refresh(finished, outcome);
      deps.metrics?.approvals.inc({ outcome: outcome.state });
      return { state: outcome.state, settledMs: outcome.settledMs };
    } finally {
      await deps.store.unlockCluster(cluster.name, request.id);
    }
  },
};
