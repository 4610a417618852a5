import { describe, expect, it } from 'vitest';
import { importCronLogs } from '../../../src/memory/import-cron-logs.ts';
import type { MemorySample } from '../../../src/memory/sample.ts';
import {
  appendToDay,
  dayIndexesInRange,
  dayIndexOf,
  decodeDay,
  decodeRange,
  encodeDay,
  encodeSamplesByDay,
  generateSyntheticYear,
  measureBytesPerHostYear,
} from '../../../src/memory/storage-codec.ts';
import { generateMemorySeries } from '../../../src/memory/synthetic.ts';
import { KIB, MIB, readMemoryFixture } from './fixtures.ts';

const H = 3_600_000;

function roundTrip(samples: MemorySample[], node: string): MemorySample[] {
  return [...encodeSamplesByDay(samples).values()].flatMap((buf) => decodeDay(buf, node));
}

describe('storage codec round trips', () => {
  it.each([
    { name: 'one bare sample', samples: [{ t: Date.parse('2025-03-01T10:00:00Z'), node: 'n1', processes: [] }] },
    {
      name: 'every field, sizes not KiB multiples (systemctl status figures)',
      samples: [
        {
          t: Date.parse('2025-03-01T10:00:07Z'),
          node: 'n1',
          unitMemory: 126458266,
          anon: 3313664,
          file: 123144602,
          mainPid: 23145,
          startedAt: '2024-12-28T03:00:26.123Z',
          active: true,
          processes: [
            { pid: 23145, ppid: 1, rss: 1880064, vsz: 125984768, pssAnon: 1001, cpuSeconds: 7, elapsedSeconds: 100, stat: 'Ss', command: '/usr/sbin/keepalived -D' },
            { pid: 23147, ppid: 23145, rss: 6234112, vsz: 128159744, cpuSeconds: 124, stat: 'S', command: 'keepalived_vrrp' },
          ],
        },
        { t: Date.parse('2025-03-01T11:00:07Z'), node: 'n1', active: false, processes: [] },
        {
          t: Date.parse('2025-03-01T12:00:09Z'),
          node: 'n1',
          unitMemory: 1024,
          processes: [{ pid: 40000, rss: 0, vsz: 4096, command: 'keepalived -D' }],
        },
      ],
    },
    { name: "the notes' imported logs", samples: importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') }) },
    { name: 'a week with restarts and gaps', samples: generateMemorySeries({ node: 'db7', start: Date.parse('2025-03-01T00:00:00Z'), count: 168, restartAt: [50, 51, 120], missing: [10, 11, 12], leakPerDay: 3e6 }) },
  ])('$name', ({ samples }) => {
    expect(roundTrip(samples, samples[0]!.node)).toEqual(samples);
  });

  it('a synthetic year (with CPU pace, elapsed time and restarts) comes back exactly', () => {
    const year = generateSyntheticYear();
    expect(roundTrip(year, 'node1')).toEqual(year);
  });

  it('keeps time to the second and processes in pid order', () => {
    const t = Date.parse('2025-03-01T10:00:00.600Z');
    const [back] = roundTrip([{ t, node: 'n', processes: [{ pid: 9, rss: 0, vsz: 0 }, { pid: 3, rss: 0, vsz: 0 }] }], 'n');
    expect(back).toEqual({ t: t + 400, node: 'n', processes: [{ pid: 3, rss: 0, vsz: 0 }, { pid: 9, rss: 0, vsz: 0 }] });
  });
});

describe('storage codec by day and range', () => {
  const samples = generateMemorySeries({ node: 'db1', start: Date.parse('2025-03-01T00:00:00Z'), count: 72 });

  it('one buffer per UTC day; a range reads only the days it covers', () => {
    const days = encodeSamplesByDay(samples);
    expect([...days.keys()]).toEqual([20148, 20149, 20150]);
    const from = Date.parse('2025-03-02T06:00:00Z');
    const to = Date.parse('2025-03-02T08:00:00Z');
    expect(dayIndexesInRange(from, to)).toEqual([dayIndexOf(from)]);
    expect(decodeRange(dayIndexesInRange(from, to).map((d) => days.get(d)!), 'db1', from, to)).toEqual(samples.filter((s) => s.t >= from && s.t <= to));
  });

  it('appends to a stored day (a repeated second replaces the sample)', () => {
    const day = samples.slice(0, 24);
    let buf: Buffer | undefined;
    for (const s of day) buf = appendToDay(buf, [s], 'db1');
    expect(decodeDay(buf!, 'db1')).toEqual(day);
    const replaced = { ...day[5]!, unitMemory: 4096 };
    expect(decodeDay(appendToDay(buf, [replaced], 'db1'), 'db1')[5]).toEqual(replaced);
  });

  it('refuses a batch spanning two days and a foreign buffer', () => {
    expect(() => encodeDay(samples.slice(20, 30))).toThrow(expect.objectContaining({ code: 'memory_codec_day' }));
    expect(() => decodeDay(Buffer.from('{"t":1}'), 'db1')).toThrow(expect.objectContaining({ code: 'memory_codec_corrupt' }));
    const good = encodeDay(samples.slice(0, 3));
    expect(() => decodeDay(good.subarray(0, good.length - 2), 'db1')).toThrow(expect.objectContaining({ code: 'memory_codec_corrupt' }));
  });
});

describe('storage size', () => {
  it('a year of hourly samples of one host is well under 250 KB (200 hosts: tens of MB)', () => {
    const size = measureBytesPerHostYear();
    expect(size.samples).toBe(8760);
    expect(size.keys).toBe(365);
    expect(size.bytes).toBeLessThan(250_000);
    expect(size.bytesPerSample).toBeLessThan(28);
    expect(size.bytesFor200Hosts).toBeLessThan(50_000_000);
  });

  it('an hour in which nothing but time and CPU moved at their usual pace costs one byte per record and process', () => {
    const t0 = Date.parse('2025-03-01T00:00:03Z');
    const hour = (i: number): MemorySample => ({
      t: t0 + i * H,
      node: 'n',
      unitMemory: 100 * MIB,
      anon: 2 * MIB,
      file: 98 * MIB,
      mainPid: 10,
      startedAt: '2025-02-28T00:00:00.000Z',
      active: true,
      processes: [
        { pid: 10, ppid: 1, rss: 1836 * KIB, vsz: 123032 * KIB, cpuSeconds: 2 * i, elapsedSeconds: 86_403 + 3600 * i, stat: 'Ss', command: '/usr/sbin/keepalived -D' },
        { pid: 11, ppid: 10, rss: 6088 * KIB, vsz: 125156 * KIB, cpuSeconds: 60 * i, elapsedSeconds: 86_403 + 3600 * i, stat: 'S', command: '/usr/sbin/keepalived -D' },
      ],
    });
    const two = encodeDay([hour(0), hour(1), hour(2)]);
    const three = encodeDay([hour(0), hour(1), hour(2), hour(3)]);
    expect(three.length - two.length).toBe(3);
  });
});
