/**
 * Import of the logs teams already collect with the notes' crontab:
 *
 *     0 * * * * systemctl status keepalived | egrep "Active|Memory" >> mem.log 2>&1
 *     0 * * * * date >> ps_mem.log && ps aux | egrep '[k]eepalived|[V]SZ' >> ps_mem.log 2>&1
 *
 * mem.log gives unit memory at coarse times (systemd truncates "2 days 5h ago" to "2 days ago");
 * ps_mem.log gives processes at exact times. Both lines run from the same cron minute, so a mem.log
 * entry is placed on a ps_mem.log `date` inside its uncertainty window when there is one, and the two
 * become one sample.
 */
import { parsePsMemLog, type PsLogBlock } from './parse-ps-mem-log.ts';
import { parseSystemdStatusLog, type StatusLogEntry } from './parse-systemd-status-log.ts';
import { sortSamples, type MemorySample } from './sample.ts';
import { parseTimeZoneOption, type ZoneSpec } from './timezone.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Samples closer than this are one sample (the two cron lines run in the same minute). */
export const DEFAULT_MERGE_WINDOW_MS = 5 * MINUTE;

/** What `vipbot memory import --node <node> mem.log ps_mem.log [--tz …]` hands to the importer. */
export interface ImportCronLogsInput {
  node: string;
  /** Text of mem.log (`systemctl status … | egrep "Active|Memory"`). */
  memLog?: string;
  /** Text of ps_mem.log (`date` + `ps aux | egrep …`). */
  psLog?: string;
  /** Zone for timestamps whose abbreviation is not known (`Europe/Moscow`, `+03:00`). */
  tz?: string | ZoneSpec;
  mergeWindowMs?: number;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function positiveDiffs(times: number[]): number[] {
  const diffs: number[] = [];
  for (let i = 1; i < times.length; i += 1) {
    const d = times[i]! - times[i - 1]!;
    if (d > 0) diffs.push(d);
  }
  return diffs;
}

/** Index of the first element ≥ value in a sorted array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How far a ps_mem.log `date` may precede the earliest possible time of a mem.log entry and still be
 * the same cron run: the two crontab lines start together but print a second or two apart.
 */
const SAME_RUN_SKEW_MS = 60_000;

/** Index of the unused ps time nearest to `value` within [min, max], or -1. */
function nearestUnused(ps: readonly number[], isUsed: (j: number) => boolean, value: number, min: number, max: number): number {
  let best = -1;
  for (let j = lowerBound(ps, min); j < ps.length && ps[j]! <= max; j += 1) {
    if (isUsed(j)) continue;
    if (best === -1 || Math.abs(ps[j]! - value) < Math.abs(ps[best]! - value)) best = j;
  }
  return best;
}

/**
 * Sample times for mem.log entries, in file order (which is time order). An entry's real time lies in
 * [since + ago, + the granularity of the relative text). Fine entries (minutes) take the ps_mem.log
 * `date` next to them. Consecutive coarse entries with the same text form a group ("2 days ago" ×24 in
 * a full hourly log), which is laid on the unused ps dates inside its window — the alignment matching
 * most entries, earliest on a tie; without ps dates, the group is spread at the log's cadence.
 */
export function placeStatusEntries(entries: readonly StatusLogEntry[], psTimes: readonly number[], toleranceMs = DEFAULT_MERGE_WINDOW_MS): number[] {
  const ps = [...psTimes].sort((a, b) => a - b);
  const fine = entries.filter((e) => e.granularityMs <= HOUR).map((e) => e.t);
  const cadence = median(positiveDiffs(ps)) ?? median(positiveDiffs(fine)) ?? HOUR;
  const used = new Set<number>();
  const times: number[] = [];
  let last = -Infinity;
  let i = 0;
  while (i < entries.length) {
    const first = entries[i]!;
    let k = 1;
    while (i + k < entries.length) {
      const e = entries[i + k]!;
      if (e.since !== first.since || e.agoMs !== first.agoMs || e.granularityMs !== first.granularityMs) break;
      k += 1;
    }
    const lo = first.t;
    const hi = lo + first.granularityMs;
    if (first.granularityMs <= toleranceMs) {
      for (let j = 0; j < k; j += 1) {
        const hit = nearestUnused(ps, (j) => used.has(j), lo, Math.max(last, lo - toleranceMs), lo + first.granularityMs + toleranceMs);
        if (hit !== -1) used.add(hit);
        last = hit !== -1 ? ps[hit]! : Math.max(last, lo);
        times.push(last);
      }
      i += k;
      continue;
    }
    let best: { hits: number[]; count: number; start: number } | undefined;
    for (let c = lowerBound(ps, Math.max(last, lo - SAME_RUN_SKEW_MS)); c < ps.length && ps[c]! < hi + SAME_RUN_SKEW_MS; c += 1) {
      if (used.has(c)) continue;
      const hits: number[] = [c];
      const taken = new Set([c]);
      let prev = ps[c]!;
      for (let j = 1; j < k; j += 1) {
        const expected = ps[c]! + j * cadence;
        const hit = expected < hi + SAME_RUN_SKEW_MS
          ? nearestUnused(ps, (x) => used.has(x) || taken.has(x), expected, Math.max(prev + 1, expected - toleranceMs), Math.min(expected + toleranceMs, hi + SAME_RUN_SKEW_MS))
          : -1;
        hits.push(hit);
        if (hit !== -1) {
          taken.add(hit);
          prev = ps[hit]!;
        }
      }
      const count = hits.filter((h) => h !== -1).length;
      if (!best || count > best.count) best = { hits, count, start: ps[c]! };
    }
    if (best) {
      for (let j = 0; j < k; j += 1) {
        const hit = best.hits[j]!;
        if (hit !== -1) used.add(hit);
        last = hit !== -1 ? ps[hit]! : Math.max(last, best.start + j * cadence);
        times.push(last);
      }
    } else {
      const step = Math.min(cadence, first.granularityMs / k);
      for (let j = 0; j < k; j += 1) {
        last = Math.max(last, Math.round(lo + j * step));
        times.push(last);
      }
    }
    i += k;
  }
  return times;
}

function statusSample(node: string, entry: StatusLogEntry, t: number): MemorySample {
  const sample: MemorySample = { t, node, processes: [], active: entry.state === 'active' };
  if (entry.unitMemory !== undefined) sample.unitMemory = entry.unitMemory;
  // `since` is the start time only while active; for inactive/failed it is when it stopped.
  if (entry.state === 'active') sample.startedAt = new Date(entry.since).toISOString();
  return sample;
}

function psSample(node: string, block: PsLogBlock): MemorySample {
  const sample: MemorySample = { t: block.t, node, processes: block.processes };
  if (block.psSeen && block.processes.length === 0) sample.active = false;
  return sample;
}

/**
 * Reads mem.log and/or ps_mem.log of one node into one sorted series: unit memory from mem.log,
 * processes from ps_mem.log, merged where they were taken at the same time (within `mergeWindowMs`).
 * Throws coded errors for unrecognised files and unknown time zones (asking for `--tz`).
 */
export function importCronLogs(input: ImportCronLogsInput): MemorySample[] {
  const tz = typeof input.tz === 'string' ? parseTimeZoneOption(input.tz) : input.tz;
  const tolerance = input.mergeWindowMs ?? DEFAULT_MERGE_WINDOW_MS;
  const blocks = input.psLog !== undefined ? parsePsMemLog(input.psLog, { tz }) : [];
  const psSamples = sortSamples(blocks.filter((b) => b.psSeen).map((b) => psSample(input.node, b)));
  const entries = input.memLog !== undefined ? parseSystemdStatusLog(input.memLog, { tz }) : [];
  const placed = placeStatusEntries(entries, psSamples.map((s) => s.t), tolerance);
  const statusSamples = sortSamples(entries.map((e, i) => statusSample(input.node, e, placed[i]!)));

  const merged: MemorySample[] = [];
  const used = new Set<number>();
  const psTimes = psSamples.map((s) => s.t);
  for (const status of statusSamples) {
    let bestIndex = -1;
    for (let j = lowerBound(psTimes, status.t - tolerance); j < psSamples.length && psTimes[j]! <= status.t + tolerance; j += 1) {
      if (used.has(j)) continue;
      const d = Math.abs(psSamples[j]!.t - status.t);
      if (d <= tolerance && (bestIndex === -1 || d < Math.abs(psSamples[bestIndex]!.t - status.t))) bestIndex = j;
    }
    if (bestIndex === -1) {
      merged.push(status);
      continue;
    }
    used.add(bestIndex);
    const ps = psSamples[bestIndex]!;
    // ps_mem.log's `date` is exact; mem.log's time is only as fine as systemd's relative text.
    merged.push({ ...status, ...ps, processes: ps.processes, active: ps.active ?? status.active });
  }
  psSamples.forEach((s, j) => {
    if (!used.has(j)) merged.push(s);
  });
  return sortSamples(merged);
}
