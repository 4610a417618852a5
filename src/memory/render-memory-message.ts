/**
 * Block Kit for `/vip memory` and the daily summary (pure). The verdict comes first in plain words —
 * `no_leak — Unit memory grew 120 MiB → 480 MiB … while keepalived RSS stayed flat …` — then the
 * figures, so the person who only reads the notification still gets the answer.
 *
 * Kept next to the analysis rather than in src/slack/ because it only formats the analysis' own
 * values; it uses nothing from Bolt. Slack caps a message at 50 blocks and a section at 3000
 * characters: nodes share sections when there are many.
 */
import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../config/duration.ts';
import { escapeHostText as esc } from '../slack/escape.ts';
import { formatBytes, formatRatePerDay } from './bytes.ts';
import type { MemoryDayRow } from './daily.ts';
import type { MemoryVerdict, MetricSummary, NodeMemoryReport } from './memory-report.ts';
import { MONTHS, wallTimeInZone } from './timezone.ts';

const MAX_SECTION = 2900;
const MAX_BLOCKS = 50;
const MIB = 1024 * 1024;

export interface RenderedMemoryMessage {
  text: string;
  blocks: KnownBlock[];
}

const VERDICT_ICON: Record<MemoryVerdict, string> = {
  no_leak: ':white_check_mark:',
  possible_leak: ':rotating_light:',
  insufficient_data: ':grey_question:',
};

const VERDICT_WORDS: Record<MemoryVerdict, string> = {
  no_leak: 'no leak',
  possible_leak: 'possible leak',
  insufficient_data: 'not enough data',
};

const MONTH_NAMES = Object.keys(MONTHS).map((m) => m[0]!.toUpperCase() + m.slice(1));

/** `26 Nov 14:00` in the zone. */
export function formatWallTime(t: number, zone: string): string {
  const w = wallTimeInZone(t, zone);
  return `${w.day} ${MONTH_NAMES[w.month - 1]} ${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION - 1)}…` : text } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION - 1)}…` : text } ] };
}

function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: text.length > 150 ? `${text.slice(0, 149)}…` : text } };
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(bytes >= 100 * MIB ? 0 : 1);
}

/** `120.6 → 480.0 MiB`, with the unit once when both ends share it. */
function fromTo(a: number, b: number): string {
  const fa = formatBytes(a);
  const fb = formatBytes(b);
  const unit = fb.slice(fb.lastIndexOf(' '));
  return fa.endsWith(unit) ? `${fa.slice(0, -unit.length)} → ${fb}` : `${fa} → ${fb}`;
}

/** `120.6 → 480.0 MiB (+30.0 MiB/day)`; `—` when not measured. */
function firstLast(m: MetricSummary | null, withRate = true): string {
  if (!m) return '—';
  const range = m.first === m.last ? formatBytes(m.last) : fromTo(m.first, m.last);
  return withRate && m.perDay !== null ? `${range} (${formatRatePerDay(m.perDay)})` : range;
}

/** `no_leak — <message>` with its icon: the verdict in plain words. */
export function describeVerdict(report: NodeMemoryReport): string {
  return `${VERDICT_ICON[report.verdict]} \`${report.verdict}\` — ${esc(report.message)}`;
}

function figures(r: NodeMemoryReport): string {
  const parts = [
    `unit memory ${firstLast(r.unitMemory)}`,
    `keepalived RSS ${firstLast(r.rss)}`,
  ];
  if (r.vsz) parts.push(`VSZ ${formatBytes(r.vsz.last)}`);
  if (r.anon) parts.push(`anon ${firstLast(r.anon, false)}`);
  if (r.file) parts.push(`page cache ${firstLast(r.file, false)}`);
  parts.push(`${r.restarts.length} restart${r.restarts.length === 1 ? '' : 's'}`);
  parts.push(`${r.samples} sample${r.samples === 1 ? '' : 's'}${r.gaps.length ? `, ${r.gaps.length} gap${r.gaps.length === 1 ? '' : 's'}` : ''}`);
  return parts.join(' · ');
}

function verdictCounts(reports: readonly NodeMemoryReport[]): string {
  const counts = new Map<MemoryVerdict, number>();
  for (const r of reports) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return (['possible_leak', 'no_leak', 'insufficient_data'] as const)
    .filter((v) => counts.has(v))
    .map((v) => `${VERDICT_ICON[v]} ${counts.get(v)} ${VERDICT_WORDS[v]}`)
    .join(' · ');
}

/** Packs per-node texts into as few sections as fit, so many nodes stay within the block cap. */
function packSections(texts: readonly string[], room: number): KnownBlock[] {
  if (texts.length <= room) return texts.map(section);
  const out: string[] = [];
  for (const t of texts) {
    const last = out[out.length - 1];
    if (last !== undefined && last.length + 2 + t.length <= MAX_SECTION) out[out.length - 1] = `${last}\n\n${t}`;
    else out.push(t);
  }
  if (out.length > room) {
    const kept = out.slice(0, room - 1);
    kept.push(`…and ${out.length - kept.length} more section(s); ask for one cluster or node.`);
    return kept.map(section);
  }
  return out.map(section);
}

const NOT_RSS = '`systemctl status` "Memory:" is the unit\'s cgroup charge, page cache included — not keepalived\'s RSS.';

