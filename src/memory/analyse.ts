/**
 * The memory verdict for one node over a window: is keepalived leaking, or is `systemctl status`
 * "Memory:" just page cache? The unit's figure (cgroup MemoryCurrent) counts file cache that the kernel
 * reclaims when it needs to, so growth there alone means nothing; a leak shows as keepalived's own RSS
 * (or the cgroup's anonymous memory) growing steadily over days.
 */
import { formatBytes, formatRatePerDay } from './bytes.ts';
import {
  DEFAULT_THRESHOLDS,
  MemoryThresholds,
  type LeakFinding,
  type MemoryThresholdsInput,
  type MetricSummary,
  type NodeMemoryReport,
  type ProcessTrend,
} from './memory-report.ts';
import { describeProcess, inferProcessRoles } from './process-roles.ts';
import { selectSamplesInWindow, type MemorySample } from './sample.ts';
import { buildMemoryPoints, detectRestarts, findSampleGaps, type MemoryPoint } from './series.ts';
import { fitLinearTrend, type MemoryGap } from './trend.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** first/last/min/max and trend of (t, value) points; null for none. */
export function summariseMetric(points: ReadonlyArray<{ t: number; value: number }>): MetricSummary | null {
  if (points.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const p of points) {
    min = Math.min(min, p.value);
    max = Math.max(max, p.value);
  }
  const trend = fitLinearTrend(points);
  return {
    samples: points.length,
    first: points[0]!.value,
    last: points[points.length - 1]!.value,
    min,
    max,
    perDay: trend ? trend.perDay : null,
    r2: trend ? trend.r2 : null,
  };
}

type PointKey = 'unitMemory' | 'anon' | 'file' | 'rss' | 'vsz' | 'pssAnon';

function pointsOf(points: readonly MemoryPoint[], key: PointKey, segment?: number): Array<{ t: number; value: number }> {
  const out: Array<{ t: number; value: number }> = [];
  for (const p of points) {
    const value = p[key];
    if (value !== undefined && (segment === undefined || p.segment === segment)) out.push({ t: p.t, value });
  }
  return out;
}

function formatDays(ms: number): string {
  const days = ms / DAY_MS;
  return days >= 1 ? `${days.toFixed(1)} days` : `${(ms / HOUR_MS).toFixed(1)} h`;
}

function formatR2(r2: number): string {
  return r2.toFixed(2);
}

function describeGaps(gaps: readonly MemoryGap[]): string {
  if (gaps.length === 0) return '';
  const missed = gaps.reduce((sum, g) => sum + g.missed, 0);
  return ` ${gaps.length} gap${gaps.length === 1 ? '' : 's'} in sampling (about ${missed} sample${missed === 1 ? '' : 's'} missed).`;
}

interface Candidate extends LeakFinding {
  longEnough: boolean;
}

function considerTrend(
  candidates: Candidate[],
  base: Omit<LeakFinding, 'perDay' | 'r2' | 'spanDays' | 'from' | 'to'>,
  series: ReadonlyArray<{ t: number; value: number }>,
  threshold: number,
  thresholds: MemoryThresholds,
): void {
  if (series.length < Math.max(3, thresholds.minSamples)) return;
  const trend = fitLinearTrend(series);
  if (!trend || trend.perDay <= threshold || trend.r2 < thresholds.leakMinR2) return;
  candidates.push({
    ...base,
    perDay: trend.perDay,
    r2: trend.r2,
    spanDays: trend.spanMs / DAY_MS,
    from: series[0]!.t,
    to: series[series.length - 1]!.t,
    longEnough: trend.spanMs >= thresholds.leakMinSpanDays * DAY_MS,
  });
}

function describeFinding(f: LeakFinding): string {
  return `${f.label} ${formatRatePerDay(f.perDay)} over ${formatDays(f.spanDays * DAY_MS)} (r² ${formatR2(f.r2)})`;
}

function range(m: MetricSummary): string {
  const lo = formatBytes(m.min);
  const hi = formatBytes(m.max);
  if (lo === hi) return lo;
  const unit = /\s(\S+)$/.exec(lo)?.[1];
  return unit !== undefined && hi.endsWith(` ${unit}`) ? `${lo.slice(0, -unit.length - 1)}–${hi}` : `${lo}–${hi}`;
}

/**
 * Analyses one node's samples over a window: summaries, growth per day, restarts, per-process RSS
 * trends, gaps and the verdict with its message. Samples outside the window are ignored; `options.node`
 * names the node when there are no samples (and picks one node's samples out of a mixed list).
 */
