import { describe, expect, it } from 'vitest';
import { ORCL_PAIR, keepalivedFixture, ipAddrOutput } from '../../support/orcl-pair.ts';
import { buildPlan, type PlanInput } from '../../../src/approvals/plan.ts';
import { Plan } from '../../../src/approvals/types.ts';
import { KeepalivedSettings, type ClusterConfig } from '../../../src/config/config.ts';
import { VipbotError } from '../../../src/errors.ts';
import type { NodeFacts } from '../../../src/model.ts';

const fixture = keepalivedFixture;

const NODE1_CONF = fixture('node1.conf');
const NODE2_CONF = fixture('node2.conf');
const ACTIVE = fixture('systemctl-show-active.txt');
const INACTIVE = fixture('systemctl-show-inactive.txt');
const CONF = '/etc/keepalived/keepalived.conf';
const NOW = new Date('2025-01-08T07:12:41Z');
const BACKUP = `${CONF}.vipbot-20250108T071241Z`;
const STAGED = `${CONF}.vipbot-new`;

const cluster: ClusterConfig = ORCL_PAIR;

const threeNodes: ClusterConfig = { ...cluster, nodes: [...cluster.nodes, { name: 'node3', host: '198.51.100.3' }] };

const settings = KeepalivedSettings.parse({});

const PRIMARY_DB = { chk_primary: 0, chk_standby: 1 };
const STANDBY_DB = { chk_primary: 1, chk_standby: 0 };
const DB_DOWN = { chk_primary: 1, chk_standby: 1 };
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const HOSTS = { node1: '198.51.100.1', node2: '198.51.100.2', node3: '198.51.100.3' } as const;

const ipAddr = ipAddrOutput;

interface Setup {
  holds?: string[];
  checks?: Record<string, number | null>;
  stopped?: boolean;
  config?: string;
  unreachable?: boolean;
}

function facts(name: keyof typeof HOSTS, setup: Setup): NodeFacts {
  const host = HOSTS[name];
  if (setup.unreachable) return { node: name, host, reachable: false, error: `SSH to ${name} (${host}) timed out after 5s`, trackScripts: [] };
  return {
    node: name,
    host,
    reachable: true,
    systemctlShow: setup.stopped ? INACTIVE : ACTIVE,
    configText: setup.config ?? (name === 'node2' ? NODE2_CONF : NODE1_CONF),
    ipAddr: ipAddr(host, setup.holds ?? []),
    trackScripts: Object.entries(setup.checks ?? {}).map(([n, exitCode]) => ({ name: n, exitCode })),
  };
}

/** Sets VI_PRIMARY's priority line of a fixture (the first `priority` line in both files). */
const withPrimaryPriority = (conf: string, priority: number) => conf.replace(/priority \d+/, `priority ${priority}`);

function plan(input: Partial<PlanInput> & Pick<PlanInput, 'action' | 'node' | 'facts'>): Plan {
  const built = buildPlan({ cluster, settings, now: NOW, ...input });
  // Whatever the planner returns is a valid stored Plan.
  expect(Plan.parse(built)).toEqual(built);
  return built;
}

/**
 * The notes' scenario after the failover: node1's database is down, so its primary check fails
 * (FAULT) although it still has `state MASTER` and priority 100; node2's database is PRIMARY and
 * node2 holds the primary VIP at priority 90. No database is STANDBY, so the standby VIP is down.
 */
const afterFailover = (node1: Setup = {}, node2: Setup = {}): NodeFacts[] => [
  facts('node1', { checks: DB_DOWN, ...node1 }),
  facts('node2', { holds: [PRIMARY_VIP], checks: PRIMARY_DB, ...node2 }),
];

const COMMON = { cluster: 'orcl', service: 'keepalived', convergeTimeoutMs: 20_000, apply: 'reload', configPath: CONF } as const;

