/**
 * The `mem.log` of the notes' crontab: `systemctl status keepalived | egrep "Active|Memory"` appended
 * every hour. Each pair of lines is one sample:
 *
 *    Active: active (running) since Sat 2024-12-28 06:00:26 MSK; 1 day 1h ago
 *    Memory: 120.6M
 *
 * The log has no time of its own: the sample time is the `since` timestamp plus the relative `… ago`,
 * which systemd truncates (`2 days ago` means anything from 2d to 2d 23h 59m), so each entry carries the
 * granularity of its relative part and the importer can place it more precisely when it can.
 */
import { z } from 'zod';
import { VipbotError } from '../errors.ts';
import { parseSystemdBytes } from './bytes.ts';
import { resolveLogZone, wallTimeToEpoch, type ZoneSpec } from './timezone.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** systemd's USEC_PER_MONTH and USEC_PER_YEAR (30.44 and 365.25 days). */
const MONTH = 2_629_800 * SECOND;
const YEAR = 31_557_600 * SECOND;

const UNIT_MS: Array<[RegExp, number]> = [
  [/^(?:years?|y)$/, YEAR],
  [/^(?:months?|M)$/, MONTH],
  [/^(?:weeks?|w)$/, 7 * DAY],
  [/^(?:days?|d)$/, DAY],
  [/^(?:hours?|h)$/, HOUR],
  [/^(?:minutes?|min|m)$/, MINUTE],
  [/^(?:seconds?|sec|s)$/, SECOND],
  [/^(?:msec|ms)$/, 1],
  [/^(?:usec|us|µs)$/, 0.001],
];

/** A relative time as systemd prints it: its value and the size of its last printed unit. */
export const SystemdRelativeTime = z.object({ ms: z.number().nonnegative(), granularityMs: z.number().positive() });
export type SystemdRelativeTime = z.infer<typeof SystemdRelativeTime>;

/**
 * Parses systemd's relative forms (`format_timestamp_relative`): `1 day 1h ago`, `2 days ago`,
 * `1 weeks 0 days ago` (older systemd pluralises always), `3h 5min ago`, `45s ago`, `1 month 2 days ago`,
 * `1 year 2 months ago`, `now`. The trailing `ago` is optional. Returns undefined for anything else.
 */
export function parseSystemdRelativeTime(text: string): SystemdRelativeTime | undefined {
  const trimmed = text.trim().replace(/\s+ago$/, '');
  if (trimmed === 'now') return { ms: 0, granularityMs: SECOND };
  const tokens = trimmed.match(/\d+\s*[A-Za-zµ]+/g);
  if (!tokens || tokens.join('').replace(/\s+/g, '') !== trimmed.replace(/\s+/g, '')) return undefined;
  let ms = 0;
  let granularityMs = Infinity;
  for (const token of tokens) {
    const match = /^(\d+)\s*([A-Za-zµ]+)$/.exec(token);
    if (!match) return undefined;
    const unit = UNIT_MS.find(([pattern]) => pattern.test(match[2]!));
    if (!unit) return undefined;
    ms += Number(match[1]) * unit[1];
    granularityMs = Math.min(granularityMs, unit[1]);
  }
  return { ms: Math.round(ms), granularityMs: Math.max(1, granularityMs) };
}

/** One dated line pair from mem.log. */
export const StatusLogEntry = z.object({
  /** 1-based line number of the `Active:` line. */
  line: z.number().int().positive(),
  /** `active`, `inactive`, `failed`, `activating`, … */
  state: z.string(),
  /** When the unit entered that state (epoch ms). */
  since: z.number().int(),
  /** The relative part (`1 day 1h`) in ms and the size of its smallest printed unit. */
  agoMs: z.number().nonnegative(),
  granularityMs: z.number().positive(),
  /** Earliest possible sample time: since + ago. The real time is within [t, t + granularityMs). */
  t: z.number().int(),
  /** `Memory:` of the unit in bytes, when the log had that line. */
  unitMemory: z.number().int().nonnegative().optional(),
});
export type StatusLogEntry = z.infer<typeof StatusLogEntry>;

const ACTIVE_LINE = /Active:\s+([a-z-]+)(?:\s+\([^)]*\))?(?:\s+since\s+([^;]+);\s*(.+?))?\s*$/;
const MEMORY_LINE = /Memory:\s+(\d+(?:\.\d+)?[BKMGTPE]?)\b/;
const SINCE = /^(?:[A-Za-z]{3}\s+)?(\d{4})-(\d{2})-(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\s+(\S+))?$/;

/** Parses systemd's `since` timestamp (`Sat 2024-12-28 06:00:26 MSK`) into epoch ms. */
export function parseSystemdTimestamp(text: string, fallbackZone: ZoneSpec | undefined, where: string): number {
  const match = SINCE.exec(text.trim());
  if (!match) {
    throw new VipbotError('memory_log_bad_timestamp', `${where}: "${text.trim()}" is not a systemd timestamp`, 'expected e.g. "Sat 2024-12-28 06:00:26 MSK"');
  }
  const zone = match[7] === undefined ? fallbackZone : resolveLogZone(match[7], fallbackZone, where);
  if (!zone) {
    throw new VipbotError('memory_unknown_timezone', `${where}: the timestamp has no time zone`, 'pass --tz with the hosts\' zone, e.g. --tz Europe/Moscow');
  }
  return wallTimeToEpoch(
    { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]), hour: Number(match[4]), minute: Number(match[5]), second: Number(match[6]) },
    zone,
  );
}

/**
 * Parses mem.log text into dated entries, in file order. A `Memory:` line belongs to the `Active:` line
 * before it; `Memory:` lines with no datable `Active:` line before them are skipped (they cannot be
 * placed in time). Throws `memory_log_unrecognised` when nothing in the text is a status line, and
 * `memory_unknown_timezone` when a zone abbreviation is not known and no `tz` was given.
 */
export function parseSystemdStatusLog(text: string, options: { tz?: ZoneSpec } = {}): StatusLogEntry[] {
  const entries: StatusLogEntry[] = [];
  let current: StatusLogEntry | undefined;
  let sawStatusLine = false;
  text.split('\n').forEach((raw, index) => {
    const lineNo = index + 1;
    const active = ACTIVE_LINE.exec(raw);
    if (active) {
      sawStatusLine = true;
      current = undefined;
      if (active[2] === undefined || active[3] === undefined) return;
      const relative = parseSystemdRelativeTime(active[3]);
      // "… left" is a future time (a timer), not a sample time.
      if (!relative || (!/ago$/.test(active[3].trim()) && active[3].trim() !== 'now')) return;
      const since = parseSystemdTimestamp(active[2], options.tz, `mem.log line ${lineNo}`);
      current = { line: lineNo, state: active[1]!, since, agoMs: relative.ms, granularityMs: relative.granularityMs, t: since + relative.ms };
      entries.push(current);
      return;
    }
    const memory = MEMORY_LINE.exec(raw);
    if (memory) {
      sawStatusLine = true;
      const bytes = parseSystemdBytes(memory[1]!);
      if (current && current.unitMemory === undefined && bytes !== undefined) current.unitMemory = bytes;
      current = undefined;
    }
  });
  if (!sawStatusLine) {
    throw new VipbotError(
      'memory_log_unrecognised',
      'mem.log has no "Active:" or "Memory:" lines from systemctl status',
      'give the file written by `systemctl status keepalived | egrep "Active|Memory" >> mem.log`',
    );
  }
  return entries;
}
