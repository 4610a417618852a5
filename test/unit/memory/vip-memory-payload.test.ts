import { describe, expect, it } from 'vitest';
import { analyseMemory, toVipMemoryPayload, VipMemoryPayload } from '../../../src/memory/analyse.ts';
import { importCronLogs } from '../../../src/memory/import-cron-logs.ts';
import { KIB, MIB, readMemoryFixture } from './fixtures.ts';

describe('toVipMemoryPayload', () => {
  const samples = importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') });
  const window = { from: Date.parse('2024-12-28T00:00:00Z'), to: Date.parse('2025-01-10T00:00:00Z') };
  const report = analyseMemory(samples, window);

  it('has the SPEC §6 vip_memory fields, in bytes, for the notes', () => {
    const payload = toVipMemoryPayload({ ...window, label: '13d' }, [report]);
    expect(VipMemoryPayload.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({
      window: '13d',
      from: '2024-12-28T00:00:00.000Z',
      to: '2025-01-10T00:00:00.000Z',
      nodes: [
        {
          name: 'node1',
          samples: 13,
          unitMemory: { first: Math.round(120.6 * MIB), last: Math.round(436.1 * MIB), max: Math.round(479.6 * MIB) },
          rss: { first: 15236 * KIB, last: 14648 * KIB, perDay: expect.any(Number) },
          vsz: { first: 373344 * KIB, last: 373344 * KIB },
          anon: { first: null, last: null, min: null, max: null, perDay: null },
          file: { first: null, last: null, min: null, max: null, perDay: null },
          restarts: 0,
          restartTimes: [],
          verdict: 'no_leak',
          message: expect.stringContaining('the growth is page cache, not the keepalived processes'),
          gaps: [],
          leaks: [],
        },
      ],
    });
    expect(payload.nodes[0]!.processes).toEqual([
      { pid: 23145, role: 'parent', label: 'pid 23145 (parent)', rss: { first: 1836 * KIB, last: 1688 * KIB, perDay: expect.any(Number) } },
      { pid: 23146, role: 'checker', label: 'pid 23146 (checker child)', rss: { first: 7312 * KIB, last: 7084 * KIB, perDay: expect.any(Number) } },
      { pid: 23147, role: 'vrrp', label: 'pid 23147 (VRRP child)', rss: { first: 6088 * KIB, last: 5876 * KIB, perDay: expect.any(Number) } },
    ]);
  });

  it('names the window by its length when no label is given, and a node without samples by nulls', () => {
    const empty = analyseMemory([], { from: 0, to: 7 * 86_400_000 }, {}, { node: 'node2' });
    const payload = toVipMemoryPayload({ from: 0, to: 7 * 86_400_000 }, [empty]);
    expect(payload).toEqual({
      window: '1w',
      from: '1970-01-01T00:00:00.000Z',
      to: '1970-01-08T00:00:00.000Z',
      nodes: [
        {
          name: 'node2',
          samples: 0,
          unitMemory: { first: null, last: null, min: null, max: null, perDay: null },
          rss: { first: null, last: null, min: null, max: null, perDay: null },
          vsz: { first: null, last: null, min: null, max: null },
          anon: { first: null, last: null, min: null, max: null, perDay: null },
          file: { first: null, last: null, min: null, max: null, perDay: null },
          restarts: 0,
          restartTimes: [],
          verdict: 'insufficient_data',
          message: 'Only 0 samples over 0.0 h; a verdict needs at least 6 samples over 6 h.',
          gaps: [],
          leaks: [],
          processes: [],
        },
      ],
    });
  });
});
