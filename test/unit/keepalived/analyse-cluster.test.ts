import { describe, expect, it } from 'vitest';
import { ORCL_PAIR, keepalivedFixture } from '../../support/orcl-pair.ts';
import type { ClusterConfig } from '../../../src/config/config.ts';
import { analyseCluster } from '../../../src/keepalived/analyse-cluster.ts';
import { setInstancePriority } from '../../../src/keepalived/edit-conf.ts';
import { ClusterStatus, type NodeFacts, type TrackScriptResult } from '../../../src/model.ts';
import { blocksToText } from '../../../src/slack/blocks-to-text.ts';
import { renderStatusMessage } from '../../../src/slack/render-status.ts';

const fixture = keepalivedFixture;

const cluster: ClusterConfig = ORCL_PAIR;

const ACTIVE = fixture('systemctl-show-active.txt');
const INACTIVE = fixture('systemctl-show-inactive.txt');
const FAILED = fixture('systemctl-show-failed.txt');

/** `ip -o addr show` of a host with its own address and the VIPs it holds (as keepalived adds them). */
function ipAddr(host: string, ...vips: string[]): string {
  return [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    `2: eth0    inet ${host}/24 brd 198.51.100.255 scope global noprefixroute eth0\\       valid_lft forever preferred_lft forever`,
    ...vips.map((vip, i) => `2: eth0    inet ${vip}/24 scope global secondary eth0:${i + 1}\\       valid_lft forever preferred_lft forever`),
    '2: eth0    inet6 fe80::250:56ff:fe9a:1b2c/64 scope link noprefixroute \\       valid_lft forever preferred_lft forever',
  ].join('\n') + '\n';
}

function scripts(codes: Record<string, number | null>): TrackScriptResult[] {
  return Object.entries(codes).map(([name, exitCode]) => ({ name, exitCode }));
}

interface NodeSetup {
  config?: string;
  show?: string;
  holds?: string[];
  checks?: Record<string, number | null> | TrackScriptResult[];
}

function node(name: 'node1' | 'node2', setup: NodeSetup): NodeFacts {
  const host = name === 'node1' ? '198.51.100.1' : '198.51.100.2';
  return {
    node: name,
    host,
    reachable: true,
    systemctlShow: setup.show ?? ACTIVE,
    configText: setup.config ?? fixture(`${name}.conf`),
    ipAddr: ipAddr(host, ...(setup.holds ?? [])),
    trackScripts: Array.isArray(setup.checks) ? setup.checks : scripts(setup.checks ?? {}),
  };
}

const PRIMARY_DB = { chk_primary: 0, chk_standby: 1 };
const STANDBY_DB = { chk_primary: 1, chk_standby: 0 };
const DB_DOWN = { chk_primary: 1, chk_standby: 1 };

function analyse(facts: NodeFacts[], c: ClusterConfig = cluster): ClusterStatus {
  const status = analyseCluster(c, facts);
  // the result is exactly the vip_status shape
  expect(ClusterStatus.parse(status)).toEqual(status);
  return status;
}

