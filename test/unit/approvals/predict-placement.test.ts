import { describe, expect, it } from 'vitest';
import { ORCL_PAIR, keepalivedFixture, ipAddrOutput } from '../../support/orcl-pair.ts';
import { currentPlacement, explainPlacement, predictPlacement, type PlacementChange } from '../../../src/approvals/predict-placement.ts';
import type { ClusterConfig } from '../../../src/config/config.ts';
import { analyseCluster } from '../../../src/keepalived/analyse-cluster.ts';
import type { ClusterStatus, InstanceStatus, NodeFacts } from '../../../src/model.ts';

const fixture = keepalivedFixture;

const cluster: ClusterConfig = ORCL_PAIR;

const ACTIVE = fixture('systemctl-show-active.txt');
const INACTIVE = fixture('systemctl-show-inactive.txt');
const PRIMARY_DB = { chk_primary: 0, chk_standby: 1 };
const STANDBY_DB = { chk_primary: 1, chk_standby: 0 };
const DB_DOWN = { chk_primary: 1, chk_standby: 1 };

const ipAddr = ipAddrOutput;

interface Setup {
  holds?: string[];
  checks?: Record<string, number>;
  show?: string;
  config?: string;
  unreachable?: boolean;
}

function facts(name: 'node1' | 'node2', setup: Setup): NodeFacts {
  const host = name === 'node1' ? '198.51.100.1' : '198.51.100.2';
  if (setup.unreachable) return { node: name, host, reachable: false, error: `SSH to ${name} timed out`, trackScripts: [] };
  return {
    node: name,
    host,
    reachable: true,
    systemctlShow: setup.show ?? ACTIVE,
    configText: setup.config ?? fixture(`${name}.conf`),
    ipAddr: ipAddr(host, setup.holds ?? []),
    trackScripts: Object.entries(setup.checks ?? {}).map(([n, exitCode]) => ({ name: n, exitCode })),
  };
}

const analyse = (node1: Setup, node2: Setup): ClusterStatus => analyseCluster(cluster, [facts('node1', node1), facts('node2', node2)]);

/**
 * The notes' scenario after the failover: node1's database is down (FAULT), node2's is PRIMARY and
 * node2 holds the primary VIP at priority 90. No database is STANDBY, so the standby VIP is nowhere.
 */
const afterFailover = () => analyse({ checks: DB_DOWN }, { holds: ['198.51.100.100'], checks: PRIMARY_DB });
/** node1's database comes back as PRIMARY too (the notes' hazard): its check passes again. */
const node1Back = () => analyse({ checks: PRIMARY_DB }, { holds: ['198.51.100.100'], checks: PRIMARY_DB });

describe('currentPlacement', () => {
  it('lists the holders of each VIP by name', () => {
    expect(currentPlacement(afterFailover())).toEqual({ primary: ['node2'], standby: [] });
    expect(currentPlacement(analyse({ unreachable: true }, { holds: ['198.51.100.100'], checks: PRIMARY_DB }))).toEqual({ primary: ['node2'], standby: [] });
  });
});

