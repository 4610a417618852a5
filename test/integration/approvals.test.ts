/**
 * Promote, demote and start with approval by reaction, end to end against the lab: signed slash
 * commands and reaction_added events to /slack/events, the bot's Slack calls read from the local Web
 * API, the truth read from the hosts themselves (config files, keepalived's log, VIP holders).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { cut, heal, hostExec, setRole, vipHolders, waitFor } from '../../lab/lab.ts';
import { loadConfig, type VipbotConfig } from '../../src/config/config.ts';
import type { RecordedCall } from '../../src/slack/local-web-api.ts';
import { SIGNING_SECRET, startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const CONF = '/etc/keepalived/keepalived.conf';
const OPERATOR = 'U0OPER1';
const LEAD = 'U0LEAD1';
const LEAD2 = 'U0LEAD2';

interface RequestPayload { request_id: string; action: string; node: string; state: string; requested_by: string; approved_by?: string }

const originals = new Map<string, string>();

function baseConfig(overrides: { apply?: 'reload' | 'restart'; approvalTimeout?: number } = {}): VipbotConfig {
  const config = loadConfig(lab.configPath);
  return {
    ...config,
    access: { ...config.access, operators: [OPERATOR, LEAD2], approvers: [LEAD, LEAD2], ...(overrides.approvalTimeout ? { approvalTimeout: overrides.approvalTimeout } : {}) },
    keepalived: { ...config.keepalived, apply: overrides.apply ?? 'reload', convergeTimeout: 12_000 },
  };
}

async function holdersAre(expected: Record<string, string[]>): Promise<boolean> {
  const holders = await vipHolders();
  return Object.entries(expected).every(([vip, nodes]) => JSON.stringify([...(holders[vip] ?? [])].sort()) === JSON.stringify([...nodes].sort()));
}

async function readConf(node: string): Promise<string> {
  return (await hostExec(node, ['cat', CONF])).stdout;
}

/** Puts the lab back exactly as the suite found it: configs, services, roles, VIPs. */
async function restoreLab(): Promise<void> {
  for (const node of ['node1', 'node2']) {
    if ((await readConf(node)) !== originals.get(node)) {
      await hostExec(node, ['dd', `of=${CONF}`, 'status=none'], { input: originals.get(node)! });
      await hostExec(node, ['systemctl', 'reload', 'keepalived']);
    }
    if ((await hostExec(node, ['systemctl', 'is-active', 'keepalived'])).code !== 0) await hostExec(node, ['systemctl', 'start', 'keepalived']);
  }
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  await waitFor(() => holdersAre({ [PRIMARY_VIP]: ['node1'], [STANDBY_VIP]: ['node2'] }), 25_000, 'VIPs back on node1/node2');
}

function payloadOf(call: RecordedCall): RequestPayload | undefined {
  const meta = call.args.metadata as { event_type?: string; event_payload?: RequestPayload } | undefined;
  return meta?.event_type === 'vip_request' ? meta.event_payload : undefined;
}

async function countInLog(node: string, pattern: string): Promise<number> {
  const res = await hostExec(node, ['grep', '-c', pattern, '/run/lab/keepalived.log']);
  return Number(res.stdout.trim() || '0');
}

let bot: BotHarness;

async function useBot(config: VipbotConfig): Promise<void> {
  await bot?.stop();
  bot = await startBotHarness({ config, redisUrl });
}

/** Types the command and returns the approval message's request id and ts. */
async function requestChange(text: string, userId = OPERATOR): Promise<{ id: string; ts: string }> {
  const started = Date.now();
  const ack = await bot.command(text, { userId });
  expect(ack.status).toBe(200);
  expect(ack.body?.text).toMatch(/Planning/);
  const call = await bot.webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= started && payloadOf(c)?.state === 'pending', 20_000);
  const payload = payloadOf(call)!;
  expect(payload.requested_by).toBe(userId);
  // People react once they see the message with the bot's own reactions on it.
  await bot.webApi.waitForCall((c) => c.method === 'reactions.add' && c.args.timestamp === call.ts && c.args.name === 'x', 10_000);
  return { id: payload.request_id, ts: call.ts! };
}

