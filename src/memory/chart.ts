/**
 * The `/vip memory` chart: hand-written SVG rendered to PNG with resvg. One panel per host, unit memory
 * (what `systemctl status` shows) against keepalived's RSS, with page cache and anon when sampled, so
 * the picture itself answers "is it keepalived or the cache?".
 *
 * Slack shows a ~360 px wide preview of a ~1200 px image, i.e. at a third of its size: fonts are big,
 * lines thick, colours from the Okabe–Ito set (readable for colour-blind people and in grayscale), and
 * the verdict is a coloured bar down each panel's edge that still reads at thumbnail size.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { bytesToMiB, formatBytes, formatRatePerDay } from './bytes.ts';
import { DEFAULT_THRESHOLDS, type MemoryVerdict, type NodeMemoryReport } from './memory-report.ts';
import type { MemorySample } from './sample.ts';
import { buildMemoryPoints, type MemoryPoint } from './series.ts';
import { MONTHS, startOfDayInZone, wallTimeInZone, wallTimeToEpoch } from './timezone.ts';
import type { MemoryGap } from './trend.ts';

/** One host's panel: its report (verdict, restarts, gaps) and the samples to draw. */
export interface ChartNode {
  report: NodeMemoryReport;
  samples: readonly MemorySample[];
}

/** Chart title, window and time zone (and optional width). */
export interface ChartOptions {
  title: string;
  window: { from: number; to: number };
  /** IANA zone for the time axis (day ticks at local midnight). */
  timezone: string;
  /** PNG/SVG width in px (default 1200). */
  width?: number;
}

/** The chart as SVG text and as PNG, with its pixel size. */
export interface RenderedChart {
  svg: string;
  png: Buffer;
  width: number;
  height: number;
}

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => `${FONT_DIR}/${f}`);
const FONT = 'DejaVu Sans';

type SeriesKey = 'unitMemory' | 'file' | 'anon' | 'rss';

const SERIES: Array<{ key: SeriesKey; label: string; color: string; width: number }> = [
  { key: 'file', label: 'page cache', color: '#E69F00', width: 4 },
  { key: 'anon', label: 'anon', color: '#009E73', width: 4 },
  { key: 'unitMemory', label: 'unit memory (systemctl status)', color: '#0072B2', width: 5 },
  { key: 'rss', label: 'keepalived RSS', color: '#111111', width: 5 },
];
const LEGEND_ORDER: SeriesKey[] = ['unitMemory', 'rss', 'file', 'anon'];

const VERDICT_STYLE: Record<MemoryVerdict, { color: string; badge: string }> = {
  no_leak: { color: '#1a7f37', badge: 'NO LEAK' },
  possible_leak: { color: '#cf222e', badge: 'POSSIBLE LEAK' },
  insufficient_data: { color: '#6e7781', badge: 'NOT ENOUGH DATA' },
};
const RESTART_COLOR = '#cf222e';
const MONTH_NAMES = Object.keys(MONTHS).map((m) => m[0]!.toUpperCase() + m.slice(1));

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Advance widths (per 1000 em) of DejaVu Sans and DejaVu Sans Bold for ASCII 32–126, then → – … · ²,
 * read from the fonts' hmtx tables, so labels can be fitted without a font-metrics library.
 */
const ADVANCE_REGULAR = [318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838, 838, 500, 1000, 318, 401];
const ADVANCE_BOLD = [348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838, 838, 500, 1000, 380, 438];
const EXTRA_CHARS = '→–…·²';

/** Width in px of text set in DejaVu Sans at `fontSize` (unknown characters count as 1 em). */
export function measureTextWidth(text: string, fontSize: number, bold = false): number {
  const table = bold ? ADVANCE_BOLD : ADVANCE_REGULAR;
  let units = 0;
  for (const c of text) {
    const code = c.codePointAt(0)!;
    const index = code >= 32 && code <= 126 ? code - 32 : EXTRA_CHARS.includes(c) ? 95 + EXTRA_CHARS.indexOf(c) : -1;
    units += index === -1 ? 1000 : table[index]!;
  }
  return (units / 1000) * fontSize;
}

