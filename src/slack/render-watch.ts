/**
 * The status watch's post: what changed (new warnings, cleared ones, or all clear) above the usual
 * status message, so the person paged sees first why they were paged.
 */
import type { KnownBlock } from '@slack/types';
import type { VipStatus } from '../model.ts';
import type { WatchChange, WatchedWarning } from '../status/watch.ts';
import { escapeHostText as esc } from './escape.ts';
import { renderStatusMessage, type RenderedMessage } from './render-status.ts';

function describe(w: WatchedWarning): string {
  return `\`${w.code}\` in *${esc(w.cluster)}*${w.nodes.length ? ` (${w.nodes.map(esc).join(', ')})` : ''}`;
}

export function renderWatchMessage(status: VipStatus, change: WatchChange): RenderedMessage {
  const lines: string[] = [];
  if (change.allClear) lines.push(':white_check_mark: *All clear*: no warnings on any cluster any more.');
  for (const w of change.added) lines.push(`:rotating_light: *New:* ${describe(w)}`);
  if (!change.allClear) for (const w of change.cleared) lines.push(`:white_check_mark: *Cleared:* ${describe(w)}`);
  if (change.allClear && change.cleared.length) lines.push(`Cleared: ${change.cleared.map(describe).join('; ')}`);
  const message = renderStatusMessage(status, change.allClear ? 'VIP watch — all clear' : 'VIP watch — warnings changed');
  const [header, ...rest] = message.blocks;
  const summary = change.allClear ? 'VIP watch: all clear' : `VIP watch: ${change.added.map((w) => `${w.code} (${w.cluster})`).join(', ') || 'warnings cleared'}`;
  const what: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } };
  return { text: `${summary}\n${message.text}`, blocks: [...(header ? [header] : []), what, ...rest].slice(0, 50) };
}
