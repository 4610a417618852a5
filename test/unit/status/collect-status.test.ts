import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText, type SshSettings } from '../../../src/config/config.ts';
import { VipbotError } from '../../../src/errors.ts';
import { formatCommand, type NodeCommand } from '../../../src/hosts/node-commands.ts';
import type { NodeRunner } from '../../../src/status/collect-node-facts.ts';
import { createStatusCollector } from '../../../src/status/collect-status.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keepalived/${name}`, import.meta.url), 'utf8');

const CONFIG = parseConfigText(`
clusters:
  - name: orcl
    vips:
      - { name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }
      - { name: standby, instance: VI_STANDBY, address: 198.51.100.101 }
    nodes:
      - { name: node1, host: 198.51.100.1 }
      - { name: node2, host: 198.51.100.2 }
`);

const ip = (own: string, vips: string[]) =>
  [`1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever`,
    `3: eth0    inet ${own}/24 brd 198.51.100.255 scope global eth0\\       valid_lft forever preferred_lft forever`,
    ...vips.map((v) => `3: eth0    inet ${v}/32 scope global eth0\\       valid_lft forever preferred_lft forever`)].join('\n') + '\n';

interface HostScript {
  unreachable?: boolean;
  conf: string;
  show: string;
  ip: string;
  /** Exit code per track script path. */
  scripts: Record<string, number>;
  /** `stat` lines (uid:gid:hexmode) that differ from a root-owned 0755 layout. */
  modes?: Record<string, string>;
}

const DIRS = ['/', '/etc', '/etc/keepalived', '/opt', '/opt/dg'];

/** A runner that answers node commands from a per-host script and records what ran. */
class ScriptedRunner implements NodeRunner {
  readonly ran: string[] = [];
  constructor(private readonly hosts: Record<string, HostScript>) {}
  async run(target: { name: string; ssh: SshSettings }, cmd: NodeCommand) {
    const host = this.hosts[target.name]!;
    if (host.unreachable) throw new VipbotError('ssh_connect_timeout', `SSH to ${target.name} timed out after 2s`);
    this.ran.push(`${target.name}: ${formatCommand(cmd)}`);
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
    switch (cmd.id) {
      case 'read-config': return ok(host.conf);
      case 'service-show': return ok(host.show);
      case 'list-addresses': return ok(host.ip);
      case 'run-track-script': return { code: host.scripts[cmd.argv[0]!] ?? 127, stdout: '', stderr: '' };
      // The lab's accounts and a root-owned /etc/keepalived (enable_script_security is on in the fixtures).
      case 'lookup-users': return { code: 0, stdout: 'oracle:x:54321:54321:Oracle:/home/oracle:/bin/bash\n', stderr: '' };
      case 'resolve-paths': return ok(cmd.argv.slice(3).map((p) => `${p}\n`).join(''));
      case 'stat-paths': {
        const paths = cmd.argv.slice(4);
        const mode = (p: string) => host.modes?.[p] ?? (p in host.scripts ? '0:0:81ed' : DIRS.includes(p) ? '0:0:41ed' : undefined);
        const lines = paths.map((p) => (mode(p) ? `${mode(p)}:${p}` : undefined));
        return { code: lines.includes(undefined) ? 1 : 0, stdout: lines.filter(Boolean).map((l) => `${l}\n`).join(''), stderr: '' };
      }
      default: throw new Error(`unexpected ${cmd.id}`);
    }
  }
}

const healthy = (): Record<string, HostScript> => ({
  node1: { conf: fixture('node1.conf'), show: fixture('systemctl-show-active.txt'), ip: ip('198.51.100.1', ['198.51.100.100']), scripts: { '/etc/keepalived/primary_check.sh': 0, '/etc/keepalived/standby_check.sh': 1 } },
  node2: { conf: fixture('node2.conf'), show: fixture('systemctl-show-active.txt'), ip: ip('198.51.100.2', ['198.51.100.101']), scripts: { '/etc/keepalived/primary_check.sh': 1, '/etc/keepalived/standby_check.sh': 0 } },
});