describe("buildPlan: the notes' scenario", () => {
  it('promote node2 (fix a): priority 90 → 150 on VI_PRIMARY, one-line diff, the VIP stays on node2', () => {
    const newConfig = NODE2_CONF.replace('      priority 90\n', '      priority 150\n');
    expect(plan({ action: 'promote', node: 'node2', facts: afterFailover() })).toEqual({
      ...COMMON,
      action: 'promote',
      node: 'node2',
      vip: 'primary',
      instance: 'VI_PRIMARY',
      priority: { before: 90, after: 150 },
      baseConfig: NODE2_CONF,
      newConfig,
      diff: [
        `--- ${CONF}`,
        `+++ ${CONF}`,
        '@@ -26,7 +26,7 @@',
        '       state BACKUP',
        '       interface eth0',
        '       virtual_router_id 51',
        '-      priority 90',
        '+      priority 150',
        '       advert_int 1',
        '       authentication {',
        '             auth_type PASS',
        '',
      ].join('\n'),
      commands: [
        { node: 'node2', id: 'backup-config', display: `cp -p -- ${CONF} ${BACKUP}` },
        { node: 'node2', id: 'stage-config', display: `dd of=${STAGED} status=none` },
        { node: 'node2', id: 'copy-owner', display: `chown --reference=${CONF} -- ${STAGED}` },
        { node: 'node2', id: 'copy-mode', display: `chmod --reference=${CONF} -- ${STAGED}` },
        { node: 'node2', id: 'test-config', display: `keepalived -t -f ${STAGED}` },
        { node: 'node2', id: 'test-config', display: `keepalived -t -f ${CONF}` },
        { node: 'node2', id: 'install-config', display: `mv -f -- ${STAGED} ${CONF}` },
        { node: 'node2', id: 'service-reload', display: 'systemctl reload keepalived' },
      ],
      before: { primary: ['node2'], standby: [] },
      expected: { primary: ['node2'], standby: [] },
      checks: [
        { ok: true, severity: 'blocker', message: 'node2 (198.51.100.2) is reachable' },
        { ok: true, severity: 'blocker', message: "node2's keepalived.conf defines VI_PRIMARY with priority 90" },
        { ok: true, severity: 'warning', message: "node1's priority for VI_PRIMARY is 100" },
        { ok: true, severity: 'blocker', message: 'keepalived is running on node2' },
        { ok: true, severity: 'blocker', message: 'chk_primary passes on node2' },
        { ok: true, severity: 'info', message: "new priority of node2 for VI_PRIMARY: 150 = node1's 100 + promoteStep 50" },
        { ok: true, severity: 'info', message: 'primary VIP (198.51.100.100) stays on node2; node1 will not take it from node2 even when its chk_primary passes (150 > 100)' },
      ],
    });
  });

  it('demote node1 (fix b): stop keepalived there; node1 does not hold the VIP, so nothing moves', () => {
    expect(plan({ action: 'demote', node: 'node1', facts: afterFailover() })).toEqual({
      ...COMMON,
      action: 'demote',
      node: 'node1',
      serviceActiveBefore: true,
      commands: [{ node: 'node1', id: 'service-stop', display: 'systemctl stop keepalived' }],
      before: { primary: ['node2'], standby: [] },
      expected: { primary: ['node2'], standby: [] },
      checks: [
        { ok: true, severity: 'blocker', message: 'node1 (198.51.100.1) is reachable' },
        { ok: true, severity: 'info', message: 'keepalived is running on node1; the plan stops it' },
        { ok: true, severity: 'info', message: 'primary VIP (198.51.100.100) stays on node2; node1 cannot take it back while keepalived is stopped there (it has the higher priority, 100 > 90)' },
        { ok: true, severity: 'info', message: 'standby VIP (198.51.100.101) stays down (on no node)' },
      ],
    });
  });

  it('after fix (a), promote node2 again is a no-op', () => {
    const result = plan({ action: 'promote', node: 'node2', facts: afterFailover({}, { config: withPrimaryPriority(NODE2_CONF, 150) }) });
    expect(result).toMatchObject({ noop: true, refusal: 'node2 already has the highest priority (150 > 100) for VI_PRIMARY; nothing to do', commands: [] });
    expect(result).not.toHaveProperty('newConfig');
    expect(result.expected).toEqual({ primary: ['node2'], standby: [] });
  });

  it('start node1 while its database is down: nothing moves now, but the hazard is named with its fix', () => {
    const result = plan({ action: 'start', node: 'node1', facts: afterFailover({ stopped: true }) });
    expect(result.refusal).toBeUndefined();
    expect(result.expected).toEqual({ primary: ['node2'], standby: [] });
    expect(result.commands).toEqual([{ node: 'node1', id: 'service-start', display: 'systemctl start keepalived' }]);
    expect(result.checks.filter((c) => !c.ok)).toEqual([
      {
        ok: false,
        severity: 'warning',
        message: 'node1 has the higher priority for VI_PRIMARY (100 > 90): once started it will take the primary VIP (198.51.100.100) from node2 as soon as chk_primary passes there — /vip promote node2 primary first to prevent that',
      },
    ]);
  });
});

