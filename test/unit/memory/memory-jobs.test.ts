/**
 * The memory jobs with recording fakes (store, sampler, notifier): what is posted where, with which
 * metadata, and the chart in the message's thread. The real thing runs in test/integration/memory.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { memoryDailyJob } from '../../../jobs/memory-daily.ts';
import { memoryReportJob } from '../../../jobs/memory-report.ts';
import { memorySampleJob } from '../../../jobs/memory-sample.ts';
import { parseConfigText } from '../../../src/config/config.ts';
import type { JobContext, JobDeps } from '../../../src/jobs/job.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { MemorySampler, MemorySampleRound } from '../../../src/memory/collect-memory-sample.ts';
import type { MemoryAppendResult, MemorySampleStore } from '../../../src/memory/memory-store.ts';
import type { MemorySample } from '../../../src/memory/sample.ts';
import { generateMemorySeries } from '../../../src/memory/synthetic.ts';
import { VipMemoryPayload } from '../../../src/memory/vip-memory-payload.ts';
import type { FileUpload, Notifier, OutgoingMessage } from '../../../src/slack/notifier.ts';

// Charts are rendered for real (resvg, a worker thread): allow for a busy machine.
const H = 3_600_000;
const NOW = Date.UTC(2025, 0, 8, 6, 0, 30);
const CONFIG = parseConfigText(`
memory: { dailySummary: { channel: C0DAILY, timezone: Europe/Moscow } }
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]
    nodes: [{ name: node1, host: 198.51.100.1 }, { name: node2, host: 198.51.100.2 }]
`);
const REPLY = { channel: 'C0VIPOPS', userId: 'U0OPER1', responseUrl: 'https://hooks.slack.invalid/r' };

class FakeStore implements MemorySampleStore {
  readonly appended: MemorySample[] = [];
  constructor(readonly samples: MemorySample[] = []) {}
  async append(samples: readonly MemorySample[]): Promise<MemoryAppendResult> {
    this.appended.push(...samples);
    return { stored: samples.length, expired: 0, days: 1 };
  }
  async query(nodes: readonly string[], from: number, to: number) {
    return new Map(nodes.map((n) => [n, this.samples.filter((s) => s.node === n && s.t >= from && s.t <= to)]));
  }
}

class FakeNotifier implements Notifier {
  readonly posts: OutgoingMessage[] = [];
  readonly uploads: FileUpload[] = [];
  readonly responses: unknown[] = [];
  constructor(private readonly failPost?: string) {}
  async post(m: OutgoingMessage) {
    if (this.failPost) throw Object.assign(new Error(this.failPost), { data: { error: this.failPost } });
    this.posts.push(m);
    return { channel: m.channel, ts: `1736316030.00000${this.posts.length}` };
  }
  async postEphemeral() {}
  async update() {}
  async addReaction() {}
  async uploadFile(f: FileUpload) {
    this.uploads.push(f);
  }
  async respond(_url: string, m: unknown) {
    this.responses.push(m);
  }
}

function deps(store: MemorySampleStore, notifier: Notifier, sampler?: MemorySampler): JobDeps {
  return { config: CONFIG, notifier, logger: silentLogger(), now: () => NOW, memory: { store, sampler: sampler ?? { sample: async () => ({ samples: [], failures: [], partial: [] }) } } } as unknown as JobDeps;
}
const ctx = (): JobContext => ({ jobId: '1', attempt: 1, signal: new AbortController().signal, log: silentLogger() });

function week(): MemorySample[] {
  return [
    ...generateMemorySeries({ node: 'node1', start: NOW - 7 * 24 * H, count: 7 * 24, seed: 1 }),
    ...generateMemorySeries({ node: 'node2', start: NOW - 7 * 24 * H, count: 7 * 24, seed: 2, leakPerDay: 3 * 1024 * 1024 }),
  ];
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('memory-report', { timeout: 60_000 }, () => {
  it('posts the summary with vip_memory metadata, then the PNG chart in its thread', async () => {
    const notifier = new FakeNotifier();
    const result = await memoryReportJob.process({ window: { label: '7d', ms: 7 * 24 * H }, target: { kind: 'all' }, reply: REPLY }, deps(new FakeStore(week()), notifier), ctx());
    expect(result).toMatchObject({ verdicts: { node1: 'no_leak', node2: 'possible_leak' }, chart: true });
    const post = notifier.posts[0]!;
    expect(post.channel).toBe('C0VIPOPS');
    expect(post.metadata?.event_type).toBe('vip_memory');
    const payload = VipMemoryPayload.parse(post.metadata?.event_payload);
    expect(payload.window).toBe('7d');
    expect(payload.nodes.map((n) => [n.name, n.verdict])).toEqual([['node1', 'no_leak'], ['node2', 'possible_leak']]);
    expect(payload.nodes[0]!.unitMemory.first).toBeGreaterThan(0);
    expect(post.text).toBe('keepalived memory, last 7d: node1 no_leak, node2 possible_leak');
    const upload = notifier.uploads[0]!;
    expect(upload).toMatchObject({ channel: 'C0VIPOPS', threadTs: '1736316030.000001', filename: 'keepalived-memory-7d.png' });
    expect(upload.data.subarray(0, 8).equals(PNG)).toBe(true);
  });

  it('without samples: says so, says when sampling runs, and uploads nothing', async () => {
    const notifier = new FakeNotifier();
    await memoryReportJob.process({ window: { label: '24h', ms: 24 * H }, target: { kind: 'node', name: 'node2', cluster: 'orcl' }, reply: REPLY }, deps(new FakeStore(), notifier), ctx());
    expect(notifier.uploads).toEqual([]);
    expect(notifier.posts[0]!.text).toBe('No memory samples of node2 in the last 24h yet; next sampling at 8 Jan 10:00 (Europe/Moscow).');
    const payload = VipMemoryPayload.parse(notifier.posts[0]!.metadata?.event_payload);
    expect(payload.nodes).toEqual([expect.objectContaining({ name: 'node2', samples: 0, verdict: 'insufficient_data' })]);
  });

  it('bot not in the channel: the summary goes through response_url, no chart (no thread to put it in)', async () => {
    const notifier = new FakeNotifier('not_in_channel');
    await memoryReportJob.process({ window: { label: '7d', ms: 7 * 24 * H }, target: { kind: 'all' }, reply: REPLY }, deps(new FakeStore(week()), notifier), ctx());
    expect(notifier.responses).toHaveLength(1);
    expect(notifier.uploads).toEqual([]);
  });
});

describe('memory-daily', { timeout: 60_000 }, () => {
  it('posts one message for all clusters in the configured channel, and the 7-day chart in its thread', async () => {
    const notifier = new FakeNotifier();
    await memoryDailyJob.process({ channel: 'C0DAILY', timezone: 'Europe/Moscow' }, deps(new FakeStore(week()), notifier), ctx());
    expect(notifier.posts).toHaveLength(1);
    const post = notifier.posts[0]!;
    expect(post.channel).toBe('C0DAILY');
    expect(post.metadata).toMatchObject({ event_type: 'vip_memory', event_payload: { window: '7d', kind: 'daily' } });
    const text = JSON.stringify(post.blocks);
    expect(text).toContain('*orcl*');
    expect(text).toContain('last 24 h: unit');
    expect(text).toContain('7 days: unit');
    expect(notifier.uploads[0]).toMatchObject({ channel: 'C0DAILY', threadTs: '1736316030.000001' });
  });

  it('a channel the bot is not in is a coded error that says what to do', async () => {
    await expect(memoryDailyJob.process({ channel: 'C0DAILY', timezone: 'UTC' }, deps(new FakeStore(week()), new FakeNotifier('not_in_channel')), ctx()))
      .rejects.toMatchObject({ code: 'daily_summary_channel', advice: expect.stringContaining('/invite @vipbot') });
  });
});

describe('memory-sample', () => {
  it('stores what the round sampled and reports the missed nodes', async () => {
    const store = new FakeStore();
    const sample: MemorySample = { t: NOW, node: 'node1', unitMemory: 4096, processes: [] };
    const round: MemorySampleRound = { samples: [sample], failures: [{ node: 'node2', error: 'could not connect' }], partial: [] };
    const result = await memorySampleJob.process({}, deps(store, new FakeNotifier(), { sample: async () => round }), ctx());
    expect(store.appended).toEqual([sample]);
    expect(result).toEqual({ sampled: ['node1'], missed: ['node2'], stored: 1 });
  });

  it('refuses data it does not know (the scheduler sends {})', () => {
    expect(memorySampleJob.data.safeParse({}).success).toBe(true);
    expect(memorySampleJob.data.safeParse({ nodes: ['node1'] }).success).toBe(true);
    expect(memorySampleJob.data.safeParse({ cmd: 'x' }).success).toBe(false);
  });
});