describe('predictPlacement on analysed fixtures', () => {
  it.each<[string, () => ClusterStatus, PlacementChange | undefined, Record<string, string[]>]>([
    ['healthy pair, no change: everything stays', () => analyse({ holds: ['198.51.100.100'], checks: PRIMARY_DB }, { holds: ['198.51.100.101'], checks: STANDBY_DB }), undefined, { primary: ['node1'], standby: ['node2'] }],
    ['after the failover, as things stand: node1 is FAULT, node2 keeps the primary VIP', afterFailover, undefined, { primary: ['node2'], standby: [] }],
    [
      "the hazard: node1's database comes back PRIMARY and node1 (100 > 90) takes the primary VIP",
      node1Back,
      undefined,
      { primary: ['node1'], standby: [] },
    ],
    [
      'fix (a): with node2 at 150, node1 coming back PRIMARY leaves the VIP on node2',
      node1Back,
      { node: 'node2', instance: 'VI_PRIMARY', priority: 150 },
      { primary: ['node2'], standby: [] },
    ],
    [
      'fix (b): with keepalived stopped on node1, node1 coming back PRIMARY leaves the VIP on node2',
      node1Back,
      { node: 'node1', keepalived: 'inactive' },
      { primary: ['node2'], standby: [] },
    ],
    [
      'stopping keepalived on the holder moves its VIP to an eligible peer',
      () => analyse({ holds: ['198.51.100.100'], checks: PRIMARY_DB }, { holds: ['198.51.100.101'], checks: { chk_primary: 0, chk_standby: 0 } }),
      { node: 'node1', keepalived: 'inactive' },
      { primary: ['node2'], standby: ['node2'] },
    ],
    [
      'stopping keepalived on the only eligible node sends its VIP nowhere',
      afterFailover,
      { node: 'node2', keepalived: 'inactive' },
      { primary: [], standby: [] },
    ],
    [
      'starting keepalived on a stopped node with the higher priority moves the VIP to it',
      () => analyse({ show: INACTIVE, checks: PRIMARY_DB }, { holds: ['198.51.100.100', '198.51.100.101'], checks: { chk_primary: 0, chk_standby: 0 } }),
      { node: 'node1', keepalived: 'active' },
      { primary: ['node1'], standby: ['node2'] },
    ],
    [
      'an unreachable node is never predicted as holder, even with the higher priority',
      () => analyse({ unreachable: true }, { holds: ['198.51.100.101'], checks: { chk_primary: 0, chk_standby: 0 } }),
      undefined,
      { primary: ['node2'], standby: ['node2'] },
    ],
    [
      'a node whose track script cannot be run (unknown) is not eligible',
      () => analyse({ holds: ['198.51.100.100'], checks: { chk_standby: 1 } }, { holds: ['198.51.100.101'], checks: { chk_primary: 1, chk_standby: 0 } }),
      undefined,
      { primary: [], standby: ['node2'] },
    ],
  ])('%s', (_what, status, change, expected) => {
    expect(predictPlacement(status(), change)).toEqual(expected);
  });

  it('explains each decision with the candidates', () => {
    const [primary] = explainPlacement(afterFailover(), { node: 'node2', keepalived: 'inactive' });
    expect(primary).toEqual({
      vip: 'primary',
      instance: 'VI_PRIMARY',
      address: '198.51.100.100',
      before: ['node2'],
      after: [],
      rule: 'nowhere',
      candidates: [
        { node: 'node1', holds: false, eligible: false, reason: 'chk_primary exits 1', priority: 100, effectivePriority: 100 },
        { node: 'node2', holds: true, eligible: false, reason: 'keepalived would be stopped', priority: 90, effectivePriority: 90 },
      ],
    });
  });
});

// Hand-built statuses for the election rules the fixtures cannot reach.
interface Spec {
  name: string;
  host: string;
  priority?: number | null;
  effective?: number;
  pass?: boolean | null;
  holds?: boolean;
  reachable?: boolean;
  keepalived?: 'active' | 'inactive' | 'unknown';
  state?: string;
  nopreempt?: boolean;
}

function handBuilt(...specs: Spec[]): ClusterStatus {
  return {
    name: 'c',
    vips: [{ name: 'v', instance: 'VI_1', address: '198.51.100.200', holders: specs.filter((s) => s.holds).map((s) => s.name) }],
    nodes: specs.map((s) => {
      const instance: InstanceStatus & { nopreempt?: boolean } = {
        name: 'VI_1',
        state: s.state ?? 'BACKUP',
        priority: s.priority === undefined ? 100 : s.priority,
        ...(s.effective !== undefined ? { effectivePriority: s.effective } : {}),
        holdsVip: !!s.holds,
        checksPass: s.pass === undefined ? true : s.pass,
        ...(s.nopreempt !== undefined ? { nopreempt: s.nopreempt } : {}),
      };
      return { name: s.name, host: s.host, reachable: s.reachable ?? true, keepalived: s.keepalived ?? 'active', instances: [instance] };
    }),
    warnings: [],
  };
}

