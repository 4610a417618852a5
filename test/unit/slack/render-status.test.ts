import { describe, expect, it } from 'vitest';
import type { NodeStatus, VipStatus } from '../../../src/model.ts';
import { blocksToText } from '../../../src/slack/blocks-to-text.ts';
import { renderStatusMessage } from '../../../src/slack/render-status.ts';

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
