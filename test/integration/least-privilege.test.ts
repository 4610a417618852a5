/**
 * Least privilege, end to end: the bot logs in as the unprivileged `vipbot` user of a lab host with
 * `ssh.sudo: true`, and sudo allows it exactly the drop-in `vipbot sudoers --user vipbot <node>`
 * prints (installed as the host's private /etc/sudoers.d/vipbot). Status and memory sampling see what
 * they see as root, an approved promote applies; anything else is refused; without the drop-in the bot
 * says so instead of guessing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { allowSudo, hostExec, revokeSudo, setRole, vipHolders, waitFor } from '../../lab/lab.ts';
import { findNode, loadConfig } from '../../src/config/config.ts';
import { SshPool } from '../../src/hosts/ssh-pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { collectMemorySample } from '../../src/memory/collect-memory-sample.ts';
import type { VipStatus } from '../../src/model.ts';
import { startBotHarness } from '../support/bot-harness.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
const CONF = '/etc/keepalived/keepalived.conf';
const PRIMARY_VIP = '198.51.100.100';
const NODES = ['node1', 'node2'];
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLACK_') && !k.startsWith('VIPBOT_')));
let botConfigPath: string;

function vipbot(args: string[], configPath: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/vipbot.js', ...args], { env: { ...clean, VIPBOT_CONFIG: configPath }, encoding: 'utf8', timeout: 60_000 });
}

function statusJson(configPath: string): VipStatus {
  const res = vipbot(['status', '--json'], configPath);
  expect(res.status, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as VipStatus;
}

/** The facts without the parts that differ from one collection to the next. */
function comparable(status: VipStatus): unknown {
  return JSON.parse(JSON.stringify(status, (key, value: unknown) => (key === 'collectedAt' ? undefined : value)));
}

beforeAll(async () => {
  for (const node of NODES) {
    const res = vipbot(['sudoers', '--user', 'vipbot', node], lab.configPath);
    expect(res.status, res.stderr).toBe(0);
    await allowSudo(node, res.stdout);
  }
  const doc = parseDocument(readFileSync(lab.configPath, 'utf8'));
  doc.setIn(['ssh', 'user'], 'vipbot');
  doc.setIn(['ssh', 'sudo'], true);
  botConfigPath = join(mkdtempSync(join(tmpdir(), 'vipbot-lp-')), 'vipbot.yaml');
  writeFileSync(botConfigPath, doc.toString());
});

afterAll(async () => {
  for (const node of NODES) await revokeSudo(node);
});

