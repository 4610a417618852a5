/**
 * Scale-out (SPEC §9): two `vipbot bot` and three `vipbot worker` processes on one Redis share a burst,
 * every command is answered exactly once, promotes on one cluster never overlap, and SIGTERM to the
 * worker running a promote lets it finish (or roll back) while the others carry the rest.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostExec, setRole, vipHolders, waitFor } from '../../lab/lab.ts';
import { LocalWebApi, type RecordedCall } from '../../src/slack/local-web-api.ts';
import { postSigned, slashCommandBody, signSlackRequest } from '../support/slack-signing.ts';
import { startVipbotProcess, waitHealthy, type VipbotProcess } from '../support/vipbot-process.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
const SECRET = 'scale-out-signing-secret-0123';
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const CONF = '/etc/keepalived/keepalived.conf';
const originals = new Map<string, string>();

/** The databases swapped (node2 PRIMARY, node1 STANDBY): each VIP sits on the node with the lower priority, so
 * `promote node2 primary` and `promote node1 standby` are both real changes that move no VIP. */
async function holdersSwapped(): Promise<boolean> {
  const h = await vipHolders();
  return h[PRIMARY_VIP]?.join() === 'node2' && h[STANDBY_VIP]?.join() === 'node1';
}

/** Puts the hosts' configs back as the suite found them (a promote raised a priority). */
async function restoreConfigs(): Promise<void> {
  for (const node of ['node1', 'node2']) {
    if ((await hostExec(node, ['cat', CONF])).stdout !== originals.get(node)) {
      await hostExec(node, ['dd', `of=${CONF}`, 'status=none'], { input: originals.get(node)! });
      await hostExec(node, ['systemctl', 'reload', 'keepalived']);
    }
  }
  await waitFor(holdersSwapped, 25_000, 'primary VIP on node2, standby VIP on node1');
}

let webApi: LocalWebApi;
let prefix: string;
let bots: VipbotProcess[] = [];
let workers: VipbotProcess[] = [];

function env(): Record<string, string> {
  return {
    VIPBOT_CONFIG: lab.configPath,
    REDIS_URL: redisUrl,
    SLACK_BOT_TOKEN: 'xoxb-scale-out',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: webApi.url,
    VIPBOT_QUEUE_PREFIX: prefix,
  };
}

async function command(bot: VipbotProcess, text: string, channelId: string, userId = 'U0OPER1'): Promise<{ status: number; text: string }> {
  const body = slashCommandBody({ text, userId, channelId, responseUrl: webApi.responseUrl });
  return postSigned(`http://127.0.0.1:${bot.port}/slack/events`, body, { secret: SECRET });
}

