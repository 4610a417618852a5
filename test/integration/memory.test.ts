/**
 * keepalived memory end to end against the lab and Redis: samples taken on schedule from the real
 * keepalived processes and the real memory cgroup of each lab host, `/vip memory 1h` with metadata and
 * a PNG chart in the thread, the daily summary from a test cron, a cut host leaving a gap (not a zero),
 * the schedulers following a changed config, and the store itself (expiry, concurrent writers, size).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cut, heal, hostExec, vipHolders, waitFor } from '../../lab/lab.ts';
import { loadConfig, type VipbotConfig } from '../../src/config/config.ts';
import { analyseMemory } from '../../src/memory/analyse.ts';
import { MemoryStore, measureRedisBytesPerHostYear } from '../../src/memory/memory-store.ts';
import { MEMORY_DAILY_SCHEDULER, MEMORY_SAMPLE_SCHEDULER } from '../../src/memory/schedule.ts';
import { reconcileMemorySchedulers } from '../../src/memory/scheduler-runtime.ts';
import type { MemorySample } from '../../src/memory/sample.ts';
import { generateMemorySeries } from '../../src/memory/synthetic.ts';
import { VipMemoryPayload } from '../../src/memory/vip-memory-payload.ts';
import { BullJobQueue } from '../../src/queue/job-queue.ts';
import type { RecordedCall } from '../../src/slack/local-web-api.ts';
import { fileFromUploadBody } from '../../src/slack/console-receiver.ts';
import { deleteKeys, startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');

const SAMPLE_EVERY = 3_000;
const DAILY_CHANNEL = 'C0MEMDAILY';
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const DAY = 86_400_000;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let bot: BotHarness;
let redis: Redis;
let store: MemoryStore;

function testConfig(): VipbotConfig {
  const base = loadConfig(lab.configPath);
  return {
    ...base,
    memory: {
      ...base.memory,
      sampleEvery: SAMPLE_EVERY,
      retention: 35 * DAY,
      // Every 15 s in Moscow time: the daily summary's code path, at test speed.
      dailySummary: { cron: '*/15 * * * * *', timezone: 'Europe/Moscow', channel: DAILY_CHANNEL },
    },
  };
}

async function samplesOf(node: string, from = Date.now() - 3_600_000, to = Date.now()): Promise<MemorySample[]> {
  return (await store.query([node], from, to)).get(node) ?? [];
}

async function holdersAre(expected: Record<string, string[]>): Promise<boolean> {
  const holders = await vipHolders();
  return Object.entries(expected).every(([vip, nodes]) => JSON.stringify([...(holders[vip] ?? [])].sort()) === JSON.stringify([...nodes].sort()));
}

function isVipMemoryPost(call: RecordedCall, channel: string, daily: boolean): boolean {
  const meta = call.args.metadata as { event_type?: string; event_payload?: { kind?: string } } | undefined;
  return call.method === 'chat.postMessage' && call.args.channel === channel && meta?.event_type === 'vip_memory' && (meta.event_payload?.kind === 'daily') === daily;
}

/** The PNG uploaded into the thread of `post`, after checking it is one. */
async function chartInThreadOf(post: RecordedCall): Promise<Buffer> {
  const done = await bot.webApi.waitForCall((c) => c.method === 'files.completeUploadExternal' && c.args.thread_ts === post.ts && c.args.channel_id === post.args.channel, 30_000);
  const files = done.args.files as Array<{ id: string; title: string }>;
  expect(files).toHaveLength(1);
  const raw = bot.webApi.uploads.get(files[0]!.id);
  expect(raw).toBeDefined();
  return fileFromUploadBody(raw!);
}

beforeAll(async () => {
  bot = await startBotHarness({ config: testConfig(), redisUrl });
  redis = new Redis(redisUrl);
  store = new MemoryStore(redis, bot.prefix, { retentionMs: 35 * DAY });
});

afterAll(async () => {
  await store?.close();
  redis?.disconnect();
  await bot?.stop();
});

