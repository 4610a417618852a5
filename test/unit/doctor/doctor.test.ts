import { describe, expect, it } from 'vitest';
import { validateConfig, type ResolvedNode } from '../../../src/config/config.ts';
import type { NodeDoctorProbe } from '../../../src/doctor/check-nodes.ts';
import type { SlackProbe } from '../../../src/doctor/check-slack.ts';
import { doctorGroups } from '../../../src/doctor/doctor-groups.ts';
import { doctorExitCode, formatDoctorReport, runChecks, type CheckResult } from '../../../src/doctor/doctor.ts';
import type { NodeFacts } from '../../../src/model.ts';
import { ipAddrOutput, keepalivedFixture, ORCL_PAIR } from '../../support/orcl-pair.ts';

const config = validateConfig({
  access: { channels: ['C0VIPOPS'] },
  ssh: { sudo: true, user: 'vipbot' },
  memory: { dailySummary: { channel: 'C0VIPOPS' } },
  clusters: [ORCL_PAIR],
});

const healthyInfo: Record<string, string> = {
  persistence: '# Persistence\r\naof_enabled:1\r\n',
  memory: '# Memory\r\nmaxmemory_policy:noeviction\r\n',
  server: '# Server\r\nredis_version:7.0.15\r\n',
};

function facts(node: string, over: Partial<NodeFacts> = {}): NodeFacts {
  const host = node === 'node1' ? '198.51.100.1' : '198.51.100.2';
  return {
    node, host, reachable: true,
    configText: keepalivedFixture(`${node}.conf`),
    systemctlShow: keepalivedFixture('systemctl-show-active.txt'),
    ipAddr: ipAddrOutput(host, node === 'node1' ? ['198.51.100.100'] : ['198.51.100.101']),
    trackScripts: [{ name: 'chk_primary', exitCode: node === 'node1' ? 0 : 1 }, { name: 'chk_standby', exitCode: node === 'node1' ? 1 : 0 }],
    ...over,
  };
}

interface Scenario {
  info?: Record<string, string>;
  redisDown?: boolean;
  slack?: SlackProbe | undefined;
  facts?: (node: string) => NodeFacts;
  version?: string | undefined;
  sudoRefusals?: string[];
}

const goodSlack: SlackProbe = {
  auth: { test: () => Promise.resolve({ ok: true, user: 'vipbot', team: 'DBA' }) },
  conversations: { info: () => Promise.resolve({ ok: true, channel: { is_member: true, name: 'vip-ops' } }) },
};