describe('analyseCluster', () => {
  it('reports a healthy pair: node1 primary holds the primary VIP, node2 standby holds the standby VIP', () => {
    const status = analyse([
      node('node1', { holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ]);
    expect(status).toEqual({
      name: 'orcl',
      vips: [
        { name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100', holders: ['node1'] },
        { name: 'standby', instance: 'VI_STANDBY', address: '198.51.100.101', holders: ['node2'] },
      ],
      nodes: [
        {
          name: 'node1', host: '198.51.100.1', reachable: true, keepalived: 'active',
          instances: [
            { name: 'VI_PRIMARY', state: 'MASTER', priority: 100, holdsVip: true, checksPass: true, runtimeState: 'MASTER', checks: [{ name: 'chk_primary', exitCode: 0, pass: true }] },
            { name: 'VI_STANDBY', state: 'BACKUP', priority: 90, holdsVip: false, checksPass: false, runtimeState: 'FAULT', checks: [{ name: 'chk_standby', exitCode: 1, pass: false }] },
          ],
        },
        {
          name: 'node2', host: '198.51.100.2', reachable: true, keepalived: 'active',
          instances: [
            { name: 'VI_PRIMARY', state: 'BACKUP', priority: 90, holdsVip: false, checksPass: false, runtimeState: 'FAULT', checks: [{ name: 'chk_primary', exitCode: 1, pass: false }] },
            { name: 'VI_STANDBY', state: 'MASTER', priority: 100, holdsVip: true, checksPass: true, runtimeState: 'MASTER', checks: [{ name: 'chk_standby', exitCode: 0, pass: true }] },
          ],
        },
      ],
      warnings: [],
    });
  });

  describe('the notes\' failover: node2 became primary and holds the primary VIP at 90; node1 is back, its database down', () => {
    const facts = [
      node('node1', { checks: DB_DOWN }),
      node('node2', { holds: ['198.51.100.100'], checks: PRIMARY_DB }),
    ];

    it('warns that node1 (MASTER 100) will take the primary VIP back, naming both fixes', () => {
      const status = analyse(facts);
      expect(status.vips.map((v) => v.holders)).toEqual([['node2'], []]);
      expect(status.nodes[0]!.instances.map((i) => [i.name, i.state, i.priority, i.runtimeState])).toEqual([
        ['VI_PRIMARY', 'MASTER', 100, 'FAULT'],
        ['VI_STANDBY', 'BACKUP', 90, 'FAULT'],
      ]);
      expect(status.warnings).toEqual([
        {
          code: 'vip_missing',
          message: 'VIP standby (198.51.100.101) is not up on any node (node1: FAULT, chk_standby exit 1; node2: FAULT, chk_standby exit 1).',
          nodes: ['node1', 'node2'],
        },
        {
          code: 'preempt_hazard',
          message:
            "node1 has priority 100 for VI_PRIMARY, above node2's 90, so it will take VIP primary (198.51.100.100) from node2 as soon as its track script chk_primary passes (e.g. when its database starts in that role again). " +
            'Fix: /vip promote node2 primary (raise node2 above 100) or /vip demote node1 (stop keepalived on node1).',
          nodes: ['node1', 'node2'],
          fixes: ['/vip promote node2 primary', '/vip demote node1'],
        },
      ]);
    });

    it('shown in Slack, the hazard says each fix once, as a command, with no separate fix: line (issue 8 item 10)', () => {
      const text = blocksToText(renderStatusMessage({ clusters: [analyse(facts)] }).blocks);
      const hazard = text.split('\n').filter((l) => l.includes('preempt_hazard') || /^\s+fix:/.test(l));
      expect(hazard).toEqual([
        ":warning: `preempt_hazard` node1 has priority 100 for VI_PRIMARY, above node2's 90, so it will take VIP primary (198.51.100.100) from node2 " +
          'as soon as its track script chk_primary passes (e.g. when its database starts in that role again). ' +
          'Fix: `/vip promote node2 primary` (raise node2 above 100) or `/vip demote node1` (stop keepalived on node1).',
      ]);
      for (const fix of ['/vip promote node2 primary', '/vip demote node1']) expect(text.split(fix)).toHaveLength(2);
    });

    it('clears the hazard after fix (a): node2 raised to 150', () => {
      const raised = setInstancePriority(fixture('node2.conf'), 'VI_PRIMARY', 150).text;
      const status = analyse([facts[0]!, { ...facts[1]!, configText: raised }]);
      expect(status.warnings.map((w) => w.code)).toEqual(['vip_missing']);
      expect(status.nodes[1]!.instances[0]).toMatchObject({ name: 'VI_PRIMARY', priority: 150, holdsVip: true, runtimeState: 'MASTER' });
    });

    it('after fix (b), keepalived stopped on node1, says the hazard waits for keepalived to start', () => {
      const status = analyse([{ ...facts[0]!, systemctlShow: INACTIVE }, facts[1]!]);
      expect(status.warnings.map((w) => w.code)).toEqual(['vip_missing', 'keepalived_down', 'preempt_hazard']);
      expect(status.warnings[2]!.message).toContain('will take VIP primary (198.51.100.100) from node2 as soon as keepalived starts there');
      expect(status.nodes[0]!.instances.map((i) => i.runtimeState)).toEqual(['STOPPED', 'STOPPED']);
    });

    it('does not warn when node1 has nopreempt with state BACKUP, but does with state MASTER (keepalived clears it)', () => {
      const backup = fixture('node1.conf').replace('state MASTER', 'state BACKUP\n      nopreempt');
      expect(analyse([{ ...facts[0]!, configText: backup }, facts[1]!]).warnings.map((w) => w.code)).toEqual(['vip_missing']);
      const master = fixture('node1.conf').replace('state MASTER', 'state MASTER\n      nopreempt');
      expect(analyse([{ ...facts[0]!, configText: master }, facts[1]!]).warnings.map((w) => w.code)).toEqual(['vip_missing', 'preempt_hazard']);
    });
  });

  it('reports split brain when both nodes hold the primary VIP (and the router id mismatch that causes it)', () => {
    const status = analyse([
      node('node1', { holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { config: fixture('node2.conf').replace('virtual_router_id 51', 'virtual_router_id 151'), holds: ['198.51.100.100', '198.51.100.101'], checks: { chk_primary: 0, chk_standby: 0 } }),
    ]);
    expect(status.vips[0]!.holders).toEqual(['node1', 'node2']);
    expect(status.warnings).toEqual([
      {
        code: 'split_brain',
        message: "VIP primary (198.51.100.100) is up on node1 and node2 at once (split brain): clients may reach either database. Check that the nodes receive each other's VRRP adverts (virtual_router_id, unicast_peer, firewall).",
        nodes: ['node1', 'node2'],
      },
      {
        code: 'config_mismatch',
        message: "virtual_router_id of VI_PRIMARY differs: node1 51, node2 151. The nodes ignore each other's adverts and may both take VIP primary (198.51.100.100).",
        nodes: ['node1', 'node2'],
      },
    ]);
  });

  it('says a missing VIP may be on a node that could not be reached', () => {
    const status = analyse([
      node('node1', { holds: ['198.51.100.101'], checks: STANDBY_DB }),
      { node: 'node2', host: '198.51.100.2', reachable: false, error: 'SSH connection to node2 (198.51.100.2) timed out after 5s — check that the host is up', trackScripts: [] },
    ]);
    expect(status.nodes[1]).toEqual({
      name: 'node2', host: '198.51.100.2', reachable: false, keepalived: 'unknown',
      instances: [
        { name: 'VI_PRIMARY', state: 'UNKNOWN', priority: null, holdsVip: false, checksPass: null, runtimeState: 'UNKNOWN' },
        { name: 'VI_STANDBY', state: 'UNKNOWN', priority: null, holdsVip: false, checksPass: null, runtimeState: 'UNKNOWN' },
      ],
      error: 'SSH connection to node2 (198.51.100.2) timed out after 5s — check that the host is up',
    });
    expect(status.warnings).toEqual([
      {
        code: 'vip_missing',
        message: 'VIP primary (198.51.100.100) is not up on any reachable node (node1: FAULT, chk_primary exit 1); it may be up on node2, which could not be checked.',
        nodes: ['node1', 'node2'],
      },
      {
        code: 'node_unreachable',
        message: 'node2 (198.51.100.2) is unreachable: SSH connection to node2 (198.51.100.2) timed out after 5s — check that the host is up. Its keepalived state and VIPs are unknown.',
        nodes: ['node2'],
      },
    ]);
  });

  it('says a node answered but sudo refused the bot, rather than calling it unreachable', () => {
    const refused = (name: string, host: string): NodeFacts => ({
      node: name, host, reachable: false, trackScripts: [], errorCode: 'ssh_sudo_denied',
      error: `sudo refused cat -- /etc/keepalived/keepalived.conf on ${name} (${host}): a password is required`,
    });
    const status = analyse([refused('node1', '198.51.100.1'), refused('node2', '198.51.100.2')]);
    expect(status.warnings.map((w) => [w.code, w.message])).toEqual([
      ['node_unreachable', 'node1 (198.51.100.1) answers over SSH, but its facts could not be read: sudo refused cat -- /etc/keepalived/keepalived.conf on node1 (198.51.100.1): a password is required. Its keepalived state and VIPs are unknown.'],
      ['node_unreachable', 'node2 (198.51.100.2) answers over SSH, but its facts could not be read: sudo refused cat -- /etc/keepalived/keepalived.conf on node2 (198.51.100.2): a password is required. Its keepalived state and VIPs are unknown.'],
    ]);
  });

  it('treats a node without facts as unreachable and does not guess about VIPs when no node could be read', () => {
    const status = analyse([]);
    expect(status.warnings.map((w) => [w.code, w.message])).toEqual([
      ['node_unreachable', 'node1 (198.51.100.1) is unreachable: no facts were collected. Its keepalived state and VIPs are unknown.'],
      ['node_unreachable', 'node2 (198.51.100.2) is unreachable: no facts were collected. Its keepalived state and VIPs are unknown.'],
    ]);
  });

  it.each([
    ['inactive', INACTIVE, 'keepalived is not running on node2 (198.51.100.2): inactive (dead). VIPs cannot move to node2; start it with /vip start node2.'],
    ['failed', FAILED, 'keepalived is not running on node2 (198.51.100.2): failed. VIPs cannot move to node2; start it with /vip start node2.'],
  ])('reports keepalived %s on a reachable node', (_label, show, message) => {
    const status = analyse([
      node('node1', { holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { show, checks: STANDBY_DB }),
    ]);
    expect(status.nodes[1]!.keepalived).toBe('inactive');
    expect(status.warnings).toEqual([
      {
        code: 'vip_missing',
        message: 'VIP standby (198.51.100.101) is not up on any node (node1: FAULT, chk_standby exit 1; node2: keepalived stopped).',
        nodes: ['node1', 'node2'],
      },
      { code: 'keepalived_down', message, nodes: ['node2'], fixes: ['/vip start node2'] },
    ]);
  });

  /** Drops VI_STANDBY's unicast_peer block (and unicast_src_ip): that instance falls back to multicast. */
  const withoutStandbyPeers = (text: string) => {
    const at = text.indexOf('vrrp_instance VI_STANDBY');
    return text.slice(0, at) + text.slice(at).replace(/ +unicast_src_ip .*\n +unicast_peer \{\n.*\n +\}\n/, '');
  };

  it('reports a unicast_peer that is not the partner\'s unicast_src_ip, and one missing altogether', () => {
    const status = analyse([
      node('node1', { config: fixture('node1.conf').replace(/^( +)198\.51\.100\.2$/m, '$1198.51.100.3'), holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { config: withoutStandbyPeers(fixture('node2.conf')), holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ]);
    expect(status.warnings).toEqual([
      {
        code: 'config_mismatch',
        message: "unicast_peer of VI_PRIMARY on node1 lists 198.51.100.3, not node2's unicast_src_ip 198.51.100.2: node2 never hears node1's adverts, and both may take VIP primary (198.51.100.100).",
        nodes: ['node1', 'node2'],
      },
      {
        code: 'config_mismatch',
        message: 'node2 has no unicast_peer for VI_STANDBY (it sends adverts by multicast) while node1 uses unicast: node1 never hears node2, and both may take VIP standby (198.51.100.101).',
        nodes: ['node2', 'node1'],
      },
    ]);
  });

  it('falls back to the partner\'s host when it sets no unicast_src_ip', () => {
    const noSrc = (name: 'node1' | 'node2') => fixture(`${name}.conf`).replace(/^ +unicast_src_ip .*\n/gm, '');
    const ok = analyse([
      node('node1', { config: noSrc('node1'), holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { config: noSrc('node2'), holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ]);
    expect(ok.warnings).toEqual([]);
    const moved = analyse([
      node('node1', { config: noSrc('node1'), holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { config: noSrc('node2'), holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ], { ...cluster, nodes: [cluster.nodes[0]!, { name: 'node2', host: '198.51.100.22' }] });
    expect(moved.warnings.map((w) => w.message)).toEqual([
      "unicast_peer of VI_PRIMARY on node1 lists 198.51.100.2, not node2's address 198.51.100.22 (it sets no unicast_src_ip): node2 never hears node1's adverts, and both may take VIP primary (198.51.100.100).",
      "unicast_peer of VI_STANDBY on node1 lists 198.51.100.2, not node2's address 198.51.100.22 (it sets no unicast_src_ip): node2 never hears node1's adverts, and both may take VIP standby (198.51.100.101).",
    ]);
  });

  it('reports an instance or VIP from vipbot.yaml that a node\'s keepalived.conf lacks', () => {
    const status = analyse([
      node('node1', { config: fixture('node1.conf').replace('198.51.100.101/24', '198.51.100.102/24'), holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { config: fixture('universal.conf'), holds: ['198.51.100.101'], checks: { chk_role: 1 } }),
    ]);
    expect(status.nodes[1]!.instances.map((i) => [i.name, i.state, i.priority])).toEqual([['VI_PRIMARY', 'UNKNOWN', null], ['VI_STANDBY', 'UNKNOWN', null]]);
    expect(status.warnings.filter((w) => w.code === 'config_mismatch').map((w) => [w.message, w.nodes])).toEqual([
      ['keepalived.conf on node2 has no vrrp_instance VI_PRIMARY (VIP primary, 198.51.100.100 in vipbot.yaml); it defines VI_1.', ['node2']],
      ['vrrp_instance VI_STANDBY on node1 does not list 198.51.100.101 (VIP standby in vipbot.yaml) in virtual_ipaddress; it lists 198.51.100.102.', ['node1']],
      ['keepalived.conf on node2 has no vrrp_instance VI_STANDBY (VIP standby, 198.51.100.101 in vipbot.yaml); it defines VI_1.', ['node2']],
    ]);
  });

  it('reports a config that cannot be parsed, with state UNKNOWN and no priority', () => {
    const broken = fixture('node2.conf').replace(/\n}\n$/, '\n');
    const status = analyse([
      node('node1', { holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { config: broken, holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ]);
    expect(status.nodes[1]!.instances).toEqual([
      { name: 'VI_PRIMARY', state: 'UNKNOWN', priority: null, holdsVip: false, checksPass: null, runtimeState: 'UNKNOWN' },
      { name: 'VI_STANDBY', state: 'UNKNOWN', priority: null, holdsVip: true, checksPass: null, runtimeState: 'MASTER' },
    ]);
    expect(status.nodes[1]!.error).toBe('keepalived.conf line 47: block "vrrp_instance VI_STANDBY" is never closed — add the missing } (braces must balance)');
    expect(status.warnings).toEqual([
      {
        code: 'config_mismatch',
        message: 'keepalived.conf on node2 cannot be parsed: keepalived.conf line 47: block "vrrp_instance VI_STANDBY" is never closed — add the missing } (braces must balance)',
        nodes: ['node2'],
      },
    ]);
  });

  it('reports the old universal layout: both MASTER at 244 is a priority tie; weights give effective priorities', () => {
    const old: ClusterConfig = { ...cluster, vips: [{ name: 'primary', instance: 'VI_1', address: '198.51.100.100' }] };
    const status = analyse([
      node('node1', { config: fixture('universal.conf'), holds: ['198.51.100.100'], checks: { chk_role: 0 } }),
      node('node2', { config: fixture('universal.conf'), checks: { chk_role: 1 } }),
    ], old);
    expect(status.nodes.map((n) => n.instances[0])).toEqual([
      { name: 'VI_1', state: 'MASTER', priority: 244, effectivePriority: 246, holdsVip: true, checksPass: true, runtimeState: 'MASTER', checks: [{ name: 'chk_role', exitCode: 0, pass: true }] },
      // weight 2: a failing script only withholds the bonus, it does not put the instance in FAULT
      { name: 'VI_1', state: 'MASTER', priority: 244, effectivePriority: 244, holdsVip: false, checksPass: false, runtimeState: 'BACKUP', checks: [{ name: 'chk_role', exitCode: 1, pass: false }] },
    ]);
    expect(status.warnings).toEqual([
      {
        code: 'priority_tie',
        message: 'node1 and node2 have the same priority 244 for VI_1 (VIP primary, 198.51.100.100): on a tie VRRP elects the node with the higher IP address, not the one with the right database role. Give them different priorities.',
        nodes: ['node1', 'node2'],
      },
    ]);
  });

  it.each([
    [
      'not found (127)',
      [{ name: 'chk_primary', exitCode: 127, error: '/etc/keepalived/primary_check.sh: not found' }, { name: 'chk_standby', exitCode: 1 }],
      'track script chk_primary (/etc/keepalived/primary_check.sh, as oracle) could not be run on node1: exit 127 (not found): /etc/keepalived/primary_check.sh: not found. Its result says nothing about the database role; check that the script exists and is executable by oracle.',
    ],
    [
      'timed out (124, no error text)',
      [{ name: 'chk_primary', exitCode: 124 }, { name: 'chk_standby', exitCode: 1 }],
      'track script chk_primary (/etc/keepalived/primary_check.sh, as oracle) could not be run on node1: exit 124 (timed out). Its result says nothing about the database role; check that the script exists and is executable by oracle.',
    ],
    [
      'SSH failure (no exit code)',
      [{ name: 'chk_primary', exitCode: null, error: 'channel closed' }, { name: 'chk_standby', exitCode: 1 }],
      'track script chk_primary (/etc/keepalived/primary_check.sh, as oracle) could not be run on node1: no exit code: channel closed. Its result says nothing about the database role; check that the script exists and is executable by oracle.',
    ],
  ])('reports a track script that could not be run: %s', (_label, checks, message) => {
    const status = analyse([
      node('node1', { holds: ['198.51.100.100'], checks }),
      node('node2', { holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ]);
    expect(status.nodes[0]!.instances[0]).toMatchObject({ checksPass: null, runtimeState: 'MASTER', checks: [{ name: 'chk_primary', exitCode: checks[0]!.exitCode, pass: false }] });
    expect(status.warnings).toEqual([{ code: 'check_failed', message, nodes: ['node1'] }]);
  });

  it('reports unknown addresses and service state without claiming the VIP is missing there', () => {
    const status = analyse([
      node('node1', { holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      { ...node('node2', { checks: STANDBY_DB }), ipAddr: undefined, systemctlShow: undefined, error: 'ip -o addr failed: exit 255; systemctl show failed: exit 1' },
    ]);
    expect(status.nodes[1]!.keepalived).toBe('unknown');
    expect(status.nodes[1]!.instances.map((i) => i.runtimeState)).toEqual(['UNKNOWN', 'UNKNOWN']);
    expect(status.warnings.map((w) => [w.code, w.message])).toEqual([
      ['vip_missing', 'VIP standby (198.51.100.101) is not up on any reachable node (node1: FAULT, chk_standby exit 1); it may be up on node2, which could not be checked.'],
      ['check_failed', "keepalived's service state on node2 is unknown (systemctl show gave no ActiveState)."],
      ['check_failed', 'addresses on node2 could not be listed (ip -o addr show gave no output); whether it holds a VIP is unknown.'],
    ]);
  });

  it('reports a track_script that names no vrrp_script (keepalived silently ignores it)', () => {
    const typo = fixture('node1.conf').replace(/^( +)chk_primary$/m, '$1chk_primry');
    const status = analyse([
      node('node1', { config: typo, holds: ['198.51.100.100'], checks: PRIMARY_DB }),
      node('node2', { holds: ['198.51.100.101'], checks: STANDBY_DB }),
    ]);
    expect(status.nodes[0]!.instances[0]).toMatchObject({ checksPass: true, checks: [] });
    expect(status.warnings).toEqual([
      {
        code: 'config_mismatch',
        message: 'vrrp_instance VI_PRIMARY on node1 tracks chk_primry, but no vrrp_script chk_primry is defined: keepalived ignores it, so VIP primary (198.51.100.100) does not follow that check.',
        nodes: ['node1'],
      },
    ]);
  });

  it('orders warnings most severe first and is deterministic whatever the facts order', () => {
    const facts = [
      node('node1', { config: fixture('node1.conf').replace('priority 90 ', 'priority 100 '), show: FAILED, holds: ['198.51.100.100'], checks: [{ name: 'chk_primary', exitCode: 126 }, { name: 'chk_standby', exitCode: 1 }] }),
      node('node2', { config: fixture('node2.conf').replace('virtual_router_id 52', 'virtual_router_id 53'), holds: ['198.51.100.100'], checks: PRIMARY_DB }),
    ];
    const status = analyse(facts);
    expect(status.warnings.map((w) => w.code)).toEqual(['split_brain', 'vip_missing', 'keepalived_down', 'config_mismatch', 'check_failed', 'priority_tie']);
    expect(analyseCluster(cluster, [...facts].reverse(), new Date(0))).toEqual(status);
  });

  it('compares IPv6 VIPs in canonical form', () => {
    const v6: ClusterConfig = { ...cluster, vips: [{ name: 'primary', instance: 'VI_PRIMARY', address: '2001:DB8::100' }] };
    const conf = (name: 'node1' | 'node2') => fixture(`${name}.conf`).replace('198.51.100.100/24', '2001:db8:0::100/64');
    const status = analyse([
      { ...node('node1', { config: conf('node1'), checks: PRIMARY_DB }), ipAddr: '2: eth0    inet6 2001:db8::100/64 scope global nodad \\       valid_lft forever preferred_lft forever\n' },
      node('node2', { config: conf('node2'), checks: STANDBY_DB }),
    ], v6);
    expect(status.vips[0]!.holders).toEqual(['node1']);
    expect(status.warnings).toEqual([]);
  });
});
