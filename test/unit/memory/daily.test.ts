import { describe, expect, it } from 'vitest';
import { summariseMemoryByDay } from '../../../src/memory/daily.ts';
import { importCronLogs } from '../../../src/memory/import-cron-logs.ts';
import { KIB, MIB, readMemoryFixture } from './fixtures.ts';

const m = (x: number): number => Math.round(x * MIB);

describe('summariseMemoryByDay', () => {
  it("gives the notes' last reading per Moscow day (cut-short ps blocks leave RSS empty)", () => {
    const samples = importCronLogs({ node: 'node1', memLog: readMemoryFixture('notes-mem.log'), psLog: readMemoryFixture('notes-ps_mem.log') });
    const row = (day: string, samples: number, unit: number | null, rssKib: number | null) => ({
      day, samples, unitMemory: unit === null ? null : m(unit), rss: rssKib === null ? null : rssKib * KIB, file: null, anon: null,
    });
    expect(summariseMemoryByDay(samples, 'Europe/Moscow')).toEqual([
      row('2024-12-29', 2, 120.6, null),
      row('2024-12-30', 1, 236.9, 15236),
      row('2024-12-31', 1, 306.1, 15228),
      row('2025-01-01', 1, 362.6, 14624),
      row('2025-01-02', 1, 379.8, null),
      row('2025-01-03', 1, 435.3, 14624),
      row('2025-01-04', 1, 429.2, 14624),
      row('2025-01-05', 1, 435.5, 14648),
      row('2025-01-06', 1, 458.0, 14648),
      row('2025-01-07', 1, 457.6, 14648),
      row('2025-01-08', 1, 479.6, 14648),
      row('2025-01-09', 1, 436.1, null),
    ]);
  });

  it('splits days at local midnight of the given zone', () => {
    const at = (iso: string, unit: number) => ({ t: Date.parse(iso), node: 'n', unitMemory: unit, anon: 1, file: 2, processes: [] });
    const samples = [at('2025-03-01T20:30:00Z', 1), at('2025-03-01T21:30:00Z', 2)];
    expect(summariseMemoryByDay(samples, 'Europe/Moscow').map((r) => [r.day, r.unitMemory])).toEqual([['2025-03-01', 1], ['2025-03-02', 2]]);
    expect(summariseMemoryByDay(samples, 'UTC').map((r) => [r.day, r.unitMemory])).toEqual([['2025-03-01', 2]]);
  });
});