function fitText(text: string, fontSize: number, maxWidth: number, bold = false): string {
  if (measureTextWidth(text, fontSize, bold) <= maxWidth) return text;
  let cut = text;
  while (cut.length > 1 && measureTextWidth(`${cut}…`, fontSize, bold) > maxWidth) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…`;
}

/** "Nice" axis step (1, 2, 2.5, 5 × 10^k) giving about `target` intervals up to `max`. */
export function pickNiceStep(max: number, target = 4): number {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

interface TimeTick {
  t: number;
  label: string;
}

/** Ticks at local midnights (every n days) or, for short windows, every n hours: the finest step giving at most `maxTicks`. */
export function buildTimeTicks(from: number, to: number, zone: string, maxTicks: number): TimeTick[] {
  const dayLabel = (t: number): string => {
    const w = wallTimeInZone(t, zone);
    return `${w.day} ${MONTH_NAMES[w.month - 1]}`;
  };
  if (to - from > 2 * 86_400_000) {
    const midnights: number[] = [];
    for (let t = startOfDayInZone(from, zone); t <= to;) {
      if (t >= from) midnights.push(t);
      // Noon-to-midnight stepping stays on calendar days across DST changes.
      const w = wallTimeInZone(t + 36 * 3_600_000, zone);
      t = wallTimeToEpoch({ year: w.year, month: w.month, day: w.day, hour: 0, minute: 0, second: 0 }, { kind: 'iana', name: zone });
    }
    for (const step of [1, 2, 3, 7, 14, 28, 91, 182, 365]) {
      const ticks = midnights.filter((_, i) => i % step === 0);
      if (ticks.length <= maxTicks || step === 365) return ticks.map((t) => ({ t, label: dayLabel(t) }));
    }
  }
  const quarter = 900_000;
  const hours: Array<{ t: number; hour: number }> = [];
  for (let t = Math.ceil(from / quarter) * quarter; t <= to; t += quarter) {
    const w = wallTimeInZone(t, zone);
    if (w.minute === 0) hours.push({ t, hour: w.hour });
  }
  for (const step of [1, 2, 3, 6, 12, 24]) {
    const ticks = hours.filter((h) => h.hour % step === 0);
    if (ticks.length <= maxTicks || step === 24) {
      return ticks.map((h) => ({ t: h.t, label: h.hour === 0 ? dayLabel(h.t) : `${String(h.hour).padStart(2, '0')}:00` }));
    }
  }
  return [];
}

/** The panel's reason under the title, longest first: the caller keeps the first that fits. */
function reasonLines(report: NodeMemoryReport): string[] {
  if (report.verdict === 'possible_leak') {
    const leak = report.leaks[0];
    if (!leak) return ['steady growth in keepalived memory'];
    const rate = formatRatePerDay(leak.perDay);
    return [`${leak.label} ${rate}`, `${leak.label.replace(/ RSS$/, '')} ${rate}`, `${leak.label.replace(/ \(.*\)| RSS$/g, '')} ${rate}`];
  }
  if (report.verdict === 'insufficient_data') {
    return [`${report.samples} sample${report.samples === 1 ? '' : 's'}${report.rss || report.anon ? '' : ', no RSS/anon'}`];
  }
  const unit = report.unitMemory;
  if (unit && unit.perDay !== null && unit.perDay > DEFAULT_THRESHOLDS.unitGrowthPerDay) return ['RSS flat; unit growth is page cache', 'RSS flat; growth is page cache'];
  return ['RSS flat'];
}

function firstThatFits(candidates: readonly string[], fontSize: number, maxWidth: number, bold: boolean): string {
  return candidates.find((c) => measureTextWidth(c, fontSize, bold) <= maxWidth) ?? fitText(candidates[candidates.length - 1] ?? '', fontSize, maxWidth, bold);
}

function mib(bytes: number): string {
  const v = bytesToMiB(bytes);
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function figuresLine(report: NodeMemoryReport): string[] {
  const parts: string[] = [];
  if (report.unitMemory) parts.push(`unit ${mib(report.unitMemory.first)}→${mib(report.unitMemory.last)}${report.rss ? '' : ' MiB'}`);
  if (report.rss) parts.push(`RSS ${mib(report.rss.first)}→${mib(report.rss.last)} MiB`);
  if (report.restarts.length > 0) parts.push(`${report.restarts.length} restart${report.restarts.length === 1 ? '' : 's'}`);
  if (report.gaps.length > 0) parts.push(`${report.gaps.length} gap${report.gaps.length === 1 ? '' : 's'}`);
  return parts;
}

/**
 * Path data for one series, broken across sampling gaps (no line is drawn over missing hours). The
 * gaps are the report's, judged on when samples were taken, so a ps block left out of the RSS total for
 * being cut short does not break the line.
 */
function seriesPath(points: ReadonlyArray<{ t: number; value: number }>, gaps: readonly MemoryGap[], x: (t: number) => number, y: (v: number) => number): { d: string; singles: Array<[number, number]> } {
  let d = '';
  const singles: Array<[number, number]> = [];
  let runLength = 0;
  points.forEach((p, i) => {
    const prev = points[i - 1];
    const start = !prev || gaps.some((g) => g.from >= prev.t && g.to <= p.t);
    if (start) {
      if (runLength === 1 && prev) singles.push([x(prev.t), y(prev.value)]);
      runLength = 0;
    }
    d += `${start ? 'M' : 'L'}${x(p.t).toFixed(1)} ${y(p.value).toFixed(1)}`;
    runLength += 1;
  });
  const last = points[points.length - 1];
  if (runLength === 1 && last) singles.push([x(last.t), y(last.value)]);
  return { d, singles };
}

function seriesPoints(points: readonly MemoryPoint[], key: SeriesKey): Array<{ t: number; value: number }> {
  const out: Array<{ t: number; value: number }> = [];
  for (const p of points) {
    const v = p[key];
    if (v !== undefined) out.push({ t: p.t, value: bytesToMiB(v) });
  }
  return out;
}

interface PanelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

function renderPanel(node: ChartNode, box: PanelBox, options: ChartOptions): string {
  const { report } = node;
  const out: string[] = [];
  const style = VERDICT_STYLE[report.verdict];
  const pad = 22;
  out.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="10" fill="#ffffff" stroke="#d0d7de" stroke-width="2"/>`);
  out.push(`<rect x="${box.x}" y="${box.y}" width="12" height="${box.h}" rx="4" fill="${style.color}"/>`);
  const textX = box.x + pad + 8;
  const textW = box.w - pad * 2 - 8;
  // Verdict badge at the right of the title line: the thing to read at thumbnail size.
  const badgeW = measureTextWidth(style.badge, 22, true) + 28;
  const badgeX = box.x + box.w - pad - badgeW;
  out.push(`<rect x="${badgeX.toFixed(1)}" y="${box.y + 14}" width="${badgeW.toFixed(1)}" height="36" rx="8" fill="${style.color}"/>`);
  out.push(`<text x="${(badgeX + badgeW / 2).toFixed(1)}" y="${box.y + 40}" font-size="22" font-weight="bold" text-anchor="middle" fill="#ffffff">${escapeXml(style.badge)}</text>`);
  out.push(`<text x="${textX}" y="${box.y + 42}" font-size="32" font-weight="bold" fill="#111">${escapeXml(fitText(report.node, 32, badgeX - textX - 12, true))}</text>`);
  out.push(`<text x="${textX}" y="${box.y + 76}" font-size="23" font-weight="bold" fill="${style.color}">${escapeXml(firstThatFits(reasonLines(report), 23, textW, true))}</text>`);
  // Restart and gap counts go first when space is short: the plot shows both anyway.
  const figures = figuresLine(report);
  if (figures.length > 0) out.push(`<text x="${textX}" y="${box.y + 105}" font-size="21" fill="#444">${escapeXml(firstThatFits(figures.map((_, i) => figures.slice(0, figures.length - i).join(' · ')), 21, textW, false))}</text>`);

  const plot = { x: box.x + 100, y: box.y + 128, w: box.w - 100 - pad, h: box.h - 128 - 46 };
  const points = buildMemoryPoints(node.samples.filter((s) => s.t >= options.window.from && s.t <= options.window.to));
  const series = SERIES.map((s) => ({ ...s, points: seriesPoints(points, s.key) })).filter((s) => s.points.length > 0);
  const maxValue = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.value)));
  const step = pickNiceStep(maxValue > 0 ? maxValue * 1.05 : 1);
  const yMax = Math.max(step, Math.ceil((maxValue * 1.05) / step) * step);
  const { from, to } = options.window;
  const span = Math.max(1, to - from);
  const x = (t: number): number => plot.x + ((t - from) / span) * plot.w;
  const y = (v: number): number => plot.y + plot.h - (v / yMax) * plot.h;

  // Grid and y axis (MiB).
  const midY = plot.y + plot.h / 2;
  out.push(`<text x="${box.x + 36}" y="${midY}" font-size="20" text-anchor="middle" fill="#444" transform="rotate(-90 ${box.x + 36} ${midY})">MiB</text>`);
  for (let v = 0; v <= (series.length > 0 ? yMax + step / 1000 : 0); v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${plot.x}" y1="${yy}" x2="${plot.x + plot.w}" y2="${yy}" stroke="${v === 0 ? '#57606a' : '#e1e4e8'}" stroke-width="${v === 0 ? 2 : 1.5}"/>`);
    out.push(`<text x="${plot.x - 12}" y="${(y(v) + 7).toFixed(1)}" font-size="20" text-anchor="end" fill="#333">${escapeXml(num(Number(v.toPrecision(6))))}</text>`);
  }
  const ticks = buildTimeTicks(from, to, options.timezone, Math.max(2, Math.floor(plot.w / 90)));
  for (const tick of ticks) {
    const xx = x(tick.t).toFixed(1);
    out.push(`<line x1="${xx}" y1="${plot.y}" x2="${xx}" y2="${plot.y + plot.h}" stroke="#eef0f2" stroke-width="1.5"/>`);
    out.push(`<line x1="${xx}" y1="${plot.y + plot.h}" x2="${xx}" y2="${plot.y + plot.h + 8}" stroke="#57606a" stroke-width="2"/>`);
    // A label at the plot's right end would spill out of the panel: right-align it instead.
    const anchor = x(tick.t) + measureTextWidth(tick.label, 20) / 2 > box.x + box.w - 6 ? 'end' : 'middle';
    out.push(`<text x="${anchor === 'end' ? plot.x + plot.w : xx}" y="${plot.y + plot.h + 32}" font-size="20" text-anchor="${anchor}" fill="#333">${escapeXml(tick.label)}</text>`);
  }

  // Gaps: a pale band, and the lines break there.
  for (const gap of report.gaps) {
    const x1 = Math.max(plot.x, x(gap.from));
    const x2 = Math.min(plot.x + plot.w, x(gap.to));
    if (x2 <= x1) continue;
    out.push(`<rect x="${x1.toFixed(1)}" y="${plot.y}" width="${(x2 - x1).toFixed(1)}" height="${plot.h}" fill="#e4e7eb"/>`);
    if (x2 - x1 > 80) out.push(`<text x="${((x1 + x2) / 2).toFixed(1)}" y="${plot.y + plot.h / 2}" font-size="18" text-anchor="middle" fill="#57606a">no data</text>`);
  }

  if (series.length === 0) {
    out.push(`<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h / 2}" font-size="26" text-anchor="middle" fill="#6e7781">no samples in this window</text>`);
  }
  for (const s of series) {
    const { d, singles } = seriesPath(s.points, report.gaps, x, y);
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width}" stroke-linejoin="round" stroke-linecap="round"/>`);
    // Sparse series (imported daily excerpts) get dots so each sample is visible.
    const dots = s.points.length <= 40 ? s.points.map((p): [number, number] => [x(p.t), y(p.value)]) : singles;
    for (const [cx, cy] of dots) out.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${s.width + 1}" fill="${s.color}"/>`);
  }

  for (const restart of report.restarts) {
    if (restart.t < from || restart.t > to) continue;
    const xx = x(restart.t).toFixed(1);
    out.push(`<line x1="${xx}" y1="${plot.y - 4}" x2="${xx}" y2="${plot.y + plot.h}" stroke="${RESTART_COLOR}" stroke-width="3" stroke-dasharray="10 7"/>`);
    const anchor = x(restart.t) > plot.x + plot.w - 90 ? 'end' : 'start';
    out.push(`<text x="${(x(restart.t) + (anchor === 'start' ? 6 : -6)).toFixed(1)}" y="${plot.y + 18}" font-size="18" text-anchor="${anchor}" fill="${RESTART_COLOR}">restart</text>`);
  }
  return out.join('\n');
}