describe('buildPlan: promote', () => {
  it.each<[string, Partial<PlanInput> & Pick<PlanInput, 'facts'>, string, string]>([
    [
      "the target's track script fails: promoting would not move the VIP",
      { facts: [facts('node1', { holds: [PRIMARY_VIP], checks: PRIMARY_DB }), facts('node2', { holds: [STANDBY_VIP], checks: STANDBY_DB })] },
      'node2',
      'promoting node2 would not move the VIP: chk_primary exits 1 there — /vip promote node1 primary instead (its check passes)',
    ],
    [
      "the target's track script could not be run (unknown)",
      { facts: afterFailover({}, { checks: { chk_primary: 127, chk_standby: 1 } }) },
      'node2',
      'promoting node2 may not move the VIP: the result of chk_primary (exit 127) on node2 is unknown — no node passes it now; check the databases first',
    ],
    [
      'the target is unreachable',
      { facts: afterFailover({}, { unreachable: true }) },
      'node2',
      'node2 (198.51.100.2) is unreachable: SSH to node2 (198.51.100.2) timed out after 5s — nothing can be planned for it; check SSH to 198.51.100.2 and request again',
    ],
    [
      "keepalived is not running on the target",
      { facts: afterFailover({}, { stopped: true }) },
      'node2',
      'keepalived is not running on node2: the new priority would not take effect — /vip start node2 first',
    ],
    [
      'the peer already sits at 254',
      { facts: afterFailover({ config: withPrimaryPriority(NODE1_CONF, 254) }) },
      'node2',
      'node1 already has priority 254 for VI_PRIMARY, the highest VRRP allows, so node2 cannot be raised above it — lower it on node1, or /vip demote node1',
    ],
    [
      "the target's config has no such instance",
      { facts: afterFailover({}, { config: NODE2_CONF.replace('vrrp_instance VI_PRIMARY', 'vrrp_instance VI_OTHER') }) },
      'node2',
      'keepalived.conf on node2 has no vrrp_instance VI_PRIMARY (it defines VI_OTHER, VI_STANDBY) — fix the instance of VIP primary in vipbot.yaml or the file',
    ],
  ])('refused: %s', (_what, input, node, refusal) => {
    const result = plan({ action: 'promote', node, ...input });
    expect(result.refusal).toBe(refusal);
    expect(result.noop).toBeUndefined();
    expect(result.checks).toContainEqual({ ok: false, severity: 'blocker', message: refusal });
  });

  it('the failover case: the only peer is unreachable, so node2 goes to 254 and keeps the VIP whatever node1 has', () => {
    const result = plan({ action: 'promote', node: 'node2', facts: afterFailover({ unreachable: true }) });
    expect(result.refusal).toBeUndefined();
    expect(result.priority).toEqual({ before: 90, after: 254 });
    expect(result.checks).toContainEqual({ ok: false, severity: 'warning', message: "no peer's priority for VI_PRIMARY is known (node1 unreachable): planning 254, the highest a backup may use, so node2 keeps the VIP whatever the peer has" });
    expect(result.diff).toMatch(/^\+\s+priority 254$/m);
  });

  it('an unreachable peer is a warning, not a refusal, when another peer is known', () => {
    const result = plan({ action: 'promote', node: 'node2', cluster: threeNodes, facts: [...afterFailover(), facts('node3', { unreachable: true })] });
    expect(result.refusal).toBeUndefined();
    expect(result.priority).toEqual({ before: 90, after: 150 });
    expect(result.checks.filter((c) => c.severity === 'warning')).toEqual([
      { ok: true, severity: 'warning', message: "node1's priority for VI_PRIMARY is 100" },
      { ok: false, severity: 'warning', message: 'node3 unreachable: its priority is unknown; planning from the others' },
    ]);
    expect(result.expected).toEqual({ primary: ['node2'], standby: [] });
  });

  it('the highest of several peers sets the new priority', () => {
    const result = plan({
      action: 'promote',
      node: 'node2',
      cluster: threeNodes,
      facts: [...afterFailover(), facts('node3', { checks: DB_DOWN, config: withPrimaryPriority(NODE1_CONF, 120).replace('state MASTER', 'state BACKUP') })],
    });
    expect(result.priority).toEqual({ before: 90, after: 170 });
    expect(result.checks).toContainEqual({ ok: true, severity: 'info', message: "new priority of node2 for VI_PRIMARY: 170 = node3's 120 + promoteStep 50" });
  });

  it.each<[number, number, string]>([
    [200, 250, "new priority of node2 for VI_PRIMARY: 250 = node1's 200 + promoteStep 50"],
    [230, 254, "new priority of node2 for VI_PRIMARY: 254 = node1's 230 + promoteStep 50, capped at 254 (the highest a VRRP backup may use)"],
    [253, 254, "new priority of node2 for VI_PRIMARY: 254 = node1's 253 + promoteStep 50, capped at 254 (the highest a VRRP backup may use)"],
  ])('priority cap: peer at %i → %i', (peer, after, message) => {
    const result = plan({ action: 'promote', node: 'node2', facts: afterFailover({ config: withPrimaryPriority(NODE1_CONF, peer) }) });
    expect(result.refusal).toBeUndefined();
    expect(result.priority).toEqual({ before: 90, after });
    expect(result.checks).toContainEqual({ ok: true, severity: 'info', message });
  });

  it("a missing priority line is keepalived's default 100: the line is inserted after state", () => {
    const config = NODE2_CONF.replace('      priority 90\n', '');
    const result = plan({ action: 'promote', node: 'node2', facts: afterFailover({}, { config }) });
    expect(result.priority).toEqual({ before: 100, after: 150 });
    expect(result.checks[1]).toEqual({ ok: true, severity: 'blocker', message: "node2's keepalived.conf defines VI_PRIMARY with priority 100 (keepalived's default: no priority line)" });
    expect(result.diff).toBe(`--- ${CONF}\n+++ ${CONF}\n@@ -24,6 +24,7 @@\n \n vrrp_instance VI_PRIMARY {\n       state BACKUP\n+      priority 150\n       interface eth0\n       virtual_router_id 51\n       advert_int 1\n`);
  });

  it('an equal priority is not "higher": promote goes ahead', () => {
    const result = plan({ action: 'promote', node: 'node2', facts: afterFailover({}, { config: withPrimaryPriority(NODE2_CONF, 100) }) });
    expect(result.noop).toBeUndefined();
    expect(result.priority).toEqual({ before: 100, after: 150 });
  });

  it('promoteStep, apply: restart, another config path and the other VIP are honoured', () => {
    const custom = KeepalivedSettings.parse({ promoteStep: 10, apply: 'restart', configPath: '/etc/keepalived/orcl.conf', convergeTimeout: '5s', service: 'keepalived@orcl' });
    const healthy = [facts('node1', { holds: [PRIMARY_VIP], checks: PRIMARY_DB }), facts('node2', { holds: [STANDBY_VIP], checks: STANDBY_DB })];
    // node1 has 90 for VI_STANDBY, node2 100: to be a real change, lower node2's standby priority first.
    healthy[1]!.configText = NODE2_CONF.replace('priority 100  ', 'priority 80   ');
    const result = plan({ action: 'promote', node: 'node2', vip: 'standby', settings: custom, facts: healthy });
    expect(result).toMatchObject({ vip: 'standby', instance: 'VI_STANDBY', priority: { before: 80, after: 100 }, apply: 'restart', service: 'keepalived@orcl', convergeTimeoutMs: 5_000, configPath: '/etc/keepalived/orcl.conf' });
    expect(result.commands.map((c) => c.display)).toEqual([
      'cp -p -- /etc/keepalived/orcl.conf /etc/keepalived/orcl.conf.vipbot-20250108T071241Z',
      'dd of=/etc/keepalived/orcl.conf.vipbot-new status=none',
      'chown --reference=/etc/keepalived/orcl.conf -- /etc/keepalived/orcl.conf.vipbot-new',
      'chmod --reference=/etc/keepalived/orcl.conf -- /etc/keepalived/orcl.conf.vipbot-new',
      'keepalived -t -f /etc/keepalived/orcl.conf.vipbot-new',
      'keepalived -t -f /etc/keepalived/orcl.conf',
      'mv -f -- /etc/keepalived/orcl.conf.vipbot-new /etc/keepalived/orcl.conf',
      'systemctl restart keepalived@orcl',
    ]);
    // The trailing comment on the edited line survives: exactly one line changes.
    expect(result.diff!.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      '-      priority 80          # higher than node1: the standby VIP prefers node2',
      '+      priority 100          # higher than node1: the standby VIP prefers node2',
    ]);
    expect(result.expected).toEqual({ primary: ['node1'], standby: ['node2'] });
  });

  it('promote moving the VIP says so', () => {
    // Both databases report PRIMARY (the notes' hazard already happened): node1 holds it at 100.
    const result = plan({ action: 'promote', node: 'node2', facts: [facts('node1', { holds: [PRIMARY_VIP], checks: PRIMARY_DB }), facts('node2', { checks: PRIMARY_DB })] });
    expect(result.expected).toEqual({ primary: ['node2'], standby: [] });
    expect(result.checks.at(-1)).toEqual({ ok: true, severity: 'info', message: 'primary VIP (198.51.100.100) moves from node1 to node2; node1 will not take it from node2 even when its chk_primary passes (150 > 100)' });
  });

  it("warns when a peer's weighted track scripts can still outrank the new priority", () => {
    const weighted = NODE1_CONF.replace('      interval 5\n      user oracle\n}', '      interval 5\n      user oracle\n      weight 80\n}');
    const result = plan({ action: 'promote', node: 'node2', facts: afterFailover({ config: weighted }) });
    expect(result.refusal).toBeUndefined();
    expect(result.checks).toContainEqual({ ok: false, severity: 'warning', message: "node1's weighted track scripts can lift it to 180 for VI_PRIMARY, above node2's 150: it may still take the VIP when they pass" });
  });
});

