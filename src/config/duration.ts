import { z } from 'zod';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Strict grammar for durations: a positive integer and one unit of `s m h d w` (e.g. `15m`, `7d`). */
export const DURATION_PATTERN = /^([1-9][0-9]{0,5})([smhdw])$/;

/** Parses `15m`-style text to milliseconds; returns undefined for anything outside the grammar. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** A duration given as text (`30s`) or as a number of seconds, in milliseconds; no upper bound yet. */
const AnyDuration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (value > 0 && Number.isFinite(value)) return Math.round(value * 1000);
  } else {
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
  }
  ctx.addIssue({ code: 'custom', message: `"${String(value)}" is not a duration; use a number and one of s m h d w, e.g. 30s, 15m, 7d` });
  return z.NEVER;
});

/**
 * setTimeout takes at most 2^31−1 ms (~24.8 days); a longer delay overflows and fires at once, so a
 * `commandTimeout: 30d` would time every command out immediately. Every timer duration stays below.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration of at most `maxMs`, refused above with `at most 1h`. A timer (the default) must have its
 * maximum below {@link MAX_TIMER_MS}; `timer: false` is for spans that only bound data (retention).
 */
export function durationAtMost(maxMs: number, { timer = true }: { timer?: boolean } = {}) {
  if (timer && maxMs >= MAX_TIMER_MS) throw new Error(`a timer duration's maximum must stay below ${MAX_TIMER_MS} ms`);
  return AnyDuration.refine((ms) => ms <= maxMs, `at most ${formatDuration(maxMs)}`);
}

/** A timer duration with no tighter bound of its own: at most 24d, below setTimeout's limit. */
export const Duration = durationAtMost(24 * UNIT_MS.d);

/** Formats milliseconds back to the shortest exact duration text (`90000` → `90s`, `3600000` → `1h`). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
