import { z } from 'zod';
import type { JobDefinition } from '../src/jobs/job.ts';
import { postResult } from '../src/jobs/post-result.ts';
import { ReplyTarget, TargetData } from '../src/jobs/reply-target.ts';
import { analyseStoredSamples, chartFileName, renderReportChartOffThread } from '../src/memory/build-memory-report.ts';
import { requireMemoryDeps } from '../src/memory/memory-runtime.ts';
import { MemoryWindow } from '../src/memory/memory-window.ts';
import { renderMemoryReportMessage, renderNoSamplesMessage } from '../src/memory/render-memory-message.ts';
import { clusterOfNode, reportScope, reportTimezone } from '../src/memory/report-scope.ts';
import { nextSampleTime } from '../src/memory/schedule.ts';

export const MemoryReportData = z.object({ window: MemoryWindow, target: TargetData, reply: ReplyTarget });
export type MemoryReportData = z.infer<typeof MemoryReportData>;

/**
 * `/vip memory [window] [cluster|node]`: reads the stored samples, analyses each node, posts the
 * summary with `vip_memory` metadata, then uploads the PNG chart in that message's thread.
 */
export const memoryReportJob: JobDefinition<MemoryReportData> = {
  name: 'memory-report',
  data: MemoryReportData,
  async process(data, deps, ctx) {
    const memory = requireMemoryDeps(deps);
    const config = deps.config;
    const now = (deps.now ?? Date.now)();
    const scope = reportScope(config, data.target);
    const window = { from: now - data.window.ms, to: now, label: data.window.label };
    const timezone = reportTimezone(config);
    const samplesByNode = await memory.store.query(scope.nodes, window.from, window.to);
    const { reports, payload } = analyseStoredSamples(samplesByNode, scope.nodes, window, config.memory.thresholds);
    const metadata = { event_type: 'vip_memory', event_payload: payload };
    const total = reports.reduce((n, r) => n + r.samples, 0);

    if (total === 0) {
      const message = renderNoSamplesMessage({ nodes: scope.nodes, window, nextSampleAt: nextSampleTime(now, config.memory.sampleEvery), sampleEvery: config.memory.sampleEvery, timezone });
      await postResult(deps.notifier, data.reply, { ...message, metadata }, ctx.log);
      return { nodes: scope.nodes.length, samples: 0 };
    }

    const message = renderMemoryReportMessage(reports, { window, scope: scope.title, timezone, clusterOf: clusterOfNode(config) });
    const posted = await postResult(deps.notifier, data.reply, { ...message, metadata }, ctx.log);
    if (!posted) {
      // Answered through response_url (bot not in the channel): there is no thread to put a file in.
      ctx.log.info('summary sent through response_url; chart not uploaded');
      return { nodes: scope.nodes.length, samples: total, chart: false };
    }
    const title = `keepalived memory — last ${window.label} — ${scope.title}`;
    const chart = await renderReportChartOffThread(reports, samplesByNode, { window, timezone, title });
    await deps.notifier.uploadFile({
      channel: posted.channel,
      threadTs: posted.ts,
      filename: chartFileName(window.label),
      title,
      altText: `${title}: unit memory vs keepalived RSS per node; verdicts ${reports.map((r) => `${r.node} ${r.verdict}`).join(', ')}`,
      data: chart.png,
    });
    return { nodes: scope.nodes.length, samples: total, chart: true, verdicts: Object.fromEntries(reports.map((r) => [r.node, r.verdict])) };
  },
};
