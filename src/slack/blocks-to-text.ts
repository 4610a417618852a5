import { unescapeMrkdwn } from './escape.ts';

/**
 * Block Kit → plain text (mrkdwn kept as typed). Handles the blocks vipbot sends (header, section,
 * context, divider). `toTerminalText` then turns Slack markup into what a terminal can show.
 */
export function blocksToText(blocks: readonly unknown[]): string {
  const lines: string[] = [];
  for (const block of blocks) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as { type?: string; text?: { text?: string }; elements?: Array<{ text?: string }>; fields?: Array<{ text?: string }> };
    switch (b.type) {
      case 'header':
        lines.push(`== ${b.text?.text ?? ''} ==`);
        break;
      case 'section':
        if (b.text?.text) lines.push(b.text.text);
        for (const f of b.fields ?? []) if (f.text) lines.push(f.text);
        break;
      case 'context':
        lines.push((b.elements ?? []).map((e) => e.text ?? '').join(' '));
        break;
      case 'divider':
        lines.push('----');
        break;
      default:
        break;
    }
  }
  return lines.join('\n');
}

const EMOJI: Record<string, string> = {
  warning: '⚠️', x: '❌', white_check_mark: '✅', heavy_check_mark: '✔️', large_green_circle: '🟢', red_circle: '🔴',
  rotating_light: '🚨', electric_plug: '🔌', octagonal_sign: '🛑', jigsaw: '🧩', grey_question: '❔', balance_scale: '⚖️',
  hourglass_flowing_sand: '⏳', information_source: 'ℹ️', no_entry_sign: '🚫', '+1': '👍', arrow_right: '➡️',
  alarm_clock: '⏰', arrows_counterclockwise: '🔄', ballot_box_with_check: '☑️', floppy_disk: '💾', gear: '⚙️', heavy_multiplication_x: '✖️',
  hourglass: '⌛', inbox_tray: '📥', leftwards_arrow_with_hook: '↩️', lock: '🔒', mag: '🔍', no_entry: '⛔', package: '📦', pencil2: '✏️',
  repeat: '🔁', rewind: '⏪', test_tube: '🧪', clipboard: '📋',
};

/**
 * Slack markup as a terminal shows it: `:emoji:` as characters (unknown codes stay as typed),
 * `<!date^…|fallback>` as its fallback, `<@U…>` / `<#C…>` / `<!subteam^S…>` as @U… / #C… / @S…,
 * and `&lt;` `&gt;` `&amp;` decoded last, as Slack shows them (`150 &gt; 100` reads `150 > 100`).
 */
export function toTerminalText(text: string): string {
  return unescapeMrkdwn(emojiToUnicode(text
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<#([CG][A-Z0-9]+)(?:\|[^>]*)?>/g, '#$1')
    .replace(/<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>/g, '@$1')));
}

/** Slack `:emoji:` codes as characters; unknown codes stay as typed. */
export function emojiToUnicode(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}
