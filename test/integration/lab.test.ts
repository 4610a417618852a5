// The lab itself, against real sshd, keepalived and kernel networking: what other integration tests
// and the benchmarks rely on. Reuses a running lab (the integration globalSetup brings one up) and
// puts back every role, link, partition, unit and host key it changes.
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { cpuHierarchy } from '../../lab/cpu-weight.ts';
import {
  cut, heal, hostExec, labCpuShares, labDown, labInfo, labUp, partition, rekey, restoreHostKey, setRole, unpartition,
  vipHolders, waitFor, type LabInfo,
} from '../../lab/lab.ts';

const execFileAsync = promisify(execFile);
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const CONVERGE_MS = 15_000;

let lab: LabInfo;
let created = false;

/** Back to the state `lab up` leaves: node1 PRIMARY with the primary VIP, node2 STANDBY with the other. */
async function restoreBaseline(): Promise<void> {
  await unpartition('node1', 'node2');
  await heal('node1');
  await heal('node2');
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  for (const node of ['node1', 'node2']) {
    const r = await hostExec(node, ['systemctl', 'start', 'keepalived']);
    expect(r.code, r.stderr).toBe(0);
  }
  await waitFor(async () => {
    const h = await vipHolders();
    return same(h[PRIMARY_VIP], ['node1']) && same(h[STANDBY_VIP], ['node2']);
  }, 20_000, 'baseline VIP holders');
}

function same(a: string[] | undefined, b: string[]): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());
}

function holdersAre(vip: string, nodes: string[]): () => Promise<boolean> {
  return async () => same((await vipHolders())[vip], nodes);
}

/** What a TCP connect to port 22 does within `ms`: the difference between a cut (timeout) and a dead sshd (refused). */
function tcpProbe(ip: string, ms: number): Promise<'connected' | 'timeout' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port: 22 });
    const done = (result: string): void => { socket.destroy(); resolve(result); };
    socket.setTimeout(ms, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** The bot's view: OpenSSH with only the lab key and the lab known_hosts, strict checking. */
async function sshAsBot(ip: string, command = 'true'): Promise<{ code: number; stderr: string; ms: number }> {
  const t0 = Date.now();
  try {
    await execFileAsync('ssh', [
      '-F', '/dev/null', '-i', lab.keyPath, '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5',
      `root@${ip}`, command,
    ], { timeout: 15_000 });
    return { code: 0, stderr: '', ms: Date.now() - t0 };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '', ms: Date.now() - t0 };
  }
}