function waitForState(id: string, state: string, timeoutMs = 40_000): Promise<RecordedCall> {
  return bot.webApi.waitForCall((c) => c.method === 'chat.update' && payloadOf(c)?.request_id === id && payloadOf(c)?.state === state, timeoutMs);
}

function statesOf(id: string): string[] {
  return bot.webApi.calls.filter((c) => c.method === 'chat.update' && payloadOf(c)?.request_id === id).map((c) => payloadOf(c)!.state);
}

function ephemeralsTo(user: string): string[] {
  return bot.webApi.calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user).map((c) => String(c.args.text));
}

async function failoverToNode2(): Promise<void> {
  await setRole('node1', 'down');
  await setRole('node2', 'PRIMARY');
  await waitFor(() => holdersAre({ [PRIMARY_VIP]: ['node2'] }), 20_000, 'primary VIP on node2');
}

beforeAll(async () => {
  for (const node of ['node1', 'node2']) originals.set(node, await readConf(node));
  await useBot(baseConfig());
  await restoreLab();
});

afterEach(async () => {
  await restoreLab();
});

afterAll(async () => {
  await bot?.stop();
});

describe.each(['reload', 'restart'] as const)('the notes\' scenario with apply: %s', (apply) => {
  it('promote node2 after a failover keeps the primary VIP on node2 when node1 comes back', async () => {
    await useBot(baseConfig({ apply }));
    await failoverToNode2();
    const reloadsBefore = await countInLog('node2', apply === 'reload' ? 'Reload complete' : 'Starting Keepalived v');

    const { id, ts } = await requestChange('promote node2');
    const approval = bot.webApi.calls.find((c) => c.ts === ts)!;
    expect(JSON.stringify(approval.args.blocks)).toContain('priority 150');
    expect(bot.webApi.callsOf('reactions.add').filter((c) => c.args.timestamp === ts).map((c) => c.args.name)).toEqual(['white_check_mark', 'x']);

    await bot.react(ts, 'white_check_mark', LEAD);
    await waitForState(id, 'succeeded');
    expect(statesOf(id)).toEqual(expect.arrayContaining(['approved', 'running', 'succeeded']));

    const conf = await readConf('node2');
    expect(conf.split('\n').filter((l, i) => l !== originals.get('node2')!.split('\n')[i])).toEqual([expect.stringMatching(/^\s+priority 150$/)]);
    expect(await countInLog('node2', apply === 'reload' ? 'Reload complete' : 'Starting Keepalived v')).toBe(reloadsBefore + 1);
    const backups = await hostExec('node2', ['sh', '-c', `ls ${CONF}.vipbot-*Z`]);
    expect(backups.stdout).toMatch(/keepalived\.conf\.vipbot-\d{8}T\d{6}Z/);

    // The hazard: node1 comes back PRIMARY. It must not take the VIP (100 < 150).
    await setRole('node1', 'PRIMARY');
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await holdersAre({ [PRIMARY_VIP]: ['node2'] })).toBe(true);

    // Progress went to the thread, and the audit log has the whole story.
    const thread = bot.webApi.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts).map((c) => String(c.args.text));
    expect(thread.join('\n')).toMatch(/Backed up to .*vipbot-/);
    expect(thread.join('\n')).toMatch(/keepalived -t/);
    const audit = await bot.runtime.audit.forRequest(id);
    expect(audit.map((e) => e.event)).toEqual(['requested', 'approved', 'started', 'finished']);
    const finished = audit.at(-1)!;
    expect(finished).toMatchObject({ state: 'succeeded', requestedBy: OPERATOR, approvedBy: LEAD });
    const commands = (finished.detail as { commands: Array<{ id: string; exitCode: number }> }).commands;
    expect(commands.map((c) => c.id)).toEqual(expect.arrayContaining(['read-config', 'backup-config', 'stage-config', 'test-config', 'install-config', `service-${apply}`]));
    expect(commands.filter((c) => c.id === `service-${apply}`)).toHaveLength(1);
  });
});

