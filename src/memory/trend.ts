/**
 * Small statistics for memory series: least-squares growth per day and sampling gaps.
 */
import { z } from 'zod';

const DAY_MS = 86_400_000;

/** A least-squares line through (t, value) points. */
export interface LinearTrend {
  /** Growth in value units (bytes) per day. */
  perDay: number;
  /** Coefficient of determination: 1 = a perfectly steady trend, ~0 = noise. 0 when the values are constant. */
  r2: number;
  n: number;
  /** Time covered by the points (ms). */
  spanMs: number;
}

/**
 * Fits value = a + b·t by ordinary least squares (t in days, so b is per day). Returns undefined with
 * fewer than two distinct times.
 */
export function fitLinearTrend(points: ReadonlyArray<{ t: number; value: number }>): LinearTrend | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const t0 = points[0]!.t;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += (p.t - t0) / DAY_MS;
    sy += p.value;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  let minT = Infinity;
  let maxT = -Infinity;
  for (const p of points) {
    const dx = (p.t - t0) / DAY_MS - mx;
    const dy = p.value - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
    minT = Math.min(minT, p.t);
    maxT = Math.max(maxT, p.t);
  }
  if (sxx === 0) return undefined;
  const perDay = sxy / sxx;
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { perDay, r2, n, spanMs: maxT - minT };
}

/** Median of numbers (undefined for none). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median spacing of sorted times (undefined with fewer than two distinct times). */
export function medianInterval(times: readonly number[]): number | undefined {
  const diffs: number[] = [];
  for (let i = 1; i < times.length; i += 1) {
    const d = times[i]! - times[i - 1]!;
    if (d > 0) diffs.push(d);
  }
  return median(diffs);
}

/** A stretch with no samples where some were expected. */
export const MemoryGap = z.object({
  /** Last sample before the gap (epoch ms). */
  from: z.number(),
  /** First sample after it. */
  to: z.number(),
  /** About how many samples are missing, at the median interval. */
  missed: z.number().int().positive(),
});
export type MemoryGap = z.infer<typeof MemoryGap>;

/**
 * Intervals longer than `factor` × the median interval of the sorted times. Needs at least three
 * times (two intervals) for the median to mean anything.
 */
export function findGaps(times: readonly number[], factor: number): MemoryGap[] {
  if (times.length < 3) return [];
  const typical = medianInterval(times);
  if (typical === undefined) return [];
  const gaps: MemoryGap[] = [];
  for (let i = 1; i < times.length; i += 1) {
    const d = times[i]! - times[i - 1]!;
    if (d > factor * typical) gaps.push({ from: times[i - 1]!, to: times[i]!, missed: Math.max(1, Math.round(d / typical) - 1) });
  }
  return gaps;
}

/** Union of gap lists from several streams: overlapping gaps become one (the larger `missed` kept). */
export function mergeGaps(lists: ReadonlyArray<readonly MemoryGap[]>): MemoryGap[] {
  const all = lists.flat().sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: MemoryGap[] = [];
  for (const gap of all) {
    const last = merged[merged.length - 1];
    if (last && gap.from < last.to) {
      last.to = Math.max(last.to, gap.to);
      last.missed = Math.max(last.missed, gap.missed);
    } else {
      merged.push({ ...gap });
    }
  }
  return merged;
}
