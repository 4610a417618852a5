/**
 * The memory job schedulers (BullMQ `upsertJobScheduler`) the config asks for, and what to change
 * in Redis to get there. Pure: the runtime reads the existing schedulers, asks `planSchedulerChanges`,
 * and applies the answer (see `scheduler-runtime.ts`).
 *
 * Scheduler ids are fixed names, so restarting with a changed config replaces a scheduler (and its
 * next delayed job) instead of adding a second one; a scheduler the config no longer asks for (the
 * daily summary without a channel) is removed.
 */
import { z } from 'zod';

/** Hourly (by default) sampling of every node. */
export const MEMORY_SAMPLE_SCHEDULER = 'memory-sample';
/** The daily summary to `memory.dailySummary.channel`. */
export const MEMORY_DAILY_SCHEDULER = 'memory-daily';
/** Every scheduler id this module owns; others on the queue are left alone. */
/** The status watch (config `status`), reconciled with the memory schedulers on the same queue. */
export const STATUS_WATCH_SCHEDULER = 'status-watch';
/** Every scheduler id vipbot manages: one the config no longer asks for is removed. */
export const MEMORY_SCHEDULER_IDS: readonly string[] = [MEMORY_SAMPLE_SCHEDULER, MEMORY_DAILY_SCHEDULER, STATUS_WATCH_SCHEDULER];

/** The part of `memory` in vipbot.yaml the schedulers follow. */
export interface MemoryScheduleConfig {
  sampleEvery: number;
  dailySummary?: { cron: string; timezone: string; channel?: string | undefined } | undefined;
}

/** Data of the daily summary job (the channel travels with the schedule, so a restart updates it). */
export const MemoryDailyData = z.object({
  channel: z.string().regex(/^[CG][A-Z0-9]{2,}$/),
  timezone: z.string().min(1),
});
export type MemoryDailyData = z.infer<typeof MemoryDailyData>;

/** Options of the jobs the schedulers create: one try (the next slot is the retry), bounded history. */
export const SCHEDULED_JOB_OPTS = {
  attempts: 1,
  removeOnComplete: { count: 50 },
  removeOnFail: { count: 200 },
} as const;

/** One scheduler as it should exist. */
export interface DesiredScheduler {
  id: string;
  repeat: { every: number; startDate: number } | { pattern: string; tz: string };
  template: { name: string; data: Record<string, unknown>; opts: typeof SCHEDULED_JOB_OPTS };
}

/** One scheduler as BullMQ reports it (`queue.getJobSchedulers()`). */
export interface ExistingScheduler {
  key: string;
  id?: string | null;
  every?: number;
  pattern?: string;
  tz?: string;
  template?: { data?: unknown };
}

/**
 * The next sampling time at or after `now`: sampling runs at whole multiples of `every` since the
 * epoch (the top of each hour for 1h), like the notes' `0 * * * *` crontab, so a restart does not shift
 * the series and several workers agree on the slot.
 */
export function nextSampleTime(now: number, everyMs: number): number {
  return Math.ceil(now / everyMs) * everyMs;
}

/**
 * A round to take at start: a fresh install should not wait up to a whole `sampleEvery` for its first
 * sample. Only when the next slot is more than half a period away, so the series stays about evenly
 * spaced; the job id names the slot, so workers starting together take one round between them.
 */
export function startSampleJob(now: number, everyMs: number): { jobId: string } | undefined {
  const next = nextSampleTime(now + 1, everyMs);
  return next - now > everyMs / 2 ? { jobId: `memory-sample-start-${next}` } : undefined;
}

/** The status watch's scheduler when the config has `status: {every, channel}`: its first round at once. */
export function desiredWatchScheduler(watch: { every: number } | undefined, now: number): DesiredScheduler[] {
  if (!watch) return [];
  return [{ id: STATUS_WATCH_SCHEDULER, repeat: { every: watch.every, startDate: now }, template: { name: 'status-watch', data: {}, opts: SCHEDULED_JOB_OPTS } }];
}

