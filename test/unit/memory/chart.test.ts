import { describe, expect, it } from 'vitest';
import { analyseMemory } from '../../../src/memory/analyse.ts';
import { buildMemoryChartSvg, escapeXml, pickNiceStep, renderMemoryChart, buildTimeTicks, type ChartNode } from '../../../src/memory/chart.ts';
import { importCronLogs } from '../../../src/memory/import-cron-logs.ts';
import { generateMemorySeries, type SyntheticSeriesOptions } from '../../../src/memory/synthetic.ts';
import { readMemoryFixture } from './fixtures.ts';

const H = 3_600_000;
const D = 24 * H;
const START = Date.parse('2025-03-01T00:00:00Z');
const WEEK = { from: START, to: START + 7 * D };
const OPTIONS = { title: 'keepalived memory — orcl', window: WEEK, timezone: 'Europe/Moscow' };

function node(name: string, options: Partial<SyntheticSeriesOptions> = {}): ChartNode {
  const samples = generateMemorySeries({ node: name, start: START, count: 168, ...options });
  return { samples, report: analyseMemory(samples, WEEK, {}, { node: name }) };
}

function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('renderMemoryChart', () => {
  it.each([
    { name: '1 host', nodes: () => [node('node1')] },
    { name: '2 hosts', nodes: () => [node('node1'), node('node2', { leakPerDay: 1.2 * 1024 * 1024 })] },
    { name: '20 hosts', nodes: () => Array.from({ length: 20 }, (_, i) => node(`orcl-db${i + 1}`, { restartAt: i % 4 === 0 ? [80] : [], missing: i % 3 === 0 ? [30, 31, 32] : [] })) },
    { name: 'a host with no samples', nodes: () => [{ samples: [], report: analyseMemory([], WEEK, {}, { node: 'node9' }) }] },
    { name: 'no hosts at all', nodes: () => [] },
  ])('renders a PNG ~1200 px wide for $name', ({ nodes }) => {
    const chart = renderMemoryChart(nodes(), OPTIONS);
    expect(chart.png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(pngSize(chart.png)).toEqual({ width: 1200, height: chart.height });
    expect(chart.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="1200"')).toBe(true);
  });

  it('lays 20 hosts out in two columns of ten rows', () => {
    const { height } = buildMemoryChartSvg(Array.from({ length: 20 }, (_, i) => node(`h${i}`)), OPTIONS);
    const { height: twoRows } = buildMemoryChartSvg(Array.from({ length: 4 }, (_, i) => node(`h${i}`)), OPTIONS);
    expect(height).toBeGreaterThan(10 * 380);
    expect(twoRows).toBeLessThan(height / 3);
  });

  it('breaks lines across a gap, shades it, and marks restarts with a dashed line', () => {
    const { svg } = buildMemoryChartSvg([node('node1', { missing: Array.from({ length: 24 }, (_, i) => 30 + i), restartAt: [100] })], OPTIONS);
    const unitPath = /<path d="([^"]+)" fill="none" stroke="#0072B2"/.exec(svg)![1]!;
    expect(unitPath.match(/M/g)).toHaveLength(2);
    expect(svg).toContain('>no data</text>');
    expect(svg).toMatch(/<line [^>]*stroke="#cf222e" stroke-width="3" stroke-dasharray="10 7"\/>/);
    expect(svg).toContain('>restart</text>');
  });

  it('puts the verdict on each panel', () => {
    const { svg } = buildMemoryChartSvg([node('node1'), node('node2', { leakPerDay: 2 * 1024 * 1024 }), node('node3', { count: 3 })], OPTIONS);
    expect(svg).toContain('>NO LEAK</text>');
    expect(svg).toContain('>RSS flat; unit growth is page cache</text>');
    expect(svg).toContain('>POSSIBLE LEAK</text>');
    expect(svg).toMatch(/>pid 23147 \(VRRP child\) (RSS )?\+2\.0 MiB\/day<\/text>/);
    expect(svg).toContain('>NOT ENOUGH DATA</text>');
  });

  it("draws the notes' imported logs", () => {
    const samples = importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') });
    const window = { from: Date.parse('2024-12-27T21:00:00Z'), to: Date.parse('2025-01-09T21:00:00Z') };
    const chart = renderMemoryChart([{ samples, report: analyseMemory(samples, window) }], { ...OPTIONS, window });
    expect(chart.svg).toContain('>unit 121→436 · RSS 14.9→14.3 MiB</text>');
    expect(chart.png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('escapes text', () => {
    const samples = generateMemorySeries({ node: 'db<1>&"x"', start: START, count: 10 });
    const { svg } = buildMemoryChartSvg([{ samples, report: analyseMemory(samples, WEEK) }], { ...OPTIONS, title: "Tom's <b>chart</b>" });
    expect(svg).toContain('db&lt;1&gt;&amp;&quot;x&quot;');
    expect(svg).toContain('Tom&apos;s &lt;b&gt;chart&lt;/b&gt;');
    expect(svg).not.toContain('<b>');
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });
});

describe('axes', () => {
  it.each([
    [480, 200],
    [600, 200],
    [15, 5],
    [1, 0.25],
    [0, 1],
    [2500, 1000],
  ])('pickNiceStep(%d) = %d', (max, step) => {
    expect(pickNiceStep(max)).toBe(step);
  });

  it('puts day ticks at local midnight and hour ticks for short windows', () => {
    expect(buildTimeTicks(Date.parse('2025-03-01T00:00:00Z'), Date.parse('2025-03-04T00:00:00Z'), 'Europe/Moscow', 10)).toEqual([
      { t: Date.parse('2025-03-01T21:00:00Z'), label: '2 Mar' },
      { t: Date.parse('2025-03-02T21:00:00Z'), label: '3 Mar' },
      { t: Date.parse('2025-03-03T21:00:00Z'), label: '4 Mar' },
    ]);
    expect(buildTimeTicks(Date.parse('2025-03-01T00:00:00Z'), Date.parse('2025-03-01T12:00:00Z'), 'UTC', 4).map((t) => t.label)).toEqual(['1 Mar', '06:00', '12:00']);
    expect(buildTimeTicks(Date.parse('2025-03-01T00:00:00Z'), Date.parse('2025-03-31T00:00:00Z'), 'UTC', 5).map((t) => t.label)).toEqual(['1 Mar', '8 Mar', '15 Mar', '22 Mar', '29 Mar']);
  });
});
