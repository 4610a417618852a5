/**
 * Turning the wall-clock times that `systemctl status` and `date` print into epoch milliseconds.
 *
 * Both print a zone *abbreviation* (`MSK`), which is ambiguous in general (IST is India, Israel or
 * Ireland), so only a short list of unambiguous ones is known; anything else needs `--tz`.
 */
import { VipbotError } from '../errors.ts';

/** A resolved zone: a fixed UTC offset, or an IANA zone whose offset depends on the date (DST). */
export type ZoneSpec = { kind: 'offset'; minutes: number } | { kind: 'iana'; name: string };

/**
 * Abbreviations we accept without `--tz`. Each maps to one fixed offset, which is what the abbreviation
 * means whenever it is printed (CEST is always +02:00; it is CET/CEST *choice* that follows DST).
 * MSK has been +03:00 since October 2014, which covers any log this bot will be asked to read.
 */
const KNOWN_ABBREVIATIONS: Record<string, number> = {
  UTC: 0,
  UT: 0,
  GMT: 0,
  Z: 0,
  MSK: 180,
  CET: 60,
  CEST: 120,
  EET: 120,
  EEST: 180,
};

const OFFSET_PATTERN = /^([+-])(\d{2}):?(\d{2})?$/;

function parseNumericOffset(text: string): number | undefined {
  const match = OFFSET_PATTERN.exec(text);
  if (!match) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3] ?? '0');
  if (hours > 14 || minutes > 59) return undefined;
  return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function isIanaZone(name: string): boolean {
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a `--tz` value: an IANA zone (`Europe/Moscow`), a numeric offset (`+03:00`, `+0300`, `-05`)
 * or one of the known abbreviations. Throws `memory_bad_timezone` for anything else.
 */
export function parseTimeZoneOption(text: string): ZoneSpec {
  const value = text.trim();
  const offset = parseNumericOffset(value);
  if (offset !== undefined) return { kind: 'offset', minutes: offset };
  const known = KNOWN_ABBREVIATIONS[value.toUpperCase()];
  if (known !== undefined) return { kind: 'offset', minutes: known };
  if (isIanaZone(value)) return { kind: 'iana', name: value };
  throw new VipbotError(
    'memory_bad_timezone',
    `"${value}" is not a time zone`,
    'use an IANA zone such as Europe/Moscow, or an offset such as +03:00',
  );
}

/**
 * Resolves the zone printed in a log line. A known abbreviation or numeric offset (tzdata prints `+05`
 * for zones without a name) wins; otherwise the caller's `--tz` is used; otherwise a coded error says
 * to pass `--tz`, because guessing would shift every sample by hours.
 */
export function resolveLogZone(abbreviation: string, fallback: ZoneSpec | undefined, where: string): ZoneSpec {
  const offset = parseNumericOffset(abbreviation);
  if (offset !== undefined) return { kind: 'offset', minutes: offset };
  const known = KNOWN_ABBREVIATIONS[abbreviation.toUpperCase()];
  if (known !== undefined) return { kind: 'offset', minutes: known };
  if (fallback) return fallback;
  throw new VipbotError(
    'memory_unknown_timezone',
    `${where}: unknown time zone "${abbreviation}"`,
    'pass --tz with the hosts\' zone, e.g. --tz Europe/Moscow or --tz +03:00 (known without --tz: ' +
      `${Object.keys(KNOWN_ABBREVIATIONS).join(', ')} and numeric offsets)`,
  );
}

/** Wall-clock fields; month is 1-12. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall-clock time in an IANA zone at an instant. */
export function wallTimeInZone(t: number, zone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(t))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

function wallAsUtc(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** UTC offset of an IANA zone at an instant, in minutes. */
export function zoneOffsetMinutes(t: number, zone: string): number {
  const seconds = Math.floor(t / 1000) * 1000;
  return Math.round((wallAsUtc(wallTimeInZone(seconds, zone)) - seconds) / 60_000);
}

/**
 * Epoch ms of a wall-clock time in a zone. For IANA zones the offset is found by iterating on the guess
 * (twice is enough except inside a DST jump, where the earlier offset is taken).
 */
export function wallTimeToEpoch(wall: WallTime, zone: ZoneSpec): number {
  const asUtc = wallAsUtc(wall);
  if (zone.kind === 'offset') return asUtc - zone.minutes * 60_000;
  let guess = asUtc - zoneOffsetMinutes(asUtc, zone.name) * 60_000;
  guess = asUtc - zoneOffsetMinutes(guess, zone.name) * 60_000;
  return guess;
}

/** `YYYY-MM-DD` of an instant in an IANA zone (the calendar day a person in that zone would say). */
export function dayKeyInZone(t: number, zone: string): string {
  const w = wallTimeInZone(t, zone);
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** Epoch ms of local midnight starting the day that contains `t`, in an IANA zone. */
export function startOfDayInZone(t: number, zone: string): number {
  const w = wallTimeInZone(t, zone);
  return wallTimeToEpoch({ year: w.year, month: w.month, day: w.day, hour: 0, minute: 0, second: 0 }, { kind: 'iana', name: zone });
}

/** Month abbreviations as C-locale `date` and `ps` print them. */
export const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};
