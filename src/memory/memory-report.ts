/**
 * The shapes of a node's memory report and the verdict thresholds (the config may override these).
 * Kept apart from the analysis so the payload and chart modules can import them without a cycle.
 */
import { z } from 'zod';
import { ProcessRole } from './process-roles.ts';
import { MemoryRestart } from './series.ts';
import { MemoryGap } from './trend.ts';

const KIB = 1024;
const MIB = 1024 * 1024;

/** Verdict thresholds; the config's `memory.thresholds` may override any of them. */
export const MemoryThresholds = z.object({
  /** Fewer samples than this in the window: insufficient_data. */
  minSamples: z.number().int().min(2).default(6),
  /** A window of samples shorter than this: insufficient_data. */
  minSpanHours: z.number().positive().default(6),
  /** A rising trend must span at least this long to be called a leak (start-up growth settles within a day). */
  leakMinSpanDays: z.number().positive().default(2),
  /** …and be this steady (least-squares r²). */
  leakMinR2: z.number().min(0).max(1).default(0.7),
  /** RSS growth (per process, or keepalived's total) above this per day is a leak candidate. */
  rssGrowthPerDay: z.number().nonnegative().default(256 * KIB),
  /** cgroup anonymous memory growth above this per day is a leak candidate (check scripts run in the unit too, so more slack). */
  anonGrowthPerDay: z.number().nonnegative().default(1 * MIB),
  /** Unit memory growing faster than this is "growing" in the message. */
  unitGrowthPerDay: z.number().nonnegative().default(1 * MIB),
  /** An interval longer than this × the median interval is a gap. */
  gapFactor: z.number().min(1).default(1.5),
});
export type MemoryThresholds = z.infer<typeof MemoryThresholds>;
/** Thresholds as the config gives them: any subset, defaults fill the rest. */
export type MemoryThresholdsInput = z.input<typeof MemoryThresholds>;

/** The defaults, for callers without a config. */
export const DEFAULT_THRESHOLDS: MemoryThresholds = MemoryThresholds.parse({});

/** SPEC §6 verdicts. */
export const MemoryVerdict = z.enum(['no_leak', 'possible_leak', 'insufficient_data']);
export type MemoryVerdict = z.infer<typeof MemoryVerdict>;

/** first/last/min/max of one measure over the window, with its least-squares growth per day (bytes). */
export const MetricSummary = z.object({
  samples: z.number().int().positive(),
  first: z.number(),
  last: z.number(),
  min: z.number(),
  max: z.number(),
  /** Bytes per day; null with fewer than two distinct times. */
  perDay: z.number().nullable(),
  r2: z.number().nullable(),
});
export type MetricSummary = z.infer<typeof MetricSummary>;

/** RSS over time of one keepalived process. */
export const ProcessTrend = z.object({
  pid: z.number().int(),
  role: ProcessRole,
  /** `pid 23147 (VRRP child)` */
  label: z.string(),
  from: z.number(),
  to: z.number(),
  rss: MetricSummary,
  vsz: MetricSummary,
  pssAnon: MetricSummary.nullable(),
});
export type ProcessTrend = z.infer<typeof ProcessTrend>;

/** A steady rise that makes the verdict possible_leak. */
export const LeakFinding = z.object({
  subject: z.enum(['process', 'rss', 'anon']),
  pid: z.number().int().optional(),
  /** `pid 23147 (VRRP child) RSS`, `keepalived total RSS`, `cgroup anon`. */
  label: z.string(),
  perDay: z.number(),
  r2: z.number(),
  spanDays: z.number(),
  from: z.number(),
  to: z.number(),
});
export type LeakFinding = z.infer<typeof LeakFinding>;

/** Everything the analysis found for one node over one window (bytes, epoch ms). */
export const NodeMemoryReport = z.object({
  node: z.string(),
  window: z.object({ from: z.number(), to: z.number() }),
  /** Samples in the window. */
  samples: z.number().int().nonnegative(),
  firstSampleAt: z.number().nullable(),
  lastSampleAt: z.number().nullable(),
  unitMemory: MetricSummary.nullable(),
  anon: MetricSummary.nullable(),
  file: MetricSummary.nullable(),
  /** keepalived's total RSS (complete ps blocks only). */
  rss: MetricSummary.nullable(),
  vsz: MetricSummary.nullable(),
  pssAnon: MetricSummary.nullable(),
  restarts: z.array(MemoryRestart),
  processes: z.array(ProcessTrend),
  gaps: z.array(MemoryGap),
  /** ps blocks left out of the RSS total because they list fewer processes than their neighbours. */
  partialSamples: z.number().int().nonnegative(),
  leaks: z.array(LeakFinding),
  verdict: MemoryVerdict,
  /** One or two sentences for people; says why. */
  message: z.string(),
});
export type NodeMemoryReport = z.infer<typeof NodeMemoryReport>;
