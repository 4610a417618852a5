/**
 * Redis Sentinel (SPEC §9): a real setup of one master, one replica and three sentinels on loopback
 * ports of the test's own; a bot and two workers find the master through the sentinels; a failover in
 * the middle of a burst loses no accepted command and doubles none, and nobody restarts anything.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../lab/lab.ts';
import { LocalWebApi } from '../../src/slack/local-web-api.ts';
import { SENTINEL_NAME, SentinelSet } from '../support/sentinel-set.ts';
import { postSigned, slashCommandBody } from '../support/slack-signing.ts';
import { startVipbotProcess, waitHealthy, type VipbotProcess } from '../support/vipbot-process.ts';

const lab = inject('lab');
const SECRET = 'sentinel-signing-secret-0123';

let set: SentinelSet;
let webApi: LocalWebApi;
let procs: VipbotProcess[] = [];
let prefix = '';

beforeAll(async () => {
  set = await SentinelSet.start();
  webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT' }).start();
  prefix = `vipbot-sentinel-${randomBytes(3).toString('hex')}`;
  const env = {
    VIPBOT_CONFIG: lab.configPath,
    REDIS_SENTINELS: set.sentinels,
    REDIS_SENTINEL_NAME: SENTINEL_NAME,
    SLACK_BOT_TOKEN: 'xoxb-sentinel',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: webApi.url,
    VIPBOT_QUEUE_PREFIX: prefix,
  };
  procs = await Promise.all([startVipbotProcess('bot', env), startVipbotProcess('worker', env), startVipbotProcess('worker', env)]);
  await Promise.all(procs.map((p) => waitHealthy(p)));
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await webApi?.stop();
  await set?.stop();
});

describe('Redis Sentinel failover during a burst', () => {
  it('every accepted status command is answered exactly once; refused ones never run; no process restarts', async () => {
    const bot = procs[0]!;
    const channels = Array.from({ length: 90 }, (_, i) => `C0SEN${String(i).padStart(3, '0')}`);
    const accepted: string[] = [];
    const refused: string[] = [];
    let failover: Promise<{ from: number; to: number }> | undefined;
    const queue = [...channels];
    let sent = 0;
    await Promise.all(Array.from({ length: 6 }, async () => {
      for (let ch = queue.shift(); ch; ch = queue.shift()) {
        const body = slashCommandBody({ text: 'status', userId: 'U0OPER1', channelId: ch, responseUrl: webApi.responseUrl });
        const res = await postSigned(`http://127.0.0.1:${bot.port}/slack/events`, body, { secret: SECRET });
        expect(res.status).toBe(200);
        expect(res.ms).toBeLessThan(3_000);
        (/queue unavailable/.test(res.text) ? refused : accepted).push(ch);
        if (++sent === 30) failover = set.failover();
        // Spread the burst over the failover (a few seconds).
        await new Promise((r) => setTimeout(r, 60));
      }
    }));
    const { from, to } = await failover!;
    expect(to).not.toBe(from);
    // The commands before the failover are accepted; those during it may be refused (and say so).
    expect(accepted.length).toBeGreaterThanOrEqual(25);
    const posts = (ch: string) => webApi.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === ch).length;
    await waitFor(async () => accepted.every((ch) => posts(ch) >= 1), 60_000, 'a post for every accepted command').catch(async (err: unknown) => {
      const missing = accepted.filter((ch) => posts(ch) === 0);
      const master = new Redis({ port: await set.masterPort(), host: '127.0.0.1', maxRetriesPerRequest: null });
      const q = new Queue('reads', { connection: master, prefix });
      const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'wait'], 0, 500);
      const states = await Promise.all(jobs.filter((j) => missing.includes((j.data as { reply?: { channel?: string } }).reply?.channel ?? '')).map(async (j) => `${j.id}:${await j.getState()}:${j.failedReason ?? ''}:${j.processedBy ?? ''}`));
      await q.close();
      throw new Error(`${String(err)}: ${missing.length} of ${accepted.length} accepted unanswered (${missing.slice(0, 5).join(',')}); refused ${refused.length}; their jobs: ${states.join(' | ') || 'none on the master'}\n${procs.map((p) => p.log().split('\n').filter((l) => /warn|error/.test(l)).slice(-8).join('\n')).join('\n---\n')}`);
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(accepted.filter((ch) => posts(ch) !== 1)).toEqual([]);
    expect(refused.filter((ch) => posts(ch) !== 0)).toEqual([]);
    // No restart: the same processes, still healthy, still answering after the failover.
    for (const p of procs) expect(p.child.exitCode).toBeNull();
    await Promise.all(procs.map((p) => waitHealthy(p, 15_000)));
    const after = 'C0SENAFTER';
    const body = slashCommandBody({ text: 'status', userId: 'U0OPER1', channelId: after, responseUrl: webApi.responseUrl });
    const res = await postSigned(`http://127.0.0.1:${bot.port}/slack/events`, body, { secret: SECRET });
    expect(res.text).not.toMatch(/queue unavailable/);
    await waitFor(async () => posts(after) === 1, 30_000, 'a post after the failover');
  }, 150_000);
});
