import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeepalivedConf } from '../../../src/keepalived/parse-conf.ts';
import { renderKeepalivedConfig, renderedPriority, type RenderInput, type RenderSettings } from '../../../src/keepalived/render-conf.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/keepalived/render', name), 'utf8');

const nodes = [
  { name: 'node1', host: '198.51.100.1' },
  { name: 'node2', host: '198.51.100.2' },
];
const vips = [
  { name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100/24', routerId: 51, track: '/etc/keepalived/primary_check.sh', master: 'node1' },
  { name: 'standby', instance: 'VI_STANDBY', address: '198.51.100.101/24', routerId: 52, track: '/etc/keepalived/standby_check.sh', master: 'node2' },
];
const team: RenderSettings = { interface: 'eth0', advertInt: 1, checks: { interval: 5, rise: 2, fall: 2 }, scriptUser: 'oracle', authPass: 'pr1m4ry8', globalDefs: false, indent: 6 };
const input = (node: string, settings: RenderSettings = team): RenderInput => ({ cluster: 'orcl', node: nodes.find((n) => n.name === node)!, nodes, vips, settings });

describe('renderKeepalivedConfig', () => {
  it.each(['node1', 'node2'])("renders %s in the team's own shape byte for byte", (node) => {
    expect(renderKeepalivedConfig(input(node))).toBe(fixture(`team-${node}.conf`));
  });

  it('gives each node its own state, priority and unicast addresses, as the parser reads them', () => {
    const view = (node: string) => parseKeepalivedConf(renderKeepalivedConfig(input(node))).instances.map((i) => ({
      name: i.name, state: i.state, priority: i.priority, src: i.unicastSrcIp, peers: i.unicastPeers, vrid: i.virtualRouterId,
    }));
    expect(view('node1')).toEqual([
      { name: 'VI_PRIMARY', state: 'MASTER', priority: 100, src: '198.51.100.1', peers: ['198.51.100.2'], vrid: 51 },
      { name: 'VI_STANDBY', state: 'BACKUP', priority: 90, src: '198.51.100.1', peers: ['198.51.100.2'], vrid: 52 },
    ]);
    expect(view('node2')).toEqual([
      { name: 'VI_PRIMARY', state: 'BACKUP', priority: 90, src: '198.51.100.2', peers: ['198.51.100.1'], vrid: 51 },
      { name: 'VI_STANDBY', state: 'MASTER', priority: 100, src: '198.51.100.2', peers: ['198.51.100.1'], vrid: 52 },
    ]);
  });

  it("the lab's shape: global_defs with script security, no authentication, /32 when no prefix is given", () => {
    const lab = { ...team, authPass: null, globalDefs: true, indent: 4, checks: { interval: 1, rise: 1, fall: 1 } };
    const text = renderKeepalivedConfig({ ...input('node1', lab), vips: [{ ...vips[0]!, address: '198.51.100.100' }] });
    expect(text).toContain('global_defs {\n    router_id node1\n    enable_script_security\n    script_user root\n}\n');
    expect(text).not.toContain('authentication');
    expect(text).toContain('        198.51.100.100/32 dev eth0\n');
    expect(parseKeepalivedConf(text).scripts.map((s) => [s.name, s.user])).toEqual([['chk_primary', 'oracle']]);
  });

  it('a third node backs up at 80; a lone node has no unicast block', () => {
    const three = [...nodes, { name: 'node3', host: '198.51.100.3' }];
    expect(three.map((n) => renderedPriority(vips[0]!, three, n.name))).toEqual([100, 90, 80]);
    const alone = renderKeepalivedConfig({ ...input('node1'), nodes: [nodes[0]!] });
    expect(alone).not.toContain('unicast');
  });
});