/** The `/vip memory` summary. `clusterOf` names each node's cluster. */
export function renderMemoryReportMessage(
  reports: readonly NodeMemoryReport[],
  options: { window: { from: number; to: number; label: string }; scope: string; timezone: string; clusterOf?: (node: string) => string | undefined },
): RenderedMemoryMessage {
  const { window, scope, timezone } = options;
  const blocks: KnownBlock[] = [header(`keepalived memory — last ${window.label} — ${scope}`)];
  blocks.push(section(verdictCounts(reports) || 'No nodes selected.'));
  const texts = reports.map((r) => {
    const cluster = options.clusterOf?.(r.node);
    return `*${esc(r.node)}*${cluster ? ` (${esc(cluster)})` : ''} ${describeVerdict(r)}\n${figures(r)}`;
  });
  blocks.push(...packSections(texts, MAX_BLOCKS - blocks.length - 1));
  blocks.push(context(`${formatWallTime(window.from, timezone)} – ${formatWallTime(window.to, timezone)} (${timezone}) · chart in the thread · ${NOT_RSS}`));
  const text = `keepalived memory, last ${window.label}: ${reports.map((r) => `${esc(r.node)} ${r.verdict}`).join(', ') || 'no nodes'}`;
  return { text, blocks };
}

/** The answer when the selected nodes have no samples in the window yet. */
export function renderNoSamplesMessage(options: { nodes: readonly string[]; window: { label: string }; nextSampleAt: number; sampleEvery: number; timezone: string }): RenderedMemoryMessage {
  const { nodes, window, nextSampleAt, sampleEvery, timezone } = options;
  const who = esc(nodes.length === 1 ? nodes[0]! : `${nodes.length} nodes (${nodes.join(', ')})`);
  const body = `No memory samples of ${who} in the last ${window.label} yet. vipbot samples every ${formatDuration(sampleEvery)} (memory.sampleEvery); ` +
    `the next round is at ${formatWallTime(nextSampleAt, timezone)} (${timezone}). A verdict needs a few hours of samples; ` +
    'older history can be loaded from the crontab logs with `vipbot memory import --node <node> mem.log ps_mem.log`.';
  return {
    text: `No memory samples of ${who} in the last ${window.label} yet; next sampling at ${formatWallTime(nextSampleAt, timezone)} (${timezone}).`,
    blocks: [header(`keepalived memory — last ${window.label}`), section(`:hourglass_flowing_sand: ${body}`)],
  };
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? '+' : '-'}${formatBytes(Math.abs(bytes))}`;
}

/** Last 24 h of one node: where unit memory and RSS ended and how far they moved. */
function last24h(r: NodeMemoryReport | undefined): string {
  if (!r || r.samples === 0) return 'last 24 h: no samples';
  const unit = r.unitMemory ? `unit ${formatBytes(r.unitMemory.last)} (${signed(r.unitMemory.last - r.unitMemory.first)})` : 'unit —';
  const rss = r.rss ? `RSS ${formatBytes(r.rss.last)} (${signed(r.rss.last - r.rss.first)})` : 'RSS —';
  return `last 24 h: ${unit}, ${rss}`;
}

/** 7-day trend of one node: growth per day and the day-by-day unit memory. */
function week(r: NodeMemoryReport, days: readonly MemoryDayRow[]): string {
  const unit = r.unitMemory?.perDay != null ? `unit ${formatRatePerDay(r.unitMemory.perDay)}` : 'unit —';
  const rss = r.rss?.perDay != null ? `RSS ${formatRatePerDay(r.rss.perDay)}` : 'RSS —';
  const byDay = days.filter((d) => d.unitMemory !== null).map((d) => mib(d.unitMemory!));
  return `7 days: ${unit}, ${rss}, ${r.restarts.length} restart${r.restarts.length === 1 ? '' : 's'}` +
    (byDay.length > 1 ? ` · unit by day ${byDay.join('→')} MiB` : '');
}

/**
 * The daily summary: one message for all clusters — per host the verdict (over 7 days), the last 24 h
 * and the 7-day trend. `weekReports` decide the verdict; `dayReports` give the last 24 h.
 */
export function renderMemoryDailyMessage(options: {
  clusters: ReadonlyArray<{ name: string; nodes: readonly string[] }>;
  weekReports: readonly NodeMemoryReport[];
  dayReports: readonly NodeMemoryReport[];
  daysByNode: ReadonlyMap<string, readonly MemoryDayRow[]>;
  window: { from: number; to: number };
  timezone: string;
}): RenderedMemoryMessage {
  const { clusters, weekReports, dayReports, daysByNode, window, timezone } = options;
  const weekOf = new Map(weekReports.map((r) => [r.node, r]));
  const dayOf = new Map(dayReports.map((r) => [r.node, r]));
  const blocks: KnownBlock[] = [header(`keepalived memory — daily summary, ${formatWallTime(window.to, timezone)}`)];
  blocks.push(section(`${verdictCounts(weekReports) || 'No nodes.'} (verdicts over the last 7 days)`));
  const texts: string[] = [];
  for (const cluster of clusters) {
    const lines = cluster.nodes.map((node) => {
      const r = weekOf.get(node);
      if (!r) return `*${esc(node)}* — not analysed`;
      const detail = r.verdict === 'no_leak' ? '' : `\n      _${esc(r.message)}_`;
      return `*${esc(node)}* ${VERDICT_ICON[r.verdict]} \`${r.verdict}\` · ${last24h(dayOf.get(node))} · ${week(r, daysByNode.get(node) ?? [])}${detail}`;
    });
    texts.push([`*${esc(cluster.name)}*`, ...lines].join('\n'));
  }
  blocks.push(...packSections(texts, MAX_BLOCKS - blocks.length - 1));
  blocks.push(context(`${formatWallTime(window.from, timezone)} – ${formatWallTime(window.to, timezone)} (${timezone}) · chart in the thread · \`no_leak\` = keepalived's own memory stayed flat · ${NOT_RSS}`));
  const text = `keepalived memory, daily summary: ${weekReports.map((r) => `${esc(r.node)} ${r.verdict}`).join(', ') || 'no nodes'}`;
  return { text, blocks };
}