async function doctor(s: Scenario = {}): Promise<CheckResult[]> {
  const info = s.info ?? healthyInfo;
  const probe: NodeDoctorProbe = {
    facts: (n: ResolvedNode) => Promise.resolve((s.facts ?? facts)(n.node.name)),
    keepalivedVersion: () => Promise.resolve('version' in s ? s.version : 'Keepalived v2.2.7 (01/16,2022)'),
    sudoRefusals: () => Promise.resolve(s.sudoRefusals ?? []),
  };
  const redis = { info: (section: string) => (s.redisDown ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6390')) : Promise.resolve(info[section] ?? '')) };
  const report = await runChecks(doctorGroups({ config, configPath: 'vipbot.yaml', redis, redisWhere: '127.0.0.1:6390', slack: 'slack' in s ? s.slack : goodSlack, probe }));
  return report.checks;
}

const failures = (checks: CheckResult[]) => checks.filter((c) => c.status !== 'pass').map((c) => ({ name: c.name, status: c.status, fix: c.fix }));

describe('vipbot doctor', () => {
  it('passes a healthy install, every check named, exit 0', async () => {
    const checks = await doctor();
    expect(failures(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'config', 'redis reachable', 'redis appendonly', 'redis maxmemory-policy', 'slack token', 'slack channel C0VIPOPS',
      'node1 ssh', 'node1 sudo', 'node1 keepalived version', 'node1 keepalived config',
      'node1 track script /etc/keepalived/primary_check.sh', 'node1 track script /etc/keepalived/standby_check.sh',
      'node2 ssh', 'node2 sudo', 'node2 keepalived version', 'node2 keepalived config',
      'node2 track script /etc/keepalived/primary_check.sh', 'node2 track script /etc/keepalived/standby_check.sh',
      'orcl configs consistent',
    ]);
    expect(doctorExitCode({ checks })).toBe(0);
  });

  it.each([
    ['AOF off', { info: { ...healthyInfo, persistence: 'aof_enabled:0\r\n' } }, 'redis appendonly', /appendonly yes/],
    ['allkeys-lru', { info: { ...healthyInfo, memory: 'maxmemory_policy:allkeys-lru\r\n' } }, 'redis maxmemory-policy', /noeviction/],
    ['Redis down', { redisDown: true }, 'redis reachable', /REDIS_URL/],
    ['a bad Slack token', { slack: { ...goodSlack, auth: { test: () => Promise.reject(Object.assign(new Error('An API error occurred: invalid_auth'), { data: { error: 'invalid_auth' } })) } } }, 'slack token', /SLACK_BOT_TOKEN/],
    ['no Slack token', { slack: undefined }, 'slack token', /SLACK_BOT_TOKEN/],
    ['the bot outside the channel', { slack: { ...goodSlack, conversations: { info: () => Promise.resolve({ ok: true, channel: { is_member: false, name: 'vip-ops' } }) } } }, 'slack channel C0VIPOPS', /\/invite @vipbot/],
    ['a changed host key', { facts: (n: string) => (n === 'node2' ? { node: n, host: '198.51.100.2', reachable: false, errorCode: 'ssh_host_key_changed', error: 'SSH host key for node2 (198.51.100.2) does not match known_hosts line 3 — if the host was rebuilt, update the file', trackScripts: [] } : facts(n)) }, 'node2 host key', /update the file/],
    ['a missing track script', { facts: (n: string) => (n === 'node1' ? facts(n, { trackScripts: [{ name: 'chk_primary', exitCode: 127, error: '/etc/keepalived/primary_check.sh: not found' }, { name: 'chk_standby', exitCode: 1 }] }) : facts(n)) }, 'node1 track script /etc/keepalived/primary_check.sh', /install the script/],
    ['a non-executable track script', { facts: (n: string) => (n === 'node1' ? facts(n, { trackScripts: [{ name: 'chk_primary', exitCode: 126, error: '/etc/keepalived/primary_check.sh: not executable' }, { name: 'chk_standby', exitCode: 1 }] }) : facts(n)) }, 'node1 track script /etc/keepalived/primary_check.sh', /chmod 755/],
    ['sudo rights missing', { sudoRefusals: ['systemctl reload keepalived'] }, 'node1 sudo', /vipbot sudoers --user vipbot node1/],
    ['sudo refused outright', { facts: (n: string) => ({ node: n, host: '198.51.100.1', reachable: false, errorCode: 'ssh_sudo_denied', error: 'sudo refused cat -- /etc/keepalived/keepalived.conf on node1 — install vipbot sudoers', trackScripts: [] }) }, 'node1 sudo', /sudoers/],
    ['no keepalived', { version: undefined }, 'node1 keepalived version', /install keepalived/],
    ['configs that disagree', { facts: (n: string) => (n === 'node2' ? facts(n, { configText: keepalivedFixture('node2.conf').replace('virtual_router_id 51', 'virtual_router_id 61') }) : facts(n)) }, 'orcl configs consistent', /./],
  ] as const)('fails on %s, with the fix, exit 1', async (_what, scenario, check, fix) => {
    const checks = await doctor(scenario as Scenario);
    const failed = checks.find((c) => c.name === check && c.status === 'fail');
    expect(failed, `${check} in ${JSON.stringify(failures(checks))}`).toBeDefined();
    expect(failed!.fix).toMatch(fix);
    expect(doctorExitCode({ checks })).toBe(1);
  });

  it('prints one line per check and the fix under each FAIL', async () => {
    const checks = await doctor({ info: { ...healthyInfo, persistence: 'aof_enabled:0\r\n' } });
    const text = formatDoctorReport({ checks });
    expect(text).toMatch(/^PASS config — vipbot\.yaml: 1 cluster\(s\), 2 node\(s\)$/m);
    expect(text).toMatch(/^FAIL redis appendonly — appendonly no: .*\n {5}fix: set `appendonly yes`/m);
    expect(text.trim().split('\n').at(-1)).toBe('19 checks: 18 pass, 0 warn, 1 fail');
  });
});
