/**
 * `/vip status` end to end, driven the way Slack drives the bot: signed slash commands to
 * /slack/events, results read from the local Web API stand-in, facts from real keepalived in the lab.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cut, heal, hostExec, partition, rekey, setRole, unpartition, vipHolders, waitFor } from '../../lab/lab.ts';
import type { VipStatus } from '../../src/model.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';

let bot: BotHarness;

/** Sends `/vip <text>`, checks the ack, and returns the `vip_status` payload the worker posts. */
async function status(text = 'status'): Promise<{ payload: VipStatus; ackMs: number; totalMs: number; call: { args: Record<string, unknown> } }> {
  const started = Date.now();
  const ack = await bot.command(text);
  const ackMs = Date.now() - started;
  expect(ack.status).toBe(200);
  expect(ack.body?.response_type).toBe('ephemeral');
  const call = await bot.waitForPost('vip_status', started);
  const payload = (call.args.metadata as { event_payload: VipStatus }).event_payload;
  return { payload, ackMs, totalMs: Date.now() - started, call };
}

async function holdersAre(expected: Record<string, string[]>): Promise<boolean> {
  const holders = await vipHolders();
  return Object.entries(expected).every(([vip, nodes]) => JSON.stringify([...(holders[vip] ?? [])].sort()) === JSON.stringify([...nodes].sort()));
}

async function restoreRoles(): Promise<void> {
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  await waitFor(() => holdersAre({ [PRIMARY_VIP]: ['node1'], [STANDBY_VIP]: ['node2'] }), 20_000, 'VIPs back on node1/node2');
}

function warningCodes(payload: VipStatus): string[] {
  return payload.clusters.flatMap((c) => c.warnings.map((w) => w.code));
}

beforeAll(async () => {
  bot = await startBotHarness({ configPath: lab.configPath, redisUrl });
  await restoreRoles();
});

afterAll(async () => {
  await bot?.stop();
});