function parseShow(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

beforeAll(async () => {
  const existing = await labInfo();
  created = !existing;
  lab = existing ?? (await labUp(2));
  await restoreBaseline();
}, 120_000);

afterAll(async () => {
  if (created) await labDown();
}, 60_000);

describe('lab up', () => {
  it('writes a vipbot.yaml that the config loader accepts, with the lab key and known_hosts', () => {
    const config = loadConfig(lab.configPath);
    expect(config.ssh).toMatchObject({ user: 'root', port: 22, privateKeyPath: lab.keyPath, knownHostsPath: lab.knownHostsPath, connectTimeout: 2_000, commandTimeout: 10_000 });
    expect(config.access.operators).toEqual(['U0OPER1']);
    expect(config.access.approvers).toEqual(['U0LEAD1']);
    expect(config.memory.dailySummary?.channel).toBe('C0VIPOPS');
    expect(config.clusters[0]).toEqual({
      name: 'orcl',
      vips: [
        { name: 'primary', instance: 'VI_PRIMARY', address: PRIMARY_VIP },
        { name: 'standby', instance: 'VI_STANDBY', address: STANDBY_VIP },
      ],
      nodes: [{ name: 'node1', host: '198.51.100.1' }, { name: 'node2', host: '198.51.100.2' }],
    });
    const knownHosts = readFileSync(lab.knownHostsPath, 'utf8').trim().split('\n');
    expect(knownHosts).toHaveLength(lab.hosts.length);
    expect(knownHosts[0]).toMatch(/^198\.51\.100\.1 ssh-ed25519 AAAA[0-9A-Za-z+/=]+$/);
  });

  it('puts the primary VIP on node1 and the standby VIP on node2', async () => {
    const holders = await vipHolders();
    expect(holders[PRIMARY_VIP]).toEqual(['node1']);
    expect(holders[STANDBY_VIP]).toEqual(['node2']);
  });

  it('gives each host its own DBA-style keepalived.conf that keepalived accepts', async () => {
    const [c1, c2] = await Promise.all(['node1', 'node2'].map((n) => hostExec(n, ['cat', '/etc/keepalived/keepalived.conf'])));
    expect(c1?.stdout).toMatch(/vrrp_instance VI_PRIMARY \{\n {6}state MASTER\n {6}interface eth0\n {6}virtual_router_id \d+\n {6}priority 100\n/);
    expect(c2?.stdout).toMatch(/vrrp_instance VI_PRIMARY \{\n {6}state BACKUP\n {6}interface eth0\n {6}virtual_router_id \d+\n {6}priority 90\n/);
    expect(c1?.stdout).toContain('unicast_src_ip 198.51.100.1\n      unicast_peer {\n            198.51.100.2\n');
    expect(c1?.stdout).toMatch(/vrrp_script chk_primary \{\n {6}script "\/etc\/keepalived\/primary_check.sh"\n {6}user oracle\n/);
    const check = await hostExec('node1', ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf']);
    expect(check.code, check.stderr).toBe(0);
  });

  it('runs the check scripts as oracle, passing for the host’s role only', async () => {
    const run = (node: string, script: string) => hostExec(node, ['runuser', '-u', 'oracle', '--', `/etc/keepalived/${script}`]);
    expect((await run('node1', 'primary_check.sh')).code).toBe(0);
    expect((await run('node1', 'standby_check.sh')).code).toBe(1);
    expect((await run('node2', 'primary_check.sh')).code).toBe(1);
    expect((await run('node2', 'standby_check.sh')).code).toBe(0);
    expect((await hostExec('node1', ['cat', '/etc/keepalived/lab-role'])).stdout).toBe('PRIMARY\n');
  });

  it('keeps each host in its own PID and mount namespace', async () => {
    expect((await hostExec('node1', ['ps', '-o', 'args=', '-p', '1'])).stdout).toMatch(/lab\/host\/init\.sh/);
    const ps = await hostExec('node1', ['ps', '-e', '-o', 'pid=,comm=']);
    const procs = ps.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(procs.filter(([, comm]) => comm === 'keepalived').length).toBeGreaterThanOrEqual(2);
    // node2's keepalived is not visible from node1.
    expect(procs.length).toBeLessThan(20);
    expect((await hostExec('node1', ['hostname'])).stdout.trim()).toBe('node1');
    expect((await hostExec('node1', ['ls', '-A', '/root'])).stdout.trim()).toBe('.ssh');
  });
});

describe('sshd', () => {
  it('accepts the bot key with strict host key checking, quickly', async () => {
    const r = await sshAsBot('198.51.100.1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(3_000);
    expect((await sshAsBot('198.51.100.2')).code).toBe(0);
  });

  it('refuses the bot after rekey (changed host key), and restoreHostKey undoes it', async () => {
    try {
      await rekey('node1');
      const r = await sshAsBot('198.51.100.1');
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    } finally {
      await restoreHostKey('node1');
    }
    expect((await sshAsBot('198.51.100.1')).code).toBe(0);
  });
});

describe('systemctl stand-in', () => {
  it('shows the unit like systemd: real main PID, memory from the cgroup', async () => {
    const r = await hostExec('node1', ['systemctl', 'show', 'keepalived', '--property=ActiveState,MainPID,MemoryCurrent']);
    expect(r.code, r.stderr).toBe(0);
    const props = parseShow(r.stdout);
    expect(Object.keys(props).sort()).toEqual(['ActiveState', 'MainPID', 'MemoryCurrent']);
    expect(props.ActiveState).toBe('active');
    expect(Number(props.MemoryCurrent)).toBeGreaterThan(0);
    const comm = await hostExec('node1', ['ps', '-o', 'comm=', '-p', props.MainPID ?? '']);
    expect(comm.stdout.trim()).toBe('keepalived');

    const value = await hostExec('node1', ['systemctl', 'show', '-p', 'SubState', '--value', 'keepalived.service']);
    expect(value.stdout).toBe('running\n');
    const all = parseShow((await hostExec('node1', ['systemctl', 'show', 'keepalived'])).stdout);
    for (const key of ['SubState', 'ExecMainStartTimestamp', 'ActiveEnterTimestamp', 'NRestarts', 'ControlGroup', 'Id']) {
      expect(all[key], key).toBeTruthy();
    }
    expect(all.ActiveEnterTimestamp).toMatch(/^[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/);
    expect(all.Id).toBe('keepalived.service');
  });

  it('prints systemd-like status text and exit codes', async () => {
    const status = await hostExec('node1', ['systemctl', 'status', 'keepalived']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Active: active \(running\) since \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+; (\d+s|\d+min( \d+s)?|\d+h( \d+min)?|now) ago/);
    expect(status.stdout).toMatch(/Memory: \d+(\.\d)?[KMG]\n/);
    const active = await hostExec('node1', ['systemctl', 'is-active', 'keepalived']);
    expect([active.code, active.stdout]).toEqual([0, 'active\n']);
    const unknownUnit = await hostExec('node1', ['systemctl', 'status', 'nosuch']);
    expect([unknownUnit.code, unknownUnit.stderr]).toEqual([4, 'Unit nosuch.service could not be found.\n']);
    const unknownVerb = await hostExec('node1', ['systemctl', 'frobnicate', 'keepalived']);
    expect(unknownVerb.code).toBe(1);
    expect(unknownVerb.stderr).toMatch(/Unknown command verb/);
  });

  it('stop: inactive, no memory figure, VIPs leave the host; start brings them back', async () => {
    try {
      const stop = await hostExec('node1', ['systemctl', 'stop', 'keepalived']);
      expect(stop.code, stop.stderr).toBe(0);
      const active = await hostExec('node1', ['systemctl', 'is-active', 'keepalived']);
      expect([active.code, active.stdout]).toEqual([3, 'inactive\n']);
      const props = parseShow((await hostExec('node1', ['systemctl', 'show', 'keepalived', '-p', 'MainPID', '-p', 'MemoryCurrent'])).stdout);
      expect(props).toEqual({ MainPID: '0', MemoryCurrent: '[not set]' });
      // node2 is STANDBY, so nobody may take the primary VIP: it is simply gone.
      await waitFor(holdersAre(PRIMARY_VIP, []), CONVERGE_MS, 'primary VIP to leave node1');
      expect((await hostExec('node1', ['pgrep', '-x', 'keepalived'])).code).toBe(1);
    } finally {
      await hostExec('node1', ['systemctl', 'start', 'keepalived']);
    }
    await waitFor(holdersAre(PRIMARY_VIP, ['node1']), CONVERGE_MS, 'primary VIP back on node1');
  });

  it('restarts keepalived after a crash and counts it in NRestarts', async () => {
    const before = parseShow((await hostExec('node2', ['systemctl', 'show', 'keepalived', '-p', 'MainPID,NRestarts'])).stdout);
    await hostExec('node2', ['kill', '-9', before.MainPID ?? '']);
    await waitFor(async () => {
      const now = parseShow((await hostExec('node2', ['systemctl', 'show', 'keepalived', '-p', 'MainPID,NRestarts,ActiveState'])).stdout);
      return now.ActiveState === 'active' && now.MainPID !== before.MainPID && Number(now.NRestarts) === Number(before.NRestarts) + 1;
    }, 10_000, 'keepalived restarted by the supervisor');
    await waitFor(holdersAre(STANDBY_VIP, ['node2']), CONVERGE_MS, 'standby VIP back on node2');
  });
});

describe('failures the bot must see', () => {
  it('role change moves the primary VIP (node1 down, node2 PRIMARY)', async () => {
    try {
      await setRole('node1', 'down');
      await setRole('node2', 'PRIMARY');
      await waitFor(holdersAre(PRIMARY_VIP, ['node2']), CONVERGE_MS, 'primary VIP on node2');
      // node2 is no longer a standby and node1 is down: the standby VIP has nowhere to go.
      await waitFor(holdersAre(STANDBY_VIP, []), CONVERGE_MS, 'standby VIP on no node');
    } finally {
      await restoreBaseline();
    }
  });

  it('cut: SSH connects time out (no RST); heal restores them', async () => {
    try {
      await cut('node2');
      expect(await tcpProbe('198.51.100.2', 1_500)).toBe('timeout');
      expect(await tcpProbe('198.51.100.1', 1_500)).toBe('connected');
    } finally {
      await heal('node2');
    }
    await waitFor(async () => (await tcpProbe('198.51.100.2', 1_000)) === 'connected', 10_000, 'node2 reachable after heal');
    await restoreBaseline();
  });

  it('partition with both roles PRIMARY is a real split brain, while the bot reaches both', async () => {
    try {
      await partition('node1', 'node2');
      await setRole('node2', 'PRIMARY');
      await waitFor(holdersAre(PRIMARY_VIP, ['node1', 'node2']), CONVERGE_MS, 'primary VIP on both nodes');
      expect(await tcpProbe('198.51.100.1', 1_500)).toBe('connected');
      expect(await tcpProbe('198.51.100.2', 1_500)).toBe('connected');
      // The hosts themselves cannot talk: a connect between them times out.
      const between = await hostExec('node1', ['timeout', '2', 'bash', '-c', 'exec 3<>/dev/tcp/198.51.100.2/22']);
      expect(between.code).toBe(124);
    } finally {
      await restoreBaseline();
    }
  });
});

describe('lab CPU weight (the bench gives the lab the CPU the bot leaves)', () => {
  it('puts every host process, and SSH sessions started later, in one cpu group; off puts them back', async (ctx) => {
    const mount = await cpuHierarchy();
    if (!mount) ctx.skip(); // cgroup v2 machines: the lab does not confine CPU there yet
    const cpuGroupOf = (text: string): string | undefined => /^\d+:[^:]*\bcpu\b[^:]*:(.*)$/m.exec(text)?.[1];
    const keepalivedPid = (await hostExec('node1', ['systemctl', 'show', '-p', 'MainPID', '--value', 'keepalived'])).stdout.trim();
    try {
      const confined = await labCpuShares(64);
      expect(confined.reason).toBeUndefined();
      expect(confined.moved).toBeGreaterThanOrEqual(lab.hosts.length * 3); // init, sshd, keepalived at least
      expect(readFileSync(`${mount}/vipbot-lab/cpu.shares`, 'utf8').trim()).toBe('64');
      // keepalived (seen from outside through the host's /proc) and a fresh SSH session's command.
      const inside = await hostExec('node1', ['cat', `/proc/${keepalivedPid}/cgroup`]);
      expect(cpuGroupOf(inside.stdout)).toBe('/vipbot-lab');
      const session = await hostExec('node1', ['bash', '-c', 'cat /proc/$$/cgroup']);
      expect(cpuGroupOf(session.stdout)).toBe('/'); // nsenter from outside: not a lab child
      const overSsh = await execFileAsync('ssh', ['-F', '/dev/null', '-i', lab.keyPath, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${lab.knownHostsPath}`,
        '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'root@198.51.100.1', 'cat /proc/self/cgroup'], { timeout: 15_000 });
      expect(cpuGroupOf(overSsh.stdout)).toBe('/vipbot-lab');
      // Memory accounting is untouched: keepalived still reports MemoryCurrent from its own group.
      const memory = (await hostExec('node1', ['systemctl', 'show', '-p', 'MemoryCurrent', '--value', 'keepalived'])).stdout.trim();
      expect(memory).toMatch(/^\d+$/);
    } finally {
      await labCpuShares('unconfined');
    }
    const released = await hostExec('node1', ['cat', `/proc/${keepalivedPid}/cgroup`]);
    expect(cpuGroupOf(released.stdout)).toBe('/');
    await expect(labCpuShares(1)).rejects.toThrow(/from 2 to 262144/);
  });
});

describe('lab lifecycle', () => {
  // Tearing down a lab that other test files were handed would break them; run this only on a lab
  // this file made itself, or when asked (VIPBOT_LAB_LIFECYCLE=1, e.g. a dedicated CI step).
  const allowed = (): boolean => created || process.env.VIPBOT_LAB_LIFECYCLE === '1';

  it('down leaves nothing behind, and up after a killed (kill -9) run clears its leftovers', async (ctx) => {
    if (!allowed()) ctx.skip();
    const hostCount = lab.hosts.length;
    await labDown();
    await expectNothingLeft();

    // A `lab up` killed half-way: namespaces, processes and cgroups stay behind.
    const child = spawn(process.execPath, ['--import', 'tsx', 'lab/cli.ts', 'up', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(async () => existsSync(`${lab.dir}/state.json`), 20_000, 'killed run to start its hosts');
    child.kill('SIGKILL');
    const { stdout } = await execFileAsync('ip', ['netns', 'list']);
    expect(stdout).toMatch(/vipbot-node1/);

    lab = await labUp(hostCount);
    const holders = await vipHolders();
    expect(holders[PRIMARY_VIP]).toEqual(['node1']);
    expect((await sshAsBot('198.51.100.1')).code).toBe(0);
  }, 120_000);
});

async function expectNothingLeft(): Promise<void> {
  const netns = (await execFileAsync('ip', ['netns', 'list'])).stdout;
  expect(netns).not.toMatch(/vipbot-/);
  const links = (await execFileAsync('ip', ['-o', 'link', 'show'])).stdout;
  expect(links).not.toMatch(/vipbr0|vb-node/);
  const procs = (await execFileAsync('ps', ['-e', '-o', 'args='])).stdout;
  expect(procs).not.toMatch(/host\/init\.sh|sshd -f \/run\/lab|__supervise|keepalived --dont-fork/);
  for (const dir of ['/sys/fs/cgroup/memory/vipbot-lab', '/sys/fs/cgroup/cpu/vipbot-lab', '/sys/fs/cgroup/vipbot-lab']) expect(existsSync(dir), dir).toBe(false);
  expect(existsSync(`${lab.dir}/state.json`)).toBe(false);
}
