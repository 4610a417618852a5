/**
 * The status watch on the lab (SPEC §9): a real split brain (both databases PRIMARY and the pair cut
 * apart) is posted once to the watch channel though nobody typed anything, not again while it lasts,
 * and an all-clear follows the repair; vipbot_warnings says the same on /metrics.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { partition, setRole, unpartition, vipHolders, waitFor } from '../../lab/lab.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { VipStatus } from '../../src/model.ts';
import type { RecordedCall } from '../../src/slack/local-web-api.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const WATCH = 'C0WATCH';
let bot: BotHarness;

const watchPosts = (): RecordedCall[] => bot.webApi.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === WATCH);
const payload = (c: RecordedCall) => (c.args.metadata as { event_payload: VipStatus & { trigger?: string } }).event_payload;
const codes = (c: RecordedCall) => payload(c).clusters.flatMap((cl) => cl.warnings.map((w) => w.code));

async function metricsWarnings(): Promise<string[]> {
  const text = await (await fetch(`${bot.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('vipbot_warnings{')).map((l) => l.replace(/ 1$/, ''));
}

async function normal(): Promise<boolean> {
  const h = await vipHolders();
  return h[PRIMARY_VIP]?.join() === 'node1' && h[STANDBY_VIP]?.join() === 'node2';
}

beforeAll(async () => {
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  await waitFor(normal, 25_000, 'VIPs on node1/node2');
  const config = loadConfig(lab.configPath);
  bot = await startBotHarness({ config: { ...config, status: { every: 10_000, channel: WATCH } }, redisUrl });
});

afterAll(async () => {
  await unpartition('node1', 'node2');
  await setRole('node2', 'STANDBY');
  await waitFor(normal, 25_000, 'VIPs back on node1/node2');
  await bot?.stop();
});

describe('status watch', () => {
  it('says nothing while all is well, posts a split brain once, and an all-clear after healing', async () => {
    // First round at start: no warnings, nothing posted.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(watchPosts()).toEqual([]);

    await setRole('node2', 'PRIMARY');
    await partition('node1', 'node2');
    await waitFor(async () => (await vipHolders())[PRIMARY_VIP]?.length === 2, 20_000, 'the primary VIP on both nodes');
    const first = await bot.webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.args.channel === WATCH, 30_000);
    expect(payload(first).trigger).toBe('watch');
    expect(codes(first)).toContain('split_brain');
    expect(String(first.args.text)).toMatch(/^VIP watch: .*split_brain \(orcl\)/);
    expect(await metricsWarnings()).toContain('vipbot_warnings{cluster="orcl",code="split_brain"}');

    // Two more rounds while it lasts: no new post.
    await new Promise((r) => setTimeout(r, 22_000));
    expect(watchPosts()).toHaveLength(1);

    await unpartition('node1', 'node2');
    await setRole('node2', 'STANDBY');
    await waitFor(normal, 25_000, 'VIPs back on node1/node2');
    const clear = await bot.webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.args.channel === WATCH && c !== first && codes(c).length === 0, 40_000);
    expect(String(clear.args.text).split('\n')[0]).toBe('VIP watch: all clear');
    expect(await metricsWarnings()).toEqual([]);
  }, 150_000);
});