describe('createStatusCollector', () => {
  it('reads each node with the documented commands and reports a healthy pair', async () => {
    const runner = new ScriptedRunner(healthy());
    const status = await createStatusCollector(CONFIG, runner).collect({ kind: 'all' });
    expect(status.clusters).toHaveLength(1);
    const orcl = status.clusters[0]!;
    expect(orcl.vips.map((v) => v.holders)).toEqual([['node1'], ['node2']]);
    expect(orcl.warnings).toEqual([]);
    expect(orcl.nodes[0]).toMatchObject({ name: 'node1', reachable: true, keepalived: 'active' });
    expect(orcl.nodes[0]!.instances.map((i) => [i.name, i.state, i.priority, i.holdsVip, i.checksPass])).toEqual([
      ['VI_PRIMARY', 'MASTER', 100, true, true],
      ['VI_STANDBY', 'BACKUP', 90, false, false],
    ]);
    // Track scripts run as the vrrp_script's user, after keepalived's own checks (enable_script_security:
    // the user's ids, the real path, the modes along it); nothing outside the list runs.
    expect(runner.ran.filter((r) => r.startsWith('node1')).sort()).toEqual([
      'node1: (as oracle) /etc/keepalived/primary_check.sh',
      'node1: (as oracle) /etc/keepalived/standby_check.sh',
      'node1: cat -- /etc/keepalived/keepalived.conf',
      'node1: getent passwd oracle',
      'node1: ip -o addr show',
      'node1: realpath -m -- /etc/keepalived/primary_check.sh /etc/keepalived/standby_check.sh',
      'node1: stat -c %u:%g:%f:%n -- / /etc /etc/keepalived /etc/keepalived/primary_check.sh /etc/keepalived/standby_check.sh',
      'node1: systemctl show --property=Id,ActiveState,SubState,MainPID,MemoryCurrent,ExecMainStartTimestamp,ActiveEnterTimestamp,NRestarts,ControlGroup keepalived',
    ]);
  });

  it('an unreachable node is a fact with its reason, and the other node is still read', async () => {
    const hosts = healthy();
    hosts.node2!.unreachable = true;
    const status = await createStatusCollector(CONFIG, new ScriptedRunner(hosts)).collect({ kind: 'node', name: 'node1', cluster: 'orcl' });
    const orcl = status.clusters[0]!;
    expect(orcl.nodes[1]).toMatchObject({ name: 'node2', reachable: false, keepalived: 'unknown', error: expect.stringMatching(/timed out/) });
    expect(orcl.nodes[0]).toMatchObject({ reachable: true });
    expect(orcl.warnings.map((w) => w.code)).toContain('node_unreachable');
  });

  it('a track script that is missing is check_failed, not a role answer', async () => {
    const hosts = healthy();
    hosts.node2!.scripts = { '/etc/keepalived/primary_check.sh': 1 };
    const status = await createStatusCollector(CONFIG, new ScriptedRunner(hosts)).collect({ kind: 'all' });
    const failed = status.clusters[0]!.warnings.filter((w) => w.code === 'check_failed');
    expect(failed).toEqual([expect.objectContaining({ nodes: ['node2'] })]);
  });

  // The old code ran every script without its own `user` as the SSH user (root), whatever global_defs said.
  it('a script without its own user runs as global_defs script_user', async () => {
    const hosts = healthy();
    for (const h of Object.values(hosts)) {
      h.conf = h.conf.replace(/^\s*user oracle\n/gm, '').replace('script_user root', 'script_user oracle');
    }
    const runner = new ScriptedRunner(hosts);
    const status = await createStatusCollector(CONFIG, runner).collect({ kind: 'all' });
    expect(status.clusters[0]!.warnings).toEqual([]);
    expect(runner.ran.filter((r) => r.includes('check.sh') && !r.includes(' -- '))).toEqual(expect.arrayContaining([
      'node1: (as oracle) /etc/keepalived/primary_check.sh', 'node2: (as oracle) /etc/keepalived/standby_check.sh',
    ]));
    expect(runner.ran.filter((r) => r.includes('check.sh') && !r.includes(' -- ') && !r.includes('(as oracle)'))).toEqual([]);
  });

  it('a root script keepalived would refuse (enable_script_security, group-writable dir) is not run, and the status says why', async () => {
    const hosts = healthy();
    for (const h of Object.values(hosts)) h.conf = h.conf.replace(/^\s*user oracle\n/gm, '');
    hosts.node2!.modes = { '/etc/keepalived': '0:54321:41fd' };
    const runner = new ScriptedRunner(hosts);
    const status = await createStatusCollector(CONFIG, runner).collect({ kind: 'all' });
    expect(runner.ran.filter((r) => r.startsWith('node2: /etc/keepalived/'))).toEqual([]);
    expect(runner.ran.filter((r) => r.startsWith('node1: /etc/keepalived/')).sort()).toEqual([
      'node1: /etc/keepalived/primary_check.sh', 'node1: /etc/keepalived/standby_check.sh',
    ]);
    const refused = status.clusters[0]!.warnings.filter((w) => w.code === 'check_failed');
    expect(refused).toEqual([
      {
        code: 'check_failed',
        nodes: ['node2'],
        message: 'track script chk_primary (/etc/keepalived/primary_check.sh, as root) is not run on node2: '
          + '/etc/keepalived is writable by its group (gid 54321) and chk_primary would run as root — '
          + 'keepalived (enable_script_security) refuses it too; keepalived does not track it then, '
          + 'so VIP primary (198.51.100.100) does not follow that check. '
          + 'Fix: chmod g-w /etc/keepalived (or give vrrp_script chk_primary a non-root "user").',
      },
      expect.objectContaining({
        code: 'check_failed',
        nodes: ['node2'],
        message: expect.stringMatching(/^track script chk_standby .* is not run on node2: \/etc\/keepalived /),
      }),
    ]);
    // keepalived drops a refused script from the instance: node2's instances no longer depend on it.
    const node2 = status.clusters[0]!.nodes[1]!;
    expect(node2.instances.map((i) => [i.name, i.checksPass, i.checks])).toEqual([['VI_PRIMARY', true, []], ['VI_STANDBY', true, []]]);
  });

  it('a warm collection never starts a root script before it is checked again', async () => {
    const hosts = healthy();
    for (const h of Object.values(hosts)) h.conf = h.conf.replace(/^\s*user oracle\n/gm, '');
    const runner = new ScriptedRunner(hosts);
    const collector = createStatusCollector(CONFIG, runner);
    await collector.collect({ kind: 'all' });
    runner.ran.length = 0;
    hosts.node1!.modes = { '/etc/keepalived/primary_check.sh': '0:0:81ff' };
    await collector.collect({ kind: 'all' });
    const node1 = runner.ran.filter((r) => r.startsWith('node1'));
    const firstRun = node1.findIndex((r) => r.startsWith('node1: /etc/keepalived/'));
    expect(node1.findIndex((r) => r.startsWith('node1: stat '))).toBeLessThan(firstRun);
    expect(node1).not.toContain('node1: /etc/keepalived/primary_check.sh');
  });

  it('a warm collection starts the known track scripts together with the reads, and follows a changed config', async () => {
    const hosts = healthy();
    const runner = new ScriptedRunner(hosts);
    const collector = createStatusCollector(CONFIG, runner);
    await collector.collect({ kind: 'all' });
    runner.ran.length = 0;
    await collector.collect({ kind: 'all' });
    expect(runner.ran.filter((r) => r.startsWith('node1'))[0]).toMatch(/check\.sh$/);

    // The operator moved node2's primary check: the guessed result for the old path must not be used.
    hosts.node2!.conf = hosts.node2!.conf.replace('/etc/keepalived/primary_check.sh', '/opt/dg/primary_check.sh');
    hosts.node2!.scripts['/opt/dg/primary_check.sh'] = 0;
    runner.ran.length = 0;
    const status = await collector.collect({ kind: 'all' });
    const node2 = status.clusters[0]!.nodes[1]!;
    expect(node2.instances.find((i) => i.name === 'VI_PRIMARY')?.checksPass).toBe(true);
    expect(runner.ran).toContain('node2: (as oracle) /opt/dg/primary_check.sh');
  });
});
