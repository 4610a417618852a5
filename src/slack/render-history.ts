/**
 * Block Kit for `/vip history [n]`: the last n audited actions, newest first, one compact line each
 * (state emoji, what, who, when, result). Lines are packed into as few sections as fit Slack's 3000
 * characters per section, and the message stays within 50 blocks.
 */
import type { KnownBlock } from '@slack/types';
import { z } from 'zod';
import { Action, RequestState } from '../approvals/types.ts';
import { escapeHostText as esc } from './escape.ts';
import { clipOneLine, formatDuration, formatSlackDate, SLACK_LIMITS, stateEmoji } from './render-request.ts';

/** One audited action as `history` shows it (read from the audit log). */
export const HistoryEntry = z.object({
  requestId: z.string(),
  action: Action,
  cluster: z.string(),
  node: z.string(),
  vip: z.string().optional(),
  state: RequestState,
  requestedBy: z.string(),
  approvedBy: z.string().optional(),
  /** When the entry was last updated, ms since the epoch. */
  at: z.number(),
  /** Short human result (outcome summary, rejection, …). */
  summary: z.string().optional(),
  /** ms from approval to the end of execution. */
  durationMs: z.number().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** A summary longer than this makes the list hard to scan; the approval message has the full text. */
const MAX_SUMMARY = 200;

/** Fallback text lists only the first few lines: it is what a notification shows. */
const TEXT_LINES = 5;

/**
 * The last `n` entries, newest first. `n` below 1 or not a whole number is treated as the nearest
 * sensible count (at least 1); an empty audit log says so.
 */
export function renderHistory(entries: readonly HistoryEntry[], n: number): { text: string; blocks: KnownBlock[] } {
  const count = Math.max(1, Math.floor(Number.isFinite(n) ? n : 1));
  const shown = [...entries].sort((a, b) => b.at - a.at).slice(0, count);
  if (shown.length === 0) {
    const text = 'No audited actions yet. `/vip promote`, `demote` and `start` requests are recorded here.';
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }

  // Header + context take two blocks; the rest is for sections of lines.
  const sectionBudget = SLACK_LIMITS.blocks - 2;
  const sections: string[][] = [];
  let rendered = 0;
  for (const entry of shown) {
    const line = renderHistoryLine(entry);
    const last = sections.at(-1);
    if (last && [...last, line].join('\n').length <= SLACK_LIMITS.sectionText) last.push(line);
    else if (sections.length < sectionBudget) sections.push([line]);
    else break;
    rendered++;
  }
  const title = `Last ${rendered} action${rendered === 1 ? '' : 's'}`;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];
  for (const lines of sections) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });

  const more = `Newest first${entries.length > rendered ? ` · showing ${rendered} of ${entries.length}` : ''} · \`/vip history <n>\` for more`;
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: more }] });

  const textLines = shown.slice(0, Math.min(TEXT_LINES, rendered)).map((e) => `${e.requestId} ${e.action} ${e.node}: ${e.state.replace('_', ' ')}`);
  const text = `${title}: ${textLines.join('; ')}${rendered > TEXT_LINES ? '; …' : ''}`;
  return { text, blocks };
}

/** One entry as one mrkdwn line: `:white_check_mark: \`abc123\` *promote node2* (primary) on orcl · <date> · by … · result`. */
export function renderHistoryLine(e: HistoryEntry): string {
  const vip = e.vip ? ` (${esc(e.vip)})` : '';
  const who = `by ${mention(e.requestedBy)}${e.approvedBy ? `, approved by ${mention(e.approvedBy)}` : ''}`;
  const took = e.durationMs !== undefined ? ` in ${formatDuration(e.durationMs)}` : '';
  const summary = e.summary ? ` — ${esc(clipOneLine(e.summary, MAX_SUMMARY))}` : '';
  return `${stateEmoji(e.state)} \`${esc(e.requestId)}\` *${e.action} ${esc(e.node)}*${vip} on ${esc(e.cluster)} · ${formatSlackDate(e.at)} · ${who} · ${e.state.replace('_', ' ')}${took}${summary}`;
}


/** A Slack user id as a mention; anything else read back from the audit log is shown as text, never as markup. */
function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(userId) ? `<@${userId}>` : esc(userId);
}
