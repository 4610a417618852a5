/**
 * One memory sample of keepalived on one node: what the hourly sampler (or an imported cron log) saw.
 * All sizes are bytes. Optional fields are "not measured", never zero: a host that could not be read
 * yields no sample at all (a gap), and a log that only has `systemctl status` lines yields samples
 * without processes.
 */
import { z } from 'zod';

const Bytes = z.number().int().nonnegative();

/** One keepalived process as `ps` (and, when readable, `/proc/<pid>/smaps_rollup`) reported it. */
export const MemoryProcess = z.object({
  pid: z.number().int().positive(),
  /** Parent pid, when the ps format had it (`ps aux` has not). */
  ppid: z.number().int().nonnegative().optional(),
  /** Resident set size in bytes (ps prints KiB). */
  rss: Bytes,
  /** Virtual size in bytes (ps prints KiB). */
  vsz: Bytes,
  /** Proportional anonymous memory from smaps_rollup (kernel ≥ 5.x): the part of RSS a leak would grow. */
  pssAnon: Bytes.optional(),
  /** Accumulated CPU time; tells the busy VRRP child from the idle checker when args are identical. */
  cpuSeconds: z.number().nonnegative().optional(),
  /** Seconds since the process started (`etimes`). */
  elapsedSeconds: z.number().int().nonnegative().optional(),
  /** ps STAT (`Ss` marks the session leader, i.e. keepalived's parent under systemd). */
  stat: z.string().optional(),
  /** Command line as ps printed it. */
  command: z.string().optional(),
});
export type MemoryProcess = z.infer<typeof MemoryProcess>;

/** One sample of one node (see the file comment for what absent fields mean). */
export const MemorySample = z.object({
  /** Epoch milliseconds. */
  t: z.number().int(),
  node: z.string().min(1),
  /** systemd `MemoryCurrent` of the unit: the cgroup's charge, page cache included. */
  unitMemory: Bytes.optional(),
  /** cgroup memory.stat anonymous memory (v2 `anon`, v1 `total_rss`). */
  anon: Bytes.optional(),
  /** cgroup memory.stat file-backed memory, i.e. page cache (v2 `file`, v1 `total_cache`). */
  file: Bytes.optional(),
  /** keepalived processes seen; empty when ps was not sampled or keepalived was not running. */
  processes: z.array(MemoryProcess),
  /** systemd `MainPID` (keepalived's parent). */
  mainPid: z.number().int().positive().optional(),
  /** When the unit entered the active state (ISO 8601), from systemd; changes on every restart. */
  startedAt: z.string().optional(),
  /** Whether the unit was active; false with no processes means keepalived was down (not a gap). */
  active: z.boolean().optional(),
});
export type MemorySample = z.infer<typeof MemorySample>;

/** Sum of RSS over the sample's keepalived processes (bytes); undefined when ps was not sampled. */
export function totalRss(sample: MemorySample): number | undefined {
  if (sample.processes.length === 0) return undefined;
  return sample.processes.reduce((sum, p) => sum + p.rss, 0);
}

/** Sum of VSZ over the sample's keepalived processes (bytes); undefined when ps was not sampled. */
export function totalVsz(sample: MemorySample): number | undefined {
  if (sample.processes.length === 0) return undefined;
  return sample.processes.reduce((sum, p) => sum + p.vsz, 0);
}

/** Sum of Pss_Anon over the processes, only when every process has it (a partial sum would mislead). */
export function totalPssAnon(sample: MemorySample): number | undefined {
  if (sample.processes.length === 0) return undefined;
  let sum = 0;
  for (const p of sample.processes) {
    if (p.pssAnon === undefined) return undefined;
    sum += p.pssAnon;
  }
  return sum;
}

/** True when the sample says anything about ps (processes seen, or the unit known to be down). */
export function hasProcessReading(sample: MemorySample): boolean {
  return sample.processes.length > 0 || sample.active === false;
}

/** Samples sorted by time (stable), without mutating the input. */
export function sortSamples(samples: readonly MemorySample[]): MemorySample[] {
  return samples.map((s, i) => ({ s, i })).sort((a, b) => a.s.t - b.s.t || a.i - b.i).map(({ s }) => s);
}

/** Samples whose time lies in [from, to] (inclusive), sorted. */
export function selectSamplesInWindow(samples: readonly MemorySample[], window: { from: number; to: number }): MemorySample[] {
  return sortSamples(samples.filter((s) => s.t >= window.from && s.t <= window.to));
}
