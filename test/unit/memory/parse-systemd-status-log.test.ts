import { describe, expect, it } from 'vitest';
import { parseSystemdBytes } from '../../../src/memory/bytes.ts';
import { parseSystemdRelativeTime, parseSystemdStatusLog } from '../../../src/memory/parse-systemd-status-log.ts';
import { parseTimeZoneOption } from '../../../src/memory/timezone.ts';
import { MIB, readMemoryFixture } from './fixtures.ts';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

describe('parseSystemdRelativeTime', () => {
  it.each([
    ['1 day 1h ago', { ms: 25 * H, granularityMs: H }],
    ['2 days ago', { ms: 2 * D, granularityMs: D }],
    ['1 weeks 0 days ago', { ms: 7 * D, granularityMs: D }],
    ['1 week 3 days ago', { ms: 10 * D, granularityMs: D }],
    ['3h 5min ago', { ms: 3 * H + 5 * MIN, granularityMs: MIN }],
    ['7h ago', { ms: 7 * H, granularityMs: H }],
    ['5min 3s ago', { ms: 5 * MIN + 3 * S, granularityMs: S }],
    ['45s ago', { ms: 45 * S, granularityMs: S }],
    ['120ms ago', { ms: 120, granularityMs: 1 }],
    ['1 month 2 days ago', { ms: 2_629_800 * S + 2 * D, granularityMs: D }],
    ['1 year 2 months ago', { ms: 31_557_600 * S + 2 * 2_629_800 * S, granularityMs: 2_629_800 * S }],
    ['now', { ms: 0, granularityMs: S }],
  ])('%j', (text, expected) => {
    expect(parseSystemdRelativeTime(text)).toEqual(expected);
  });

  it.each(['yesterday', '2 fortnights ago', '', '1 day and 1h ago'])('refuses %j', (text) => {
    expect(parseSystemdRelativeTime(text)).toBeUndefined();
  });
});

describe('parseSystemdBytes (systemd sizes are 1024-based)', () => {
  it.each([
    ['120.6M', Math.round(120.6 * MIB)],
    ['1.0G', 1024 * MIB],
    ['512B', 512],
    ['4K', 4096],
    ['2T', 2 * 1024 ** 4],
    ['120.6MiB', Math.round(120.6 * MIB)],
    ['lots', undefined],
  ])('%s', (text, expected) => {
    expect(parseSystemdBytes(text)).toBe(expected);
  });
});

describe("parseSystemdStatusLog on the notes' mem.log", () => {
  const since = Date.parse('2024-12-28T03:00:26Z'); // Sat 2024-12-28 06:00:26 MSK
  const rows: Array<[string, number, number, string]> = [
    ['1 day 1h', 25 * H, H, '120.6'],
    ['2 days', 2 * D, D, '236.9'],
    ['3 days', 3 * D, D, '306.1'],
    ['4 days', 4 * D, D, '362.6'],
    ['5 days', 5 * D, D, '379.8'],
    ['6 days', 6 * D, D, '435.3'],
    ['1 weeks 0 days', 7 * D, D, '429.2'],
    ['1 weeks 1 days', 8 * D, D, '435.5'],
    ['1 weeks 2 days', 9 * D, D, '458.0'],
    ['1 weeks 3 days', 10 * D, D, '457.6'],
    ['1 weeks 4 days', 11 * D, D, '479.6'],
    ['1 weeks 5 days', 12 * D, D, '436.1'],
  ];

  it('dates every Active/Memory pair as since + ago', () => {
    expect(parseSystemdStatusLog(readMemoryFixture('notes-mem.log'))).toEqual(
      rows.map(([, ago, granularityMs, mem], i) => ({
        line: 2 * i + 1,
        state: 'active',
        since,
        agoMs: ago,
        granularityMs,
        t: since + ago,
        unitMemory: Math.round(Number(mem) * MIB),
      })),
    );
  });
});

