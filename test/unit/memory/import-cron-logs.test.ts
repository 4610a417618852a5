import { describe, expect, it } from 'vitest';
import { analyseMemory } from '../../../src/memory/analyse.ts';
import { MemorySample } from '../../../src/memory/sample.ts';
import { importCronLogs } from '../../../src/memory/import-cron-logs.ts';
import { KIB, MIB, readMemoryFixture } from './fixtures.ts';
import { formatDateMsk, formatSystemdRelative, formatSystemdTimestampMsk } from './systemd-format.ts';

const H = 3_600_000;
const STARTED = '2024-12-28T03:00:26.000Z';

function notesSamples() {
  return importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') });
}

describe("importCronLogs on the notes' excerpts", () => {
  it('merges mem.log entries onto the ps_mem.log dates inside their uncertainty window', () => {
    const rows = notesSamples().map((s) => [new Date(s.t).toISOString(), s.unitMemory === undefined ? null : +(s.unitMemory / MIB).toFixed(1), s.processes.map((p) => p.pid).join(',')]);
    expect(rows).toEqual([
      ['2024-12-29T04:00:26.000Z', 120.6, ''], // "1 day 1h ago": no ps date within the hour after it
      ['2024-12-29T06:00:01.000Z', null, '23145'],
      ['2024-12-30T06:00:01.000Z', 236.9, '23145,23146,23147'],
      ['2024-12-31T06:00:01.000Z', 306.1, '23145,23146,23147'],
      ['2025-01-01T06:00:01.000Z', 362.6, '23145,23146,23147'],
      ['2025-01-02T06:00:01.000Z', 379.8, '23145,23146'],
      ['2025-01-03T06:00:01.000Z', 435.3, '23145,23146,23147'],
      ['2025-01-04T06:00:01.000Z', 429.2, '23145,23146,23147'],
      ['2025-01-05T06:00:01.000Z', 435.5, '23145,23146,23147'],
      ['2025-01-06T06:00:01.000Z', 458, '23145,23146,23147'],
      ['2025-01-07T06:00:01.000Z', 457.6, '23145,23146,23147'],
      ['2025-01-08T06:00:01.000Z', 479.6, '23145,23146,23147'],
      ['2025-01-09T03:00:26.000Z', 436.1, ''], // "1 weeks 5 days ago": after the last ps block
    ]);
  });

  it('keeps the start time from mem.log and the process details from ps_mem.log', () => {
    expect(notesSamples()[2]).toEqual({
      t: Date.parse('2024-12-30T06:00:01Z'),
      node: 'node1',
      unitMemory: Math.round(236.9 * MIB),
      startedAt: STARTED,
      active: true,
      processes: [
        { pid: 23145, rss: 1836 * KIB, vsz: 123032 * KIB, cpuSeconds: 14, stat: 'Ss', command: '/usr/sbin/keepalived -D' },
        { pid: 23146, rss: 7312 * KIB, vsz: 125156 * KIB, cpuSeconds: 12, stat: 'S', command: '/usr/sbin/keepalived -D' },
        { pid: 23147, rss: 6088 * KIB, vsz: 125156 * KIB, cpuSeconds: 124, stat: 'S', command: '/usr/sbin/keepalived -D' },
      ],
    });
  });

  it('gives verdict no_leak: unit memory ~120M → ~480M while RSS stays flat', () => {
    const samples = notesSamples();
    const report = analyseMemory(samples, { from: Date.parse('2024-12-28T00:00:00Z'), to: Date.parse('2025-01-10T00:00:00Z') });
    expect(report.verdict).toBe('no_leak');
    expect(report.message).toContain('the growth is page cache, not the keepalived processes');
    expect(report.unitMemory).toMatchObject({ first: Math.round(120.6 * MIB), max: Math.round(479.6 * MIB), last: Math.round(436.1 * MIB) });
    expect(report.unitMemory!.perDay!).toBeGreaterThan(20 * MIB);
    // RSS from complete ps blocks only: 1836+7312+6088 KiB on Dec 30, 1688+7084+5876 KiB on Jan 8.
    expect(report.rss).toMatchObject({ first: 15236 * KIB, last: 14648 * KIB, min: 14624 * KIB, max: 15236 * KIB, samples: 9 });
    expect(Math.abs(report.rss!.perDay!)).toBeLessThan(100 * KIB);
    expect(report.vsz).toMatchObject({ first: 373344 * KIB, last: 373344 * KIB });
    expect(report.partialSamples).toBe(2);
    expect(report.restarts).toEqual([]);
    expect(report.gaps).toEqual([]);
    expect(report.processes.map((p) => [p.label, p.rss.first / KIB, p.rss.last / KIB])).toEqual([
      ['pid 23145 (parent)', 1836, 1688],
      ['pid 23146 (checker child)', 7312, 7084],
      ['pid 23147 (VRRP child)', 6088, 5876],
    ]);
  });

  it('yields samples that pass the MemorySample schema', () => {
    for (const sample of notesSamples()) expect(MemorySample.parse(sample)).toEqual(sample);
  });

  it('sees a restart in mem.log when `since` changes', () => {
    const memLog = [
      '   Active: active (running) since Sat 2024-12-28 06:00:26 MSK; 2 days ago',
      '   Memory: 236.9M',
      '   Active: active (running) since Mon 2024-12-30 14:12:09 MSK; 4h 47min ago',
      '   Memory: 21.0M',
    ].join('\n');
    const samples = importCronLogs({ node: 'n', memLog });
    const report = analyseMemory(samples, { from: 0, to: Date.parse('2025-01-01T00:00:00Z') });
    expect(report.restarts).toEqual([
      { t: Date.parse('2024-12-30T11:12:09Z'), before: Date.parse('2024-12-30T03:00:26Z'), after: Date.parse('2024-12-30T15:59:09Z'), reasons: ['started_at'], detail: 'started 2024-12-30T11:12:09.000Z' },
    ]);
  });

  it('reads either log alone', () => {
    expect(importCronLogs({ node: 'n', memLog: readMemoryFixture('notes-mem.log') })).toHaveLength(12);
    expect(importCronLogs({ node: 'n', psLog: readMemoryFixture('notes-ps_mem.log') })).toHaveLength(11);
  });

  it('asks for --tz when a log uses an unknown zone, and accepts it', () => {
    const memLog = '   Active: active (running) since Sat 2024-12-28 06:00:26 SAMT; 2 days ago\n   Memory: 236.9M\n';
    expect(() => importCronLogs({ node: 'n', memLog })).toThrow(expect.objectContaining({ code: 'memory_unknown_timezone' }));
    expect(importCronLogs({ node: 'n', memLog, tz: '+04:00' })[0]?.t).toBe(Date.parse('2024-12-30T02:00:26Z'));
    expect(() => importCronLogs({ node: 'n', memLog, tz: 'Mars/Olympus' })).toThrow(expect.objectContaining({ code: 'memory_bad_timezone' }));
  });
});

