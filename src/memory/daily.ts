/**
 * The per-day trend table of the memory summary: one row per calendar day in the team's zone, with the
 * day's last reading of each measure. Last (not mean) because the question is "where did it end up".
 */
import { z } from 'zod';
import { sortSamples, type MemorySample } from './sample.ts';
import { buildMemoryPoints } from './series.ts';
import { dayKeyInZone } from './timezone.ts';

/** One calendar day of the summary's trend table. */
export const MemoryDayRow = z.object({
  /** `YYYY-MM-DD` in the table's time zone. */
  day: z.string(),
  samples: z.number().int().nonnegative(),
  /** Last value of the day in bytes; null when not measured that day. */
  unitMemory: z.number().nullable(),
  rss: z.number().nullable(),
  file: z.number().nullable(),
  anon: z.number().nullable(),
});
export type MemoryDayRow = z.infer<typeof MemoryDayRow>;

/**
 * One row per calendar day (IANA `timeZone`, e.g. Europe/Moscow) that has samples, oldest first. RSS is
 * keepalived's total from complete ps blocks only (a cut-short block would fake a drop).
 */
export function summariseMemoryByDay(samples: readonly MemorySample[], timeZone: string): MemoryDayRow[] {
  const rows = new Map<string, MemoryDayRow>();
  for (const point of buildMemoryPoints(sortSamples(samples))) {
    const day = dayKeyInZone(point.t, timeZone);
    const row = rows.get(day) ?? { day, samples: 0, unitMemory: null, rss: null, file: null, anon: null };
    row.samples += 1;
    if (point.unitMemory !== undefined) row.unitMemory = point.unitMemory;
    if (point.rss !== undefined) row.rss = point.rss;
    if (point.file !== undefined) row.file = point.file;
    if (point.anon !== undefined) row.anon = point.anon;
    rows.set(day, row);
  }
  return [...rows.values()];
}