/** The schedulers the config asks for. `now` places the first sample on the next slot. */
export function desiredMemorySchedulers(memory: MemoryScheduleConfig, now: number): DesiredScheduler[] {
  const out: DesiredScheduler[] = [
    {
      id: MEMORY_SAMPLE_SCHEDULER,
      // startDate only matters when the scheduler is new or `every` changed; BullMQ keeps the slot otherwise.
      repeat: { every: memory.sampleEvery, startDate: nextSampleTime(now + 1, memory.sampleEvery) },
      template: { name: 'memory-sample', data: {}, opts: SCHEDULED_JOB_OPTS },
    },
  ];
  const daily = memory.dailySummary;
  if (daily?.channel) {
    const data: MemoryDailyData = { channel: daily.channel, timezone: daily.timezone };
    out.push({
      id: MEMORY_DAILY_SCHEDULER,
      repeat: { pattern: daily.cron, tz: daily.timezone },
      template: { name: 'memory-daily', data, opts: SCHEDULED_JOB_OPTS },
    });
  }
  return out;
}

function sameScheduler(existing: ExistingScheduler, desired: DesiredScheduler): boolean {
  const repeat = desired.repeat;
  const sameRepeat = 'every' in repeat
    ? existing.every === repeat.every && existing.pattern === undefined
    : existing.pattern === repeat.pattern && (existing.tz ?? undefined) === repeat.tz && existing.every === undefined;
  return sameRepeat && stableJson(existing.template?.data ?? {}) === stableJson(desired.template.data);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What to change: upsert the desired schedulers that are missing or differ (same id = replaced in
 * place, with its next job), remove our ids the config no longer asks for. Unchanged schedulers are
 * left as they are, so a restart does not move their next run.
 */
export function planSchedulerChanges(existing: readonly ExistingScheduler[], desired: readonly DesiredScheduler[]): { upsert: DesiredScheduler[]; remove: string[] } {
  const byId = new Map<string, ExistingScheduler>();
  for (const e of existing) byId.set(e.id ?? e.key, e);
  const upsert = desired.filter((d) => {
    const e = byId.get(d.id);
    return !e || !sameScheduler(e, d);
  });
  const wanted = new Set(desired.map((d) => d.id));
  const remove = [...byId.keys()].filter((id) => MEMORY_SCHEDULER_IDS.includes(id) && !wanted.has(id));
  return { upsert, remove };
}

const CRON_NAMES = /^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)$/i;

function cronAtom(atom: string, min: number, max: number): boolean {
  if (atom === '*' || atom === '?') return true;
  if (CRON_NAMES.test(atom)) return true;
  const range = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(atom);
  if (range) {
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    return lo >= min && hi <= max && lo <= hi;
  }
  const named = /^([a-z]{3})-([a-z]{3})$/i.exec(atom);
  return named !== null && CRON_NAMES.test(named[1]!) && CRON_NAMES.test(named[2]!);
}

/**
 * A cron pattern as BullMQ (cron-parser) takes it: 5 fields (minute hour day month weekday) or 6 with
 * seconds first; each field `*`, numbers, ranges, lists, `/step`, month and day names. Checked at
 * config load so a typo stops the process with the YAML path instead of failing the scheduler later.
 */
export function isValidCronPattern(text: string): boolean {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return false;
  const bounds: Array<[number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
  if (fields.length === 6) bounds.unshift([0, 59]);
  return fields.every((field, i) => {
    const [min, max] = bounds[i]!;
    return field.split(',').every((part) => {
      const [base, step, extra] = part.split('/');
      if (extra !== undefined || base === undefined || base === '') return false;
      if (step !== undefined && !/^[1-9]\d{0,2}$/.test(step)) return false;
      return cronAtom(base, min, max);
    });
  });
}

/** True for an IANA zone name this Node.js knows (`Europe/Moscow`, `UTC`). */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
