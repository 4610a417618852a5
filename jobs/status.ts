import { z } from 'zod';
import type { JobDefinition } from '../src/jobs/job.ts';
import { ReplyTarget, TargetData } from '../src/jobs/reply-target.ts';
import { postResult } from '../src/jobs/post-result.ts';
import { renderStatusMessage } from '../src/slack/render-status.ts';

export const StatusJobData = z.object({ target: TargetData, reply: ReplyTarget });
export type StatusJobData = z.infer<typeof StatusJobData>;

/** Collects the facts for the target, analyses them, posts one message with `vip_status` metadata. */
export const statusJob: JobDefinition<StatusJobData> = {
  name: 'status',
  data: StatusJobData,
  async process(data, deps, ctx) {
    const status = await deps.status.collect(data.target, ctx.signal);
    const title = data.target.kind === 'all' ? 'VIP status' : `VIP status: ${data.target.name}`;
    const message = renderStatusMessage(status, title);
    await postResult(deps.notifier, data.reply, { ...message, metadata: { event_type: 'vip_status', event_payload: status } }, ctx.log);
    return { clusters: status.clusters.length, warnings: status.clusters.flatMap((c) => c.warnings.map((w) => w.code)) };
  },
};
