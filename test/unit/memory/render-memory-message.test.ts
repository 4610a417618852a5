/**
 * The memory messages: the verdict in plain words first, figures after, Slack's limits kept with many
 * nodes, and the "no samples yet" answer.
 */
import { describe, expect, it } from 'vitest';
import { analyseStoredSamples } from '../../../src/memory/build-memory-report.ts';
import { summariseMemoryByDay } from '../../../src/memory/daily.ts';
import { importCronLogs } from '../../../src/memory/import-cron-logs.ts';
import { renderMemoryDailyMessage, renderMemoryReportMessage, renderNoSamplesMessage } from '../../../src/memory/render-memory-message.ts';
import { generateMemorySeries } from '../../../src/memory/synthetic.ts';
import { blocksToText } from '../../../src/slack/blocks-to-text.ts';
import { liveMentionsAndLinks } from '../slack/live-markup.ts';
import { readMemoryFixture } from './fixtures.ts';

const H = 3_600_000;
const NOW = Date.UTC(2025, 0, 8, 6);

function sectionTexts(blocks: unknown[]): string[] {
  return (blocks as Array<{ type: string; text?: { text: string }; elements?: Array<{ text: string }> }>).map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '');
}

describe('renderMemoryReportMessage', { timeout: 60_000 }, () => {
  it('the notes\' data: no_leak in plain words, then the figures', () => {
    const samples = importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') });
    const window = { from: samples[0]!.t, to: samples.at(-1)!.t, label: '13d' };
    const { reports } = analyseStoredSamples(new Map([['node1', samples]]), ['node1'], window);
    const message = renderMemoryReportMessage(reports, { window, scope: 'node1 (orcl)', timezone: 'Europe/Moscow', clusterOf: () => 'orcl' });
    const texts = sectionTexts(message.blocks);
    expect(texts[0]).toBe('keepalived memory — last 13d — node1 (orcl)');
    expect(texts[1]).toBe(':white_check_mark: 1 no leak');
    expect(texts[2]).toMatch(/^\*node1\* \(orcl\) :white_check_mark: `no_leak` — Unit memory grew 120\.6 MiB → 436\.1 MiB \(max 479\.6 MiB\), \+25\.9 MiB\/day, while keepalived RSS stayed flat \(14\.3–14\.9 MiB\): the growth is page cache/);
    expect(texts[2]).toContain('\nunit memory 120.6 → 436.1 MiB (+25.9 MiB/day) · keepalived RSS 14.9 → 14.3 MiB');
    expect(texts.at(-1)).toContain('"Memory:" is the unit\'s cgroup charge, page cache included — not keepalived\'s RSS');
    expect(message.text).toBe('keepalived memory, last 13d: node1 no_leak');
    expect(blocksToText(message.blocks)).toContain('no_leak');
  });

  it('stays within 50 blocks and 3000 characters per section with 120 nodes', () => {
    const nodes = Array.from({ length: 120 }, (_, i) => `dbnode${i + 1}`);
    const samples = new Map(nodes.map((n, i) => [n, generateMemorySeries({ node: n, start: NOW - 7 * 24 * H, count: 7 * 24, seed: i + 1, ...(i % 7 === 0 ? { leakPerDay: 2 * 1024 * 1024 } : {}) })]));
    const window = { from: NOW - 7 * 24 * H, to: NOW, label: '7d' };
    const { reports } = analyseStoredSamples(samples, nodes, window);
    const message = renderMemoryReportMessage(reports, { window, scope: 'all clusters', timezone: 'UTC' });
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    for (const t of sectionTexts(message.blocks)) expect(t.length).toBeLessThanOrEqual(3000);
    expect(sectionTexts(message.blocks)[1]).toBe(':rotating_light: 18 possible leak · :white_check_mark: 102 no leak');
  });
});

describe('renderNoSamplesMessage', () => {
  it('says there are none yet and when sampling runs', () => {
    const m = renderNoSamplesMessage({ nodes: ['node1', 'node2'], window: { label: '7d' }, nextSampleAt: Date.UTC(2025, 0, 8, 7), sampleEvery: H, timezone: 'Europe/Moscow' });
    expect(m.text).toBe('No memory samples of 2 nodes (node1, node2) in the last 7d yet; next sampling at 8 Jan 10:00 (Europe/Moscow).');
    expect(sectionTexts(m.blocks)[1]).toContain('vipbot samples every 1h (memory.sampleEvery)');
    expect(sectionTexts(m.blocks)[1]).toContain('vipbot memory import --node <node> mem.log ps_mem.log');
  });
});