describe('predictPlacement election rules', () => {
  it.each<[string, ClusterStatus, PlacementChange | undefined, string[], string]>([
    ['the holder keeps the VIP on equal priority, even with the lower address', handBuilt({ name: 'a', host: '198.51.100.1', holds: true }, { name: 'b', host: '198.51.100.2' }), undefined, ['a'], 'stays'],
    ['a strictly higher priority preempts', handBuilt({ name: 'a', host: '198.51.100.1', holds: true }, { name: 'b', host: '198.51.100.2', priority: 101 }), undefined, ['b'], 'preempted'],
    ['no holder, equal priority: the higher address wins', handBuilt({ name: 'a', host: '198.51.100.1' }, { name: 'b', host: '198.51.100.2' }), undefined, ['b'], 'elected_by_address'],
    ['addresses compare as numbers, not text (.10 > .9)', handBuilt({ name: 'a', host: '198.51.100.10' }, { name: 'b', host: '198.51.100.9' }), undefined, ['a'], 'elected_by_address'],
    ['IPv6 addresses compare as numbers', handBuilt({ name: 'a', host: '2001:db8::a' }, { name: 'b', host: '2001:db8::9' }), undefined, ['a'], 'elected_by_address'],
    ['no holder: the higher priority wins over the higher address', handBuilt({ name: 'a', host: '198.51.100.1', priority: 120 }, { name: 'b', host: '198.51.100.2' }), undefined, ['a'], 'elected'],
    ['split brain settles on the higher priority', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, priority: 90 }, { name: 'b', host: '198.51.100.2', holds: true }), undefined, ['b'], 'stays'],
    ['effective priority (weighted scripts) decides, not the configured one', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, priority: 100, effective: 80 }, { name: 'b', host: '198.51.100.2', priority: 90 }), undefined, ['b'], 'preempted'],
    ['a priority change keeps the weight shift', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, priority: 100, effective: 80 }, { name: 'b', host: '198.51.100.2', priority: 90 }), { node: 'a', instance: 'VI_1', priority: 111 }, ['a'], 'stays'],
    ['a priority change on another instance changes nothing', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, priority: 90 }, { name: 'b', host: '198.51.100.2' }), { node: 'a', instance: 'VI_2', priority: 200 }, ['b'], 'preempted'],
    ['a BACKUP with nopreempt (when the status carries it) does not preempt', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, priority: 90 }, { name: 'b', host: '198.51.100.2', nopreempt: true }), undefined, ['a'], 'stays'],
    ['keepalived clears nopreempt on state MASTER', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, priority: 90 }, { name: 'b', host: '198.51.100.2', nopreempt: true, state: 'MASTER' }), undefined, ['b'], 'preempted'],
    ['a failing holder loses the VIP to the peer', handBuilt({ name: 'a', host: '198.51.100.1', holds: true, pass: false, priority: 200 }, { name: 'b', host: '198.51.100.2' }), undefined, ['b'], 'elected'],
    ['keepalived state unknown: not eligible', handBuilt({ name: 'a', host: '198.51.100.1', keepalived: 'unknown', priority: 200 }, { name: 'b', host: '198.51.100.2' }), undefined, ['b'], 'elected'],
    ['unknown priority: not eligible', handBuilt({ name: 'a', host: '198.51.100.1', priority: null }, { name: 'b', host: '198.51.100.2', pass: null }), undefined, [], 'nowhere'],
    ['an unreachable node with the highest priority is left out', handBuilt({ name: 'a', host: '198.51.100.1', reachable: false, priority: 250 }, { name: 'b', host: '198.51.100.2' }), undefined, ['b'], 'elected'],
  ])('%s', (_what, status, change, after, rule) => {
    const [prediction] = explainPlacement(status, change);
    expect({ after: prediction!.after, rule: prediction!.rule }).toEqual({ after, rule });
    expect(predictPlacement(status, change)).toEqual({ v: after });
  });
});
