import { describe, expect, it } from 'vitest';
import type { NodeStatus, VipStatus } from '../../../src/model.ts';
import { blocksToText } from '../../../src/slack/blocks-to-text.ts';
import { renderStatusMessage } from '../../../src/slack/render-status.ts';
import { liveMentionsAndLinks } from './live-markup.ts';

const reachable = (name: string, host: string): NodeStatus => ({ name, host, reachable: true, keepalived: 'active', instances: [] });
const unreachable = (name: string, host: string): NodeStatus => ({ name, host, reachable: false, keepalived: 'unknown', instances: [], error: 'SSH connection timed out' });

function statusWith(nodes: NodeStatus[], primaryHolders: string[]): VipStatus {
  return {
    clusters: [{
      name: 'orcl',
      vips: [
        { name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100', holders: primaryHolders },
        { name: 'standby', instance: 'VI_STANDBY', address: '198.51.100.101', holders: ['node2'] },
      ],
      nodes,
      warnings: [],
    }],
  };
}

const vipLine = (status: VipStatus): string => blocksToText(renderStatusMessage(status).blocks).split('\n').find((l) => l.includes('198.51.100.100')) ?? '';

describe('VIP holders in the status message', () => {
  it('a VIP on no node, with every node read, is on nobody (red)', () => {
    const status = statusWith([reachable('node1', '198.51.100.1'), reachable('node2', '198.51.100.2')], []);
    expect(vipLine(status)).toBe(':red_circle: primary `198.51.100.100` (VI_PRIMARY) → *nobody*');
    expect(renderStatusMessage(status).text).toBe('orcl: primary on nobody, standby on node2');
  });

  it('a VIP on none of the nodes read, with a node unread, is unknown, not nobody', () => {
    const status = statusWith([reachable('node1', '198.51.100.1'), unreachable('node2', '198.51.100.2')], []);
    expect(vipLine(status)).toBe(':grey_question: primary `198.51.100.100` (VI_PRIMARY) → *unknown*: not on *node1*; *node2* could not be read');
    expect(renderStatusMessage(status).text).toBe('orcl: primary on ?, standby on node2');
    const none = statusWith([unreachable('node1', '198.51.100.1'), unreachable('node2', '198.51.100.2')], []);
    expect(vipLine(none)).toBe(':grey_question: primary `198.51.100.100` (VI_PRIMARY) → *unknown*: *node1*, *node2* could not be read');
  });

  it('a VIP seen on a node read is shown there even when another node is unread', () => {
    const status = statusWith([reachable('node1', '198.51.100.1'), unreachable('node2', '198.51.100.2')], ['node1']);
    expect(vipLine(status)).toBe(':large_green_circle: primary `198.51.100.100` (VI_PRIMARY) → *node1*');
  });
});

describe('host text in the status message (issue 8 item 6)', () => {
  const HOSTILE = '<!channel> *URGENT* <https://evil.example|Re-authenticate> _now_ ~x~ `rm` ```\n> <@U0LEAD1> <#C0VIPOPS> <!subteam^S0LEADS> @here';
  const INERT = '&lt;!channel&gt; \u2217URGENT\u2217 &lt;https://evil.example|Re-authenticate&gt; \u02cdnow\u02cd \u223cx\u223c \u02cbrm\u02cb \u02cb\u02cb\u02cb\n' +
    '\u00ad&gt; &lt;@U0LEAD1&gt; &lt;#C0VIPOPS&gt; &lt;!subteam^S0LEADS&gt; @\u2060here';
  const status: VipStatus = {
    clusters: [{
      name: 'orcl',
      vips: [{ name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100', holders: ['node1'] }],
      nodes: [
        { name: 'node1', host: '198.51.100.1', reachable: true, keepalived: 'active', instances: [{ name: 'VI_*x*', state: '<!here>', priority: 100, holdsVip: true, checksPass: true }] },
        { name: 'node2', host: '198.51.100.2', reachable: false, keepalived: 'unknown', instances: [], error: `ssh: ${HOSTILE}` },
      ],
      warnings: [
        { code: 'check_failed', message: `track script chk_db on node1 printed: ${HOSTILE}`, nodes: ['node1'] },
        { code: 'node_unreachable', message: `node2 (198.51.100.2) is unreachable: ${HOSTILE}`, nodes: ['node2'] },
      ],
    }],
  };

  it('warnings, node errors and host-read names arrive escaped: no mention, link or formatting the host chose', () => {
    const { blocks, text } = renderStatusMessage(status);
    const sections = blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
    expect(sections[0]).toBe([
      '*orcl*  2 warning(s)',
      `:grey_question: \`check_failed\` track script chk_db on node1 printed: ${INERT}`,
      `:electric_plug: \`node_unreachable\` node2 (198.51.100.2) is unreachable: ${INERT}`,
    ].join('\n'));
    expect(sections[2]).toBe([
      '*node1* 198.51.100.1 — keepalived active',
      '      VI\u02cd\u2217x\u2217 &lt;!here&gt;/100 check ✓ *holds VIP*',
      `:electric_plug: *node2* 198.51.100.2 — unreachable: ssh: ${INERT}`,
    ].join('\n'));
    for (const t of [...sections, text]) expect(liveMentionsAndLinks(t)).toEqual([]);
  });
});

describe('fix commands in warnings (issue 8 item 10)', () => {
  const withWarning = (message: string, fixes: string[]): VipStatus => ({
    clusters: [{ name: 'orcl', vips: [], nodes: [], warnings: [{ code: 'preempt_hazard', message, nodes: ['node1', 'node2'], fixes }] }],
  });
  const warningLine = (s: VipStatus): string => blocksToText(renderStatusMessage(s).blocks).split('\n').slice(3).join('\n').split('\n----')[0]!;

  it('a fix the message names is shown there as a command, once, with no fix: line', () => {
    const message = 'node1 will take VIP primary from node2. Fix: /vip promote node2 primary (raise node2 above 100) or /vip demote node1 (stop keepalived on node1).';
    expect(warningLine(withWarning(message, ['/vip promote node2 primary', '/vip demote node1']))).toBe(
      ':warning: `preempt_hazard` node1 will take VIP primary from node2. Fix: `/vip promote node2 primary` (raise node2 above 100) or `/vip demote node1` (stop keepalived on node1).',
    );
  });

  it('a fix the message does not name gets the fix: line; a longer node name is not taken for the command', () => {
    expect(warningLine(withWarning('node10 is down; see /vip demote node10 for why.', ['/vip demote node1', '/vip start node1']))).toBe(
      ':warning: `preempt_hazard` node10 is down; see /vip demote node10 for why.\n      fix: `/vip demote node1`  or  `/vip start node1`',
    );
  });
});