describe('buildPlan: demote', () => {
  it('refused when a VIP the node holds would go nowhere', () => {
    const result = plan({ action: 'demote', node: 'node2', facts: afterFailover() });
    const refusal = 'the primary VIP (198.51.100.100) would go nowhere: node1 is not eligible (chk_primary exits 1) — fix that first, or /vip demote node2 --force to stop it anyway';
    expect(result).toMatchObject({ refusal, expected: { primary: [], standby: [] } });
    expect(result.checks).toContainEqual({ ok: false, severity: 'blocker', message: refusal });
  });

  it('allowed with --force, as a warning', () => {
    const result = plan({ action: 'demote', node: 'node2', force: true, facts: afterFailover() });
    expect(result.refusal).toBeUndefined();
    expect(result.expected).toEqual({ primary: [], standby: [] });
    expect(result.commands).toEqual([{ node: 'node2', id: 'service-stop', display: 'systemctl stop keepalived' }]);
    expect(result.checks).toContainEqual({ ok: false, severity: 'warning', message: 'the primary VIP (198.51.100.100) would go nowhere: node1 is not eligible (chk_primary exits 1) — going ahead because of --force' });
  });

  it('the VIP moves to an eligible peer', () => {
    const result = plan({ action: 'demote', node: 'node1', facts: [facts('node1', { holds: [PRIMARY_VIP], checks: PRIMARY_DB }), facts('node2', { holds: [STANDBY_VIP], checks: { chk_primary: 0, chk_standby: 0 } })] });
    expect(result.refusal).toBeUndefined();
    expect(result.expected).toEqual({ primary: ['node2'], standby: ['node2'] });
    expect(result.checks).toContainEqual({ ok: true, severity: 'info', message: 'primary VIP (198.51.100.100) moves from node1 to node2: node1 cannot keep it (keepalived would be stopped)' });
  });

  it('an unreachable peer cannot take the VIP: refused, and the peer is named', () => {
    const result = plan({ action: 'demote', node: 'node2', facts: afterFailover({ unreachable: true }) });
    expect(result.refusal).toBe('the primary VIP (198.51.100.100) would go nowhere: node1 is not eligible (unreachable) — fix that first, or /vip demote node2 --force to stop it anyway');
    expect(result.checks).toContainEqual({ ok: false, severity: 'warning', message: 'node1 unreachable: its keepalived state and VIPs are unknown; it is left out of where the VIPs should end up' });
  });

  it.each<[string, NodeFacts[], Partial<Plan>]>([
    ['keepalived already stopped: no-op', afterFailover({ stopped: true }), { noop: true, refusal: 'keepalived is already stopped on node1; nothing to do', commands: [], serviceActiveBefore: false }],
    [
      'target unreachable: refused',
      afterFailover({ unreachable: true }),
      { refusal: 'node1 (198.51.100.1) is unreachable: SSH to node1 (198.51.100.1) timed out after 5s — nothing can be planned for it; check SSH to 198.51.100.1 and request again', commands: [] },
    ],
  ])('%s', (_what, nodeFacts, expected) => {
    expect(plan({ action: 'demote', node: 'node1', facts: nodeFacts })).toMatchObject(expected);
  });
});

