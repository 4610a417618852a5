import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { buildPlan } from '../src/approvals/plan.ts';
import { Action, type ChangeRequest } from '../src/approvals/types.ts';
import { findNode } from '../src/config/config.ts';
import type { JobDefinition } from '../src/jobs/job.ts';
import { ReplyTarget } from '../src/jobs/reply-target.ts';
import { tellRequester } from '../src/jobs/tell-requester.ts';
import { renderRefusal } from '../src/slack/render-request.ts';

export const PlanRequestData = z.object({
  action: Action,
  cluster: z.string(),
  node: z.string(),
  vip: z.string().optional(),
  force: z.boolean().default(false),
  reply: ReplyTarget,
});
export type PlanRequestData = z.infer<typeof PlanRequestData>;

/**
 * Builds the plan from the live hosts; a refusal goes privately to the requester, a plan is posted
 * as the approval message.
 */
export const planRequestJob: JobDefinition<PlanRequestData> = {
  name: 'plan-request',
  data: PlanRequestData,
  async process(data, deps, ctx) {
    const resolved = findNode(deps.config, data.node);
    if (!resolved || resolved.cluster.name !== data.cluster) throw new UnrecoverableError(`node ${data.node} is not in cluster ${data.cluster}`);
    const now = deps.now?.() ?? Date.now();
    const facts = await deps.status.collectFacts(data.cluster, ctx.signal);
    const plan = buildPlan({ action: data.action, cluster: resolved.cluster, node: data.node, ...(data.vip ? { vip: data.vip } : {}), force: data.force, facts, settings: resolved.keepalived, now: new Date(now) });
    if (plan.refusal) {
      await tellRequester(deps.notifier, data.reply, renderRefusal(plan), ctx.log);
      await deps.audit.append({ event: 'refused', requestId: '-', action: data.action, cluster: data.cluster, node: data.node, ...(data.vip ? { vip: data.vip } : {}), state: 'refused', requestedBy: data.reply.userId, summary: plan.refusal, at: now, detail: { checks: plan.checks } });
      return { refused: plan.refusal };
    }
    let request: ChangeRequest | undefined;
    for (let i = 0; i < 5 && !request; i++) {
      const candidate: ChangeRequest = {
        id: deps.store.newId(),
        action: data.action,
        cluster: data.cluster,
        node: data.node,
        ...(data.vip ? { vip: data.vip } : {}),
        force: data.force,
        state: 'pending',
        requestedBy: data.reply.userId,
        channel: data.reply.channel,
        createdAt: now,
        expiresAt: now + deps.config.access.approvalTimeout,
        plan,
      };
      if (await deps.store.create(candidate)) request = candidate;
    }
    if (!request) throw new Error('could not allocate a request id');
    const announced = await deps.flow.announce(request);
    ctx.log.info({ requestId: announced.id, action: data.action, node: data.node }, 'request awaiting approval');
    return { requestId: announced.id };
  },
};