describe('demote and start', () => {
  it('demote node1 stops keepalived there and its VIP moves; start brings it back', async () => {
    await useBot(baseConfig());
    await setRole('node2', 'PRIMARY');
    const demote = await requestChange('demote node1');
    await bot.react(demote.ts, 'heavy_check_mark', LEAD);
    await waitForState(demote.id, 'succeeded');
    expect((await hostExec('node1', ['systemctl', 'is-active', 'keepalived'])).stdout.trim()).toBe('inactive');
    expect(await holdersAre({ [PRIMARY_VIP]: ['node2'] })).toBe(true);

    const start = await requestChange('start node1');
    await bot.react(start.ts, '+1::skin-tone-3', LEAD);
    await waitForState(start.id, 'succeeded');
    expect((await hostExec('node1', ['systemctl', 'is-active', 'keepalived'])).stdout.trim()).toBe('active');
  });

  it('demote approved while node1 is cut off: "failed — nothing was changed on node1", no rollback, keepalived untouched', async () => {
    await useBot(baseConfig());
    await setRole('node2', 'PRIMARY');
    const demote = await requestChange('demote node1');
    const startsBefore = await countInLog('node1', 'Starting Keepalived v');
    await cut('node1');
    try {
      await bot.react(demote.ts, 'heavy_check_mark', LEAD);
      const failed = await waitForState(demote.id, 'failed');
      const text = JSON.stringify(failed.args.blocks);
      expect(text).toContain('failed — nothing was changed on node1: could not check whether keepalived is running on node1');
      expect(text).not.toMatch(/ROLLBACK|half-changed|Rollback/);
      const thread = bot.webApi.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === demote.ts).map((c) => String(c.args.text));
      expect(thread.some((t) => /Rolling back/.test(t))).toBe(false);
    } finally {
      await heal('node1');
    }
    expect((await hostExec('node1', ['systemctl', 'is-active', 'keepalived'])).stdout.trim()).toBe('active');
    expect(await countInLog('node1', 'Starting Keepalived v')).toBe(startsBefore);
  });

  it('demote is refused when the VIP would go nowhere', async () => {
    await useBot(baseConfig());
    const started = Date.now();
    await bot.command('demote node1', { userId: OPERATOR });
    const refusal = await bot.webApi.waitForCall((c) => c.method === 'chat.postEphemeral' && c.at >= started && c.args.user === OPERATOR, 20_000);
    expect(String(refusal.args.text)).toMatch(/nowhere|--force/);
    expect((await hostExec('node1', ['systemctl', 'is-active', 'keepalived'])).stdout.trim()).toBe('active');
  });
});