function formatWindow(window: { from: number; to: number }, zone: string): string {
  const f = (t: number): string => {
    const w = wallTimeInZone(t, zone);
    return `${w.day} ${MONTH_NAMES[w.month - 1]} ${w.year} ${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
  };
  return `${f(window.from)} – ${f(window.to)} (${zone})`;
}

/** The chart as SVG text, with its size. */
export function buildMemoryChartSvg(nodes: readonly ChartNode[], options: ChartOptions): { svg: string; width: number; height: number } {
  const width = options.width ?? 1200;
  const columns = nodes.length <= 1 ? 1 : 2;
  const rows = Math.max(1, Math.ceil(nodes.length / columns));
  const margin = 24;
  const gutter = 20;

  // Legend: only the measures some panel has, wrapped to the width.
  const present = new Set<SeriesKey>();
  for (const n of nodes) {
    const pts = buildMemoryPoints(n.samples);
    for (const key of LEGEND_ORDER) if (pts.some((p) => p[key] !== undefined)) present.add(key);
  }
  const items: Array<{ label: string; color: string; width: number; dashed: boolean }> = LEGEND_ORDER
    .filter((key) => present.has(key))
    .map((key) => SERIES.find((x) => x.key === key)!)
    .map((s) => ({ label: s.label, color: s.color, width: s.width + 1, dashed: false }));
  if (nodes.some((n) => n.report.restarts.length > 0)) items.push({ label: 'restart', color: RESTART_COLOR, width: 3, dashed: true });
  const legend: string[] = [];
  let lx = margin;
  let ly = 128;
  for (const item of items) {
    const itemW = 54 + measureTextWidth(item.label, 23) + 30;
    if (lx > margin && lx + itemW - 30 > width - margin) {
      lx = margin;
      ly += 34;
    }
    legend.push(`<line x1="${lx}" y1="${ly - 8}" x2="${lx + 44}" y2="${ly - 8}" stroke="${item.color}" stroke-width="${item.width}" stroke-linecap="${item.dashed ? 'butt' : 'round'}"${item.dashed ? ' stroke-dasharray="10 7"' : ''}/>`);
    legend.push(`<text x="${lx + 54}" y="${ly}" font-size="23" fill="#111">${escapeXml(item.label)}</text>`);
    lx += itemW;
  }

  const headerH = ly + 22;
  const panelH = nodes.length <= 2 ? 480 : nodes.length <= 8 ? 430 : 380;
  const panelW = (width - margin * 2 - gutter * (columns - 1)) / columns;
  const height = headerH + rows * panelH + (rows - 1) * gutter + margin;

  const body: string[] = [];
  body.push(`<rect width="${width}" height="${height}" fill="#f6f8fa"/>`);
  body.push(`<text x="${margin}" y="52" font-size="36" font-weight="bold" fill="#111">${escapeXml(fitText(options.title, 36, width - margin * 2, true))}</text>`);
  body.push(`<text x="${margin}" y="88" font-size="22" fill="#444">${escapeXml(formatWindow(options.window, options.timezone))}</text>`);
  body.push(...legend);
  if (nodes.length === 0) {
    body.push(`<text x="${width / 2}" y="${headerH + panelH / 2}" font-size="28" text-anchor="middle" fill="#6e7781">no nodes to show</text>`);
  }
  nodes.forEach((node, i) => {
    const col = i % columns;
    const row = Math.floor(i / columns);
    const box = { x: margin + col * (panelW + gutter), y: headerH + row * (panelH + gutter), w: panelW, h: panelH };
    body.push(`<g>${renderPanel(node, box, options)}</g>`);
  });

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">\n${body.join('\n')}\n</svg>\n`;
  return { svg, width, height };
}

/** resvg options for the chart: the DejaVu fonts the label widths were measured with, original size. */
export function chartRenderOptions(): { font: ReturnType<typeof fontOptions>; fitTo: { mode: 'original' } } {
  return { font: fontOptions(), fitTo: { mode: 'original' } };
}

function fontOptions(): { loadSystemFonts: boolean; fontFiles?: string[]; defaultFontFamily: string } {
  const files = FONT_FILES.filter((f) => existsSync(f));
  // Without the DejaVu files, fall back to whatever the system has rather than render no text at all.
  if (files.length === 0) return { loadSystemFonts: true, defaultFontFamily: FONT };
  return { loadSystemFonts: false, fontFiles: files, defaultFontFamily: FONT };
}

/**
 * Renders the memory chart: one panel per host (two columns from two hosts up) with unit memory,
 * keepalived RSS, page cache and anon over the window, restarts as dashed lines, gaps as breaks, and
 * the verdict as each panel's subtitle. CPU only; ~1200 px wide PNG.
 */
export function renderMemoryChart(nodes: readonly ChartNode[], options: ChartOptions): RenderedChart {
  const { svg, width, height } = buildMemoryChartSvg(nodes, options);
  const png = new Resvg(svg, chartRenderOptions()).render().asPng();
  return { svg, png, width, height };
}