describe('importCronLogs on full hourly logs (every line the crontab wrote)', () => {
  const since = Date.parse(STARTED);
  // Cron fires at :00:00; systemctl prints the time relative to then; `date` prints a second later.
  const runs = Array.from({ length: 24 * 9 }, (_, i) => Date.parse('2024-12-28T04:00:00Z') + i * H);
  const memLog = runs
    .map((t, i) => `   Active: active (running) since ${formatSystemdTimestampMsk(since)}; ${formatSystemdRelative(t - since)}\n   Memory: ${100 + i}.0M\n`)
    .join('');
  const psLog = runs
    .map((t, i) => `${formatDateMsk(t + 1000)}\nUSER        PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n` +
      `root      23145  0.0  0.0 123032  ${1000 + i} ?        Ss   Dec28   0:07 /usr/sbin/keepalived -D\n`)
    .join('');

  it('pairs every status line with the ps block of the same cron run', () => {
    const samples = importCronLogs({ node: 'n', memLog, psLog });
    expect(samples).toHaveLength(runs.length);
    expect(samples.every((s, i) => s.t === runs[i]! + 1000 && s.unitMemory === (100 + i) * MIB && s.processes[0]?.rss === (1000 + i) * KIB)).toBe(true);
  });

  it('without ps_mem.log, spreads coarse lines ("2 days ago" ×24) at the hourly cadence within their window', () => {
    const samples = importCronLogs({ node: 'n', memLog });
    expect(samples).toHaveLength(runs.length);
    const errors = samples.map((s, i) => s.t - runs[i]!);
    // Never later than the truth (since + ago is a lower bound), never more than an hour early.
    expect(Math.max(...errors)).toBeLessThanOrEqual(0);
    expect(Math.min(...errors)).toBeGreaterThanOrEqual(-H);
    expect(samples.every((s, i) => i === 0 || s.t > samples[i - 1]!.t)).toBe(true);
  });
});
