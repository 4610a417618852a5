import { describe, expect, it } from 'vitest';
import { blocksToText, toTerminalText } from '../../../src/slack/blocks-to-text.ts';

describe('toTerminalText', () => {
  it.each([
    [':warning: node2 down', '⚠️ node2 down'],
    ['asked by <@U0OPER1> in <#C0VIPOPS|vipops>', 'asked by @U0OPER1 in #C0VIPOPS'],
    ['expires <!date^1790000000^{date_short_pretty} {time}|2026-09-21 12:53 UTC>', 'expires 2026-09-21 12:53 UTC'],
    ['approvers <!subteam^S0LEADS>', 'approvers @S0LEADS'],
    [':not_an_emoji_we_know:', ':not_an_emoji_we_know:'],
    // What Slack decodes, and only that, in one pass (issue 8 item 10: the console printed `150 &gt; 100`).
    ['priority 150 &gt; 100', 'priority 150 > 100'],
    ['&lt;!channel&gt; &amp; co', '<!channel> & co'],
    ['&amp;gt; is shown as &gt;', '&gt; is shown as >'],
    ['&quot;kept&quot; &#62;', '&quot;kept&quot; &#62;'],
  ])('%j → %j', (input, output) => {
    expect(toTerminalText(input)).toBe(output);
  });
});

describe('blocksToText', () => {
  it('renders header, sections, context and dividers in order', () => {
    expect(blocksToText([
      { type: 'header', text: { type: 'plain_text', text: 'VIP status' } },
      { type: 'section', text: { type: 'mrkdwn', text: ':large_green_circle: primary on node1' } },
      { type: 'divider' },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'a' }, { type: 'mrkdwn', text: 'b' }] },
      { type: 'image', image_url: 'x' },
    ])).toBe('== VIP status ==\n:large_green_circle: primary on node1\n----\na b');
  });
});
