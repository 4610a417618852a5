/**
 * Block Kit → plain text for the terminal console and logs. Handles the blocks vipbot sends (header,
 * section, context, divider); mrkdwn is shown as typed, which reads fine in a terminal.
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
  return emojiToUnicode(lines.join('\n'));
}

const EMOJI: Record<string, string> = {
  warning: '⚠️', x: '❌', white_check_mark: '✅', heavy_check_mark: '✔️', large_green_circle: '🟢', red_circle: '🔴',
  rotating_light: '🚨', electric_plug: '🔌', octagonal_sign: '🛑', jigsaw: '🧩', grey_question: '❔', balance_scale: '⚖️',
  hourglass_flowing_sand: '⏳', information_source: 'ℹ️', no_entry_sign: '🚫', '+1': '👍', arrow_right: '➡️',
};

/** Slack `:emoji:` codes as the characters a terminal can show; unknown codes stay as typed. */
export function emojiToUnicode(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}
