/**
 * The one escape for host and people text (issue 8 item 6): no mention, link or formatting a host
 * chose survives, identifiers read as typed, and the console decodes what Slack decodes.
 */
import { describe, expect, it } from 'vitest';
import { escapeHost, escapeHostText, escapeMrkdwn, unescapeMrkdwn } from '../../../src/slack/escape.ts';
import { liveMarkup } from './live-markup.ts';

describe('escapeHostText', () => {
  it.each([
    ['<!channel> reboot now', '&lt;!channel&gt; reboot now'],
    ['<!here|here> <!everyone>', '&lt;!here|here&gt; &lt;!everyone&gt;'],
    ['<@U0LEAD1> <#C0VIPOPS> <!subteam^S0LEADS>', '&lt;@U0LEAD1&gt; &lt;#C0VIPOPS&gt; &lt;!subteam^S0LEADS&gt;'],
    ['<https://evil.example|Re-authenticate>', '&lt;https://evil.example|Re-authenticate&gt;'],
    ['see https://example.org/x', 'see https://example.org/x'],
    ['*URGENT* _now_ ~ok~', '\u2217URGENT\u2217 \u02cdnow\u02cd \u223cok\u223c'],
    ['`cmd` and ```fence```', '\u02cbcmd\u02cb and \u02cb\u02cb\u02cbfence\u02cb\u02cb\u02cb'],
    ['VI_PRIMARY chk_oracle keepalived_script', 'VI_PRIMARY chk_oracle keepalived_script'],
    ['_leading and trailing_ a_', '\u02cdleading and trailing\u02cd a\u02cd'],
    ['line\n> quoted\n  > too', 'line\n\u00ad&gt; quoted\n  \u00ad&gt; too'],
    ['ping @channel and @Here', 'ping @\u2060channel and @\u2060Here'],
    ['150 > 100 && 1 < 2', '150 &gt; 100 &amp;&amp; 1 &lt; 2'],
    ['&lt; already', '&amp;lt; already'],
  ])('%j → %j', (input, output) => {
    expect(escapeHostText(input)).toBe(output);
  });

  it('leaves nothing Slack would act on, however the markup is nested', () => {
    const hostile = '<!channel> *<https://evil|Re-authenticate>* _<@U1>_ ~x~ `a` ```\n> quote @here';
    expect(liveMarkup(hostile).length).toBeGreaterThan(5);
    expect(liveMarkup(escapeHostText(hostile))).toEqual([]);
  });
});

describe('escapeMrkdwn / escapeHost (code blocks)', () => {
  it('escapes the three control characters; inside a code block only a fence is broken', () => {
    expect(escapeMrkdwn('a & <b> *c*')).toBe('a &amp; &lt;b&gt; *c*');
    expect(escapeHost('x ``` y *z*')).toBe('x `\u200b`\u200b` y *z*');
  });
});

describe('unescapeMrkdwn', () => {
  it.each([
    ['150 &gt; 100', '150 > 100'],
    ['&lt;!channel&gt; &amp; co', '<!channel> & co'],
    ['&amp;lt; stays an entity once', '&lt; stays an entity once'],
    ['&quot;&#39;&nbsp; are not decoded by Slack', '&quot;&#39;&nbsp; are not decoded by Slack'],
  ])('%j → %j', (input, output) => {
    expect(unescapeMrkdwn(input)).toBe(output);
  });

  it('undoes escapeMrkdwn exactly', () => {
    const text = 'a &lt; b & c > d &amp;gt;';
    expect(unescapeMrkdwn(escapeMrkdwn(text))).toBe(text);
  });
});
