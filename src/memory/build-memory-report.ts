/**
 * One memory report from stored samples: per-node analysis, the `vip_memory` payload, the message and
 * the chart. Shared by `/vip memory`, the daily summary, `vipbot memory import` and the benchmark, so
 * they cannot drift. CPU only (the chart render is the slow part: tens of ms per panel).
 */
import { analyseMemoryByNode } from './analyse.ts';
import { renderMemoryChart, type RenderedChart } from './chart.ts';
import { renderMemoryChartOffThread } from './render-chart-off-thread.ts';
import type { MemoryThresholdsInput, NodeMemoryReport } from './memory-report.ts';
import { renderMemoryReportMessage, type RenderedMemoryMessage } from './render-memory-message.ts';
import type { MemorySample } from './sample.ts';
import { generateMemorySeries } from './synthetic.ts';
import { toVipMemoryPayload, type VipMemoryPayload } from './vip-memory-payload.ts';

/** A report's window: [from, to] in epoch ms and the label people typed (`7d`). */
export interface ReportWindow {
  from: number;
  to: number;
  label: string;
}

/** Per-node reports and the `vip_memory` payload for them, nodes in the order given. */
export function analyseStoredSamples(
  samplesByNode: ReadonlyMap<string, readonly MemorySample[]>,
  nodes: readonly string[],
  window: ReportWindow,
  thresholds?: MemoryThresholdsInput,
): { reports: NodeMemoryReport[]; payload: VipMemoryPayload } {
  const all = nodes.flatMap((n) => samplesByNode.get(n) ?? []);
  const byName = new Map(analyseMemoryByNode(all, window, thresholds, nodes).map((r) => [r.node, r]));
  const reports = nodes.map((n) => byName.get(n)!);
  return { reports, payload: toVipMemoryPayload(window, reports) };
}

/** The chart of the reports: one panel per node, in the reports' order. */
export function renderReportChart(
  reports: readonly NodeMemoryReport[],
  samplesByNode: ReadonlyMap<string, readonly MemorySample[]>,
  options: { window: ReportWindow; timezone: string; title: string },
): RenderedChart {
  return renderMemoryChart(
    reports.map((report) => ({ report, samples: samplesByNode.get(report.node) ?? [] })),
    { title: options.title, window: options.window, timezone: options.timezone },
  );
}

/** `renderReportChart` with the rasterising in a worker thread, for jobs (the bot's event loop stays free). */
export function renderReportChartOffThread(
  reports: readonly NodeMemoryReport[],
  samplesByNode: ReadonlyMap<string, readonly MemorySample[]>,
  options: { window: ReportWindow; timezone: string; title: string },
): Promise<RenderedChart> {
  return renderMemoryChartOffThread(
    reports.map((report) => ({ report, samples: samplesByNode.get(report.node) ?? [] })),
    { title: options.title, window: options.window, timezone: options.timezone },
  );
}

/** The chart's file name in Slack: `keepalived-memory-7d.png`. */
export function chartFileName(label: string): string {
  return `keepalived-memory-${label.replace(/[^A-Za-z0-9_-]/g, '_')}.png`;
}

/** How long a report takes to build, for `npm run bench`. */
export interface ReportTiming {
  hosts: number;
  samples: number;
  analyseMs: number;
  messageMs: number;
  /** SVG + PNG, rasterised in a worker thread as the jobs do. */
  chartMs: number;
  totalMs: number;
  /** Longest the event loop was held while building the report (what a Slack ack could wait). */
  maxEventLoopBlockMs: number;
  pngBytes: number;
}

/**
 * Builds the `/vip memory 7d` report (analysis, payload, message, PNG chart) for `hosts` synthetic
 * hosts with hourly samples (one with a leak, one with a restart, one with gaps), and times each
 * step. Storage is not included: see `measureRedisBytesPerHostYear` for Redis.
 */
export async function timeMemoryReport(options: { hosts?: number; days?: number; now?: number } = {}): Promise<ReportTiming> {
  const hosts = options.hosts ?? 20;
  const days = options.days ?? 7;
  const to = options.now ?? Date.UTC(2025, 0, 8, 9);
  const from = to - days * 86_400_000;
  const nodes = Array.from({ length: hosts }, (_, i) => `node${i + 1}`);
  const samplesByNode = new Map(nodes.map((node, i) => [node, generateMemorySeries({
    node,
    start: from,
    count: days * 24 + 1,
    seed: i + 1,
    ...(i === 2 ? { leakPerDay: 2 * 1024 * 1024 } : {}),
    ...(i === 3 ? { restartAt: [days * 12] } : {}),
    ...(i === 4 ? { missing: [30, 31, 32, 33] } : {}),
  })]));
  const window = { from, to, label: `${days}d` };
  // A 5 ms ticker: its largest lateness is how long the loop was held.
  let maxBlock = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxBlock = Math.max(maxBlock, now - last - 5);
    last = now;
  }, 5);
  const started = performance.now();
  const { reports } = analyseStoredSamples(samplesByNode, nodes, window);
  const analysed = performance.now();
  renderMemoryReportMessage(reports, { window, scope: 'all clusters', timezone: 'Europe/Moscow' });
  const messaged = performance.now();
  maxBlock = Math.max(maxBlock, messaged - last);
  last = messaged;
  const chart = await renderReportChartOffThread(reports, samplesByNode, { window, timezone: 'Europe/Moscow', title: `keepalived memory — last ${window.label}` });
  const charted = performance.now();
  clearInterval(ticker);
  maxBlock = Math.max(maxBlock, charted - last - 5);
  return {
    hosts,
    samples: [...samplesByNode.values()].reduce((n, s) => n + s.length, 0),
    analyseMs: analysed - started,
    messageMs: messaged - analysed,
    chartMs: charted - messaged,
    totalMs: charted - started,
    maxEventLoopBlockMs: Math.max(0, maxBlock),
    pngBytes: chart.png.length,
  };
}

export type { RenderedChart, RenderedMemoryMessage };
