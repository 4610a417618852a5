/**
 * From raw samples to the series the analysis, the daily table and the chart share: restarts,
 * ps blocks that were cut short, and per-sample totals that can be compared with each other.
 */
import { z } from 'zod';
import { hasProcessReading, sortSamples, totalPssAnon, totalRss, totalVsz, type MemorySample } from './sample.ts';
import { findGaps, mergeGaps, type MemoryGap } from './trend.ts';

/** Two systemd start timestamps closer than this are the same start (rounding in what printed them). */
const SAME_START_MS = 2_000;

/** Which signal showed a restart. */
export const RestartReason = z.enum(['main_pid', 'started_at', 'pids']);
export type RestartReason = z.infer<typeof RestartReason>;

/** One keepalived restart seen between two samples. */
export const MemoryRestart = z.object({
  /** Best estimate of when keepalived restarted: systemd's start time when known, else the first sample after it. */
  t: z.number(),
  /** Last sample before and first sample after the restart. */
  after: z.number(),
  before: z.number(),
  reasons: z.array(RestartReason),
  detail: z.string(),
});
export type MemoryRestart = z.infer<typeof MemoryRestart>;

interface Detection {
  from: number;
  to: number;
  at?: number;
  reason: RestartReason;
  detail: string;
}

/**
 * Restarts of keepalived between samples: MainPID changed, systemd's start time changed, or none of
 * the previous keepalived pids is still there. Each signal is compared with the last sample that had
 * it (logs may carry one signal per line); detections whose intervals overlap are one restart.
 */
export function detectRestarts(samples: readonly MemorySample[]): MemoryRestart[] {
  const sorted = sortSamples(samples);
  const detections: Detection[] = [];
  let prevMain: { t: number; pid: number } | undefined;
  let prevStart: { t: number; at: number } | undefined;
  let prevPids: { t: number; pids: Set<number> } | undefined;
  for (const s of sorted) {
    if (s.mainPid !== undefined) {
      if (prevMain && prevMain.pid !== s.mainPid) {
        detections.push({ from: prevMain.t, to: s.t, reason: 'main_pid', detail: `main pid ${prevMain.pid} → ${s.mainPid}` });
      }
      prevMain = { t: s.t, pid: s.mainPid };
    }
    const startedAt = s.startedAt !== undefined ? Date.parse(s.startedAt) : NaN;
    if (Number.isFinite(startedAt)) {
      if (prevStart && Math.abs(prevStart.at - startedAt) > SAME_START_MS) {
        detections.push({ from: prevStart.t, to: s.t, at: startedAt, reason: 'started_at', detail: `started ${new Date(startedAt).toISOString()}` });
      }
      prevStart = { t: s.t, at: startedAt };
    }
    if (s.processes.length > 0) {
      const pids = new Set(s.processes.map((p) => p.pid));
      if (prevPids && ![...pids].some((pid) => prevPids!.pids.has(pid))) {
        detections.push({ from: prevPids.t, to: s.t, reason: 'pids', detail: `pids ${[...prevPids.pids].join(',')} → ${[...pids].join(',')}` });
      }
      prevPids = { t: s.t, pids };
    }
  }
  detections.sort((a, b) => a.to - b.to || a.from - b.from);
  const restarts: Array<MemoryRestart & { from: number }> = [];
  for (const d of detections) {
    const last = restarts[restarts.length - 1];
    if (last && d.from < last.after && d.to > last.from) {
      // Same restart seen by another signal: narrow the interval, keep every reason.
      last.from = Math.max(last.from, d.from);
      last.before = last.from;
      last.after = Math.min(last.after, d.to);
      if (!last.reasons.includes(d.reason)) last.reasons.push(d.reason);
      last.detail = `${last.detail}; ${d.detail}`;
      if (d.at !== undefined) last.t = d.at;
      continue;
    }
    restarts.push({ from: d.from, before: d.from, after: d.to, t: d.at ?? d.to, reasons: [d.reason], detail: d.detail });
  }
  return restarts.map(({ from: _from, ...r }) => ({ ...r, t: r.t > r.before && r.t <= r.after ? r.t : r.after }));
}

/** One sample reduced to comparable totals (bytes). */
export interface MemoryPoint {
  t: number;
  unitMemory?: number;
  anon?: number;
  file?: number;
  /** Sum of RSS over keepalived's processes; absent when ps was not sampled or the block was cut short. */
  rss?: number;
  vsz?: number;
  pssAnon?: number;
  /** The ps block lists fewer processes than the samples around it (an egrep -A excerpt cut it). */
  partial: boolean;
  /** Index of the run between restarts this sample belongs to (0 before the first restart). */
  segment: number;
}

/** Segment index of a time: how many restarts happened at or before it. */
export function segmentOf(t: number, restarts: readonly MemoryRestart[]): number {
  let segment = 0;
  for (const r of restarts) if (t >= r.after) segment += 1;
  return segment;
}

/**
 * Per-sample totals. A ps block with fewer processes than every neighbouring block of the same run is
 * "partial": its sum would show a drop (and then a jump that looks like growth) that never happened.
 * A lasting change in the number of processes is not partial, since its next neighbour agrees with it.
 */
export function buildMemoryPoints(samples: readonly MemorySample[], restarts: readonly MemoryRestart[] = detectRestarts(samples)): MemoryPoint[] {
  const sorted = sortSamples(samples);
  const segments = sorted.map((s) => segmentOf(s.t, restarts));
  const withPs = sorted.map((s, i) => ({ i, n: s.processes.length })).filter(({ n }) => n > 0);
  const partial = new Set<number>();
  withPs.forEach(({ i, n }, k) => {
    const neighbours = [withPs[k - 1], withPs[k + 1]].filter((x): x is { i: number; n: number } => x !== undefined && segments[x.i] === segments[i]);
    if (neighbours.length > 0 && neighbours.every((x) => n < x.n)) partial.add(i);
  });
  return sorted.map((s, i) => {
    const point: MemoryPoint = { t: s.t, partial: partial.has(i), segment: segments[i]! };
    if (s.unitMemory !== undefined) point.unitMemory = s.unitMemory;
    if (s.anon !== undefined) point.anon = s.anon;
    if (s.file !== undefined) point.file = s.file;
    if (!point.partial) {
      const rss = totalRss(s);
      const vsz = totalVsz(s);
      const pssAnon = totalPssAnon(s);
      if (rss !== undefined) point.rss = rss;
      if (vsz !== undefined) point.vsz = vsz;
      if (pssAnon !== undefined) point.pssAnon = pssAnon;
    }
    return point;
  });
}

/**
 * Sampling gaps: per stream (unit memory, ps), intervals longer than `factor` × that stream's median
 * interval, merged. Streams are judged apart because imported logs sample them at different moments.
 */
export function findSampleGaps(samples: readonly MemorySample[], factor: number): MemoryGap[] {
  const sorted = sortSamples(samples);
  const unitTimes = sorted.filter((s) => s.unitMemory !== undefined).map((s) => s.t);
  const psTimes = sorted.filter(hasProcessReading).map((s) => s.t);
  return mergeGaps([findGaps(unitTimes, factor), findGaps(psTimes, factor)]);
}