describe('buildPlan: start', () => {
  it('warns when starting moves a VIP to the node, and why', () => {
    const result = plan({ action: 'start', node: 'node1', facts: [facts('node1', { stopped: true, checks: PRIMARY_DB }), facts('node2', { holds: [PRIMARY_VIP], checks: PRIMARY_DB })] });
    expect(result).toEqual({
      ...COMMON,
      action: 'start',
      node: 'node1',
      serviceActiveBefore: false,
      commands: [{ node: 'node1', id: 'service-start', display: 'systemctl start keepalived' }],
      before: { primary: ['node2'], standby: [] },
      expected: { primary: ['node1'], standby: [] },
      checks: [
        { ok: true, severity: 'blocker', message: 'node1 (198.51.100.1) is reachable' },
        { ok: true, severity: 'info', message: 'keepalived is stopped on node1; the plan starts it' },
        { ok: false, severity: 'warning', message: 'starting keepalived on node1 moves a VIP: the primary VIP (198.51.100.100) moves from node2 to node1 (node1 has the higher priority for VI_PRIMARY, 100 > 90)' },
        { ok: true, severity: 'info', message: 'standby VIP (198.51.100.101) stays down (on no node)' },
      ],
    });
  });

  it('brings a VIP up that no node holds', () => {
    const result = plan({ action: 'start', node: 'node2', facts: [facts('node1', { holds: [PRIMARY_VIP], checks: PRIMARY_DB }), facts('node2', { stopped: true, checks: STANDBY_DB })] });
    expect(result.expected).toEqual({ primary: ['node1'], standby: ['node2'] });
    expect(result.checks).toContainEqual({ ok: false, severity: 'warning', message: 'starting keepalived on node2 moves a VIP: the standby VIP (198.51.100.101) comes up on node2 (no node holds it now)' });
  });

  it.each<[string, NodeFacts[], Partial<Plan>]>([
    ['keepalived already running: no-op', afterFailover(), { noop: true, refusal: 'keepalived is already running on node1; nothing to do', commands: [], serviceActiveBefore: true }],
    ['target unreachable: refused', afterFailover({ unreachable: true }), { refusal: expect.stringMatching(/^node1 \(198\.51\.100\.1\) is unreachable/) as unknown as string, commands: [] }],
  ])('%s', (_what, nodeFacts, expected) => {
    expect(plan({ action: 'start', node: 'node1', facts: nodeFacts })).toMatchObject(expected);
  });
});

describe('buildPlan: names the command layer should have refused', () => {
  it.each<[string, Partial<PlanInput>, string]>([
    ['unknown node', { node: 'node9' }, 'unknown_node'],
    ['node of another cluster', { node: 'db1' }, 'unknown_node'],
    ['unknown VIP', { node: 'node2', vip: 'nope' }, 'unknown_vip'],
  ])('%s → %s', (_what, input, code) => {
    let thrown: unknown;
    try {
      buildPlan({ action: 'promote', cluster, settings, facts: afterFailover(), node: 'node2', ...input });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(VipbotError);
    expect((thrown as VipbotError).code).toBe(code);
  });
});
