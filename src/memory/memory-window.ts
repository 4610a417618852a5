/**
 * The `[window]` of `/vip memory`: a number and a unit (`24h`, `7d`, `2w`, `30d`), checked against a
 * strict grammar and the retention before anything uses it.
 */
import { z } from 'zod';
import { formatDuration } from '../config/duration.ts';
import { VipbotError } from '../errors.ts';

/** 1–999 followed by h, d or w. */
export const WINDOW_PATTERN = /^[1-9][0-9]{0,2}[hdw]$/;
/** Windows the help and the errors suggest. */
export const SUGGESTED_WINDOWS = ['24h', '7d', '2w', '30d'] as const;
export const DEFAULT_WINDOW = '7d';

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** A parsed window: the text as typed (the payload's label) and its length. */
export const MemoryWindow = z.object({
  label: z.string().regex(WINDOW_PATTERN),
  ms: z.number().int().positive(),
});
export type MemoryWindow = z.infer<typeof MemoryWindow>;

/** True when a token is meant as a window (starts with a digit), whether or not it is a valid one. */
export function looksLikeWindow(token: string): boolean {
  return /^[0-9]/.test(token);
}

function suggestions(retentionMs: number): string {
  const fitting = SUGGESTED_WINDOWS.filter((w) => parseWindowLength(w) <= retentionMs);
  return `${fitting.map((w) => `\`${w}\``).join(', ')} (a number and h, d or w, up to ${formatDuration(retentionMs)}, the memory.retention)`;
}

function parseWindowLength(text: string): number {
  const unit = text.slice(-1) as keyof typeof UNIT_MS;
  return Number(text.slice(0, -1)) * UNIT_MS[unit];
}

/**
 * Parses a window token; throws `bad_window` saying what would work when it is not `<n>h|d|w` or is
 * longer than what is kept (`retentionMs`).
 */
export function parseMemoryWindow(token: string, retentionMs: number): MemoryWindow {
  if (!WINDOW_PATTERN.test(token)) {
    throw new VipbotError('bad_window', `\`${token}\` is not a window.`, `Try ${suggestions(retentionMs)}.`);
  }
  const ms = parseWindowLength(token);
  if (ms > retentionMs) {
    throw new VipbotError('bad_window', `\`${token}\` is longer than the ${formatDuration(retentionMs)} of samples kept.`, `Try ${suggestions(retentionMs)}.`);
  }
  return { label: token, ms };
}