describe('decisions that must not run anything', () => {
  it('self-approval, a non-approver and a reject reaction leave the hosts untouched', async () => {
    await useBot(baseConfig());
    await failoverToNode2();
    const { id, ts } = await requestChange('promote node2', LEAD2);
    await bot.react(ts, 'white_check_mark', LEAD2);
    await bot.webApi.waitForCall((c) => c.method === 'chat.postEphemeral' && c.args.user === LEAD2 && /yourself/.test(String(c.args.text)));
    await bot.react(ts, 'white_check_mark', 'U0RANDOM');
    await bot.webApi.waitForCall((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0RANDOM' && /Only approvers/.test(String(c.args.text)));
    await bot.react(ts, 'x', LEAD);
    await waitForState(id, 'rejected');
    await new Promise((r) => setTimeout(r, 500));
    expect(statesOf(id)).toEqual(['rejected']);
    expect(await readConf('node2')).toBe(originals.get('node2'));
  });

  it('an expired request cannot be approved', async () => {
    await useBot(baseConfig({ approvalTimeout: 3_000 }));
    await failoverToNode2();
    const { id, ts } = await requestChange('promote node2');
    await waitForState(id, 'expired', 15_000);
    await bot.react(ts, 'white_check_mark', LEAD);
    await bot.webApi.waitForCall((c) => c.method === 'chat.postEphemeral' && c.args.user === LEAD && /already expired/.test(String(c.args.text)));
    expect(statesOf(id)).toEqual(['expired']);
    expect(await readConf('node2')).toBe(originals.get('node2'));
  });

  it('a cancelled request cannot be approved, and history shows it', async () => {
    await useBot(baseConfig());
    await failoverToNode2();
    const { id, ts } = await requestChange('promote node2');
    const ack = await bot.command(`cancel ${id}`, { userId: OPERATOR });
    expect(ack.status).toBe(200);
    await waitForState(id, 'cancelled');
    await bot.react(ts, 'white_check_mark', LEAD);
    await new Promise((r) => setTimeout(r, 500));
    expect(statesOf(id)).toEqual(['cancelled']);
    expect(await readConf('node2')).toBe(originals.get('node2'));

    const started = Date.now();
    await bot.command('history 5', { userId: OPERATOR });
    const history = await bot.webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= started && JSON.stringify(c.args.blocks ?? c.args.text).includes(id));
    expect(JSON.stringify(history.args)).toMatch(/cancelled/);
  });

  it('a duplicate event, a retried event and a second approver apply exactly once', async () => {
    await useBot(baseConfig());
    await failoverToNode2();
    const reloads = await countInLog('node2', 'Reload complete');
    const { id, ts } = await requestChange('promote node2');
    const first = await bot.react(ts, 'white_check_mark', LEAD);
    await Promise.all([
      bot.react(ts, 'white_check_mark', LEAD, { eventId: first.eventId }),
      bot.react(ts, 'white_check_mark', LEAD, { eventId: first.eventId, retryNum: 1 }),
      bot.react(ts, 'heavy_check_mark', LEAD2),
    ]);
    await waitForState(id, 'succeeded');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(statesOf(id).filter((s) => s === 'running')).toHaveLength(1);
    expect(await countInLog('node2', 'Reload complete')).toBe(reloads + 1);
    const audit = await bot.runtime.audit.forRequest(id);
    expect(audit.filter((e) => e.event === 'finished')).toHaveLength(1);
  });
});

describe('execution safety', () => {
  it('a config edited on the host after planning makes the plan stale: nothing applied', async () => {
    await useBot(baseConfig());
    await failoverToNode2();
    const { id, ts } = await requestChange('promote node2');
    const edited = `${originals.get('node2')}! edited by hand after the plan\n`;
    await hostExec('node2', ['dd', `of=${CONF}`, 'status=none'], { input: edited });
    await bot.react(ts, 'white_check_mark', LEAD);
    const done = await waitForState(id, 'failed');
    expect(JSON.stringify(done.args)).toMatch(/stale/);
    expect(await readConf('node2')).toBe(edited);
  });

  it('a new file that keepalived -t refuses is never installed', async () => {
    await useBot(baseConfig());
    await failoverToNode2();
    const { id, ts } = await requestChange('promote node2');
    // A keepalived on the host that refuses the staged file (as a newer parser might).
    const shim = '#!/bin/sh\ncase "$*" in *vipbot-new*) echo "Keepalived_vrrp: (/etc/keepalived/keepalived.conf.vipbot-new: Line 30) Unknown keyword \'priority\'" >&2; exit 1;; esac\nexec /run/lab/real-keepalived "$@"\n';
    await hostExec('node2', ['cp', '/usr/sbin/keepalived', '/run/lab/real-keepalived']);
    await hostExec('node2', ['dd', 'of=/run/lab/keepalived-shim', 'status=none'], { input: shim });
    await hostExec('node2', ['chmod', '755', '/run/lab/keepalived-shim']);
    await hostExec('node2', ['mount', '--bind', '/run/lab/keepalived-shim', '/usr/sbin/keepalived']);
    try {
      await bot.react(ts, 'white_check_mark', LEAD);
      const done = await waitForState(id, 'failed');
      expect(JSON.stringify(done.args)).toMatch(/keepalived -t/);
      expect(await readConf('node2')).toBe(originals.get('node2'));
    } finally {
      await hostExec('node2', ['umount', '/usr/sbin/keepalived']);
    }
  });

  it('a target that never takes the VIP is rolled back: hosts as before', async () => {
    await useBot(baseConfig());
    await setRole('node2', 'PRIMARY'); // both pass; node1 (100) keeps the VIP over node2 (90)
    await new Promise((r) => setTimeout(r, 1_500));
    const { id, ts } = await requestChange('promote node2');
    await setRole('node2', 'down'); // after approval node2 can never take it
    await bot.react(ts, 'white_check_mark', LEAD);
    const done = await waitForState(id, 'rolled_back', 60_000);
    expect(JSON.stringify(done.args)).toMatch(/rolled back/i);
    expect(await readConf('node2')).toBe(originals.get('node2'));
    expect(await holdersAre({ [PRIMARY_VIP]: ['node1'] })).toBe(true);
  });

  it('two requests on one cluster never run at once', async () => {
    await useBot(baseConfig());
    await failoverToNode2();
    const a = await requestChange('promote node2');
    const b = await requestChange('demote node1');
    await Promise.all([bot.react(a.ts, 'white_check_mark', LEAD), bot.react(b.ts, 'white_check_mark', LEAD)]);
    await waitForState(a.id, 'succeeded');
    await waitForState(b.id, 'succeeded');
    const [ea, eb] = await Promise.all([bot.runtime.audit.forRequest(a.id), bot.runtime.audit.forRequest(b.id)]);
    const span = (entries: typeof ea) => [entries.find((e) => e.event === 'started')!.at, entries.find((e) => e.event === 'finished')!.at] as const;
    const [sa, fa] = span(ea);
    const [sb, fb] = span(eb);
    expect(fa <= sb || fb <= sa).toBe(true);
  });

  it('a worker killed during execution: another worker finishes it and nothing is applied twice', async () => {
    await bot?.stop();
    bot = await startBotHarness({ configPath: lab.configPath, redisUrl, role: 'bot' });
    const startWorker = (): ChildProcess => spawn(process.execPath, ['bin/vipbot.js', 'worker'], {
      env: { ...process.env, VIPBOT_CONFIG: lab.configPath, REDIS_URL: redisUrl, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: bot.webApi.url, VIPBOT_QUEUE_PREFIX: bot.prefix, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    let first: ChildProcess | undefined = startWorker();
    let second: ChildProcess | undefined;
    try {
      await failoverToNode2();
      const reloads = await countInLog('node2', 'Reload complete');
      const { id, ts } = await requestChange('promote node2', OPERATOR);
      await bot.react(ts, 'white_check_mark', LEAD);
      // Kill -9 the worker in the middle of the change: once the backup is taken.
      await bot.webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts && /Backed up to/.test(String(c.args.text)), 30_000);
      first.kill('SIGKILL');
      first = undefined;
      second = startWorker();
      await waitForState(id, 'succeeded', 60_000);
      expect(await readConf('node2')).toMatch(/priority 150/);
      const reloadLines = (await countInLog('node2', 'Reload complete')) - reloads;
      expect(reloadLines).toBeGreaterThan(0);
      expect(reloadLines).toBe(1);
      const thread = bot.webApi.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts).map((c) => String(c.args.text)).join('\n');
      expect(thread).toMatch(/Resuming after an interruption/);
    } finally {
      first?.kill('SIGKILL');
      second?.kill('SIGTERM');
    }
  });
});
