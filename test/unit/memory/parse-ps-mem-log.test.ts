import { describe, expect, it } from 'vitest';
import { parseDateLine, parsePsMemLog } from '../../../src/memory/parse-ps-mem-log.ts';
import { parseTimeZoneOption } from '../../../src/memory/timezone.ts';
import { KIB, readMemoryFixture } from './fixtures.ts';

const KEEPALIVED = '/usr/sbin/keepalived -D';

describe("parsePsMemLog on the notes' ps_mem.log", () => {
  const blocks = parsePsMemLog(readMemoryFixture('notes-ps_mem.log'));

  it('reads the first blocks whole (the first one cut short by egrep -A4)', () => {
    expect(blocks.slice(0, 2)).toEqual([
      {
        line: 1,
        t: Date.parse('2024-12-29T06:00:01Z'),
        psSeen: true,
        processes: [{ pid: 23145, rss: 1836 * KIB, vsz: 123032 * KIB, cpuSeconds: 7, stat: 'Ss', command: KEEPALIVED }],
      },
      {
        line: 5,
        t: Date.parse('2024-12-30T06:00:01Z'),
        psSeen: true,
        processes: [
          { pid: 23145, rss: 1836 * KIB, vsz: 123032 * KIB, cpuSeconds: 14, stat: 'Ss', command: KEEPALIVED },
          { pid: 23146, rss: 7312 * KIB, vsz: 125156 * KIB, cpuSeconds: 12, stat: 'S', command: KEEPALIVED },
          { pid: 23147, rss: 6088 * KIB, vsz: 125156 * KIB, cpuSeconds: 124, stat: 'S', command: KEEPALIVED },
        ],
      },
    ]);
  });

  it('dates every block (Wed Jan  1 with its double space included) and keeps each RSS', () => {
    expect(blocks.map((b) => ({ line: b.line, t: new Date(b.t).toISOString(), rss: b.processes.map((p) => `${p.pid}:${p.rss / KIB}`) }))).toEqual([
      { line: 1, t: '2024-12-29T06:00:01.000Z', rss: ['23145:1836'] },
      { line: 5, t: '2024-12-30T06:00:01.000Z', rss: ['23145:1836', '23146:7312', '23147:6088'] },
      { line: 11, t: '2024-12-31T06:00:01.000Z', rss: ['23145:1836', '23146:7308', '23147:6084'] },
      { line: 17, t: '2025-01-01T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5852'] },
      { line: 23, t: '2025-01-02T06:00:01.000Z', rss: ['23145:1688', '23146:7084'] },
      { line: 28, t: '2025-01-03T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5852'] },
      { line: 34, t: '2025-01-04T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5852'] },
      { line: 40, t: '2025-01-05T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5876'] },
      { line: 46, t: '2025-01-06T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5876'] },
      { line: 52, t: '2025-01-07T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5876'] },
      { line: 58, t: '2025-01-08T06:00:01.000Z', rss: ['23145:1688', '23146:7084', '23147:5876'] },
    ]);
  });
});

describe('parsePsMemLog edge cases', () => {
  it('skips the cron shell, systemctl and egrep lines, and marks a block with ps but no keepalived', () => {
    const text = [
      'ps output before any date is ignored',
      'Sun Dec 29 09:00:01 MSK 2024',
      'USER        PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
      "root      31012  0.0  0.0  12704  2968 ?        Ss   09:00   0:00 /bin/sh -c date >> ps_mem.log && ps aux | egrep '[k]eepalived|[V]SZ' >> ps_mem.log 2>&1",
      'root      23145  0.0  0.0 123032  1836 ?        Ss   Dec28   0:07 /usr/sbin/keepalived -D',
      'root      31015  0.0  0.0 230148  9880 ?        S    09:00   0:00 systemctl status keepalived',
      'Sun Dec 29 10:00:01 MSK 2024',
      'USER        PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
      'Sun Dec 29 11:00:01 MSK 2024',
    ].join('\n');
    expect(parsePsMemLog(text)).toEqual([
      { line: 2, t: Date.parse('2024-12-29T06:00:01Z'), psSeen: true, processes: [{ pid: 23145, rss: 1836 * KIB, vsz: 123032 * KIB, cpuSeconds: 7, stat: 'Ss', command: KEEPALIVED }] },
      { line: 7, t: Date.parse('2024-12-29T07:00:01Z'), psSeen: true, processes: [] },
      { line: 9, t: Date.parse('2024-12-29T08:00:01Z'), psSeen: false, processes: [] },
    ]);
  });

  it('refuses a file without date lines', () => {
    expect(() => parsePsMemLog('root 23145 0.0 0.0 123032 1836 ? Ss Dec28 0:07 /usr/sbin/keepalived -D\n')).toThrow(
      expect.objectContaining({ code: 'memory_log_unrecognised' }),
    );
  });
});

describe('parseDateLine', () => {
  it.each([
    ['Sun Dec 29 09:00:01 MSK 2024', '2024-12-29T06:00:01Z'],
    ['Wed Jan  1 09:00:01 MSK 2025', '2025-01-01T06:00:01Z'],
    ['Sun Dec 29 09:00:01 AM MSK 2024', '2024-12-29T06:00:01Z'],
    ['Sun Dec 29 09:00:01 PM UTC 2024', '2024-12-29T21:00:01Z'],
    ['Sun 29 Dec 2024 09:00:01 AM MSK', '2024-12-29T06:00:01Z'],
    ['Sun 29 Dec 2024 12:00:01 AM CET', '2024-12-28T23:00:01Z'],
    ['2024-12-29T09:00:01+03:00', '2024-12-29T06:00:01Z'],
    ['2024-12-29 06:00:01Z', '2024-12-29T06:00:01Z'],
  ])('%s', (line, utc) => {
    expect(parseDateLine(line, undefined, 'test')).toBe(Date.parse(utc));
  });

  it('is undefined for lines that are not dates', () => {
    expect(parseDateLine('USER        PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND', undefined, 'test')).toBeUndefined();
  });

  it('needs --tz for an unknown zone and takes it', () => {
    expect(() => parseDateLine('Sun Dec 29 09:00:01 IST 2024', undefined, 'ps_mem.log line 1')).toThrow(
      expect.objectContaining({ code: 'memory_unknown_timezone', message: expect.stringContaining('ps_mem.log line 1') }),
    );
    expect(parseDateLine('Sun Dec 29 09:00:01 IST 2024', parseTimeZoneOption('+05:30'), 'x')).toBe(Date.parse('2024-12-29T03:30:01Z'));
  });
});