describe('the bot as an unprivileged user with the generated sudoers', () => {
  it('collects the same status as root does', () => {
    const asRoot = statusJson(lab.configPath);
    const asBot = statusJson(botConfigPath);
    const nodes = asBot.clusters.flatMap((c) => c.nodes);
    expect(nodes.map((n) => [n.name, n.reachable])).toEqual([['node1', true], ['node2', true]]);
    expect(comparable(asBot)).toEqual(comparable(asRoot));
  });

  it('samples keepalived memory: unit memory from the cgroup, RSS and Pss_Anon per process', async () => {
    const config = loadConfig(botConfigPath);
    const pool = new SshPool({ logger: silentLogger() });
    try {
      const { sample, problems } = await collectMemorySample(pool, findNode(config, 'node1')!);
      expect(problems).toEqual([]);
      expect(sample.unitMemory).toBeGreaterThan(0);
      expect(sample.anon).toBeGreaterThan(0);
      expect(sample.processes.length).toBeGreaterThanOrEqual(2);
      for (const p of sample.processes) expect(p.pssAnon).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('may run nothing else as root', async () => {
    const ssh = promisify(execFile)('ssh', [
      '-F', '/dev/null', '-i', lab.keyPath, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${lab.knownHostsPath}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'vipbot@198.51.100.1', 'sudo -n /usr/bin/id -u; sudo -n /usr/bin/cat /etc/shadow',
    ], { timeout: 15_000 });
    await expect(ssh).rejects.toMatchObject({ stderr: expect.stringMatching(/a password is required|not allowed/) });
  });

  it('without the drop-in, says which node refused instead of reporting wrong facts', async () => {
    await revokeSudo('node2');
    try {
      const status = statusJson(botConfigPath);
      const nodes = status.clusters.flatMap((c) => c.nodes);
      const node2 = nodes.find((n) => n.name === 'node2');
      // Its facts are unknown (so not "reachable" in the payload's sense), and the reason says why.
      expect(node2?.reachable).toBe(false);
      expect(node2?.error).toMatch(/^sudo refused .* on node2 \(198\.51\.100\.2\): a password is required — install vipbot's sudoers example for user vipbot/);
      const warning = status.clusters[0]?.warnings.find((w) => w.nodes.includes('node2') && w.code === 'node_unreachable');
      expect(warning?.message).toMatch(/^node2 \(198\.51\.100\.2\) answers over SSH, but its facts could not be read: sudo refused/);
      expect(nodes.find((n) => n.name === 'node1')?.reachable).toBe(true);
    } finally {
      const res = vipbot(['sudoers', '--user', 'vipbot', 'node2'], lab.configPath);
      await allowSudo('node2', res.stdout);
    }
  });

  it('promotes with approval through sudo: backup, stage, keepalived -t, install, reload, all allowed', async () => {
    const original = (await hostExec('node2', ['cat', CONF])).stdout;
    const config = loadConfig(botConfigPath);
    const bot = await startBotHarness({ config: { ...config, access: { ...config.access, operators: ['U0OPER1'], approvers: ['U0LEAD1'] } }, redisUrl });
    const onNode2 = async (): Promise<boolean> => ((await vipHolders())[PRIMARY_VIP] ?? []).join() === 'node2';
    try {
      // The notes' failover: node1's database down, node2 PRIMARY and holding the primary VIP.
      await setRole('node1', 'down');
      await setRole('node2', 'PRIMARY');
      await waitFor(onNode2, 20_000, 'primary VIP on node2');
      const started = Date.now();
      const ack = await bot.command('promote node2');
      expect(ack.body?.text).toMatch(/Planning/);
      const isRequest = (state: string) => (c: { method: string; at: number; args: Record<string, unknown> }) =>
        (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.at >= started && (c.args.metadata as { event_payload?: { state?: string } } | undefined)?.event_payload?.state === state;
      const pending = await bot.webApi.waitForCall(isRequest('pending'), 20_000);
      await bot.webApi.waitForCall((c) => c.method === 'reactions.add' && c.args.timestamp === pending.ts && c.args.name === 'x', 10_000);
      await bot.react(pending.ts!, 'white_check_mark', 'U0LEAD1');
      await bot.webApi.waitForCall(isRequest('succeeded'), 40_000);

      const conf = (await hostExec('node2', ['cat', CONF])).stdout;
      expect(conf.split('\n').filter((l, i) => l !== original.split('\n')[i])).toEqual([expect.stringMatching(/^\s+priority 150$/)]);
      // Installed with the original owner and mode, and a timestamped backup beside it.
      expect((await hostExec('node2', ['stat', '-c', '%U:%G %a', CONF])).stdout.trim()).toBe('root:root 644');
      expect((await hostExec('node2', ['sh', '-c', `ls ${CONF}.vipbot-*Z`])).stdout).toMatch(/keepalived\.conf\.vipbot-\d{8}T\d{6}Z/);
      expect(await onNode2()).toBe(true);
    } finally {
      await bot.stop();
      await hostExec('node2', ['dd', `of=${CONF}`, 'status=none'], { input: original });
      await hostExec('node2', ['systemctl', 'reload', 'keepalived']);
      await setRole('node1', 'PRIMARY');
      await setRole('node2', 'STANDBY');
      await waitFor(async () => ((await vipHolders())[PRIMARY_VIP] ?? []).join() === 'node1', 25_000, 'primary VIP back on node1');
    }
  });
});
