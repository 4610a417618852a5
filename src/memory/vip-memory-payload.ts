/**
 * The `vip_memory` message metadata (SPEC §6): `{window, nodes: [{name, samples, unitMemory: {first,
 * last}, rss: {first, last, perDay}, vsz: {first, last}, restarts, verdict}]}` in bytes, plus fields
 * that save a reader from parsing the text (message, min/max, anon/file, gaps, leaks, per process).
 * Unmeasured values are null, never 0.
 */
import { z } from 'zod';
import { formatDuration } from '../config/duration.ts';
import { MemoryVerdict, type MetricSummary, type NodeMemoryReport } from './memory-report.ts';
import { ProcessRole } from './process-roles.ts';

const Num = z.number().nullable();

const FirstLast = z.object({ first: Num, last: Num });
const FirstLastTrend = FirstLast.extend({ min: Num, max: Num, perDay: Num });

/** One node of the `vip_memory` payload. */
export const VipMemoryNode = z.object({
  name: z.string(),
  samples: z.number().int().nonnegative(),
  unitMemory: FirstLastTrend,
  rss: FirstLastTrend,
  vsz: FirstLast.extend({ min: Num, max: Num }),
  anon: FirstLastTrend,
  file: FirstLastTrend,
  restarts: z.number().int().nonnegative(),
  restartTimes: z.array(z.string()),
  verdict: MemoryVerdict,
  message: z.string(),
  gaps: z.array(z.object({ from: z.string(), to: z.string(), missed: z.number().int() })),
  leaks: z.array(z.object({ label: z.string(), perDay: z.number(), r2: z.number(), spanDays: z.number() })),
  processes: z.array(z.object({
    pid: z.number().int(),
    role: ProcessRole,
    label: z.string(),
    rss: z.object({ first: z.number(), last: z.number(), perDay: Num }),
  })),
});
export type VipMemoryNode = z.infer<typeof VipMemoryNode>;

/** The `vip_memory` event payload. */
export const VipMemoryPayload = z.object({
  /** The window as typed (`7d`), or its length. */
  window: z.string(),
  from: z.string(),
  to: z.string(),
  nodes: z.array(VipMemoryNode),
});
export type VipMemoryPayload = z.infer<typeof VipMemoryPayload>;

const round = (n: number | null | undefined): number | null => (n === null || n === undefined ? null : Math.round(n));

function firstLast(m: MetricSummary | null): z.infer<typeof FirstLast> {
  return { first: round(m?.first), last: round(m?.last) };
}

function withTrend(m: MetricSummary | null): z.infer<typeof FirstLastTrend> {
  return { ...firstLast(m), min: round(m?.min), max: round(m?.max), perDay: round(m?.perDay) };
}

const iso = (t: number): string => new Date(t).toISOString();

/** Builds the `vip_memory` event payload from per-node reports. */
export function toVipMemoryPayload(window: { from: number; to: number; label?: string }, reports: readonly NodeMemoryReport[]): VipMemoryPayload {
  return {
    window: window.label ?? formatDuration(window.to - window.from),
    from: iso(window.from),
    to: iso(window.to),
    nodes: reports.map((r) => ({
      name: r.node,
      samples: r.samples,
      unitMemory: withTrend(r.unitMemory),
      rss: withTrend(r.rss),
      vsz: { ...firstLast(r.vsz), min: round(r.vsz?.min), max: round(r.vsz?.max) },
      anon: withTrend(r.anon),
      file: withTrend(r.file),
      restarts: r.restarts.length,
      restartTimes: r.restarts.map((x) => iso(x.t)),
      verdict: r.verdict,
      message: r.message,
      gaps: r.gaps.map((g) => ({ from: iso(g.from), to: iso(g.to), missed: g.missed })),
      leaks: r.leaks.map((l) => ({ label: l.label, perDay: Math.round(l.perDay), r2: Number(l.r2.toFixed(3)), spanDays: Number(l.spanDays.toFixed(2)) })),
      processes: r.processes.map((p) => ({ pid: p.pid, role: p.role, label: p.label, rss: { first: p.rss.first, last: p.rss.last, perDay: round(p.rss.perDay) } })),
    })),
  };
}
