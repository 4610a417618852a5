import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { blocksToText } from '../../../src/slack/blocks-to-text.ts';
import { HistoryEntry, renderHistory, renderHistoryLine } from '../../../src/slack/render-history.ts';
import { SLACK_LIMITS } from '../../../src/slack/render-request.ts';
import { liveMentionsAndLinks } from './live-markup.ts';

const T0 = Date.UTC(2026, 10, 26, 3, 0, 0);

const ENTRIES: HistoryEntry[] = [
  { requestId: 'aaa111', action: 'promote', cluster: 'orcl', node: 'node2', vip: 'primary', state: 'succeeded', requestedBy: 'U0ONCALL1', approvedBy: 'U0LEAD1', at: T0, summary: 'primary on node2', durationMs: 3200 },
  { requestId: 'bbb222', action: 'demote', cluster: 'orcl', node: 'node1', state: 'rejected', requestedBy: 'U0ONCALL2', at: T0 + 60_000, summary: 'rejected by <@U0LEAD1>' },
  { requestId: 'ccc333', action: 'start', cluster: 'dwh', node: 'dwh1', state: 'rolled_back', requestedBy: 'U0ONCALL1', approvedBy: 'U0LEAD2', at: T0 + 120_000, summary: 'did not settle\nin 30 s', durationMs: 31_000 },
];

function sections(blocks: KnownBlock[]): string[] {
  return blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
}

describe('renderHistory', () => {
  it('lists entries newest first, compactly', () => {
    const { text, blocks } = renderHistory(ENTRIES, 10);
    expect(text).toBe('Last 3 actions: ccc333 start dwh1: rolled back; bbb222 demote node1: rejected; aaa111 promote node2: succeeded');
    expect(blocks).toStrictEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Last 3 actions', emoji: true } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            ':leftwards_arrow_with_hook: `ccc333` *start dwh1* on dwh · <!date^1795662120^{date_short_pretty} {time}|2026-11-26 03:02 UTC> · by <@U0ONCALL1>, approved by <@U0LEAD2> · rolled back in 31 s — did not settle in 30 s',
            ':no_entry_sign: `bbb222` *demote node1* on orcl · <!date^1795662060^{date_short_pretty} {time}|2026-11-26 03:01 UTC> · by <@U0ONCALL2> · rejected — rejected by &lt;@U0LEAD1&gt;',
            ':white_check_mark: `aaa111` *promote node2* (primary) on orcl · <!date^1795662000^{date_short_pretty} {time}|2026-11-26 03:00 UTC> · by <@U0ONCALL1>, approved by <@U0LEAD1> · succeeded in 3.2 s — primary on node2',
          ].join('\n'),
        },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Newest first · `/vip history <n>` for more' }] },
    ]);
  });

  it('takes the n newest and says how many exist', () => {
    const { text, blocks } = renderHistory(ENTRIES, 1);
    expect(text).toBe('Last 1 action: ccc333 start dwh1: rolled back');
    expect(blocksToText(blocks)).toContain('Newest first · showing 1 of 3');
    expect(sections(blocks)).toHaveLength(1);
  });

  it.each([0, -5, Number.NaN, 1.7])('treats n=%s as at least one', (n) => {
    expect(renderHistory(ENTRIES, n).text).toBe('Last 1 action: ccc333 start dwh1: rolled back');
  });

  it('says so when the audit log is empty', () => {
    expect(renderHistory([], 10)).toStrictEqual({
      text: 'No audited actions yet. `/vip promote`, `demote` and `start` requests are recorded here.',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'No audited actions yet. `/vip promote`, `demote` and `start` requests are recorded here.' } }],
    });
  });

  it('packs thousands of entries into at most 50 blocks of at most 3000 characters', () => {
    const many: HistoryEntry[] = Array.from({ length: 5000 }, (_, i) => ({ ...ENTRIES[0]!, requestId: `r${String(i).padStart(5, '0')}`, at: T0 + i * 1000, summary: 's'.repeat(1000) }));
    const { text, blocks } = renderHistory(many, 5000);
    expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const s of sections(blocks)) expect(s.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const shown = sections(blocks).join('\n').split('\n').length;
    expect(blocksToText(blocks)).toContain(`showing ${shown} of 5000`);
    expect(text.startsWith(`Last ${shown} actions: r04999 promote node2: succeeded; r04998`)).toBe(true);
    expect(text.endsWith('; …')).toBe(true);
  });

  it('validates entries with its schema', () => {
    expect(HistoryEntry.safeParse({ ...ENTRIES[0], state: 'done' }).success).toBe(false);
    expect(HistoryEntry.parse(ENTRIES[1])).toStrictEqual(ENTRIES[1]);
  });

  it('clips a long summary to one line', () => {
    const line = renderHistoryLine({ ...ENTRIES[0]!, summary: 'word '.repeat(100) });
    expect(line).not.toContain('\n');
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('host and people text in history (issue 8 item 6)', () => {
  it('a summary with mentions, links or formatting is shown inert; a user id that is not one is not a mention', () => {
    const entry: HistoryEntry = {
      requestId: 'ddd444', action: 'promote', cluster: 'orcl', node: 'node2', state: 'failed', requestedBy: 'U0ONCALL1>|<!channel', at: T0,
      summary: 'ssh: <!channel> *click* <https://evil.example|Re-authenticate>',
    };
    const line = renderHistoryLine(entry);
    expect(line).toBe(':x: `ddd444` *promote node2* on orcl · <!date^1795662000^{date_short_pretty} {time}|2026-11-26 03:00 UTC> · ' +
      'by U0ONCALL1&gt;|&lt;!channel · failed — ssh: &lt;!channel&gt; \u2217click\u2217 &lt;https://evil.example|Re-authenticate&gt;');
    expect(liveMentionsAndLinks(line)).toEqual([]);
  });
});
