/**
 * `/proc/<pid>/smaps_rollup` (Linux ≥ 4.14; the Pss_Anon/Pss_File/Pss_Shmem split since 5.x).
 * Pss_Anon is the figure a heap leak grows; RSS also moves when shared library pages are touched.
 */
import { z } from 'zod';
import { VipbotError } from '../errors.ts';

/** smaps_rollup figures in bytes; the Pss split is absent on kernels before 5.x. */
export const SmapsRollup = z.object({
  rss: z.number().int().nonnegative(),
  pss: z.number().int().nonnegative(),
  pssAnon: z.number().int().nonnegative().optional(),
  pssFile: z.number().int().nonnegative().optional(),
  pssShmem: z.number().int().nonnegative().optional(),
  anonymous: z.number().int().nonnegative().optional(),
  swap: z.number().int().nonnegative().optional(),
});
export type SmapsRollup = z.infer<typeof SmapsRollup>;

const OPTIONAL_FIELDS: Array<[string, keyof SmapsRollup]> = [
  ['Pss_Anon', 'pssAnon'],
  ['Pss_File', 'pssFile'],
  ['Pss_Shmem', 'pssShmem'],
  ['Anonymous', 'anonymous'],
  ['Swap', 'swap'],
];

/** Parses smaps_rollup into bytes (the file prints kB, which are KiB). */
export function parseSmapsRollup(text: string): SmapsRollup {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_]+):\s+(\d+)\s+kB\s*$/.exec(line.trim());
    if (match) kib.set(match[1]!, Number(match[2]));
  }
  const rss = kib.get('Rss');
  const pss = kib.get('Pss');
  if (rss === undefined || pss === undefined) {
    throw new VipbotError(
      'smaps_rollup_unrecognised',
      'smaps_rollup text has no "Rss:" and "Pss:" lines',
      'read /proc/<pid>/smaps_rollup as root (kernel 4.14 or later); without it RSS from ps is used alone',
    );
  }
  const out: SmapsRollup = { rss: rss * 1024, pss: pss * 1024 };
  for (const [label, key] of OPTIONAL_FIELDS) {
    const value = kib.get(label);
    if (value !== undefined) (out as Record<string, number>)[key] = value * 1024;
  }
  return out;
}