export function analyseMemory(
  samples: readonly MemorySample[],
  window: { from: number; to: number },
  thresholdsInput: MemoryThresholdsInput = DEFAULT_THRESHOLDS,
  options: { node?: string } = {},
): NodeMemoryReport {
  const thresholds = MemoryThresholds.parse(thresholdsInput);
  const node = options.node ?? samples[0]?.node ?? 'unknown';
  const inWindow = selectSamplesInWindow(samples.filter((s) => s.node === node), window);
  const restarts = detectRestarts(inWindow);
  const points = buildMemoryPoints(inWindow, restarts);
  const roles = inferProcessRoles(inWindow);
  const gaps = findSampleGaps(inWindow, thresholds.gapFactor);

  const unitMemory = summariseMetric(pointsOf(points, 'unitMemory'));
  const anon = summariseMetric(pointsOf(points, 'anon'));
  const file = summariseMetric(pointsOf(points, 'file'));
  const rss = summariseMetric(pointsOf(points, 'rss'));
  const vsz = summariseMetric(pointsOf(points, 'vsz'));
  const pssAnon = summariseMetric(pointsOf(points, 'pssAnon'));

  // Per process: every sample that lists the pid counts, even a cut-short block.
  const byPid = new Map<number, Array<{ t: number; rss: number; vsz: number; pssAnon?: number }>>();
  for (const s of inWindow) {
    for (const p of s.processes) {
      const list = byPid.get(p.pid) ?? [];
      list.push({ t: s.t, rss: p.rss, vsz: p.vsz, ...(p.pssAnon !== undefined ? { pssAnon: p.pssAnon } : {}) });
      byPid.set(p.pid, list);
    }
  }
  const processes: ProcessTrend[] = [...byPid.entries()]
    .sort(([a], [b]) => a - b)
    .map(([pid, list]) => {
      const role = roles.get(pid) ?? 'child';
      const pss = list.filter((x) => x.pssAnon !== undefined).map((x) => ({ t: x.t, value: x.pssAnon! }));
      return {
        pid,
        role,
        label: describeProcess(pid, role),
        from: list[0]!.t,
        to: list[list.length - 1]!.t,
        rss: summariseMetric(list.map((x) => ({ t: x.t, value: x.rss })))!,
        vsz: summariseMetric(list.map((x) => ({ t: x.t, value: x.vsz })))!,
        pssAnon: summariseMetric(pss),
      };
    });

  // points and inWindow are in the same (sorted) order.
  const dataPoints = points.filter((p, i) => p.unitMemory !== undefined || p.anon !== undefined || inWindow[i]!.processes.length > 0);
  const span = dataPoints.length > 0 ? dataPoints[dataPoints.length - 1]!.t - dataPoints[0]!.t : 0;

  const candidates: Candidate[] = [];
  for (const [pid, list] of byPid) {
    const role = roles.get(pid) ?? 'child';
    considerTrend(candidates, { subject: 'process', pid, label: `${describeProcess(pid, role)} RSS` }, list.map((x) => ({ t: x.t, value: x.rss })), thresholds.rssGrowthPerDay, thresholds);
  }
  const segments = [...new Set(points.map((p) => p.segment))];
  for (const segment of segments) {
    considerTrend(candidates, { subject: 'rss', label: 'keepalived total RSS' }, pointsOf(points, 'rss', segment), thresholds.rssGrowthPerDay, thresholds);
    considerTrend(candidates, { subject: 'anon', label: 'cgroup anon memory' }, pointsOf(points, 'anon', segment), thresholds.anonGrowthPerDay, thresholds);
  }
  // Name processes first (the most specific finding), then keepalived's total, then the cgroup's anon.
  const subjectOrder = { process: 0, rss: 1, anon: 2 } as const;
  candidates.sort((a, b) => subjectOrder[a.subject] - subjectOrder[b.subject] || b.perDay - a.perDay);
  const leaks: LeakFinding[] = candidates.filter((c) => c.longEnough).map(({ longEnough: _l, ...f }) => f);

  const base = {
    node,
    window: { from: window.from, to: window.to },
    samples: inWindow.length,
    firstSampleAt: inWindow[0]?.t ?? null,
    lastSampleAt: inWindow[inWindow.length - 1]?.t ?? null,
    unitMemory,
    anon,
    file,
    rss,
    vsz,
    pssAnon,
    restarts,
    processes,
    gaps,
    partialSamples: points.filter((p) => p.partial).length,
    leaks,
  };

  if (dataPoints.length < thresholds.minSamples || span < thresholds.minSpanHours * HOUR_MS) {
    return {
      ...base,
      verdict: 'insufficient_data',
      message: `Only ${dataPoints.length} sample${dataPoints.length === 1 ? '' : 's'} over ${formatDays(span)}; ` +
        `a verdict needs at least ${thresholds.minSamples} samples over ${thresholds.minSpanHours} h.`,
    };
  }

  if (leaks.length > 0) {
    const processLeaks = leaks.filter((l) => l.subject === 'process');
    const named = processLeaks.length > 0 ? [...processLeaks, ...leaks.filter((l) => l.subject === 'anon')] : leaks;
    return {
      ...base,
      verdict: 'possible_leak',
      message: `Possible leak: ${named.map(describeFinding).join('; ')}. ` +
        'Steady growth across days in keepalived\'s own memory, not page cache' +
        (restarts.length > 0 ? ` (${restarts.length} restart${restarts.length === 1 ? '' : 's'} in the window).` : '.') +
        describeGaps(gaps),
    };
  }

  if (!rss && !anon) {
    return {
      ...base,
      verdict: 'insufficient_data',
      message: 'Only the unit\'s memory was sampled: without keepalived\'s RSS or the cgroup\'s anon memory, page cache cannot be told from keepalived\'s own memory.',
    };
  }

  const rising = candidates.filter((c) => !c.longEnough);
  if (span < thresholds.leakMinSpanDays * DAY_MS && rising.length > 0) {
    return {
      ...base,
      verdict: 'insufficient_data',
      message: `${describeFinding(rising[0]!)}, but ${formatDays(span)} is too short to tell a leak from start-up growth; ` +
        `look again over at least ${thresholds.leakMinSpanDays} days.`,
    };
  }

  const flatParts: string[] = [];
  if (rss) flatParts.push(`keepalived RSS stayed flat (${range(rss)})`);
  if (anon) flatParts.push(`cgroup anon memory stayed flat (${range(anon)})`);
  const flat = flatParts.join(' and ');
  const unitGrowth = unitMemory?.perDay ?? null;
  let message: string;
  if (unitMemory && unitGrowth !== null && unitGrowth > thresholds.unitGrowthPerDay) {
    const grew = `Unit memory grew ${formatBytes(unitMemory.first)} → ${formatBytes(unitMemory.last)}` +
      (unitMemory.max > unitMemory.last ? ` (max ${formatBytes(unitMemory.max)})` : '') +
      `, ${formatRatePerDay(unitGrowth)}, while ${flat}`;
    const fileGrowth = file?.perDay ?? null;
    if (file && fileGrowth !== null && fileGrowth < unitGrowth / 2) {
      message = `${grew}: the growth is kernel memory charged to the unit (file cache only ${formatRatePerDay(fileGrowth)}), not the keepalived processes.`;
    } else {
      message = `${grew}: the growth is page cache, not the keepalived processes` +
        (file && fileGrowth !== null ? ` (file cache ${formatRatePerDay(fileGrowth)}).` : '. The kernel frees page cache when memory is needed.');
    }
  } else {
    message = `No sign of a leak over ${formatDays(span)}: ${flat}` +
      (unitMemory ? `, unit memory ${range(unitMemory)}.` : '.');
  }
  if (restarts.length > 0) message += ` keepalived restarted ${restarts.length} time${restarts.length === 1 ? '' : 's'}.`;
  return { ...base, verdict: 'no_leak', message: message + describeGaps(gaps) };
}

/** One report per node found in the samples (plus `nodes` that had none), sorted by node name. */
export function analyseMemoryByNode(
  samples: readonly MemorySample[],
  window: { from: number; to: number },
  thresholds: MemoryThresholdsInput = DEFAULT_THRESHOLDS,
  nodes: readonly string[] = [],
): NodeMemoryReport[] {
  const names = [...new Set([...nodes, ...samples.map((s) => s.node)])].sort();
  return names.map((node) => analyseMemory(samples, window, thresholds, { node }));
}

export {
  DEFAULT_THRESHOLDS,
  LeakFinding,
  MemoryThresholds,
  MemoryVerdict,
  MetricSummary,
  NodeMemoryReport,
  ProcessTrend,
  type MemoryThresholdsInput,
} from './memory-report.ts';
export { toVipMemoryPayload, VipMemoryPayload } from './vip-memory-payload.ts';
