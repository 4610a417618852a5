import { z } from 'zod';
import { RequestState } from '../src/approvals/types.ts';
import type { JobDefinition } from '../src/jobs/job.ts';
import { postResult } from '../src/jobs/post-result.ts';
import { ReplyTarget } from '../src/jobs/reply-target.ts';
import { renderHistory } from '../src/slack/render-history.ts';

export const HistoryData = z.object({ n: z.number().int().min(1).max(50), reply: ReplyTarget });

/** `/vip history [n]`: the last n requests from the audit log, newest first. */
export const historyJob: JobDefinition<z.infer<typeof HistoryData>> = {
  name: 'history',
  data: HistoryData,
  async process(data, deps, ctx) {
    // Refusals are audited but were never requests anyone could act on.
    const entries = (await deps.audit.lastRequests(data.n + 20)).filter((e) => e.state !== 'refused').slice(0, data.n);
    const rendered = renderHistory(
      entries.map((e) => ({
        requestId: e.requestId, action: e.action, cluster: e.cluster, node: e.node, state: RequestState.parse(e.state), requestedBy: e.requestedBy, at: e.at,
        ...(e.vip ? { vip: e.vip } : {}), ...(e.approvedBy ? { approvedBy: e.approvedBy } : {}), ...(e.summary ? { summary: e.summary } : {}), ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      })),
      data.n,
    );
    await postResult(deps.notifier, data.reply, rendered, ctx.log);
    return { entries: entries.length };
  },
};
