import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/config.ts';
import { renderInventory } from '../../../src/keepalived/render-inventory.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/keepalived/render', name), 'utf8');

// The team's own shape: 6-space indent, authentication, `user oracle`, no global_defs.
const config = validateConfig({
  clusters: [{
    name: 'orcl',
    render: { interface: 'eth0', advertInt: 1, checks: { interval: 5, rise: 2, fall: 2 }, scriptUser: 'oracle', authPass: 'pr1m4ry8', globalDefs: false },
    vips: [
      { name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100/24', routerId: 51, track: '/etc/keepalived/primary_check.sh', master: 'node1' },
      { name: 'standby', instance: 'VI_STANDBY', address: '198.51.100.101/24', routerId: 52, track: '/etc/keepalived/standby_check.sh', master: 'node2' },
    ],
    nodes: [{ name: 'node1', host: '198.51.100.1' }, { name: 'node2', host: '198.51.100.2' }],
  }, {
    name: 'other',
    vips: [{ name: 'p', instance: 'VI_P', address: '198.51.100.110' }],
    nodes: [{ name: 'node3', host: '198.51.100.3' }],
  }],
});

describe('renderInventory', () => {
  it("renders a cluster's nodes from vipbot.yaml, byte for byte the team's shape", () => {
    expect(renderInventory(config, 'orcl')).toEqual([
      { cluster: 'orcl', node: 'node1', text: fixture('team-node1.conf') },
      { cluster: 'orcl', node: 'node2', text: fixture('team-node2.conf') },
    ]);
    expect(renderInventory(config, 'node2').map((r) => r.node)).toEqual(['node2']);
  });

  it('says what to add for a cluster without a render block, and what names exist', () => {
    expect(() => renderInventory(config, 'other')).toThrow(/cluster other has no render block/);
    expect(() => renderInventory(config)).toThrow(/cluster other has no render block/);
    expect(() => renderInventory(config, 'node9')).toThrow(/no cluster or node is called node9/);
  });
});