describe('memory sampling against the lab', () => {
  it('takes samples on schedule from the real keepalived processes and the real memory cgroup', async () => {
    const started = Date.now();
    await waitFor(async () => (await samplesOf('node1', started)).length >= 3 && (await samplesOf('node2', started)).length >= 3, 30_000, 'three samples of each node');
    const schedulers = await bot.runtime.queue.queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual([MEMORY_DAILY_SCHEDULER, MEMORY_SAMPLE_SCHEDULER]);
    expect(schedulers.find((s) => s.key === MEMORY_SAMPLE_SCHEDULER)?.every).toBe(SAMPLE_EVERY);

    for (const node of ['node1', 'node2']) {
      const samples = await samplesOf(node, started);
      for (const s of samples) {
        expect(s.unitMemory, node).toBeGreaterThan(0);
        expect(s.anon, node).toBeGreaterThan(0);
        expect(s.file, node).toBeGreaterThanOrEqual(0);
        expect(s.active).toBe(true);
        // keepalived 2.2.7 with VRRP only: the parent and its VRRP child.
        expect(s.processes.length, node).toBeGreaterThanOrEqual(2);
        for (const p of s.processes) {
          expect(p.rss).toBeGreaterThan(0);
          expect(p.vsz).toBeGreaterThan(p.rss);
          expect(p.pssAnon).toBeGreaterThan(0);
        }
        expect(s.processes.map((p) => p.pid)).toContain(s.mainPid);
        expect(s.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
      // On schedule: one round per slot, a few ms after it (the time the host answered).
      const times = samples.map((s) => s.t);
      for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBeGreaterThan(SAMPLE_EVERY / 2);
      const lateness = times.map((t) => t % SAMPLE_EVERY).sort((a, b) => a - b);
      expect(lateness[Math.floor(lateness.length / 2)]).toBeLessThan(1_500);
    }

    // The stored figures are the kernel's own: compare with the cgroup read directly on the host.
    const [show, stat] = await Promise.all([
      hostExec('node1', ['systemctl', 'show', '--property=ControlGroup,MemoryCurrent', 'keepalived']),
      hostExec('node1', ['sh', '-c', 'cat /sys/fs/cgroup/memory$(systemctl show --property=ControlGroup --value keepalived)/memory.stat 2>/dev/null || cat /sys/fs/cgroup$(systemctl show --property=ControlGroup --value keepalived)/memory.stat']),
    ]);
    const current = Number(/MemoryCurrent=(\d+)/.exec(show.stdout)?.[1]);
    const anon = Number(/^(?:total_rss|anon) (\d+)$/m.exec(stat.stdout)?.[1]);
    const last = (await samplesOf('node1', started)).at(-1)!;
    expect(last.unitMemory! / current).toBeGreaterThan(0.5);
    expect(last.unitMemory! / current).toBeLessThan(2);
    expect(last.anon! / anon).toBeGreaterThan(0.5);
    expect(last.anon! / anon).toBeLessThan(2);
  });

  it('/vip memory 1h: a summary with vip_memory metadata, and a PNG chart in its thread', async () => {
    const started = Date.now();
    const ack = await bot.command('memory 1h');
    expect(ack.status).toBe(200);
    expect(ack.body?.response_type).toBe('ephemeral');
    expect(ack.body?.text).toContain('over the last 1h');
    const post = await bot.webApi.waitForCall((c) => c.at >= started && isVipMemoryPost(c, 'C0VIPOPS', false), 20_000);
    const payload = VipMemoryPayload.parse((post.args.metadata as { event_payload: unknown }).event_payload);
    expect(payload.window).toBe('1h');
    expect(payload.nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
    for (const n of payload.nodes) {
      expect(n.samples).toBeGreaterThanOrEqual(3);
      expect(n.unitMemory.first).toBeGreaterThan(0);
      expect(n.rss.first).toBeGreaterThan(0);
      expect(n.vsz.first).toBeGreaterThan(0);
      expect(['no_leak', 'possible_leak', 'insufficient_data']).toContain(n.verdict);
    }
    expect(String(post.args.text)).toMatch(/^keepalived memory, last 1h: node1 \w+, node2 \w+$/);
    const png = await chartInThreadOf(post);
    expect(png.subarray(0, 8).equals(PNG)).toBe(true);
    expect(png.length).toBeGreaterThan(20_000);
    expect(png.readUInt32BE(16)).toBe(1200); // IHDR width: readable at Slack's thumbnail size
  });

  it('/vip memory with a window longer than the retention is refused in the ack, nothing queued', async () => {
    const res = await bot.command('memory 90d node1');
    expect(res.status).toBe(200);
    expect(res.body?.text).toMatch(/:warning: `90d` is longer than the 5w of samples kept/);
  });

  it('the daily summary fires from its cron and lands in the configured channel, chart in the thread', async () => {
    // Every 15 s by the test cron; a busy machine (the whole suite on 2 cores) may miss a few fires.
    // A summary that fires before the first sample is stored says "no samples yet" and has no chart:
    // wait for one with data.
    const hasSamples = (c: RecordedCall) => ((c.args.metadata as { event_payload?: { nodes?: Array<{ samples?: number }> } }).event_payload?.nodes ?? []).some((n) => (n.samples ?? 0) > 0);
    const post = await bot.webApi.waitForCall((c) => isVipMemoryPost(c, DAILY_CHANNEL, true) && hasSamples(c), 75_000);
    const payload = VipMemoryPayload.parse((post.args.metadata as { event_payload: unknown }).event_payload);
    expect(payload.window).toBe('7d');
    expect(payload.nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
    expect(JSON.stringify(post.args.blocks)).toContain('*orcl*');
    const png = await chartInThreadOf(post);
    expect(png.subarray(0, 8).equals(PNG)).toBe(true);
  }, 90_000);

  it('a host cut mid-run leaves a gap in its history, not a zero, and the other host keeps its samples', async () => {
    let cutAt = 0;
    let healAt = 0;
    try {
      await waitFor(async () => (await samplesOf('node2', Date.now() - 2 * SAMPLE_EVERY)).length > 0, 15_000, 'node2 sampled');
      cutAt = Date.now();
      await cut('node2');
      await new Promise((resolve) => setTimeout(resolve, 5 * SAMPLE_EVERY));
      healAt = Date.now();
      await heal('node2');
      await waitFor(async () => (await samplesOf('node2', healAt)).length >= 2, 45_000, 'node2 sampled again after heal');
    } finally {
      if (cutAt && !healAt) await heal('node2');
      await waitFor(() => holdersAre({ [PRIMARY_VIP]: ['node1'], [STANDBY_VIP]: ['node2'] }), 30_000, 'VIPs back on node1/node2');
    }
    const during = (node: string) => samplesOf(node, cutAt + 1_000, healAt).then((s) => s.length);
    expect(await during('node1')).toBeGreaterThanOrEqual(3);
    expect(await during('node2')).toBe(0);
    const node2 = await samplesOf('node2', cutAt - 10 * SAMPLE_EVERY, Date.now());
    for (const s of node2) {
      expect(s.unitMemory).toBeGreaterThan(0);
      expect(s.processes.length).toBeGreaterThan(0);
    }
    const report = analyseMemory(node2, { from: cutAt - 10 * SAMPLE_EVERY, to: Date.now() }, {}, { node: 'node2' });
    expect(report.gaps.some((g) => g.from <= cutAt + SAMPLE_EVERY && g.to >= healAt - SAMPLE_EVERY)).toBe(true);
    expect(report.unitMemory?.min).toBeGreaterThan(0);
  });
});

describe('memory schedulers follow the config across restarts', () => {
  it('a changed cron or channel replaces the daily scheduler and its next job; a removed one goes away; nothing is duplicated', async () => {
    const prefix = `vipbot-test-memsched-${Math.random().toString(36).slice(2, 8)}`;
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new BullJobQueue({ connection, prefix });
    const state = async () => {
      const schedulers = await queue.queue.getJobSchedulers();
      const delayed = await queue.queue.getDelayed();
      return {
        // BullMQ leaves an empty template out.
        schedulers: schedulers.map((s) => ({ id: s.key, every: s.every, pattern: s.pattern, tz: s.tz, data: s.template?.data ?? {} })).sort((a, b) => a.id.localeCompare(b.id)),
        delayed: delayed.map((j) => ({ name: j.name, data: j.data as unknown, at: j.timestamp + (j.opts.delay ?? 0) })).sort((a, b) => a.name.localeCompare(b.name)),
      };
    };
    try {
      const a = { sampleEvery: 3_600_000, dailySummary: { cron: '0 9 * * *', timezone: 'Europe/Moscow', channel: 'C0OPSA' } };
      await reconcileMemorySchedulers(queue.queue, a);
      await reconcileMemorySchedulers(queue.queue, a); // a plain restart
      let s = await state();
      expect(s.schedulers).toEqual([
        { id: MEMORY_DAILY_SCHEDULER, every: undefined, pattern: '0 9 * * *', tz: 'Europe/Moscow', data: { channel: 'C0OPSA', timezone: 'Europe/Moscow' } },
        { id: MEMORY_SAMPLE_SCHEDULER, every: 3_600_000, pattern: undefined, tz: undefined, data: {} },
      ]);
      expect(s.delayed.map((d) => d.name)).toEqual(['memory-daily', 'memory-sample']);
      // The first sample waits for the top of the hour, like the notes' `0 * * * *` crontab.
      expect(s.delayed[1]!.at % 3_600_000).toBe(0);
      // 09:00 Moscow = 06:00 UTC.
      expect(new Date(s.delayed[0]!.at).getUTCHours()).toBe(6);

      const b = { ...a, dailySummary: { cron: '30 7 * * *', timezone: 'Europe/Moscow', channel: 'C0OPSB' } };
      await reconcileMemorySchedulers(queue.queue, b);
      s = await state();
      expect(s.schedulers.map((x) => [x.id, x.pattern ?? x.every])).toEqual([[MEMORY_DAILY_SCHEDULER, '30 7 * * *'], [MEMORY_SAMPLE_SCHEDULER, 3_600_000]]);
      expect(s.delayed.filter((d) => d.name === 'memory-daily')).toEqual([{ name: 'memory-daily', data: { channel: 'C0OPSB', timezone: 'Europe/Moscow' }, at: expect.any(Number) }]);
      const next = new Date(s.delayed.find((d) => d.name === 'memory-daily')!.at);
      expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([4, 30]);

      await reconcileMemorySchedulers(queue.queue, { sampleEvery: 900_000 });
      s = await state();
      expect(s.schedulers.map((x) => [x.id, x.every])).toEqual([[MEMORY_SAMPLE_SCHEDULER, 900_000]]);
      expect(s.delayed.map((d) => d.name)).toEqual(['memory-sample']);
      expect(s.delayed[0]!.at % 900_000).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
      await deleteKeys(redisUrl, `${prefix}:*`);
    }
  });
});

describe('memory store in Redis', () => {
  it('stores per node per day with expiry, queries by range, replaces a sample at the same second, skips what is past retention', async () => {
    const prefix = `vipbot-test-memstore-${Math.random().toString(36).slice(2, 8)}`;
    const s = new MemoryStore(redis, prefix, { retentionMs: 35 * DAY });
    try {
      const now = Date.now();
      const samples = generateMemorySeries({ node: 'node7', start: now - 3 * DAY, count: 72 });
      expect(await s.append(samples)).toMatchObject({ stored: 72, expired: 0 });
      const old = generateMemorySeries({ node: 'node7', start: now - 60 * DAY, count: 3 });
      expect(await s.append(old)).toMatchObject({ stored: 0, expired: 3 });
      // Times are stored to the second: the first sample may round to just before `now - 3 d`.
      const back = (await s.query(['node7', 'node8'], now - 3 * DAY - 1000, now)).get('node7')!;
      expect(back).toHaveLength(72);
      expect(back[10]).toEqual({ ...samples[10], t: Math.round(samples[10]!.t / 1000) * 1000 });
      expect((await s.query(['node8'], now - DAY, now)).get('node8')).toEqual([]);
      const mid = (await s.query(['node7'], now - 2 * DAY, now - DAY)).get('node7')!;
      expect(mid.length).toBeGreaterThanOrEqual(24);
      expect(mid.every((x) => x.t >= now - 2 * DAY && x.t <= now - DAY)).toBe(true);

      const again = { ...samples[5]!, unitMemory: 4096 };
      await s.append([again]);
      const replaced = (await s.query(['node7'], samples[5]!.t - 1000, samples[5]!.t + 1000)).get('node7')!;
      expect(replaced.map((x) => x.unitMemory)).toEqual([4096]);

      const day = Math.floor(samples[0]!.t / DAY);
      const pttl = await redis.pttl(s.keyFor('node7', day));
      expect(Math.abs(pttl - ((day + 1) * DAY + 35 * DAY - Date.now()))).toBeLessThan(5_000);
    } finally {
      await s.close();
      await deleteKeys(redisUrl, `${prefix}:*`);
    }
  });

  it('two workers writing the same node and day at once lose nothing (WATCH)', async () => {
    const prefix = `vipbot-test-memstore-${Math.random().toString(36).slice(2, 8)}`;
    const stores = [new MemoryStore(redis, prefix, { retentionMs: 35 * DAY }), new MemoryStore(redis, prefix, { retentionMs: 35 * DAY })];
    try {
      const start = Math.floor(Date.now() / DAY) * DAY;
      const samples = generateMemorySeries({ node: 'node7', start, count: 80, everyMs: 60_000 });
      await Promise.all(samples.map((sample, i) => stores[i % 2]!.append([sample])));
      expect((await stores[0]!.query(['node7'], start, start + DAY)).get('node7')).toHaveLength(80);
    } finally {
      for (const s of stores) await s.close();
      await deleteKeys(redisUrl, `${prefix}:*`);
    }
  });

  it('a year of hourly samples of one host costs a few tens of KiB in Redis (tens of MB for 200 hosts)', async () => {
    const prefix = `vipbot-test-memsize-${Math.random().toString(36).slice(2, 8)}`;
    try {
      const size = await measureRedisBytesPerHostYear(redis, prefix);
      console.log(`[memory] Redis per host-year: ${size.samples} samples in ${size.keys} keys, payload ${size.payloadBytes} B, MEMORY USAGE ${size.redisBytes} B (${size.bytesPerSample.toFixed(1)} B/sample); 200 hosts: ${size.mibFor200Hosts.toFixed(1)} MiB`);
      expect(size.samples).toBe(8760);
      expect(size.keys).toBeGreaterThanOrEqual(365);
      expect(size.redisBytes).toBeGreaterThan(size.payloadBytes);
      expect(size.mibFor200Hosts).toBeLessThan(50);
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      await deleteKeys(redisUrl, `${prefix}:*`);
    }
  });
});
