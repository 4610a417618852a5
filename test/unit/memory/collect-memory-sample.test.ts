/**
 * From what a host prints to a MemorySample: assembly from captured lab outputs (keepalived 2.2.7 in a
 * real cgroup v1 memory controller), the v2 layout, missing parts, and the SSH side with a fake runner
 * (cgroup layout tried then remembered, one unreachable host costing only its own sample).
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/config.ts';
import { VipbotError } from '../../../src/errors.ts';
import type { NodeCommand } from '../../../src/hosts/node-commands.ts';
import { cgroupMemoryFilePath } from '../../../src/hosts/node-commands.ts';
import { assembleMemorySample, readServiceMemoryFacts, sampleHasReadings } from '../../../src/memory/assemble-sample.ts';
import { collectMemorySample, createMemorySampler, type CgroupVersionMemo } from '../../../src/memory/collect-memory-sample.ts';
import { allNodes } from '../../../src/config/config.ts';
import { KIB, readMemoryFixture } from './fixtures.ts';

const T = Date.UTC(2026, 10, 26, 20, 0, 0);
const SHOW = readMemoryFixture('lab-node1-systemctl-show.txt');
const PS = readMemoryFixture('lab-node1-ps.txt');
const STAT_V1 = readMemoryFixture('lab-node1-cgroup-v1-memory.stat');
const USAGE_V1 = readMemoryFixture('lab-node1-cgroup-v1-memory.usage_in_bytes');
const STAT_V2 = readMemoryFixture('cgroup-v2-keepalived.service-memory.stat');
const SMAPS = new Map([[37, readMemoryFixture('lab-node1-smaps_rollup-37.txt')], [41, readMemoryFixture('lab-node1-smaps_rollup-41.txt')]]);
const RHEL_SHOW = readMemoryFixture('../keepalived/systemctl-show-active.txt');

const COMMAND = '/usr/sbin/keepalived --dont-fork --log-console --log-detail -f /etc/keepalived/keepalived.conf';
const LAB_PROCESSES = [
  { pid: 37, ppid: 32, rss: 9912 * KIB, vsz: 29024 * KIB, elapsedSeconds: 4, command: COMMAND, pssAnon: 812 * KIB },
  { pid: 41, ppid: 37, rss: 3324 * KIB, vsz: 29024 * KIB, elapsedSeconds: 4, command: COMMAND, pssAnon: 824 * KIB },
];

describe('cgroupMemoryFilePath', () => {
  it.each<['v1' | 'v2', string, 'stat' | 'current', string]>([
    ['v2', '/system.slice/keepalived.service', 'stat', '/sys/fs/cgroup/system.slice/keepalived.service/memory.stat'],
    ['v2', '/system.slice/keepalived.service', 'current', '/sys/fs/cgroup/system.slice/keepalived.service/memory.current'],
    ['v1', '/system.slice/keepalived.service', 'stat', '/sys/fs/cgroup/memory/system.slice/keepalived.service/memory.stat'],
    ['v1', '/vipbot-lab/node1', 'current', '/sys/fs/cgroup/memory/vipbot-lab/node1/memory.usage_in_bytes'],
    ['v2', '/', 'stat', '/sys/fs/cgroup/memory.stat'],
  ])('%s %s %s', (version, cg, file, path) => {
    expect(cgroupMemoryFilePath(version, cg, file)).toBe(path);
  });
});

describe('readServiceMemoryFacts', () => {
  it('the lab (systemd 252 format, UTC)', () => {
    expect(readServiceMemoryFacts(SHOW)).toEqual({
      active: true, mainPid: 37, memoryCurrent: 2375680, startedAt: '2026-11-26T19:57:55.000Z', controlGroup: '/vipbot-lab/node1', nRestarts: 0,
    });
  });

  it('RHEL with MSK timestamps', () => {
    expect(readServiceMemoryFacts(RHEL_SHOW)).toMatchObject({ active: true, mainPid: 23145, memoryCurrent: 502726656, startedAt: '2024-12-28T03:00:26.000Z', controlGroup: '/system.slice/keepalived.service' });
  });

  it('an unknown zone leaves the start time out and says why', () => {
    const problems: string[] = [];
    const facts = readServiceMemoryFacts(SHOW.replace(/ UTC$/gm, ' IST'), problems);
    expect(facts.startedAt).toBeUndefined();
    expect(facts.mainPid).toBe(37);
    expect(problems[0]).toMatch(/unknown time zone "IST"/);
  });

  it('a stopped unit: no memory figure, no start time', () => {
    expect(readServiceMemoryFacts('MainPID=0\nMemoryCurrent=[not set]\nActiveState=inactive\nControlGroup=\nExecMainStartTimestamp=Thu 2026-11-26 19:57:55 UTC\n')).toEqual({ active: false });
  });

  it('accounting off (UINT64_MAX) is unknown, not 16 EiB', () => {
    expect(readServiceMemoryFacts('ActiveState=active\nMemoryCurrent=18446744073709551615\n').memoryCurrent).toBeUndefined();
  });
});

describe('assembleMemorySample', () => {
  it('the lab host: unit memory from systemd, anon/page cache from v1 memory.stat, RSS/VSZ from ps, Pss_Anon from smaps_rollup', () => {
    const { sample, problems } = assembleMemorySample({ t: T, node: 'node1', systemctlShow: SHOW, ps: PS, memoryStat: { version: 'v1', text: STAT_V1 }, smaps: SMAPS });
    expect(problems).toEqual([]);
    expect(sample).toEqual({
      t: T, node: 'node1', active: true, mainPid: 37, startedAt: '2026-11-26T19:57:55.000Z', unitMemory: 2375680, anon: 2301952, file: 16384, processes: LAB_PROCESSES,
    });
  });

  it('v2 memory.stat', () => {
    const { sample } = assembleMemorySample({ t: T, node: 'node1', systemctlShow: SHOW, ps: PS, memoryStat: { version: 'v2', text: STAT_V2 } });
    expect(sample).toMatchObject({ anon: 3313664, file: 493965312 });
    expect(sample.processes.every((p) => p.pssAnon === undefined)).toBe(true);
  });

  it('falls back to memory.usage_in_bytes when systemd has no MemoryCurrent', () => {
    const show = SHOW.replace(/^MemoryCurrent=.*$/m, 'MemoryCurrent=[not set]');
    expect(assembleMemorySample({ t: T, node: 'node1', systemctlShow: show, ps: PS, cgroupCurrent: USAGE_V1 }).sample.unitMemory).toBe(2969600);
    expect(assembleMemorySample({ t: T, node: 'node1', systemctlShow: show, ps: PS }).sample).not.toHaveProperty('unitMemory');
  });

  it('leaves out what could not be read, never zero', () => {
    const { sample, problems } = assembleMemorySample({ t: T, node: 'node1', systemctlShow: SHOW, ps: PS, memoryStat: { version: 'v2', text: STAT_V1 }, smaps: new Map([[37, 'garbage']]) });
    expect(sample).not.toHaveProperty('anon');
    expect(sample).not.toHaveProperty('file');
    expect(sample.processes[0]).not.toHaveProperty('pssAnon');
    expect(problems).toEqual([expect.stringMatching(/does not look like a cgroup memory.stat/), expect.stringMatching(/^pid 37: smaps_rollup/)]);
  });

  it('keepalived stopped: active false, no processes, no memory — a reading, not a gap', () => {
    const { sample } = assembleMemorySample({ t: T, node: 'node1', systemctlShow: 'ActiveState=inactive\nMainPID=0\nMemoryCurrent=[not set]\n', ps: '' });
    expect(sample).toEqual({ t: T, node: 'node1', active: false, processes: [] });
    expect(sampleHasReadings(sample)).toBe(true);
  });

  it('ps alone still makes a sample', () => {
    const { sample } = assembleMemorySample({ t: T, node: 'node1', ps: PS });
    expect(sample.processes.map((p) => p.pid)).toEqual([37, 41]);
    expect(sample).not.toHaveProperty('active');
  });

  it('nothing at all is not a reading', () => {
    expect(sampleHasReadings(assembleMemorySample({ t: T, node: 'node1' }).sample)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// The SSH side, with a runner that answers like the lab host (cgroup v1) or a v2 host.

const CONFIG = parseConfigText(`
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]
    nodes: [{ name: node1, host: 198.51.100.1 }, { name: node2, host: 198.51.100.2 }, { name: node3, host: 198.51.100.3 }]
`);

type Answer = { code: number | null; stdout: string; stderr: string };

class FakeHosts {
  readonly ran: Array<{ node: string; id: string; argv: string }> = [];
  constructor(private readonly hosts: Record<string, 'v1' | 'v2' | 'down' | 'no-smaps'>) {}

  async run(target: { name: string }, cmd: NodeCommand): Promise<Answer> {
    const kind = this.hosts[target.name];
    this.ran.push({ node: target.name, id: cmd.id, argv: cmd.argv.join(' ') });
    if (kind === 'down') throw new VipbotError('ssh_connect_timeout', `could not connect to ${target.name}`);
    const path = cmd.argv[2] ?? '';
    const ok = (stdout: string): Answer => ({ code: 0, stdout, stderr: '' });
    const missing: Answer = { code: 1, stdout: '', stderr: `cat: ${path}: No such file or directory` };
    switch (cmd.id) {
      case 'service-show':
        return ok(SHOW);
      case 'list-keepalived-processes':
        return ok(PS);
      case 'read-cgroup-memory': {
        const v1 = path.startsWith('/sys/fs/cgroup/memory/');
        if ((kind === 'v2') === v1) return missing;
        return ok(path.endsWith('memory.stat') ? (v1 ? STAT_V1 : STAT_V2) : USAGE_V1);
      }
      case 'read-smaps-rollup': {
        if (kind === 'no-smaps') return { code: 1, stdout: '', stderr: `cat: ${path}: Permission denied` };
        const text = SMAPS.get(Number(path.split('/')[2]));
        return text ? ok(text) : missing;
      }
      default:
        throw new Error(`unexpected command ${cmd.id}`);
    }
  }
}

describe('collectMemorySample', () => {
  const node1 = allNodes(CONFIG)[0]!;

  it('tries the v2 layout, finds v1, and asks v1 first from then on', async () => {
    const hosts = new FakeHosts({ node1: 'v1' });
    const memo: CgroupVersionMemo = new Map();
    const first = await collectMemorySample(hosts, node1, { memo, now: () => T });
    expect(first.sample).toEqual({ t: T, node: 'node1', active: true, mainPid: 37, startedAt: '2026-11-26T19:57:55.000Z', unitMemory: 2375680, anon: 2301952, file: 16384, processes: LAB_PROCESSES });
    expect(first.problems).toEqual([]);
    expect(memo.get('node1')).toBe('v1');
    expect(hosts.ran.filter((r) => r.id === 'read-cgroup-memory').map((r) => r.argv)).toEqual([
      'cat -- /sys/fs/cgroup/vipbot-lab/node1/memory.stat',
      'cat -- /sys/fs/cgroup/memory/vipbot-lab/node1/memory.stat',
    ]);
    hosts.ran.length = 0;
    await collectMemorySample(hosts, node1, { memo, now: () => T });
    expect(hosts.ran.filter((r) => r.id === 'read-cgroup-memory').map((r) => r.argv)).toEqual(['cat -- /sys/fs/cgroup/memory/vipbot-lab/node1/memory.stat']);
    expect(hosts.ran.map((r) => r.id).sort()).toEqual(['list-keepalived-processes', 'read-cgroup-memory', 'read-smaps-rollup', 'read-smaps-rollup', 'service-show']);
  });

  it('a v2 host', async () => {
    const { sample } = await collectMemorySample(new FakeHosts({ node1: 'v2' }), node1, { now: () => T });
    expect(sample).toMatchObject({ anon: 3313664, file: 493965312 });
  });

  it('smaps_rollup not readable (non-root without sudo): RSS from ps alone', async () => {
    const { sample } = await collectMemorySample(new FakeHosts({ node1: 'no-smaps' }), node1, { now: () => T });
    expect(sample.processes.map((p) => p.pssAnon)).toEqual([undefined, undefined]);
    expect(sample.processes.map((p) => p.rss)).toEqual([9912 * KIB, 3324 * KIB]);
  });

  it('an unreachable host rejects: no sample, so the history shows a gap', async () => {
    await expect(collectMemorySample(new FakeHosts({ node1: 'down' }), node1)).rejects.toMatchObject({ code: 'ssh_connect_timeout' });
  });
});

describe('createMemorySampler', () => {
  it('one host down never loses the others\' samples', async () => {
    const round = await createMemorySampler(CONFIG, new FakeHosts({ node1: 'v1', node2: 'down', node3: 'v2' }), { now: () => T }).sample();
    expect(round.samples.map((s) => s.node)).toEqual(['node1', 'node3']);
    expect(round.failures).toEqual([{ node: 'node2', error: 'could not connect to node2' }]);
    expect(round.samples.every((s) => (s.unitMemory ?? 0) > 0)).toBe(true);
  });

  it('samples only the nodes asked for', async () => {
    const hosts = new FakeHosts({ node1: 'v1', node2: 'v1', node3: 'v1' });
    const round = await createMemorySampler(CONFIG, hosts).sample({ nodes: ['node2'] });
    expect(round.samples.map((s) => s.node)).toEqual(['node2']);
    expect(new Set(hosts.ran.map((r) => r.node))).toEqual(new Set(['node2']));
  });
});