describe('/vip status against the lab', () => {
  it('acks at once and posts who holds each VIP with vip_status metadata', async () => {
    const { payload, ackMs, call } = await status();
    expect(ackMs).toBeLessThan(1000);
    const orcl = payload.clusters.find((c) => c.name === 'orcl')!;
    expect(orcl.vips).toEqual([
      { name: 'primary', instance: 'VI_PRIMARY', address: PRIMARY_VIP, holders: ['node1'] },
      { name: 'standby', instance: 'VI_STANDBY', address: STANDBY_VIP, holders: ['node2'] },
    ]);
    const node1 = orcl.nodes.find((n) => n.name === 'node1')!;
    expect(node1).toMatchObject({ host: '198.51.100.1', reachable: true, keepalived: 'active' });
    expect(node1.instances).toEqual([
      expect.objectContaining({ name: 'VI_PRIMARY', state: 'MASTER', priority: 100, holdsVip: true, checksPass: true }),
      expect.objectContaining({ name: 'VI_STANDBY', state: 'BACKUP', priority: 90, holdsVip: false, checksPass: false }),
    ]);
    expect(orcl.warnings).toEqual([]);
    expect(call.args.channel).toBe('C0VIPOPS');
    expect(String(call.args.text)).toContain('primary on node1');
    expect(Array.isArray(call.args.blocks)).toBe(true);
  });

  it('after a failover (node1 down, node2 PRIMARY) the primary VIP is on node2 and preempt_hazard names node1 with both fixes', async () => {
    try {
      await setRole('node1', 'down');
      await setRole('node2', 'PRIMARY');
      await waitFor(() => holdersAre({ [PRIMARY_VIP]: ['node2'] }), 20_000, 'primary VIP on node2');
      const { payload } = await status('status orcl');
      const orcl = payload.clusters[0]!;
      expect(orcl.vips[0]?.holders).toEqual(['node2']);
      const hazard = orcl.warnings.find((w) => w.code === 'preempt_hazard');
      expect(hazard?.nodes).toContain('node1');
      expect(hazard?.fixes).toEqual(expect.arrayContaining([expect.stringMatching(/^\/vip promote node2/), '/vip demote node1']));
      expect(hazard?.message).toMatch(/node1/);
    } finally {
      await restoreRoles();
    }
  });

  it('reports split_brain when both nodes hold the primary VIP', async () => {
    try {
      await setRole('node2', 'PRIMARY');
      await partition('node1', 'node2');
      await waitFor(() => holdersAre({ [PRIMARY_VIP]: ['node1', 'node2'] }), 20_000, 'primary VIP on both nodes');
      const { payload } = await status();
      const orcl = payload.clusters[0]!;
      expect(orcl.vips[0]?.holders.sort()).toEqual(['node1', 'node2']);
      expect(orcl.warnings[0]).toMatchObject({ code: 'split_brain', nodes: ['node1', 'node2'] });
    } finally {
      await unpartition('node1', 'node2');
      await restoreRoles();
    }
  });

  it('reports vip_missing when no node passes the track scripts', async () => {
    try {
      await setRole('node1', 'down');
      await setRole('node2', 'down');
      await waitFor(() => holdersAre({ [PRIMARY_VIP]: [], [STANDBY_VIP]: [] }), 20_000, 'VIPs gone');
      const { payload } = await status();
      const missing = payload.clusters[0]!.warnings.filter((w) => w.code === 'vip_missing');
      expect(missing).toHaveLength(2);
      expect(payload.clusters[0]!.vips.map((v) => v.holders)).toEqual([[], []]);
    } finally {
      await restoreRoles();
    }
  });

  it('reports keepalived_down for a stopped service', async () => {
    try {
      expect((await hostExec('node2', ['systemctl', 'stop', 'keepalived'])).code).toBe(0);
      const { payload } = await status();
      const node2 = payload.clusters[0]!.nodes.find((n) => n.name === 'node2')!;
      expect(node2.keepalived).toBe('inactive');
      expect(payload.clusters[0]!.warnings).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'keepalived_down', nodes: ['node2'] })]));
    } finally {
      await hostExec('node2', ['systemctl', 'start', 'keepalived']);
      await restoreRoles();
    }
  });

  it('reports node_unreachable for a cut host within connectTimeout + 2 s, without hanging', async () => {
    try {
      await cut('node2');
      const { payload, totalMs } = await status();
      expect(totalMs).toBeLessThan(bot.config.ssh.connectTimeout + 2000);
      const node2 = payload.clusters[0]!.nodes.find((n) => n.name === 'node2')!;
      expect(node2.reachable).toBe(false);
      expect(node2.keepalived).toBe('unknown');
      expect(warningCodes(payload)).toContain('node_unreachable');
      const node1 = payload.clusters[0]!.nodes.find((n) => n.name === 'node1')!;
      expect(node1.reachable).toBe(true);
    } finally {
      await heal('node2');
      await restoreRoles();
    }
  });

  it('refuses a host whose key changed and says what to do', async () => {
    const knownHosts = readFileSync(lab.knownHostsPath, 'utf8');
    try {
      await rekey('node2');
      const { payload } = await status();
      const node2 = payload.clusters[0]!.nodes.find((n) => n.name === 'node2')!;
      expect(node2.reachable).toBe(false);
      expect(node2.error).toMatch(/host key/i);
      expect(node2.error).toMatch(/known_hosts/);
    } finally {
      // Trust the new key again (what an operator does after checking a rebuilt host).
      const scanned = execFileSync('ssh-keyscan', ['-t', 'ed25519', '198.51.100.2'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      writeFileSync(lab.knownHostsPath, knownHosts.split('\n').filter((l) => !l.startsWith('198.51.100.2 ')).join('\n').trimEnd() + '\n' + scanned);
    }
  });
});

describe('requests that must not run anything', () => {
  async function jobsQueued(): Promise<number> {
    const counts = await bot.runtime.queue!.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  it('answers a bad signature with 401 and queues nothing', async () => {
    const before = await jobsQueued();
    const calls = bot.webApi.calls.length;
    const res = await bot.command('status', { secret: 'not-the-secret' });
    expect(res.status).toBe(401);
    expect(await jobsQueued()).toBe(before);
    expect(bot.webApi.calls.length).toBe(calls);
  });

  it('answers a stale signature (6 minutes old) with 401 and queues nothing', async () => {
    const before = await jobsQueued();
    const res = await bot.command('status', { timestamp: Math.floor(Date.now() / 1000) - 360 });
    expect(res.status).toBe(401);
    expect(await jobsQueued()).toBe(before);
  });

  it.each(['status node1;reboot', 'status $(reboot)', 'status node9', 'status orcl node1 x'])('refuses %j in the ack, nothing queued', async (text) => {
    const before = await jobsQueued();
    const res = await bot.command(text);
    expect(res.status).toBe(200);
    expect(res.body?.response_type).toBe('ephemeral');
    expect(res.body?.text).toMatch(/:warning:/);
    expect(await jobsQueued()).toBe(before);
  });

  it('serves /healthz and /metrics', async () => {
    const health = await fetch(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, redis: 'up', config: { clusters: lab.hosts.length / 2, nodes: lab.hosts.length } });
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metrics).toMatch(/vipbot_commands_total\{command="status",outcome="queued"\} \d+/);
    expect(metrics).toMatch(/vipbot_ssh_command_seconds_count/);
  });
});