async function react(bot: VipbotProcess, ts: string, reaction: string, user: string): Promise<number> {
  const body = JSON.stringify({
    token: 'deprecated', team_id: 'T0LOCAL', api_app_id: 'A0VIPBOT', type: 'event_callback', event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`, event_time: Math.floor(Date.now() / 1000),
    event: { type: 'reaction_added', user, reaction, item: { type: 'message', channel: 'C0VIPOPS', ts }, item_user: 'U0VIPBOT', event_ts: `${Date.now() / 1000}` },
  });
  const res = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...signSlackRequest(body, SECRET) }, body });
  await res.text();
  return res.status;
}

const statusPosts = (): RecordedCall[] => webApi.calls.filter((c) => c.method === 'chat.postMessage' && (c.args.metadata as { event_type?: string } | undefined)?.event_type === 'vip_status');
const requestPayload = (c: RecordedCall) => {
  const meta = c.args.metadata as { event_type?: string; event_payload?: { request_id: string; state: string } } | undefined;
  return meta?.event_type === 'vip_request' ? meta.event_payload : undefined;
};

async function burst(count: number, tag: string, during?: (sent: number) => Promise<void>): Promise<string[]> {
  const channels = Array.from({ length: count }, (_, i) => `C0${tag}${String(i).padStart(3, '0')}`);
  let sent = 0;
  const queue = [...channels];
  await Promise.all(Array.from({ length: 20 }, async () => {
    for (let ch = queue.shift(); ch; ch = queue.shift()) {
      const res = await command(bots[sent % bots.length]!, 'status', ch);
      expect(res.status).toBe(200);
      sent++;
      if (during && sent === Math.floor(count / 3)) await during(sent);
    }
  }));
  return channels;
}

async function postsPerChannel(channels: string[], timeoutMs: number): Promise<Map<string, number>> {
  const wanted = new Set(channels);
  await waitFor(async () => new Set(statusPosts().map((c) => String(c.args.channel)).filter((c) => wanted.has(c))).size === channels.length, timeoutMs, `a status post in each of ${channels.length} channels`);
  await new Promise((r) => setTimeout(r, 2_000)); // a duplicate would arrive by now
  const counts = new Map(channels.map((c) => [c, 0]));
  for (const c of statusPosts()) if (wanted.has(String(c.args.channel))) counts.set(String(c.args.channel), counts.get(String(c.args.channel))! + 1);
  return counts;
}

beforeAll(async () => {
  webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT' }).start();
  prefix = `vipbot-scale-${randomBytes(4).toString('hex')}`;
  for (const node of ['node1', 'node2']) originals.set(node, (await hostExec(node, ['cat', CONF])).stdout);
  await setRole('node1', 'STANDBY');
  await setRole('node2', 'PRIMARY');
  await waitFor(holdersSwapped, 25_000, 'primary VIP on node2, standby VIP on node1');
  bots = await Promise.all([startVipbotProcess('bot', env()), startVipbotProcess('bot', env())]);
  workers = await Promise.all([0, 1, 2].map(() => startVipbotProcess('worker', env())));
  await Promise.all([...bots, ...workers].map((p) => waitHealthy(p)));
}, 120_000);

afterAll(async () => {
  await Promise.all([...bots, ...workers].map((p) => p.stop()));
  if (originals.size) await restoreConfigs();
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  await waitFor(async () => {
    const h = await vipHolders();
    return h[PRIMARY_VIP]?.join() === 'node1' && h[STANDBY_VIP]?.join() === 'node2';
  }, 25_000, 'VIPs back on node1/node2');
  await webApi?.stop();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('two bots and three workers on one Redis', () => {
  it('answer every one of 100 status commands exactly once, the work shared among the workers', async () => {
    const channels = await burst(100, 'A');
    const counts = await postsPerChannel(channels, 90_000);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const queue = new Queue('reads', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
    const done = await queue.getCompleted(0, 200);
    const byWorker = new Set(done.filter((j) => j.name === 'status').map((j) => j.processedBy));
    await queue.close();
    expect(byWorker.size).toBeGreaterThanOrEqual(2);
  });

  it('runs two approved promotes on one cluster one after the other, never overlapping', async () => {
    const ids: string[] = [];
    // Each promote raises the priority of the node that holds the VIP: a real change, no VIP moves.
    for (const [i, text] of ['promote node2 primary', 'promote node1 standby'].entries()) {
      const started = Date.now();
      const res = await command(bots[i]!, text, 'C0VIPOPS');
      expect(res.status).toBe(200);
      const call = await webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= started && requestPayload(c)?.state === 'pending', 30_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; ephemerals: ${webApi.calls.filter((c) => c.method === 'chat.postEphemeral').map((c) => String(c.args.text)).join(' | ')}; ack: ${res.text}`);
      });
      await webApi.waitForCall((c) => c.method === 'reactions.add' && c.args.timestamp === call.ts && c.args.name === 'x', 10_000);
      ids.push(requestPayload(call)!.request_id);
      expect(await react(bots[(i + 1) % 2]!, call.ts!, 'white_check_mark', 'U0LEAD1')).toBe(200);
    }
    const finals: string[] = [];
    for (const id of ids) {
      const end = await webApi.waitForCall((c) => c.method === 'chat.update' && requestPayload(c)?.request_id === id && ['succeeded', 'failed', 'rolled_back'].includes(requestPayload(c)!.state), 90_000);
      finals.push(requestPayload(end)!.state);
    }
    // Both change different nodes' files: the second one re-reads the hosts after the first and still applies.
    expect(finals).toEqual(['succeeded', 'succeeded']);
    const queue = new Queue('changes-orcl', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
    const jobs = (await Promise.all(ids.map((id) => queue.getJob(id)))).map((j) => ({ from: j!.processedOn!, to: j!.finishedOn! }));
    await queue.close();
    jobs.sort((a, b) => a.from - b.from);
    expect(jobs[1]!.from).toBeGreaterThanOrEqual(jobs[0]!.to);
  });

  it('SIGTERM to the worker running a promote: the promote ends cleanly and the other workers carry the burst', async () => {
    await restoreConfigs();
    const started = Date.now();
    const res = await command(bots[0]!, 'promote node2 primary', 'C0VIPOPS');
    expect(res.status).toBe(200);
    const call = await webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= started && requestPayload(c)?.state === 'pending', 30_000);
    await webApi.waitForCall((c) => c.method === 'reactions.add' && c.args.timestamp === call.ts && c.args.name === 'x', 10_000);
    const id = requestPayload(call)!.request_id;
    const queue = new Queue('changes-orcl', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
    expect(await react(bots[1]!, call.ts!, 'white_check_mark', 'U0LEAD1')).toBe(200);
    await webApi.waitForCall((c) => c.method === 'chat.update' && requestPayload(c)?.request_id === id && requestPayload(c)?.state === 'running', 30_000);
    const job = await queue.getJob(id);
    const runner = workers.find((w) => job?.processedBy?.endsWith(`:${w.child.pid}`));
    expect(runner, `processedBy ${job?.processedBy}`).toBeDefined();
    const channels = await burst(60, 'B', async () => {
      runner!.child.kill('SIGTERM');
    });
    const ended = await webApi.waitForCall((c) => c.method === 'chat.update' && requestPayload(c)?.request_id === id && ['succeeded', 'failed', 'rolled_back'].includes(requestPayload(c)!.state), 90_000);
    expect(['succeeded', 'rolled_back']).toContain(requestPayload(ended)!.state);
    const exit = await runner!.exited;
    expect(exit.code).toBe(0);
    const counts = await postsPerChannel(channels, 90_000);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    await queue.close();
    workers = workers.filter((w) => w !== runner);
    // Each VIP still sits on exactly one node.
    const holders = await vipHolders();
    expect(holders[STANDBY_VIP]).toHaveLength(1);
    expect(holders[PRIMARY_VIP]).toHaveLength(1);
  });
});
