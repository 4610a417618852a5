import { describe, expect, it } from 'vitest';
import { analyseMemory, analyseMemoryByNode, DEFAULT_THRESHOLDS, MemoryThresholds, NodeMemoryReport } from '../../../src/memory/analyse.ts';
import type { MemorySample } from '../../../src/memory/sample.ts';
import { generateMemorySeries } from '../../../src/memory/synthetic.ts';
import { KIB, MIB } from './fixtures.ts';

const H = 3_600_000;
const D = 24 * H;
const START = Date.parse('2025-03-01T00:00:00Z');
const WEEK = { from: START, to: START + 7 * D };

function week(options: Partial<Parameters<typeof generateMemorySeries>[0]> = {}): MemorySample[] {
  return generateMemorySeries({ node: 'node1', start: START, count: 168, ...options });
}

describe('analyseMemory verdicts', () => {
  it('flat RSS while unit memory grows through file cache: no_leak, and says it is page cache', () => {
    const report = analyseMemory(week(), WEEK);
    expect(report.verdict).toBe('no_leak');
    expect(report.leaks).toEqual([]);
    expect(report.message).toMatch(/^Unit memory grew .* while keepalived RSS stayed flat \(14\.9 MiB\) and cgroup anon memory stayed flat .*: the growth is page cache, not the keepalived processes \(file cache \+2\d\.\d MiB\/day\)\.$/);
    expect(report.file!.perDay!).toBeGreaterThan(20 * MIB);
    expect(Math.abs(report.rss!.perDay!)).toBeLessThan(16 * KIB);
  });

  it('everything flat: no_leak without talk of growth', () => {
    const report = analyseMemory(week({ cacheGrowthPerDay: 0 }), WEEK);
    expect(report.verdict).toBe('no_leak');
    expect(report.message).toMatch(/^No sign of a leak over 7\.0 days: keepalived RSS stayed flat \(14\.9 MiB\) and cgroup anon memory stayed flat \(.*\), unit memory .*\.$/);
  });

  it('a leaking VRRP child: possible_leak naming the process and its rate', () => {
    const report = analyseMemory(week({ leakPerDay: 1.2 * MIB }), WEEK);
    expect(report.verdict).toBe('possible_leak');
    expect(report.leaks.map((l) => [l.subject, l.label, l.pid])).toEqual([
      ['process', 'pid 23147 (VRRP child) RSS', 23147],
      ['rss', 'keepalived total RSS', undefined],
      ['anon', 'cgroup anon memory', undefined],
    ]);
    expect(report.leaks[0]!.perDay).toBeCloseTo(1.2 * MIB, -4);
    expect(report.leaks[0]!.r2).toBeGreaterThan(0.99);
    expect(report.message).toMatch(/^Possible leak: pid 23147 \(VRRP child\) RSS \+1\.2 MiB\/day over 7\.0 days \(r² 1\.00\); cgroup anon memory \+1\.2 MiB\/day/);
  });

  it('a restart: detected by main pid, start time and pids at once, and the run after it is judged on its own', () => {
    const samples = week({ restartAt: [80] });
    const report = analyseMemory(samples, WEEK);
    expect(report.restarts).toEqual([
      {
        t: Date.parse(samples.find((s) => s.mainPid === 23456)!.startedAt!),
        before: START + 79 * H,
        after: START + 80 * H,
        reasons: ['main_pid', 'started_at', 'pids'],
        detail: expect.stringContaining('main pid 23145 → 23456'),
      },
    ]);
    expect(report.verdict).toBe('no_leak');
    expect(report.message).toContain('keepalived restarted 1 time.');
    expect(report.processes.map((p) => p.label)).toEqual([
      'pid 23145 (parent)', 'pid 23146 (checker child)', 'pid 23147 (VRRP child)',
      'pid 23456 (parent)', 'pid 23457 (checker child)', 'pid 23458 (VRRP child)',
    ]);
  });

  it('a leak that restarts hide from the overall line is still found in each run', () => {
    const report = analyseMemory(week({ restartAt: [80], leakPerDay: 2 * MIB }), WEEK);
    expect(report.verdict).toBe('possible_leak');
    expect(report.leaks.filter((l) => l.subject === 'process').map((l) => l.pid).sort()).toEqual([23147, 23458]);
  });

  it('missed hours are listed as gaps, and do not change the verdict', () => {
    const report = analyseMemory(week({ missing: [30, 31, 32, 33, 34, 35, 100] }), WEEK);
    expect(report.gaps).toEqual([
      { from: START + 29 * H, to: START + 36 * H, missed: 6 },
      { from: START + 99 * H, to: START + 101 * H, missed: 1 },
    ]);
    expect(report.samples).toBe(161);
    expect(report.verdict).toBe('no_leak');
    expect(report.message).toContain('2 gaps in sampling (about 7 samples missed).');
  });

  it('too few samples: insufficient_data, reported whole', () => {
    const samples = week({ count: 4, cgroupSplit: false });
    const window = { from: START, to: START + 4 * H };
    const report = analyseMemory(samples, window);
    const rss = 1836 * KIB + 7312 * KIB + 6088 * KIB;
    expect(NodeMemoryReport.parse(report)).toEqual(report);
    expect(report).toEqual({
      node: 'node1',
      window,
      samples: 4,
      firstSampleAt: START,
      lastSampleAt: START + 3 * H,
      unitMemory: expect.objectContaining({ samples: 4 }),
      anon: null,
      file: null,
      rss: expect.objectContaining({ samples: 4 }),
      vsz: { samples: 4, first: 373344 * KIB, last: 373344 * KIB, min: 373344 * KIB, max: 373344 * KIB, perDay: 0, r2: 0 },
      pssAnon: null,
      restarts: [],
      processes: expect.any(Array),
      gaps: [],
      partialSamples: 0,
      leaks: [],
      verdict: 'insufficient_data',
      message: 'Only 4 samples over 3.0 h; a verdict needs at least 6 samples over 6 h.',
    });
    expect(Math.abs(report.rss!.first - rss)).toBeLessThanOrEqual(8 * KIB);
  });

  it('RSS rising over half a day is too short to call', () => {
    const report = analyseMemory(week({ count: 12, leakPerDay: 10 * MIB }), { from: START, to: START + 12 * H });
    expect(report.verdict).toBe('insufficient_data');
    expect(report.message).toMatch(/^pid 23147 \(VRRP child\) RSS \+\d+\.\d MiB\/day over 11\.0 h \(r² 1\.00\), but 11\.0 h is too short to tell a leak from start-up growth; look again over at least 2 days\.$/);
  });

  it('unit memory alone cannot tell cache from keepalived', () => {
    const report = analyseMemory(week({ processes: false, cgroupSplit: false }), WEEK);
    expect(report.verdict).toBe('insufficient_data');
    expect(report.message).toContain('page cache cannot be told from keepalived');
  });

  it('unit growth that is not file cache is called kernel memory', () => {
    const samples = week({ cacheGrowthPerDay: 0 }).map((s, i) => ({ ...s, unitMemory: s.unitMemory! + i * 256 * KIB }));
    const report = analyseMemory(samples, WEEK);
    expect(report.verdict).toBe('no_leak');
    expect(report.message).toContain('the growth is kernel memory charged to the unit');
  });

  it('empty window: insufficient_data for the named node', () => {
    const report = analyseMemory([], WEEK, DEFAULT_THRESHOLDS, { node: 'node2' });
    expect(report).toMatchObject({ node: 'node2', samples: 0, firstSampleAt: null, verdict: 'insufficient_data', message: 'Only 0 samples over 0.0 h; a verdict needs at least 6 samples over 6 h.' });
  });

  it('ignores samples outside the window and of other nodes', () => {
    const samples = [...week(), ...generateMemorySeries({ node: 'node2', start: START, count: 10 })];
    const report = analyseMemory(samples, { from: START + D, to: START + 2 * D });
    expect(report.samples).toBe(25);
    expect(analyseMemoryByNode(samples, WEEK, {}, ['node3']).map((r) => [r.node, r.samples])).toEqual([['node1', 168], ['node2', 10], ['node3', 0]]);
  });
});

describe('MemoryThresholds', () => {
  it('has sane defaults', () => {
    expect(MemoryThresholds.parse({})).toEqual({
      minSamples: 6,
      minSpanHours: 6,
      leakMinSpanDays: 2,
      leakMinR2: 0.7,
      rssGrowthPerDay: 256 * KIB,
      anonGrowthPerDay: 1 * MIB,
      unitGrowthPerDay: 1 * MIB,
      gapFactor: 1.5,
    });
    expect(DEFAULT_THRESHOLDS).toEqual(MemoryThresholds.parse({}));
  });

  it('can be overridden by the config', () => {
    const samples = week({ leakPerDay: 1.2 * MIB });
    expect(analyseMemory(samples, WEEK, { rssGrowthPerDay: 2 * MIB, anonGrowthPerDay: 2 * MIB }).verdict).toBe('no_leak');
    expect(analyseMemory(samples, WEEK, { leakMinSpanDays: 10 }).leaks).toEqual([]);
    expect(() => MemoryThresholds.parse({ leakMinR2: 2 })).toThrow();
  });
});
