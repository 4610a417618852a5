import type { JobDefinition } from '../src/jobs/job.ts';
import { VipbotError } from '../src/errors.ts';
import { analyseStoredSamples, chartFileName, renderReportChartOffThread } from '../src/memory/build-memory-report.ts';
import { summariseMemoryByDay } from '../src/memory/daily.ts';
import { requireMemoryDeps } from '../src/memory/memory-runtime.ts';
import { renderMemoryDailyMessage } from '../src/memory/render-memory-message.ts';
import { MemoryDailyData } from '../src/memory/schedule.ts';

const DAY_MS = 86_400_000;

/**
 * The daily summary (the `memory-daily` scheduler: `memory.dailySummary.cron` in its `timezone`): one
 * message for all clusters in `memory.dailySummary.channel` — per host the verdict over 7 days, the
 * last 24 h and the 7-day trend — with `vip_memory` metadata, and the 7-day chart in its thread.
 * The channel comes with the job (the scheduler carries it), so a restart with another channel moves it.
 */
export const memoryDailyJob: JobDefinition<MemoryDailyData> = {
  name: 'memory-daily',
  data: MemoryDailyData,
  async process(data, deps, ctx) {
    const memory = requireMemoryDeps(deps);
    const config = deps.config;
    const now = (deps.now ?? Date.now)();
    const nodes = config.clusters.flatMap((c) => c.nodes.map((n) => n.name));
    const week = { from: now - 7 * DAY_MS, to: now, label: '7d' };
    const day = { from: now - DAY_MS, to: now, label: '24h' };
    const samplesByNode = await memory.store.query(nodes, week.from, week.to);
    const weekly = analyseStoredSamples(samplesByNode, nodes, week, config.memory.thresholds);
    const daily = analyseStoredSamples(samplesByNode, nodes, day, config.memory.thresholds);
    const daysByNode = new Map(nodes.map((n) => [n, summariseMemoryByDay(samplesByNode.get(n) ?? [], data.timezone)]));
    const message = renderMemoryDailyMessage({
      clusters: config.clusters.map((c) => ({ name: c.name, nodes: c.nodes.map((n) => n.name) })),
      weekReports: weekly.reports,
      dayReports: daily.reports,
      daysByNode,
      window: week,
      timezone: data.timezone,
    });
    let posted;
    try {
      posted = await deps.notifier.post({ channel: data.channel, ...message, metadata: { event_type: 'vip_memory', event_payload: { ...weekly.payload, kind: 'daily' } } });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code === 'not_in_channel' || code === 'channel_not_found') {
        throw new VipbotError('daily_summary_channel', `the daily memory summary cannot be posted in ${data.channel} (${code})`, `invite the bot there (\`/invite @vipbot\`) or change memory.dailySummary.channel and restart`, { cause: err });
      }
      throw err;
    }
    const samples = weekly.reports.reduce((n, r) => n + r.samples, 0);
    if (samples > 0) {
      const title = 'keepalived memory — last 7 days, all clusters';
      const chart = await renderReportChartOffThread(weekly.reports, samplesByNode, { window: week, timezone: data.timezone, title });
      await deps.notifier.uploadFile({
        channel: posted.channel,
        threadTs: posted.ts,
        filename: chartFileName('daily-7d'),
        title,
        altText: `${title}: unit memory vs keepalived RSS per node`,
        data: chart.png,
      });
    }
    ctx.log.info({ channel: data.channel, nodes: nodes.length, samples }, 'daily memory summary posted');
    return { channel: data.channel, samples, verdicts: Object.fromEntries(weekly.reports.map((r) => [r.node, r.verdict])) };
  },
};
