/**
 * The `ps_mem.log` of the notes' crontab: `date >> ps_mem.log && ps aux | egrep '[k]eepalived|[V]SZ'`
 * every hour. Each block is a `date` line, the ps header and keepalived's lines. Excerpts made with
 * `egrep -A4 … | egrep -v …` add `--` separators and may cut a block short; the cron shell's and
 * systemctl's own lines match the egrep too and are skipped.
 */
import { z } from 'zod';
import { VipbotError } from '../errors.ts';
import { parsePsAuxHeader, parsePsAuxLine } from './parse-ps.ts';
import { MemoryProcess } from './sample.ts';
import { MONTHS, resolveLogZone, wallTimeToEpoch, type ZoneSpec } from './timezone.ts';

/** One `date` + `ps aux` block of ps_mem.log. */
export const PsLogBlock = z.object({
  /** 1-based line of the `date` line. */
  line: z.number().int().positive(),
  t: z.number().int(),
  /** keepalived processes in the block (bytes). */
  processes: z.array(MemoryProcess),
  /** True when the block had ps output at all (header or process lines): an empty list then means keepalived was not running. */
  psSeen: z.boolean(),
});
export type PsLogBlock = z.infer<typeof PsLogBlock>;

/** C-locale `date`: `Sun Dec 29 09:00:01 MSK 2024` (newer coreutils may add AM/PM). */
const DATE_C = /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\s+([AP]M))?\s+(\S+)\s+(\d{4})$/;
/** en_GB/en_US.UTF-8 `date`: `Sun 29 Dec 2024 09:00:01 AM MSK`. */
const DATE_DMY = /^[A-Za-z]{3},?\s+(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\s+([AP]M))?\s+(\S+)$/;
/** `date -Is` / `date --rfc-3339=seconds`. */
const DATE_ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/;

function hour24(hour: number, ampm: string | undefined): number {
  if (ampm === undefined) return hour;
  return (hour % 12) + (ampm === 'PM' ? 12 : 0);
}

/**
 * Parses one `date` output line into epoch ms, or undefined when the line is not a date.
 * Throws `memory_unknown_timezone` for a date whose zone is unknown and no `tz` was given.
 */
export function parseDateLine(line: string, tz: ZoneSpec | undefined, where: string): number | undefined {
  const text = line.trim();
  let m = DATE_C.exec(text);
  if (m) {
    const month = MONTHS[m[1]!.toLowerCase()];
    if (month === undefined) return undefined;
    const zone = resolveLogZone(m[7]!, tz, where);
    return wallTimeToEpoch({ year: Number(m[8]), month, day: Number(m[2]), hour: hour24(Number(m[3]), m[6]), minute: Number(m[4]), second: Number(m[5]) }, zone);
  }
  m = DATE_DMY.exec(text);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month === undefined) return undefined;
    const zone = resolveLogZone(m[8]!, tz, where);
    return wallTimeToEpoch({ year: Number(m[3]), month, day: Number(m[1]), hour: hour24(Number(m[4]), m[7]), minute: Number(m[5]), second: Number(m[6]) }, zone);
  }
  m = DATE_ISO.exec(text);
  if (m) {
    const zone = resolveLogZone(m[7] === 'Z' ? 'UTC' : m[7]!, tz, where);
    return wallTimeToEpoch({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) }, zone);
  }
  return undefined;
}

/**
 * Parses ps_mem.log into dated blocks in file order. ps lines before the first `date` line cannot be
 * placed in time and are skipped. Throws `memory_log_unrecognised` when the text has no `date` line.
 */
export function parsePsMemLog(text: string, options: { tz?: ZoneSpec } = {}): PsLogBlock[] {
  const blocks: PsLogBlock[] = [];
  let current: PsLogBlock | undefined;
  let header: string[] | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (line.trim() === '' || line.trim() === '--') return;
    const t = parseDateLine(line, options.tz, `ps_mem.log line ${index + 1}`);
    if (t !== undefined) {
      current = { line: index + 1, t, processes: [], psSeen: false };
      blocks.push(current);
      return;
    }
    if (!current) return;
    const parsedHeader = parsePsAuxHeader(line);
    if (parsedHeader) {
      header = parsedHeader;
      current.psSeen = true;
      return;
    }
    const process = parsePsAuxLine(line, header);
    if (process) {
      current.psSeen = true;
      // egrep -A can repeat a line when excerpts overlap; one pid once per block.
      if (!current.processes.some((p) => p.pid === process.pid)) current.processes.push(process);
    }
  });
  if (blocks.length === 0 && text.trim() !== '') {
    throw new VipbotError(
      'memory_log_unrecognised',
      'ps_mem.log has no `date` lines to date the ps output',
      'give the file written by `date >> ps_mem.log && ps aux | egrep \'[k]eepalived|[V]SZ\' >> ps_mem.log`',
    );
  }
  return blocks;
}
