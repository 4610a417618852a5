/**
 * SPEC §8 through the real runtime: the same signed request a second time is refused (401) and runs
 * once; a timestamp in the future is refused, nothing queued.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SIGNING_SECRET, startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { signSlackRequest, slashCommandBody } from '../support/slack-signing.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
let bot: BotHarness;

beforeAll(async () => {
  bot = await startBotHarness({ configPath: lab.configPath, redisUrl });
});

afterAll(async () => {
  await bot?.stop();
});

async function post(body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${bot.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  await res.text();
  return res.status;
}

describe('signed requests through the running bot', () => {
  it('the same signed /vip status twice: 200 then 401, one status posted', async () => {
    const started = Date.now();
    const body = slashCommandBody({ text: 'status', userId: 'U0OPER1', channelId: 'C0REPLAY1', responseUrl: bot.webApi.responseUrl });
    const headers = signSlackRequest(body, SIGNING_SECRET);
    expect(await post(body, headers)).toBe(200);
    expect(await post(body, headers)).toBe(401);
    await bot.waitForPost('vip_status', started);
    await new Promise((r) => setTimeout(r, 1_500));
    const posts = bot.webApi.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0REPLAY1');
    expect(posts).toHaveLength(1);
  });

  it('a timestamp a day in the future: 401, nothing posted', async () => {
    const body = slashCommandBody({ text: 'status', userId: 'U0OPER1', channelId: 'C0REPLAY2', responseUrl: bot.webApi.responseUrl });
    expect(await post(body, signSlackRequest(body, SIGNING_SECRET, Math.floor(Date.now() / 1000) + 86_400))).toBe(401);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(bot.webApi.calls.filter((c) => c.args.channel === 'C0REPLAY2')).toEqual([]);
  });
});