describe('renderMemoryDailyMessage', { timeout: 60_000 }, () => {
  it('per cluster and host: verdict, last 24 h, 7-day trend with unit memory by day', () => {
    const nodes = ['node1', 'node2'];
    const start = NOW - 7 * 24 * H;
    const samples = new Map([
      ['node1', generateMemorySeries({ node: 'node1', start, count: 7 * 24 + 1, seed: 1 })],
      ['node2', generateMemorySeries({ node: 'node2', start, count: 7 * 24 + 1, seed: 2, leakPerDay: 3 * 1024 * 1024 })],
    ]);
    const week = analyseStoredSamples(samples, nodes, { from: start, to: NOW, label: '7d' });
    const day = analyseStoredSamples(samples, nodes, { from: NOW - 24 * H, to: NOW, label: '24h' });
    const m = renderMemoryDailyMessage({
      clusters: [{ name: 'orcl', nodes }],
      weekReports: week.reports,
      dayReports: day.reports,
      daysByNode: new Map(nodes.map((n) => [n, summariseMemoryByDay(samples.get(n)!, 'Europe/Moscow')])),
      window: { from: start, to: NOW },
      timezone: 'Europe/Moscow',
    });
    const body = sectionTexts(m.blocks)[2]!;
    expect(body.split('\n')[0]).toBe('*orcl*');
    expect(body).toMatch(/^\*node1\* :white_check_mark: `no_leak` · last 24 h: unit [\d.]+ MiB \(\+[\d.]+ MiB\), RSS 14\.9 MiB \([+-][\d.]+ [KMi]*B\) · 7 days: unit \+2[45]\.\d MiB\/day, RSS [+-][\d.]+ [KMi]*B\/day, 0 restarts · unit by day [\d.→]+ MiB$/m);
    expect(body).toMatch(/^\*node2\* :rotating_light: `possible_leak` .*\n {6}_Possible leak: pid \d+ \(VRRP child\) RSS \+3\.0 MiB\/day/m);
    expect(m.text).toBe('keepalived memory, daily summary: node1 no_leak, node2 possible_leak');
  });
});

describe('renderMemoryChartOffThread', { timeout: 60_000 }, () => {
  it('renders the same PNG as the in-thread render, in a worker thread', async () => {
    const { renderMemoryChart } = await import('../../../src/memory/chart.ts');
    const { renderMemoryChartOffThread } = await import('../../../src/memory/render-chart-off-thread.ts');
    const samples = generateMemorySeries({ node: 'node1', start: NOW - 24 * H, count: 24 });
    const window = { from: NOW - 24 * H, to: NOW, label: '24h' };
    const { reports } = analyseStoredSamples(new Map([['node1', samples]]), ['node1'], window);
    const options = { title: 'keepalived memory — last 24h', window, timezone: 'UTC' };
    const nodes = [{ report: reports[0]!, samples }];
    const off = await renderMemoryChartOffThread(nodes, options);
    expect(off.png.equals(renderMemoryChart(nodes, options).png)).toBe(true);
    expect(off.png.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('host text in the memory messages (issue 8 item 6)', { timeout: 60_000 }, () => {
  const HOSTILE = '<!channel> *now* <https://evil.example|Re-authenticate> `x`';
  const INERT = '&lt;!channel&gt; \u2217now\u2217 &lt;https://evil.example|Re-authenticate&gt; \u02cbx\u02cb';

  it('a verdict message carrying host text is shown inert in /vip memory and in the daily summary', () => {
    const samples = importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') });
    const window = { from: samples[0]!.t, to: samples.at(-1)!.t, label: '13d' };
    const { reports } = analyseStoredSamples(new Map([['node1', samples]]), ['node1'], window);
    const hostile = reports.map((r) => ({ ...r, verdict: 'insufficient_data' as const, message: `unit keepalived.service said: ${HOSTILE}` }));
    const report = renderMemoryReportMessage(hostile, { window, scope: 'node1', timezone: 'UTC' });
    expect(sectionTexts(report.blocks)[2]!.split('\n')[0]).toBe(`*node1* :grey_question: \`insufficient_data\` — unit keepalived.service said: ${INERT}`);
    const daily = renderMemoryDailyMessage({
      clusters: [{ name: 'orcl', nodes: ['node1'] }], weekReports: hostile, dayReports: hostile, daysByNode: new Map(), window, timezone: 'UTC',
    });
    expect(sectionTexts(daily.blocks)[2]!.split('\n').at(-1)).toBe(`      _unit keepalived.service said: ${INERT}_`);
    for (const t of [...sectionTexts(report.blocks), ...sectionTexts(daily.blocks), report.text, daily.text]) expect(liveMentionsAndLinks(t)).toEqual([]);
  });
});