describe('parseSystemdStatusLog time zones and odd lines', () => {
  const line = (stamp: string): string => `   Active: active (running) since ${stamp}; 2h 0min ago\n   Memory: 1.5M\n`;

  it.each([
    ['Sat 2024-12-28 06:00:26 MSK', '2024-12-28T03:00:26Z'],
    ['Sat 2024-12-28 03:00:26 UTC', '2024-12-28T03:00:26Z'],
    ['Sat 2024-12-28 03:00:26 GMT', '2024-12-28T03:00:26Z'],
    ['Sat 2024-12-28 04:00:26 CET', '2024-12-28T03:00:26Z'],
    ['Sun 2024-06-30 05:00:26 CEST', '2024-06-30T03:00:26Z'],
    ['Sat 2024-12-28 05:00:26 EET', '2024-12-28T03:00:26Z'],
    ['Sun 2024-06-30 06:00:26 EEST', '2024-06-30T03:00:26Z'],
    ['Sat 2024-12-28 08:30:26 +0530', '2024-12-28T03:00:26Z'],
    ['Sat 2024-12-28 08:00:26 +05', '2024-12-28T03:00:26Z'],
    ['Fri 2024-12-27 22:00:26 -05:00', '2024-12-28T03:00:26Z'],
  ])('%s', (stamp, utc) => {
    const [entry] = parseSystemdStatusLog(line(stamp));
    expect(entry).toEqual({ line: 1, state: 'active', since: Date.parse(utc), agoMs: 2 * H, granularityMs: MIN, t: Date.parse(utc) + 2 * H, unitMemory: Math.round(1.5 * MIB) });
  });

  it('asks for --tz when the zone abbreviation is not known', () => {
    expect(() => parseSystemdStatusLog(line('Sat 2024-12-28 08:30:26 IST'))).toThrow(
      expect.objectContaining({ code: 'memory_unknown_timezone', advice: expect.stringContaining('--tz') }),
    );
  });

  it('uses --tz (IANA, with DST) for an unknown abbreviation', () => {
    const [entry] = parseSystemdStatusLog(line('Sat 2024-12-28 08:30:26 IST'), { tz: parseTimeZoneOption('Asia/Kolkata') });
    expect(entry?.since).toBe(Date.parse('2024-12-28T03:00:26Z'));
    const [summer] = parseSystemdStatusLog(line('Sun 2024-06-30 05:00:26 XYZ'), { tz: parseTimeZoneOption('Europe/Berlin') });
    expect(summer?.since).toBe(Date.parse('2024-06-30T03:00:26Z'));
  });

  it('skips what cannot be dated and reads newer Memory lines with peak figures', () => {
    const text = [
      '   Memory: 9.9M',
      '   Active: inactive (dead)',
      '   Memory: 8.8M',
      '   Active: active (running) since Sat 2024-12-28 06:00:26 MSK; 45s ago',
      '   Memory: 2.1M (peak: 2.6M)',
      '   Active: failed (Result: exit-code) since Sat 2024-12-28 07:00:00 MSK; 5min 0s ago',
      '--',
    ].join('\n');
    expect(parseSystemdStatusLog(text)).toEqual([
      { line: 4, state: 'active', since: Date.parse('2024-12-28T03:00:26Z'), agoMs: 45 * S, granularityMs: S, t: Date.parse('2024-12-28T03:01:11Z'), unitMemory: Math.round(2.1 * MIB) },
      { line: 6, state: 'failed', since: Date.parse('2024-12-28T04:00:00Z'), agoMs: 5 * MIN, granularityMs: S, t: Date.parse('2024-12-28T04:05:00Z') },
    ]);
  });

  it('refuses a file with no status lines', () => {
    expect(() => parseSystemdStatusLog('Sun Dec 29 09:00:01 MSK 2024\n')).toThrow(expect.objectContaining({ code: 'memory_log_unrecognised' }));
  });
});
