import { z } from 'zod';
import type { JobDefinition } from '../src/jobs/job.ts';
import { renderWatchMessage } from '../src/slack/render-watch.ts';
import { compareWarnings, watchedWarnings } from '../src/status/watch.ts';
import { VipbotError } from '../src/errors.ts';

/** From the `status-watch` scheduler (config `status: {every, channel}`): no data. */
export const StatusWatchData = z.object({}).strict();
export type StatusWatchData = z.infer<typeof StatusWatchData>;

/**
 * One watch round: collect status for every cluster and post to `status.channel` only when the set of
 * warnings changed since the last round (SPEC §9). The state is saved only after the post went out, so a
 * failed post is tried again next round instead of being lost. Not retried: the next round is the retry.
 */
export const statusWatchJob: JobDefinition<StatusWatchData> = {
  name: 'status-watch',
  data: StatusWatchData,
  async process(_data, deps, ctx) {
    const channel = deps.config.status?.channel;
    const store = deps.watch;
    if (!channel || !store) throw new VipbotError('watch_not_configured', 'the status watch runs without status.channel or its store', 'set status: { every, channel } in vipbot.yaml');
    const status = await deps.status.collect({ kind: 'all' }, ctx.signal);
    const warnings = watchedWarnings(status);
    const previous = await store.load();
    const change = compareWarnings(previous, warnings);
    const state = { warnings, at: status.collectedAt ?? new Date(deps.now?.() ?? Date.now()).toISOString() };
    if (!change) {
      if (!previous) await store.save(state);
      return { posted: false, warnings: warnings.length };
    }
    const message = renderWatchMessage(status, change);
    await deps.notifier.post({ channel, ...message, metadata: { event_type: 'vip_status', event_payload: { ...status, trigger: 'watch' } } });
    await store.save(state);
    ctx.log.info({ added: change.added.map((w) => w.code), cleared: change.cleared.map((w) => w.code) }, 'status watch posted a change');
    return { posted: true, warnings: warnings.length, added: change.added.length, cleared: change.cleared.length };
  },
};
