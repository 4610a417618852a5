import { z } from 'zod';
import type { JobDefinition } from '../src/jobs/job.ts';
import { ReplyTarget } from '../src/jobs/reply-target.ts';
import { tellRequester } from '../src/jobs/tell-requester.ts';

export const CancelRequestData = z.object({ requestId: z.string().regex(/^[a-z0-9]{6}$/), reply: ReplyTarget });

/** `/vip cancel <id>`: withdraws a pending request if the caller may. */
export const cancelRequestJob: JobDefinition<z.infer<typeof CancelRequestData>> = {
  name: 'cancel-request',
  data: CancelRequestData,
  async process(data, deps, ctx) {
    const result = await deps.flow.cancel(data.requestId, data.reply.userId);
    await tellRequester(deps.notifier, data.reply, result.ok ? `:no_entry_sign: ${result.text}` : `:warning: ${result.text}`, ctx.log);
    return result;
  },
};
